"""The gpu_nodes role on the sandbox, on its own (every role stands alone): a cluster with a CPU node group
exists already (made with the eksctl simulator directly); the role adds the GPU node groups, the device plugin,
checks the GPUs, changes nothing on a second run, and with gpu_nodes_state=absent removes only what it owns."""

from __future__ import annotations

import json

from tests.sandbox.harness.playbook import run_playbook
from tests.sandbox.harness.scenario import aws_client, existing_cluster, live_stacks

REGION = "us-west-2"
CLUSTER = "kf-sandbox"  # inventories/sandbox
CA = "k8s.io/cluster-autoscaler/node-template/"
CPU_GROUP = {"name": "cpu", "instanceType": "m5.large", "minSize": 1, "maxSize": 1}
GPU_GROUPS = [
    {"name": "gpu-t4", "instance_type": "g4dn.xlarge", "min_size": 0, "max_size": 2, "desired_capacity": 1},
    {
        "name": "gpu-a10",
        "instance_type": "g5.12xlarge",
        "min_size": 0,
        "max_size": 2,
        "desired_capacity": 0,
        "labels": {"team": "vision"},
    },
]


def test_gpu_nodes_converge_check_gpus_and_remove_only_their_own(sandbox_env, sandbox_kube, tmp_path):
    env = dict(sandbox_env, EKSCTL_SIM_TIME_SCALE=str(1 / 600))
    existing_cluster(env, tmp_path, CLUSTER, REGION, "1.33", node_groups=[CPU_GROUP])
    groups = ["-e", json.dumps({"kubeflow_ops_gpu_node_groups": GPU_GROUPS})]

    first = run_playbook("playbooks/gpu_nodes.yml", env, args=groups)
    assert first.rc == 0, first.output[-6000:]
    assert first.changed > 0
    eks = aws_client(env, "eks")
    t4 = eks.describe_nodegroup(clusterName=CLUSTER, nodegroupName="gpu-t4")["nodegroup"]
    a10 = eks.describe_nodegroup(clusterName=CLUSTER, nodegroupName="gpu-a10")["nodegroup"]
    assert t4["amiType"] == "AL2023_x86_64_NVIDIA"
    assert {"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"} in t4["taints"]
    assert t4["labels"]["kubeflow-ops.io/accelerator"] == "nvidia-gpu"
    assert a10["labels"]["team"] == "vision" and a10["labels"]["kubeflow-ops.io/accelerator"] == "nvidia-gpu"
    # Scale-from-zero template for the cluster autoscaler.
    assert t4["tags"][CA + "resources/nvidia.com/gpu"] == "1"
    assert a10["tags"][CA + "resources/nvidia.com/gpu"] == "4"
    assert a10["tags"][CA + "taint/nvidia.com/gpu"] == "true:NoSchedule"
    assert a10["tags"][CA + "label/team"] == "vision"
    assert a10["scalingConfig"]["desiredSize"] == 0
    assert "GPU node group gpu-a10 has desired capacity 0: no node to check" in first.output

    # One device plugin, ours (eksctl was told not to install its own), tolerating the GPU taint.
    daemonsets = sandbox_kube.objects(kind="DaemonSet")
    assert [d["metadata"]["name"] for d in daemonsets] == ["nvidia-device-plugin-daemonset"]
    pod_spec = daemonsets[0]["spec"]["template"]["spec"]
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod_spec["tolerations"]
    assert daemonsets[0]["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "kubeflow_ops"
    gpu_nodes = [
        n
        for n in sandbox_kube.objects(kind="Node")
        if n["metadata"]["labels"].get("eks.amazonaws.com/nodegroup") == "gpu-t4"
    ]
    assert len(gpu_nodes) == 1
    assert gpu_nodes[0]["status"]["allocatable"]["nvidia.com/gpu"] == "1"

    second = run_playbook("playbooks/gpu_nodes.yml", env, args=groups)
    assert second.rc == 0, second.output[-6000:]
    assert second.changed == 0, second.output[-6000:]

    down = run_playbook("playbooks/gpu_nodes.yml", env, args=groups + ["-e", "gpu_nodes_state=absent"])
    assert down.rc == 0, down.output[-6000:]
    assert live_stacks(env) == [f"eksctl-{CLUSTER}-cluster", f"eksctl-{CLUSTER}-nodegroup-cpu"]
    assert eks.list_nodegroups(clusterName=CLUSTER)["nodegroups"] == ["cpu"]
    assert sandbox_kube.objects(kind="DaemonSet") == []
    assert {n["metadata"]["labels"].get("eks.amazonaws.com/nodegroup") for n in sandbox_kube.objects(kind="Node")} == {
        "cpu"
    }
