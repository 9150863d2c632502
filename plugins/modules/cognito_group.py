#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubeflow_ops.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cognito_group
short_description: Manage a group of a Cognito user pool
version_added: 0.1.0
description:
  - Creates, updates or deletes a group of a Cognito user pool. Group names are unique within a pool.
  - O(description), O(precedence) and O(role_arn) change in place; options that are not given are left alone.
  - Deleting a group removes its members from it; the users themselves stay.
author:
  - kubeflow_ops maintainers (!UNKNOWN)
options:
  name:
    description: Name of the group (1 to 128 characters, no white space).
    type: str
    required: true
  description:
    description: Description of the group. An empty string clears it.
    type: str
  precedence:
    description:
      - Precedence of the group (0 or more); when a user is in several groups, the role of the group with the lowest
        precedence wins in the tokens. Cannot be removed once set, only changed.
    type: int
  role_arn:
    description:
      - ARN of the IAM role for the group's members (the C(cognito:roles) and C(cognito:preferred_role) token
        claims). Cannot be removed once set, only changed.
    type: str
  state:
    description: Whether the group should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - kubeflow_ops.aws.cognito_user_pool_ref
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Kubeflow administrators
  kubeflow_ops.aws.cognito_group:
    region: eu-west-1
    user_pool_name: kubeflow-prod
    name: kubeflow-admins
    description: Platform administrators
    precedence: 0

- name: Data scientists, with an IAM role in their tokens
  kubeflow_ops.aws.cognito_group:
    region: eu-west-1
    user_pool_id: "{{ pool.user_pool.id }}"
    name: data-scientists
    precedence: 10
    role_arn: arn:aws:iam::123456789012:role/kubeflow-data-scientists

- name: Delete a group
  kubeflow_ops.aws.cognito_group:
    region: eu-west-1
    user_pool_name: kubeflow-prod
    name: old-team
    state: absent
"""

RETURN = r"""
group:
  description:
    - The group after the task; empty when it does not exist (O(state=absent)).
    - In check mode, what it would be; values only known after creation are left out.
  returned: always
  type: dict
  contains:
    group_name:
      description: Name of the group.
      type: str
      sample: kubeflow-admins
    user_pool_id:
      description: Id of the user pool.
      type: str
      sample: eu-west-1_AbC123xyz
    description:
      description: Description of the group.
      type: str
      returned: when set
      sample: Platform administrators
    precedence:
      description: Precedence of the group.
      type: int
      returned: when set
      sample: 0
    role_arn:
      description: IAM role of the group.
      type: str
      returned: when set
      sample: arn:aws:iam::123456789012:role/kubeflow-data-scientists
    creation_date:
      description: When the group was created.
      type: str
      returned: when the group exists
      sample: "2026-01-01T10:00:00+00:00"
    last_modified_date:
      description: When the group was last changed.
      type: str
      returned: when the group exists
      sample: "2026-01-01T10:00:00+00:00"
"""

import re

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports the missing dependency

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.kubeflow_ops.aws.plugins.module_utils._cognito import (
    USER_POOL_MUTUALLY_EXCLUSIVE,
    USER_POOL_REQUIRED_ONE_OF,
    resolve_user_pool_id,
    user_pool_argument_spec,
)
from ansible_collections.kubeflow_ops.aws.plugins.module_utils._common import KubeflowOpsAWSModule, dict_diff

ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
# The API's fields and the module's options.
FIELDS = (("Description", "description"), ("Precedence", "precedence"), ("RoleArn", "role_arn"))


def validate(module):
    params = module.params
    name = params["name"]
    if not name or len(name) > 128 or any(c.isspace() for c in name):
        module.fail_json(msg=f"name {name!r} is not a valid group name (1 to 128 characters, no white space)")
    if params["description"] is not None and len(params["description"]) > 2048:
        module.fail_json(msg="description must be at most 2048 characters")
    if params["precedence"] is not None and params["precedence"] < 0:
        module.fail_json(msg=f"precedence must be 0 or more (got {params['precedence']})")
    if params["role_arn"] is not None and not ROLE_ARN_RE.match(params["role_arn"]):
        module.fail_json(
            msg=f"role_arn {params['role_arn']!r} is not an IAM role ARN (arn:aws:iam::<account id>:role/<name>); "
            "a group's role cannot be removed, only changed"
        )


def get_group(module, client, pool_id, name):
    try:
        return client.get_group(UserPoolId=pool_id, GroupName=name, aws_retry=True)["Group"]
    except is_boto3_error_code("ResourceNotFoundException"):
        return None
    except (
        botocore.exceptions.ClientError,
        botocore.exceptions.BotoCoreError,
    ) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to read group {name} of user pool {pool_id}")


def view(group):
    """The module's view of a Group (or of a planned one), dates as ISO 8601 strings."""
    return {
        key: value.isoformat() if hasattr(value, "isoformat") else value
        for key, value in camel_dict_to_snake_dict(group).items()
    }


def current_value(group, field):
    # AWS leaves an empty description out of the Group.
    value = group.get(field)
    return "" if value is None and field == "Description" else value


def diff_view(group):
    return {option: group[field] for field, option in FIELDS if group.get(field) is not None}


def ensure_absent(module, client, pool_id, name):
    current = get_group(module, client, pool_id, name) if pool_id else None
    if current is None:
        module.exit_json(changed=False, group={})
    if not module.check_mode:
        try:
            client.delete_group(UserPoolId=pool_id, GroupName=name, aws_retry=True)
        except is_boto3_error_code("ResourceNotFoundException"):
            pass  # deleted in between: the outcome is the same
        except (
            botocore.exceptions.ClientError,
            botocore.exceptions.BotoCoreError,
        ) as e:  # pylint: disable=duplicate-except
            module.fail_json_aws(e, msg=f"Failed to delete group {name} of user pool {pool_id}")
    result = dict(changed=True, group={})
    if module._diff:
        result["diff"] = dict_diff(dict(group_name=name, **diff_view(current)), {})
    module.exit_json(**result)


def ensure_present(module, client, pool_id, name):
    params = module.params
    current = get_group(module, client, pool_id, name)
    wanted = {field: params[option] for field, option in FIELDS if params[option] is not None}

    if current is None:
        changed = True
        after = dict(GroupName=name, UserPoolId=pool_id, **wanted)
        if not module.check_mode:
            try:
                after = client.create_group(UserPoolId=pool_id, GroupName=name, aws_retry=True, **wanted)["Group"]
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                module.fail_json_aws(e, msg=f"Failed to create group {name} in user pool {pool_id}")
    else:
        updates = {field: value for field, value in wanted.items() if current_value(current, field) != value}
        changed = bool(updates)
        after = dict(current, **updates)
        if changed and not module.check_mode:
            # Send every field that is set, not only the changed ones: older API documentation says
            # UpdateGroup resets fields it is not given.
            request = {field: after[field] for field, _option in FIELDS if after.get(field) is not None}
            try:
                after = client.update_group(UserPoolId=pool_id, GroupName=name, aws_retry=True, **request)["Group"]
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                module.fail_json_aws(e, msg=f"Failed to update group {name} of user pool {pool_id}")

    result = dict(changed=changed, group=view(after))
    if module._diff:
        before = dict(group_name=name, **diff_view(current)) if current else {}
        result["diff"] = dict_diff(before, dict(group_name=name, **diff_view(after)))
    module.exit_json(**result)


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        description=dict(type="str"),
        precedence=dict(type="int"),
        role_arn=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        **user_pool_argument_spec(),
    )
    module = KubeflowOpsAWSModule(
        argument_spec=argument_spec,
        mutually_exclusive=USER_POOL_MUTUALLY_EXCLUSIVE,
        required_one_of=USER_POOL_REQUIRED_ONE_OF,
        supports_check_mode=True,
    )
    validate(module)
    client = module.client("cognito-idp", retry_decorator=AWSRetry.jittered_backoff())
    pool_id = resolve_user_pool_id(
        module,
        client,
        user_pool_id=module.params["user_pool_id"],
        user_pool_name=module.params["user_pool_name"],
        required=module.params["state"] == "present",
    )
    if module.params["state"] == "absent":
        ensure_absent(module, client, pool_id, module.params["name"])
    else:
        ensure_present(module, client, pool_id, module.params["name"])


if __name__ == "__main__":
    main()
