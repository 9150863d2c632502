"""eksctl_iamserviceaccount: create once, update only when the attached policies differ, delete."""

from __future__ import annotations

import json

import pytest

from tests.unit.plugins.modules.eksctl_fixtures import NOT_FOUND, cluster_json

SA = {"cluster": "kf", "region": "us-west-2", "namespace": "kube-system", "name": "aws-load-balancer-controller"}


def irsa_json(role_arn, name="aws-load-balancer-controller", namespace="kube-system"):
    item = {
        "metadata": {"name": name, "namespace": namespace},
        "wellKnownPolicies": {
            "imageBuilder": False, "autoScaler": False, "awsLoadBalancerController": False, "externalDNS": False,
            "certManager": False, "ebsCSIController": False, "efsCSIController": False,
        },  # fmt: skip
        "status": {
            "roleARN": role_arn,
            "stackName": f"eksctl-kf-addon-iamserviceaccount-{namespace}-{name}",
            "tags": {"alpha.eksctl.io/eksctl-version": "0.230.0"},
            "capabilities": ["CAPABILITY_IAM"],
        },
    }
    return json.dumps([item], indent=4)


@pytest.fixture
def role(aws, client):
    iam = client("iam")
    iam.create_role(RoleName="eksctl-kf-addon-iamserviceaccount-Role1-X", AssumeRolePolicyDocument="{}")
    arns = []
    for name in ("alb", "extra"):
        doc = json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}]}
        )
        arns.append(iam.create_policy(PolicyName=name, PolicyDocument=doc)["Policy"]["Arn"])
    iam.attach_role_policy(RoleName="eksctl-kf-addon-iamserviceaccount-Role1-X", PolicyArn=arns[0])
    return {"arn": "arn:aws:iam::123456789012:role/eksctl-kf-addon-iamserviceaccount-Role1-X", "policies": arns}


def run_sa(run, eksctl, check_mode=False, **params):
    args = dict(SA, eksctl_path=eksctl.path)
    args.update(params)
    return run("eksctl_iamserviceaccount", args, check_mode=check_mode)


def args_of(result):
    return [cmd[1:] for cmd in result["commands"]]


POLICY = "arn:aws:iam::123456789012:policy/alb"


def test_create_when_missing(run, eksctl):
    eksctl.answer(["get", "cluster"], stdout=cluster_json())
    eksctl.answer(["get", "iamserviceaccount"], stdout="[]", once=True)
    eksctl.answer(["create", "iamserviceaccount"], stdout="created serviceaccount\n")
    eksctl.answer(["get", "iamserviceaccount"], stdout=irsa_json("arn:aws:iam::123456789012:role/r"))
    result = run_sa(run, eksctl, attach_policy_arns=[POLICY])
    assert result.changed
    assert args_of(result) == [
        ["create", "iamserviceaccount", "--cluster", "kf", "--region", "us-west-2", "--namespace", "kube-system",
         "--name", "aws-load-balancer-controller", "--attach-policy-arn", POLICY,
         "--override-existing-serviceaccounts", "--approve"]
    ]  # fmt: skip
    assert result["service_account"]["role_arn"] == "arn:aws:iam::123456789012:role/r"


def test_create_in_check_mode(run, eksctl):
    eksctl.answer(["get", "cluster"], stdout=cluster_json())
    eksctl.answer(["get", "iamserviceaccount"], stdout="[]")
    result = run_sa(run, eksctl, check_mode=True, attach_policy_arns=[POLICY], role_name="kf-alb")
    assert result.changed and args_of(result)[0][-4:] == [
        "--role-name",
        "kf-alb",
        "--override-existing-serviceaccounts",
        "--approve",
    ]
    assert not any(c[0] == "create" for c in eksctl.calls)


def test_in_line_changes_nothing(run, eksctl, role):
    eksctl.answer(["get", "cluster"], stdout=cluster_json())
    eksctl.answer(["get", "iamserviceaccount"], stdout=irsa_json(role["arn"]))
    result = run_sa(run, eksctl, attach_policy_arns=[role["policies"][0]])
    assert not result.changed and result["commands"] == []


def test_policy_change_updates(run, eksctl, role):
    eksctl.answer(["get", "cluster"], stdout=cluster_json())
    eksctl.answer(["get", "iamserviceaccount"], stdout=irsa_json(role["arn"]))
    eksctl.answer(["update", "iamserviceaccount"], stdout="updated\n")
    result = run_sa(run, eksctl, attach_policy_arns=role["policies"])
    assert result.changed
    assert args_of(result) == [
        ["update", "iamserviceaccount", "--cluster", "kf", "--region", "us-west-2", "--namespace", "kube-system",
         "--name", "aws-load-balancer-controller", "--attach-policy-arn", role["policies"][0],
         "--attach-policy-arn", role["policies"][1], "--approve"]
    ]  # fmt: skip


def test_role_name_cannot_change(run, eksctl, role):
    eksctl.answer(["get", "cluster"], stdout=cluster_json())
    eksctl.answer(["get", "iamserviceaccount"], stdout=irsa_json(role["arn"]))
    result = run_sa(run, eksctl, attach_policy_arns=[role["policies"][0]], role_name="other")
    assert result.failed and "role_name cannot change" in result["msg"]


def test_delete_and_again(run, eksctl):
    eksctl.answer(["get", "cluster"], stdout=cluster_json())
    eksctl.answer(["get", "iamserviceaccount"], stdout=irsa_json("arn:aws:iam::123456789012:role/r"), once=True)
    eksctl.answer(["delete", "iamserviceaccount"], stdout="deleted\n")
    eksctl.answer(["get", "iamserviceaccount"], stdout="[]")
    result = run_sa(run, eksctl, state="absent")
    assert result.changed
    assert args_of(result) == [
        ["delete", "iamserviceaccount", "--cluster", "kf", "--region", "us-west-2", "--namespace", "kube-system",
         "--name", "aws-load-balancer-controller", "--wait"]
    ]  # fmt: skip
    again = run_sa(run, eksctl, state="absent")
    assert not again.changed


def test_absent_when_cluster_is_gone(run, eksctl):
    eksctl.answer(["get", "cluster"], stderr=NOT_FOUND.format(name="kf"), rc=1)
    assert not run_sa(run, eksctl, state="absent").changed


@pytest.mark.parametrize(
    "params, message",
    [
        ({"attach_policy_arns": ["not-an-arn"]}, "not IAM policy ARNs"),
        ({"attach_policy_arns": []}, "at least one policy"),
        ({"attach_policy_arns": [POLICY], "namespace": "Kube_System"}, "not a valid Kubernetes name"),
        ({}, "attach_policy_arns"),
    ],
)
def test_bad_input(run, eksctl, params, message):
    result = run_sa(run, eksctl, **params)
    assert result.failed and message in result["msg"], result
    assert eksctl.calls == []
