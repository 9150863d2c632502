"""The kubeflow role on the sandbox: bad input fails before anything changes, and what it renders (KfDef,
Profiles) is valid. Its whole lifecycle in both eras (kustomize with a small tree of the upstream shape,
kfctl with the simulator), twice and through the teardown, is in test_platform.py via site.yml.
"""

from __future__ import annotations

import json

import jinja2
import yaml

from tests.sandbox.harness.playbook import REPO, run_failure_cases, unmet_expectations
from tests.sandbox.harness.scenario import aws_client
from tests.sandbox.harness.validate import assert_valid

REGION = "us-west-2"
DOMAIN = "platform.example.com"
CLUSTER = "kf-sandbox"  # inventories/sandbox
MANIFESTS = REPO / "tests" / "integration" / "files" / "kubeflow-manifests"
PROFILES = [{"name": "team-a", "owner": "alice@example.com"}, {"name": "team-b", "owner": "bob@example.com"}]


def load_balancers(env) -> list:
    return aws_client(env, "elbv2", REGION).describe_load_balancers()["LoadBalancers"]


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
