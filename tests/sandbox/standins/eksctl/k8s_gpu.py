"""A status hook for the Kubernetes stand-in: GPU nodes advertise `nvidia.com/gpu` while a device plugin runs.

The simulator sets the GPU capacity itself whenever it writes nodes (create/scale node groups, the
eksctl device plugin task). A device plugin DaemonSet applied later by someone else (the gpu_nodes
role with --install-nvidia-plugin=false) shows on the nodes at the simulator's next node change —
or at once when the Kubernetes stand-in loads this module as a controller:

    KubeSandbox(controllers=["tests.sandbox.standins.eksctl.k8s_gpu"])

Rule (the same as the simulator's, `kube.gpu_status`): a node of an NVIDIA instance type gets
`status.capacity/allocatable["nvidia.com/gpu"] = <GPUs of the type>` when a DaemonSet in kube-system
running the `nvcr.io/nvidia/k8s-device-plugin` image can be scheduled on it (node selector, required
node affinity, taints against tolerations), or when the node runs Bottlerocket (plugin built in).
"""

from __future__ import annotations

from tests.sandbox.standins.eksctl.kube import gpu_status, is_device_plugin

try:  # the stand-in's controller registry (tests/sandbox/standins/k8s/controllers.py)
    from tests.sandbox.standins.k8s.controllers import controller
except ImportError:  # pragma: no cover - the stand-in is optional for the simulator
    controller = None


def nvidia_device_plugin(obj, view):
    """reconcile(node, view) -> the node's new status, or None to leave it alone."""
    daemonsets = [ds for ds in view.list("apps", "DaemonSet", namespace="kube-system") if is_device_plugin(ds)]
    return gpu_status(obj, daemonsets)


if controller is not None:
    controller("", "Node", watches=[("apps", "DaemonSet")], name="nvidia-device-plugin")(nvidia_device_plugin)
