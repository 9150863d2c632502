"""ClusterConfig (eksctl.io/v1alpha5): strict loading, defaults, nodegroup filters."""

from __future__ import annotations

import copy
import fnmatch
import json
import os
import sys
from pathlib import Path

from . import catalog
from .common import EksctlError

API_VERSION = "eksctl.io/v1alpha5"
SCHEMA_ENV = "EKSCTL_SIM_SCHEMA"
# tests/sandbox/standins/eksctl -> repo root -> its sibling `shared` (the project's reference material).
_DEFAULT_SCHEMA = (
    Path(__file__).resolve().parents[4].parent / "shared/reference/schemas/eksctl-clusterconfig.schema.json"
)


def schema_path() -> Path | None:
    path = Path(os.environ[SCHEMA_ENV]) if os.environ.get(SCHEMA_ENV) else _DEFAULT_SCHEMA
    return path if path.is_file() else None


# Used only when the JSON schema is not available: the keys eksctl knows at the levels our
# playbooks write. Anything else under these objects is an unknown field.
_NODEGROUP_KEYS = {
    "name",
    "amiFamily",
    "instanceType",
    "availabilityZones",
    "subnets",
    "instancePrefix",
    "instanceName",
    "desiredCapacity",
    "minSize",
    "maxSize",
    "volumeSize",
    "ssh",
    "labels",
    "privateNetworking",
    "tags",
    "iam",
    "ami",
    "securityGroups",
    "maxPodsPerNode",
    "asgSuspendProcesses",
    "ebsOptimized",
    "volumeType",
    "volumeName",
    "volumeEncrypted",
    "volumeKmsKeyID",
    "volumeIOPS",
    "volumeThroughput",
    "additionalVolumes",
    "preBootstrapCommands",
    "overrideBootstrapCommand",
    "propagateASGTags",
    "disableIMDSv1",
    "disablePodIMDS",
    "placement",
    "efaEnabled",
    "instanceSelector",
    "bottlerocket",
    "enableDetailedMonitoring",
    "capacityReservation",
    "instanceMarketOptions",
    "outpostARN",
    "taints",
    "updateConfig",
}
_FALLBACK_KEYS = {
    "": {
        "apiVersion",
        "kind",
        "metadata",
        "upgradePolicy",
        "kubernetesNetworkConfig",
        "autoModeConfig",
        "remoteNetworkConfig",
        "iam",
        "iamIdentityMappings",
        "identityProviders",
        "accessConfig",
        "vpc",
        "addons",
        "addonsConfig",
        "privateCluster",
        "nodeGroups",
        "managedNodeGroups",
        "fargateProfiles",
        "availabilityZones",
        "localZones",
        "cloudWatch",
        "secretsEncryption",
        "gitops",
        "karpenter",
        "outpost",
        "controlPlaneScalingConfig",
        "zonalShiftConfig",
        "kubeAPIServerConfig",
        "kubeSchedulerConfig",
        "kubeControllerManagerConfig",
        "capabilities",
    },
    "metadata": {"name", "region", "version", "forceUpdateVersion", "rollbackConfig", "tags", "annotations"},
    "iam": {
        "serviceRoleARN",
        "serviceRolePermissionsBoundary",
        "fargatePodExecutionRoleARN",
        "fargatePodExecutionRolePermissionsBoundary",
        "withOIDC",
        "serviceAccounts",
        "podIdentityAssociations",
        "vpcResourceControllerPolicy",
    },
    "managedNodeGroups": _NODEGROUP_KEYS
    | {"instanceTypes", "spot", "launchTemplate", "releaseVersion", "nodeRepairConfig"},
    "nodeGroups": _NODEGROUP_KEYS
    | {
        "instancesDistribution",
        "asgMetricsCollection",
        "cpuCredits",
        "classicLoadBalancerNames",
        "targetGroupARNs",
        "clusterDNS",
        "kubeletExtraConfig",
        "containerRuntime",
        "maxInstanceLifetime",
        "localZones",
        "enclaveEnabled",
    },
}


# ---------------------------------------------------------------------------------------------
# Strict decoding: the first unknown field or type mismatch, in the order Go's encoding/json
# meets them (sigs.k8s.io/yaml turns YAML into JSON with sorted keys first).

_JSON_KIND = {str: "string", bool: "bool", int: "number", float: "number", list: "array", dict: "object"}


class _Strict:
    def __init__(self, schema):
        self.defs = schema.get("definitions", {})

    def resolve(self, node):
        name = None
        while isinstance(node, dict) and "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            node = self.defs.get(name, {})
        return name, node

    def go_type(self, node) -> str:
        name, node = self.resolve(node)
        if name and ("properties" in node or "oneOf" in node):
            return "v1alpha5." + name
        if name and "|" in name:
            return name.rsplit("|", 1)[-1]
        kind = node.get("type")
        if kind == "array":
            return "[]" + self.go_type(node.get("items", {}))
        if kind == "object":
            extra = node.get("additionalProperties")
            return "map[string]" + (self.go_type(extra) if isinstance(extra, dict) and extra else "interface {}")
        return {"string": "string", "boolean": "bool", "integer": "int", "number": "float64"}.get(kind, "interface {}")

    def check(self, value, node, path, struct):
        if value is None:
            return None
        name, node = self.resolve(node)
        if name == "taintsWrapper" and isinstance(value, dict):
            # eksctl still decodes the old map form (key: "value:Effect") that the schema omits.
            return None
        if "oneOf" in node:
            merged = {"properties": dict(node.get("properties", {})), "additionalProperties": False}
            for option in node["oneOf"]:
                merged["properties"].update(self.resolve(option)[1].get("properties", {}))
            node = merged
        kind = node.get("type")
        if "properties" in node and kind is None:
            kind = "object"
        if kind:
            problem = _type_problem(value, kind)
            if problem:
                return (
                    f"json: cannot unmarshal {problem} into Go struct field {struct}.{path} of type "
                    f"{self.go_type(node) if not name else self.go_type({'$ref': '#/definitions/' + name})}"
                )
        if isinstance(value, dict):
            props = node.get("properties")
            extra = node.get("additionalProperties")
            owner = name or struct
            for key in sorted(value):
                sub_path = f"{path}.{key}" if path else key
                if props is not None and key in props:
                    err = self.check(value[key], props[key], sub_path, owner)
                elif isinstance(extra, dict):
                    err = self.check(value[key], extra, sub_path, owner) if extra else None
                elif props is not None or extra is False:
                    err = f'error unmarshaling JSON: while decoding JSON: json: unknown field "{key}"'
                else:
                    err = None
                if err:
                    return err
        elif isinstance(value, list) and "items" in node:
            for item in value:
                err = self.check(item, node["items"], path, struct)
                if err:
                    return err
        return None


def _type_problem(value, kind):
    actual = _JSON_KIND.get(type(value), "object")
    if kind == "string" and not isinstance(value, str):
        return actual
    if kind == "boolean" and not isinstance(value, bool):
        return actual
    if kind in ("integer", "number") and (isinstance(value, bool) or not isinstance(value, (int, float))):
        return actual
    if kind == "integer" and isinstance(value, float) and not value.is_integer():
        return f"number {value}"
    if kind == "array" and not isinstance(value, list):
        return actual
    if kind == "object" and not isinstance(value, dict):
        return actual
    return None


def _fallback_check(doc):
    for key in sorted(doc):
        if key not in _FALLBACK_KEYS[""]:
            return f'error unmarshaling JSON: while decoding JSON: json: unknown field "{key}"'
    for section in ("metadata", "iam"):
        for key in sorted(doc.get(section) or {}):
            if key not in _FALLBACK_KEYS[section]:
                return f'error unmarshaling JSON: while decoding JSON: json: unknown field "{key}"'
    meta = doc.get("metadata") or {}
    for key in sorted(meta):
        problem = _type_problem(meta[key], "string") if key in ("name", "region", "version") else None
        if problem:
            return f"json: cannot unmarshal {problem} into Go struct field ClusterMeta.metadata.{key} of type string"
    for section in ("managedNodeGroups", "nodeGroups"):
        for ng in doc.get(section) or []:
            for key in sorted(ng or {}):
                if key not in _FALLBACK_KEYS[section]:
                    return f'error unmarshaling JSON: while decoding JSON: json: unknown field "{key}"'
    return None


def load(path: str) -> dict:
    """Read and strictly decode a ClusterConfig file (`-` is stdin) the way eksctl's loader does."""
    import yaml  # pylint: disable=import-outside-toplevel

    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
    except OSError as exc:
        raise EksctlError(f'reading config file "{path}": open {path}: {exc.strerror.lower()}') from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise EksctlError(
            f'loading config file "{path}": error converting YAML to JSON: yaml: {where}{getattr(exc, "problem", exc)}'
        ) from None
    if not isinstance(doc, dict):
        raise EksctlError(f'loading config file "{path}": couldn\'t get version/kind; json parse error')
    doc = json.loads(json.dumps(doc, default=str))  # YAML timestamps etc. become strings, as in JSON
    api_version, kind = doc.get("apiVersion", ""), doc.get("kind", "")
    if not kind:
        raise EksctlError(f"loading config file \"{path}\": Object 'Kind' is missing in '{json.dumps(doc)}'")
    if api_version != API_VERSION or kind != "ClusterConfig":
        raise EksctlError(
            f'loading config file "{path}": no kind "{kind}" is registered for version "{api_version}" in scheme '
            '"pkg/runtime/scheme.go:110"'
        )
    schema_file = schema_path()
    if schema_file:
        schema = json.loads(schema_file.read_text())
        problem = _Strict(schema).check(doc, schema, "", "ClusterConfig")
    else:
        problem = _fallback_check(doc)
    if problem:
        raise EksctlError(f'loading config file "{path}": {problem}')
    return doc


def require_metadata(cfg: dict) -> None:
    meta = cfg.get("metadata") or {}
    if not meta.get("name"):
        raise EksctlError("metadata.name must be set")
    if not meta.get("region"):
        raise EksctlError("metadata.region must be set")


# ---------------------------------------------------------------------------------------------
# Nodegroups


class NodeGroup:
    """One entry of nodeGroups[] (managed=False) or managedNodeGroups[] (managed=True), defaulted."""

    def __init__(self, spec: dict, managed: bool, cluster_version: str):
        self.spec = copy.deepcopy(spec)
        self.managed = managed
        self.name = spec.get("name", "")
        self.ami_family = spec.get("amiFamily") or catalog.DEFAULT_AMI_FAMILY
        types = spec.get("instanceTypes") or []
        self.instance_type = spec.get("instanceType") or (types[0] if types else "m5.large")
        self.instance_types = list(types) if types else [self.instance_type]
        self.labels = dict(spec.get("labels") or {})
        self.tags = dict(spec.get("tags") or {})
        self.taints = _taints(spec.get("taints"))
        self.volume_size = spec.get("volumeSize") or 80
        self.volume_type = spec.get("volumeType") or "gp3"
        self.private = bool(spec.get("privateNetworking"))
        self.version = cluster_version
        self.spot = bool(spec.get("spot"))
        self.role_name = ((spec.get("iam") or {}).get("instanceRoleName")) or None
        self.role_arn = ((spec.get("iam") or {}).get("instanceRoleARN")) or None
        self.extra_policies = list((spec.get("iam") or {}).get("attachPolicyARNs") or [])
        self.auto_messages = []
        self.min_size, self.max_size, self.desired = self._sizes(spec)

    def _sizes(self, spec):
        minimum, maximum, desired = spec.get("minSize"), spec.get("maxSize"), spec.get("desiredCapacity")
        if minimum is None:
            minimum = 2 if desired is None else desired
            if not self.managed:
                self.auto_messages.append(f"--nodes-min={minimum} was set automatically for nodegroup {self.name}")
        elif desired is not None and desired < minimum:
            raise EksctlError(f"cannot use --nodes-min={minimum} and --nodes={desired} at the same time")
        if maximum is None:
            maximum = minimum if desired is None else desired
            if maximum == 0:
                maximum = 1
            if not self.managed:
                self.auto_messages.append(f"--nodes-max={maximum} was set automatically for nodegroup {self.name}")
        elif desired is not None and desired > maximum:
            raise EksctlError(f"cannot use --nodes-max={maximum} and --nodes={desired} at the same time")
        elif maximum < minimum:
            raise EksctlError(f"cannot use --nodes-min={minimum} and --nodes-max={maximum} at the same time")
        if desired is None:
            desired = minimum
        return minimum, maximum, desired

    @property
    def kind(self) -> str:
        return "managed" if self.managed else "unmanaged"

    @property
    def ami_type(self) -> str:
        return catalog.ami_type(self.ami_family, self.instance_type)

    @property
    def nvidia(self) -> bool:
        return any(catalog.is_nvidia(t) for t in self.instance_types)

    def eks_taints(self):
        effects = {"NoSchedule": "NO_SCHEDULE", "PreferNoSchedule": "PREFER_NO_SCHEDULE", "NoExecute": "NO_EXECUTE"}
        return [dict(key=t["key"], value=t.get("value", ""), effect=effects[t["effect"]]) for t in self.taints]


def _taints(raw):
    """Both taint forms eksctl accepts, as a list of {key, value, effect} with Kubernetes effects."""
    valid = ("NoSchedule", "PreferNoSchedule", "NoExecute")
    taints = []
    if isinstance(raw, dict):
        for key in sorted(raw):
            value, _sep, effect = str(raw[key]).rpartition(":")
            taints.append({"key": key, "value": value, "effect": effect})
    else:
        for item in raw or []:
            taints.append(
                {"key": item.get("key", ""), "value": item.get("value", ""), "effect": item.get("effect", "")}
            )
    for taint in taints:
        if taint["effect"] not in valid:
            raise EksctlError(
                f'invalid taint effect: {taint["effect"]} for taint {taint["key"]}=:{taint["effect"]}, '
                f'supported effects: {", ".join(valid)}'
            )
    return taints


def nodegroups(cfg: dict, version: str) -> list[NodeGroup]:
    groups = [NodeGroup(ng, False, version) for ng in cfg.get("nodeGroups") or []]
    groups += [NodeGroup(ng, True, version) for ng in cfg.get("managedNodeGroups") or []]
    seen = set()
    for ng in groups:
        if not ng.name:
            raise EksctlError(
                "nodeGroups[0].name must be set" if not ng.managed else "managedNodeGroups[0].name must be set"
            )
        if ng.name in seen:
            raise EksctlError(f'nodegroup name "{ng.name}" must be unique')
        seen.add(ng.name)
        if ng.managed and ng.spec.get("instanceType") and ng.spec.get("instanceTypes"):
            raise EksctlError(
                f"only one of instanceType or instanceTypes can be specified (managedNodeGroups[{ng.name}])"
            )
    return groups


def describe_names(names) -> str:
    return ", ".join(names)


def plural(count: int, singular: str, many: str) -> str:
    return singular if count == 1 else many


class Filter:
    """--include / --exclude globs (pkg/ctl/cmdutils/filter)."""

    def __init__(self, include=None, exclude=None):
        self.include = [g for g in include or [] if g]
        self.exclude = [g for g in exclude or [] if g]

    def validate(self, names) -> None:
        for glob in self.include:
            if not any(fnmatch.fnmatchcase(n, glob) for n in names):
                raise EksctlError(f'no nodegroups match include glob filter specification: "{glob}"')
        for glob in self.exclude:
            if not any(fnmatch.fnmatchcase(n, glob) for n in names):
                raise EksctlError(f'no nodegroups match exclude glob filter specification: "{glob}"')

    def match(self, name: str) -> bool:
        if any(fnmatch.fnmatchcase(name, g) for g in self.exclude):
            return False
        if self.include:
            return any(fnmatch.fnmatchcase(name, g) for g in self.include)
        return True


def log_filter(log, included, excluded, what="nodegroup"):
    if included:
        log.info(
            "%d %s (%s) %s included (based on the include/exclude rules)",
            len(included),
            plural(len(included), what, what + "s"),
            ", ".join(included),
            plural(len(included), "was", "were"),
        )
    if excluded:
        log.info(
            "%d %s (%s) %s excluded (based on the include/exclude rules)",
            len(excluded),
            plural(len(excluded), what, what + "s"),
            ", ".join(excluded),
            plural(len(excluded), "was", "were"),
        )


# ---------------------------------------------------------------------------------------------
# Dry run: the defaulted ClusterConfig eksctl would use.


def defaulted(cfg: dict, zones: list[str], version: str) -> dict:
    out = copy.deepcopy(cfg)
    meta = out.setdefault("metadata", {})
    meta["version"] = version
    out.setdefault("kubernetesNetworkConfig", {}).setdefault("ipFamily", "IPv4")
    iam = out.setdefault("iam", {})
    iam.setdefault("vpcResourceControllerPolicy", True)
    iam.setdefault("withOIDC", False)
    out.setdefault("accessConfig", {}).setdefault("authenticationMode", "API_AND_CONFIG_MAP")
    vpc = out.setdefault("vpc", {})
    vpc.setdefault("autoAllocateIPv6", False)
    if not vpc.get("id"):
        vpc.setdefault("cidr", "192.168.0.0/16")
    vpc.setdefault("clusterEndpoints", {"privateAccess": False, "publicAccess": True})
    vpc.setdefault("manageSharedNodeSecurityGroupRules", True)
    vpc.setdefault("nat", {"gateway": "Single"})
    out.setdefault("privateCluster", {"enabled": False, "skipEndpointCreation": False})
    out.setdefault("cloudWatch", {"clusterLogging": {}})
    if not vpc.get("subnets"):
        out["availabilityZones"] = zones
    for key, managed in (("nodeGroups", False), ("managedNodeGroups", True)):
        for spec in out.get(key) or []:
            ng = NodeGroup(spec, managed, version)
            spec.setdefault("amiFamily", ng.ami_family)
            if not spec.get("instanceTypes"):
                spec.setdefault("instanceType", ng.instance_type)
            spec["desiredCapacity"], spec["minSize"], spec["maxSize"] = ng.desired, ng.min_size, ng.max_size
            spec.setdefault("volumeSize", 80)
            spec.setdefault("volumeType", "gp3")
            spec.setdefault("privateNetworking", False)
            spec.setdefault("disableIMDSv1", True)
            spec.setdefault("disablePodIMDS", False)
            spec.setdefault("ssh", {"allow": False})
            labels = spec.setdefault("labels", {})
            labels.setdefault("alpha.eksctl.io/cluster-name", meta.get("name"))
            labels.setdefault("alpha.eksctl.io/nodegroup-name", ng.name)
            spec.setdefault("tags", {})
            if managed:
                spec["tags"].setdefault("alpha.eksctl.io/nodegroup-name", ng.name)
                spec["tags"].setdefault("alpha.eksctl.io/nodegroup-type", "managed")
            addon = {
                k: False
                for k in (
                    "imageBuilder",
                    "autoScaler",
                    "externalDNS",
                    "certManager",
                    "appMesh",
                    "appMeshPreview",
                    "ebs",
                    "fsx",
                    "efs",
                    "awsLoadBalancerController",
                    "xRay",
                    "cloudWatch",
                )
            }
            ng_iam = spec.setdefault("iam", {})
            ng_iam["withAddonPolicies"] = {**addon, **(ng_iam.get("withAddonPolicies") or {})}
            spec.setdefault("securityGroups", {"withLocal": None, "withShared": None})
    return out
