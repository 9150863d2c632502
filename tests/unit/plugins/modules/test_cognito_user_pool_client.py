"""cognito_user_pool_client against the moto sandbox: the STYLE.md cycle, merging updates, secrets, bad input."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.client import BaseClient

REGION = "us-west-2"
POOL = "kubeflow-test"
NAME = "kubeflow"
CALLBACK = "https://kubeflow.platform.example.com/oauth2/idpresponse"
LOGOUT = "https://kubeflow.platform.example.com"
SCOPES = ["email", "openid", "aws.cognito.signin.user.admin", "profile"]

# What the auth role asks for.
BASE = dict(
    region=REGION,
    user_pool_name=POOL,
    name=NAME,
    generate_secret=True,
    allowed_oauth_flows=["code"],
    allowed_oauth_flows_user_pool_client=True,
    allowed_oauth_scopes=SCOPES,
    supported_identity_providers=["COGNITO"],
    callback_urls=[CALLBACK],
    logout_urls=[LOGOUT],
)
READS = ("Describe", "List", "Get")


@pytest.fixture
def api_calls(monkeypatch):
    """(operation, parameters) of every AWS call made in this process."""
    calls = []
    original = BaseClient._make_api_call

    def recording(self, operation_name, api_params):
        calls.append((operation_name, copy.deepcopy(api_params)))
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    return calls


def writes(calls):
    return [call[0] for call in calls if not call[0].startswith(READS)]


@pytest.fixture
def idp(aws, client):
    return client("cognito-idp", region=REGION)


@pytest.fixture
def pool_id(idp):
    return idp.create_user_pool(PoolName=POOL)["UserPool"]["Id"]


def clients_named(idp, pool_id, name=NAME):
    listed = idp.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    return [entry["ClientId"] for entry in listed if entry["ClientName"] == name]


def the_client(idp, pool_id, name=NAME):
    ids = clients_named(idp, pool_id, name)
    assert len(ids) == 1, f"expected exactly one client named {name}, found {ids}"
    return idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=ids[0])["UserPoolClient"]


def client_run(run, check_mode=False, no_log=False, **overrides):
    args = copy.deepcopy(BASE)
    args.update(overrides)
    args = {k: v for k, v in args.items() if v is not None}
    if no_log:
        args["_ansible_no_log"] = True  # what `no_log: true` on the task passes to the module
    return run("cognito_user_pool_client", args, check_mode=check_mode, diff=True)


def test_create_cycle(run, idp, pool_id, api_calls):
    del api_calls[:]
    planned = client_run(run, check_mode=True)
    assert planned.changed and not planned.failed, planned
    assert "client_id" not in planned["user_pool_client"]
    assert planned["user_pool_client"]["callback_urls"] == [CALLBACK]
    assert planned["diff"]["after"]["allowed_oauth_scopes"] == sorted(SCOPES)
    assert writes(api_calls) == [] and clients_named(idp, pool_id) == []

    created = client_run(run)
    assert created.changed and not created.failed, created
    described = the_client(idp, pool_id)
    out = created["user_pool_client"]
    assert out["client_id"] == described["ClientId"] and out["user_pool_id"] == pool_id
    assert out["client_name"] == NAME and out["generate_secret"] is True
    assert out["allowed_oauth_flows"] == ["code"] and out["allowed_oauth_flows_user_pool_client"] is True
    assert sorted(out["allowed_oauth_scopes"]) == sorted(SCOPES)
    assert described["CallbackURLs"] == [CALLBACK] and described["LogoutURLs"] == [LOGOUT]
    assert described["SupportedIdentityProviders"] == ["COGNITO"]
    assert described["ClientSecret"]

    del api_calls[:]
    for check_mode in (True, False):
        again = client_run(run, check_mode=check_mode)
        assert not again.changed and not again.failed, again
        assert again["user_pool_client"]["client_id"] == described["ClientId"]
        assert again["diff"] == {"before": {}, "after": {}}
    # Order does not matter for lists AWS keeps as sets.
    shuffled = client_run(run, allowed_oauth_scopes=list(reversed(SCOPES)))
    assert not shuffled.changed, shuffled
    assert writes(api_calls) == []
    assert len(clients_named(idp, pool_id)) == 1


def test_pool_by_id_and_lookup_by_name_only(run, idp, pool_id):
    missing = run("cognito_user_pool_client", dict(region=REGION, user_pool_name=POOL, name=NAME), check_mode=True)
    assert missing.changed and "client_id" not in missing["user_pool_client"]
    created = client_run(run, user_pool_name=None, user_pool_id=pool_id)
    assert created.changed and created["user_pool_client"]["user_pool_id"] == pool_id
    found = run("cognito_user_pool_client", dict(region=REGION, user_pool_name=POOL, name=NAME), check_mode=True)
    assert not found.changed and found["user_pool_client"]["client_id"] == created["user_pool_client"]["client_id"]


UPDATES = [
    ("callback_urls", [CALLBACK, "https://other.example.com/cb"], "CallbackURLs"),
    ("logout_urls", ["https://kubeflow.platform.example.com/bye"], "LogoutURLs"),
    ("allowed_oauth_scopes", ["openid", "email"], "AllowedOAuthScopes"),
    ("allowed_oauth_flows", ["code", "implicit"], "AllowedOAuthFlows"),
    ("allowed_oauth_flows_user_pool_client", False, "AllowedOAuthFlowsUserPoolClient"),
    ("supported_identity_providers", ["COGNITO", "Google"], "SupportedIdentityProviders"),
    ("explicit_auth_flows", ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"], "ExplicitAuthFlows"),
    ("default_redirect_uri", CALLBACK, "DefaultRedirectURI"),
    ("access_token_validity", 2, "AccessTokenValidity"),
    ("id_token_validity", 3, "IdTokenValidity"),
    ("refresh_token_validity", 7, "RefreshTokenValidity"),
    ("token_validity_units", dict(access_token="minutes", id_token="minutes"), "TokenValidityUnits"),
    ("prevent_user_existence_errors", "ENABLED", "PreventUserExistenceErrors"),
    ("read_attributes", ["email", "name"], "ReadAttributes"),
    ("write_attributes", ["name"], "WriteAttributes"),
]
SET_KEYS = {"CallbackURLs", "LogoutURLs", "AllowedOAuthScopes", "AllowedOAuthFlows", "SupportedIdentityProviders"}


def normalized(described, key):
    value = described.get(key)
    if key in SET_KEYS or key in ("ExplicitAuthFlows", "ReadAttributes", "WriteAttributes"):
        return sorted(value or [])
    return value


@pytest.mark.parametrize("option,value,key", UPDATES, ids=[u[0] for u in UPDATES])
def test_update_each_option_in_place(run, idp, pool_id, api_calls, option, value, key):
    extra = {}
    if option == "token_validity_units":
        extra = dict(access_token_validity=10, id_token_validity=10)  # 10 hours, then 10 minutes
    assert client_run(run, **extra).changed
    before = the_client(idp, pool_id)

    del api_calls[:]
    planned = client_run(run, check_mode=True, **extra, **{option: value})
    assert planned.changed and not planned.failed, planned
    assert option in planned["diff"]["after"]
    assert writes(api_calls) == []
    assert the_client(idp, pool_id) == before

    done = client_run(run, **extra, **{option: value})
    assert done.changed and not done.failed, done
    after = the_client(idp, pool_id)
    if option == "token_validity_units":
        assert after[key]["AccessToken"] == "minutes" and after[key]["IdToken"] == "minutes"
    elif isinstance(value, list):
        assert normalized(after, key) == sorted(value)
    else:
        assert after[key] == value
    assert after["ClientId"] == before["ClientId"] and after["ClientSecret"] == before["ClientSecret"]
    assert len(clients_named(idp, pool_id)) == 1

    del api_calls[:]
    again = client_run(run, **extra, **{option: value})
    assert not again.changed and not again.failed, again
    assert writes(api_calls) == []


def test_updating_one_option_keeps_the_others(run, idp, pool_id, api_calls):
    """UpdateUserPoolClient resets what it is not sent (moto merges instead): check what is sent, too."""
    client_run(run, access_token_validity=2, prevent_user_existence_errors="ENABLED")
    del api_calls[:]
    changed = run(
        "cognito_user_pool_client",
        dict(region=REGION, user_pool_name=POOL, name=NAME, callback_urls=[CALLBACK, "https://x.example.com/cb"]),
    )
    assert changed.changed and not changed.failed, changed
    sent = [params for name, params in api_calls if name == "UpdateUserPoolClient"]
    assert len(sent) == 1
    request = sent[0]
    assert sorted(request["CallbackURLs"]) == sorted([CALLBACK, "https://x.example.com/cb"])
    assert sorted(request["AllowedOAuthScopes"]) == sorted(SCOPES)
    assert request["AllowedOAuthFlows"] == ["code"] and request["AllowedOAuthFlowsUserPoolClient"] is True
    assert request["LogoutURLs"] == [LOGOUT] and request["SupportedIdentityProviders"] == ["COGNITO"]
    assert request["AccessTokenValidity"] == 2 and request["PreventUserExistenceErrors"] == "ENABLED"
    assert "ClientSecret" not in request and "GenerateSecret" not in request
    after = the_client(idp, pool_id)
    assert sorted(after["AllowedOAuthScopes"]) == sorted(SCOPES) and after["LogoutURLs"] == [LOGOUT]


@pytest.mark.parametrize("created_with,asked", [(True, False), (False, True)])
def test_generate_secret_is_immutable(run, idp, pool_id, api_calls, created_with, asked):
    client_run(run, generate_secret=created_with)
    before = the_client(idp, pool_id)
    del api_calls[:]
    for check_mode in (True, False):
        result = client_run(
            run, check_mode=check_mode, generate_secret=asked, logout_urls=["https://changed.example.com"]
        )
        assert result.failed, result
        assert f"the task asks for generate_secret: {asked}" in result["msg"]
        assert "create a new client" in result["msg"] and "Nothing was changed" in result["msg"]
    assert writes(api_calls) == []
    assert the_client(idp, pool_id) == before


def test_duplicate_client_names_fail_and_change_nothing(run, idp, pool_id, api_calls):
    first = idp.create_user_pool_client(UserPoolId=pool_id, ClientName=NAME)["UserPoolClient"]["ClientId"]
    second = idp.create_user_pool_client(UserPoolId=pool_id, ClientName=NAME)["UserPoolClient"]["ClientId"]
    del api_calls[:]
    for state in ("present", "absent"):
        for check_mode in (True, False):
            result = client_run(run, check_mode=check_mode, state=state)
            assert result.failed, result
            assert f"2 app clients of Cognito user pool {pool_id} are named 'kubeflow'" in result["msg"]
            assert first in result["msg"] and second in result["msg"]
            assert sorted(result["user_pool_client_ids"]) == sorted([first, second])
    assert writes(api_calls) == []
    assert sorted(clients_named(idp, pool_id)) == sorted([first, second])


def test_ambiguous_or_missing_pool(run, idp, api_calls):
    missing = client_run(run)
    assert missing.failed and "No Cognito user pool is named 'kubeflow-test'" in missing["msg"]
    gone = client_run(run, state="absent")
    assert not gone.failed and not gone.changed
    idp.create_user_pool(PoolName=POOL)
    idp.create_user_pool(PoolName=POOL)
    ambiguous = client_run(run)
    assert ambiguous.failed and "2 Cognito user pools are named 'kubeflow-test'" in ambiguous["msg"]
    assert writes(api_calls) == ["CreateUserPool", "CreateUserPool"]


BAD_INPUT = [
    (dict(callback_urls=["http://kubeflow.example.com/cb"]), "must be an absolute https:// URL"),
    (dict(callback_urls=["/oauth2/idpresponse"]), "'/oauth2/idpresponse' must be an absolute https:// URL"),
    (dict(logout_urls=["https://kubeflow.example.com/#top"]), "must not contain a fragment"),
    (dict(allowed_oauth_scopes=[]), "allowed_oauth_scopes must not be empty when allowed_oauth_flows is set"),
    (dict(callback_urls=[]), "the code flow needs at least one callback URL"),
    (
        dict(default_redirect_uri="https://elsewhere.example.com/cb"),
        "default_redirect_uri 'https://elsewhere.example.com/cb' must be one of callback_urls",
    ),
    (
        dict(allowed_oauth_flows=["code", "client_credentials"]),
        "the client_credentials flow cannot be combined with the code or implicit flows",
    ),
    (dict(allowed_oauth_scopes=["open id"]), "'open id' is not a valid scope"),
    (
        dict(access_token_validity=2, token_validity_units=dict(access_token="days")),
        "access_token_validity 2 days is out of range: it must be between 5 minutes and 1 day",
    ),
    (dict(return_secret=True), "set no_log: true on the task"),
    (dict(name="kubeflow/app"), "name 'kubeflow/app' is not a valid app client name"),
    (dict(user_pool_id="us-west-2_abc", user_pool_name=POOL), "mutually exclusive: user_pool_id|user_pool_name"),
]


@pytest.mark.parametrize("overrides,expected", BAD_INPUT, ids=[b[1][:40] for b in BAD_INPUT])
def test_bad_input_fails_before_any_call(run, idp, pool_id, api_calls, overrides, expected):
    del api_calls[:]
    result = client_run(run, **overrides)
    assert result.failed, result
    assert expected in result["msg"], result["msg"]
    assert api_calls == []
    assert idp.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"] == []


def test_localhost_callback_is_allowed(run, idp, pool_id):
    result = client_run(run, callback_urls=["http://localhost:8080/callback", CALLBACK], default_redirect_uri=CALLBACK)
    assert result.changed and not result.failed, result
    assert sorted(the_client(idp, pool_id)["CallbackURLs"]) == sorted(["http://localhost:8080/callback", CALLBACK])


def test_rules_checked_against_the_merged_configuration_before_writing(run, idp, pool_id, api_calls):
    client_run(run)
    before = the_client(idp, pool_id)
    del api_calls[:]
    # The client uses the code flow: removing every callback URL would break it.
    emptied = run("cognito_user_pool_client", dict(region=REGION, user_pool_name=POOL, name=NAME, callback_urls=[]))
    assert emptied.failed and "the code flow needs at least one callback URL" in emptied["msg"], emptied
    elsewhere = run(
        "cognito_user_pool_client",
        dict(region=REGION, user_pool_name=POOL, name=NAME, default_redirect_uri="https://elsewhere.example.com"),
    )
    assert elsewhere.failed and "must be one of callback_urls" in elsewhere["msg"], elsewhere
    assert writes(api_calls) == []
    assert the_client(idp, pool_id) == before


def test_client_credentials_needs_a_secret(run, idp, pool_id, api_calls):
    del api_calls[:]
    result = client_run(
        run,
        generate_secret=False,
        allowed_oauth_flows=["client_credentials"],
        allowed_oauth_scopes=["kubeflow/api"],
        callback_urls=None,
        logout_urls=None,
    )
    assert result.failed and "needs a client secret (generate_secret: true)" in result["msg"], result
    assert writes(api_calls) == [] and clients_named(idp, pool_id) == []


def test_secret_is_not_returned_by_default_and_never_in_diff(run, idp, pool_id):
    created = client_run(run)
    secret = the_client(idp, pool_id)["ClientSecret"]
    assert "client_secret" not in created["user_pool_client"]
    assert secret not in json.dumps(created)
    assert created["diff"]["after"]["client_secret"] == "(secret hidden)"

    for check_mode in (True, False):
        changed = client_run(run, check_mode=check_mode, logout_urls=[f"{LOGOUT}/{check_mode}"])
        assert changed.changed and "client_secret" not in changed["user_pool_client"]
        assert secret not in json.dumps(changed)


def test_return_secret_with_no_log(run, idp, pool_id):
    created = client_run(run, no_log=True, return_secret=True)
    assert created.changed and not created.failed, created
    secret = the_client(idp, pool_id)["ClientSecret"]
    assert created["user_pool_client"]["client_secret"] == secret
    assert secret not in json.dumps(created["diff"])

    found = client_run(run, no_log=True, return_secret=True, check_mode=True)
    assert not found.changed and found["user_pool_client"]["client_secret"] == secret
    updated = client_run(run, no_log=True, return_secret=True, logout_urls=[f"{LOGOUT}/bye"])
    assert updated.changed and updated["user_pool_client"]["client_secret"] == secret
    assert secret not in json.dumps(updated["diff"])

    public = client_run(run, name="public", generate_secret=False, no_log=True, return_secret=True)
    assert public.changed and "client_secret" not in public["user_pool_client"]


def test_delete_cycle(run, idp, pool_id, api_calls):
    client_run(run)
    client_id = the_client(idp, pool_id)["ClientId"]
    absent = dict(region=REGION, user_pool_name=POOL, name=NAME, state="absent")

    del api_calls[:]
    planned = run("cognito_user_pool_client", absent, check_mode=True, diff=True)
    assert planned.changed and planned["user_pool_client"] == {}
    assert planned["diff"]["before"]["name"] == NAME and planned["diff"]["after"] == {}
    assert writes(api_calls) == [] and clients_named(idp, pool_id) == [client_id]

    deleted = run("cognito_user_pool_client", absent, diff=True)
    assert deleted.changed and not deleted.failed, deleted
    assert clients_named(idp, pool_id) == []
    assert "(secret hidden)" == deleted["diff"]["before"]["client_secret"]

    for check_mode in (True, False):
        again = run("cognito_user_pool_client", absent, check_mode=check_mode)
        assert not again.changed and not again.failed, again


# Run through ansible-playbook: what `register` really receives, and that -vvv never shows the secret.
MASKING_MODULE = """#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule

module = AnsibleModule(argument_spec=dict(value=dict(type="str", no_log=False)))
module.no_log_values.add(module.params["value"])
module.exit_json(changed=False, returned=module.params["value"])
"""
PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: A returned value that is also in no_log_values (ansible-core behaviour the design relies on)
      masking:
        value: not-a-real-secret-0123
      register: masked
    - name: Client with a secret, not returned
      kubeflow_ops.aws.cognito_user_pool_client:
        region: {region}
        user_pool_id: {pool_id}
        name: app
        generate_secret: true
      register: plain
    - name: return_secret without no_log is refused
      kubeflow_ops.aws.cognito_user_pool_client:
        region: {region}
        user_pool_id: {pool_id}
        name: app
        return_secret: true
      register: refused
      ignore_errors: true
    - name: return_secret with no_log
      kubeflow_ops.aws.cognito_user_pool_client:
        region: {region}
        user_pool_id: {pool_id}
        name: app
        return_secret: true
      no_log: true
      register: with_secret
    - name: Keep what register received
      ansible.builtin.copy:
        dest: {dest}
        content: "{{{{ {{'masked': masked.returned, 'plain': plain.user_pool_client, 'refused': refused.msg,
                   'secret': with_secret.user_pool_client.client_secret | default('')}} | to_json }}}}"
      no_log: true
"""


def test_return_secret_through_ansible_playbook(aws, idp, pool_id, tmp_path):
    repo = Path(__file__).resolve().parents[4]
    (tmp_path / "library").mkdir()
    (tmp_path / "library" / "masking.py").write_text(MASKING_MODULE)
    dest = tmp_path / "registered.json"
    (tmp_path / "site.yml").write_text(PLAYBOOK.format(region=REGION, pool_id=pool_id, dest=dest))
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(repo / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(repo / "collections"),
        ANSIBLE_LIBRARY=str(tmp_path / "library"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    )
    command = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        "-vvv",
        "-i",
        "localhost,",
        "-c",
        "local",
        "-e",
        f"ansible_python_interpreter={sys.executable}",
        str(tmp_path / "site.yml"),
    ]
    proc = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=240, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output

    secret = the_client(idp, pool_id, "app")["ClientSecret"]
    registered = json.loads(dest.read_text())
    # A value in no_log_values reaches `register` masked, which is why a returned secret is not put there.
    assert registered["masked"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert "client_secret" not in registered["plain"] and registered["plain"]["generate_secret"] is True
    assert "set no_log: true on the task" in registered["refused"]
    assert registered["secret"] == secret
    assert secret not in output
    assert "not-a-real-secret-0123" not in output
