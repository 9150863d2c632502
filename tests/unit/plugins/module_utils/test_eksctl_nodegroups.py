"""The one set of node group rules (module_utils/_eksctl/nodegroups.py) for the roles and eksctl_nodegroup."""

from __future__ import annotations

import pytest

from ansible_collections.kubeflow_ops.aws.plugins.module_utils._eksctl import nodegroups as ng

TAGS = {"kubeflow_ops:environment": "dev", "kubeflow_ops:cluster": "kf"}
TAINT = {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}
LABEL = {"key": "kubeflow-ops.io/accelerator", "value": "nvidia-gpu"}
CPU = {"name": "cpu", "instance_type": "m5.large", "min_size": 1, "max_size": 2}
GPU = {"name": "gpu-t4", "instance_type": "g4dn.xlarge", "min_size": 0, "max_size": 1}


def cpu(groups):
    return ng.inventory_node_groups(groups, "cpu", TAGS)


def gpu(groups, taint=None, label=None):
    return ng.inventory_node_groups(groups, "gpu", TAGS, taint=taint or TAINT, label=label or LABEL)


@pytest.mark.parametrize(
    "sizes, expected",
    [
        ({}, (2, 2, 2)),
        ({"desiredCapacity": 3}, (3, 3, 3)),
        ({"minSize": 1}, (1, 1, 1)),
        ({"minSize": 1, "maxSize": 4}, (1, 4, 1)),
        ({"desiredCapacity": 5, "maxSize": 2}, (2, 2, 5)),
        ({"minSize": 0, "maxSize": 1, "desiredCapacity": 0}, (0, 1, 0)),
    ],
)
def test_eksctl_size_defaults(sizes, expected):
    assert ng.desired_sizes(sizes) == expected


@pytest.mark.parametrize(
    "groups, message",
    [
        ("cpu", "must be a list of node groups"),
        ({"name": "cpu"}, "must be a list of node groups"),
        (["cpu"], "item 1 is not a mapping"),
        ([dict(CPU, min_size=3, max_size=1)], "cpu: min_size 3 is greater than max_size 1"),
        ([dict(CPU, desired_capacity=5)], "cpu: desired_capacity 5 must lie between min_size 1 and max_size 2"),
        ([dict(CPU, min_size=-1)], "cpu: min_size must be a whole number >= 0 (got -1)"),
        ([dict(CPU, min_size=True)], "cpu: min_size must be a whole number >= 0 (got True)"),
        ([dict(CPU, desired_capacty=2)], "cpu: unknown settings desired_capacty (allowed: name, instance_type,"),
        ([CPU, CPU], "cpu: listed twice"),
        ([dict(CPU, name="cpu_1")], "cpu_1: name must start with a letter and use up to 63 letters, digits and -"),
        ([{"instance_type": "m5.large"}], "(no name): name must start with a letter"),
        ([dict(CPU, name="gpu-a")], "gpu-a: names starting with gpu- belong to the gpu_nodes role"),
        ([dict(CPU, instance_type="m5")], "cpu: instance_type m5 is not an EC2 instance type such as m5.xlarge"),
        ([dict(CPU, volume_size=0)], "cpu: volume_size must be a whole number of GiB"),
        ([dict(CPU, ami_family="Windows")], "cpu: ami_family Windows is not one of AmazonLinux2023, AmazonLinux2"),
        ([dict(CPU, labels=["a"])], "cpu: labels must be a mapping"),
        ([dict(CPU, labels={"gpu": True})], "cpu: label gpu=True is not a valid Kubernetes label"),
        ([dict(CPU, labels={"bad key": "x"})], "cpu: label bad key=x is not a valid Kubernetes label"),
        ([dict(CPU, tags=["a"])], "cpu: tags must be a mapping"),
        ([dict(CPU, taints={"team": "a:NoSchedule"})], "cpu: taints must be a list of {key, value, effect}"),
        ([dict(CPU, taints=[{"value": "a"}])], "cpu: taint {'value': 'a'} needs a valid key"),
        ([dict(CPU, taints=[{"key": "team", "effect": "NoWay"}])], "cpu: taint team has effect NoWay; use one of"),
        ([dict(CPU, taints=[{"key": "team"}])], "cpu: taint team has effect (none)"),
    ],
)
def test_cpu_problems(groups, message):
    result = cpu(groups)
    assert any(message in p for p in result["problems"]), result["problems"]
    assert result["node_groups"] == []


def test_cpu_rendering():
    group = dict(CPU, desired_capacity=1, labels={"team": "a"}, tags={"team": "a"}, volume_size=80)
    (rendered,) = cpu([group, dict(CPU, name="other")])["node_groups"][:1]
    assert rendered == {
        "name": "cpu",
        "instanceType": "m5.large",
        "amiFamily": "AmazonLinux2023",
        "propagateASGTags": True,
        "tags": dict(TAGS, team="a"),
        "minSize": 1,
        "maxSize": 2,
        "desiredCapacity": 1,
        "volumeSize": 80,
        "labels": {"team": "a"},
    }
    assert cpu([CPU])["problems"] == [] and cpu([])["node_groups"] == []


@pytest.mark.parametrize(
    "group, message",
    [
        (dict(GPU, instance_type="m5.xlarge"), "m5.xlarge has no NVIDIA GPU; GPU node groups need one of the families"),
        (dict(GPU, instance_type="g4ad.xlarge"), "has AMD Radeon GPUs, not NVIDIA GPUs"),
        (dict(GPU, instance_type="g4dn"), "instance_type g4dn is not an EC2 instance type such as g4dn.xlarge"),
        (dict(GPU, name="t4"), "t4: GPU node group names must start with gpu-"),
        (dict(GPU, taints=[dict(TAINT, value="x")]), "the nvidia.com/gpu taint is set by the role (gpu_nodes_taint)"),
        (
            dict(GPU, instance_type="p5.4xlarge"),
            "the role does not know how many GPUs p5.4xlarge has; set gpus_per_node",
        ),
        (dict(GPU, gpus_per_node=0), "gpus_per_node must be a whole number >= 1"),
        (dict(GPU, ami_family="Ubuntu2204"), "ami_family Ubuntu2204 has no EKS GPU image; use one of AmazonLinux2023"),
        (dict(GPU, spot=True), "unknown settings spot"),
    ],
)
def test_gpu_problems(group, message):
    result = gpu([group])
    assert any(message in p for p in result["problems"]), result["problems"]
    assert result["node_groups"] == [] and result["expected"] == []


def test_gpu_settings_of_the_role():
    assert gpu([GPU])["setting_problems"] == []
    bad = gpu([GPU], taint={"key": "nvidia.com/gpu", "effect": "Never"}, label={"key": "bad key", "value": "x"})
    assert bad["setting_problems"] == [
        "gpu_nodes_taint needs a key and an effect out of NoSchedule, PreferNoSchedule, NoExecute",
        "gpu_nodes_label needs a Kubernetes label key and a string value",
    ]
    assert bad["node_groups"] == []


def test_gpu_rendering_and_expectations():
    a10 = {
        "name": "gpu-a10",
        "instance_type": "g5.12xlarge",
        "min_size": 0,
        "max_size": 2,
        "desired_capacity": 0,
        "labels": {"team": "vision"},
        "taints": [{"key": "team", "value": "vision", "effect": "NoSchedule"}],
        "tags": {"owner": "ml"},
    }
    result = gpu([GPU, a10, dict(GPU, name="gpu-x", instance_type="p5.4xlarge", gpus_per_node=2, desired_capacity=1)])
    assert result["problems"] == []
    t4, rendered, custom = result["node_groups"]
    ca = ng.AUTOSCALER_TAG_PREFIX
    assert t4["labels"] == {LABEL["key"]: LABEL["value"]} and t4["taints"] == [TAINT]
    assert t4["tags"][ca + "resources/nvidia.com/gpu"] == "1"
    assert rendered["labels"] == {"team": "vision", LABEL["key"]: LABEL["value"]}
    assert rendered["taints"] == [TAINT, a10["taints"][0]]
    assert rendered["tags"] == dict(
        TAGS,
        owner="ml",
        **{
            ca + "resources/nvidia.com/gpu": "4",
            ca + "label/team": "vision",
            ca + "label/" + LABEL["key"]: LABEL["value"],
            ca + "taint/nvidia.com/gpu": "true:NoSchedule",
            ca + "taint/team": "vision:NoSchedule",
        },
    )
    assert rendered["desiredCapacity"] == 0 and rendered["amiFamily"] == "AmazonLinux2023"
    assert custom["tags"][ca + "resources/nvidia.com/gpu"] == "2"
    assert result["expected"] == [
        {"name": "gpu-t4", "nodes": 0, "gpus": 1},
        {"name": "gpu-a10", "nodes": 0, "gpus": 4},
        {"name": "gpu-x", "nodes": 1, "gpus": 2},
    ]
    assert gpu([{"name": "gpu-y", "instance_type": "g6.xlarge"}])["expected"] == [
        {"name": "gpu-y", "nodes": 2, "gpus": 1}
    ]


def test_a_group_s_own_tags_win():
    (rendered,) = cpu([dict(CPU, tags={"kubeflow_ops:environment": "other"})])["node_groups"]
    assert rendered["tags"]["kubeflow_ops:environment"] == "other"


def test_cluster_config_groups_use_eksctl_names():
    config = {
        "managedNodeGroups": [{"name": "cpu", "instanceType": "m5.xlarge", "minSize": 5, "maxSize": 2}],
        "nodeGroups": [{"name": "cpu", "taints": {"team": "a:NoWay"}}],
    }
    assert ng.config_problems(config) == [
        "nodeGroups: cpu: taint team has effect NoWay; use one of NoSchedule, PreferNoSchedule, NoExecute",
        "managedNodeGroups: cpu: listed twice",
        "managedNodeGroups: cpu: minSize 5 is greater than maxSize 2",
    ]
    managed_map = {"managedNodeGroups": [{"name": "cpu", "taints": {"team": "a:NoSchedule"}}]}
    assert ng.config_problems(managed_map) == ["managedNodeGroups: cpu: taints must be a list of {key, value, effect}"]
    assert ng.config_problems({"nodeGroups": [{"name": "cpu", "taints": {"team": "a:NoSchedule"}}]}) == []


def test_config_groups_summaries():
    config = {
        "nodeGroups": [{"name": "self", "instanceType": "m5.large", "desiredCapacity": 3}],
        "managedNodeGroups": [{"name": "spot", "instanceTypes": ["m5.large", "m5a.large"], "minSize": 1}],
    }
    assert ng.config_groups(config) == {
        "self": {"name": "self", "type": "unmanaged", "min_size": 3, "max_size": 3, "desired_capacity": 3,
                 "instance_type": "m5.large"},
        "spot": {"name": "spot", "type": "managed", "min_size": 1, "max_size": 1, "desired_capacity": 1,
                 "instance_type": "m5.large,m5a.large"},
    }  # fmt: skip
