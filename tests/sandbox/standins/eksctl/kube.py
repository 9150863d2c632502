"""The Kubernetes side: kubeconfig files, and Node / DaemonSet / ServiceAccount objects in the stand-in.

The Kubernetes stand-in is named by EKSCTL_SIM_KUBE_URL (token from EKSCTL_SIM_KUBE_TOKEN, default
`eksctl-sim`). Without it every Kubernetes step is skipped silently and kubeconfigs point at the
(fake) EKS endpoint with the `aws eks get-token` exec plugin, like the real eksctl writes them.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import random
import time
from pathlib import Path

from ..kube_http import KubeHttp, KubeHttpError
from . import catalog
from .common import EksctlError

KUBE_URL_ENV = "EKSCTL_SIM_KUBE_URL"
KUBE_TOKEN_ENV = "EKSCTL_SIM_KUBE_TOKEN"
KUBE_CA_ENV = "EKSCTL_SIM_KUBE_CA_DATA"

NODEGROUP_LABEL = "alpha.eksctl.io/nodegroup-name"
CLUSTER_LABEL = "alpha.eksctl.io/cluster-name"
EKS_NODEGROUP_LABEL = "eks.amazonaws.com/nodegroup"
GPU_RESOURCE = "nvidia.com/gpu"
K8S_EFFECTS = {"NO_SCHEDULE": "NoSchedule", "PREFER_NO_SCHEDULE": "PreferNoSchedule", "NO_EXECUTE": "NoExecute"}


def kube_url() -> str | None:
    url = os.environ.get(KUBE_URL_ENV, "").strip()
    return url.rstrip("/") or None


class KubeError(KubeHttpError, EksctlError):
    """A Kubernetes API failure, reported the way eksctl reports its errors."""


class Kube(KubeHttp):
    """The simulator's calls to the Kubernetes API (plain HTTP JSON, see tests/sandbox/standins/kube_http.py)."""

    error_class = KubeError

    def __init__(self, url: str):
        super().__init__(url, os.environ.get(KUBE_TOKEN_ENV, "eksctl-sim"))

    # -- nodes ----------------------------------------------------------------------------------
    def nodes(self, cluster, nodegroup=None):
        result = []
        for node in self.items("/api/v1/nodes"):
            labels = node.get("metadata", {}).get("labels") or {}
            if labels.get(CLUSTER_LABEL) != cluster:
                continue
            if nodegroup is not None and labels.get(NODEGROUP_LABEL) != nodegroup:
                continue
            result.append(node)
        return sorted(result, key=lambda n: n["metadata"]["name"])

    def device_plugin_daemonsets(self):
        """DaemonSets in kube-system that run the NVIDIA device plugin image (whatever their name)."""
        return [ds for ds in self.items("/apis/apps/v1/namespaces/kube-system/daemonsets") if is_device_plugin(ds)]


def client() -> Kube | None:
    url = kube_url()
    return Kube(url) if url else None


# ---------------------------------------------------------------------------------------------
# Nodes


def is_device_plugin(daemonset) -> bool:
    containers = (((daemonset.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
    return any(str(c.get("image", "")).startswith(catalog.DEVICE_PLUGIN_IMAGE_REPO) for c in containers)


def _tolerated(tolerations, taint) -> bool:
    for tol in tolerations:
        if tol.get("effect") and tol["effect"] != taint.get("effect"):
            continue
        if tol.get("operator", "Equal") == "Exists":
            if not tol.get("key") or tol["key"] == taint.get("key"):
                return True
        elif tol.get("key") == taint.get("key") and (tol.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def daemon_runs_on(daemonset, node) -> bool:
    """Would the DaemonSet controller place a pod on this node (node selector, required affinity, taints)?"""
    spec = (((daemonset.get("spec") or {}).get("template") or {}).get("spec")) or {}
    labels = (node.get("metadata") or {}).get("labels") or {}
    if any(labels.get(k) != v for k, v in (spec.get("nodeSelector") or {}).items()):
        return False
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    terms = required.get("nodeSelectorTerms") or []

    def term_matches(term):
        for expr in term.get("matchExpressions") or []:
            key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
            if (op == "In" and labels.get(key) not in values) or (op == "NotIn" and labels.get(key) in values):
                return False
            if (op == "Exists" and key not in labels) or (op == "DoesNotExist" and key in labels):
                return False
        return True

    if terms and not any(term_matches(t) for t in terms):
        return False
    tolerations = list(spec.get("tolerations") or []) + [
        {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}
    ]
    for taint in (node.get("spec") or {}).get("taints") or []:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not _tolerated(tolerations, taint):
            return False
    return True


def advertised_gpus(node, daemonsets) -> int:
    """GPUs a node shows in status.capacity: an NVIDIA instance type with a device plugin running on it
    (a plugin DaemonSet scheduled there, or the one built into Bottlerocket's NVIDIA images)."""
    labels = (node.get("metadata") or {}).get("labels") or {}
    gpus = catalog.nvidia_gpus(labels.get("node.kubernetes.io/instance-type", ""))
    if not gpus:
        return 0
    os_image = (((node.get("status") or {}).get("nodeInfo")) or {}).get("osImage", "")
    if os_image.startswith("Bottlerocket"):
        return gpus
    return gpus if any(daemon_runs_on(ds, node) for ds in daemonsets or []) else 0


def gpu_status(node, daemonsets):
    """The node status with nvidia.com/gpu set when a plugin runs there, or None when nothing changes.

    Capacity is never taken away: a kubelet keeps reporting the last device plugin registration."""
    gpus = advertised_gpus(node, daemonsets)
    status = node.get("status") or {}
    if not gpus or (status.get("allocatable") or {}).get(GPU_RESOURCE) == str(gpus):
        return None
    new = json.loads(json.dumps(status))
    new.setdefault("capacity", {})[GPU_RESOURCE] = str(gpus)
    new.setdefault("allocatable", {})[GPU_RESOURCE] = str(gpus)
    return new


def _private_ip(cidrs) -> str:
    networks = [ipaddress.ip_network(c, strict=False) for c in cidrs or []] or [ipaddress.ip_network("192.168.0.0/16")]
    network = random.choice(networks)
    host = random.randint(4, max(5, network.num_addresses - 2))
    return str(network.network_address + host)


def node_object(cluster, region, ng_info, ip, zone, instance_id, daemonsets, now=None):
    """A Node as the kubelet of an EKS node registers it."""
    name = f"ip-{ip.replace('.', '-')}.{region}.compute.internal"
    instance_type = ng_info["instance_type"]
    cpus, memory = catalog.shape(instance_type)
    labels = {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "windows" if ng_info["ami_family"].startswith("Windows") else "linux",
        "kubernetes.io/arch": "arm64" if catalog.is_arm(instance_type) else "amd64",
        "beta.kubernetes.io/instance-type": instance_type,
        "node.kubernetes.io/instance-type": instance_type,
        "topology.kubernetes.io/region": region,
        "topology.kubernetes.io/zone": zone,
        "failure-domain.beta.kubernetes.io/region": region,
        "failure-domain.beta.kubernetes.io/zone": zone,
        CLUSTER_LABEL: cluster,
        NODEGROUP_LABEL: ng_info["name"],
    }
    if ng_info["managed"]:
        labels[EKS_NODEGROUP_LABEL] = ng_info["name"]
        labels["eks.amazonaws.com/capacityType"] = ng_info.get("capacity_type", "ON_DEMAND")
        labels["eks.amazonaws.com/nodegroup-image"] = ng_info.get("image", "")
        labels["eks.amazonaws.com/sourceLaunchTemplateVersion"] = "1"
    labels.update(ng_info.get("labels") or {})
    capacity = {
        "cpu": str(cpus),
        "memory": f"{memory * 1024 * 1024 - 400 * 1024}Ki",
        "pods": str(catalog.max_pods(instance_type)),
        "ephemeral-storage": f"{ng_info.get('volume_size', 80) * 1024 * 1024}Ki",
    }
    allocatable = {
        "cpu": f"{cpus * 1000 - 70 - (cpus - 1) * 10}m" if cpus > 1 else "930m",
        "memory": f"{memory * 1024 * 1024 - 400 * 1024 - 893 * 1024}Ki",
        "pods": capacity["pods"],
        "ephemeral-storage": str(int(ng_info.get("volume_size", 80) * 1024**3 * 0.9)),
    }
    stamp = now or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    spec = {"providerID": f"aws:///{zone}/{instance_id}"}
    taints = [
        {"key": t["key"], "value": t.get("value", ""), "effect": K8S_EFFECTS.get(t["effect"], t["effect"])}
        for t in ng_info.get("taints") or []
    ]
    taints = [{k: v for k, v in t.items() if v != "" or k != "value"} for t in taints]
    if taints:
        spec["taints"] = taints
    conditions = [
        {
            "type": t,
            "status": "False",
            "reason": r,
            "message": m,
            "lastHeartbeatTime": stamp,
            "lastTransitionTime": stamp,
        }
        for t, r, m in (
            ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        )
    ]
    conditions.append(
        {
            "type": "Ready",
            "status": "True",
            "reason": "KubeletReady",
            "message": "kubelet is posting ready status",
            "lastHeartbeatTime": stamp,
            "lastTransitionTime": stamp,
        }
    )
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
        },
        "spec": spec,
        "status": {
            "capacity": capacity,
            "allocatable": allocatable,
            "conditions": conditions,
            "addresses": [
                {"type": "InternalIP", "address": ip},
                {"type": "InternalDNS", "address": name},
                {"type": "Hostname", "address": name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": labels["kubernetes.io/arch"],
                "bootID": "",
                "containerRuntimeVersion": "containerd://1.7.27",
                "kernelVersion": "6.1.155-176.282.amzn2023.x86_64",
                "kubeProxyVersion": catalog.kubelet_version(ng_info["version"]),
                "kubeletVersion": catalog.kubelet_version(ng_info["version"]),
                "machineID": "",
                "operatingSystem": labels["kubernetes.io/os"],
                "osImage": catalog.os_image(ng_info["ami_family"]),
                "systemUUID": "",
            },
        },
    }
    node["status"] = gpu_status(node, daemonsets) or node["status"]
    return node


def reconcile_nodes(kube: Kube, log, cluster, region, ng_info, desired, instances=None, announce=True):
    """Make the nodegroup have `desired` Ready nodes (one per EC2 instance when `instances` is given)."""
    existing = kube.nodes(cluster, ng_info["name"])
    plugin = kube.device_plugin_daemonsets() if catalog.is_nvidia(ng_info["instance_type"]) else []
    if instances is not None:
        wanted = {i["ip"]: i for i in instances}
        have = {}
        for node in existing:
            addresses = node.get("status", {}).get("addresses") or []
            ip = next((a["address"] for a in addresses if a.get("type") == "InternalIP"), None)
            if ip in wanted and ip not in have:
                have[ip] = node
            else:
                kube.delete(f"/api/v1/nodes/{node['metadata']['name']}")
        for ip, inst in wanted.items():
            if ip not in have:
                node = node_object(cluster, region, ng_info, ip, inst["zone"], inst["id"], plugin)
                _create_node(kube, node)
    else:
        for node in existing[desired:]:
            kube.delete(f"/api/v1/nodes/{node['metadata']['name']}")
        zones = ng_info.get("zones") or [region + "a"]
        for index in range(len(existing), desired):
            zone = zones[index % len(zones)]
            ip = _private_ip(ng_info.get("cidrs"))
            instance_id = "i-" + "%017x" % random.getrandbits(68)
            _create_node(kube, node_object(cluster, region, ng_info, ip, zone, instance_id, plugin))
    nodes = kube.nodes(cluster, ng_info["name"])
    if announce and log is not None:
        log.info('nodegroup "%s" has %d node(s)', ng_info["name"], len(nodes))
        for node in nodes:
            log.info('node "%s" is ready', node["metadata"]["name"])
    return nodes


def _create_node(kube, node):
    try:
        created = kube.call("POST", "/api/v1/nodes", node)
    except KubeError as exc:
        if exc.status != 409:
            raise
        created = kube.get(f"/api/v1/nodes/{node['metadata']['name']}") or {}
    # A server that ignores the status of a create gets it through the status subresource.
    if not (created.get("status") or {}).get("conditions"):
        kube.merge_patch(f"/api/v1/nodes/{node['metadata']['name']}/status", {"status": node["status"]})


def refresh_gpu_capacity(kube: Kube, cluster):
    """Give GPU nodes their nvidia.com/gpu once a device plugin runs there (what the plugin does on each node)."""
    daemonsets = kube.device_plugin_daemonsets()
    for node in kube.nodes(cluster):
        status = gpu_status(node, daemonsets)
        if status is not None:
            kube.merge_patch(
                f"/api/v1/nodes/{node['metadata']['name']}/status",
                {"status": {k: status[k] for k in ("capacity", "allocatable")}},
            )


def drain(kube: Kube, log, node_names):
    """Cordon the nodes and evict what runs there (DaemonSet pods stay, as `kubectl drain` leaves them)."""
    for name in node_names:
        log.info('cordon node "%s"', name)
        kube.merge_patch(f"/api/v1/nodes/{name}", {"spec": {"unschedulable": True}})
    names = set(node_names)
    for pod in kube.items("/api/v1/pods"):
        if (pod.get("spec") or {}).get("nodeName") not in names:
            continue
        owners = pod["metadata"].get("ownerReferences") or []
        if any(o.get("kind") == "DaemonSet" for o in owners):
            continue
        kube.delete(f"/api/v1/namespaces/{pod['metadata'].get('namespace', 'default')}/pods/{pod['metadata']['name']}")
    if node_names:
        log.success("drained all nodes: [%s]", " ".join(node_names))


def delete_nodes(kube: Kube, cluster, nodegroup):
    names = [n["metadata"]["name"] for n in kube.nodes(cluster, nodegroup)]
    for pod in kube.items("/api/v1/pods"):
        if (pod.get("spec") or {}).get("nodeName") in names:
            kube.delete(
                f"/api/v1/namespaces/{pod['metadata'].get('namespace', 'default')}/pods/{pod['metadata']['name']}"
            )
    for name in names:
        kube.delete(f"/api/v1/nodes/{name}")
    return names


# ---------------------------------------------------------------------------------------------
# NVIDIA device plugin, as pkg/addons/assets/nvidia-device-plugin.yaml describes it


def device_plugin_daemonset() -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": catalog.DEVICE_PLUGIN_NAME, "namespace": "kube-system"},
        "spec": {
            "selector": {"matchLabels": {"name": "nvidia-device-plugin-ds"}},
            "updateStrategy": {"type": "RollingUpdate"},
            "template": {
                "metadata": {"labels": {"name": "nvidia-device-plugin-ds"}},
                "spec": {
                    "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
                    "priorityClassName": "system-node-critical",
                    "containers": [
                        {
                            "image": catalog.DEVICE_PLUGIN_IMAGE,
                            "name": "nvidia-device-plugin-ctr",
                            "env": [{"name": "FAIL_ON_INIT_ERROR", "value": "false"}],
                            "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
                            "volumeMounts": [{"name": "device-plugin", "mountPath": "/var/lib/kubelet/device-plugins"}],
                        }
                    ],
                    "volumes": [{"name": "device-plugin", "hostPath": {"path": "/var/lib/kubelet/device-plugins"}}],
                },
            },
        },
    }


def install_device_plugin(kube: Kube) -> None:
    """Create or replace the DaemonSet (eksctl applies its manifest with create-or-replace)."""
    body = device_plugin_daemonset()
    base = "/apis/apps/v1/namespaces/kube-system/daemonsets"
    kube.ensure_namespace("kube-system")
    current = kube.get(f"{base}/{catalog.DEVICE_PLUGIN_NAME}")
    if current is None:
        kube.call("POST", base, body)
    else:
        body["metadata"]["resourceVersion"] = current["metadata"].get("resourceVersion")
        kube.call("PUT", f"{base}/{catalog.DEVICE_PLUGIN_NAME}", body)


# ---------------------------------------------------------------------------------------------
# Service accounts (create iamserviceaccount)


def service_account(kube: Kube, namespace, name):
    return kube.get(f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}")


def annotate_service_account(kube: Kube, namespace, name, role_arn, labels=None):
    kube.ensure_namespace(namespace)
    path = f"/api/v1/namespaces/{namespace}/serviceaccounts"
    annotations = {"eks.amazonaws.com/role-arn": role_arn}
    meta_labels = {"app.kubernetes.io/managed-by": "eksctl", **(labels or {})}
    if kube.get(f"{path}/{name}") is None:
        kube.call(
            "POST",
            path,
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": name, "namespace": namespace, "annotations": annotations, "labels": meta_labels},
            },
        )
    else:
        kube.merge_patch(f"{path}/{name}", {"metadata": {"annotations": annotations, "labels": meta_labels}})


# ---------------------------------------------------------------------------------------------
# kubeconfig (pkg/utils/kubeconfig)


def default_kubeconfig_path() -> str:
    env = os.environ.get("KUBECONFIG", "")
    if env:
        return env.split(os.pathsep)[0]
    return str(Path.home() / ".kube" / "config")


def auto_kubeconfig_path(cluster) -> str:
    return str(Path.home() / ".kube" / "eksctl" / "clusters" / cluster)


def kubeconfig_entries(cluster, region, username, endpoint, ca_data):
    """(cluster, context, user, context name) entries eksctl writes for a cluster."""
    cluster_name = f"{cluster}.{region}.eksctl.io"
    context_name = f"{username}@{cluster_name}"
    url = kube_url()
    if url:
        # The sandbox has no `aws` CLI to run `aws eks get-token`: the stand-in takes a bearer token.
        server = {"server": url}
        ca = os.environ.get(KUBE_CA_ENV)
        if ca:
            server["certificate-authority-data"] = ca
        elif url.startswith("https://"):
            server["insecure-skip-tls-verify"] = True
        user = {"token": os.environ.get(KUBE_TOKEN_ENV, "eksctl-sim")}
    else:
        server = {"certificate-authority-data": ca_data, "server": endpoint.rstrip("/")}
        user = {
            "exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1",
                "args": ["eks", "get-token", "--output", "json", "--cluster-name", cluster, "--region", region],
                "command": "aws",
                "env": [{"name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "regional"}],
                "interactiveMode": "IfAvailable",
                "provideClusterInfo": False,
            }
        }
    return (
        {"cluster": server, "name": cluster_name},
        {"context": {"cluster": cluster_name, "user": context_name}, "name": context_name},
        {"name": context_name, "user": user},
        context_name,
    )


def _read_kubeconfig(path):
    import yaml  # pylint: disable=import-outside-toplevel

    try:
        with open(path, encoding="utf-8") as stream:
            data = yaml.safe_load(stream) or {}
    except FileNotFoundError:
        data = {}
    except (OSError, yaml.YAMLError) as exc:
        raise EksctlError(f'unable to read existing kubeconfig file "{path}": {exc}') from None
    return data


def _write_kubeconfig(path, data):
    import yaml  # pylint: disable=import-outside-toplevel

    data.setdefault("apiVersion", "v1")
    data.setdefault("kind", "Config")
    data.setdefault("preferences", {})
    for key in ("clusters", "contexts", "users"):
        data.setdefault(key, [])
    text = yaml.safe_dump(data, sort_keys=True, default_flow_style=False)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    try:
        with open(path, encoding="utf-8") as stream:
            if stream.read() == text:
                return
    except OSError:
        pass
    tmp = f"{path}.eksctl-sim.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def write_kubeconfig(path, cluster, region, username, endpoint, ca_data, set_context=True):
    data = _read_kubeconfig(path)
    cluster_entry, context_entry, user_entry, context_name = kubeconfig_entries(
        cluster, region, username, endpoint, ca_data
    )
    for key, entry in (("clusters", cluster_entry), ("contexts", context_entry), ("users", user_entry)):
        items = [i for i in data.get(key) or [] if i.get("name") != entry["name"]]
        items.append(entry)
        data[key] = sorted(items, key=lambda i: i.get("name", ""))
    if set_context:
        data["current-context"] = context_name
    _write_kubeconfig(path, data)


def remove_from_kubeconfig(path, cluster, region) -> bool:
    if not os.path.exists(path):
        return False
    data = _read_kubeconfig(path)
    cluster_name = f"{cluster}.{region}.eksctl.io"
    changed = False
    contexts = data.get("contexts") or []
    gone = {c["name"] for c in contexts if (c.get("context") or {}).get("cluster") == cluster_name}
    users = {(c.get("context") or {}).get("user") for c in contexts if c.get("name") in gone}
    for key, names in (("clusters", {cluster_name}), ("contexts", gone), ("users", users)):
        kept = [i for i in data.get(key) or [] if i.get("name") not in names]
        if len(kept) != len(data.get(key) or []):
            changed = True
        data[key] = kept
    if data.get("current-context") in gone:
        data["current-context"] = ""
        changed = True
    if changed:
        _write_kubeconfig(path, data)
    return changed


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
