"""Bad input for the knative, kfserving and models roles, on the sandbox, run as a user runs them.

The roles' whole lifecycle (both eras, twice, smoke predictions, teardown) is in test_platform.py, through
site.yml. Here each bad setting must fail with a clear message before anything changes. Before the roles
run, the test makes what earlier layers leave behind: the platform zone and the regional certificate (auth),
a kubeconfig, and "Kubeflow installed" in the Kubernetes stand-in: the knative-serving namespace with the
upstream config-domain (`_example` only), istio-system and the serving namespaces.
"""

from __future__ import annotations

import json
import time

import boto3
import yaml
from kubernetes import client as k8s

from tests.sandbox.harness.playbook import run_failure_cases, unmet_expectations
from tests.sandbox.harness.validate import schemas_dir, schemas_present

REGION = "us-west-2"
DOMAIN = "platform.example.com"
ENVIRONMENT = "sandbox"
NAMESPACES = ["default", "staging"]  # kubeflow_ops_serving_namespaces of inventories/sandbox
TOKEN = "sandbox-api-token-7d41c9e2b8"  # kubeflow_ops_api_tokens of inventories/sandbox
S3_KEYS = {"access_key_id": "AKIASANDBOXMODELREAD", "secret_access_key": "sandbox-model-reader-secret-0d9f2a"}

ISVC_CRDS = {
    "v1.0": ("kfserving-v1alpha2-inferenceservice-crd.yaml", "serving.kubeflow.org", "v1alpha2"),
    "v1.7": ("kserve-inferenceservice-crd.yaml", "serving.kserve.io", "v1beta1"),
}
POLICY_CRD = ("istio-authorizationpolicy-crd.yaml", "security.istio.io", "v1beta1")

# --------------------------------------------------------------------------- what the earlier layers leave


def aws(env, service, region=REGION):
    return boto3.client(service, region_name=region, endpoint_url=env["AWS_ENDPOINT_URL"])


def auth_layer(env, namespaces=tuple(NAMESPACES)) -> dict:
    """The platform zone and the regional certificate, as the auth role leaves them (found by its tags)."""
    zone = aws(env, "route53").create_hosted_zone(Name=DOMAIN, CallerReference=f"auth-{time.time()}")
    acm = aws(env, "acm")
    arn = acm.request_certificate(
        DomainName=f"*.{DOMAIN}",
        SubjectAlternativeNames=[f"*.{DOMAIN}"] + [f"*.{ns}.{DOMAIN}" for ns in namespaces],
        ValidationMethod="DNS",
        Tags=[
            {"Key": "kubeflow_ops:environment", "Value": ENVIRONMENT},
            {"Key": "kubeflow_ops:domain", "Value": DOMAIN},
            {"Key": "kubeflow_ops:role", "Value": "auth"},
            {"Key": "kubeflow_ops:certificate", "Value": "alb"},
        ],
    )["CertificateArn"]
    deadline = time.monotonic() + 30
    while acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] != "ISSUED":
        assert time.monotonic() < deadline, "the sandbox certificate was not issued"
        time.sleep(0.2)
    return {"zone_id": zone["HostedZone"]["Id"].split("/")[-1], "certificate_arn": arn}


def v1_crd(crd: dict) -> dict:
    """KFServing 0.2.2 ships an apiextensions.k8s.io/v1beta1 CRD; Kubernetes >= 1.22 takes only v1."""
    if crd["apiVersion"] == "apiextensions.k8s.io/v1":
        return crd
    spec = crd["spec"]
    version = {
        "name": spec["version"],
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": spec["validation"]["openAPIV3Schema"]},
    }
    if spec.get("subresources"):
        version["subresources"] = spec["subresources"]
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": crd["metadata"]["name"]},
        "spec": {"group": spec["group"], "names": spec["names"], "scope": spec["scope"], "versions": [version]},
    }


def crd(file_name: str, group: str, version: str, kind: str, plural: str) -> dict:
    """The reference CRD when ../shared has it, else one that accepts any object of the kind."""
    path = schemas_dir() / file_name
    if schemas_present() and path.exists():
        return v1_crd(yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    served = {
        "name": version,
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
        "subresources": {"status": {}},
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": plural, "singular": kind.lower(), "kind": kind},
            "versions": [served],
        },
    }


def kubeflow_installed(kube, era: str, crds: bool = True) -> k8s.ApiClient:
    """What the kubeflow role leaves: the serving CRDs of the era, Knative with its upstream config-domain,
    istio-system and the serving namespaces (profiles)."""
    api = kube.api_client()
    extensions = k8s.ApiextensionsV1Api(api)
    file_name, group, version = ISVC_CRDS[era]
    if crds:
        extensions.create_custom_resource_definition(
            crd(file_name, group, version, "InferenceService", "inferenceservices")
        )
    if crds and era == "v1.7":
        extensions.create_custom_resource_definition(crd(*POLICY_CRD, "AuthorizationPolicy", "authorizationpolicies"))
    core = k8s.CoreV1Api(api)
    existing = {ns.metadata.name for ns in core.list_namespace().items}
    for name in ["knative-serving", "istio-system", *NAMESPACES]:
        if name not in existing:
            core.create_namespace({"metadata": {"name": name}})
    core.create_namespaced_config_map(
        "knative-serving",
        {
            "metadata": {"name": "config-domain", "labels": {"serving.knative.dev/release": "kubeflow"}},
            "data": {"_example": "################################\n# the upstream documentation block\n"},
        },
    )
    return api


# --------------------------------------------------------------------------- what the roles made


def load_balancers(env) -> list:
    return aws(env, "elbv2").describe_load_balancers()["LoadBalancers"]


def serving_records(env, zone_id) -> dict:
    found = aws(env, "route53").list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return {r["Name"].replace("\\052", "*"): r for r in found if r["Type"] not in ("NS", "SOA")}


def buckets(env) -> list:
    return sorted(b["Name"] for b in aws(env, "s3").list_buckets()["Buckets"])


def local_policies(env) -> list:
    return sorted(p["PolicyName"] for p in aws(env, "iam").list_policies(Scope="Local")["Policies"])


GOOD_URI = "s3://kf-sandbox-models/default/iris"
SECRET_TOKENS = ["wildcard-token-0123456789*"]


def model(**settings) -> dict:
    return {"name": "iris", "namespace": "default", "storage_uri": GOOD_URI, **settings}


# case name -> (role, extra vars, a piece of the expected message). More cases of the same checks, without a playbook
# run each: tests/unit/roles/test_serving_manifests.py.
BAD_INPUT = {
    "knative domain not a DNS name": ("knative", {"knative_domain": "platform_example"}, "is not a DNS name"),
    "empty header token": ("kfserving", {"kfserving_api_tokens": [""]}, "token 1 is empty"),
    "header token with a wildcard": ("kfserving", {"kfserving_api_tokens": [SECRET_TOKENS[0]]}, "wildcards * and ?"),
    "AuthorizationPolicy in the v1.0 era": (
        "kfserving",
        {"kfserving_kubeflow_era": "v1.0", "kfserving_authorization_policy": True},
        "Istio 1.1.6 with rbac.istio.io only",
    ),
    "certificate of another region": (
        "kfserving",
        {
            "kfserving_certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/0c6a7d0e-7c8f-4c8e-9a39-4bb1a7e3c2f5"
        },
        "needs a certificate of its own region",
    ),
    "serving namespace without a certificate SAN (kfserving)": (
        "kfserving",
        {"kfserving_serving_namespaces": ["default", "staging", "research"]},
        f"does not name *.research.{DOMAIN}",
    ),
    "serving namespace missing in the cluster": (
        "kfserving",
        {"kfserving_serving_namespaces": ["default", "ghost"]},
        "The serving namespaces ghost do not exist in the cluster",
    ),
    "model name not DNS-safe": ("models", {"models_list": [model(name="Sklearn_Iris")]}, "is not DNS-safe"),
    "gs:// storage URI": (
        "models",
        {"models_list": [model(storage_uri="gs://kfserving-samples/models/sklearn/iris")]},
        "only s3://<bucket>/<prefix> (not gs://)",
    ),
    "serving namespace without a certificate SAN (models)": (
        "models",
        {"models_list": [model(namespace="research")]},
        f"namespace research is not a serving namespace (default, staging): the certificate has no *.research.{DOMAIN}",
    ),
    "protocol v2 in the v1.0 era": (
        "models",
        {"models_kubeflow_era": "v1.0", "models_s3_credentials": S3_KEYS, "models_list": [model(protocol="v2")]},
        "protocol v2 is KServe-only",
    ),
    "modelFormat in the v1.0 era": (
        "models",
        {"models_kubeflow_era": "v1.0", "models_s3_credentials": S3_KEYS, "models_list": [model(model_format=True)]},
        "model_format (spec.predictor.model with modelFormat) is KServe-only",
    ),
    "KServe API version in the v1.0 era": (
        "models",
        {
            "models_kubeflow_era": "v1.0",
            "models_s3_credentials": S3_KEYS,
            "models_api_version": "serving.kserve.io/v1beta1",
        },
        "serving.kserve.io is KServe-only",
    ),
    "model listed twice in a namespace": (
        "models",
        {"models_list": [model(), model()]},
        "listed twice in namespace default",
    ),
    "unknown framework": ("models", {"models_list": [model(framework="caffe")]}, "unknown framework caffe"),
    "bucket name invalid": (
        "models",
        {"models_list": [model(storage_uri="s3://My_Bucket/iris")]},
        "not a valid S3 bucket",
    ),
    "empty smoke token": ("models", {"models_api_token": ""}, "models_api_token is empty"),
}


def cluster_state(env, kube, zone_id) -> dict:
    """Everything the three roles could change, to compare before and after."""
    kinds = ("Ingress", "InferenceService", "AuthorizationPolicy", "ServiceAccount", "Secret", "ConfigMap", "Namespace")
    objects = {}
    for kind in kinds:
        for obj in kube.objects(kind=kind):
            meta = obj["metadata"]
            objects[(kind, meta.get("namespace"), meta["name"])] = (meta.get("labels"), obj.get("data"))
    return {
        "objects": objects,
        "buckets": buckets(env),
        "policies": local_policies(env),
        "records": serving_records(env, zone_id),
        "load_balancers": load_balancers(env),
    }


def test_each_bad_input_fails_clearly_before_anything_changes(sandbox_env, sandbox_kube, tmp_path):
    auth = auth_layer(sandbox_env, namespaces=NAMESPACES + ["ghost"])
    sandbox_kube.write_kubeconfig(sandbox_env["KUBEFLOW_OPS_KUBECONFIG"])
    kubeflow_installed(sandbox_kube, "v1.7", crds=False)  # no case gets as far as the CRDs
    before = cluster_state(sandbox_env, sandbox_kube, auth["zone_id"])

    cases = {name: (f"kubeflow_ops.aws.{role}", role_vars) for name, (role, role_vars, _expected) in BAD_INPUT.items()}
    results = run_failure_cases(cases, sandbox_env, tmp_path)
    results = {name: " ".join(message.split()) for name, message in results.items()}
    problems = unmet_expectations(results, {name: expected for name, (_r, _v, expected) in BAD_INPUT.items()})
    assert not problems, "\n".join(problems)
    assert len(BAD_INPUT) >= 15
    # Messages name tokens by position, never by value.
    for secret in SECRET_TOKENS + [TOKEN, S3_KEYS["secret_access_key"]]:
        assert secret not in (tmp_path / "failure_cases.log").read_text() and secret not in json.dumps(results)
    assert cluster_state(sandbox_env, sandbox_kube, auth["zone_id"]) == before
