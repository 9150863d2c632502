"""The kfctl simulator (tests/sandbox/standins/bin/kfctl) run as a subprocess against the sandbox AWS and Kubernetes.

Checks the CLI contract (shared/reference/kfctl-cli-contract.md): flags, logrus/cobra output, exit codes and
error texts, the app directory kfctl leaves (rewritten KfDef, aws_config/, kustomize/), the objects applied to
the Kubernetes stand-in, IAM inline policies on the node roles, delete, and the kfctl module driving it.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
import yaml

from tests.unit.plugins.modules.kfctl_fixtures import CERT_ARN, CLIENT_ID, POOL_ARN, ROLE, app

REPO = Path(__file__).resolve().parents[3]
KFCTL = REPO / "tests" / "sandbox" / "standins" / "bin" / "kfctl"

KFDEF = {
    "apiVersion": "kfdef.apps.kubeflow.org/v1",
    "kind": "KfDef",
    "metadata": {"name": "kf", "namespace": "kubeflow"},
    "spec": {
        "version": "v1.0.2",
        "repos": [{"name": "manifests", "uri": "https://github.com/kubeflow/manifests/archive/v1.0.2.tar.gz"}],
        "applications": [
            app("istio-crds", "istio/istio-crds", namespace="istio-system"),
            app("istio-install", "istio/istio-install", namespace="istio-system"),
            app("istio", "istio/istio", clusterRbacConfig="ON"),
            app("profiles", "profiles", **{"userid-header": "kubeflow-userid"}),
            app("centraldashboard", "common/centraldashboard"),
            app("istio-ingress", "aws/istio-ingress", namespace="istio-system"),
            app("aws-alb-ingress-controller", "aws/aws-alb-ingress-controller", clusterName="kubeflow-aws"),
            app("nvidia-device-plugin", "aws/nvidia-device-plugin"),
        ],
        "plugins": [
            {
                "kind": "KfAwsPlugin",
                "metadata": {"name": "aws"},
                "spec": {
                    "region": "us-west-2",
                    "roles": [ROLE],
                    "auth": {
                        "cognito": {
                            "certArn": CERT_ARN,
                            "cognitoAppClientId": CLIENT_ID,
                            "cognitoUserPoolArn": POOL_ARN,
                            "cognitoUserPoolDomain": "auth.platform.example.com",
                        }
                    },
                },
            }
        ],
    },
}


@pytest.fixture
def sim(tmp_path, aws, kube, monkeypatch):
    """PATH with the simulators plus the `aws` and `aws-iam-authenticator` commands kfctl looks for."""
    tools = tmp_path / "tools"
    tools.mkdir()
    for name in ("aws", "aws-iam-authenticator"):
        (tools / name).write_text("#!/bin/sh\nexit 0\n")
        (tools / name).chmod(0o755)
    # kfctl only reads `eksctl version`; a one-line stand-in keeps these tests fast (managedCluster is off).
    (tools / "eksctl").write_text('#!/bin/sh\ntest "$1" = version && echo "${FAKE_EKSCTL_VERSION:-0.230.0}"\n')
    (tools / "eksctl").chmod(0o755)
    monkeypatch.setenv("PATH", os.pathsep.join([str(tools), str(KFCTL.parent), os.environ["PATH"]]))
    boto3.client("iam", region_name="us-west-2").create_role(
        RoleName=ROLE, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )
    app_dir = tmp_path / "kf"
    app_dir.mkdir()
    return app_dir


def kfctl(*args, cwd=None, env=None):
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([str(KFCTL), *args], capture_output=True, text=True, cwd=cwd, env=full_env, check=False)


def write(app_dir, data=None, name="kfctl_aws_cognito.yaml"):
    path = app_dir / name
    path.write_text(yaml.safe_dump(data or KFDEF))
    return str(path)


def plugin(data):
    return data["spec"]["plugins"][0]["spec"]


def params_of(kfdef, app_name):
    (application,) = [a for a in kfdef["spec"]["applications"] if a["name"] == app_name]
    return {p["name"]: p["value"] for p in application["kustomizeConfig"].get("parameters") or []}


def named(kube, kind, namespace=None):
    return {o["metadata"]["name"]: o for o in kube.objects(kind=kind, namespace=namespace)}


# -- process contract ---------------------------------------------------------------------------------
def test_version():
    assert kfctl("version").stdout == "kfctl v1.0.2-0-ga476281\n"
    assert kfctl("version", env={"KFCTL_SIM_VERSION": "v1.2.0"}).stdout == "kfctl v1.2.0-0-gbc038f9\n"


@pytest.mark.parametrize("command", ["build", "apply", "delete"])
def test_missing_file_flag_v10(command):
    done = kfctl(command)
    assert done.returncode == 1
    assert done.stdout == "Must pass in -f configFile\n"
    assert done.stderr.startswith("Error: Must pass in -f configFile\nUsage:\n")
    assert "-f, --file string" in done.stderr


def test_error_shape_v12():
    done = kfctl("apply", "--bogus", env={"KFCTL_SIM_VERSION": "v1.2.0"})
    assert done.returncode == 1
    assert done.stdout == "kfctl exited with error: unknown flag: --bogus"
    assert done.stderr.startswith("Error: unknown flag: --bogus\n") and "--context string" in done.stderr
    assert kfctl("build", "-x").stderr.startswith("Error: unknown shorthand flag: 'x' in -x\n")
    assert kfctl("build", "-f").stdout == "flag needs an argument: 'f' in -f\n"


def test_missing_file(tmp_path):
    done = kfctl("build", "-f", str(tmp_path / "nope.yaml"))
    assert done.returncode == 1
    assert (
        done.stdout
        == f"failed to build kfApp from URI {tmp_path / 'nope.yaml'}: open {tmp_path / 'nope.yaml'}: no such file or directory\n"
    )


@pytest.mark.parametrize(
    "change, message",
    [
        ({"kind": "Application"}, "Unsupported object kind: Application"),
        ({"kind": None}, "Cannot determine the object kind: Object 'Kind' is missing"),
        ({"apiVersion": "kfdef.apps.kubeflow.org/v1alpha1"}, "Kubeflow 0.6/0.7"),
    ],
)
def test_load_errors(tmp_path, change, message):
    data = dict(KFDEF, **change)
    done = kfctl("build", "-f", write(tmp_path, {k: v for k, v in data.items() if v is not None}))
    assert done.returncode == 1 and message in done.stdout


def test_cognito_field_required(sim):
    data = copy.deepcopy(KFDEF)
    del plugin(data)["auth"]["cognito"]["cognitoAppClientId"]
    done = kfctl("build", "-f", write(sim, data))
    assert done.returncode == 1 and done.stdout.endswith(": CognitoAppClientId is required\n")
    assert not (sim / "kustomize").exists()


def test_no_auth_block_panics(sim):
    data = copy.deepcopy(KFDEF)
    del plugin(data)["auth"]
    done = kfctl("build", "-f", write(sim, data))
    assert done.returncode == 2 and done.stderr.startswith("panic: runtime error: invalid memory address")


def test_aws_commands_must_be_on_path(sim, monkeypatch):
    monkeypatch.setenv("PATH", os.pathsep.join([str(KFCTL.parent), os.path.dirname(sys.executable)]))
    done = kfctl("build", "-f", write(sim))
    assert done.returncode == 1 and done.stdout.endswith("Could not find command aws in PATH\n")


def test_old_eksctl_is_refused(sim):
    done = kfctl("build", "-f", write(sim), env={"FAKE_EKSCTL_VERSION": "0.1.31"})
    assert done.returncode == 1 and "eksctl version has to be great than 0.1.32" in done.stdout


# -- build / apply -------------------------------------------------------------------------------------
def test_build_writes_app_dir(sim):
    path = write(sim)
    done = kfctl("build", "-V", "-f", path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert "INFO[0000] Fetching https://github.com/kubeflow/manifests/archive/v1.0.2.tar.gz" in done.stderr
    assert all(line.startswith("INFO[") and 'filename="' in line for line in done.stderr.splitlines())
    written = yaml.safe_load(Path(path).read_text())
    assert written["status"]["reposCache"] == [
        {"name": "manifests", "localPath": str(sim / ".cache/manifests/manifests-1.0.2")}
    ]
    assert params_of(written, "aws-alb-ingress-controller") == {"clusterName": "kf"}
    assert params_of(written, "istio-ingress")["certArn"] == CERT_ARN
    assert params_of(written, "istio-ingress")["CognitoUserPoolDomain"] == "auth.platform.example.com"
    assert "clusterName" not in written["metadata"]
    assert sorted(p.name for p in (sim / "kustomize").iterdir()) == sorted(
        a["name"] for a in KFDEF["spec"]["applications"]
    )
    config = yaml.safe_load((sim / "aws_config" / "cluster_config.yaml").read_text())
    assert config["metadata"] == {"name": "kf", "region": "us-west-2", "version": "1.15"}
    assert (sim / "aws_config" / "iam_alb_ingress_policy.json").exists()


def test_apply_creates_objects(sim, kube):
    path = write(sim)
    quiet = kfctl("apply", "-f", path, cwd=sim)
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    # Without -V only warnings print: here the missing default profile namespace.
    assert [line.split("]")[0][:5] for line in quiet.stderr.splitlines()] == ["WARN["], quiet.stderr
    assert "Default namespace creation skipped" in quiet.stderr

    assert {"kubeflow", "istio-system"} <= set(named(kube, "Namespace"))
    ingress = named(kube, "Ingress", "istio-system")["istio-ingress"]
    notes = ingress["metadata"]["annotations"]
    assert notes["kubernetes.io/ingress.class"] == "alb"
    assert notes["alb.ingress.kubernetes.io/scheme"] == "internet-facing"
    assert notes["alb.ingress.kubernetes.io/certificate-arn"] == CERT_ARN
    assert notes["alb.ingress.kubernetes.io/auth-type"] == "cognito"
    assert json.loads(notes["alb.ingress.kubernetes.io/auth-idp-cognito"]) == {
        "UserPoolArn": POOL_ARN,
        "UserPoolClientId": CLIENT_ID,
        "UserPoolDomain": "auth.platform.example.com",
    }
    assert {"profiles.kubeflow.org", "gateways.networking.istio.io"} <= set(named(kube, "CustomResourceDefinition"))
    deployments = named(kube, "Deployment", "kubeflow")
    assert (
        "--cluster-name=kf"
        in deployments["alb-ingress-controller"]["spec"]["template"]["spec"]["containers"][0]["args"]
    )
    assert {"profiles-deployment", "centraldashboard"} <= set(deployments)
    assert {"istio-ingressgateway", "istio-pilot"} <= set(named(kube, "Deployment", "istio-system"))
    (rbac,) = kube.objects(kind="ClusterRbacConfig")
    assert rbac["spec"]["mode"] == "ON"
    assert "nvidia-device-plugin-daemonset" in named(kube, "DaemonSet", "kube-system")

    written = yaml.safe_load(Path(path).read_text())
    assert written["metadata"]["clusterName"] == "sandbox"
    iam = boto3.client("iam", region_name="us-west-2")
    assert sorted(iam.list_role_policies(RoleName=ROLE)["PolicyNames"]) == sorted(
        ["iam_alb_ingress_policy", "iam_profile_controller_policy"]
    )

    again = kfctl("apply", "-V", "-f", path, cwd=sim)
    assert again.returncode == 0 and "Applied the configuration Successfully!" in again.stderr
    assert "skip kustomize.Generate" in again.stderr
    assert (
        named(kube, "Ingress", "istio-system")["istio-ingress"]["metadata"]["resourceVersion"]
        == ingress["metadata"]["resourceVersion"]
    )


def test_edits_are_not_rendered_while_kustomize_exists(sim):
    path = write(sim)
    assert kfctl("build", "-f", path).returncode == 0
    new_cert = CERT_ARN.replace("0b1c2d3e", "99999999")
    data = copy.deepcopy(KFDEF)
    plugin(data)["auth"]["cognito"]["certArn"] = new_cert
    write(sim, data)
    rendered = sim / "kustomize" / "istio-ingress" / "objects.yaml"
    annotation = "alb.ingress.kubernetes.io/certificate-arn"
    assert kfctl("build", "-f", path).returncode == 0
    assert yaml.safe_load(rendered.read_text())["metadata"]["annotations"][annotation] == CERT_ARN
    # aws_config/ too: while it exists kfctl injects no Cognito values into the KfDef it is given.
    assert "certArn" not in params_of(yaml.safe_load(Path(path).read_text()), "istio-ingress")
    for stale in ("kustomize", "aws_config"):
        shutil.rmtree(sim / stale)
    assert kfctl("build", "-f", path).returncode == 0
    assert yaml.safe_load(rendered.read_text())["metadata"]["annotations"][annotation] == new_cert


def test_custom_resource_without_its_crd_fails_after_the_retry_budget(sim, kube):
    data = copy.deepcopy(KFDEF)
    data["spec"]["applications"] = [a for a in data["spec"]["applications"] if a["name"] != "istio-crds"]
    done = kfctl("apply", "-f", write(sim, data))
    assert done.returncode == 1
    assert done.stdout.startswith("failed to apply: (kubeflow.error): Code 500 with message: Apply.Run : ")
    assert 'no matches for kind "ClusterRbacConfig" in version "rbac.istio.io/v1alpha1"' in done.stdout
    assert "Will retry in 32 seconds." in done.stderr


def test_name_defaults_to_app_dir(sim, kube):
    data = copy.deepcopy(KFDEF)
    del data["metadata"]["name"]
    path = write(sim, data)
    done = kfctl("build", "-V", "-f", path)
    assert "No name specified in KfDef.Metadata.Name; defaulting to kf" in done.stderr
    assert yaml.safe_load(Path(path).read_text())["metadata"]["name"] == "kf"


# -- delete --------------------------------------------------------------------------------------------
def test_delete(sim, kube, tmp_path):
    path = write(sim)
    assert kfctl("apply", "-f", path).returncode == 0
    other = kube.write_kubeconfig(tmp_path / "other", cluster_name="elsewhere")
    refused = kfctl("delete", "-f", path, env={"KUBECONFIG": str(other)})
    assert refused.returncode == 1
    assert (
        refused.stdout
        == "couldn't delete KfApp: cluster name doesn't match: KfDef(sandbox) v.s. current-context(elsewhere)\n"
    )
    assert "kubeflow" in named(kube, "Namespace")

    done = kfctl("delete", "-V", "-f", path)
    assert done.returncode == 0, done.stdout
    assert yaml.safe_load(Path(path).read_text())["metadata"]["annotations"] == {
        "kfctl.kubeflow.io/force-delete": "false"
    }
    assert not {"kubeflow", "istio-system"} & set(named(kube, "Namespace"))
    assert "profiles.kubeflow.org" not in named(kube, "CustomResourceDefinition")
    assert boto3.client("iam", region_name="us-west-2").list_role_policies(RoleName=ROLE)["PolicyNames"] == []
    again = kfctl("delete", "-V", "-f", path)
    assert again.returncode == 0 and "Namespace kubeflow already deleted" in again.stderr


def test_delete_needs_cluster_name(sim, kube):
    path = write(sim)
    done = kfctl("delete", "-f", path)
    assert (
        done.stdout
        == "couldn't delete KfApp: cannot find ClusterName within KfDef, this may cause error deletion to clusters.\n"
    )
    forced = kfctl("delete", "--force-deletion", "--delete_storage", "-f", path)
    assert forced.returncode == 0 and "WARN" in forced.stderr


# -- the kfctl module driving the simulator ---------------------------------------------------------------
def test_module_converges_on_the_simulator(sim, kube, run):
    params = {"config": KFDEF, "app_dir": str(sim), "kfctl_path": str(KFCTL)}
    first = run("kfctl", params)
    assert first.changed and not first.failed, first
    assert first["kfdef"]["metadata"]["clusterName"] == "sandbox"
    assert any(e["message"] == "Applied the configuration Successfully!" for e in first["log"])
    second = run("kfctl", params)
    assert not second.changed and second["commands"] == [], second
    changed = copy.deepcopy(KFDEF)
    plugin(changed)["auth"]["cognito"]["cognitoUserPoolDomain"] = "login.platform.example.com"
    third = run("kfctl", dict(params, config=changed))
    assert third.changed and third["removed"] == [str(sim / "kustomize"), str(sim / "aws_config")]
    notes = named(kube, "Ingress", "istio-system")["istio-ingress"]["metadata"]["annotations"]
    assert (
        json.loads(notes["alb.ingress.kubernetes.io/auth-idp-cognito"])["UserPoolDomain"]
        == "login.platform.example.com"
    )
    gone = run("kfctl", dict(params, state="absent"))
    assert gone.changed and "kubeflow" not in named(kube, "Namespace")
    assert not run("kfctl", dict(params, state="absent")).changed
