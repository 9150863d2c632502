"""The kinds the stand-in API server knows: a table of built-in resources plus the ones CRDs register.

Each entry carries what discovery must say about a resource (plural, singular, kind, scope,
verbs, short names, categories, subresources) and a few storage rules that differ between kinds
(whether `/status` is a subresource, whether `metadata.generation` is kept, whether DELETE answers
with the object or with a Status). Add a built-in kind by adding one `_builtin(...)` line.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

STANDARD_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
STATUS_VERBS = ("get", "patch", "update")


@dataclass(frozen=True)
class ResourceType:
    """One resource (group + plural), served in one or more versions."""

    group: str
    versions: tuple  # served versions, preferred first
    plural: str
    singular: str
    kind: str
    namespaced: bool
    short_names: tuple = ()
    categories: tuple = ()
    verbs: tuple = STANDARD_VERBS
    # `/status` is a subresource: writes to the main resource keep the old status, writes to
    # `/status` change only the status.
    status_subresource: bool = False
    # Keep a client-supplied status on create (Nodes: the kubelet registers its node with status).
    status_on_create: bool = False
    # Keep metadata.generation (bumped on every change outside metadata and status).
    generation: bool = True
    # DELETE answers with the deleted object (True) or with a Status (False), as the real registry does.
    return_deleted: bool = False
    # Name of the CustomResourceDefinition that registered it; None for built-in kinds.
    crd: str | None = None
    # Minor versions of Kubernetes between which a built-in group version is served: {version: (added, removed)}.
    served_between: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def key(self) -> tuple:
        return (self.group, self.plural)

    def group_version(self, version: str) -> str:
        return f"{self.group}/{version}" if self.group else version

    @property
    def preferred_version(self) -> str:
        return self.versions[0]

    def qualified(self) -> str:
        """`configmaps` or `deployments.apps`, as used in API error messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def discovery(self) -> list:
        """APIResource entries for this resource (and its subresources)."""
        entry = {
            "name": self.plural,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": list(self.verbs),
        }
        if self.short_names:
            entry["shortNames"] = list(self.short_names)
        if self.categories:
            entry["categories"] = list(self.categories)
        entries = [entry]
        if self.status_subresource:
            entries.append(
                {
                    "name": f"{self.plural}/status",
                    "singularName": "",
                    "namespaced": self.namespaced,
                    "kind": self.kind,
                    "verbs": list(STATUS_VERBS),
                }
            )
        return entries


BUILTINS: list[ResourceType] = []


def _builtin(group, versions, plural, kind, namespaced=True, short=(), status=False, **kwargs):
    singular = kwargs.pop("singular", kind.lower())
    if isinstance(versions, str):
        versions = (versions,)
    BUILTINS.append(
        ResourceType(
            group=group,
            versions=tuple(versions),
            plural=plural,
            singular=singular,
            kind=kind,
            namespaced=namespaced,
            short_names=tuple(short),
            status_subresource=status,
            **kwargs,
        )
    )


# Core group: objects without a spec have no metadata.generation on a real server.
_builtin("", "v1", "configmaps", "ConfigMap", short=("cm",), generation=False)
_builtin("", "v1", "endpoints", "Endpoints", short=("ep",), generation=False, singular="endpoints")
_builtin("", "v1", "events", "Event", short=("ev",), generation=False)
_builtin("", "v1", "limitranges", "LimitRange", short=("limits",), generation=False)
_builtin(
    "",
    "v1",
    "namespaces",
    "Namespace",
    namespaced=False,
    short=("ns",),
    status=True,
    generation=False,
    return_deleted=True,
)
_builtin(
    "", "v1", "nodes", "Node", namespaced=False, short=("no",), status=True, status_on_create=True, generation=False
)
_builtin("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", short=("pvc",), status=True, generation=False)
_builtin(
    "", "v1", "persistentvolumes", "PersistentVolume", namespaced=False, short=("pv",), status=True, generation=False
)
_builtin(
    "", "v1", "pods", "Pod", short=("po",), status=True, categories=("all",), generation=False, return_deleted=True
)
_builtin("", "v1", "podtemplates", "PodTemplate", generation=False)
_builtin("", "v1", "replicationcontrollers", "ReplicationController", short=("rc",), status=True, categories=("all",))
_builtin("", "v1", "resourcequotas", "ResourceQuota", short=("quota",), status=True, generation=False)
_builtin("", "v1", "secrets", "Secret", generation=False)
_builtin("", "v1", "serviceaccounts", "ServiceAccount", short=("sa",), generation=False)
_builtin("", "v1", "services", "Service", short=("svc",), status=True, categories=("all",), generation=False)

_builtin("apps", "v1", "controllerrevisions", "ControllerRevision")
_builtin("apps", "v1", "daemonsets", "DaemonSet", short=("ds",), status=True, categories=("all",))
_builtin("apps", "v1", "deployments", "Deployment", short=("deploy",), status=True, categories=("all",))
_builtin("apps", "v1", "replicasets", "ReplicaSet", short=("rs",), status=True, categories=("all",))
_builtin("apps", "v1", "statefulsets", "StatefulSet", short=("sts",), status=True, categories=("all",))

_builtin("batch", "v1", "cronjobs", "CronJob", short=("cj",), status=True, categories=("all",))
_builtin("batch", "v1", "jobs", "Job", status=True, categories=("all",))

# autoscaling/v2beta2 was removed in Kubernetes 1.26; Kubeflow 1.7 still ships one HPA with it.
_builtin(
    "autoscaling",
    ("v2", "v1", "v2beta2"),
    "horizontalpodautoscalers",
    "HorizontalPodAutoscaler",
    short=("hpa",),
    status=True,
    categories=("all",),
    served_between={"v2beta2": (12, 25)},
)
_builtin("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", short=("pdb",), status=True)

_builtin("networking.k8s.io", "v1", "ingressclasses", "IngressClass", namespaced=False)
_builtin("networking.k8s.io", "v1", "ingresses", "Ingress", short=("ing",), status=True)
_builtin("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", short=("netpol",))

_builtin(
    "rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", namespaced=False, generation=False
)
_builtin("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", namespaced=False, generation=False)
_builtin("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", generation=False)
_builtin("rbac.authorization.k8s.io", "v1", "roles", "Role", generation=False)

# apiextensions.k8s.io/v1beta1 is not served: Kubernetes >= 1.22 removed it, so a v1beta1 CRD gets 404.
_builtin(
    "apiextensions.k8s.io",
    "v1",
    "customresourcedefinitions",
    "CustomResourceDefinition",
    namespaced=False,
    short=("crd", "crds"),
    status=True,
    categories=("api-extensions",),
    return_deleted=True,
)
_builtin(
    "apiregistration.k8s.io",
    "v1",
    "apiservices",
    "APIService",
    namespaced=False,
    status=True,
    categories=("api-extensions",),
)

_builtin(
    "admissionregistration.k8s.io",
    "v1",
    "mutatingwebhookconfigurations",
    "MutatingWebhookConfiguration",
    namespaced=False,
    categories=("api-extensions",),
)
_builtin(
    "admissionregistration.k8s.io",
    "v1",
    "validatingwebhookconfigurations",
    "ValidatingWebhookConfiguration",
    namespaced=False,
    categories=("api-extensions",),
)

_builtin(
    "scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", namespaced=False, short=("pc",), generation=False
)
_builtin("storage.k8s.io", "v1", "csidrivers", "CSIDriver", namespaced=False)
_builtin("storage.k8s.io", "v1", "csinodes", "CSINode", namespaced=False)
_builtin("storage.k8s.io", "v1", "storageclasses", "StorageClass", namespaced=False, short=("sc",), generation=False)
_builtin("storage.k8s.io", "v1", "volumeattachments", "VolumeAttachment", namespaced=False, status=True)
_builtin("coordination.k8s.io", "v1", "leases", "Lease", generation=False)
_builtin(
    "certificates.k8s.io",
    "v1",
    "certificatesigningrequests",
    "CertificateSigningRequest",
    namespaced=False,
    short=("csr",),
    status=True,
)
_builtin("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", generation=False)
_builtin("events.k8s.io", "v1", "events", "Event", short=("ev",), generation=False)
_builtin("node.k8s.io", "v1", "runtimeclasses", "RuntimeClass", namespaced=False, generation=False)

# Order of the built-in groups in /apis, as a real server lists them (roughly).
GROUP_ORDER = [
    "apiregistration.k8s.io",
    "apps",
    "events.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "networking.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "node.k8s.io",
    "discovery.k8s.io",
]

_VERSION_RE = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(version: str) -> tuple:
    """Sort key of Kubernetes version names: GA > beta > alpha, higher numbers first, others last."""
    match = _VERSION_RE.match(version)
    if not match:
        return (3, 0, 0, version)
    major, stage, minor = match.groups()
    rank = {None: 0, "beta": 1, "alpha": 2}[stage]
    return (rank, -int(major), -int(minor or 0), version)


class CRDError(ValueError):
    """A CustomResourceDefinition that a real server would reject (422 Invalid)."""


def crd_resource_type(crd: dict) -> ResourceType:
    """The ResourceType an apiextensions.k8s.io/v1 CustomResourceDefinition defines."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group = spec.get("group")
    plural = names.get("plural")
    kind = names.get("kind")
    scope = spec.get("scope")
    problems = []
    if not group:
        problems.append("spec.group: Required value")
    if not plural:
        problems.append("spec.names.plural: Required value")
    if not kind:
        problems.append("spec.names.kind: Required value")
    if scope not in ("Namespaced", "Cluster"):
        problems.append(f'spec.scope: Unsupported value: "{scope}": supported values: "Cluster", "Namespaced"')
    if group and plural and crd.get("metadata", {}).get("name") != f"{plural}.{group}":
        problems.append(
            f"metadata.name: Invalid value: \"{crd.get('metadata', {}).get('name')}\": "
            f'must be spec.names.plural+"."+spec.group'
        )
    versions = [v for v in spec.get("versions") or [] if v.get("served", True)]
    if not spec.get("versions"):
        problems.append("spec.versions: Invalid value: must have exactly one version marked as storage version")
    if problems:
        raise CRDError("; ".join(problems))
    served = sorted((v["name"] for v in versions), key=version_priority)
    status = any((v.get("subresources") or {}).get("status") is not None for v in versions)
    return ResourceType(
        group=group,
        versions=tuple(served),
        plural=plural,
        singular=names.get("singular") or kind.lower(),
        kind=kind,
        namespaced=scope == "Namespaced",
        short_names=tuple(names.get("shortNames") or ()),
        categories=tuple(names.get("categories") or ()),
        status_subresource=status,
        crd=crd["metadata"]["name"],
    )


class Registry:
    """Which resources are served right now: the built-ins plus the kinds of established CRDs."""

    def __init__(self, kubernetes_minor: int):
        self.minor = kubernetes_minor
        self._lock = threading.RLock()
        self._types: dict[tuple, ResourceType] = {}
        for rtype in BUILTINS:
            versions = tuple(v for v in rtype.versions if self._served(rtype, v))
            if versions:
                self._types[rtype.key] = ResourceType(**{**rtype.__dict__, "versions": versions})

    def _served(self, rtype: ResourceType, version: str) -> bool:
        added, removed = rtype.served_between.get(version, (0, 10**6))
        return added <= self.minor <= removed

    def all(self) -> list[ResourceType]:
        with self._lock:
            return list(self._types.values())

    def by_key(self, group: str, plural: str) -> ResourceType | None:
        with self._lock:
            return self._types.get((group, plural))

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        rtype = self.by_key(group, plural)
        if rtype and version in rtype.versions:
            return rtype
        return None

    def by_kind(self, group: str, kind: str) -> ResourceType | None:
        with self._lock:
            for rtype in self._types.values():
                if rtype.group == group and rtype.kind == kind:
                    return rtype
        return None

    def group_versions(self, group: str) -> list[str]:
        """Served versions of a group, preferred first."""
        versions = set()
        for rtype in self.all():
            if rtype.group == group:
                versions.update(rtype.versions)
        return sorted(versions, key=version_priority)

    def groups(self) -> list[str]:
        names = {rtype.group for rtype in self.all() if rtype.group}
        builtin = [g for g in GROUP_ORDER if g in names]
        return builtin + sorted(names - set(builtin))

    def resources(self, group: str, version: str) -> list[ResourceType]:
        return [r for r in self.all() if r.group == group and version in r.versions]

    def register_crd(self, crd: dict) -> ResourceType:
        rtype = crd_resource_type(crd)
        with self._lock:
            existing = self._types.get(rtype.key)
            if existing and existing.crd is None:
                raise CRDError(f"{rtype.plural}.{rtype.group} is a built-in resource")
            self._types[rtype.key] = rtype
        return rtype

    def unregister_crd(self, crd_name: str) -> ResourceType | None:
        with self._lock:
            for key, rtype in list(self._types.items()):
                if rtype.crd == crd_name:
                    del self._types[key]
                    return rtype
        return None
