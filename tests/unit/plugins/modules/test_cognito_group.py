"""cognito_group against the moto sandbox: the create / update / delete cycle and bad input."""

from __future__ import annotations

import pytest

from tests.unit.plugins.modules.cognito_helpers import api_calls  # noqa: F401  pylint: disable=unused-import
from tests.unit.plugins.modules.cognito_helpers import REGION, make_pool

ROLE = "arn:aws:iam::123456789012:role/kubeflow-admins"
ROLE2 = "arn:aws:iam::123456789012:role/team/kubeflow-admins-v2"


def groups(client, pool_id):
    return client("cognito-idp", region=REGION).list_groups(UserPoolId=pool_id)["Groups"]


def run_group(run, check_mode=False, **params):
    params.setdefault("region", REGION)
    params.setdefault("name", "admins")
    return run("cognito_group", params, check_mode=check_mode, diff=True)


def test_group_cycle(aws, run, client):
    pool_id = make_pool(client)
    args = dict(user_pool_name="kubeflow", description="Platform admins", precedence=1, role_arn=ROLE)

    result = run_group(run, check_mode=True, **args)
    assert result.changed and not result.failed, result
    assert groups(client, pool_id) == []
    assert result["group"] == {
        "group_name": "admins",
        "user_pool_id": pool_id,
        "description": "Platform admins",
        "precedence": 1,
        "role_arn": ROLE,
    }
    assert result["diff"]["before"] == {} and result["diff"]["after"]["precedence"] == 1

    result = run_group(run, **args)
    assert result.changed and not result.failed, result
    (group,) = groups(client, pool_id)
    assert (group["GroupName"], group["Description"], group["Precedence"], group["RoleArn"]) == (
        "admins",
        "Platform admins",
        1,
        ROLE,
    )
    assert result["group"]["creation_date"] and result["group"]["role_arn"] == ROLE

    for check_mode in (True, False):
        again = run_group(run, check_mode=check_mode, **args)
        assert not again.changed and not again.failed, again
    # Options that are not given are left alone.
    again = run_group(run, user_pool_name="kubeflow")
    assert not again.changed and again["group"]["description"] == "Platform admins"

    for option, value, field in (
        ("description", "Admins of the platform", "Description"),
        ("precedence", 0, "Precedence"),
        ("role_arn", ROLE2, "RoleArn"),
    ):
        before = groups(client, pool_id)[0]
        result = run_group(run, check_mode=True, user_pool_name="kubeflow", **{option: value})
        assert result.changed, option
        assert result["diff"] == {"before": {option: before[field]}, "after": {option: value}}
        assert groups(client, pool_id) == [before]

        result = run_group(run, user_pool_name="kubeflow", **{option: value})
        assert result.changed and not result.failed, result
        (after,) = groups(client, pool_id)
        assert after[field] == value
        # the other fields are kept
        assert {k: v for k, v in after.items() if k not in (field, "LastModifiedDate")} == {
            k: v for k, v in before.items() if k not in (field, "LastModifiedDate")
        }

        again = run_group(run, user_pool_name="kubeflow", **{option: value})
        assert not again.changed, option

    result = run_group(run, check_mode=True, user_pool_name="kubeflow", state="absent")
    assert result.changed and result["diff"]["before"]["group_name"] == "admins"
    assert len(groups(client, pool_id)) == 1
    result = run_group(run, user_pool_name="kubeflow", state="absent")
    assert result.changed and result["group"] == {}
    assert groups(client, pool_id) == []
    for check_mode in (True, False):
        result = run_group(run, check_mode=check_mode, user_pool_name="kubeflow", state="absent")
        assert not result.changed and not result.failed, result


def test_description_can_be_cleared(aws, run, client):
    pool_id = make_pool(client)
    assert run_group(run, user_pool_id=pool_id, description="x").changed
    result = run_group(run, user_pool_id=pool_id, description="")
    assert result.changed and not result.failed, result
    assert groups(client, pool_id)[0].get("Description", "") == ""
    assert not run_group(run, user_pool_id=pool_id, description="").changed


def test_minimal_group_and_no_duplicates(aws, run, client):
    pool_id = make_pool(client)
    result = run_group(run, user_pool_id=pool_id, name="users")
    assert result.changed and result["group"]["group_name"] == "users"
    assert "precedence" not in result["group"]
    assert not run_group(run, user_pool_id=pool_id, name="users").changed
    assert [g["GroupName"] for g in groups(client, pool_id)] == ["users"]


def test_absent_when_the_pool_is_gone(aws, run):
    result = run_group(run, user_pool_name="never-made", state="absent")
    assert not result.changed and not result.failed, result


def test_present_when_the_pool_is_missing(aws, run):
    result = run_group(run, user_pool_name="never-made")
    assert result.failed and result["msg"] == "No Cognito user pool is named 'never-made' in us-west-2"


BAD_INPUT = {
    "negative precedence": (dict(precedence=-1), "precedence must be 0 or more (got -1)"),
    "role arn of a user": (
        dict(role_arn="arn:aws:iam::123456789012:user/alice"),
        "is not an IAM role ARN (arn:aws:iam::<account id>:role/<name>)",
    ),
    "empty role arn": (dict(role_arn=""), "a group's role cannot be removed, only changed"),
    "space in name": (dict(name="kubeflow admins"), "'kubeflow admins' is not a valid group name"),
    "name too long": (dict(name="g" * 129), "is not a valid group name (1 to 128 characters, no white space)"),
    "description too long": (dict(description="d" * 2049), "description must be at most 2048 characters"),
    "malformed pool id": (dict(user_pool_id="kubeflow"), "user_pool_id 'kubeflow' is not a Cognito user pool id"),
}


@pytest.mark.parametrize("params,message", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_changes_nothing(aws, run, client, api_calls, params, message):
    pool_id = make_pool(client)
    assert run_group(run, user_pool_id=pool_id, description="kept").changed
    before = groups(client, pool_id)
    api_calls.clear()
    params.setdefault("user_pool_id", pool_id)
    result = run_group(run, **params)
    assert result.failed and message in result["msg"], result
    assert api_calls.writes() == []
    assert groups(client, pool_id) == before
