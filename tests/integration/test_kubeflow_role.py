"""The kubeflow role on the sandbox, run as a user runs it: the auth layer from playbooks/auth.yml, a kubeconfig
from the cluster layer, then playbooks/kubeflow.yml twice, auth.yml again (the apex must not flip-flop) and the
teardown. The kustomize era applies a small tree of our own with the upstream shape
(tests/integration/files/kubeflow-manifests); the kfctl era runs the kfctl simulator. The stand-in's ALB
controller makes the load balancer in the sandbox AWS once the Ingress's certificate is ISSUED.
"""

from __future__ import annotations

import json
import shutil

import jinja2
import yaml

from tests.sandbox.playbook import REPO, run_failure_cases, run_playbook, unmet_expectations
from tests.sandbox.scenario import aws_client
from tests.sandbox.validate import assert_valid

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
    extra = settings_file(tmp_path, kubeflow_ops_kubeflow_manifests_dir=str(manifests), kubeflow_ops_profiles=PROFILES)
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


def test_bad_input_fails_before_anything_changes(sandbox_env, sandbox_kube, tmp_path):
    env = sandbox_env
    sandbox_kube.write_kubeconfig(env["KUBEFLOW_OPS_KUBECONFIG"])
    good = {"kubeflow_manifests_dir": str(MANIFESTS)}
    cognito = {
        "kubeflow_certificate_arn": f"arn:aws:acm:{REGION}:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
        "kubeflow_user_pool_arn": f"arn:aws:cognito-idp:{REGION}:123456789012:userpool/{REGION}_AbCdEfGhI",
        "kubeflow_app_client_id": "5example1clientid2abcdefgh",
        "kubeflow_user_pool_domain": f"auth.{DOMAIN}",
        "kubeflow_hosted_zone_id": "Z0123456789ABCDEFGHIJ",
    }
    role = "kubeflow_ops.aws.kubeflow"
    cases = {
        "unknown era": (role, {**good, "kubeflow_kubeflow_era": "v2.0"}),
        "unknown method": (role, {**good, "kubeflow_install_method": "helm"}),
        "kfctl for the kustomize era": (role, {**good, "kubeflow_install_method": "kfctl"}),
        "manifests dir missing": (role, {"kubeflow_manifests_dir": str(tmp_path / "nowhere")}),
        "manifests dir empty": (role, {"kubeflow_manifests_dir": ""}),
        "manifests dir relative": (role, {"kubeflow_manifests_dir": "kubeflow-manifests"}),
        "profile name not DNS-safe": (
            role,
            {**good, "kubeflow_profiles": [{"name": "Team_A", "owner": "a@example.com"}]},
        ),
        "owner not an e-mail": (role, {**good, "kubeflow_profiles": [{"name": "team-a", "owner": "alice"}]}),
        "reserved profile": (role, {**good, "kubeflow_profiles": [{"name": "kube-system", "owner": "a@example.com"}]}),
        "profile twice": (
            role,
            {**good, "kubeflow_profiles": [{"name": "team-a", "owner": "a@example.com"}] * 2},
        ),
        "certificate of Cognito region": (
            role,
            {**good, "kubeflow_certificate_arn": cognito["kubeflow_certificate_arn"].replace(REGION, "us-east-1")},
        ),
        "bad scheme": (role, {**good, "kubeflow_load_balancer_scheme": "public"}),
        "bad KfDef version": (role, {"kubeflow_kubeflow_era": "v1.0", "kubeflow_kfdef_version": "v1.7.0"}),
        "no auth layer": (role, good),
        "no node instance roles": (role, {**cognito, "kubeflow_kubeflow_era": "v1.0"}),
    }
    expected = {
        "unknown era": "v2.0",
        "unknown method": "helm",
        "kfctl for the kustomize era": "does not install the v1.7 era",
        "manifests dir missing": "does not exist",
        "manifests dir empty": "kubeflow_manifests_dir is empty",
        "manifests dir relative": "must be an absolute path",
        "profile name not DNS-safe": "'Team_A' is not DNS-safe",
        "owner not an e-mail": "is not an e-mail address",
        "reserved profile": "Kubernetes or Kubeflow uses itself",
        "profile twice": "listed twice",
        "certificate of Cognito region": "regional certificate",
        "bad scheme": "public",
        "bad KfDef version": "v1.7.0",
        "no auth layer": "run the auth role",
        "no node instance roles": "NodeInstanceRole",
    }
    results = run_failure_cases(cases, env, tmp_path)
    assert not unmet_expectations(results, expected), results
    assert sum("Nothing was changed" in results[name] for name in expected) >= 10
    # Nothing was made: no zone, no load balancer, no Kubernetes object, the manifests untouched.
    assert aws_client(env, "route53").list_hosted_zones_by_name(DNSName=DOMAIN)["HostedZones"] == [] or all(
        z["Name"] != DOMAIN + "." for z in aws_client(env, "route53").list_hosted_zones()["HostedZones"]
    )
    assert load_balancers(env) == []
    assert sandbox_kube.objects(kind="Ingress") == [] and sandbox_kube.objects(kind="Profile") == []
    assert "certArn=CERT" in (MANIFESTS / "awsconfigs/common/istio-ingress/overlays/cognito/params.env").read_text()


def render(template: str, **variables) -> list:
    """A role template rendered the way Ansible renders it (the templates use only to_json)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(REPO / "roles" / "kubeflow" / "templates")))
    env.filters["to_json"] = json.dumps
    text = env.get_template(template).render(**variables)
    return [doc for doc in yaml.safe_load_all(text) if doc]


def test_rendered_kfdef_and_profiles_are_valid():
    constants = yaml.safe_load((REPO / "roles" / "kubeflow" / "vars" / "main.yml").read_text())
    applications = [
        {"name": name, "path": path, "parameters": params}
        for name, path, params in constants["__kubeflow_kfdef_applications"]
    ]
    (kfdef,) = render(
        "kfdef.yml.j2",
        kubeflow_cluster_name=CLUSTER,
        kubeflow_kfdef_version="v1.0.2",
        kubeflow_kfdef_repo_uri="https://github.com/kubeflow/manifests/archive/v1.0.2.tar.gz",
        kubeflow_region=REGION,
        __kubeflow_applications=applications,
        __kubeflow_node_roles=[f"eksctl-{CLUSTER}-nodegroup-cpu-NodeInstanceRole-1ABCDEFGHIJKL"],
        __kubeflow_cognito={
            "certificate_arn": f"arn:aws:acm:{REGION}:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
            "app_client_id": "5example1clientid2abcdefgh",
            "user_pool_arn": f"arn:aws:cognito-idp:{REGION}:123456789012:userpool/{REGION}_AbCdEfGhI",
            "user_pool_domain": f"auth.{DOMAIN}",
        },
    )
    names = [a["name"] for a in kfdef["spec"]["applications"]]
    assert (
        "istio-ingress" in names and "aws-alb-ingress-controller" not in names and "nvidia-device-plugin" not in names
    )
    (istio,) = [a for a in kfdef["spec"]["applications"] if a["name"] == "istio"]
    assert istio["kustomizeConfig"]["parameters"] == [{"name": "clusterRbacConfig", "value": "ON"}]
    plugin = kfdef["spec"]["plugins"][0]
    assert (
        plugin["kind"] == "KfAwsPlugin"
        and plugin["spec"]["auth"]["cognito"]["cognitoUserPoolDomain"] == f"auth.{DOMAIN}"
    )
    found = render(
        "profiles.yml.j2",
        kubeflow_profiles=PROFILES,
        __kubeflow_managed_label=constants["__kubeflow_managed_label"],
    )
    assert [(p["kind"], p["metadata"]["name"], p["spec"]["owner"]) for p in found] == [
        ("Profile", "team-a", {"kind": "User", "name": "alice@example.com"}),
        ("Profile", "team-b", {"kind": "User", "name": "bob@example.com"}),
    ]
    crd = yaml.safe_load((MANIFESTS / "apps" / "profiles" / "profile-crd.yaml").read_text())
    assert_valid([kfdef, crd, *found])
