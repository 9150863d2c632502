"""The whole platform, one era per test, run as users run it: site.yml twice, then teardown.yml.

`ansible-playbook site.yml -i inventories/sandbox` builds the auth layer, the EKS cluster with its CPU and GPU
node groups, Kubeflow (v1.7: kustomize manifests with the Cognito overlay; v1.0: kfctl with a KfDef and its
KfAwsPlugin), Knative's domain, the API ingress with header tokens, and the inventory's model, which must answer
a smoke prediction through the API ingress. The era is the inventory's kubeflow_ops_kubeflow_era (the sandbox
inventory reads it from KUBEFLOW_OPS_SANDBOX_ERA). The second run must change nothing and duplicate nothing;
teardown.yml must leave no cluster, Kubernetes object, load balancer, record, certificate, pool or bucket.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.sandbox.harness.playbook import run_playbook
from tests.sandbox.harness.scenario import aws_client, inventory_of_auth, live_stacks

DOMAIN = "platform.example.com"
REGION = "us-west-2"
CLUSTER = "kf-sandbox"
NAMESPACES = ["default", "staging"]
# Secrets of inventories/sandbox: none may show in any output.
SECRETS = (
    "Sandbox-Temp-Passw0rd-9f3",
    "sandbox-api-token-7d41c9e2b8",
    "sandbox-model-reader-secret-0d9f2a",
)
ERAS = {
    # era: (InferenceService apiVersion, path of the smoke prediction)
    "v1.7": ("serving.kserve.io/v1beta1", "/v1/models/sklearn-iris:predict"),
    "v1.0": ("serving.kubeflow.org/v1alpha2", "/v1/models/sklearn-iris:predict"),
}
ROOT_RECORD_TYPES = ("NS", "SOA")
COGNITO_PARAMS = "awsconfigs/common/istio-ingress/overlays/cognito/params.env"


def records(env, zone_id) -> dict:
    """The platform zone's records by (name with `*` for Route53's `\\052`, type)."""
    found = aws_client(env, "route53").list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return {(r["Name"].replace("\\052", "*"), r["Type"]): r for r in found}


def load_balancers(env) -> dict:
    return {lb["DNSName"]: lb for lb in aws_client(env, "elbv2", REGION).describe_load_balancers()["LoadBalancers"]}


def buckets(env) -> list:
    return sorted(b["Name"] for b in aws_client(env, "s3").list_buckets()["Buckets"])


def ingress(kube, name) -> dict:
    (found,) = [i for i in kube.objects(kind="Ingress", namespace="istio-system") if i["metadata"]["name"] == name]
    return found


def ingress_hostname(obj) -> str:
    return obj["status"]["loadBalancer"]["ingress"][0]["hostname"]


def assert_no_secrets(output: str) -> None:
    for secret in SECRETS:
        assert secret not in output, "a secret was printed"


def snapshot(env, kube, zone_id) -> dict:
    """What must not be duplicated or moved by a second run."""
    return {
        "auth": inventory_of_auth(env, DOMAIN, REGION),
        "records": records(env, zone_id),
        "load_balancers": sorted(load_balancers(env)),
        "buckets": buckets(env),
        "stacks": live_stacks(env),
        "isvcs": sorted(
            (o["apiVersion"], o["metadata"]["namespace"], o["metadata"]["name"])
            for o in kube.objects(kind="InferenceService")
        ),
        "ingresses": sorted(
            (o["metadata"]["namespace"], o["metadata"]["name"], ingress_hostname(o))
            for o in kube.objects(kind="Ingress")
        ),
    }


@pytest.mark.parametrize("era", sorted(ERAS))
def test_site_yml_builds_the_whole_platform_twice_unchanged_and_teardown_leaves_nothing(
    era, sandbox_env, sandbox_kube, sandbox_predictor
):
    env = dict(sandbox_env, KUBEFLOW_OPS_SANDBOX_ERA=era, **sandbox_predictor.env())
    isvc_api, predict_path = ERAS[era]
    seen = len(sandbox_predictor.requests())

    first = run_playbook("site.yml", env)
    assert first.rc == 0, first.output[-6000:]
    assert first.changed > 0
    assert_no_secrets(first.output)

    # --- auth: one zone delegated from the root zone, one pool with its client, certificates issued.
    found = inventory_of_auth(env, DOMAIN, REGION)
    (zone,) = found["zones"]
    zone_id = zone["Id"].split("/")[-1]
    (pool,) = found["pools"]
    (app,) = found["clients"][pool["Id"]]
    app = aws_client(env, "cognito-idp").describe_user_pool_client(UserPoolId=pool["Id"], ClientId=app["ClientId"])
    assert app["UserPoolClient"]["CallbackURLs"] == [f"https://kubeflow.{DOMAIN}/oauth2/idpresponse"]
    assert found["domains"][pool["Id"]] == f"auth.{DOMAIN}"
    (regional,) = found["certificates"][REGION]
    assert regional["Status"] == "ISSUED"
    assert set(regional["SubjectAlternativeNames"]) == {f"*.{DOMAIN}"} | {f"*.{ns}.{DOMAIN}" for ns in NAMESPACES}
    (cognito_certificate,) = found["certificates"]["us-east-1"]
    assert cognito_certificate["Status"] == "ISSUED"
    assert sorted(found["users"][pool["Id"]]) == ["alice", "bob"]
    assert sorted(found["groups"][pool["Id"]]) == ["admins", "data-scientists"]
    root_zone = env["KUBEFLOW_OPS_SANDBOX_ROOT_ZONE_ID"]
    delegation = aws_client(env, "route53").list_resource_record_sets(HostedZoneId=root_zone)["ResourceRecordSets"]
    assert [(r["Name"], r["Type"]) for r in delegation if r["Name"] == DOMAIN + "."] == [(DOMAIN + ".", "NS")]

    # --- Kubeflow: its ALB behind Cognito, the domain pointed at it (wildcard CNAME, apex alias).
    dashboard = ingress(sandbox_kube, "istio-ingress")
    notes = dashboard["metadata"]["annotations"]
    assert notes["alb.ingress.kubernetes.io/certificate-arn"] == regional["CertificateArn"]
    auth_idp = json.loads(notes["alb.ingress.kubernetes.io/auth-idp-cognito"])
    assert auth_idp == {
        "UserPoolArn": pool_arn(env, pool["Id"]),
        "UserPoolClientId": app["UserPoolClient"]["ClientId"],
        "UserPoolDomain": f"auth.{DOMAIN}",
    }
    dashboard_alb = ingress_hostname(dashboard)
    balancers = load_balancers(env)
    assert dashboard_alb in balancers
    zone_records = records(env, zone_id)
    wildcard = zone_records[(f"*.{DOMAIN}.", "CNAME")]
    assert [r["Value"].rstrip(".") for r in wildcard["ResourceRecords"]] == [dashboard_alb]
    apex = zone_records[(f"{DOMAIN}.", "A")]["AliasTarget"]
    assert apex["DNSName"].rstrip(".").lower() == f"dualstack.{dashboard_alb}".lower()
    assert apex["HostedZoneId"] == balancers[dashboard_alb]["CanonicalHostedZoneId"]
    shown = " ".join(first.output.split())
    assert f"Kubeflow dashboard: https://kubeflow.{DOMAIN}" in shown
    # The team's Profile made its namespace (inventories/sandbox: staging, bob's).
    assert [p["metadata"]["name"] for p in sandbox_kube.objects(kind="Profile")] == ["staging"]

    # --- Knative: routes on the platform domain, the example key gone.
    (config_domain,) = [
        c
        for c in sandbox_kube.objects(kind="ConfigMap", namespace="knative-serving")
        if c["metadata"]["name"] == "config-domain"
    ]
    assert config_domain["data"] == {DOMAIN: ""}

    # --- Serving: the API ingress with the header token on its own ALB; *.<ns>.<domain> lead to it.
    api = ingress(sandbox_kube, "istio-ingress-api")
    conditions = json.loads(api["metadata"]["annotations"]["alb.ingress.kubernetes.io/conditions.istio-ingressgateway"])
    assert conditions[0]["httpHeaderConfig"]["httpHeaderName"] == "x-api-key"
    api_alb = ingress_hostname(api)
    assert api_alb in load_balancers(env) and api_alb != dashboard_alb
    for ns in NAMESPACES:
        names = [key for key in zone_records if key[0] == f"*.{ns}.{DOMAIN}."]
        assert len(names) == 1, names
        record = zone_records[names[0]]
        target = record.get("AliasTarget", {}).get("DNSName") or record["ResourceRecords"][0]["Value"]
        assert api_alb.lower() in target.lower()

    # --- The model: in its bucket, served in the era's API, Ready, and answering through the API ingress.
    (isvc,) = sandbox_kube.objects(kind="InferenceService")
    assert isvc["apiVersion"] == isvc_api
    assert (isvc["metadata"]["namespace"], isvc["metadata"]["name"]) == ("default", "sklearn-iris")
    assert {c["type"]: c["status"] for c in isvc["status"]["conditions"]}["Ready"] == "True"
    s3 = aws_client(env, "s3")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="kf-sandbox-models")["Contents"]] == [
        "default/sklearn-iris/model.joblib"
    ]
    smoke = [(r["host"], r["path"], r["status"], r["token_sent"]) for r in sandbox_predictor.requests()[seen:]]
    assert smoke == [(f"sklearn-iris.default.{DOMAIN}", predict_path, 200, True)]
    assert f"default/sklearn-iris (https://sklearn-iris.default.{DOMAIN}{predict_path}): [1, 1]" in shown

    # --- Second run: nothing changes, nothing is duplicated or moved; the smoke prediction runs again.
    before = snapshot(env, sandbox_kube, zone_id)
    seen = len(sandbox_predictor.requests())
    second = run_playbook("site.yml", env)
    assert second.rc == 0, second.output[-6000:]
    assert second.changed == 0, second.output[-10000:]
    assert_no_secrets(second.output)
    assert snapshot(env, sandbox_kube, zone_id) == before
    assert [r["status"] for r in sandbox_predictor.requests()[seen:]] == [200]

    if era == "v1.7":
        # A plan of the converged platform shows no change and changes nothing.
        plan = run_playbook("site.yml", env, args=["--check", "--diff"])
        assert plan.rc == 0, plan.output[-6000:]
        assert plan.changed == 0, plan.output[-10000:]
        assert_no_secrets(plan.output)
        assert snapshot(env, sandbox_kube, zone_id) == before
        # The Cognito parameters went into the manifests checkout's params.env, written whole.
        params = Path(env["KUBEFLOW_OPS_SANDBOX_MANIFESTS"]) / COGNITO_PARAMS
        assert [line.split("=", 1)[0] for line in params.read_text().splitlines()] == [
            "CognitoUserPoolArn",
            "CognitoAppClientId",
            "CognitoUserPoolDomain",
            "certArn",
        ]

    # --- Teardown: nothing of the platform is left, in AWS or in the cluster.
    down = run_playbook("playbooks/teardown.yml", env)
    assert down.rc == 0, down.output[-6000:]
    assert_no_secrets(down.output)
    assert aws_client(env, "eks").list_clusters()["clusters"] == []
    assert live_stacks(env) == []
    assert load_balancers(env) == {}
    assert buckets(env) == []
    auth_left = inventory_of_auth(env, DOMAIN, REGION)
    assert auth_left["zones"] == [] and auth_left["pools"] == []
    assert auth_left["certificates"] == {REGION: [], "us-east-1": []}
    root = aws_client(env, "route53").list_resource_record_sets(HostedZoneId=env["KUBEFLOW_OPS_SANDBOX_ROOT_ZONE_ID"])
    assert [r for r in root["ResourceRecordSets"] if r["Type"] not in ROOT_RECORD_TYPES] == []
    assert [r for r in root["ResourceRecordSets"] if r["Name"] == DOMAIN + "."] == []
    for kind in ("InferenceService", "Ingress", "Profile", "Node", "CustomResourceDefinition"):
        assert sandbox_kube.objects(kind=kind) == [], kind

    # A second teardown changing nothing is checked by the cluster lifecycle test (the same playbook).


def pool_arn(env, pool_id) -> str:
    return aws_client(env, "cognito-idp").describe_user_pool(UserPoolId=pool_id)["UserPool"]["Arn"]
