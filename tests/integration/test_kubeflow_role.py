"""The kubeflow role on the sandbox, run as a user runs it: the auth layer from playbooks/auth.yml, a kubeconfig
from the cluster layer, then playbooks/kubeflow.yml twice, auth.yml again (the apex must not flip-flop) and the
teardown. The kustomize era applies a small tree of our own with the upstream shape
(tests/integration/files/kubeflow-manifests); the kfctl era runs the kfctl simulator. The stand-in's ALB
controller makes the load balancer in the sandbox AWS once the Ingress's certificate is ISSUED.
"""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

from tests.sandbox.playbook import REPO, run_failure_cases, run_playbook, unmet_expectations
from tests.sandbox.scenario import aws_client, existing_cluster

REGION = "us-west-2"
DOMAIN = "platform.example.com"
CLUSTER = "kf-sandbox"  # inventories/sandbox
MANIFESTS = REPO / "tests" / "integration" / "files" / "kubeflow-manifests"
SANDBOX_BIN = REPO / "tests" / "sandbox" / "bin"
PROFILES = [{"name": "team-a", "owner": "alice@example.com"}, {"name": "team-b", "owner": "bob@example.com"}]
NODE_GROUP = {"name": "cpu", "instanceType": "m5.xlarge", "desiredCapacity": 1, "minSize": 1, "maxSize": 2}
ABSENT = ["-e", "kubeflow_state=absent"]


def zone_id(env) -> str:
    zones = aws_client(env, "route53").list_hosted_zones_by_name(DNSName=DOMAIN)["HostedZones"]
    return [z["Id"].split("/")[-1] for z in zones if z["Name"] == DOMAIN + "."][0]


def records(env) -> dict:
    found = aws_client(env, "route53").list_resource_record_sets(HostedZoneId=zone_id(env))["ResourceRecordSets"]
    return {(r["Name"].replace("\\052", "*"), r["Type"]): r for r in found if r["Type"] not in ("NS", "SOA")}


def load_balancers(env) -> list:
    return aws_client(env, "elbv2", REGION).describe_load_balancers()["LoadBalancers"]


def settings_file(tmp_path, **settings) -> list:
    path = tmp_path / "kubeflow-vars.json"
    path.write_text(json.dumps(settings))
    return ["-e", f"@{path}"]


def assert_dns_points_at(env, balancer) -> None:
    found = records(env)
    wildcard = found[(f"*.{DOMAIN}.", "CNAME")]
    assert [r["Value"] for r in wildcard["ResourceRecords"]] == [balancer["DNSName"]]
    apex = found[(f"{DOMAIN}.", "A")]
    assert "ResourceRecords" not in apex or not apex["ResourceRecords"]
    assert apex["AliasTarget"]["HostedZoneId"] == balancer["CanonicalHostedZoneId"]
    assert apex["AliasTarget"]["DNSName"].rstrip(".").lower() == f"dualstack.{balancer['DNSName']}".lower()
    # The serving namespaces' wildcards are the kfserving role's.
    assert not [name for name, _type in found if name.startswith("*.") and name != f"*.{DOMAIN}."]


def profiles(kube) -> list:
    return sorted((p["metadata"]["name"], p["spec"]["owner"]["name"]) for p in kube.objects(kind="Profile"))


def converge_twice_then_auth_again(env, extra, kube) -> dict:
    first = run_playbook("playbooks/kubeflow.yml", env, args=extra)
    assert first.rc == 0, first.output[-6000:]
    assert first.changed > 0
    (balancer,) = load_balancers(env)
    (ingress,) = [i for i in kube.objects(kind="Ingress") if i["metadata"]["name"] == "istio-ingress"]
    assert ingress["metadata"]["namespace"] == "istio-system"
    assert ingress["status"]["loadBalancer"]["ingress"][0]["hostname"] == balancer["DNSName"]
    assert_dns_points_at(env, balancer)
    assert profiles(kube) == [("team-a", "alice@example.com"), ("team-b", "bob@example.com")]
    assert f"https://kubeflow.{DOMAIN}" in first.output

    second = run_playbook("playbooks/kubeflow.yml", env, args=extra)
    assert second.rc == 0, second.output[-6000:]
    assert second.changed == 0, second.output[-8000:]
    assert len(load_balancers(env)) == 1
    assert_dns_points_at(env, balancer)

    # The auth role again: it sees an apex that is not its placeholder and leaves it.
    auth = run_playbook("playbooks/auth.yml", env)
    assert auth.rc == 0, auth.output[-6000:]
    assert auth.changed == 0, auth.output[-8000:]
    assert_dns_points_at(env, balancer)
    return {"ingress": ingress, "balancer": balancer}


def tear_down(env, extra, kube) -> None:
    gone = run_playbook("playbooks/kubeflow.yml", env, args=extra + ABSENT)
    assert gone.rc == 0, gone.output[-6000:]
    assert load_balancers(env) == []
    assert kube.objects(kind="Ingress") == []
    assert kube.objects(kind="Profile") == []
    assert set(records(env)) == {(f"auth.{DOMAIN}.", "A")} | {
        (name, "CNAME") for name, kind in records(env) if kind == "CNAME" and name.startswith("_")
    }
    again = run_playbook("playbooks/kubeflow.yml", env, args=extra + ABSENT)
    assert again.rc == 0, again.output[-6000:]
    assert again.changed == 0, again.output[-8000:]


def test_kustomize_era_converges_twice_without_flip_flop_then_tears_down(sandbox_env, sandbox_kube, tmp_path):
    env = sandbox_env
    sandbox_kube.write_kubeconfig(env["KUBEFLOW_OPS_KUBECONFIG"])
    manifests = tmp_path / "kubeflow-manifests"
    shutil.copytree(MANIFESTS, manifests)
    extra = settings_file(
        tmp_path, kubeflow_ops_kubeflow_manifests_dir=str(manifests), kubeflow_ops_profiles=PROFILES
    )
    auth = run_playbook("playbooks/auth.yml", env)
    assert auth.rc == 0, auth.output[-6000:]

    # Check mode first: the plan, nothing written (params files stay placeholders, no objects).
    plan = run_playbook("playbooks/kubeflow.yml", env, args=extra + ["--check"])
    assert plan.rc == 0, plan.output[-6000:]
    assert plan.changed > 0
    assert sandbox_kube.objects(kind="Ingress") == [] and load_balancers(env) == []
    assert "certArn=CERT" in (manifests / "awsconfigs/common/istio-ingress/overlays/cognito/params.env").read_text()

    made = converge_twice_then_auth_again(env, extra, sandbox_kube)
    notes = made["ingress"]["metadata"]["annotations"]
    certificate = notes["alb.ingress.kubernetes.io/certificate-arn"]
    assert certificate.startswith(f"arn:aws:acm:{REGION}:")
    cognito = json.loads(notes["alb.ingress.kubernetes.io/auth-idp-cognito"])
    assert cognito["UserPoolDomain"] == f"auth.{DOMAIN}"
    assert cognito["UserPoolArn"].startswith(f"arn:aws:cognito-idp:{REGION}:")
    assert notes["alb.ingress.kubernetes.io/scheme"] == "internet-facing"
    params = (manifests / "awsconfigs/common/istio-ingress/overlays/cognito/params.env").read_text().splitlines()
    assert [line.split("=")[0] for line in params] == [
        "CognitoUserPoolArn",
        "CognitoAppClientId",
        "CognitoUserPoolDomain",
        "certArn",
    ]
    assert made["balancer"]["Scheme"] == "internet-facing"
    (domain_config,) = [c for c in sandbox_kube.objects(kind="ConfigMap") if c["metadata"]["name"] == "config-domain"]
    assert "_example" in domain_config["data"]

    tear_down(env, extra, sandbox_kube)
    names = {n["metadata"]["name"] for n in sandbox_kube.objects(kind="Namespace")}
    assert not names & {"kubeflow", "istio-system", "knative-serving"}
