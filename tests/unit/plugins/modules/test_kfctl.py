"""kfctl module: the exact kfctl argument lists of every path, against a scripted kfctl and the Kubernetes stand-in."""

from __future__ import annotations

import kubernetes.client
import pytest
import yaml

from tests.unit.plugins.modules.kfctl_fixtures import (
    APPLY_LOG,
    BUILD_LOG,
    CERT_ARN,
    DELETE,
    DELETE_LOG,
    KFDEF,
    POOL_ARN,
    failure_v10,
    failure_v12,
    kfdef,
)

INJECTED = {
    "aws-alb-ingress-controller": {"clusterName": "kf"},
    "istio-ingress": {
        "namespace": "istio-system",
        "CognitoUserPoolArn": POOL_ARN,
        "CognitoUserPoolDomain": "auth.platform.example.com",
        "CognitoAppClientId": "5example1clientid2abcdefgh",
        "certArn": CERT_ARN,
    },
    "istio": {"clusterRbacConfig": "ON"},
}


@pytest.fixture
def app_dir(tmp_path):
    return tmp_path / "kf"


def target(app_dir):
    return str(app_dir / "kfctl.yaml")


def run_kfctl(run, kfctl, app_dir, check_mode=False, **params):
    params.setdefault("config", KFDEF)
    params["app_dir"] = str(app_dir)
    params["kfctl_path"] = kfctl.path
    params = {k: v for k, v in params.items() if v is not None}
    return run("kfctl", params, check_mode=check_mode, diff=True)


def args_of(result):
    return [cmd[1:] for cmd in result["commands"]]


def as_kfctl_wrote_it(data, cluster="sandbox"):
    """The KfDef the way kfctl apply leaves it: parameters injected, status, clusterName."""
    out = yaml.safe_load(yaml.safe_dump(data))
    for application in out["spec"]["applications"]:
        for key, value in INJECTED.get(application["name"], {}).items():
            params = application["kustomizeConfig"].setdefault("parameters", [])
            for param in params:
                if param["name"] == key:
                    param["value"] = value
                    break
            else:
                params.append({"name": key, "value": value})
    if cluster:
        out["metadata"]["clusterName"] = cluster
    out["status"] = {"reposCache": [{"name": "manifests", "localPath": ".cache/manifests/manifests-1.0.2"}]}
    return out


def deploy(app_dir, data=None, cluster="sandbox", dirs=("kustomize", "aws_config", ".cache")):
    app_dir.mkdir(parents=True, exist_ok=True)
    (app_dir / "kfctl.yaml").write_text(yaml.safe_dump(as_kfctl_wrote_it(data or KFDEF, cluster)))
    for name in dirs:
        (app_dir / name).mkdir(exist_ok=True)


def namespaces(kube, *names):
    core = kubernetes.client.CoreV1Api(kube.api_client())
    for name in names:
        core.create_namespace({"metadata": {"name": name}})


APPLIED = {"metadata": {"clusterName": "sandbox"}}


# -- present ------------------------------------------------------------------------------------------
def test_apply_into_empty_app_dir(run, kfctl, kube, app_dir):
    kfctl.answer(["apply"], stderr=APPLY_LOG, update=APPLIED, mkdirs=["kustomize", "aws_config"])
    result = run_kfctl(run, kfctl, app_dir)
    assert result.changed and not result.failed, result
    assert args_of(result) == [["apply", "-V", "-f", target(app_dir)]]
    (call,) = kfctl.invocations
    assert call["argv"] == ["apply", "-V", "-f", target(app_dir)]
    assert call["cwd"] == str(app_dir) and call["kubeconfig"] == str(kube.kubeconfig)
    assert result["kfdef"]["metadata"]["clusterName"] == "sandbox"
    assert result["kfdef"]["spec"] == KFDEF["spec"]
    assert result["name"] == "kf" and result["cluster_name"] == "sandbox"
    assert result["removed"] == []
    messages = [(e["level"], e["message"]) for e in result["log"]]
    assert ("info", "Applied the configuration Successfully!") in messages
    assert result["log"][0] == {
        "level": "info",
        "message": "Creating directory .cache",
        "filename": "kfconfig/types.go:450",
    }
    assert any("kfctl: Default namespace creation skipped" in str(w) for w in result["warnings"])
    assert "clusterName: sandbox" in result["diff"]["after"] and result["diff"]["before"] == ""


def test_apply_passes_kubeconfig_and_profile(run, kfctl, kube, app_dir, tmp_path):
    other = kube.write_kubeconfig(tmp_path / "other-kubeconfig", cluster_name="kf.us-west-2.eksctl.io")
    kfctl.answer(["apply"], stderr=APPLY_LOG, update={"metadata": {"clusterName": "kf.us-west-2.eksctl.io"}})
    result = run_kfctl(run, kfctl, app_dir, kubeconfig=str(other), profile="kf-admin")
    assert result.changed and result["cluster_name"] == "kf.us-west-2.eksctl.io"
    assert kfctl.invocations[0]["kubeconfig"] == str(other)


def test_applied_kfdef_in_line_runs_nothing(run, kfctl, kube, app_dir):
    deploy(app_dir)
    namespaces(kube, "kubeflow")
    before = (app_dir / "kfctl.yaml").read_text()
    result = run_kfctl(run, kfctl, app_dir)
    assert not result.changed and not result.failed, result
    assert result["commands"] == [] and kfctl.calls == []
    assert (app_dir / "kfctl.yaml").read_text() == before
    assert result["diff"]["before"] == result["diff"]["after"]
    assert result["kfdef"]["status"]["reposCache"][0]["name"] == "manifests"


def test_applied_kfdef_in_line_check_mode_runs_nothing(run, kfctl, kube, app_dir):
    deploy(app_dir)
    namespaces(kube, "kubeflow")
    result = run_kfctl(run, kfctl, app_dir, check_mode=True)
    assert not result.changed and result["commands"] == [] and kfctl.calls == []


def test_missing_namespace_means_apply_again(run, kfctl, kube, app_dir):
    deploy(app_dir)
    kfctl.answer(["apply"], stderr=APPLY_LOG)
    before = (app_dir / "kfctl.yaml").read_text()
    result = run_kfctl(run, kfctl, app_dir)
    assert result.changed
    assert kfctl.calls == [["apply", "-V", "-f", target(app_dir)]]
    # Same configuration: kfctl's file (status, injected parameters) and rendered directories are kept.
    assert (app_dir / "kfctl.yaml").read_text() == before
    assert result["removed"] == [] and (app_dir / "kustomize").is_dir()


def test_applied_to_another_cluster_means_apply(run, kfctl, kube, app_dir):
    deploy(app_dir, cluster="old-cluster")
    namespaces(kube, "kubeflow")
    kfctl.answer(["apply"], stderr=APPLY_LOG, update=APPLIED)
    result = run_kfctl(run, kfctl, app_dir, check_mode=True)
    assert result.changed and args_of(result) == [["apply", "-V", "-f", target(app_dir)]]
    assert kfctl.calls == []
    assert "clusterName: old-cluster" in result["diff"]["before"]
    assert "clusterName: sandbox" in result["diff"]["after"]


def test_changed_kfdef_renders_again(run, kfctl, kube, app_dir):
    deploy(app_dir)
    namespaces(kube, "kubeflow")
    kfctl.answer(["apply"], stderr=APPLY_LOG, update=APPLIED, mkdirs=["kustomize", "aws_config"])
    new_roles = ["eksctl-kf-nodegroup-gpu-NodeInstanceRole-0ZYXWVUTSRQPO"]
    result = run_kfctl(run, kfctl, app_dir, config=kfdef(roles=new_roles))
    assert result.changed
    assert args_of(result) == [["apply", "-V", "-f", target(app_dir)]]
    assert result["removed"] == [str(app_dir / "kustomize"), str(app_dir / "aws_config")]
    assert (app_dir / ".cache").is_dir()
    written = yaml.safe_load((app_dir / "kfctl.yaml").read_text())
    assert written["spec"]["plugins"][0]["spec"]["roles"] == new_roles
    # The repos did not change, so kfctl's cache record is handed back to it.
    assert written["status"]["reposCache"][0]["localPath"].startswith(".cache/manifests")


def test_changed_kfdef_check_mode_shows_diff_and_touches_nothing(run, kfctl, kube, app_dir):
    deploy(app_dir)
    namespaces(kube, "kubeflow")
    before = (app_dir / "kfctl.yaml").read_text()
    new_cert = CERT_ARN.replace("0b1c2d3e", "99999999")
    result = run_kfctl(run, kfctl, app_dir, check_mode=True, config=kfdef(**{"auth.cognito.certArn": new_cert}))
    assert result.changed
    assert args_of(result) == [["apply", "-V", "-f", target(app_dir)]]
    assert result["removed"] == [str(app_dir / "kustomize"), str(app_dir / "aws_config")]
    assert kfctl.calls == [] and (app_dir / "kustomize").is_dir()
    assert (app_dir / "kfctl.yaml").read_text() == before
    assert CERT_ARN in result["diff"]["before"] and new_cert not in result["diff"]["before"]
    assert new_cert in result["diff"]["after"] and CERT_ARN not in result["diff"]["after"]
    assert result["diff"]["before_header"] == target(app_dir)


def test_config_file_is_read_not_rewritten(run, kfctl, kube, app_dir, tmp_path):
    source = tmp_path / "kfctl_aws_cognito.yaml"
    source.write_text(yaml.safe_dump(KFDEF))
    kfctl.answer(["apply"], stderr=APPLY_LOG, update=APPLIED)
    result = run_kfctl(run, kfctl, app_dir, config=None, config_file=str(source), kfdef_filename="kfctl_aws.yaml")
    assert result.changed
    assert kfctl.calls == [["apply", "-V", "-f", str(app_dir / "kfctl_aws.yaml")]]
    assert yaml.safe_load(source.read_text()) == KFDEF


def test_name_defaults_to_app_dir(run, kfctl, kube, tmp_path):
    data = kfdef()
    del data["metadata"]["name"]
    app_dir = tmp_path / "kf-from-dir"
    kfctl.answer(["apply"], stderr=APPLY_LOG, update={"metadata": {"name": "kf-from-dir", "clusterName": "sandbox"}})
    result = run_kfctl(run, kfctl, app_dir, config=data)
    assert result.changed and result["name"] == "kf-from-dir"
    namespaces(kube, "kubeflow")
    again = run_kfctl(run, kfctl, app_dir, config=data)
    assert not again.changed and len(kfctl.calls) == 1


# -- built --------------------------------------------------------------------------------------------
def test_build_then_no_change(run, kfctl, app_dir):
    kfctl.answer(["build"], stderr=BUILD_LOG, mkdirs=["kustomize", "aws_config"])
    result = run_kfctl(run, kfctl, app_dir, state="built")
    assert result.changed
    assert args_of(result) == [["build", "-V", "-f", target(app_dir)]]
    assert [e["message"] for e in result["log"]][-1] == "folder kustomize exists, skip kustomize.Generate"
    again = run_kfctl(run, kfctl, app_dir, state="built")
    assert not again.changed and len(kfctl.calls) == 1


def test_build_check_mode(run, kfctl, app_dir):
    result = run_kfctl(run, kfctl, app_dir, state="built", check_mode=True)
    assert result.changed and args_of(result) == [["build", "-V", "-f", target(app_dir)]]
    assert kfctl.calls == [] and not app_dir.exists()


# -- absent -------------------------------------------------------------------------------------------
def test_delete(run, kfctl, kube, app_dir):
    deploy(app_dir)
    namespaces(kube, "kubeflow", "istio-system")
    kfctl.answer(["delete"], stderr=DELETE_LOG)
    result = run_kfctl(run, kfctl, app_dir, state="absent", config=None)
    assert result.changed and not result.failed, result
    assert args_of(result) == [["delete", "-V", "-f", target(app_dir)]]
    assert result["log"][0]["message"] == "Deleting namespace kubeflow"
    assert result["diff"]["after"] == "" and "clusterName: sandbox" in result["diff"]["before"]


def test_delete_flags(run, kfctl, kube, app_dir):
    deploy(app_dir, cluster=None)
    namespaces(kube, "kubeflow")
    kfctl.answer(["delete"], stderr=DELETE_LOG)
    result = run_kfctl(run, kfctl, app_dir, state="absent", force_deletion=True, delete_storage=True)
    assert result.changed
    assert args_of(result) == [["delete", "-V", "-f", target(app_dir), "--force-deletion", "--delete_storage"]]


def test_delete_check_mode(run, kfctl, kube, app_dir):
    deploy(app_dir)
    namespaces(kube, "istio-system")
    result = run_kfctl(run, kfctl, app_dir, state="absent", check_mode=True)
    assert result.changed and args_of(result) == [["delete", "-V", "-f", target(app_dir)]]
    assert kfctl.calls == []


def test_delete_when_gone_runs_nothing(run, kfctl, kube, app_dir):
    deploy(app_dir)
    result = run_kfctl(run, kfctl, app_dir, state="absent")
    assert not result.changed and result["commands"] == [] and kfctl.calls == []


@pytest.mark.parametrize(
    "cluster, expected",
    [
        (None, "has no metadata.clusterName"),
        ("other", "applied to cluster other but the current kubeconfig context is sandbox"),
    ],
)
def test_delete_refused_before_kfctl(run, kfctl, kube, app_dir, cluster, expected):
    deploy(app_dir, cluster=cluster)
    namespaces(kube, "kubeflow")
    result = run_kfctl(run, kfctl, app_dir, state="absent")
    assert result.failed and expected in result["msg"] and "force_deletion" in result["msg"]
    assert kfctl.calls == []


def test_delete_without_kfdef_anywhere(run, kfctl, kube, app_dir):
    namespaces(kube, "kubeflow")
    result = run_kfctl(run, kfctl, app_dir, state="absent", config=None)
    assert result.failed and "no KfDef" in result["msg"] and kfctl.calls == []


# -- kfctl failures -----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [failure_v10, failure_v12])
def test_kfctl_failure_reports_message_and_output(run, kfctl, kube, app_dir, shape):
    message = "failed to apply:  (kubeflow.error): Could not authenticate aws client: NoCredentialProviders"
    stdout, stderr = shape(message)
    kfctl.answer(["apply"], stdout=stdout, stderr=stderr, rc=1)
    result = run_kfctl(run, kfctl, app_dir)
    assert result.failed
    assert result["msg"] == f"kfctl failed for {target(app_dir)}: {message}"
    assert result["rc"] == 1 and result["stdout"] == stdout and result["stderr"] == stderr
    assert result["cmd"][1:] == ["apply", "-V", "-f", target(app_dir)]


def test_kfctl_panic_is_reported(run, kfctl, kube, app_dir):
    stderr = "panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV]\n"
    kfctl.answer(["apply"], stderr=stderr, rc=2)
    result = run_kfctl(run, kfctl, app_dir)
    assert result.failed and result["rc"] == 2 and result["msg"].endswith("[signal SIGSEGV]")


# -- bad input: fails before kfctl runs ---------------------------------------------------------------
BAD = [
    ({"auth.cognito.certArn": ""}, "auth.cognito.certArn is required"),
    ({"auth.cognito.cognitoAppClientId": DELETE}, "auth.cognito.cognitoAppClientId is required"),
    ({"auth.cognito.certArn": "arn:aws:acm:us-west-2:xxxxx:certificate/abc"}, "is not an ACM certificate ARN"),
    ({"auth.cognito.certArn": CERT_ARN.replace("us-west-2", "us-east-1")}, "is in region us-east-1 but the cluster"),
    ({"auth.cognito.cognitoUserPoolArn": "your-user-pool"}, "is not a Cognito user pool ARN"),
    ({"auth.cognito.cognitoUserPoolArn": POOL_ARN.replace("/us-west-2_", "/eu-west-1_")}, "of region eu-west-1"),
    ({"auth.cognito.cognitoAppClientId": "Not-A-Client!"}, "is not a Cognito app client id"),
    ({"auth.cognito.cognitoUserPoolDomain": "https://auth.example.com"}, "not a URL"),
    ({"roles": []}, "spec.roles is empty"),
    ({"roles": ["arn:aws:iam::123456789012:role/eksctl-kf-ng-NodeInstanceRole-X"]}, "is an ARN"),
    ({"roles": "eksctl-kf-ng-NodeInstanceRole-X"}, "must be a list of IAM role names"),
    ({"region": "oregon"}, "is not an AWS region"),
    ({"auth": DELETE}, "spec.auth needs one of cognito, oidc or basicAuth"),
    ({"auth.basicAuth": {"username": "admin", "password": {"name": "password"}}}, "has basicAuth and cognito"),
    ({"managedCluster": "yes"}, "spec.managedCluster must be true or false"),
    ({"/apiVersion": "kfdef.apps.kubeflow.org/v1alpha1"}, "v1alpha1 is the Kubeflow 0.6/0.7 format"),
    ({"/kind": "KfUpgrade"}, "kind must be KfDef"),
    ({"/metadata.name": "1-bad_name"}, "is not a valid EKS cluster name"),
    ({"/spec.repos": [{"name": "kf-manifests", "uri": "file:/tmp/m.tar.gz"}]}, "entry named 'manifests'"),
    ({"/spec.applications": []}, "spec.applications is empty"),
    ({"/spec.plugins": []}, "exactly one KfAwsPlugin (found 0)"),
]


@pytest.mark.parametrize("changes, expected", BAD, ids=[m for _c, m in BAD])
def test_bad_kfdef_fails_before_kfctl(run, kfctl, app_dir, changes, expected):
    result = run_kfctl(run, kfctl, app_dir, config=kfdef(**changes))
    assert result.failed and expected in result["msg"], result["msg"]
    assert result["commands"] == [] and kfctl.calls == [] and not app_dir.exists()


def test_duplicate_applications(run, kfctl, app_dir):
    data = kfdef()
    data["spec"]["applications"].append(data["spec"]["applications"][0])
    result = run_kfctl(run, kfctl, app_dir, config=data)
    assert result.failed and "duplicate names: istio-crds" in result["msg"] and kfctl.calls == []


def test_config_file_in_app_dir_is_refused(run, kfctl, app_dir):
    deploy(app_dir)
    result = run_kfctl(run, kfctl, app_dir, config=None, config_file=target(app_dir))
    assert result.failed and "is the file kfctl rewrites" in result["msg"] and kfctl.calls == []


def test_config_required_for_present(run, kfctl, app_dir):
    result = run_kfctl(run, kfctl, app_dir, config=None)
    assert result.failed and "config" in result["msg"] and kfctl.calls == []


def test_missing_binary(run, app_dir, monkeypatch):
    monkeypatch.setenv("PATH", str(app_dir))
    result = run("kfctl", {"config": KFDEF, "app_dir": str(app_dir)})
    assert result.failed and "kfctl was not found on PATH" in result["msg"]
