#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubeflow_ops.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cognito_user
short_description: Manage a user of a Cognito user pool, with its attributes, status and group membership
version_added: 0.1.0
description:
  - Creates a user with C(AdminCreateUser) (an invitation with a temporary password, or a temporary password you
    choose), updates the attributes you list, enables or disables the user, and keeps the user's group membership.
  - Only the attributes given in O(attributes) are compared; other attributes are left alone. Attributes the pool's
    schema marks immutable cannot change after creation; the module fails before changing anything.
  - Groups named in O(groups) must exist in the pool (see M(kubeflow_ops.aws.cognito_group)); when one is missing
    the module fails before creating or changing the user.
  - The temporary password is checked against the pool's password policy before the user is created; it is never
    returned and never shown in the diff.
  - Deleting a user (O(state=absent)) deletes the user's account for good.
author:
  - kubeflow_ops maintainers (!UNKNOWN)
options:
  username:
    description:
      - The user name. In pools that sign in by e-mail or phone number (C(UsernameAttributes)), the e-mail address or
        phone number can be given; AWS then reports the generated user name (the C(sub)).
    type: str
    required: true
  state:
    description: Whether the user should exist.
    type: str
    choices: [present, absent]
    default: present
  attributes:
    description:
      - User attributes, name to value, for example C(email), C(email_verified), C(name), C(custom:team).
      - Booleans are sent as C(true)/C(false), other values as strings.
      - C(sub) is set by Cognito and cannot be given.
      - When you change C(email) (or C(phone_number)), also give C(email_verified=true) (C(phone_number_verified)) or
        Cognito marks the new address unverified and may send a verification code.
    type: dict
  enabled:
    description: Whether the user can sign in. Left alone when not given; new users are enabled.
    type: bool
  temporary_password:
    description:
      - Temporary password of a new user (the user sets a new one at first sign-in). Used only when the user is
        created; ignored for an existing user.
      - When not given, Cognito generates one and sends it in the invitation.
      - Must meet the pool's password policy; the module checks it before calling AWS.
    type: str
  message_action:
    description:
      - C(SUPPRESS) creates the user without sending the invitation message.
      - C(RESEND) sends the invitation again to a user who exists and has not signed in yet (status
        C(FORCE_CHANGE_PASSWORD)); this is reported as a change on every run. For a new user the invitation is sent
        as usual.
      - When not given, a new user gets the invitation message.
    type: str
    choices: [SUPPRESS, RESEND]
  desired_delivery_mediums:
    description:
      - How the invitation reaches a new user. C(SMS) needs a C(phone_number) attribute.
      - AWS defaults to C(SMS) when not given.
    type: list
    elements: str
    choices: [EMAIL, SMS]
  groups:
    description:
      - Groups the user must be in. Left alone when not given.
    type: list
    elements: str
  purge_groups:
    description: Remove the user from groups not listed in O(groups). Only applies when O(groups) is given.
    type: bool
    default: false
extends_documentation_fragment:
  - kubeflow_ops.aws.cognito_user_pool_ref
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - "Moto (the test sandbox) accepts temporary passwords that break the pool's policy and lets C(sub) be updated;
    real AWS rejects both (this module rejects them itself)."
"""

EXAMPLES = r"""
- name: A data scientist, invited by e-mail, in the kubeflow-users group
  kubeflow_ops.aws.cognito_user:
    region: eu-west-1
    user_pool_name: kubeflow-prod
    username: alice
    attributes:
      email: alice@example.com
      email_verified: true
    desired_delivery_mediums: [EMAIL]
    groups: [kubeflow-users]

- name: An admin with a temporary password from the vault, no e-mail sent
  kubeflow_ops.aws.cognito_user:
    region: eu-west-1
    user_pool_id: "{{ pool.user_pool.id }}"
    username: admin
    attributes:
      email: admin@example.com
      email_verified: true
    temporary_password: "{{ vault_admin_temporary_password }}"
    message_action: SUPPRESS
    groups: [kubeflow-admins]
    purge_groups: true

- name: Lock a user out without deleting the account
  kubeflow_ops.aws.cognito_user:
    region: eu-west-1
    user_pool_name: kubeflow-prod
    username: bob
    enabled: false

- name: Delete a user
  kubeflow_ops.aws.cognito_user:
    region: eu-west-1
    user_pool_name: kubeflow-prod
    username: bob
    state: absent
"""

RETURN = r"""
user:
  description:
    - The user after the task; empty when the user does not exist (O(state=absent)).
    - In check mode, what the user would be; values only known after creation are left out.
  returned: always
  type: dict
  contains:
    username:
      description: The user name.
      type: str
      sample: alice
    attributes:
      description: All attributes of the user, name to value (strings).
      type: dict
      sample: {"email": "alice@example.com", "email_verified": "true", "sub": "6f1c5b1e-0a8e-4d3e-9a63-2f7d5b0c9e11"}
    enabled:
      description: Whether the user can sign in.
      type: bool
      sample: true
    user_status:
      description: Cognito's status of the account, for example C(FORCE_CHANGE_PASSWORD) or C(CONFIRMED).
      type: str
      returned: when the user exists
      sample: FORCE_CHANGE_PASSWORD
    groups:
      description: Names of the groups the user is in, sorted.
      type: list
      elements: str
      sample: ["kubeflow-users"]
"""

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports the missing dependency

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.kubeflow_ops.aws.plugins.module_utils._cognito import (
    USER_POOL_MUTUALLY_EXCLUSIVE,
    USER_POOL_REQUIRED_ONE_OF,
    describe_user_pool,
    resolve_user_pool_id,
    user_pool_argument_spec,
)
from ansible_collections.kubeflow_ops.aws.plugins.module_utils._common import KubeflowOpsAWSModule, dict_diff

READ_ONLY_ATTRIBUTES = ("sub",)
# The characters Cognito counts as symbols in a password (a space inside the password counts too).
PASSWORD_SYMBOLS = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-"
# What Cognito enforces when a pool has no password policy of its own.
DEFAULT_PASSWORD_POLICY = dict(
    MinimumLength=8, RequireUppercase=True, RequireLowercase=True, RequireNumbers=True, RequireSymbols=True
)


def attribute_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def validate(module):
    """Check and normalize the options before any call; returns the desired attributes (strings) or None."""
    params = module.params
    if not params["username"] or not params["username"].strip():
        module.fail_json(msg="username must not be empty")
    attributes = params["attributes"]
    if attributes is not None:
        read_only = sorted(name for name in attributes if name in READ_ONLY_ATTRIBUTES)
        if read_only:
            module.fail_json(
                msg=f"attribute {', '.join(read_only)} is read-only (Cognito sets it); remove it from attributes"
            )
        empty = sorted(name for name, value in attributes.items() if value is None)
        if empty:
            module.fail_json(msg=f"attributes {', '.join(empty)} have no value")
        attributes = {name: attribute_value(value) for name, value in attributes.items()}
    mediums = params["desired_delivery_mediums"] or []
    if "SMS" in mediums and params["state"] == "present" and "phone_number" not in (attributes or {}):
        module.fail_json(msg="desired_delivery_mediums SMS needs a phone_number in attributes")
    if params["groups"] is not None:
        blank = [group for group in params["groups"] if not group or not group.strip()]
        if blank:
            module.fail_json(msg="groups must not contain empty names")
    return attributes


def password_problems(password, policy):
    """What the password lacks under the pool's policy, as phrases that never include the password."""
    policy = policy or DEFAULT_PASSWORD_POLICY
    problems = []
    minimum = policy.get("MinimumLength", 8)
    if len(password) < minimum:
        problems.append(f"at least {minimum} characters")
    if len(password) > 256:
        problems.append("at most 256 characters")
    if password != password.strip():
        problems.append("no space at the start or the end")
    if policy.get("RequireUppercase") and not any(c.isupper() for c in password):
        problems.append("an upper case letter")
    if policy.get("RequireLowercase") and not any(c.islower() for c in password):
        problems.append("a lower case letter")
    if policy.get("RequireNumbers") and not any(c in "0123456789" for c in password):
        problems.append("a number")
    if policy.get("RequireSymbols") and not any(c in PASSWORD_SYMBOLS or c == " " for c in password.strip()):
        problems.append(f"a symbol (one of {' '.join(PASSWORD_SYMBOLS)})")
    return problems


@AWSRetry.jittered_backoff()
def _list_groups(client, pool_id):
    paginator = client.get_paginator("list_groups")
    return paginator.paginate(UserPoolId=pool_id).build_full_result().get("Groups", [])


@AWSRetry.jittered_backoff()
def _list_groups_for_user(client, pool_id, username):
    paginator = client.get_paginator("admin_list_groups_for_user")
    return paginator.paginate(UserPoolId=pool_id, Username=username).build_full_result().get("Groups", [])


def get_user(module, client, pool_id, username):
    """The user as the module reports it (without groups), or None when there is no such user."""
    try:
        user = client.admin_get_user(UserPoolId=pool_id, Username=username, aws_retry=True)
    except is_boto3_error_code("UserNotFoundException"):
        return None
    except (
        botocore.exceptions.ClientError,
        botocore.exceptions.BotoCoreError,
    ) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to read user {username} of user pool {pool_id}")
    return dict(
        username=user["Username"],
        attributes={a["Name"]: a.get("Value", "") for a in user.get("UserAttributes", [])},
        enabled=user.get("Enabled", True),
        user_status=user.get("UserStatus"),
    )


def groups_of(module, client, pool_id, username):
    try:
        return sorted(group["GroupName"] for group in _list_groups_for_user(client, pool_id, username))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to list the groups of user {username} in user pool {pool_id}")


def check_groups_exist(module, client, pool_id, wanted):
    try:
        existing = {group["GroupName"] for group in _list_groups(client, pool_id)}
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to list the groups of user pool {pool_id}")
    missing = sorted(set(wanted) - existing)
    if missing:
        module.fail_json(
            msg=f"group {', '.join(missing)} does not exist in user pool {pool_id}: create it first "
            "(kubeflow_ops.aws.cognito_group); the user was not changed"
        )


def call(module, what, method, **kwargs):
    try:
        return method(aws_retry=True, **kwargs)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to {what}")


def ensure_absent(module, client, pool_id, username):
    current = get_user(module, client, pool_id, username) if pool_id else None
    if current is None:
        module.exit_json(changed=False, user={})
    current["groups"] = groups_of(module, client, pool_id, username)
    if not module.check_mode:
        try:
            client.admin_delete_user(UserPoolId=pool_id, Username=username, aws_retry=True)
        except is_boto3_error_code("UserNotFoundException"):
            pass  # deleted in between: the outcome is the same
        except (
            botocore.exceptions.ClientError,
            botocore.exceptions.BotoCoreError,
        ) as e:  # pylint: disable=duplicate-except
            module.fail_json_aws(e, msg=f"Failed to delete user {username} of user pool {pool_id}")
    result = dict(changed=True, user={})
    if module._diff:
        result["diff"] = dict_diff(current, {})
    module.exit_json(**result)


def create_user(module, client, pool_id, username, attributes):
    params = module.params
    password = params["temporary_password"]
    if password is not None:
        pool = describe_user_pool(module, client, pool_id) or {}
        problems = password_problems(password, (pool.get("Policies") or {}).get("PasswordPolicy"))
        if problems:
            # Never echo the password, not even in part.
            module.fail_json(
                msg=f"temporary_password does not meet the password policy of user pool {pool_id}: "
                f"it needs {', '.join(problems)}"
            )
    enabled = params["enabled"] if params["enabled"] is not None else True
    groups = sorted(set(params["groups"] or []))
    planned = dict(username=username, attributes=dict(attributes or {}), enabled=enabled, groups=groups)
    if module.check_mode:
        return planned

    request = dict(UserPoolId=pool_id, Username=username)
    if attributes:
        request["UserAttributes"] = [dict(Name=name, Value=value) for name, value in sorted(attributes.items())]
    if password is not None:
        request["TemporaryPassword"] = password
    if params["message_action"] == "SUPPRESS":
        request["MessageAction"] = "SUPPRESS"
    if params["desired_delivery_mediums"]:
        request["DesiredDeliveryMediums"] = params["desired_delivery_mediums"]
    call(module, f"create user {username} in user pool {pool_id}", client.admin_create_user, **request)
    if not enabled:
        call(module, f"disable user {username}", client.admin_disable_user, UserPoolId=pool_id, Username=username)
    for group in groups:
        call(
            module,
            f"add user {username} to group {group}",
            client.admin_add_user_to_group,
            UserPoolId=pool_id,
            Username=username,
            GroupName=group,
        )
    return None


def update_user(module, client, pool_id, username, attributes, current):
    """Bring an existing user in line; returns (changed, planned view)."""
    params = module.params
    planned = dict(current)
    planned["attributes"] = dict(current["attributes"])

    changed_attributes = {
        name: value for name, value in (attributes or {}).items() if current["attributes"].get(name) != value
    }
    if changed_attributes:
        pool = describe_user_pool(module, client, pool_id) or {}
        immutable = sorted(
            attribute["Name"]
            for attribute in pool.get("SchemaAttributes", [])
            if attribute.get("Mutable") is False and attribute["Name"] in changed_attributes
        )
        if immutable:
            module.fail_json(
                msg=f"attribute {', '.join(immutable)} is immutable in user pool {pool_id} (set only when a user is "
                f"created) and differs for user {username}; nothing was changed"
            )
        planned["attributes"].update(changed_attributes)

    enable = params["enabled"] is not None and params["enabled"] != current["enabled"]
    if enable:
        planned["enabled"] = params["enabled"]

    to_add, to_remove = [], []
    if params["groups"] is not None:
        wanted = set(params["groups"])
        to_add = sorted(wanted - set(current["groups"]))
        if params["purge_groups"]:
            to_remove = sorted(set(current["groups"]) - wanted)
        planned["groups"] = sorted((set(current["groups"]) | wanted) - set(to_remove))

    resend = False
    if params["message_action"] == "RESEND":
        if current["user_status"] == "FORCE_CHANGE_PASSWORD":
            resend = True
        else:
            module.warn(
                f"message_action=RESEND ignored: user {username} is {current['user_status']}, "
                "the invitation only applies to users who have not signed in yet"
            )

    changed = bool(changed_attributes or enable or to_add or to_remove or resend)
    if module.check_mode or not changed:
        return changed, planned

    if changed_attributes:
        call(
            module,
            f"update the attributes of user {username}",
            client.admin_update_user_attributes,
            UserPoolId=pool_id,
            Username=username,
            UserAttributes=[dict(Name=name, Value=value) for name, value in sorted(changed_attributes.items())],
        )
    if enable:
        method = client.admin_enable_user if params["enabled"] else client.admin_disable_user
        verb = "enable" if params["enabled"] else "disable"
        call(module, f"{verb} user {username}", method, UserPoolId=pool_id, Username=username)
    for group in to_add:
        call(
            module,
            f"add user {username} to group {group}",
            client.admin_add_user_to_group,
            UserPoolId=pool_id,
            Username=username,
            GroupName=group,
        )
    for group in to_remove:
        call(
            module,
            f"remove user {username} from group {group}",
            client.admin_remove_user_from_group,
            UserPoolId=pool_id,
            Username=username,
            GroupName=group,
        )
    if resend:
        request = dict(UserPoolId=pool_id, Username=username, MessageAction="RESEND")
        if params["desired_delivery_mediums"]:
            request["DesiredDeliveryMediums"] = params["desired_delivery_mediums"]
        call(module, f"resend the invitation of user {username}", client.admin_create_user, **request)
    return changed, None


def ensure_present(module, client, pool_id, username, attributes):
    current = get_user(module, client, pool_id, username)
    if module.params["groups"]:
        check_groups_exist(module, client, pool_id, module.params["groups"])
    if current is not None:
        current["groups"] = groups_of(module, client, pool_id, username)

    if current is None:
        changed = True
        planned = create_user(module, client, pool_id, username, attributes)
    else:
        changed, planned = update_user(module, client, pool_id, username, attributes, current)

    if planned is None:  # something was written: report what AWS has now
        planned = get_user(module, client, pool_id, username) or {}
        if planned:
            planned["groups"] = groups_of(module, client, pool_id, username)
    result = dict(changed=changed, user=planned)
    if module._diff:
        before = dict(current or {})
        before.pop("user_status", None)
        after = dict(planned)
        after.pop("user_status", None)
        result["diff"] = dict_diff(before, after)
    module.exit_json(**result)


def main():
    argument_spec = dict(
        username=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        attributes=dict(type="dict"),
        enabled=dict(type="bool"),
        temporary_password=dict(type="str", no_log=True),
        message_action=dict(type="str", choices=["SUPPRESS", "RESEND"]),
        desired_delivery_mediums=dict(type="list", elements="str", choices=["EMAIL", "SMS"]),
        groups=dict(type="list", elements="str"),
        purge_groups=dict(type="bool", default=False),
        **user_pool_argument_spec(),
    )
    module = KubeflowOpsAWSModule(
        argument_spec=argument_spec,
        mutually_exclusive=USER_POOL_MUTUALLY_EXCLUSIVE,
        required_one_of=USER_POOL_REQUIRED_ONE_OF,
        supports_check_mode=True,
    )
    attributes = validate(module)
    username = module.params["username"]
    state = module.params["state"]
    client = module.client("cognito-idp", retry_decorator=AWSRetry.jittered_backoff())
    pool_id = resolve_user_pool_id(
        module,
        client,
        user_pool_id=module.params["user_pool_id"],
        user_pool_name=module.params["user_pool_name"],
        required=state == "present",
    )
    if state == "absent":
        ensure_absent(module, client, pool_id, username)
    else:
        ensure_present(module, client, pool_id, username, attributes)


if __name__ == "__main__":
    main()
