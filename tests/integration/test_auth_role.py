"""The auth role on the sandbox, run the way users run it (ansible-playbook, sandbox inventory)."""

from __future__ import annotations

import json

import boto3
import pytest

from tests.sandbox.harness.playbook import run_playbook
from tests.sandbox.harness.scenario import inventory_of_auth

DOMAIN = "platform.example.com"
REGION = "us-west-2"
TEMP_PASSWORD = "Sandbox-Temp-Passw0rd-9f3"  # inventories/sandbox/group_vars/all.yml


def client(env, service, region=REGION):
    return boto3.client(service, region_name=region, endpoint_url=env["AWS_ENDPOINT_URL"])


def record_map(found):
    return {(r["Name"], r["Type"]): r for r in found["records"]}


def root_records(env):
    r53 = client(env, "route53")
    return r53.list_resource_record_sets(HostedZoneId=env["KUBEFLOW_OPS_SANDBOX_ROOT_ZONE_ID"])["ResourceRecordSets"]


def set_apex(env, zone_id, address):
    client(env, "route53").change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": DOMAIN + ".",
                        "Type": "A",
                        "TTL": 300,
                        "ResourceRecords": [{"Value": address}],
                    },
                }
            ]
        },
    )


def assert_nothing_created(env):
    found = inventory_of_auth(env, DOMAIN, REGION)
    assert found["zones"] == []
    assert found["certificates"] == {REGION: [], "us-east-1": []}
    assert found["pools"] == []
    assert [r for r in root_records(env) if r["Type"] not in ("NS", "SOA")] == []
    assert [r for r in root_records(env) if r["Name"] == DOMAIN + "."] == []


def test_plan_on_a_fresh_account_writes_nothing(sandbox_env):
    plan = run_playbook("site.yml", sandbox_env, args=["--check", "--diff"])
    assert plan.rc == 0, plan.output[-4000:]
    assert plan.changed > 0
    assert_nothing_created(sandbox_env)


def discover_outputs(env, tmp_path):
    out = tmp_path / "outputs.json"
    playbook = tmp_path / "discover.yml"
    playbook.write_text(f"""
- hosts: kubeflow_ops
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: kubeflow_ops.aws.auth
        tasks_from: discover
    - ansible.builtin.copy:
        content: "{{{{ auth_outputs | to_json }}}}"
        dest: {out}
        mode: "0600"
""")
    run = run_playbook(str(playbook), env)
    assert run.rc == 0, run.output[-4000:]
    assert run.changed == 1  # only the copy
    return json.loads(out.read_text())


def add_foreign_record(env, zone_id):
    client(env, "route53").change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": f"grafana.{DOMAIN}",
                        "Type": "CNAME",
                        "TTL": 300,
                        "ResourceRecords": [{"Value": "elsewhere.example.net"}],
                    },
                }
            ]
        },
    )


AUTH_ABSENT = ["-e", "auth_state=absent"]


def test_auth_role_alone_keeps_secrets_is_discoverable_and_respects_foreign_records(sandbox_env, tmp_path):
    """playbooks/auth.yml on its own: no secret in -vvv output; `discover` finds what was made; a later
    layer's apex and someone else's record survive a re-run; teardown refuses a zone with foreign
    records unless forced."""
    env = sandbox_env
    # ansible-core 2.21 adds a task's module arguments to its result only with inject_invocation (earlier
    # releases always do): turned on, so that -vvv prints every module invocation as far as it ever can.
    run = run_playbook("playbooks/auth.yml", dict(env, ANSIBLE_INJECT_INVOCATION="true"), args=["-vvv"])
    assert run.rc == 0, run.output[-4000:]
    found = inventory_of_auth(env, DOMAIN, REGION)
    pool = found["pools"][0]
    client_id = found["clients"][pool["Id"]][0]["ClientId"]
    idp = client(env, "cognito-idp")
    secret = idp.describe_user_pool_client(UserPoolId=pool["Id"], ClientId=client_id)["UserPoolClient"]["ClientSecret"]
    assert secret and secret not in run.output
    assert TEMP_PASSWORD not in run.output
    # The output is really verbose (module invocations are shown), so the check means something.
    assert "module_args" in run.output or "invocation" in run.output

    outputs = discover_outputs(env, tmp_path)
    assert outputs["user_pool_id"] == pool["Id"]
    assert outputs["user_pool_arn"].endswith(pool["Id"])
    assert outputs["app_client_id"] == client_id
    assert outputs["user_pool_domain"] == f"auth.{DOMAIN}"
    assert outputs["certificate_arn"] == found["certificates"][REGION][0]["CertificateArn"]
    assert outputs["cognito_certificate_arn"] == found["certificates"]["us-east-1"][0]["CertificateArn"]
    assert outputs["cloudfront_domain"]
    assert "client_secret" not in json.dumps(outputs)

    # Once a later layer owns the apex (the kubeflow role points it at the ALB) and someone added a
    # record, a re-run changes nothing and leaves both alone.
    zone_id = found["zones"][0]["Id"]
    set_apex(env, zone_id, "192.0.2.10")
    add_foreign_record(env, zone_id)
    again = run_playbook("playbooks/auth.yml", env)
    assert again.rc == 0, again.output[-4000:]
    assert again.changed == 0, again.output[-6000:]
    records = record_map(inventory_of_auth(env, DOMAIN, REGION))
    assert records[(DOMAIN + ".", "A")]["ResourceRecords"] == [{"Value": "192.0.2.10"}]
    assert (f"grafana.{DOMAIN}.", "CNAME") in records

    down = run_playbook("playbooks/auth.yml", env, args=AUTH_ABSENT)
    assert down.rc != 0
    assert f"grafana.{DOMAIN}. CNAME" in down.output
    assert len(inventory_of_auth(env, DOMAIN, REGION)["zones"]) == 1

    forced = run_playbook("playbooks/auth.yml", env, args=AUTH_ABSENT + ["-e", "auth_zone_force_delete=true"])
    assert forced.rc == 0, forced.output[-4000:]
    assert_nothing_created(env)


def test_discover_fails_clearly_when_nothing_exists(sandbox_env, tmp_path):
    playbook = tmp_path / "discover.yml"
    playbook.write_text("""
- hosts: kubeflow_ops
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: kubeflow_ops.aws.auth
        tasks_from: discover
""")
    run = run_playbook(str(playbook), sandbox_env)
    assert run.rc != 0
    assert "run the auth role (playbooks/auth.yml) first" in run.output


@pytest.mark.parametrize("manual", [False, True])
def test_without_root_zone(sandbox_env, manual):
    args = ["-e", "kubeflow_ops_root_zone_id=", "-e", f"kubeflow_ops_manual_delegation={manual}"]
    run = run_playbook("playbooks/auth.yml", sandbox_env, args=args)
    if not manual:
        assert run.rc != 0
        assert "is not delegated to Route53" in run.output
        assert_nothing_created(sandbox_env)
        return
    assert run.rc == 0, run.output[-4000:]
    assert "must have these NS records at your registrar" in run.output
    assert [r for r in root_records(sandbox_env) if r["Name"] == DOMAIN + "."] == []
    # Without the flag again, the stop now names the name servers to set.
    args[-1] = "kubeflow_ops_manual_delegation=false"
    stop = run_playbook("playbooks/auth.yml", sandbox_env, args=args)
    assert stop.rc != 0
    assert "Set these NS records" in stop.output and "awsdns" in stop.output
