"""Defaulting and validation that the real API server does on every write, for the kinds that need it.

Only what callers can observe and depend on: `spec.replicas` defaulting (kubernetes.core's
Deployment wait compares it with the status), Secret `stringData` folding into `data`, Service
cluster IPs and port defaults, pod template defaults, selector validation of workloads, namespace
labels and finalizers. Each function takes the new object (a private copy it may change) and the
old one (or None on create) and may raise `Invalid`.
"""

from __future__ import annotations

import base64
import itertools
import re


class Invalid(ValueError):
    """422 Invalid: `causes` are (field, message) pairs."""

    def __init__(self, causes):
        super().__init__("; ".join(f"{f}: {m}" for f, m in causes))
        self.causes = causes


_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_cluster_ips = itertools.count(1)


def _pod_spec(spec: dict) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    for field in ("containers", "initContainers"):
        for container in spec.get(field) or []:
            if not isinstance(container, dict):
                continue
            image = str(container.get("image", ""))
            tag = image.rsplit("/", 1)[-1]
            latest = "@" not in image and (":" not in tag or tag.endswith(":latest"))
            container.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
            container.setdefault("terminationMessagePath", "/dev/termination-log")
            container.setdefault("terminationMessagePolicy", "File")
            container.setdefault("resources", {})
            for port in container.get("ports") or []:
                if isinstance(port, dict):
                    port.setdefault("protocol", "TCP")


def _selector_matches(selector: dict, labels: dict) -> bool:
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, operator, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def _workload(obj: dict, old: dict | None, replicas: bool = True) -> None:
    spec = obj.setdefault("spec", {})
    if replicas:
        spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    template = spec.setdefault("template", {})
    _pod_spec(template.setdefault("spec", {}))
    selector = spec.get("selector")
    labels = (template.get("metadata") or {}).get("labels") or {}
    if not selector:
        raise Invalid([("spec.selector", "Required value")])
    if not (selector.get("matchLabels") or selector.get("matchExpressions")):
        raise Invalid([("spec.selector", "Invalid value: empty selector is invalid for deployment")])
    if not _selector_matches(selector, labels):
        raise Invalid([("spec.template.metadata.labels", "Invalid value: `selector` does not match template `labels`")])
    if old and (old.get("spec") or {}).get("selector") not in (None, selector):
        raise Invalid([("spec.selector", "Invalid value: field is immutable")])


def deployment(obj, old):
    _workload(obj, old)
    spec = obj["spec"]
    spec.setdefault("progressDeadlineSeconds", 600)
    strategy = spec.setdefault("strategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        strategy.setdefault("rollingUpdate", {}).setdefault("maxSurge", "25%")
        strategy["rollingUpdate"].setdefault("maxUnavailable", "25%")


def daemonset(obj, old):
    _workload(obj, old, replicas=False)
    strategy = obj["spec"].setdefault("updateStrategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        strategy.setdefault("rollingUpdate", {}).setdefault("maxUnavailable", 1)
        strategy["rollingUpdate"].setdefault("maxSurge", 0)


def statefulset(obj, old):
    _workload(obj, old)
    spec = obj["spec"]
    spec.setdefault("podManagementPolicy", "OrderedReady")
    strategy = spec.setdefault("updateStrategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        strategy.setdefault("rollingUpdate", {}).setdefault("partition", 0)
    spec.setdefault("persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"})


def replicaset(obj, old):
    _workload(obj, old)


def job(obj, old):
    spec = obj.setdefault("spec", {})
    spec.setdefault("parallelism", 1)
    spec.setdefault("completions", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    template = spec.setdefault("template", {})
    pod = template.setdefault("spec", {})
    if pod.get("restartPolicy") not in ("Never", "OnFailure"):
        raise Invalid([("spec.template.spec.restartPolicy", 'Required value: valid values: "OnFailure", "Never"')])
    _pod_spec(pod)


def cronjob(obj, old):
    spec = obj.setdefault("spec", {})
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    if not spec.get("schedule"):
        raise Invalid([("spec.schedule", "Required value")])


def pod(obj, old):
    spec = obj.setdefault("spec", {})
    if not spec.get("containers"):
        raise Invalid([("spec.containers", "Required value")])
    _pod_spec(spec)
    if old is None:
        obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}


def secret(obj, old):
    obj.setdefault("type", "Opaque")
    string_data = obj.pop("stringData", None)
    if string_data:
        data = obj.setdefault("data", {})
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()
    for key, value in (obj.get("data") or {}).items():
        try:
            base64.b64decode(str(value), validate=True)
        except ValueError as exc:
            raise Invalid([(f"data[{key}]", "Invalid value: illegal base64 data")]) from exc


def service(obj, old):
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    old_spec = (old or {}).get("spec") or {}
    if spec["type"] != "ExternalName":
        if not spec.get("clusterIP"):
            spec["clusterIP"] = old_spec.get("clusterIP") or "10.100.{}.{}".format(*divmod(next(_cluster_ips), 250))
        spec.setdefault("clusterIPs", [spec["clusterIP"]] if spec["clusterIP"] != "None" else ["None"])
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("internalTrafficPolicy", "Cluster")
    if spec["type"] in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    for port in spec.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
            port.setdefault("targetPort", port.get("port"))
    if old is None:
        obj["status"] = {"loadBalancer": {}}


def ingress(obj, old):
    if old is None:
        obj["status"] = {"loadBalancer": {}}


def namespace(obj, old):
    name = obj["metadata"]["name"]
    if not _DNS_LABEL.match(name) or len(name) > 63:
        raise Invalid(
            [
                (
                    "metadata.name",
                    f'Invalid value: "{name}": a lowercase RFC 1123 label must consist of '
                    "lower case alphanumeric characters or '-'",
                )
            ]
        )
    obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    if old is None:
        obj["status"] = {"phase": "Active"}


def node(obj, old):
    status = obj.setdefault("status", {})
    # A node without allocatable advertises its capacity, as the kubelet does.
    if "capacity" in status and "allocatable" not in status:
        status["allocatable"] = dict(status["capacity"])


DEFAULTERS = {
    ("apps", "Deployment"): deployment,
    ("apps", "DaemonSet"): daemonset,
    ("apps", "StatefulSet"): statefulset,
    ("apps", "ReplicaSet"): replicaset,
    ("batch", "Job"): job,
    ("batch", "CronJob"): cronjob,
    ("", "Pod"): pod,
    ("", "Secret"): secret,
    ("", "Service"): service,
    ("networking.k8s.io", "Ingress"): ingress,
    ("", "Namespace"): namespace,
    ("", "Node"): node,
}
