"""eksctl_cluster: the exact eksctl argument lists of every path, against a scripted eksctl."""

from __future__ import annotations

import pytest

from tests.unit.plugins.modules.eksctl_fixtures import NOT_FOUND, cluster_json

CONFIG = {
    "apiVersion": "eksctl.io/v1alpha5",
    "kind": "ClusterConfig",
    "metadata": {"name": "kf", "region": "us-west-2", "version": "1.30"},
    "iam": {"withOIDC": True},
}


def args_of(result):
    return [cmd[1:] for cmd in result["commands"]]


def config(**meta):
    cfg = {k: (dict(v) if isinstance(v, dict) else v) for k, v in CONFIG.items()}
    cfg["metadata"].update(meta)
    return cfg


def run_cluster(run, eksctl, check_mode=False, **params):
    params.setdefault("config", CONFIG)
    params["eksctl_path"] = eksctl.path
    return run("eksctl_cluster", params, check_mode=check_mode, diff=True)


def test_create_when_absent(run, eksctl, tmp_path):
    eksctl.answer(["get", "cluster", "--name", "kf"], stderr=NOT_FOUND.format(name="kf"), rc=1, once=True)
    eksctl.answer(
        ["get", "cluster", "--all-regions"],
        stdout='[\n    {\n        "Name": "other",\n        "Region": "eu-west-1",\n        "Owned": "True"\n    }\n]',
    )
    eksctl.answer(
        ["create", "cluster"], stdout='2026-11-22 10:00:00 [✔]  EKS cluster "kf" in "us-west-2" region is ready\n'
    )
    eksctl.answer(["get", "cluster", "--name", "kf"], stdout=cluster_json())
    kubeconfig = str(tmp_path / "kubeconfig")
    result = run_cluster(run, eksctl, kubeconfig=kubeconfig)
    assert result.changed and not result.failed, result
    (create,) = args_of(result)
    assert create[:3] == ["create", "cluster", "-f"]
    assert create[4:] == ["--without-nodegroup", "--timeout", "40m", "--kubeconfig", kubeconfig]
    assert result["cluster"]["version"] == "1.30" and result["cluster"]["status"] == "ACTIVE"
    assert result["cluster"]["oidc_issuer"].startswith("https://oidc.eks.us-west-2")


def test_create_in_check_mode_runs_only_reads(run, eksctl):
    eksctl.answer(["get", "cluster", "--name", "kf"], stderr=NOT_FOUND.format(name="kf"), rc=1)
    eksctl.answer(["get", "cluster", "--all-regions"], stdout="[]")
    result = run_cluster(run, eksctl, check_mode=True)
    assert result.changed
    assert args_of(result)[0][:2] == ["create", "cluster"]
    assert args_of(result)[0][4:] == ["--without-nodegroup", "--timeout", "40m", "--write-kubeconfig=false"]
    assert [c[:2] for c in eksctl.calls] == [["get", "cluster"], ["get", "cluster"]]


def test_region_change_fails_before_eksctl_changes_anything(run, eksctl):
    eksctl.answer(["get", "cluster", "--name", "kf"], stderr=NOT_FOUND.format(name="kf"), rc=1)
    eksctl.answer(
        ["get", "cluster", "--all-regions"], stdout='[{"Name": "kf", "Region": "eu-west-1", "Owned": "True"}]'
    )
    result = run_cluster(run, eksctl)
    assert result.failed
    assert "already exists in region eu-west-1" in result["msg"] and "cannot change" in result["msg"]
    assert all(c[0] == "get" for c in eksctl.calls)


def test_existing_cluster_in_line_changes_nothing(run, eksctl):
    eksctl.answer(["get", "cluster", "--name", "kf"], stdout=cluster_json())
    eksctl.answer(
        ["utils", "associate-iam-oidc-provider"],
        stdout='2026-11-22 10:00:00 [ℹ]  IAM Open ID Connect provider is already associated with cluster "kf" in "us-west-2"\n',
    )
    result = run_cluster(run, eksctl)
    assert not result.changed and not result.failed, result
    assert result["commands"] == []
    assert ["utils", "associate-iam-oidc-provider", "--cluster", "kf", "--region", "us-west-2"] in eksctl.calls


def test_oidc_association_when_missing(run, eksctl):
    eksctl.answer(["get", "cluster", "--name", "kf"], stdout=cluster_json())
    eksctl.answer(
        ["utils", "associate-iam-oidc-provider", "--cluster", "kf", "--region", "us-west-2", "--approve"],
        stdout="created IAM Open ID Connect provider\n",
    )
    eksctl.answer(
        ["utils", "associate-iam-oidc-provider"],
        stdout='2026-11-22 10:00:00 [ℹ]  (plan) would create IAM Open ID Connect provider for cluster "kf"\n'
        "2026-11-22 10:00:00 [!]  no changes were applied, run again with '--approve' to apply the changes\n",
    )
    result = run_cluster(run, eksctl)
    assert result.changed
    assert args_of(result) == [
        ["utils", "associate-iam-oidc-provider", "--cluster", "kf", "--region", "us-west-2", "--approve"]
    ]


def test_upgrade_one_minor_version(run, eksctl):
    eksctl.answer(["get", "cluster", "--name", "kf"], stdout=cluster_json(version="1.30"), once=True)
    eksctl.answer(["get", "cluster", "--name", "kf"], stdout=cluster_json(version="1.31"))
    eksctl.answer(
        ["utils", "associate-iam-oidc-provider"], stdout="IAM Open ID Connect provider is already associated\n"
    )
    eksctl.answer(["upgrade", "cluster"], stdout='cluster "kf" control plane has been upgraded to version "1.31"\n')
    result = run_cluster(run, eksctl, config=config(version="1.31"))
    assert result.changed
    assert args_of(result) == [
        [
            "upgrade",
            "cluster",
            "--name",
            "kf",
            "--region",
            "us-west-2",
            "--version",
            "1.31",
            "--approve",
            "--timeout",
            "40m",
        ]
    ]
    assert result["diff"]["before"]["version"] == "1.30" and result["diff"]["after"]["version"] == "1.31"


def test_upgrade_in_check_mode_shows_the_command(run, eksctl):
    eksctl.answer(["get", "cluster", "--name", "kf"], stdout=cluster_json(version="1.30"))
    eksctl.answer(
        ["utils", "associate-iam-oidc-provider"], stdout="IAM Open ID Connect provider is already associated\n"
    )
    result = run_cluster(run, eksctl, config=config(version="1.31"), check_mode=True)
    assert result.changed and args_of(result)[0][:2] == ["upgrade", "cluster"]
    assert not any(c[0] == "upgrade" for c in eksctl.calls)
    assert result["cluster"]["version"] == "1.31"


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"config": config(version="1.32")}, "needs the steps 1.30 -> 1.31 -> 1.32"),
        ({"config": config(version="1.29")}, "downgrading to 1.29 is not supported"),
        ({"config": dict(config(), vpc={"id": "vpc-other"})}, "vpc.id vpc-other cannot be applied in place"),
    ],
)
def test_changes_eks_cannot_make_fail_before_acting(run, eksctl, overrides, message):
    eksctl.answer(["get", "cluster", "--name", "kf"], stdout=cluster_json(version="1.30"))
    result = run_cluster(run, eksctl, **overrides)
    assert result.failed and message in result["msg"], result
    assert all(c[0] == "get" for c in eksctl.calls)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"config": config(version="1.12")}, "is not a Kubernetes version EKS supports"),
        ({"config": config(version="one")}, "is not a Kubernetes minor version"),
        ({"config": dict(config(), metadata={"region": "us-west-2"})}, "metadata.name must be set"),
        ({"config": dict(config(), metadata={"name": "kf"})}, "metadata.region must be set"),
        ({"config": dict(config(), apiVersion="eksctl.io/v1alpha4")}, "apiVersion eksctl.io/v1alpha5"),
        ({"name": "other"}, "does not match metadata.name"),
        ({"region": "eu-west-1"}, "does not match metadata.region"),
        ({"config": None}, "config or config_file is required"),
    ],
)
def test_bad_input_fails_before_eksctl_runs(run, eksctl, params, message):
    result = run_cluster(run, eksctl, **params)
    assert result.failed and message in result["msg"], result
    assert eksctl.calls == []


def test_missing_binary_is_a_clear_error(run, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    result = run("eksctl_cluster", {"config": CONFIG})
    assert result.failed and "eksctl was not found on PATH" in result["msg"]


def test_eksctl_failure_reports_command_and_output(run, eksctl):
    eksctl.answer(["get", "cluster", "--name", "kf"], stderr=NOT_FOUND.format(name="kf"), rc=1)
    eksctl.answer(["get", "cluster", "--all-regions"], stdout="[]")
    eksctl.answer(
        ["create", "cluster"],
        stdout='2026-11-22 10:00:00 [✖]  creating CloudFormation stack "eksctl-kf-cluster": AlreadyExistsException\n',
        stderr='Error: failed to create cluster "kf"\n',
        rc=1,
    )
    result = run_cluster(run, eksctl)
    assert result.failed
    assert result["msg"].endswith('failed to create cluster "kf"')
    assert (
        result["rc"] == 1
        and "AlreadyExistsException" in result["stdout"]
        and result["cmd"][1:3] == ["create", "cluster"]
    )


def test_delete_and_delete_again(run, eksctl):
    eksctl.answer(["get", "cluster", "--name", "kf"], stdout=cluster_json(), once=True)
    eksctl.answer(["delete", "cluster"], stdout="all cluster resources were deleted\n")
    eksctl.answer(["get", "cluster", "--name", "kf"], stderr=NOT_FOUND.format(name="kf"), rc=1)
    params = {"name": "kf", "region": "us-west-2", "state": "absent", "config": None}
    result = run_cluster(run, eksctl, **params)
    assert result.changed
    assert args_of(result) == [
        ["delete", "cluster", "--name", "kf", "--region", "us-west-2", "--wait", "--timeout", "40m"]
    ]
    again = run_cluster(run, eksctl, **params)
    assert not again.changed and again["commands"] == []


def test_delete_in_check_mode(run, eksctl):
    eksctl.answer(["get", "cluster", "--name", "kf"], stdout=cluster_json())
    result = run_cluster(run, eksctl, check_mode=True, name="kf", region="us-west-2", state="absent", config=None)
    assert result.changed and args_of(result)[0][:2] == ["delete", "cluster"]
    assert not any(c[0] == "delete" for c in eksctl.calls)


def test_kubeconfig_written_once(run, eksctl, tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    # The fake eksctl does not write the file: emulate eksctl's merge with a file made by the test.
    eksctl.answer(["get", "cluster", "--name", "kf"], stdout=cluster_json())
    eksctl.answer(
        ["utils", "associate-iam-oidc-provider"], stdout="IAM Open ID Connect provider is already associated\n"
    )
    eksctl.answer(["utils", "write-kubeconfig"], stdout='saved kubeconfig as "x"\n')
    check = run_cluster(run, eksctl, kubeconfig=str(kubeconfig), check_mode=True)
    assert check.changed and args_of(check) == [
        ["utils", "write-kubeconfig", "--cluster", "kf", "--region", "us-west-2", "--kubeconfig", str(kubeconfig)]
    ]
    kubeconfig.write_text("clusters:\n- name: kf.us-west-2.eksctl.io\n  cluster: {server: https://x}\n")
    again = run_cluster(run, eksctl, kubeconfig=str(kubeconfig), check_mode=True)
    assert not again.changed
    real = run_cluster(run, eksctl, kubeconfig=str(kubeconfig))
    assert not real.changed  # eksctl ran, the file did not change


def test_busy_cluster_is_waited_for(run, eksctl, monkeypatch):
    import time as _time

    monkeypatch.setattr(_time, "sleep", lambda s: None)
    eksctl.answer(["get", "cluster", "--name", "kf"], stdout=cluster_json(status="CREATING"), once=True)
    eksctl.answer(["get", "cluster", "--name", "kf"], stdout=cluster_json(status="ACTIVE"))
    eksctl.answer(
        ["utils", "associate-iam-oidc-provider"], stdout="IAM Open ID Connect provider is already associated\n"
    )
    result = run_cluster(run, eksctl)
    assert not result.failed and not result.changed, result
    assert [c[:2] for c in eksctl.calls].count(["get", "cluster"]) == 2
