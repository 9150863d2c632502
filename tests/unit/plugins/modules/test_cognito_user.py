"""cognito_user against the moto sandbox: the cycle, groups, the temporary password, bad input."""

from __future__ import annotations

import json

import pytest

from tests.unit.plugins.modules.cognito_helpers import api_calls  # noqa: F401  pylint: disable=unused-import
from tests.unit.plugins.modules.cognito_helpers import REGION, make_pool, warnings_of

PASSWORD = "Tmp-Passw0rd!xyz"
POLICY = {
    "PasswordPolicy": {
        "MinimumLength": 12,
        "RequireUppercase": True,
        "RequireLowercase": True,
        "RequireNumbers": True,
        "RequireSymbols": True,
    }
}


@pytest.fixture
def pool(aws, client):
    pool_id = make_pool(client, Policies=POLICY)
    idp = client("cognito-idp", region=REGION)
    for name in ("kubeflow-users", "kubeflow-admins"):
        idp.create_group(UserPoolId=pool_id, GroupName=name)
    return pool_id


def idp(client):
    return client("cognito-idp", region=REGION)


def aws_user(client, pool_id, username="alice"):
    try:
        user = idp(client).admin_get_user(UserPoolId=pool_id, Username=username)
    except idp(client).exceptions.UserNotFoundException:
        return None
    groups = idp(client).admin_list_groups_for_user(UserPoolId=pool_id, Username=username)["Groups"]
    return dict(
        attributes={a["Name"]: a["Value"] for a in user["UserAttributes"]},
        enabled=user["Enabled"],
        status=user["UserStatus"],
        groups=sorted(g["GroupName"] for g in groups),
    )


def run_user(run, check_mode=False, **params):
    params.setdefault("region", REGION)
    params.setdefault("username", "alice")
    return run("cognito_user", params, check_mode=check_mode, diff=True)


def output_without_invocation(result):
    return json.dumps({key: value for key, value in result.items() if key != "invocation"})


def test_user_cycle(pool, run, client):
    args = dict(
        user_pool_name="kubeflow",
        attributes={"email": "alice@example.com", "email_verified": True},
        temporary_password=PASSWORD,
        message_action="SUPPRESS",
        groups=["kubeflow-users"],
    )

    result = run_user(run, check_mode=True, **args)
    assert result.changed and not result.failed, result
    assert aws_user(client, pool) is None
    assert result["user"] == {
        "username": "alice",
        "attributes": {"email": "alice@example.com", "email_verified": "true"},
        "enabled": True,
        "groups": ["kubeflow-users"],
    }

    result = run_user(run, **args)
    assert result.changed and not result.failed, result
    user = aws_user(client, pool)
    assert user["attributes"]["email"] == "alice@example.com" and user["attributes"]["email_verified"] == "true"
    assert user["enabled"] and user["status"] == "FORCE_CHANGE_PASSWORD" and user["groups"] == ["kubeflow-users"]
    assert result["user"]["user_status"] == "FORCE_CHANGE_PASSWORD"
    assert result["user"]["attributes"]["sub"] == user["attributes"]["sub"]
    assert result["user"]["groups"] == ["kubeflow-users"]

    for check_mode in (True, False):
        again = run_user(run, check_mode=check_mode, **args)
        assert not again.changed and not again.failed, again
    assert len(idp(client).list_users(UserPoolId=pool)["Users"]) == 1

    # attributes: only the given ones are compared, the others are left alone
    result = run_user(run, check_mode=True, user_pool_name="kubeflow", attributes={"email": "a@example.org"})
    assert result.changed
    assert result["diff"]["after"]["attributes"]["email"] == "a@example.org"
    assert aws_user(client, pool)["attributes"]["email"] == "alice@example.com"
    result = run_user(run, user_pool_name="kubeflow", attributes={"email": "a@example.org", "email_verified": "true"})
    assert result.changed and aws_user(client, pool)["attributes"]["email"] == "a@example.org"
    assert aws_user(client, pool)["attributes"]["email_verified"] == "true"
    assert not run_user(run, user_pool_name="kubeflow", attributes={"email": "a@example.org"}).changed

    # enabled
    result = run_user(run, check_mode=True, user_pool_name="kubeflow", enabled=False)
    assert result.changed and result["diff"] == {"before": {"enabled": True}, "after": {"enabled": False}}
    assert aws_user(client, pool)["enabled"] is True
    assert run_user(run, user_pool_name="kubeflow", enabled=False).changed
    assert aws_user(client, pool)["enabled"] is False
    assert not run_user(run, user_pool_name="kubeflow", enabled=False).changed
    assert run_user(run, user_pool_name="kubeflow", enabled=True).changed
    assert aws_user(client, pool)["enabled"] is True

    # groups: added without purge, then purged
    result = run_user(run, check_mode=True, user_pool_name="kubeflow", groups=["kubeflow-admins"])
    assert result.changed and result["user"]["groups"] == ["kubeflow-admins", "kubeflow-users"]
    assert aws_user(client, pool)["groups"] == ["kubeflow-users"]
    assert run_user(run, user_pool_name="kubeflow", groups=["kubeflow-admins"]).changed
    assert aws_user(client, pool)["groups"] == ["kubeflow-admins", "kubeflow-users"]
    assert not run_user(run, user_pool_name="kubeflow", groups=["kubeflow-admins"]).changed

    purge = dict(user_pool_name="kubeflow", groups=["kubeflow-admins"], purge_groups=True)
    result = run_user(run, check_mode=True, **purge)
    assert result.changed
    assert result["diff"] == {
        "before": {"groups": ["kubeflow-admins", "kubeflow-users"]},
        "after": {"groups": ["kubeflow-admins"]},
    }
    assert aws_user(client, pool)["groups"] == ["kubeflow-admins", "kubeflow-users"]
    assert run_user(run, **purge).changed
    assert aws_user(client, pool)["groups"] == ["kubeflow-admins"]
    assert not run_user(run, **purge).changed
    assert run_user(run, user_pool_name="kubeflow", groups=[], purge_groups=True).changed
    assert aws_user(client, pool)["groups"] == []

    # delete
    result = run_user(run, check_mode=True, user_pool_name="kubeflow", state="absent")
    assert result.changed and result["diff"]["before"]["username"] == "alice"
    assert aws_user(client, pool) is not None
    result = run_user(run, user_pool_name="kubeflow", state="absent")
    assert result.changed and result["user"] == {}
    assert aws_user(client, pool) is None
    for check_mode in (True, False):
        result = run_user(run, check_mode=check_mode, user_pool_name="kubeflow", state="absent")
        assert not result.changed and not result.failed, result


def test_invitation_without_password(pool, run, client, api_calls):
    result = run_user(
        run, user_pool_id=pool, attributes={"email": "bob@example.com"}, desired_delivery_mediums=["EMAIL"]
    )
    assert result.changed and not result.failed, result
    (create,) = [p for n, p in api_calls if n == "AdminCreateUser"]
    assert create["DesiredDeliveryMediums"] == ["EMAIL"]
    assert "MessageAction" not in create and "TemporaryPassword" not in create


def test_temporary_password_is_never_returned(pool, run, client, api_calls):
    for check_mode in (True, False):
        result = run_user(
            run, check_mode=check_mode, user_pool_id=pool, temporary_password=PASSWORD, message_action="SUPPRESS"
        )
        assert result.changed and not result.failed, result
        text = output_without_invocation(result)
        # neither the password nor the placeholder no_log would put in its place
        assert PASSWORD not in text and "********" not in text and "VALUE_SPECIFIED_IN_NO_LOG" not in text
        assert "password" not in json.dumps(result["diff"]).lower()
        # the module arguments ansible-core 2.19 returns (later releases return none)
        assert PASSWORD not in json.dumps(result.get("invocation", {}))
    # it did reach AWS, once, at creation
    assert [p["TemporaryPassword"] for n, p in api_calls if n == "AdminCreateUser"] == [PASSWORD]
    # and is ignored for an existing user
    again = run_user(run, user_pool_id=pool, temporary_password="Other-Passw0rd!", message_action="SUPPRESS")
    assert not again.changed and not again.failed


@pytest.mark.parametrize(
    "password,needs",
    [
        ("Sh0rt!", "it needs at least 12 characters"),
        ("alllowercase-1!", "it needs an upper case letter"),
        ("NoNumbersHere!!", "it needs a number"),
        ("NoSymbols12345", "it needs a symbol (one of ^ $ *"),
        (" Padded-Passw0rd ", "it needs no space at the start or the end"),
    ],
)
def test_weak_temporary_password_is_rejected_without_echo(pool, run, client, api_calls, password, needs):
    api_calls.clear()
    result = run_user(run, user_pool_id=pool, temporary_password=password)
    assert result.failed
    assert result["msg"].startswith(f"temporary_password does not meet the password policy of user pool {pool}: ")
    assert needs in result["msg"]
    assert password.strip() not in output_without_invocation(result)
    assert api_calls.writes() == []
    assert aws_user(client, pool) is None


def test_missing_group_fails_before_the_user_is_created(pool, run, client, api_calls):
    api_calls.clear()
    result = run_user(
        run,
        user_pool_id=pool,
        attributes={"email": "alice@example.com"},
        groups=["kubeflow-users", "no-such-group", "another-missing"],
    )
    assert result.failed
    assert result["msg"] == (
        f"group another-missing, no-such-group does not exist in user pool {pool}: create it first "
        "(kubeflow_ops.aws.cognito_group); the user was not changed"
    )
    assert api_calls.writes() == []
    assert aws_user(client, pool) is None


def test_missing_group_leaves_an_existing_user_alone(pool, run, client, api_calls):
    assert run_user(run, user_pool_id=pool, attributes={"email": "alice@example.com"}).changed
    api_calls.clear()
    result = run_user(run, user_pool_id=pool, attributes={"email": "new@example.com"}, groups=["nope"])
    assert result.failed and "group nope does not exist" in result["msg"]
    assert api_calls.writes() == []
    assert aws_user(client, pool)["attributes"]["email"] == "alice@example.com"


def test_immutable_attribute_fails_before_any_change(aws, run, client, api_calls):
    pool = make_pool(
        client,
        Schema=[{"Name": "team", "AttributeDataType": "String", "Mutable": False}],
    )
    assert run_user(run, user_pool_id=pool, attributes={"custom:team": "vision"}).changed
    assert aws_user(client, pool)["attributes"]["custom:team"] == "vision"
    api_calls.clear()
    result = run_user(run, user_pool_id=pool, attributes={"custom:team": "nlp"}, enabled=False)
    assert result.failed
    assert f"attribute custom:team is immutable in user pool {pool}" in result["msg"]
    assert api_calls.writes() == []
    assert aws_user(client, pool)["enabled"] is True


def test_resend_invitation(pool, run, client, api_calls):
    assert run_user(run, user_pool_id=pool, attributes={"email": "alice@example.com"}).changed
    api_calls.clear()
    result = run_user(run, user_pool_id=pool, message_action="RESEND", desired_delivery_mediums=["EMAIL"])
    assert result.changed and not result.failed, result
    assert [p.get("MessageAction") for n, p in api_calls if n == "AdminCreateUser"] == ["RESEND"]
    # (moto 5.2.5 re-creates the user on RESEND, dropping its attributes and giving it a new sub; real AWS
    # only sends the message again, so nothing is asserted about the user afterwards.)
    # in check mode nothing is sent
    api_calls.clear()
    result = run_user(run, check_mode=True, user_pool_id=pool, message_action="RESEND")
    assert result.changed and api_calls.writes() == []


def test_resend_to_a_confirmed_user_is_skipped(pool, run, client, api_calls):
    assert run_user(run, user_pool_id=pool).changed
    idp(client).admin_set_user_password(UserPoolId=pool, Username="alice", Password="Final-Passw0rd!", Permanent=True)
    api_calls.clear()
    result = run_user(run, user_pool_id=pool, message_action="RESEND")
    assert not result.changed and not result.failed
    assert any("RESEND ignored: user alice is CONFIRMED" in w for w in warnings_of(result))
    assert api_calls.writes() == []


def test_absent_when_the_pool_is_gone(aws, run):
    result = run_user(run, user_pool_name="never-made", state="absent")
    assert not result.changed and not result.failed, result


BAD_INPUT = {
    "sub is read-only": (dict(attributes={"sub": "x", "email": "a@b.c"}), "attribute sub is read-only"),
    "attribute without value": (dict(attributes={"email": None}), "attributes email have no value"),
    "sms without phone": (
        dict(desired_delivery_mediums=["SMS"]),
        "desired_delivery_mediums SMS needs a phone_number in attributes",
    ),
    "empty group name": (dict(groups=["kubeflow-users", " "]), "groups must not contain empty names"),
    "empty username": (dict(username=" "), "username must not be empty"),
    "unknown message action": (dict(message_action="SEND"), "value of message_action must be one of"),
}


@pytest.mark.parametrize("params,message", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_creates_nothing(pool, run, client, api_calls, params, message):
    api_calls.clear()
    result = run_user(run, user_pool_id=pool, **params)
    assert result.failed and message in result["msg"], result
    assert api_calls.writes() == []
    assert idp(client).list_users(UserPoolId=pool)["Users"] == []


def test_sub_is_rejected_for_an_existing_user(pool, run, client, api_calls):
    assert run_user(run, user_pool_id=pool).changed
    sub = aws_user(client, pool)["attributes"]["sub"]
    api_calls.clear()
    result = run_user(run, user_pool_id=pool, attributes={"sub": "forged"})
    assert result.failed and "attribute sub is read-only (Cognito sets it)" in result["msg"]
    assert api_calls.names() == []
    assert aws_user(client, pool)["attributes"]["sub"] == sub
