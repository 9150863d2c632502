#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubeflow_ops.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cognito_user_pool_client
short_description: Manage an app client of a Cognito user pool, found by name
version_added: 0.1.0
description:
  - Creates, updates or deletes an app client of an Amazon Cognito user pool. The client is found by its O(name)
    within the pool; when two clients of the pool share the name the module fails, lists their ids and changes
    nothing. It never creates a second client of the same name.
  - Only the options that are set are compared and changed. Lists are compared as sets (AWS does not keep their
    order).
  - C(UpdateUserPoolClient) resets every setting it is not given to its default. The module reads the client and
    sends its whole current configuration with the requested changes merged in, so changing one setting (for example
    the callback URLs) keeps the others (for example the OAuth scopes).
  - Whether a client has a secret is fixed when it is created. A different O(generate_secret) for an existing client
    fails before anything is changed; create a new client instead.
  - The options are checked before any call to AWS. Callback and logout URLs must be absolute C(https://) URLs
    without a fragment (C(http://localhost) is allowed for testing, as AWS allows it); O(allowed_oauth_flows) needs
    O(allowed_oauth_scopes); the C(code) and C(implicit) flows need at least one callback URL;
    O(default_redirect_uri) must be one of the callback URLs. When a setting the check needs is not given, the
    client's current value is used (and checked before anything is written).
author:
  - kubeflow_ops maintainers (!UNKNOWN)
options:
  name:
    description: Name of the app client (1 to 128 letters, digits, spaces and C(+=,.@-)).
    type: str
    required: true
  state:
    description: Whether the app client should exist.
    type: str
    choices: [present, absent]
    default: present
  generate_secret:
    description:
      - Whether the client has a secret (confidential clients, such as an ALB doing the OAuth 2.0 code flow).
      - Fixed at creation; a client is created without a secret when this is not set.
    type: bool
  return_secret:
    description:
      - Return the client secret in RV(user_pool_client.client_secret).
      - "The task must have C(no_log: true); without it the module fails before doing anything, so that the secret
        cannot end up in the output or in logs. The registered variable then holds the secret in clear; handle it
        as a secret."
      - When V(false), the secret is not returned at all (and is masked should it appear anywhere in the output).
    type: bool
    default: false
  allowed_oauth_flows:
    description: OAuth 2.0 grant types the client may use. V(client_credentials) cannot be combined with the others.
    type: list
    elements: str
    choices: [code, implicit, client_credentials]
  allowed_oauth_flows_user_pool_client:
    description: Whether the client may use the OAuth 2.0 features of the pool (needed for the flows and scopes).
    type: bool
  allowed_oauth_scopes:
    description:
      - OAuth 2.0 scopes, for example C(openid), C(email), C(profile), C(aws.cognito.signin.user.admin) or scopes of a
        resource server. Required (not empty) with O(allowed_oauth_flows).
    type: list
    elements: str
  callback_urls:
    description: Allowed redirect (callback) URLs after sign-in, for example C(https://kubeflow.example.com/oauth2/idpresponse).
    type: list
    elements: str
  logout_urls:
    description: Allowed redirect URLs after sign-out.
    type: list
    elements: str
  default_redirect_uri:
    description: The default redirect URL; must be one of the callback URLs.
    type: str
  supported_identity_providers:
    description: Identity providers the client may use, for example C(COGNITO) or the name of a SAML/OIDC provider.
    type: list
    elements: str
  explicit_auth_flows:
    description: Authentication flows (besides OAuth 2.0) the client supports.
    type: list
    elements: str
    choices:
      - ADMIN_NO_SRP_AUTH
      - CUSTOM_AUTH_FLOW_ONLY
      - USER_PASSWORD_AUTH
      - ALLOW_ADMIN_USER_PASSWORD_AUTH
      - ALLOW_CUSTOM_AUTH
      - ALLOW_USER_PASSWORD_AUTH
      - ALLOW_USER_SRP_AUTH
      - ALLOW_REFRESH_TOKEN_AUTH
      - ALLOW_USER_AUTH
  access_token_validity:
    description:
      - How long access tokens are valid, in the unit of O(token_validity_units.access_token) (hours when the client
        has no unit set). 5 minutes to 1 day.
    type: int
  id_token_validity:
    description:
      - How long ID tokens are valid, in the unit of O(token_validity_units.id_token) (hours when the client has no
        unit set). 5 minutes to 1 day.
    type: int
  refresh_token_validity:
    description:
      - How long refresh tokens are valid, in the unit of O(token_validity_units.refresh_token) (days when the client
        has no unit set). 60 minutes to 10 years.
    type: int
  token_validity_units:
    description: Units of the token validities. Only the keys that are given are compared and changed.
    type: dict
    suboptions:
      access_token:
        description: Unit of O(access_token_validity).
        type: str
        choices: [seconds, minutes, hours, days]
      id_token:
        description: Unit of O(id_token_validity).
        type: str
        choices: [seconds, minutes, hours, days]
      refresh_token:
        description: Unit of O(refresh_token_validity).
        type: str
        choices: [seconds, minutes, hours, days]
  prevent_user_existence_errors:
    description: V(ENABLED) hides whether a user exists in authentication errors; V(LEGACY) does not.
    type: str
    choices: [ENABLED, LEGACY]
  read_attributes:
    description: User attributes the client may read.
    type: list
    elements: str
  write_attributes:
    description: User attributes the client may write.
    type: list
    elements: str
extends_documentation_fragment:
  - kubeflow_ops.aws.cognito_user_pool_ref
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Check mode reads the pool and its clients and reports what would change; it writes nothing.
  - With O(state=absent) a missing pool or client is not an error.
  - "The secret is added to the module's C(no_log_values) unless O(return_secret=true). Ansible replaces every value
    in C(no_log_values) with C(VALUE_SPECIFIED_IN_NO_LOG_PARAMETER) in the whole module result, so a secret that is
    both returned and masked would reach C(register) masked too (checked with ansible-core 2.19); that is why a
    returned secret is not masked and the task must be C(no_log: true) instead."
  - The diff never shows the secret, only O(generate_secret) and a placeholder.
  - "Moto (the test sandbox) merges C(UpdateUserPoolClient) into the client instead of resetting what is not sent,
    and returns C(ClientSecret) from C(ListUserPoolClients); real AWS does neither."
"""

EXAMPLES = r"""
- name: App client for the Kubeflow ALB (OAuth 2.0 code flow with a secret)
  kubeflow_ops.aws.cognito_user_pool_client:
    region: eu-west-1
    user_pool_name: kubeflow-prod
    name: kubeflow
    generate_secret: true
    allowed_oauth_flows: [code]
    allowed_oauth_flows_user_pool_client: true
    allowed_oauth_scopes: [email, openid, aws.cognito.signin.user.admin, profile]
    supported_identity_providers: [COGNITO]
    callback_urls: [https://kubeflow.platform.example.com/oauth2/idpresponse]
    logout_urls: [https://kubeflow.platform.example.com]
  register: app_client

- name: Use the client id
  ansible.builtin.debug:
    msg: "{{ app_client.user_pool_client.client_id }}"

- name: Read the secret for another system (the task must be no_log)
  kubeflow_ops.aws.cognito_user_pool_client:
    region: eu-west-1
    user_pool_name: kubeflow-prod
    name: kubeflow
    return_secret: true
  check_mode: true
  no_log: true
  register: app_client_with_secret

- name: Delete the client
  kubeflow_ops.aws.cognito_user_pool_client:
    region: eu-west-1
    user_pool_id: eu-west-1_AbC123xyz
    name: kubeflow
    state: absent
"""

RETURN = r"""
user_pool_client:
  description:
    - The app client as C(DescribeUserPoolClient) reports it after the task, with keys in snake case (the C(OAuth)
      keys spelled as the options, for example C(allowed_oauth_flows)); empty after O(state=absent).
    - In check mode, when the client would be created, the planned settings without the values only AWS assigns.
  returned: always
  type: dict
  contains:
    client_id:
      description: Id of the client; present whenever the client exists.
      type: str
      sample: 1example23456789
    client_name:
      description: Name of the client.
      type: str
      sample: kubeflow
    user_pool_id:
      description: Id of the pool the client belongs to.
      type: str
      sample: eu-west-1_AbC123xyz
    client_secret:
      description:
        - The client secret, in clear. Only with O(return_secret=true) (which needs C(no_log) on the task) and when
          the client has a secret.
      type: str
      returned: when O(return_secret=true) and the client has a secret
    generate_secret:
      description: Whether the client has a secret.
      type: bool
      sample: true
    allowed_oauth_flows:
      description: OAuth 2.0 grant types.
      type: list
      elements: str
      returned: when set
      sample: [code]
    allowed_oauth_flows_user_pool_client:
      description: Whether the client uses the pool's OAuth 2.0 features.
      type: bool
      returned: when known
    allowed_oauth_scopes:
      description: OAuth 2.0 scopes.
      type: list
      elements: str
      returned: when set
      sample: [email, openid]
    callback_urls:
      description: Callback URLs.
      type: list
      elements: str
      returned: when set
    logout_urls:
      description: Sign-out URLs.
      type: list
      elements: str
      returned: when set
    supported_identity_providers:
      description: Identity providers.
      type: list
      elements: str
      returned: when set
      sample: [COGNITO]
user_pool_client_ids:
  description: Ids of the clients that share O(name), when the module fails because the name is ambiguous.
  returned: on ambiguity
  type: list
  elements: str
"""

import copy
import re
from urllib.parse import urlsplit

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

CLIENT_NAME_RE = re.compile(r"^[\w\s+=,.@-]{1,128}$")
SCOPE_RE = re.compile(r"^[\x21\x23-\x5B\x5D-\x7E]{1,256}$")
SECRET_PLACEHOLDER = "(secret hidden)"

# option -> API key; lists AWS does not keep in order, compared as sets.
LIST_OPTIONS = {
    "allowed_oauth_flows": "AllowedOAuthFlows",
    "allowed_oauth_scopes": "AllowedOAuthScopes",
    "callback_urls": "CallbackURLs",
    "logout_urls": "LogoutURLs",
    "supported_identity_providers": "SupportedIdentityProviders",
    "explicit_auth_flows": "ExplicitAuthFlows",
    "read_attributes": "ReadAttributes",
    "write_attributes": "WriteAttributes",
}
SCALAR_OPTIONS = {
    "allowed_oauth_flows_user_pool_client": "AllowedOAuthFlowsUserPoolClient",
    "default_redirect_uri": "DefaultRedirectURI",
    "prevent_user_existence_errors": "PreventUserExistenceErrors",
    "access_token_validity": "AccessTokenValidity",
    "id_token_validity": "IdTokenValidity",
    "refresh_token_validity": "RefreshTokenValidity",
}
UNIT_KEYS = {"access_token": "AccessToken", "id_token": "IdToken", "refresh_token": "RefreshToken"}
# AWS's defaults when a client has no TokenValidityUnits, and the allowed ranges in seconds.
DEFAULT_UNITS = {"AccessToken": "hours", "IdToken": "hours", "RefreshToken": "days"}
UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
VALIDITY_RANGES = {
    "AccessTokenValidity": ("AccessToken", 300, 86400, "5 minutes and 1 day"),
    "IdTokenValidity": ("IdToken", 300, 86400, "5 minutes and 1 day"),
    "RefreshTokenValidity": ("RefreshToken", 3600, 3650 * 86400, "60 minutes and 10 years"),
}
REDIRECT_FLOWS = ("code", "implicit")


def url_error(option, url):
    """Why `url` is not acceptable as a callback/logout URL, or None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return f"{option}: {url!r} is not a URL"
    if len(url) > 1024:
        return f"{option}: {url!r} is longer than 1024 characters"
    if parts.fragment or "#" in url:
        return f"{option}: {url!r} must not contain a fragment (#...)"
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname == "localhost":
        return None
    return f"{option}: {url!r} must be an absolute https:// URL (http:// is only allowed for localhost)"


def consistency_errors(config, complete):
    """Cross-option rules on a CreateUserPoolClient/UpdateUserPoolClient shaped dict.

    With complete=False only the rules whose inputs are all in `config` are checked (the task's own options,
    before any call); with complete=True a missing key means "not set" (the merged configuration about to be sent).
    """
    errors = []

    def get(key):
        if key in config:
            return config[key]
        return [] if complete else None

    flows = get("AllowedOAuthFlows")
    scopes = get("AllowedOAuthScopes")
    callbacks = get("CallbackURLs")
    if flows and scopes is not None and not scopes:
        errors.append("allowed_oauth_scopes must not be empty when allowed_oauth_flows is set")
    if flows and "client_credentials" in flows and any(flow in flows for flow in REDIRECT_FLOWS):
        errors.append("the client_credentials flow cannot be combined with the code or implicit flows")
    redirect_flows = [flow for flow in (flows or []) if flow in REDIRECT_FLOWS]
    if redirect_flows and callbacks is not None and not callbacks:
        errors.append(f"the {' and '.join(redirect_flows)} flow needs at least one callback URL (callback_urls)")
    default = config.get("DefaultRedirectURI")
    if default and callbacks is not None and default not in callbacks:
        errors.append(f"default_redirect_uri {default!r} must be one of callback_urls")
    units = (
        dict(DEFAULT_UNITS, **(config.get("TokenValidityUnits") or {}))
        if complete
        else config.get("TokenValidityUnits")
    )
    for key, (unit_key, low, high, words) in VALIDITY_RANGES.items():
        value = config.get(key)
        if value is None or not units or unit_key not in units:
            continue
        seconds = value * UNIT_SECONDS[units[unit_key]]
        if not low <= seconds <= high:
            option = re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()
            errors.append(f"{option} {value} {units[unit_key]} is out of range: it must be between {words}")
    return errors


def desired_config(params):
    """The task's options in API form (only those that are set)."""
    config = {}
    for option, key in LIST_OPTIONS.items():
        if params[option] is not None:
            config[key] = list(dict.fromkeys(params[option]))
    for option, key in SCALAR_OPTIONS.items():
        if params[option] is not None:
            config[key] = params[option]
    units = {UNIT_KEYS[k]: v for k, v in (params["token_validity_units"] or {}).items() if v is not None}
    if units:
        config["TokenValidityUnits"] = units
    return config


def validate(module):
    """Check the options before any call to AWS; returns the desired configuration."""
    p = module.params
    errors = []
    if not CLIENT_NAME_RE.match(p["name"] or ""):
        errors.append(
            f"name {p['name']!r} is not a valid app client name (1 to 128 letters, digits, spaces and +=,.@-)"
        )
    for option in ("callback_urls", "logout_urls"):
        for url in p[option] or []:
            error = url_error(option, url)
            if error:
                errors.append(error)
    if p["default_redirect_uri"] is not None:
        error = url_error("default_redirect_uri", p["default_redirect_uri"])
        if error:
            errors.append(error)
    for scope in p["allowed_oauth_scopes"] or []:
        if not SCOPE_RE.match(scope):
            errors.append(
                f"allowed_oauth_scopes: {scope!r} is not a valid scope (printable ASCII, no spaces, quotes or backslashes)"
            )
    for option in ("access_token_validity", "id_token_validity", "refresh_token_validity"):
        if p[option] is not None and p[option] <= 0:
            errors.append(f"{option} must be a positive number")
    if p["return_secret"] and not module.no_log:
        errors.append(
            "return_secret: true returns the client secret in clear; set no_log: true on the task so that it is not "
            "printed or logged"
        )
    config = desired_config(p)
    if not errors:
        errors.extend(consistency_errors(config, complete=False))
    if errors:
        module.fail_json(msg="Invalid options: " + "; ".join(errors), errors=errors)
    return config


def protect(module, client_description):
    """Register a secret AWS returned, before anything can print it (unless it is to be returned)."""
    secret = (client_description or {}).get("ClientSecret")
    if secret and not module.params["return_secret"]:
        module.no_log_values.add(secret)
    return client_description


@AWSRetry.jittered_backoff()
def _list_clients(client, pool_id):
    paginator = client.get_paginator("list_user_pool_clients")
    return paginator.paginate(UserPoolId=pool_id, MaxResults=60).build_full_result().get("UserPoolClients", [])


def find_client_id(module, client, pool_id, name):
    try:
        clients = _list_clients(client, pool_id)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to list the app clients of Cognito user pool {pool_id}")
    # Moto returns ClientSecret in this list; AWS does not. Mask it all the same.
    for entry in clients:
        protect(module, entry)
    ids = sorted(entry["ClientId"] for entry in clients if entry.get("ClientName") == name)
    if len(ids) > 1:
        module.fail_json(
            msg=f"{len(ids)} app clients of Cognito user pool {pool_id} are named {name!r} ({', '.join(ids)}); the "
            "module cannot tell which one is meant and changed nothing: delete the extra clients",
            user_pool_client_ids=ids,
        )
    return ids[0] if ids else None


def describe_client(module, client, pool_id, client_id):
    try:
        result = client.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id, aws_retry=True)
    except is_boto3_error_code("ResourceNotFoundException"):
        return None
    except (
        botocore.exceptions.ClientError,
        botocore.exceptions.BotoCoreError,
    ) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to describe app client {client_id} of Cognito user pool {pool_id}")
    return protect(module, result["UserPoolClient"])


def output(module, description):
    """The client in snake case, with the secret only when asked for."""
    if not description:
        return {}
    result = camel_dict_to_snake_dict({k: v for k, v in description.items() if k != "ClientSecret"})
    for key in list(result):
        if "o_auth" in key:
            result[key.replace("o_auth", "oauth")] = result.pop(key)
    result["generate_secret"] = bool(description.get("ClientSecret") or description.get("GenerateSecret"))
    if module.params["return_secret"] and description.get("ClientSecret"):
        result["client_secret"] = description["ClientSecret"]
    return result


def view(description):
    """The client in the module's option names, for --diff; never the secret itself."""
    if not description:
        return {}
    result = {"name": description.get("ClientName")}
    for option, key in LIST_OPTIONS.items():
        result[option] = sorted(description.get(key) or [])
    for option, key in SCALAR_OPTIONS.items():
        if description.get(key) is not None:
            result[option] = description[key]
    if description.get("TokenValidityUnits"):
        result["token_validity_units"] = camel_dict_to_snake_dict(description["TokenValidityUnits"])
    has_secret = bool(description.get("ClientSecret") or description.get("GenerateSecret"))
    result["generate_secret"] = has_secret
    if has_secret:
        result["client_secret"] = SECRET_PLACEHOLDER
    return result


def changed_options(current, desired):
    changes = []
    for option, key in LIST_OPTIONS.items():
        if key in desired and set(desired[key]) != set(current.get(key) or []):
            changes.append(option)
    for option, key in SCALAR_OPTIONS.items():
        if key not in desired:
            continue
        have = current.get(key)
        if have is None and key == "AllowedOAuthFlowsUserPoolClient":
            have = False
        if desired[key] != have:
            changes.append(option)
    units = desired.get("TokenValidityUnits") or {}
    current_units = current.get("TokenValidityUnits") or {}
    if any(current_units.get(k, DEFAULT_UNITS[k]) != v for k, v in units.items()):
        changes.append("token_validity_units")
    return changes


def update_request(client, current, desired):
    """UpdateUserPoolClient arguments that keep every current setting (AWS resets what is not sent)."""
    members = client.meta.service_model.operation_model("UpdateUserPoolClient").input_shape.members
    request = {k: copy.deepcopy(v) for k, v in current.items() if k in members and v is not None}
    for key, value in desired.items():
        if key == "TokenValidityUnits":
            request[key] = dict(request.get(key) or {}, **value)
        else:
            request[key] = value
    request["UserPoolId"] = current["UserPoolId"]
    request["ClientId"] = current["ClientId"]
    return request


def fail_invalid(module, errors, what):
    module.fail_json(msg=f"Invalid options for {what}: " + "; ".join(errors) + ". Nothing was changed.", errors=errors)


def ensure_present(module, client, pool_id, client_id, desired):
    p = module.params
    name = p["name"]
    current = describe_client(module, client, pool_id, client_id) if client_id else None

    if current is None:
        request = dict(desired, UserPoolId=pool_id, ClientName=name)
        secret = bool(p["generate_secret"])
        request["GenerateSecret"] = secret
        errors = consistency_errors(request, complete=True)
        if "client_credentials" in (request.get("AllowedOAuthFlows") or []) and not secret:
            errors.append("the client_credentials flow needs a client secret (generate_secret: true)")
        if errors:
            fail_invalid(module, errors, f"app client {name}")
        after = dict(request)
        if not module.check_mode:
            try:
                created = client.create_user_pool_client(aws_retry=True, **request)["UserPoolClient"]
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                module.fail_json_aws(e, msg=f"Failed to create app client {name} in Cognito user pool {pool_id}")
            protect(module, created)
            after = describe_client(module, client, pool_id, created["ClientId"]) or created
        result = dict(changed=True, user_pool_client=output(module, after))
        if module._diff:
            result["diff"] = dict_diff({}, {k: v for k, v in view(after).items() if v not in ([], None)})
        module.exit_json(**result)

    has_secret = bool(current.get("ClientSecret"))
    if p["generate_secret"] is not None and p["generate_secret"] != has_secret:
        module.fail_json(
            msg=f"App client {name} ({current['ClientId']}) of Cognito user pool {pool_id} "
            f"{'has' if has_secret else 'has no'} client secret and the task asks for generate_secret: "
            f"{p['generate_secret']}. AWS fixes this when a client is created; create a new client (another name, or "
            "delete this one with state=absent) to change it. Nothing was changed."
        )

    changes = changed_options(current, desired)
    after = current
    if changes:
        request = update_request(client, current, desired)
        errors = consistency_errors(request, complete=True)
        if "client_credentials" in (request.get("AllowedOAuthFlows") or []) and not has_secret:
            errors.append("the client_credentials flow needs a client secret, and this client has none")
        if errors:
            fail_invalid(module, errors, f"app client {name} ({current['ClientId']})")
        after = dict(current, **request)
        if not module.check_mode:
            try:
                updated = client.update_user_pool_client(aws_retry=True, **request)["UserPoolClient"]
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                module.fail_json_aws(e, msg=f"Failed to update app client {current['ClientId']} of {pool_id}")
            protect(module, updated)
            after = describe_client(module, client, pool_id, current["ClientId"]) or updated

    result = dict(changed=bool(changes), user_pool_client=output(module, after))
    if module._diff:
        result["diff"] = dict_diff(view(current), view(after))
    module.exit_json(**result)


def ensure_absent(module, client, pool_id, client_id):
    if pool_id is None or client_id is None:
        module.exit_json(changed=False, user_pool_client={})
    current = describe_client(module, client, pool_id, client_id)
    if current is None:
        module.exit_json(changed=False, user_pool_client={})
    changed = True
    if not module.check_mode:
        try:
            client.delete_user_pool_client(UserPoolId=pool_id, ClientId=client_id, aws_retry=True)
        except is_boto3_error_code("ResourceNotFoundException"):
            changed = False
        except (
            botocore.exceptions.ClientError,
            botocore.exceptions.BotoCoreError,
        ) as e:  # pylint: disable=duplicate-except
            module.fail_json_aws(e, msg=f"Failed to delete app client {client_id} of Cognito user pool {pool_id}")
    result = dict(changed=changed, user_pool_client={})
    if module._diff:
        result["diff"] = dict_diff(view(current), {})
    module.exit_json(**result)


def main():
    time_units = ["seconds", "minutes", "hours", "days"]
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        generate_secret=dict(type="bool", no_log=False),
        return_secret=dict(type="bool", default=False, no_log=False),
        allowed_oauth_flows=dict(type="list", elements="str", choices=["code", "implicit", "client_credentials"]),
        allowed_oauth_flows_user_pool_client=dict(type="bool"),
        allowed_oauth_scopes=dict(type="list", elements="str"),
        callback_urls=dict(type="list", elements="str"),
        logout_urls=dict(type="list", elements="str"),
        default_redirect_uri=dict(type="str"),
        supported_identity_providers=dict(type="list", elements="str"),
        explicit_auth_flows=dict(
            type="list",
            elements="str",
            choices=[
                "ADMIN_NO_SRP_AUTH",
                "CUSTOM_AUTH_FLOW_ONLY",
                "USER_PASSWORD_AUTH",
                "ALLOW_ADMIN_USER_PASSWORD_AUTH",
                "ALLOW_CUSTOM_AUTH",
                "ALLOW_USER_PASSWORD_AUTH",
                "ALLOW_USER_SRP_AUTH",
                "ALLOW_REFRESH_TOKEN_AUTH",
                "ALLOW_USER_AUTH",
            ],
        ),
        access_token_validity=dict(type="int", no_log=False),
        id_token_validity=dict(type="int", no_log=False),
        refresh_token_validity=dict(type="int", no_log=False),
        token_validity_units=dict(
            type="dict",
            no_log=False,
            options=dict(
                access_token=dict(type="str", choices=time_units, no_log=False),
                id_token=dict(type="str", choices=time_units),
                refresh_token=dict(type="str", choices=time_units, no_log=False),
            ),
        ),
        prevent_user_existence_errors=dict(type="str", choices=["ENABLED", "LEGACY"]),
        read_attributes=dict(type="list", elements="str"),
        write_attributes=dict(type="list", elements="str"),
        **user_pool_argument_spec(),
    )
    module = KubeflowOpsAWSModule(
        argument_spec=argument_spec,
        mutually_exclusive=USER_POOL_MUTUALLY_EXCLUSIVE,
        required_one_of=USER_POOL_REQUIRED_ONE_OF,
        supports_check_mode=True,
    )
    desired = validate(module)
    state = module.params["state"]
    client = module.client("cognito-idp", retry_decorator=AWSRetry.jittered_backoff())
    pool_id = resolve_user_pool_id(
        module,
        client,
        user_pool_id=module.params["user_pool_id"],
        user_pool_name=module.params["user_pool_name"],
        required=state == "present",
    )
    client_id = find_client_id(module, client, pool_id, module.params["name"]) if pool_id else None
    if state == "absent":
        ensure_absent(module, client, pool_id, client_id)
    else:
        ensure_present(module, client, pool_id, client_id, desired)


if __name__ == "__main__":
    main()
