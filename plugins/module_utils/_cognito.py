# -*- coding: utf-8 -*-
# Copyright: kubeflow_ops.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Collection-private helpers shared by the Cognito user pool modules (may change without notice)."""

from __future__ import annotations

import re

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports the missing dependency

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

# <region>_<id>, e.g. eu-west-1_AbCdEf123 (the API's own pattern is [\w-]+_[0-9a-zA-Z]+).
USER_POOL_ID_RE = re.compile(r"^(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)_[0-9a-zA-Z]+$")


def user_pool_argument_spec():
    """The options every module that works inside a pool takes (documented in each module)."""
    return dict(
        user_pool_id=dict(type="str"),
        user_pool_name=dict(type="str"),
    )


USER_POOL_MUTUALLY_EXCLUSIVE = [("user_pool_id", "user_pool_name")]
USER_POOL_REQUIRED_ONE_OF = [("user_pool_id", "user_pool_name")]


@AWSRetry.jittered_backoff()
def _list_user_pools(client):
    paginator = client.get_paginator("list_user_pools")
    return paginator.paginate(MaxResults=60).build_full_result().get("UserPools", [])


def describe_user_pool(module, client, user_pool_id):
    """DescribeUserPool's UserPool, or None when the pool does not exist."""
    try:
        return client.describe_user_pool(UserPoolId=user_pool_id, aws_retry=True)["UserPool"]
    except is_boto3_error_code("ResourceNotFoundException"):
        return None
    except (
        botocore.exceptions.ClientError,
        botocore.exceptions.BotoCoreError,
    ) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to describe Cognito user pool {user_pool_id}")


def resolve_user_pool_id(module, client, user_pool_id=None, user_pool_name=None, required=True):
    """Return the id of the pool named by id or by name, or None when it does not exist and is not required.

    Pool names are not unique in Cognito: two pools with the same name are an error (their ids are
    listed) rather than a guess. An id is checked for shape and region, and that the pool exists.
    """
    if user_pool_id:
        match = USER_POOL_ID_RE.match(user_pool_id)
        if not match:
            module.fail_json(
                msg=f"user_pool_id {user_pool_id!r} is not a Cognito user pool id (expected <region>_<id>, "
                "e.g. eu-west-1_AbC123xyz)"
            )
        if module.region and match.group("region") != module.region:
            module.fail_json(
                msg=f"user_pool_id {user_pool_id} belongs to region {match.group('region')}, "
                f"but the module runs in region {module.region}: set region to the pool's region"
            )
        if describe_user_pool(module, client, user_pool_id) is None:
            if required:
                module.fail_json(msg=f"Cognito user pool {user_pool_id} does not exist in {module.region}")
            return None
        return user_pool_id

    if not user_pool_name:
        module.fail_json(msg="one of user_pool_id or user_pool_name is required")
    try:
        pools = _list_user_pools(client)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to list Cognito user pools")
    ids = sorted(pool["Id"] for pool in pools if pool.get("Name") == user_pool_name)
    if len(ids) > 1:
        module.fail_json(
            msg=f"{len(ids)} Cognito user pools are named {user_pool_name!r} in {module.region} "
            f"({', '.join(ids)}): pass user_pool_id, or delete the extra pools",
            user_pool_ids=ids,
        )
    if not ids:
        if required:
            module.fail_json(msg=f"No Cognito user pool is named {user_pool_name!r} in {module.region}")
        return None
    return ids[0]
