# -*- coding: utf-8 -*-
# Copyright: kubeflow_ops.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Node groups: what a list of them may say, and how an inventory's list becomes eksctl's (collection-private).

One set of checks serves the three places that read node groups: the cluster role (CPU groups of the
inventory, snake_case keys), the gpu_nodes role (GPU groups) and the eksctl_nodegroup module (the
C(nodeGroups) / C(managedNodeGroups) of a ClusterConfig, camelCase keys). Each place names the fields in
its own words, so every message speaks the user's vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ansible_collections.kubeflow_ops.aws.plugins.module_utils._names import (
    INSTANCE_TYPE_RE,
    LABEL_KEY_RE,
    LABEL_VALUE_RE,
    NODE_GROUP_NAME_RE,
)

TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
AMI_FAMILIES = ("AmazonLinux2023", "AmazonLinux2", "Bottlerocket", "BottlerocketFips", "Ubuntu2204", "Ubuntu2404")
DEFAULT_AMI_FAMILY = "AmazonLinux2023"
# eksctl's default size of a group that gives neither minSize nor desiredCapacity.
DEFAULT_NODE_COUNT = 2

# The same fields in an inventory (roles) and in a ClusterConfig (eksctl).
INVENTORY_FIELDS = dict(
    name="name",
    instance_type="instance_type",
    min_size="min_size",
    max_size="max_size",
    desired_capacity="desired_capacity",
    volume_size="volume_size",
    ami_family="ami_family",
    labels="labels",
    taints="taints",
    tags="tags",
    private_networking="private_networking",
    availability_zones="availability_zones",
)
CLUSTER_CONFIG_FIELDS = dict(
    name="name",
    instance_type="instanceType",
    min_size="minSize",
    max_size="maxSize",
    desired_capacity="desiredCapacity",
    volume_size="volumeSize",
    ami_family="amiFamily",
    labels="labels",
    taints="taints",
    tags="tags",
    private_networking="privateNetworking",
    availability_zones="availabilityZones",
)
SIZE_FIELDS = ("min_size", "max_size", "desired_capacity")
# Fields an inventory group hands to eksctl as they are (the rest is rendered by the role's rules).
COPIED_FIELDS = SIZE_FIELDS + ("volume_size", "private_networking", "availability_zones")

# GPU node groups (the gpu_nodes role).
GPU_NAME_RE = re.compile(r"^gpu-[-a-zA-Z0-9]{1,59}$")
GPU_GROUP_PREFIX = "gpu-"
# EC2 instance families with NVIDIA GPUs that EKS GPU AMIs support.
NVIDIA_FAMILIES = ("p3", "p3dn", "p4d", "p4de", "p5", "p5e", "p5en", "g4dn", "g5", "g5g", "g6", "g6e")
# GPU-like families that are not NVIDIA (the NVIDIA device plugin does nothing there).
OTHER_ACCELERATORS = {
    "g4ad": "AMD Radeon GPUs",
    "inf1": "AWS Inferentia (Neuron)",
    "inf2": "AWS Inferentia2 (Neuron)",
    "trn1": "AWS Trainium (Neuron)",
    "trn1n": "AWS Trainium (Neuron)",
    "trn2": "AWS Trainium2 (Neuron)",
}
# GPUs per node, for the cluster autoscaler's scale-from-zero template. Sizes not listed of the families in
# SINGLE_GPU_FAMILIES have one GPU; other types need gpus_per_node in the node group.
GPUS_PER_TYPE = {
    "p3.2xlarge": 1,
    "p3.8xlarge": 4,
    "p3.16xlarge": 8,
    "p3dn.24xlarge": 8,
    "p4d.24xlarge": 8,
    "p4de.24xlarge": 8,
    "p5.48xlarge": 8,
    "p5e.48xlarge": 8,
    "p5en.48xlarge": 8,
    "g4dn.12xlarge": 4,
    "g4dn.metal": 8,
    "g5.12xlarge": 4,
    "g5.24xlarge": 4,
    "g5.48xlarge": 8,
    "g5g.16xlarge": 2,
    "g5g.metal": 2,
    "g6.12xlarge": 4,
    "g6.24xlarge": 4,
    "g6.48xlarge": 8,
    "g6e.12xlarge": 4,
    "g6e.24xlarge": 4,
    "g6e.48xlarge": 8,
}
SINGLE_GPU_FAMILIES = ("g4dn", "g5", "g5g", "g6", "g6e")
# AMI families with EKS GPU images (NVIDIA driver and container toolkit included).
GPU_AMI_FAMILIES = ("AmazonLinux2023", "AmazonLinux2", "Bottlerocket")
# Where the cluster autoscaler reads a node group's template from (scale from zero).
AUTOSCALER_TAG_PREFIX = "k8s.io/cluster-autoscaler/node-template/"


def is_whole(value):
    return isinstance(value, int) and not isinstance(value, bool)


def desired_sizes(group, fields=None):
    """(min, max, desired) with eksctl's defaults: min = desired or 2, max = desired or min, desired = min."""
    fields = fields or CLUSTER_CONFIG_FIELDS
    desired = group.get(fields["desired_capacity"])
    minimum = group.get(fields["min_size"])
    maximum = group.get(fields["max_size"])
    if minimum is None:
        minimum = desired if desired is not None else DEFAULT_NODE_COUNT
        if desired is not None and maximum is not None and maximum < minimum:
            minimum = maximum
    if maximum is None:
        maximum = max(desired if desired is not None else minimum, minimum)
    if desired is None:
        desired = minimum
    return int(minimum), int(maximum), int(desired)


def gpus_per_node(group):
    """GPUs of one node of the group: gpus_per_node, else what the role knows of its type, else None."""
    if "gpus_per_node" in group:
        return group["gpus_per_node"]
    itype = group.get("instance_type")
    if not isinstance(itype, str):
        return None
    if itype in GPUS_PER_TYPE:
        return GPUS_PER_TYPE[itype]
    return 1 if itype.split(".")[0] in SINGLE_GPU_FAMILIES else None


class NodeGroupRules:
    """The checks every node group gets; a subclass says which fields exist and what a role adds.

    `problems(groups)` returns every problem as "<group>: <what is wrong>", in the words of `fields`.
    """

    fields = CLUSTER_CONFIG_FIELDS
    # Keys a group may have (None: any key; eksctl knows many more than the roles offer).
    allowed_keys = None
    name_re = NODE_GROUP_NAME_RE
    name_rule = "name must start with a letter and use up to 63 letters, digits and -"
    # AMI families offered, and what the message says of another one.
    ami_families = None
    ami_rule = "is not one of"
    taints_may_be_a_map = False
    reserved_taint_key = None

    def problems(self, groups, seen=None):
        if isinstance(groups, (str, Mapping)) or not isinstance(groups, (list, tuple)):
            return ["must be a list of node groups"]
        seen = set() if seen is None else seen
        out = []
        for index, group in enumerate(groups, start=1):
            if not isinstance(group, Mapping):
                out.append(f"item {index} is not a mapping")
                continue
            label = str(group.get("name", "(no name)"))
            out += [f"{label}: {problem}" for problem in self.group_problems(group, seen)]
        return out

    def field(self, key):
        return self.fields[key]

    def group_problems(self, group, seen):
        out = []
        if self.allowed_keys is not None:
            unknown = [key for key in group if key not in self.allowed_keys]
            if unknown:
                out.append(f"unknown settings {', '.join(map(str, unknown))} (allowed: {', '.join(self.allowed_keys)})")
        out += self.name_problems(group, seen)
        out += self.instance_type_problems(group)
        out += self.size_problems(group)
        out += self.volume_problems(group)
        out += self.ami_problems(group)
        out += self.label_problems(group)
        if "tags" in group and not isinstance(group["tags"], Mapping):
            out.append("tags must be a mapping")
        out += self.taint_problems(group)
        return out

    def name_problems(self, group, seen):
        name = group.get("name")
        out = []
        if not isinstance(name, str) or not self.name_re.match(name):
            out.append(self.name_rule)
        elif name in seen:
            out.append("listed twice")
        else:
            out += self.reserved_name_problems(name)
        seen.add(name if isinstance(name, str) else "")
        return out

    def reserved_name_problems(self, name):
        return []

    def instance_type_problems(self, group):
        return []

    def size_problems(self, group):
        out = []
        for key in SIZE_FIELDS:
            value = group.get(self.field(key))
            if value is not None and (not is_whole(value) or value < 0):
                out.append(f"{self.field(key)} must be a whole number >= 0 (got {value!r})")
        if out:
            return out
        minimum, maximum, desired = desired_sizes(group, self.fields)
        if minimum > maximum:
            return [f"{self.field('min_size')} {minimum} is greater than {self.field('max_size')} {maximum}"]
        if not minimum <= desired <= maximum:
            return [
                f"{self.field('desired_capacity')} {desired} must lie between {self.field('min_size')} {minimum} "
                f"and {self.field('max_size')} {maximum}"
            ]
        return []

    def volume_problems(self, group):
        key = self.field("volume_size")
        if key in group and (not is_whole(group[key]) or group[key] < 1):
            return [f"{key} must be a whole number of GiB"]
        return []

    def ami_problems(self, group):
        key = self.field("ami_family")
        if self.ami_families is not None and key in group and group[key] not in self.ami_families:
            return [f"{key} {group[key]} {self.ami_rule} {', '.join(self.ami_families)}"]
        return []

    def label_problems(self, group):
        if "labels" not in group:
            return []
        labels = group["labels"]
        if not isinstance(labels, Mapping):
            return ["labels must be a mapping"]
        return [
            f"label {key}={value} is not a valid Kubernetes label (values are quoted strings)"
            for key, value in labels.items()
            if not (isinstance(key, str) and LABEL_KEY_RE.match(key))
            or not (isinstance(value, str) and LABEL_VALUE_RE.match(value))
        ]

    def taint_problems(self, group):
        if "taints" not in group:
            return []
        taints = group["taints"]
        if isinstance(taints, Mapping) and self.taints_may_be_a_map:
            taints = taints_as_list(taints)
        if isinstance(taints, (str, Mapping)) or not isinstance(taints, (list, tuple)):
            return ["taints must be a list of {key, value, effect}"]
        out = []
        for taint in taints:
            key = taint.get("key") if isinstance(taint, Mapping) else None
            if not (isinstance(key, str) and LABEL_KEY_RE.match(key)):
                out.append(f"taint {taint} needs a valid key")
            elif key == self.reserved_taint_key:
                out.append(f"the {key} taint is set by the role (gpu_nodes_taint); remove it from taints")
            elif taint.get("effect", "") not in TAINT_EFFECTS:
                out.append(
                    f"taint {key} has effect {taint.get('effect', '(none)')}; use one of {', '.join(TAINT_EFFECTS)}"
                )
        return out


def taints_as_list(taints):
    """eksctl's map form of self-managed groups' taints ({key: "value:Effect"}) as a list of {key, value, effect}."""
    return [
        {"key": k, "value": str(v).split(":", maxsplit=1)[0], "effect": str(v).rsplit(":", maxsplit=1)[-1]}
        for k, v in taints.items()
    ]


class ManagedNodeGroupRules(NodeGroupRules):
    """managedNodeGroups of a ClusterConfig."""


class SelfManagedNodeGroupRules(NodeGroupRules):
    """nodeGroups of a ClusterConfig (taints may also be eksctl's map form)."""

    taints_may_be_a_map = True


class InventoryNodeGroupRules(NodeGroupRules):
    """CPU node groups of an inventory (the cluster role); GPU groups belong to the gpu_nodes role."""

    fields = INVENTORY_FIELDS
    allowed_keys = tuple(INVENTORY_FIELDS)
    ami_families = AMI_FAMILIES
    default_ami_family = DEFAULT_AMI_FAMILY
    instance_type_example = "m5.xlarge"

    def reserved_name_problems(self, name):
        if name.startswith(GPU_GROUP_PREFIX):
            return [
                f"names starting with {GPU_GROUP_PREFIX} belong to the gpu_nodes role (kubeflow_ops_gpu_node_groups)"
            ]
        return []

    def instance_type_problems(self, group):
        itype = group.get("instance_type", "")
        if not isinstance(itype, str) or not INSTANCE_TYPE_RE.match(itype):
            return [f"instance_type {itype} is not an EC2 instance type such as {self.instance_type_example}"]
        return []

    # -- rendering ---------------------------------------------------------------------------
    def render(self, group, tags):
        """One inventory group as an eksctl managed node group."""
        out = {
            "name": group.get("name", ""),
            "instanceType": group.get("instance_type", ""),
            "amiFamily": group.get("ami_family", self.default_ami_family),
            "propagateASGTags": True,
            "tags": merged(tags, self.extra_tags(group), mapping_or_empty(group.get("tags"))),
        }
        for key in COPIED_FIELDS:
            if key in group:
                out[CLUSTER_CONFIG_FIELDS[key]] = group[key]
        out.update(self.rendered_labels_and_taints(group))
        return out

    def extra_tags(self, group):
        return {}

    def rendered_labels_and_taints(self, group):
        return {key: group[key] for key in ("labels", "taints") if key in group}

    def node_groups(self, groups, tags):
        if self.problems(groups):
            return []
        return [self.render(group, tags) for group in groups]


class GpuNodeGroupRules(InventoryNodeGroupRules):
    """GPU node groups of an inventory (the gpu_nodes role): NVIDIA types, the role's taint and label on every node."""

    allowed_keys = tuple(INVENTORY_FIELDS) + ("gpus_per_node",)
    name_re = GPU_NAME_RE
    name_rule = "GPU node group names must start with gpu- and use up to 63 letters, digits and -"
    ami_families = GPU_AMI_FAMILIES
    ami_rule = "has no EKS GPU image; use one of"
    instance_type_example = "g4dn.xlarge"

    def __init__(self, taint, label):
        self.taint = taint
        self.label = label
        self.reserved_taint_key = taint.get("key") if isinstance(taint, Mapping) else None

    def reserved_name_problems(self, name):
        return []

    def instance_type_problems(self, group):
        out = super().instance_type_problems(group)
        if out:
            return out
        itype = group["instance_type"]
        family = itype.split(".")[0]
        nvidia = ", ".join(NVIDIA_FAMILIES)
        if family in OTHER_ACCELERATORS:
            return [
                f"instance type {itype} has {OTHER_ACCELERATORS[family]}, not NVIDIA GPUs; use one of the families {nvidia}"
            ]
        if family not in NVIDIA_FAMILIES:
            return [
                f"instance type {itype} has no NVIDIA GPU; GPU node groups need one of the families {nvidia} "
                "(CPU node groups go in kubeflow_ops_node_groups)"
            ]
        if "gpus_per_node" not in group and gpus_per_node(group) is None:
            return [f"the role does not know how many GPUs {itype} has; set gpus_per_node"]
        return []

    def size_problems(self, group):
        out = []
        if "gpus_per_node" in group and (not is_whole(group["gpus_per_node"]) or group["gpus_per_node"] < 1):
            out.append("gpus_per_node must be a whole number >= 1")
        return out + super().size_problems(group)

    def setting_problems(self):
        """Problems of the role's own taint and label (gpu_nodes_taint, gpu_nodes_label)."""
        out = []
        taint = self.taint if isinstance(self.taint, Mapping) else {}
        if "key" not in taint or taint.get("effect", "") not in TAINT_EFFECTS:
            out.append(f"gpu_nodes_taint needs a key and an effect out of {', '.join(TAINT_EFFECTS)}")
        label = self.label if isinstance(self.label, Mapping) else {}
        key = label.get("key", "")
        if not (isinstance(key, str) and LABEL_KEY_RE.match(key)) or not isinstance(label.get("value", ""), str):
            out.append("gpu_nodes_label needs a Kubernetes label key and a string value")
        return out

    def labels_of(self, group):
        return dict(mapping_or_empty(group.get("labels")), **{self.label["key"]: self.label["value"]})

    def taints_of(self, group):
        return [self.taint] + list(group.get("taints") or [])

    def rendered_labels_and_taints(self, group):
        return {"labels": self.labels_of(group), "taints": self.taints_of(group)}

    def extra_tags(self, group):
        """The cluster autoscaler's node template: GPUs, labels and taints of a node it has not started yet."""
        tags = {AUTOSCALER_TAG_PREFIX + "resources/nvidia.com/gpu": str(gpus_per_node(group) or 1)}
        for key, value in self.labels_of(group).items():
            tags[AUTOSCALER_TAG_PREFIX + "label/" + key] = str(value)
        for taint in self.taints_of(group):
            if isinstance(taint, Mapping):
                tags[AUTOSCALER_TAG_PREFIX + "taint/" + str(taint.get("key", ""))] = (
                    f"{taint.get('value', '')}:{taint.get('effect', '')}"
                )
        return tags

    def expected(self, groups):
        """What the GPU check waits for: {name, nodes, gpus} per group (nodes: the desired capacity)."""
        if self.problems(groups):
            return []
        return [
            {"name": g["name"], "nodes": desired_sizes(g, INVENTORY_FIELDS)[2], "gpus": gpus_per_node(g) or 1}
            for g in groups
        ]


def mapping_or_empty(value):
    return dict(value) if isinstance(value, Mapping) else {}


def merged(*mappings):
    """The mappings combined left to right (later keys win), as Jinja's combine does."""
    out = {}
    for mapping in mappings:
        out.update(mapping)
    return out


def inventory_node_groups(groups, kind, tags, taint=None, label=None):
    """An inventory's node groups checked and rendered: {problems, node_groups} (+ expected, setting_problems for GPU)."""
    if kind == "gpu":
        rules = GpuNodeGroupRules(taint, label)
        setting_problems = rules.setting_problems()
        problems = rules.problems(groups)
        ok = not problems and not setting_problems
        return {
            "problems": problems,
            "setting_problems": setting_problems,
            "node_groups": rules.node_groups(groups, tags) if ok else [],
            "expected": rules.expected(groups) if ok else [],
        }
    rules = InventoryNodeGroupRules()
    return {"problems": rules.problems(groups), "node_groups": rules.node_groups(groups, tags)}


# -- a ClusterConfig's node groups (eksctl_nodegroup) -------------------------------------------
def config_problems(config):
    """Problems of the nodeGroups and managedNodeGroups of a ClusterConfig, as "<key>: <group>: <problem>"."""
    seen = set()
    out = []
    for key, rules in (("nodeGroups", SelfManagedNodeGroupRules()), ("managedNodeGroups", ManagedNodeGroupRules())):
        groups = config.get(key)
        if groups is None:
            continue
        out += [f"{key}: {problem}" for problem in rules.problems(groups, seen)]
    return out


def instance_type_of(group, managed):
    if group.get("instanceType"):
        return group["instanceType"]
    if managed and group.get("instanceTypes"):
        return ",".join(group["instanceTypes"])
    return None


def config_groups(config):
    """The node groups of a (checked) ClusterConfig by name, as eksctl_nodegroup compares them with the cluster."""
    groups = {}
    for key, managed in (("nodeGroups", False), ("managedNodeGroups", True)):
        for group in config.get(key) or []:
            minimum, maximum, desired = desired_sizes(group)
            groups[group["name"]] = {
                "name": group["name"],
                "type": "managed" if managed else "unmanaged",
                "min_size": minimum,
                "max_size": maximum,
                "desired_capacity": desired,
                "instance_type": instance_type_of(group, managed),
            }
    return groups
