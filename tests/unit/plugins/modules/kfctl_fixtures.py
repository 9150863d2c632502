"""Real-shaped kfctl output (v1.0.2 / v1.2 contract), a valid KfDef, and the scripted fake kfctl fixture."""

from __future__ import annotations

import copy

from tests.unit.plugins.modules.fake_cli import FakeCli

CERT_ARN = "arn:aws:acm:us-west-2:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
POOL_ARN = "arn:aws:cognito-idp:us-west-2:123456789012:userpool/us-west-2_AbCdEfGhI"
CLIENT_ID = "5example1clientid2abcdefgh"
ROLE = "eksctl-kf-nodegroup-ng-NodeInstanceRole-1ABCDEFGHIJKL"


def app(name, path, **params):
    config = {"repoRef": {"name": "manifests", "path": path}}
    if params:
        config["parameters"] = [{"name": k, "value": v} for k, v in params.items()]
    return {"name": name, "kustomizeConfig": config}


KFDEF = {
    "apiVersion": "kfdef.apps.kubeflow.org/v1",
    "kind": "KfDef",
    "metadata": {"name": "kf", "namespace": "kubeflow"},
    "spec": {
        "version": "v1.0.2",
        "repos": [{"name": "manifests", "uri": "https://github.com/kubeflow/manifests/archive/v1.0.2.tar.gz"}],
        "applications": [
            app("istio-crds", "istio/istio-crds", namespace="istio-system"),
            app("istio", "istio/istio", clusterRbacConfig="ON"),
            app("istio-ingress", "aws/istio-ingress", namespace="istio-system"),
            app("aws-alb-ingress-controller", "aws/aws-alb-ingress-controller", clusterName="kubeflow-aws"),
            app("profiles", "profiles", **{"userid-header": "kubeflow-userid"}),
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


def kfdef(**changes):
    """A deep copy of KFDEF; changes are dotted paths into the plugin spec ("auth.cognito.certArn") or top keys."""
    data = copy.deepcopy(KFDEF)
    for path, value in changes.items():
        node = data["spec"]["plugins"][0]["spec"] if not path.startswith("/") else data
        keys = path.lstrip("/").split(".")
        for key in keys[:-1]:
            node = node[key]
        if value is DELETE:
            node.pop(keys[-1], None)
        else:
            node[keys[-1]] = value
    return data


DELETE = object()


def log_line(level, secs, message, filename):
    return f'{level}[{secs:04d}] {message:<48} filename="{filename}"\n'


APPLY_LOG = (
    log_line("INFO", 0, "Creating directory .cache", "kfconfig/types.go:450")
    + log_line(
        "INFO", 0, "Fetching https://github.com/kubeflow/manifests/archive/v1.0.2.tar.gz", "kfconfig/types.go:498"
    )
    + log_line("INFO", 3, "You already have cluster setup. Skip creating new eks cluster.", "aws/aws.go:1258")
    + log_line("INFO", 9, "Deploying application istio-ingress", "kustomize/kustomize.go:233")
    + log_line("WARN", 40, "Default namespace creation skipped", "kfapp/coordinator.go:574")
    + log_line("INFO", 40, "Applied the configuration Successfully!", "cmd/apply.go:75")
)
BUILD_LOG = log_line("INFO", 0, "Creating directory .cache", "kfconfig/types.go:450") + log_line(
    "INFO", 2, "folder kustomize exists, skip kustomize.Generate", "kustomize/kustomize.go:350"
)
DELETE_LOG = log_line("INFO", 0, "Deleting namespace kubeflow", "kustomize/kustomize.go:445")

USAGE = "Usage:\n  kfctl apply -f ${CONFIG} [flags]\n\nFlags:\n  -f, --file string   config file\n  -h, --help\n"


def failure_v10(message):
    """(stdout, stderr) of a failing kfctl v1.0.x: cobra's Error line + usage on stderr, the message on stdout."""
    return message + "\n", f"Error: {message}\n{USAGE}\n"


def failure_v12(message):
    return f"kfctl exited with error: {message}", f"Error: {message}\n{USAGE}\n"


class FakeKfctl(FakeCli):
    def __init__(self, tmp_path, monkeypatch):
        super().__init__("kfctl", tmp_path, monkeypatch)
