"""eksctl_nodegroup: create missing groups together, scale changed ones, prune only when asked."""

from __future__ import annotations

import pytest

from tests.unit.plugins.modules.eksctl_fixtures import nodegroup_json

BASE = {"apiVersion": "eksctl.io/v1alpha5", "kind": "ClusterConfig", "metadata": {"name": "kf", "region": "us-west-2"}}
CPU = {"name": "cpu", "instanceType": "m5.xlarge", "minSize": 1, "maxSize": 4, "desiredCapacity": 2}
GPU = {
    "name": "gpu",
    "instanceType": "g5.xlarge",
    "minSize": 0,
    "maxSize": 2,
    "desiredCapacity": 1,
    "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}],
}


def cfg(*groups, unmanaged=()):
    config = dict(BASE, managedNodeGroups=[dict(g) for g in groups])
    if unmanaged:
        config["nodeGroups"] = [dict(g) for g in unmanaged]
    return config


def run_ng(run, eksctl, config, check_mode=False, **params):
    params.update(config=config, eksctl_path=eksctl.path)
    return run("eksctl_nodegroup", params, check_mode=check_mode, diff=True)


def args_of(result):
    return [cmd[1:] for cmd in result["commands"]]


def existing(*groups):
    return nodegroup_json(*groups)


def test_missing_groups_are_created_in_one_call(run, eksctl):
    eksctl.answer(["get", "nodegroup"], stdout="[]", once=True)
    eksctl.answer(["create", "nodegroup"], stdout="created 2 managed nodegroup(s)\n")
    eksctl.answer(
        ["get", "nodegroup"],
        stdout=existing(
            {"name": "cpu", "min": 1, "max": 4, "desired": 2},
            {"name": "gpu", "min": 0, "max": 2, "desired": 1, "instance_type": "g5.xlarge"},
        ),
    )
    result = run_ng(run, eksctl, cfg(CPU, GPU))
    assert result.changed and result["created"] == ["cpu", "gpu"]
    (create,) = args_of(result)
    assert create[:3] == ["create", "nodegroup", "-f"]
    assert create[4:] == ["--include=cpu,gpu", "--install-nvidia-plugin=false", "--timeout", "40m"]
    assert {g["name"]: g["desired_capacity"] for g in result["nodegroups"]} == {"cpu": 2, "gpu": 1}


def test_in_line_changes_nothing(run, eksctl):
    eksctl.answer(["get", "nodegroup"], stdout=existing({"name": "cpu", "min": 1, "max": 4, "desired": 2}))
    result = run_ng(run, eksctl, cfg(CPU))
    assert not result.changed and result["commands"] == []
    assert eksctl.calls == [["get", "nodegroup", "--cluster", "kf", "--region", "us-west-2", "-o", "json"]]


def test_size_change_is_exactly_one_scale(run, eksctl):
    eksctl.answer(
        ["get", "nodegroup"],
        stdout=existing(
            {"name": "cpu", "min": 1, "max": 4, "desired": 2},
            {"name": "gpu", "min": 0, "max": 2, "desired": 1, "instance_type": "g5.xlarge"},
        ),
    )
    eksctl.answer(["scale", "nodegroup"], stdout="initiated scaling of nodegroup\n")
    result = run_ng(run, eksctl, cfg(dict(CPU, desiredCapacity=3), GPU))
    assert result.changed and result["scaled"] == ["cpu"]
    assert args_of(result) == [
        [
            "scale",
            "nodegroup",
            "--cluster",
            "kf",
            "--region",
            "us-west-2",
            "--name",
            "cpu",
            "--nodes",
            "3",
            "--nodes-min",
            "1",
            "--nodes-max",
            "4",
        ]
    ]
    assert result["diff"]["after"]["cpu"]["desired_capacity"] == 3


def test_scale_in_check_mode_runs_nothing(run, eksctl):
    eksctl.answer(["get", "nodegroup"], stdout=existing({"name": "cpu", "min": 1, "max": 4, "desired": 2}))
    result = run_ng(run, eksctl, cfg(dict(CPU, maxSize=6)), check_mode=True)
    assert result.changed and args_of(result)[0][:2] == ["scale", "nodegroup"]
    assert [c[0] for c in eksctl.calls] == ["get"]


def test_unlisted_group_is_kept_with_a_warning(run, eksctl):
    eksctl.answer(
        ["get", "nodegroup"],
        stdout=existing(
            {"name": "cpu", "min": 1, "max": 4, "desired": 2}, {"name": "old", "min": 1, "max": 1, "desired": 1}
        ),
    )
    result = run_ng(run, eksctl, cfg(CPU))
    assert not result.changed and result["unlisted"] == ["old"] and result["deleted"] == []
    warnings = str(result.get("warnings"))
    assert "nodegroups old" not in warnings and "node groups old of cluster kf" in warnings and "prune" in warnings


def test_prune_drains_and_deletes(run, eksctl):
    eksctl.answer(
        ["get", "nodegroup"],
        stdout=existing(
            {"name": "cpu", "min": 1, "max": 4, "desired": 2}, {"name": "old", "min": 1, "max": 1, "desired": 1}
        ),
        once=True,
    )
    eksctl.answer(["delete", "nodegroup"], stdout='deleted 1 nodegroup(s) from cluster "kf"\n')
    eksctl.answer(["get", "nodegroup"], stdout=existing({"name": "cpu", "min": 1, "max": 4, "desired": 2}))
    result = run_ng(run, eksctl, cfg(CPU), prune=True)
    assert result.changed and result["deleted"] == ["old"]
    assert args_of(result) == [
        [
            "delete",
            "nodegroup",
            "--cluster",
            "kf",
            "--region",
            "us-west-2",
            "--name",
            "old",
            "--drain",
            "--wait",
            "--timeout",
            "40m",
        ]
    ]


def test_prune_without_drain(run, eksctl):
    eksctl.answer(["get", "nodegroup"], stdout=existing({"name": "old", "min": 1, "max": 1, "desired": 1}))
    result = run_ng(run, eksctl, cfg(), prune=True, drain=False, check_mode=True)
    assert args_of(result)[0][8] == "--drain=false"


def test_eksctl_size_defaults_are_understood(run, eksctl):
    # minSize defaults to desiredCapacity, maxSize to desiredCapacity: a group given only a desired
    # capacity of 3 that runs 3/3/3 is in line.
    eksctl.answer(["get", "nodegroup"], stdout=existing({"name": "cpu", "min": 3, "max": 3, "desired": 3}))
    result = run_ng(run, eksctl, cfg({"name": "cpu", "instanceType": "m5.xlarge", "desiredCapacity": 3}))
    assert not result.changed, result


def test_self_managed_groups_and_gpu_plugin_flag(run, eksctl):
    eksctl.answer(["get", "nodegroup"], stdout="[]")
    result = run_ng(run, eksctl, cfg(unmanaged=[CPU]), check_mode=True, install_nvidia_plugin=True)
    assert args_of(result)[0][4:6] == ["--include=cpu", "--install-nvidia-plugin=true"]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"instanceType": "m5.2xlarge"}, "instance type m5.2xlarge cannot be set in place"),
    ],
)
def test_immutable_fields_fail_before_acting(run, eksctl, change, message):
    eksctl.answer(["get", "nodegroup"], stdout=existing({"name": "cpu", "min": 1, "max": 4, "desired": 2}))
    result = run_ng(run, eksctl, cfg(dict(CPU, **change)))
    assert result.failed and message in result["msg"]
    assert [c[0] for c in eksctl.calls] == ["get"]


def test_kind_change_fails(run, eksctl):
    eksctl.answer(
        ["get", "nodegroup"], stdout=existing({"name": "cpu", "min": 1, "max": 4, "desired": 2, "type": "unmanaged"})
    )
    result = run_ng(run, eksctl, cfg(CPU))
    assert result.failed and "is unmanaged in the cluster but managed in the config" in result["msg"]


@pytest.mark.parametrize(
    "group, message",
    [
        (dict(CPU, minSize=5, maxSize=2), "minSize 5 is greater than maxSize 2"),
        (dict(CPU, desiredCapacity=9), "desiredCapacity 9 must lie between"),
        (dict(CPU, minSize=-1), "must be a whole number >= 0"),
        (dict(GPU, taints=[{"key": "nvidia.com/gpu", "value": "true", "effect": "NoWay"}]), "has effect NoWay"),
        (dict(CPU, name="9cpu"), "must start with a letter"),
        (dict(CPU, name="cpu_1"), "must start with a letter"),
    ],
)
def test_bad_groups_fail_before_eksctl_runs(run, eksctl, group, message):
    result = run_ng(run, eksctl, cfg(group))
    assert result.failed and message in result["msg"], result
    assert eksctl.calls == []


def test_duplicate_group_names(run, eksctl):
    result = run_ng(run, eksctl, cfg(CPU, unmanaged=[CPU]))
    assert result.failed and "listed twice" in result["msg"]
    assert eksctl.calls == []


def test_groups_outside_the_scope_are_left_alone(run, eksctl):
    eksctl.answer(
        ["get", "nodegroup"],
        stdout=existing(
            {"name": "cpu", "min": 1, "max": 4, "desired": 2},
            {"name": "gpu-a", "min": 0, "max": 1, "desired": 0, "instance_type": "g5.xlarge"},
        ),
    )
    result = run_ng(run, eksctl, cfg(CPU), prune=True, exclude=["gpu-*"])
    assert not result.changed and result["unlisted"] == [] and [g["name"] for g in result["nodegroups"]] == ["cpu"]
    gpu_only = run_ng(
        run, eksctl, cfg(dict(GPU, name="gpu-a", maxSize=1, desiredCapacity=0)), prune=True, include=["gpu-*"]
    )
    assert not gpu_only.failed, gpu_only["msg"]
    assert not gpu_only.changed and [g["name"] for g in gpu_only["nodegroups"]] == ["gpu-a"]


def test_config_groups_outside_the_scope_are_an_error(run, eksctl):
    result = run_ng(run, eksctl, cfg(CPU), include=["gpu-*"])
    assert result.failed and "outside include/exclude" in result["msg"]
    assert eksctl.calls == []
