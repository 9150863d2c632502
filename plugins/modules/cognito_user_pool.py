#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubeflow_ops.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cognito_user_pool
short_description: Manage a Cognito user pool, found by name
version_added: 0.1.0
description:
  - Creates, updates or deletes an Amazon Cognito user pool. The pool is found by its O(name).
  - Pool names are not unique in Cognito. The module lists every pool of the region (C(ListUserPools)); when two or
    more pools carry O(name) it fails, lists their ids and changes nothing. It never creates a second pool of the same
    name.
  - Only the options that are set are compared and changed; an option left unset leaves that setting as it is.
  - C(UpdateUserPool) resets every setting it is not given to its default. The module therefore reads the pool
    (C(DescribeUserPool)) and sends its whole current configuration with the requested changes merged in, so Lambda
    triggers, e-mail and SMS settings, verification messages and the like are kept.
  - Some settings are fixed when a pool is created. Asking for a different O(alias_attributes) or
    O(username_attributes), or for a different definition of an attribute that is already in the O(schema), fails
    with a message naming the setting, before anything is changed; such a pool must be recreated. New custom
    attributes are added in place (C(AddCustomAttributes)).
  - With O(state=absent) the pool is deleted together with its users, groups and app clients. A pool with deletion
    protection needs O(deletion_protection=INACTIVE) in the same task; a pool that still has a domain is not deleted
    (delete the domain first with M(kubeflow_ops.aws.cognito_user_pool_domain)).
author:
  - kubeflow_ops maintainers (!UNKNOWN)
options:
  name:
    description:
      - Name of the user pool (1 to 128 letters, digits, spaces and C(+=,.@-)).
    type: str
    required: true
  state:
    description: Whether the user pool should exist.
    type: str
    choices: [present, absent]
    default: present
  alias_attributes:
    description:
      - Attributes users can sign in with besides their user name.
      - Fixed at creation; a different value for an existing pool fails (the pool must be recreated).
      - Mutually exclusive with O(username_attributes).
    type: list
    elements: str
    choices: [email, phone_number, preferred_username]
  username_attributes:
    description:
      - Attributes users sign in with instead of a user name.
      - Fixed at creation; a different value for an existing pool fails (the pool must be recreated).
      - Mutually exclusive with O(alias_attributes).
    type: list
    elements: str
    choices: [email, phone_number]
  auto_verified_attributes:
    description: Attributes Cognito verifies automatically (it sends a code to the address or number).
    type: list
    elements: str
    choices: [email, phone_number]
  mfa_configuration:
    description:
      - Multi-factor authentication. V(OFF), V(ON) (required for every user) or V(OPTIONAL).
      - With V(ON) or V(OPTIONAL) the module enables time-based one-time passwords (authenticator apps) through
        C(SetUserPoolMfaConfig), the only factor that needs no SMS or e-mail sending set-up; SMS MFA settings that a
        pool already has are kept.
    type: str
    choices: ['OFF', 'ON', 'OPTIONAL']
  password_policy:
    description:
      - Password policy. Only the keys that are given are compared and changed.
      - When a pool is created without a key, AWS applies its own default for it.
    type: dict
    suboptions:
      minimum_length:
        description: Minimum password length, 6 to 99.
        type: int
      require_uppercase:
        description: Whether passwords need an upper case letter.
        type: bool
      require_lowercase:
        description: Whether passwords need a lower case letter.
        type: bool
      require_numbers:
        description: Whether passwords need a digit.
        type: bool
      require_symbols:
        description: Whether passwords need a symbol.
        type: bool
      temporary_password_validity_days:
        description: Days a temporary password (from an administrator) stays valid, 0 to 365.
        type: int
  admin_create_user_only:
    description:
      - Whether only administrators can create users (C(AdminCreateUserConfig.AllowAdminCreateUserOnly)); V(false)
        allows self sign-up.
    type: bool
  invite_message:
    description:
      - The invitation message sent to users an administrator creates. Only the keys that are given are compared and
        changed.
    type: dict
    suboptions:
      email_subject:
        description: Subject of the invitation e-mail, 1 to 140 characters.
        type: str
      email_message:
        description:
          - Body of the invitation e-mail, 6 to 20000 characters. Must contain C({username}) and C({####}) (the
            temporary password).
        type: str
      sms_message:
        description:
          - Text of the invitation SMS, 6 to 140 characters. Must contain C({username}) and C({####}).
        type: str
  schema:
    description:
      - Attributes that must exist in the pool, standard (for example C(email)) or custom (any other name; AWS stores
        it as C(custom:<name>), or C(dev:custom:<name>) when developer only). C(custom:<name>) is accepted too.
      - Attributes of the pool that are not listed are left alone; AWS cannot remove attributes.
      - A custom attribute that does not exist yet is added in place. For an attribute that exists, the keys that are
        given must match it; AWS cannot change them and the module fails, naming the attribute and the key.
    type: list
    elements: dict
    suboptions:
      name:
        description: Attribute name; custom names are 1 to 20 characters.
        type: str
        required: true
      attribute_data_type:
        description:
          - Data type. Required to add a custom attribute. For a standard attribute it must be the attribute's own
            type when given.
        type: str
        choices: [String, Number, DateTime, Boolean]
      required:
        description: Whether users must have the attribute. Only standard attributes can be required.
        type: bool
      mutable:
        description: Whether the attribute can be changed after it is set.
        type: bool
      developer_only_attribute:
        description: Whether only administrators can read and write the attribute (custom attributes only).
        type: bool
      string_attribute_constraints:
        description: Length limits of a C(String) attribute.
        type: dict
        suboptions:
          min_length:
            description: Minimum length, 0 to 2048.
            type: int
          max_length:
            description: Maximum length, 0 to 2048.
            type: int
      number_attribute_constraints:
        description: Limits of a C(Number) attribute.
        type: dict
        suboptions:
          min_value:
            description: Minimum value.
            type: int
          max_value:
            description: Maximum value.
            type: int
  deletion_protection:
    description:
      - V(ACTIVE) keeps the pool from being deleted (C(DeleteUserPool) fails).
      - With O(state=absent), a pool whose deletion protection is V(ACTIVE) is only deleted when this is V(INACTIVE);
        the module then turns the protection off and deletes the pool. Otherwise it fails and changes nothing.
    type: str
    choices: [ACTIVE, INACTIVE]
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
notes:
  - Check mode reads the pools and reports what would change; it writes nothing.
  - With O(state=absent) only O(name) and O(deletion_protection) are used.
  - In check mode a pool that still has a domain is reported as to be deleted with a warning (an earlier task of the
    same play may delete the domain); the real run fails if the domain is still there.
  - Tags are read from and written with the pool's C(UserPoolTags) (C(UpdateUserPool) replaces the whole set).
  - "Moto (the test sandbox) forgets C(AliasAttributes) and C(UsernameAttributes) after any C(UpdateUserPool); a task
    that sets them then fails as if they had changed. Real AWS keeps them."
"""

EXAMPLES = r"""
- name: User pool for Kubeflow (sign-in by user name or e-mail, administrators create users)
  kubeflow_ops.aws.cognito_user_pool:
    region: eu-west-1
    name: kubeflow-prod
    alias_attributes: [email]
    auto_verified_attributes: [email]
    admin_create_user_only: true
    password_policy:
      minimum_length: 12
      require_symbols: false
      temporary_password_validity_days: 7
    schema:
      - name: email
        attribute_data_type: String
        required: true
        mutable: true
      - name: team
        attribute_data_type: String
        mutable: true
        string_attribute_constraints:
          min_length: 1
          max_length: 64
    deletion_protection: ACTIVE
    tags:
      kubeflow_ops:environment: prod
  register: pool

- name: Look the pool up without changing it (fails when the name is ambiguous)
  kubeflow_ops.aws.cognito_user_pool:
    region: eu-west-1
    name: kubeflow-prod
  check_mode: true
  register: found

- name: Delete a protected pool
  kubeflow_ops.aws.cognito_user_pool:
    region: eu-west-1
    name: kubeflow-prod
    deletion_protection: INACTIVE
    state: absent
"""

RETURN = r"""
user_pool:
  description:
    - The pool as C(DescribeUserPool) reports it after the task, with keys in snake case (tag keys are left as they
      are); empty after O(state=absent).
    - In check mode, when the pool would be created, the planned settings without the values only AWS assigns
      (RV(user_pool.id), RV(user_pool.arn)).
  returned: always
  type: dict
  contains:
    id:
      description: Id of the pool; present whenever the pool exists.
      type: str
      sample: eu-west-1_AbC123xyz
    arn:
      description: ARN of the pool; present whenever the pool exists.
      type: str
      sample: arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbC123xyz
    name:
      description: Name of the pool.
      type: str
      sample: kubeflow-prod
    alias_attributes:
      description: Sign-in aliases.
      type: list
      elements: str
      returned: when set
      sample: [email]
    username_attributes:
      description: Attributes used as user name.
      type: list
      elements: str
      returned: when set
    auto_verified_attributes:
      description: Automatically verified attributes.
      type: list
      elements: str
      returned: when set
      sample: [email]
    mfa_configuration:
      description: C(OFF), C(ON) or C(OPTIONAL).
      type: str
      sample: 'OFF'
    deletion_protection:
      description: C(ACTIVE) or C(INACTIVE).
      type: str
      returned: when known
      sample: INACTIVE
    policies:
      description: The pool's policies; C(password_policy) holds the password policy.
      type: dict
      sample: {"password_policy": {"minimum_length": 12, "require_symbols": false}}
    admin_create_user_config:
      description: C(allow_admin_create_user_only) and C(invite_message_template).
      type: dict
    schema_attributes:
      description: The pool's attributes (custom ones named C(custom:<name>)).
      type: list
      elements: dict
    domain:
      description: The pool's prefix domain, if it has one.
      type: str
      returned: when the pool has a prefix domain
    custom_domain:
      description: The pool's custom domain, if it has one.
      type: str
      returned: when the pool has a custom domain
    user_pool_tags:
      description: The pool's tags (keys and values as set).
      type: dict
      returned: when the pool has tags
    tags:
      description: The pool's tags (keys and values as set); empty when it has none.
      type: dict
      sample: {"kubeflow_ops:environment": "prod"}
user_pool_ids:
  description: Ids of the pools that share O(name), when the module fails because the name is ambiguous.
  returned: on ambiguity
  type: list
  elements: str
  sample: [eu-west-1_AbC123xyz, eu-west-1_XyZ987abc]
"""

import copy
import re

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports the missing dependency

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.kubeflow_ops.aws.plugins.module_utils._common import KubeflowOpsAWSModule, dict_diff

POOL_NAME_RE = re.compile(r"^[\w\s+=,.@-]{1,128}$")

# Standard attributes and their data types. AWS lists all of them in SchemaAttributes of every pool.
STANDARD_ATTRIBUTES = {
    "address": "String",
    "birthdate": "String",
    "email": "String",
    "email_verified": "Boolean",
    "family_name": "String",
    "gender": "String",
    "given_name": "String",
    "locale": "String",
    "middle_name": "String",
    "name": "String",
    "nickname": "String",
    "phone_number": "String",
    "phone_number_verified": "Boolean",
    "picture": "String",
    "preferred_username": "String",
    "profile": "String",
    "sub": "String",
    "updated_at": "Number",
    "website": "String",
    "zoneinfo": "String",
}

PASSWORD_POLICY_KEYS = {
    "minimum_length": "MinimumLength",
    "require_uppercase": "RequireUppercase",
    "require_lowercase": "RequireLowercase",
    "require_numbers": "RequireNumbers",
    "require_symbols": "RequireSymbols",
    "temporary_password_validity_days": "TemporaryPasswordValidityDays",
}
INVITE_MESSAGE_KEYS = {"email_subject": "EmailSubject", "email_message": "EmailMessage", "sms_message": "SMSMessage"}
SCHEMA_KEYS = {
    "attribute_data_type": "AttributeDataType",
    "required": "Required",
    "mutable": "Mutable",
    "developer_only_attribute": "DeveloperOnlyAttribute",
}
# Deprecated top-level copies of VerificationMessageTemplate that DescribeUserPool still returns.
DEPRECATED_VERIFICATION_KEYS = ("EmailVerificationMessage", "EmailVerificationSubject", "SmsVerificationMessage")


def _strip_none(value):
    if isinstance(value, dict):
        return {k: _strip_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_none(v) for v in value]
    return value


def attribute_names(spec):
    """(base name, stored name, is custom) of a schema entry as AWS names it."""
    name = spec["name"]
    base = name[len("custom:") :] if name.startswith("custom:") else name
    custom = name.startswith("custom:") or base not in STANDARD_ATTRIBUTES
    if not custom:
        return base, base, False
    stored = "custom:" + base
    if spec.get("developer_only_attribute"):
        stored = "dev:" + stored
    return base, stored, True


def validate(module):
    """Check every option before any call to AWS."""
    p = module.params
    errors = []
    name = p["name"]
    if not POOL_NAME_RE.match(name or ""):
        errors.append(f"name {name!r} is not a valid user pool name (1 to 128 letters, digits, spaces and +=,.@-)")

    policy = p["password_policy"] or {}
    if policy.get("minimum_length") is not None and not 6 <= policy["minimum_length"] <= 99:
        errors.append(f"password_policy.minimum_length must be between 6 and 99, not {policy['minimum_length']}")
    days = policy.get("temporary_password_validity_days")
    if days is not None and not 0 <= days <= 365:
        errors.append(f"password_policy.temporary_password_validity_days must be between 0 and 365, not {days}")

    invite = p["invite_message"] or {}
    subject = invite.get("email_subject")
    if subject is not None and not 1 <= len(subject) <= 140:
        errors.append("invite_message.email_subject must be 1 to 140 characters long")
    for key, limit in (("email_message", 20000), ("sms_message", 140)):
        text = invite.get(key)
        if text is None:
            continue
        if not 6 <= len(text) <= limit:
            errors.append(f"invite_message.{key} must be 6 to {limit} characters long")
        missing = [ph for ph in ("{username}", "{####}") if ph not in text]
        if missing:
            errors.append(
                f"invite_message.{key} must contain the placeholders {{username}} and {{####}} (the temporary "
                f"password); missing: {', '.join(missing)}"
            )

    seen = set()
    for index, spec in enumerate(p["schema"] or []):
        label = f"schema[{index}] ({spec['name']!r})"
        if not spec["name"] or spec["name"] in ("custom:", "dev:custom:"):
            errors.append(f"{label}: name must not be empty")
            continue
        if spec["name"].startswith("dev:"):
            errors.append(f"{label}: give the name without 'dev:' and set developer_only_attribute: true")
            continue
        base, stored, custom = attribute_names(spec)
        if stored in seen:
            errors.append(f"{label}: attribute {stored} is listed twice")
        seen.add(stored)
        data_type = spec["attribute_data_type"]
        if custom:
            if not 1 <= len(base) <= 20:
                errors.append(f"{label}: custom attribute names are 1 to 20 characters long")
            if spec["required"]:
                errors.append(f"{label}: custom attributes cannot be required (AWS only allows required standard ones)")
        else:
            if data_type is not None and data_type != STANDARD_ATTRIBUTES[base]:
                errors.append(
                    f"{label}: the standard attribute {base} is of type {STANDARD_ATTRIBUTES[base]}, not {data_type}"
                )
            if spec["developer_only_attribute"]:
                errors.append(f"{label}: only custom attributes can be developer only")
            data_type = STANDARD_ATTRIBUTES[base]
        strings = spec["string_attribute_constraints"]
        numbers = spec["number_attribute_constraints"]
        if strings and data_type not in (None, "String"):
            errors.append(f"{label}: string_attribute_constraints only apply to String attributes")
        if numbers and data_type not in (None, "Number"):
            errors.append(f"{label}: number_attribute_constraints only apply to Number attributes")
        if strings:
            low, high = strings.get("min_length"), strings.get("max_length")
            for key, value in (("min_length", low), ("max_length", high)):
                if value is not None and not 0 <= value <= 2048:
                    errors.append(f"{label}: string_attribute_constraints.{key} must be between 0 and 2048")
            if low is not None and high is not None and low > high:
                errors.append(f"{label}: string_attribute_constraints.min_length is greater than max_length")
        if numbers:
            low, high = numbers.get("min_value"), numbers.get("max_value")
            if low is not None and high is not None and low > high:
                errors.append(f"{label}: number_attribute_constraints.min_value is greater than max_value")
    if errors:
        module.fail_json(msg="Invalid options: " + "; ".join(errors), errors=errors)


@AWSRetry.jittered_backoff()
def _list_pools(client):
    paginator = client.get_paginator("list_user_pools")
    return paginator.paginate(MaxResults=60).build_full_result().get("UserPools", [])


def find_pool_id(module, client, name):
    """Id of the one pool named `name`, None when there is none; fails when several share the name."""
    try:
        pools = _list_pools(client)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to list Cognito user pools")
    ids = sorted(pool["Id"] for pool in pools if pool.get("Name") == name)
    if len(ids) > 1:
        module.fail_json(
            msg=f"{len(ids)} Cognito user pools are named {name!r} in {module.region} ({', '.join(ids)}). Pool names "
            "are not unique in AWS, so the module cannot tell which one is meant and changed nothing: delete or "
            "rename the extra pools.",
            user_pool_ids=ids,
        )
    return ids[0] if ids else None


def describe_pool(module, client, pool_id):
    try:
        return client.describe_user_pool(UserPoolId=pool_id, aws_retry=True)["UserPool"]
    except is_boto3_error_code("ResourceNotFoundException"):
        return None
    except (
        botocore.exceptions.ClientError,
        botocore.exceptions.BotoCoreError,
    ) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to describe Cognito user pool {pool_id}")


def schema_spec_to_aws(spec):
    """A schema option entry as a SchemaAttributeType for CreateUserPool / AddCustomAttributes."""
    base, _stored, _custom = attribute_names(spec)
    attribute = {"Name": base}
    for key, aws_key in SCHEMA_KEYS.items():
        if spec.get(key) is not None:
            attribute[aws_key] = spec[key]
    strings = spec.get("string_attribute_constraints") or {}
    if any(v is not None for v in strings.values()):
        attribute["StringAttributeConstraints"] = _strip_none(
            {"MinLength": _str_or_none(strings.get("min_length")), "MaxLength": _str_or_none(strings.get("max_length"))}
        )
    numbers = spec.get("number_attribute_constraints") or {}
    if any(v is not None for v in numbers.values()):
        attribute["NumberAttributeConstraints"] = _strip_none(
            {"MinValue": _str_or_none(numbers.get("min_value")), "MaxValue": _str_or_none(numbers.get("max_value"))}
        )
    return attribute


def _str_or_none(value):
    return None if value is None else str(value)


def schema_changes(pool, specs):
    """(errors for attributes that would change, custom attributes to add) for the schema option."""
    existing = {attr["Name"]: attr for attr in pool.get("SchemaAttributes") or []}
    errors = []
    to_add = []
    for spec in specs or []:
        _base, stored, custom = attribute_names(spec)
        current = existing.get(stored)
        if current is None and custom and spec.get("developer_only_attribute") is None:
            # Not said either way: the developer-only attribute of that name is the one meant.
            stored = "dev:" + stored
            current = existing.get(stored)
        if current is None and custom:
            to_add.append(spec)
            continue
        if current is None:
            # Real AWS lists every standard attribute; moto only those given at creation. A standard attribute
            # that is not listed has AWS's defaults.
            current = {
                "AttributeDataType": STANDARD_ATTRIBUTES[stored],
                "Required": stored == "sub",
                "Mutable": stored != "sub",
                "DeveloperOnlyAttribute": False,
            }
        for key, aws_key in SCHEMA_KEYS.items():
            wanted = spec.get(key)
            if wanted is None:
                continue
            have = current.get(aws_key)
            if have is None and aws_key in ("Required", "Mutable", "DeveloperOnlyAttribute"):
                have = False if aws_key != "Mutable" else True
            if wanted != have:
                errors.append(f"schema attribute {stored}: {key} is {have!r}, the task asks for {wanted!r}")
        for option, aws_block, keys in (
            (
                "string_attribute_constraints",
                "StringAttributeConstraints",
                (("min_length", "MinLength"), ("max_length", "MaxLength")),
            ),
            (
                "number_attribute_constraints",
                "NumberAttributeConstraints",
                (("min_value", "MinValue"), ("max_value", "MaxValue")),
            ),
        ):
            given = spec.get(option) or {}
            have_block = current.get(aws_block) or {}
            for key, aws_key in keys:
                if given.get(key) is None:
                    continue
                have = have_block.get(aws_key)
                if have is None or str(have) != str(given[key]):
                    errors.append(
                        f"schema attribute {stored}: {option}.{key} is {have!r}, the task asks for {given[key]!r}"
                    )
    return errors, to_add


def immutable_errors(module, pool):
    p = module.params
    errors = []
    for option, aws_key in (("alias_attributes", "AliasAttributes"), ("username_attributes", "UsernameAttributes")):
        if p[option] is None:
            continue
        have = sorted(pool.get(aws_key) or [])
        if sorted(set(p[option])) != have:
            errors.append(f"{option} is {have}, the task asks for {sorted(set(p[option]))}")
    schema_errors, _to_add = schema_changes(pool, p["schema"])
    return errors + schema_errors


def view(pool):
    """The pool in the module's own option names, for --diff."""
    if not pool:
        return {}
    policy = (pool.get("Policies") or {}).get("PasswordPolicy") or {}
    admin = pool.get("AdminCreateUserConfig") or {}
    invite = admin.get("InviteMessageTemplate") or {}
    result = {
        "name": pool.get("Name"),
        "alias_attributes": sorted(pool.get("AliasAttributes") or []),
        "username_attributes": sorted(pool.get("UsernameAttributes") or []),
        "auto_verified_attributes": sorted(pool.get("AutoVerifiedAttributes") or []),
        "mfa_configuration": pool.get("MfaConfiguration") or "OFF",
        "password_policy": {k: policy.get(aws) for k, aws in PASSWORD_POLICY_KEYS.items() if aws in policy},
        "admin_create_user_only": admin.get("AllowAdminCreateUserOnly", False),
        "invite_message": {k: invite.get(aws) for k, aws in INVITE_MESSAGE_KEYS.items() if aws in invite},
        "deletion_protection": pool.get("DeletionProtection") or "INACTIVE",
        "tags": dict(pool.get("UserPoolTags") or {}),
        "schema": sorted(attr["Name"] for attr in pool.get("SchemaAttributes") or []),
    }
    if pool.get("Id"):
        result["id"] = pool["Id"]
    return result


def snake_pool(pool):
    result = camel_dict_to_snake_dict(pool, ignore_list=["UserPoolTags"])
    result["tags"] = dict(pool.get("UserPoolTags") or {})
    return result


def create_request(module):
    p = module.params
    request = {"PoolName": p["name"]}
    if p["alias_attributes"]:
        request["AliasAttributes"] = sorted(set(p["alias_attributes"]))
    if p["username_attributes"]:
        request["UsernameAttributes"] = sorted(set(p["username_attributes"]))
    if p["auto_verified_attributes"] is not None:
        request["AutoVerifiedAttributes"] = sorted(set(p["auto_verified_attributes"]))
    policy = {
        aws: p["password_policy"][k]
        for k, aws in PASSWORD_POLICY_KEYS.items()
        if (p["password_policy"] or {}).get(k) is not None
    }
    if policy:
        request["Policies"] = {"PasswordPolicy": policy}
    admin = {}
    if p["admin_create_user_only"] is not None:
        admin["AllowAdminCreateUserOnly"] = p["admin_create_user_only"]
    invite = {
        aws: p["invite_message"][k]
        for k, aws in INVITE_MESSAGE_KEYS.items()
        if (p["invite_message"] or {}).get(k) is not None
    }
    if invite:
        admin["InviteMessageTemplate"] = invite
    if admin:
        request["AdminCreateUserConfig"] = admin
    if p["schema"]:
        request["Schema"] = [schema_spec_to_aws(spec) for spec in p["schema"]]
    if p["deletion_protection"]:
        request["DeletionProtection"] = p["deletion_protection"]
    if p["tags"]:
        request["UserPoolTags"] = {k: str(v) for k, v in p["tags"].items()}
    return request


def planned_pool(request, mfa):
    """What DescribeUserPool would show for a pool created from `request` (for check mode and diff)."""
    pool = {k: v for k, v in request.items() if k not in ("PoolName", "Schema")}
    pool["Name"] = request["PoolName"]
    pool["MfaConfiguration"] = mfa or "OFF"
    pool["SchemaAttributes"] = [dict(attr, Name=stored_name(attr)) for attr in request.get("Schema", [])]
    return pool


def stored_name(aws_attribute):
    """The name AWS lists a SchemaAttributeType under (custom:x, dev:custom:x or the standard name)."""
    spec = {"name": aws_attribute["Name"], "developer_only_attribute": aws_attribute.get("DeveloperOnlyAttribute")}
    return attribute_names(spec)[1]


def base_update_request(client, pool):
    """UpdateUserPool arguments that keep every current setting (AWS resets what is not sent)."""
    members = client.meta.service_model.operation_model("UpdateUserPool").input_shape.members
    request = {k: copy.deepcopy(v) for k, v in pool.items() if k in members and k != "UserPoolId" and v is not None}
    request["UserPoolId"] = pool["Id"]
    policy = (request.get("Policies") or {}).get("PasswordPolicy") or {}
    admin = request.get("AdminCreateUserConfig") or {}
    # AWS refuses the deprecated UnusedAccountValidityDays once TemporaryPasswordValidityDays is in use
    # ("Please use TemporaryPasswordValidityDays in PasswordPolicy instead of UnusedAccountValidityDays").
    if "UnusedAccountValidityDays" in admin and policy.get("TemporaryPasswordValidityDays") is not None:
        del admin["UnusedAccountValidityDays"]
    # The deprecated top-level verification texts are copies of VerificationMessageTemplate; send the template only.
    if request.get("VerificationMessageTemplate"):
        for key in DEPRECATED_VERIFICATION_KEYS:
            request.pop(key, None)
    return request


def plan_update(module, client, pool):
    """(UpdateUserPool request or None, MFA value to set or None, names of the changed options)."""
    p = module.params
    request = base_update_request(client, pool)
    changed = []

    if p["auto_verified_attributes"] is not None:
        wanted = sorted(set(p["auto_verified_attributes"]))
        if wanted != sorted(pool.get("AutoVerifiedAttributes") or []):
            request["AutoVerifiedAttributes"] = wanted
            changed.append("auto_verified_attributes")

    policy_given = {
        aws: p["password_policy"][k]
        for k, aws in PASSWORD_POLICY_KEYS.items()
        if (p["password_policy"] or {}).get(k) is not None
    }
    current_policy = (pool.get("Policies") or {}).get("PasswordPolicy") or {}
    if any(current_policy.get(k) != v for k, v in policy_given.items()):
        policies = request.setdefault("Policies", {})
        policies["PasswordPolicy"] = dict(policies.get("PasswordPolicy") or {}, **policy_given)
        if policy_given.get("TemporaryPasswordValidityDays") is not None:
            (request.get("AdminCreateUserConfig") or {}).pop("UnusedAccountValidityDays", None)
        changed.append("password_policy")

    admin = request.setdefault("AdminCreateUserConfig", {})
    current_admin = pool.get("AdminCreateUserConfig") or {}
    if p["admin_create_user_only"] is not None and p["admin_create_user_only"] != current_admin.get(
        "AllowAdminCreateUserOnly", False
    ):
        admin["AllowAdminCreateUserOnly"] = p["admin_create_user_only"]
        changed.append("admin_create_user_only")
    invite_given = {
        aws: p["invite_message"][k]
        for k, aws in INVITE_MESSAGE_KEYS.items()
        if (p["invite_message"] or {}).get(k) is not None
    }
    current_invite = current_admin.get("InviteMessageTemplate") or {}
    if any(current_invite.get(k) != v for k, v in invite_given.items()):
        admin["InviteMessageTemplate"] = dict(admin.get("InviteMessageTemplate") or {}, **invite_given)
        changed.append("invite_message")
    if not admin:
        del request["AdminCreateUserConfig"]

    if p["deletion_protection"] and p["deletion_protection"] != (pool.get("DeletionProtection") or "INACTIVE"):
        request["DeletionProtection"] = p["deletion_protection"]
        changed.append("deletion_protection")

    mfa = None
    current_mfa = pool.get("MfaConfiguration") or "OFF"
    if p["mfa_configuration"] and p["mfa_configuration"] != current_mfa:
        mfa = p["mfa_configuration"]
        changed.append("mfa_configuration")
    # Always sent: left out, AWS would turn MFA off.
    request["MfaConfiguration"] = mfa or current_mfa

    current_tags = dict(pool.get("UserPoolTags") or {})
    if p["tags"] is not None:
        to_set, to_unset = compare_aws_tags(current_tags, p["tags"], p["purge_tags"])
        if to_set or to_unset:
            tags = {k: v for k, v in current_tags.items() if k not in to_unset}
            tags.update({k: str(v) for k, v in to_set.items()})
            request["UserPoolTags"] = tags
            changed.append("tags")
    if "tags" not in changed:
        # Sent as they are, so that no reading of "unspecified" can drop them.
        request["UserPoolTags"] = current_tags

    return (request if changed else None), mfa, changed


def set_mfa(module, client, pool_id, mfa):
    """Turn MFA on/optional (with TOTP) or off. Runs before UpdateUserPool, which rejects ON without a factor."""
    request = {"UserPoolId": pool_id, "MfaConfiguration": mfa}
    if mfa != "OFF":
        try:
            current = client.get_user_pool_mfa_config(UserPoolId=pool_id, aws_retry=True)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            module.fail_json_aws(e, msg=f"Failed to read the MFA configuration of Cognito user pool {pool_id}")
        if current.get("SmsMfaConfiguration"):
            request["SmsMfaConfiguration"] = current["SmsMfaConfiguration"]
        request["SoftwareTokenMfaConfiguration"] = {"Enabled": True}
    try:
        client.set_user_pool_mfa_config(aws_retry=True, **request)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to set MFA to {mfa} on Cognito user pool {pool_id}")


def update_pool(module, client, request):
    try:
        client.update_user_pool(aws_retry=True, **request)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to update Cognito user pool {request['UserPoolId']}")


def ensure_present(module, client, pool_id):
    p = module.params
    if pool_id is None:
        request = create_request(module)
        planned = planned_pool(request, p["mfa_configuration"])
        result_pool = planned
        if not module.check_mode:
            try:
                created = client.create_user_pool(aws_retry=True, **request)["UserPool"]
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                module.fail_json_aws(e, msg=f"Failed to create Cognito user pool {p['name']}")
            # MFA other than OFF needs a factor, which only SetUserPoolMfaConfig enables.
            if p["mfa_configuration"] and p["mfa_configuration"] != "OFF":
                set_mfa(module, client, created["Id"], p["mfa_configuration"])
            result_pool = describe_pool(module, client, created["Id"]) or created
        result = dict(changed=True, user_pool=snake_pool(result_pool))
        if module._diff:
            result["diff"] = dict_diff({}, {k: v for k, v in view(planned).items() if v not in ({}, [])})
        module.exit_json(**result)

    pool = describe_pool(module, client, pool_id)
    if pool is None:
        module.fail_json(msg=f"Cognito user pool {pool_id} ({p['name']}) disappeared while the module was reading it")

    errors = immutable_errors(module, pool)
    if errors:
        module.fail_json(
            msg=f"Cannot change Cognito user pool {p['name']} ({pool_id}) in place: " + "; ".join(errors) + ". AWS "
            "fixes these settings when a pool is created; the pool must be recreated to change them (delete it with "
            "state=absent, which also deletes its users, and run again). Nothing was changed.",
            errors=errors,
        )
    _errors, to_add = schema_changes(pool, p["schema"])
    request, mfa, changed = plan_update(module, client, pool)

    after = copy.deepcopy(pool)
    if request:
        after.update({k: v for k, v in request.items() if k != "UserPoolId"})
    if to_add:
        after["SchemaAttributes"] = list(pool.get("SchemaAttributes") or []) + [
            dict(attr, Name=stored_name(attr)) for attr in (schema_spec_to_aws(spec) for spec in to_add)
        ]
        changed.append("schema")

    if changed and not module.check_mode:
        if mfa is not None:
            set_mfa(module, client, pool_id, mfa)
        if request:
            update_pool(module, client, request)
        if to_add:
            try:
                client.add_custom_attributes(
                    UserPoolId=pool_id, CustomAttributes=[schema_spec_to_aws(spec) for spec in to_add], aws_retry=True
                )
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                module.fail_json_aws(e, msg=f"Failed to add custom attributes to Cognito user pool {pool_id}")
        after = describe_pool(module, client, pool_id) or after

    result = dict(changed=bool(changed), user_pool=snake_pool(after if changed else pool))
    if module._diff:
        result["diff"] = dict_diff(view(pool), view(after))
    module.exit_json(**result)


def ensure_absent(module, client, pool_id):
    p = module.params
    if pool_id is None:
        module.exit_json(changed=False, user_pool={})
    pool = describe_pool(module, client, pool_id)
    if pool is None:
        module.exit_json(changed=False, user_pool={})

    domains = [pool[key] for key in ("Domain", "CustomDomain") if pool.get(key)]
    if domains:
        msg = (
            f"Cognito user pool {p['name']} ({pool_id}) still has the domain {' and '.join(domains)}; AWS does not "
            "delete a pool with a domain. Delete the domain first (kubeflow_ops.aws.cognito_user_pool_domain with "
            "state=absent)."
        )
        if not module.check_mode:
            module.fail_json(msg=msg + " Nothing was changed.", domains=domains)
        module.warn(msg)

    protected = (pool.get("DeletionProtection") or "INACTIVE") == "ACTIVE"
    if protected and p["deletion_protection"] != "INACTIVE":
        module.fail_json(
            msg=f"Cognito user pool {p['name']} ({pool_id}) has deletion protection ACTIVE. Set "
            "deletion_protection: INACTIVE in this task to turn it off and delete the pool. Nothing was changed."
        )

    if not module.check_mode:
        if protected:
            request = base_update_request(client, pool)
            request["DeletionProtection"] = "INACTIVE"
            request["MfaConfiguration"] = pool.get("MfaConfiguration") or "OFF"
            request["UserPoolTags"] = dict(pool.get("UserPoolTags") or {})
            update_pool(module, client, request)
        try:
            client.delete_user_pool(UserPoolId=pool_id, aws_retry=True)
        except is_boto3_error_code("ResourceNotFoundException"):
            module.exit_json(changed=False, user_pool={})
        except (
            botocore.exceptions.ClientError,
            botocore.exceptions.BotoCoreError,
        ) as e:  # pylint: disable=duplicate-except
            module.fail_json_aws(e, msg=f"Failed to delete Cognito user pool {pool_id}")

    result = dict(changed=True, user_pool={})
    if module._diff:
        result["diff"] = dict_diff(view(pool), {})
    module.exit_json(**result)


def main():
    string_constraints = dict(min_length=dict(type="int"), max_length=dict(type="int"))
    number_constraints = dict(min_value=dict(type="int"), max_value=dict(type="int"))
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        alias_attributes=dict(type="list", elements="str", choices=["email", "phone_number", "preferred_username"]),
        username_attributes=dict(type="list", elements="str", choices=["email", "phone_number"]),
        auto_verified_attributes=dict(type="list", elements="str", choices=["email", "phone_number"]),
        mfa_configuration=dict(type="str", choices=["OFF", "ON", "OPTIONAL"]),
        password_policy=dict(
            type="dict",
            no_log=False,
            options=dict(
                minimum_length=dict(type="int"),
                require_uppercase=dict(type="bool"),
                require_lowercase=dict(type="bool"),
                require_numbers=dict(type="bool"),
                require_symbols=dict(type="bool"),
                temporary_password_validity_days=dict(type="int", no_log=False),
            ),
        ),
        admin_create_user_only=dict(type="bool"),
        invite_message=dict(
            type="dict",
            options=dict(
                email_subject=dict(type="str"),
                email_message=dict(type="str"),
                sms_message=dict(type="str"),
            ),
        ),
        schema=dict(
            type="list",
            elements="dict",
            options=dict(
                name=dict(type="str", required=True),
                attribute_data_type=dict(type="str", choices=["String", "Number", "DateTime", "Boolean"]),
                required=dict(type="bool"),
                mutable=dict(type="bool"),
                developer_only_attribute=dict(type="bool"),
                string_attribute_constraints=dict(type="dict", options=string_constraints),
                number_attribute_constraints=dict(type="dict", options=number_constraints),
            ),
        ),
        deletion_protection=dict(type="str", choices=["ACTIVE", "INACTIVE"]),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = KubeflowOpsAWSModule(
        argument_spec=argument_spec,
        mutually_exclusive=[("alias_attributes", "username_attributes")],
        supports_check_mode=True,
    )
    validate(module)
    client = module.client("cognito-idp", retry_decorator=AWSRetry.jittered_backoff())
    pool_id = find_pool_id(module, client, module.params["name"])
    if module.params["state"] == "absent":
        ensure_absent(module, client, pool_id)
    else:
        ensure_present(module, client, pool_id)


if __name__ == "__main__":
    main()
