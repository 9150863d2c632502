"""The knative, kfserving and models roles on the sandbox, one era per test, run as a user runs them.

Before the roles run, each test makes what earlier layers leave behind: the platform zone and the regional
certificate (auth), a kubeconfig (cluster; for IRSA an EKS cluster with an OIDC provider, made with the eksctl
simulator), and "Kubeflow installed" in the Kubernetes stand-in: the InferenceService CRD of the era (and Istio's
AuthorizationPolicy CRD for v1.7), the knative-serving namespace with the upstream config-domain (`_example` only),
istio-system and the serving namespaces. The stand-in's platform controllers play the ALB controller, Knative and
KServe; the sandbox predictor answers the smoke predictions through its HTTPS proxy, with the tokens of the API
ingress's annotation.
"""

from __future__ import annotations

import json
import subprocess
import time

import boto3
import pytest
import yaml
from kubernetes import client as k8s

from tests.integration.conftest import EKSCTL
from tests.sandbox.playbook import REPO, run_playbook
from tests.sandbox.predictor import PredictorSandbox
from tests.sandbox.validate import schemas_dir, schemas_present

REGION = "us-west-2"
DOMAIN = "platform.example.com"
CLUSTER = "kf-sandbox"  # inventories/sandbox
ENVIRONMENT = "sandbox"
NAMESPACES = ["default", "staging"]  # kubeflow_ops_serving_namespaces of inventories/sandbox
TOKEN = "sandbox-api-token-7d41c9e2b8"  # kubeflow_ops_api_tokens of inventories/sandbox
SECOND_TOKEN = "second-api-token-5be0f3a9d2c1"
S3_KEYS = {"access_key_id": "AKIASANDBOXMODELREAD", "secret_access_key": "sandbox-model-reader-secret-0d9f2a"}
ARTEFACT = REPO / "tests" / "integration" / "files" / "sklearn-iris" / "model.joblib"
LOAD_BALANCER_FINALIZER = "ingress.k8s.aws/resources"
MANAGED = "app.kubernetes.io/managed-by=kubeflow_ops"

ISVC_CRDS = {
    "v1.0": ("kfserving-v1alpha2-inferenceservice-crd.yaml", "serving.kubeflow.org", "v1alpha2"),
    "v1.7": ("kserve-inferenceservice-crd.yaml", "serving.kserve.io", "v1beta1"),
}
POLICY_CRD = ("istio-authorizationpolicy-crd.yaml", "security.istio.io", "v1beta1")

UP = """
- name: Knative domain
  hosts: kubeflow_ops
  gather_facts: false
  roles: [kubeflow_ops.aws.knative]
- name: API ingress and DNS
  hosts: kubeflow_ops
  gather_facts: false
  roles: [kubeflow_ops.aws.kfserving]
- name: Models
  hosts: kubeflow_ops
  gather_facts: false
  roles: [kubeflow_ops.aws.models]
"""
DOWN = """
- name: Remove the models, the API ingress and DNS, the Knative domain
  hosts: kubeflow_ops
  gather_facts: false
  roles:
    - role: kubeflow_ops.aws.models
      vars: {models_state: absent}
    - role: kubeflow_ops.aws.kfserving
      vars: {kfserving_state: absent}
    - role: kubeflow_ops.aws.knative
      vars: {knative_state: absent}
"""


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


def cluster_with_oidc(env, tmp_path):
    """An EKS cluster with an IAM OIDC provider (IRSA), made with the eksctl simulator; it writes the kubeconfig."""
    config = tmp_path / "cluster.json"
    config.write_text(
        json.dumps(
            {
                "apiVersion": "eksctl.io/v1alpha5",
                "kind": "ClusterConfig",
                "metadata": {"name": CLUSTER, "region": REGION, "version": "1.33"},
                "iam": {"withOIDC": True},
            }
        )
    )
    args = [
        "create",
        "cluster",
        "-f",
        str(config),
        "--without-nodegroup",
        "--kubeconfig",
        env["KUBEFLOW_OPS_KUBECONFIG"],
    ]
    subprocess.run([str(EKSCTL), *args], env=env, check=True, capture_output=True)


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


def write_playbooks(tmp_path) -> tuple[str, str]:
    (tmp_path / "up.yml").write_text(UP)
    (tmp_path / "down.yml").write_text(DOWN)
    return str(tmp_path / "up.yml"), str(tmp_path / "down.yml")


# --------------------------------------------------------------------------- what the roles made


def inference_services(kube) -> list:
    return kube.objects(kind="InferenceService")


def load_balancers(env) -> list:
    return aws(env, "elbv2").describe_load_balancers()["LoadBalancers"]


def serving_records(env, zone_id) -> dict:
    found = aws(env, "route53").list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return {r["Name"].replace("\\052", "*"): r for r in found if r["Type"] not in ("NS", "SOA")}


def buckets(env) -> list:
    return sorted(b["Name"] for b in aws(env, "s3").list_buckets()["Buckets"])


def local_policies(env) -> list:
    return sorted(p["PolicyName"] for p in aws(env, "iam").list_policies(Scope="Local")["Policies"])


def irsa_stacks(env) -> list:
    cfn = aws(env, "cloudformation")
    return sorted(
        s["StackName"]
        for s in cfn.list_stacks()["StackSummaries"]
        if s["StackStatus"] != "DELETE_COMPLETE" and "iamserviceaccount" in s["StackName"]
    )


def config_domain(kube) -> dict:
    found = [
        c
        for c in kube.objects(kind="ConfigMap", namespace="knative-serving")
        if c["metadata"]["name"] == "config-domain"
    ]
    return found[0]


def assert_no_secrets(output: str) -> None:
    for secret in (TOKEN, SECOND_TOKEN, S3_KEYS["secret_access_key"]):
        assert secret not in output, "a secret was printed"


@pytest.fixture(scope="module")
def predictor(moto_server):
    """The sandbox predictor in kube mode: models are the Ready InferenceServices of the stand-in, tokens those of
    the API ingress's annotation (the stand-in of this test process; its objects change from test to test)."""
    from tests.integration.conftest import platform_kube  # pylint: disable=import-outside-toplevel

    kube = platform_kube(moto_server.env())
    with PredictorSandbox(domain=DOMAIN, namespaces=NAMESPACES, kube_url=kube.url) as sandbox:
        yield sandbox


def smoke_requests(predictor_sandbox, since: int) -> list:
    return [(r["host"], r["path"], r["status"], r["token_sent"]) for r in predictor_sandbox.requests()[since:]]


# --------------------------------------------------------------------------- the eras


def test_kserve_era_serves_models_twice_unchanged_then_removes_everything(
    sandbox_env, sandbox_kube, predictor, tmp_path
):
    """v1.7: KServe v1beta1; a v1 sklearn model reading S3 through IRSA, and in another namespace a v2 model with
    modelFormat reading S3 through a Secret with KServe's annotations; site.yml-like (auth_outputs in the play)."""
    env = dict(sandbox_env, EKSCTL_SIM_TIME_SCALE=str(1 / 600), **predictor.env())
    auth = auth_layer(env)
    cluster_with_oidc(env, tmp_path)
    api = kubeflow_installed(sandbox_kube, "v1.7")
    models = [
        {
            "name": "sklearn-iris",
            "namespace": "default",
            "storage_uri": "s3://kf-sandbox-models/default/sklearn-iris",
            "source": str(ARTEFACT),
        },
        {
            "name": "iris-v2",
            "namespace": "staging",
            "bucket": "kf-sandbox-models",
            "protocol": "v2",
            "model_format": True,
            "s3_access": "secret",
        },
    ]
    # The bucket exists already and a training pipeline put the v2 model there (the role converges the bucket).
    s3 = aws(env, "s3")
    s3.create_bucket(Bucket="kf-sandbox-models", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket="kf-sandbox-models", Key="staging/iris-v2/model.joblib", Body=ARTEFACT.read_bytes())
    settings = {
        "kubeflow_ops_kubeflow_era": "v1.7",
        "kubeflow_ops_models": models,
        "kubeflow_ops_api_tokens": [TOKEN, SECOND_TOKEN],
        "kubeflow_ops_models_s3_credentials": S3_KEYS,
        # As in site.yml, where the auth role ran earlier in the same playbook.
        "auth_outputs": {"hosted_zone_id": auth["zone_id"], "certificate_arn": auth["certificate_arn"]},
    }
    extra = ["-e", json.dumps(settings)]
    up, down = write_playbooks(tmp_path)
    seen = len(predictor.requests())

    first = run_playbook(up, env, args=extra)
    assert first.rc == 0, first.output[-6000:]
    assert first.changed > 0
    assert_no_secrets(first.output)

    # Knative: exactly the platform domain, the example key gone, Kubeflow's labels kept.
    domain_config = config_domain(sandbox_kube)
    assert domain_config["data"] == {DOMAIN: ""}
    assert domain_config["metadata"]["labels"] == {"serving.knative.dev/release": "kubeflow"}

    # The API ingress: ALB, HTTPS with the regional certificate, header conditions, one host rule per namespace.
    ingress = k8s.NetworkingV1Api(api).read_namespaced_ingress("istio-ingress-api", "istio-system")
    notes = ingress.metadata.annotations
    assert notes["alb.ingress.kubernetes.io/certificate-arn"] == auth["certificate_arn"]
    assert notes["alb.ingress.kubernetes.io/scheme"] == "internet-facing"
    assert json.loads(notes["alb.ingress.kubernetes.io/listen-ports"]) == [{"HTTPS": 443}]
    conditions = json.loads(notes["alb.ingress.kubernetes.io/conditions.istio-ingressgateway"])
    assert conditions == [
        {"field": "http-header", "httpHeaderConfig": {"httpHeaderName": "x-api-key", "values": [TOKEN, SECOND_TOKEN]}}
    ]
    assert [r.host for r in ingress.spec.rules] == [f"*.{ns}.{DOMAIN}" for ns in NAMESPACES]
    assert ingress.spec.ingress_class_name == "alb"
    hostname = ingress.status.load_balancer.ingress[0].hostname
    (balancer,) = load_balancers(env)
    assert balancer["DNSName"] == hostname and balancer["Scheme"] == "internet-facing"

    # DNS: *.<ns>.<domain> -> A alias to the ALB, with its canonical hosted zone.
    records = serving_records(env, auth["zone_id"])
    assert sorted(records) == [f"*.{ns}.{DOMAIN}." for ns in NAMESPACES]
    for record in records.values():
        assert record["Type"] == "A"
        assert record["AliasTarget"]["HostedZoneId"] == balancer["CanonicalHostedZoneId"]
        assert record["AliasTarget"]["DNSName"].rstrip(".") == f"dualstack.{hostname}".lower()

    # The AuthorizationPolicy fix: per serving namespace and component, from the gateway's and Knative's namespaces.
    policies = sandbox_kube.objects(kind="AuthorizationPolicy")
    assert sorted((p["metadata"]["namespace"], p["metadata"]["name"]) for p in policies) == [
        (ns, f"kubeflow-ops-serving-{component}") for ns in NAMESPACES for component in ("predictor", "transformer")
    ]
    assert policies[0]["spec"]["rules"] == [{"from": [{"source": {"namespaces": ["istio-system", "knative-serving"]}}]}]

    # Models: encrypted private buckets, the artefact uploaded, IRSA with a read-only policy per namespace.
    assert buckets(env) == ["kf-sandbox-models"]
    for bucket in buckets(env):
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert all(block.values())
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    keys = {b: [o["Key"] for o in s3.list_objects_v2(Bucket=b).get("Contents", [])] for b in buckets(env)}
    assert keys == {"kf-sandbox-models": ["default/sklearn-iris/model.joblib", "staging/iris-v2/model.joblib"]}
    assert local_policies(env) == ["kf-sandbox-models-default-models-s3-reader"]
    iam = aws(env, "iam")
    (policy,) = iam.list_policies(Scope="Local")["Policies"]
    document = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])
    statements = {st["Sid"]: st for st in document["PolicyVersion"]["Document"]["Statement"]}
    assert statements["ReadModels"]["Action"] == ["s3:GetObject"]
    assert statements["ReadModels"]["Resource"] == ["arn:aws:s3:::kf-sandbox-models/default/sklearn-iris/*"]
    assert statements["ListModels1"]["Condition"] == {
        "StringLike": {"s3:prefix": ["default/sklearn-iris", "default/sklearn-iris/*"]}
    }
    accounts = {
        (a["metadata"]["namespace"], a["metadata"]["name"]): a["metadata"].get("annotations", {})
        for a in sandbox_kube.objects(kind="ServiceAccount")
    }
    assert accounts[("default", "models-s3-reader")]["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::")
    # KServe's S3 annotations on the Secret of the staging reader, attached to its service account.
    (secret,) = [
        o for o in sandbox_kube.objects(kind="Secret", namespace="staging") if o["metadata"]["name"].endswith("-s3")
    ]
    assert secret["metadata"]["annotations"]["serving.kserve.io/s3-region"] == REGION
    (account,) = [
        a
        for a in sandbox_kube.objects(kind="ServiceAccount", namespace="staging")
        if a["metadata"]["name"] == "models-s3-reader"
    ]
    assert account["secrets"] == [{"name": "models-s3-reader-s3"}]

    # InferenceServices in KServe's API: a framework predictor, and a modelFormat one speaking v2.
    isvcs = {o["metadata"]["name"]: o for o in inference_services(sandbox_kube)}
    assert {o["apiVersion"] for o in isvcs.values()} == {"serving.kserve.io/v1beta1"}
    assert isvcs["sklearn-iris"]["spec"] == {
        "predictor": {
            "serviceAccountName": "models-s3-reader",
            "sklearn": {"storageUri": "s3://kf-sandbox-models/default/sklearn-iris"},
        }
    }
    assert isvcs["iris-v2"]["spec"]["predictor"]["model"] == {
        "modelFormat": {"name": "sklearn"},
        "protocolVersion": "v2",
        "storageUri": "s3://kf-sandbox-models/staging/iris-v2",
    }
    assert isvcs["iris-v2"]["status"]["url"] == f"http://iris-v2.staging.{DOMAIN}"

    # The smoke predictions went through the proxy to the model hosts, with the token, and succeeded.
    assert smoke_requests(predictor, seen) == [
        (f"sklearn-iris.default.{DOMAIN}", "/v1/models/sklearn-iris:predict", 200, True),
        (f"iris-v2.staging.{DOMAIN}", "/v2/models/iris-v2/infer", 200, True),
    ]
    shown = " ".join(first.output.split())
    assert (
        f"default/sklearn-iris (https://sklearn-iris.default.{DOMAIN}/v1/models/sklearn-iris:predict): [1, 1]" in shown
    )
    assert f"staging/iris-v2 (https://iris-v2.staging.{DOMAIN}/v2/models/iris-v2/infer): [1, 1]" in shown

    # Second run: nothing changes, nothing is duplicated, the tokens stay hidden.
    seen = len(predictor.requests())
    second = run_playbook(up, env, args=extra)
    assert second.rc == 0, second.output[-6000:]
    assert second.changed == 0, second.output[-8000:]
    assert_no_secrets(second.output)
    assert len(load_balancers(env)) == 1 and len(inference_services(sandbox_kube)) == 2
    assert sorted(serving_records(env, auth["zone_id"])) == [f"*.{ns}.{DOMAIN}." for ns in NAMESPACES]
    assert len(local_policies(env)) == 1 and len(irsa_stacks(env)) == 1
    assert [s for _h, _p, s, _t in smoke_requests(predictor, seen)] == [200, 200]

    # Teardown: records, Ingress (its ALB gone), InferenceServices, service accounts, policies; buckets kept.
    gone = run_playbook(down, env, args=extra)
    assert gone.rc == 0, gone.output[-6000:]
    assert sandbox_kube.objects(kind="Ingress") == []
    assert load_balancers(env) == []
    assert serving_records(env, auth["zone_id"]) == {}
    assert inference_services(sandbox_kube) == []
    assert sandbox_kube.objects(kind="AuthorizationPolicy") == []
    assert [
        a for a in sandbox_kube.objects(kind="ServiceAccount") if a["metadata"]["name"].endswith("-s3-reader")
    ] == []
    assert [s for s in sandbox_kube.objects(kind="Secret") if s["metadata"]["name"].endswith("-s3")] == []
    assert local_policies(env) == [] and irsa_stacks(env) == []
    assert config_domain(sandbox_kube)["data"] == {}
    assert buckets(env) == ["kf-sandbox-models"]
    assert "stay (models_delete_buckets: true deletes them)" in " ".join(gone.output.split())


def test_kfserving_era_serves_models_twice_unchanged_then_removes_everything(
    sandbox_env, sandbox_kube, predictor, tmp_path
):
    """v1.0: KFServing 0.2 v1alpha2, S3 keys in a Secret, CNAME records, buckets deleted on teardown."""
    env = dict(sandbox_env, **predictor.env())
    auth = auth_layer(env)
    sandbox_kube.write_kubeconfig(env["KUBEFLOW_OPS_KUBECONFIG"])
    api = kubeflow_installed(sandbox_kube, "v1.0")
    settings = {
        "kubeflow_ops_kubeflow_era": "v1.0",
        "kubeflow_ops_models_s3_credentials": S3_KEYS,
        "kfserving_dns_record_type": "CNAME",
        "models_delete_buckets": True,
    }
    extra_vars = tmp_path / "vars.json"
    extra_vars.write_text(json.dumps(settings))
    extra = ["-e", f"@{extra_vars}"]
    up, down = write_playbooks(tmp_path)
    seen = len(predictor.requests())

    first = run_playbook(up, env, args=extra)
    assert first.rc == 0, first.output[-6000:]
    assert first.changed > 0
    assert_no_secrets(first.output)
    assert config_domain(sandbox_kube)["data"] == {DOMAIN: ""}

    # No security.istio.io in Kubeflow 1.0's Istio: no AuthorizationPolicy; the webhook's namespace label instead.
    assert sandbox_kube.objects(kind="AuthorizationPolicy") == []
    labels = {n["metadata"]["name"]: n["metadata"].get("labels", {}) for n in sandbox_kube.objects(kind="Namespace")}
    for ns in NAMESPACES:
        assert labels[ns]["serving.kubeflow.org/inferenceservice"] == "enabled"

    hostname = (
        k8s.NetworkingV1Api(api)
        .read_namespaced_ingress("istio-ingress-api", "istio-system")
        .status.load_balancer.ingress[0]
        .hostname
    )
    records = serving_records(env, auth["zone_id"])
    assert {name: (r["Type"], r["ResourceRecords"][0]["Value"]) for name, r in records.items()} == {
        f"*.{ns}.{DOMAIN}.": ("CNAME", hostname) for ns in NAMESPACES
    }

    # S3 keys in a Secret with KFServing's annotations, attached to the predictor's service account.
    (secret,) = [s for s in sandbox_kube.objects(kind="Secret") if s["metadata"]["name"] == "models-s3-reader-s3"]
    assert secret["metadata"]["annotations"]["serving.kubeflow.org/s3-endpoint"] == f"s3.{REGION}.amazonaws.com"
    assert set(secret["data"]) == {"awsAccessKeyID", "awsSecretAccessKey"}
    (account,) = [a for a in sandbox_kube.objects(kind="ServiceAccount") if a["metadata"]["name"] == "models-s3-reader"]
    assert account["secrets"] == [{"name": "models-s3-reader-s3"}]
    assert local_policies(env) == []

    (isvc,) = inference_services(sandbox_kube)
    assert isvc["apiVersion"] == "serving.kubeflow.org/v1alpha2"
    assert isvc["spec"] == {
        "default": {
            "predictor": {
                "serviceAccountName": "models-s3-reader",
                "sklearn": {"storageUri": "s3://kf-sandbox-models/default/sklearn-iris"},
            }
        }
    }
    assert smoke_requests(predictor, seen) == [
        (f"sklearn-iris.default.{DOMAIN}", "/v1/models/sklearn-iris:predict", 200, True)
    ]

    # Second run, at -vvv: nothing changes, and neither the tokens nor the S3 keys show up even there.
    second = run_playbook(up, env, args=extra + ["-vvv"])
    assert second.rc == 0, second.output[-6000:]
    assert second.changed == 0, second.output[-8000:]
    assert_no_secrets(second.output)
    assert "no_log: true" in second.output or "censored" in second.output
    assert len(load_balancers(env)) == 1 and len(inference_services(sandbox_kube)) == 1

    gone = run_playbook(down, env, args=extra)
    assert gone.rc == 0, gone.output[-6000:]
    assert_no_secrets(gone.output)
    assert sandbox_kube.objects(kind="Ingress") == [] and load_balancers(env) == []
    assert serving_records(env, auth["zone_id"]) == {}
    assert inference_services(sandbox_kube) == []
    assert [s for s in sandbox_kube.objects(kind="Secret") if s["metadata"]["name"].endswith("-s3")] == []
    assert [
        a for a in sandbox_kube.objects(kind="ServiceAccount") if a["metadata"]["name"].endswith("-s3-reader")
    ] == []
    assert buckets(env) == []
    assert config_domain(sandbox_kube)["data"] == {}


# --------------------------------------------------------------------------- bad input

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

    out = tmp_path / "results.json"
    plays = ["- hosts: kubeflow_ops", "  gather_facts: false", "  vars:", "    results: {}", "  tasks:"]
    for index, (name, (role, role_vars, _expected)) in enumerate(BAD_INPUT.items()):
        plays += [
            f"    - name: case {index}",
            "      block:",
            "        - ansible.builtin.include_role:",
            f"            name: kubeflow_ops.aws.{role}",
            f"          vars: {json.dumps(role_vars)}",
            "        - ansible.builtin.set_fact:",
            f"            results: \"{{{{ results | combine({{'{name}': 'NO FAILURE'}}) }}}}\"",
            "      rescue:",
            "        - ansible.builtin.set_fact:",
            f"            results: \"{{{{ results | combine({{'{name}': failure}}) }}}}\"",
            "          vars:",
            "            failure: >-",
            "              {{ ansible_failed_result.msg | default('') | string }}",
            "              {{ ansible_failed_result.results | default([]) | selectattr('failed', 'defined')",
            "                 | selectattr('failed') | map(attribute='msg') | map('string') | join(' | ') }}",
        ]
    plays += [
        "    - ansible.builtin.copy:",
        '        content: "{{ results | to_json }}"',
        f"        dest: {out}",
        '        mode: "0600"',
    ]
    playbook = tmp_path / "bad_input.yml"
    playbook.write_text("\n".join(plays) + "\n")
    run = run_playbook(str(playbook), sandbox_env)
    assert run.rc == 0, run.output[-4000:]
    results = json.loads(out.read_text())
    problems = []
    for name, (_role, _role_vars, expected) in BAD_INPUT.items():
        message = " ".join(results.get(name, "<not run>").split())
        if expected not in message:
            problems.append(f"{name}: expected {expected!r} in {message!r}")
    assert not problems, "\n".join(problems)
    assert len(BAD_INPUT) >= 15
    # Messages name tokens by position, never by value.
    for secret in SECRET_TOKENS + [TOKEN, S3_KEYS["secret_access_key"]]:
        assert secret not in run.output and secret not in out.read_text()
    assert cluster_state(sandbox_env, sandbox_kube, auth["zone_id"]) == before
