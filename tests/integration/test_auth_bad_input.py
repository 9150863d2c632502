"""Bad input to the auth role: each case fails with a clear message and nothing is created."""

from __future__ import annotations

import boto3

from tests.integration.test_auth_role import REGION, assert_nothing_created
from tests.sandbox.harness.playbook import run_failure_cases, run_playbook, unmet_expectations

# case name -> (extra vars for the role, a piece of the expected message)
CASES = {
    "domain not a DNS name": ({"auth_domain": "platform_example"}, "is not a DNS name"),
    "single-label domain": ({"auth_domain": "localhost"}, "is not a DNS name with at least two labels"),
    "region not a region": ({"auth_region": "uswest2"}, "is not an AWS region name"),
    "serving namespace not DNS-safe": ({"auth_serving_namespaces": ["default", "Team_A"]}, "Team_A"),
    "duplicate serving namespace": ({"auth_serving_namespaces": ["default", "default"]}, "must be unique DNS labels"),
    "cognito host with a dot": ({"auth_cognito_domain_host": "auth.x"}, "must be single DNS labels"),
    "http callback URL": ({"auth_callback_urls": ["http://kubeflow.platform.example.com/cb"]}, "http://kubeflow"),
    "callback URL with fragment": (
        {"auth_callback_urls": ["https://kubeflow.platform.example.com/cb#x"]},
        "without fragments",
    ),
    "missing root zone id without manual delegation": (
        {"auth_root_zone_id": "", "auth_manual_delegation": False},
        "is not delegated to Route53",
    ),
    "domain outside the root zone": ({"auth_domain": "platform.other.org"}, "is not inside the root zone"),
    "unknown root zone id": (
        {"auth_root_zone_id": "ZNOSUCHZONE1"},
        "There is no Route53 hosted zone with the id ZNOSUCHZONE1",
    ),
    "root wildcard without root zone": (
        {"auth_root_zone_id": "", "auth_manual_delegation": True, "auth_root_wildcard_certificate": True},
        "needs auth_root_zone_id",
    ),
    "user in an undefined group": (
        {"auth_users": [{"username": "carol", "email": "carol@example.com", "groups": ["wizards"]}]},
        "wizards",
    ),
    "duplicate username": (
        {"auth_users": [{"username": "dave"}, {"username": "dave"}]},
        "unique username",
    ),
    "invalid e-mail": ({"auth_users": [{"username": "erin", "email": "erin-at-example"}]}, "invalid e-mail"),
    "password for an unknown user": (
        {"auth_users": [], "auth_user_temporary_passwords": {"mallory": "Xx-12345678-secret"}},
        "unknown users",
    ),
    "state not a choice": ({"auth_state": "gone"}, "auth_state"),
    "users not a list of dicts": ({"auth_users": "alice"}, "auth_users"),
    "wait timeout not a number": ({"auth_certificate_wait_timeout": "soon"}, "auth_certificate_wait_timeout"),
}


def test_each_bad_input_fails_clearly_and_changes_nothing(sandbox_env, tmp_path):
    results = run_failure_cases(
        {name: ("kubeflow_ops.aws.auth", role_vars) for name, (role_vars, _expected) in CASES.items()},
        sandbox_env,
        tmp_path,
    )
    problems = unmet_expectations(results, {name: expected for name, (_vars, expected) in CASES.items()})
    assert not problems, "\n".join(problems)
    assert len(CASES) >= 15
    assert_nothing_created(sandbox_env)


def test_two_pools_with_our_name_stop_before_any_change(sandbox_env):
    idp = boto3.client("cognito-idp", region_name=REGION, endpoint_url=sandbox_env["AWS_ENDPOINT_URL"])
    ids = [idp.create_user_pool(PoolName="kubeflow-sandbox")["UserPool"]["Id"] for _copy in range(2)]
    run = run_playbook("playbooks/auth.yml", sandbox_env)
    assert run.rc != 0
    assert all(pool_id in run.output for pool_id in ids), run.output[-3000:]
    pools = idp.list_user_pools(MaxResults=60)["UserPools"]
    assert sorted(p["Id"] for p in pools) == sorted(ids)
    r53 = boto3.client("route53", endpoint_url=sandbox_env["AWS_ENDPOINT_URL"])
    assert [z for z in r53.list_hosted_zones()["HostedZones"] if z["Name"] == "platform.example.com."] == []


def test_bad_auth_input_stops_site_yml_before_the_cluster_starts(sandbox_env):
    """site.yml checks every layer before the first change: a bad auth setting starts no eksctl."""
    run = run_playbook("site.yml", sandbox_env, args=["-e", "auth_domain=platform_example"])
    assert run.rc != 0
    assert "is not a DNS name" in run.output, run.output[-3000:]
    assert "Start eksctl" not in run.output
    eks = boto3.client("eks", region_name=REGION, endpoint_url=sandbox_env["AWS_ENDPOINT_URL"])
    assert eks.list_clusters()["clusters"] == []
    cfn = boto3.client("cloudformation", region_name=REGION, endpoint_url=sandbox_env["AWS_ENDPOINT_URL"])
    assert cfn.list_stacks()["StackSummaries"] == []
    assert_nothing_created(sandbox_env)
