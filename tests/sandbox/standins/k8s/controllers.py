"""Status hooks: what the real controllers would write into `status` once an object exists.

A controller is a function `reconcile(obj, view) -> dict | None` registered for one kind:

    from tests.sandbox.standins.k8s.controllers import controller

    @controller("networking.k8s.io", "Ingress", delay=1.0)
    def ingress_load_balancer(obj, view):
        '''Give every ALB-class Ingress a load balancer hostname, as the AWS LB controller does.'''
        if obj["spec"].get("ingressClassName") != "alb":
            return None                               # None: leave the status alone
        host = view.settings.get("ALB_HOSTNAME", "k8s-sandbox.elb.amazonaws.com")
        return {"loadBalancer": {"ingress": [{"hostname": host}]}}

`obj` is a private copy of the object; `view` (a `ClusterView`) reads other objects
(`view.get(group, kind, name, namespace)`, `view.list(group, kind, namespace=None)`), and
`view.settings` is the server process environment (pass values through `KubeSandbox(env={...})`).
The returned dict becomes the object's whole `status` (written like a PUT on `/status` by field
manager `<function name>`, which bumps `resourceVersion` and sends a MODIFIED watch event), and
only when it differs from the current status: a controller must be deterministic, so use
`set_condition` to keep condition timestamps and `now()` only for fields that are new.

When it runs: after every create or change of an object of its kind (not after status-only
writes), and — for kinds named in `watches=[(group, kind), ...]` — for every object of its kind
whenever an object of a watched kind changes (DaemonSets watch Nodes). `delay=0` runs it in the
same request, before the answer (so a client sees the status at once); `delay>0` runs it on a
timer thread that many seconds later; `delay=None` uses the server's `--controller-delay`
(default 0), which the workload controllers below use so that tests can make rollouts take time.
Controllers never run for dry-run requests.

A controller that owns something outside the cluster (a load balancer, a bucket) cleans it up
before its object goes, the way real controllers do with a finalizer:

    @controller("networking.k8s.io", "Ingress", delay=3.0,
                finalizer="ingress.k8s.aws/resources", finalize=delete_load_balancer, finalize_delay=0.5)

- once `reconcile` returns a status (not None) for an object that is not being deleted, the
  server adds `finalizer` to `metadata.finalizers` (a metadata write by the same field manager,
  just before the status write);
- a DELETE of an object that carries it only sets `deletionTimestamp`; then,
  `finalize_delay` seconds later (default: `delay`), the server calls `finalize(obj, view)`:
  unless it returns False (or raises), the finalizer is removed, and the object is gone once no
  finalizer remains. `reconcile` is not called for objects being deleted;
- an object removed at once by a namespace or CRD cascade (see cluster.py) still gets its
  `finalize` call, once, so that nothing outside the cluster is left behind.

A controller asks to be run again for the same object later with `view.requeue(after=seconds)`
(controller-runtime's RequeueAfter): a model that is not in its bucket yet, a certificate that is
not issued yet. It works in `reconcile` and in `finalize` (where it retries a finalize that
returned False).

Register a controller module from outside this package by importing it in the server process:
`KubeSandbox(controllers=["tests.sandbox.standins.k8s_platform"])` or `python -m tests.sandbox.standins.k8s --controllers
tests.sandbox.standins.k8s_platform`. The module only needs to use the `@controller` decorator at import time.

Built-in controllers: Namespace (Active), CustomResourceDefinition (NamesAccepted, Established),
Deployment / ReplicaSet / StatefulSet (all replicas ready and available), DaemonSet (one ready pod
per matching Node: node selector, required node affinity and NoSchedule/NoExecute taints against
the template's tolerations), Job (Complete), Pod (Running, all containers ready). No pods or
replica sets are created for workloads.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Controller:
    group: str
    kind: str
    reconcile: Callable
    delay: float | None = 0.0
    watches: tuple = ()
    name: str = ""
    options: dict = field(default_factory=dict)
    finalizer: str | None = None
    finalize: Callable | None = None
    finalize_delay: float | None = None


CONTROLLERS: list[Controller] = []


def controller(
    group: str,
    kind: str,
    *,
    delay: float | None = 0.0,
    watches=(),
    name: str | None = None,
    finalizer: str | None = None,
    finalize: Callable | None = None,
    finalize_delay: float | None = None,
):
    """Register `reconcile(obj, view) -> status | None` for objects of (group, kind);
    with `finalizer`, also `finalize(obj, view) -> bool | None` for their deletion."""
    if (finalizer is None) != (finalize is None):
        raise ValueError("finalizer and finalize go together")

    def decorate(func):
        manager = name or func.__name__.replace("_", "-")
        for existing in list(CONTROLLERS):
            if existing.name == manager:
                CONTROLLERS.remove(existing)
        CONTROLLERS.append(
            Controller(
                group,
                kind,
                func,
                delay,
                tuple(tuple(w) for w in watches),
                manager,
                finalizer=finalizer,
                finalize=finalize,
                finalize_delay=delay if finalize_delay is None else finalize_delay,
            )
        )
        return func

    return decorate


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def set_condition(conditions, type_: str, status: str, reason: str = "", message: str = "", update_time=False):
    """A copy of `conditions` with one condition set; timestamps only move when the condition changes."""
    conditions = [copy.deepcopy(c) for c in conditions or []]
    index = next((i for i, c in enumerate(conditions) if c.get("type") == type_), None)
    previous = conditions[index] if index is not None else None
    new = {"type": type_, "status": status}
    if reason:
        new["reason"] = reason
    if message:
        new["message"] = message
    if previous is not None and all(previous.get(k) == new.get(k) for k in ("status", "reason", "message")):
        return conditions
    stamp = now()
    if update_time:
        new["lastUpdateTime"] = stamp
    keep = previous is not None and previous.get("status") == status and previous.get("lastTransitionTime")
    new["lastTransitionTime"] = previous["lastTransitionTime"] if keep else stamp
    if index is None:
        conditions.append(new)
    else:
        conditions[index] = new
    return conditions


def _omit_zero(status: dict, *keys) -> dict:
    for key in keys:
        if not status.get(key):
            status.pop(key, None)
    return status


def _template_hash(obj: dict) -> str:
    template = json.dumps((obj.get("spec") or {}).get("template") or {}, sort_keys=True)
    return hashlib.sha256(template.encode()).hexdigest()[:10]


# --------------------------------------------------------------------------- built-in controllers


@controller("", "Namespace", name="namespace-controller")
def namespace_active(obj, view):
    del view
    return {**(obj.get("status") or {}), "phase": "Active"}


@controller("apiextensions.k8s.io", "CustomResourceDefinition", name="apiextensions-controller")
def crd_established(obj, view):
    del view
    spec = obj.get("spec") or {}
    names = dict(spec.get("names") or {})
    names.setdefault("singular", names.get("kind", "").lower())
    names.setdefault("listKind", names.get("kind", "") + "List")
    status = dict(obj.get("status") or {})
    conditions = set_condition(status.get("conditions"), "NamesAccepted", "True", "NoConflicts", "no conflicts found")
    conditions = set_condition(
        conditions, "Established", "True", "InitialNamesAccepted", "the initial names have been accepted"
    )
    storage = [v["name"] for v in spec.get("versions") or [] if v.get("storage")]
    stored = list(status.get("storedVersions") or [])
    for version in storage:
        if version not in stored:
            stored.append(version)
    status.update(acceptedNames=names, conditions=conditions, storedVersions=stored)
    return status


@controller("apps", "Deployment", delay=None, name="deployment-controller")
def deployment_available(obj, view):
    del view
    replicas = (obj.get("spec") or {}).get("replicas", 1)
    status = copy.deepcopy(obj.get("status") or {})
    status.update(
        observedGeneration=obj["metadata"].get("generation", 1),
        replicas=replicas,
        updatedReplicas=replicas,
        readyReplicas=replicas,
        availableReplicas=replicas,
    )
    status.pop("unavailableReplicas", None)
    _omit_zero(status, "replicas", "updatedReplicas", "readyReplicas", "availableReplicas")
    conditions = set_condition(
        status.get("conditions"),
        "Available",
        "True",
        "MinimumReplicasAvailable",
        "Deployment has minimum availability.",
        update_time=True,
    )
    rs_name = f"{obj['metadata']['name']}-{_template_hash(obj)}"
    conditions = set_condition(
        conditions,
        "Progressing",
        "True",
        "NewReplicaSetAvailable",
        f'ReplicaSet "{rs_name}" has successfully progressed.',
        update_time=True,
    )
    status["conditions"] = conditions
    return status


@controller("apps", "ReplicaSet", delay=None, name="replicaset-controller")
def replicaset_ready(obj, view):
    del view
    replicas = (obj.get("spec") or {}).get("replicas", 1)
    status = {
        "replicas": replicas,
        "fullyLabeledReplicas": replicas,
        "readyReplicas": replicas,
        "availableReplicas": replicas,
        "observedGeneration": obj["metadata"].get("generation", 1),
    }
    _omit_zero(status, "fullyLabeledReplicas", "readyReplicas", "availableReplicas")
    return status


@controller("apps", "StatefulSet", delay=None, name="statefulset-controller")
def statefulset_ready(obj, view):
    del view
    replicas = (obj.get("spec") or {}).get("replicas", 1)
    revision = f"{obj['metadata']['name']}-{_template_hash(obj)}"
    status = {
        "observedGeneration": obj["metadata"].get("generation", 1),
        "replicas": replicas,
        "readyReplicas": replicas,
        "currentReplicas": replicas,
        "updatedReplicas": replicas,
        "availableReplicas": replicas,
        "currentRevision": revision,
        "updateRevision": revision,
        "collisionCount": 0,
    }
    return _omit_zero(status, "readyReplicas", "currentReplicas", "updatedReplicas")


def _tolerates(tolerations: list, taint: dict) -> bool:
    for tol in tolerations:
        if tol.get("effect") and tol["effect"] != taint.get("effect"):
            continue
        operator = tol.get("operator", "Equal")
        if operator == "Exists":
            if not tol.get("key") or tol["key"] == taint.get("key"):
                return True
        elif tol.get("key") == taint.get("key") and (tol.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def _node_term_matches(term: dict, labels: dict) -> bool:
    for expr in term.get("matchExpressions") or []:
        key, operator, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        value = labels.get(key)
        if operator == "In" and value not in values:
            return False
        if operator == "NotIn" and key in labels and value in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
        if operator in ("Gt", "Lt"):
            try:
                number, limit = int(value), int(values[0])
            except (TypeError, ValueError, IndexError):
                return False
            if (operator == "Gt" and number <= limit) or (operator == "Lt" and number >= limit):
                return False
    return True


# Tolerations the DaemonSet controller adds to every daemon pod.
DAEMON_TOLERATIONS = [
    {"key": key, "operator": "Exists", "effect": effect}
    for key, effect in (
        ("node.kubernetes.io/not-ready", "NoExecute"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule"),
        ("node.kubernetes.io/memory-pressure", "NoSchedule"),
        ("node.kubernetes.io/pid-pressure", "NoSchedule"),
        ("node.kubernetes.io/unschedulable", "NoSchedule"),
    )
]


def pod_fits_node(pod_spec: dict, node: dict, extra_tolerations=()) -> bool:
    """Would the scheduler place a pod with this spec on this node (selector, required affinity, taints)?"""
    labels = node["metadata"].get("labels") or {}
    for key, value in (pod_spec.get("nodeSelector") or {}).items():
        if labels.get(key) != value:
            return False
    required = ((pod_spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    terms = required.get("nodeSelectorTerms") or []
    if terms and not any(_node_term_matches(t, labels) for t in terms):
        return False
    tolerations = list(pod_spec.get("tolerations") or []) + list(extra_tolerations)
    for taint in (node.get("spec") or {}).get("taints") or []:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not _tolerates(tolerations, taint):
            return False
    return True


def node_ready(node: dict) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (node.get("status") or {}).get("conditions") or []
    )


@controller("apps", "DaemonSet", delay=None, watches=[("", "Node")], name="daemonset-controller")
def daemonset_scheduled(obj, view):
    pod_spec = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
    nodes = [n for n in view.list("", "Node") if pod_fits_node(pod_spec, n, DAEMON_TOLERATIONS)]
    desired = len(nodes)
    ready = sum(1 for n in nodes if node_ready(n))
    status = {
        "currentNumberScheduled": desired,
        "desiredNumberScheduled": desired,
        "numberMisscheduled": 0,
        "numberReady": ready,
        "numberAvailable": ready,
        "updatedNumberScheduled": desired,
        "numberUnavailable": desired - ready,
        "observedGeneration": obj["metadata"].get("generation", 1),
    }
    return _omit_zero(status, "numberAvailable", "updatedNumberScheduled", "numberUnavailable")


@controller("batch", "Job", delay=None, name="job-controller")
def job_complete(obj, view):
    del view
    spec = obj.get("spec") or {}
    if spec.get("suspend"):
        return None
    status = copy.deepcopy(obj.get("status") or {})
    if any(c.get("type") == "Complete" and c.get("status") == "True" for c in status.get("conditions") or []):
        return status
    stamp = now()
    status.setdefault("startTime", stamp)
    status["completionTime"] = stamp
    status["succeeded"] = spec.get("completions", 1)
    status["ready"] = 0
    status.pop("active", None)
    status["uncountedTerminatedPods"] = {}
    status["conditions"] = set_condition(status.get("conditions"), "Complete", "True")
    return status


@controller("", "Pod", delay=None, name="kubelet")
def pod_running(obj, view):
    del view
    spec = obj.get("spec") or {}
    status = copy.deepcopy(obj.get("status") or {})
    started = status.get("startTime") or now()
    conditions = status.get("conditions")
    for type_ in ("Initialized", "Ready", "ContainersReady", "PodScheduled"):
        conditions = set_condition(conditions, type_, "True")
    container_statuses = []
    previous = {c.get("name"): c for c in status.get("containerStatuses") or []}
    for container in spec.get("containers") or []:
        name = container.get("name")
        old = previous.get(name) or {}
        container_statuses.append(
            {
                "name": name,
                "image": container.get("image", ""),
                "imageID": "",
                "containerID": old.get("containerID")
                or "containerd://" + hashlib.sha256(f"{obj['metadata'].get('uid')}/{name}".encode()).hexdigest(),
                "ready": True,
                "started": True,
                "restartCount": 0,
                "state": {
                    "running": {"startedAt": (old.get("state") or {}).get("running", {}).get("startedAt", started)}
                },
            }
        )
    status.update(
        phase="Running",
        conditions=conditions,
        containerStatuses=container_statuses,
        startTime=started,
        hostIP=status.get("hostIP", "10.0.0.10"),
        podIP=status.get("podIP", "10.0.1.10"),
    )
    return status


class ClusterView:
    """What a controller may read (copies of other objects, the server's settings) and, for the objects
    it owns, create and delete."""

    def __init__(self, cluster, settings: dict):
        self._cluster = cluster
        self.settings = settings
        self.requeue_after: float | None = None

    def requeue(self, after: float) -> None:
        """Run this controller again for the same object `after` seconds from now."""
        after = max(float(after), 0.01)
        self.requeue_after = after if self.requeue_after is None else min(self.requeue_after, after)

    def list(self, group: str, kind: str, namespace: str | None = None) -> list:
        return self._cluster.objects_of_kind(group, kind, namespace)

    def get(self, group: str, kind: str, name: str, namespace: str | None = None) -> dict | None:
        for obj in self._cluster.objects_of_kind(group, kind, namespace):
            if obj["metadata"]["name"] == name:
                return obj
        return None

    def create(self, body: dict, manager: str) -> dict | None:
        """Create `body` unless an object of its kind and name exists (controllers that own other objects:
        a Profile's namespace); returns the stored object, None when its kind is unknown."""
        group, _sep, version = body["apiVersion"].rpartition("/")
        rtype = self._cluster.registry.by_kind(group, body["kind"])
        if rtype is None:
            return None
        meta = body["metadata"]
        found = self.get(group, body["kind"], meta["name"], meta.get("namespace"))
        if found is not None:
            return found
        return self._cluster.create(rtype, version, meta.get("namespace"), copy.deepcopy(body), manager=manager)

    def delete(self, group: str, kind: str, name: str, namespace: str | None = None) -> None:
        """Delete an object when it exists (what a controller's finalizer cleans up)."""
        rtype = self._cluster.registry.by_kind(group, kind)
        if rtype is None or self.get(group, kind, name, namespace) is None:
            return
        self._cluster.delete(rtype, rtype.preferred_version, namespace, name)
