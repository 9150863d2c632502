#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubeflow_ops.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cognito_user_pool_domain
short_description: Manage the domain of a Cognito user pool (prefix or custom domain)
version_added: 0.1.0
description:
  - Creates, updates or deletes the domain that hosts a Cognito user pool's sign-in pages and OAuth 2.0 endpoints.
  - A B(prefix domain) (O(domain=myprefix), a single DNS label) is served by AWS as
    C(<prefix>.auth.<region>.amazoncognito.com).
  - A B(custom domain) (O(domain=auth.platform.example.com), a name with dots) is served through a CloudFront
    distribution and needs an ACM certificate in C(us-east-1) (O(certificate_arn)), whatever region the pool is in.
    Its parent domain must resolve (have an A record) when it is created. Point an alias record for the domain at
    RV(user_pool_domain.cloud_front_distribution) (CloudFront hosted zone id C(Z2FDTNDATAQYW2)).
  - A pool can have one prefix domain and one custom domain at the same time. A domain cannot be renamed in place;
    when the pool already has a different domain of the same kind the module fails and changes nothing. Delete the
    old domain (O(state=absent)) first, then create the new one and move the DNS alias record.
  - The certificate of an existing custom domain is replaced in place (C(UpdateUserPoolDomain)).
  - A domain that exists but belongs to another user pool is an error with O(state=present); with O(state=absent)
    it is left alone with a warning.
author:
  - kubeflow_ops maintainers (!UNKNOWN)
options:
  domain:
    description:
      - A prefix (one DNS label of lowercase letters, digits and hyphens, not containing C(aws), C(amazon) or
        C(cognito)) or a fully qualified custom domain name.
      - Upper case letters and a trailing dot are normalized away.
    type: str
    required: true
  certificate_arn:
    description:
      - ARN of the ACM certificate in C(us-east-1) for a custom domain. Required to create a custom domain.
      - When the custom domain exists with another certificate, the certificate is replaced in place.
      - When not given for an existing custom domain, the certificate is left alone.
      - Not allowed with a prefix domain.
    type: str
  state:
    description: Whether the domain should exist.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description:
      - After a change, wait until the domain's status is C(ACTIVE) (O(state=present)) or until the domain is gone
        (O(state=absent)). Also waits for a domain found still being created or updated.
      - Custom domains take up to about 15 minutes on AWS.
    type: bool
    default: true
  wait_timeout:
    description: How many seconds to wait before failing.
    type: int
    default: 1200
extends_documentation_fragment:
  - kubeflow_ops.aws.cognito_user_pool_ref
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Check mode reads the pool and the domain and reports what would change; it never waits.
  - Status values are C(CREATING), C(UPDATING), C(ACTIVE), C(DELETING) and C(FAILED). A C(FAILED) domain makes the
    module fail when O(wait=true); delete it and create it again.
  - "Moto (the test sandbox) does not return C(CustomDomainConfig) from C(DescribeUserPoolDomain); the module then
    cannot compare certificates, warns, and leaves the certificate alone. Real AWS returns it."
"""

EXAMPLES = r"""
- name: Prefix domain (https://kubeflow-dev.auth.eu-west-1.amazoncognito.com)
  kubeflow_ops.aws.cognito_user_pool_domain:
    region: eu-west-1
    user_pool_name: kubeflow-dev
    domain: kubeflow-dev

- name: Custom domain with a us-east-1 certificate, waiting until it is ACTIVE
  kubeflow_ops.aws.cognito_user_pool_domain:
    region: eu-west-1
    user_pool_id: "{{ pool.user_pool.id }}"
    domain: auth.platform.example.com
    certificate_arn: arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666
    wait_timeout: 1800
  register: pool_domain

- name: Alias record for the custom domain
  amazon.aws.route53:
    zone: platform.example.com
    record: auth.platform.example.com
    type: A
    alias: true
    alias_hosted_zone_id: Z2FDTNDATAQYW2
    value: "{{ pool_domain.user_pool_domain.cloud_front_distribution }}"
    overwrite: true

- name: Delete the custom domain
  kubeflow_ops.aws.cognito_user_pool_domain:
    region: eu-west-1
    user_pool_name: kubeflow-dev
    domain: auth.platform.example.com
    state: absent
"""

RETURN = r"""
user_pool_domain:
  description:
    - The domain as it is after the task; empty when it does not exist (O(state=absent)).
    - In check mode, what it would be; values only known after creation are left out.
  returned: always
  type: dict
  contains:
    domain:
      description: The prefix or custom domain name.
      type: str
      sample: auth.platform.example.com
    user_pool_id:
      description: Id of the user pool the domain belongs to.
      type: str
      sample: eu-west-1_AbC123xyz
    custom_domain:
      description: Whether this is a custom domain (true) or a prefix domain (false).
      type: bool
      sample: true
    cloud_front_distribution:
      description:
        - For a custom domain, the CloudFront distribution the domain's alias record must point at.
        - For a prefix domain, the host name AWS serves it under, C(<prefix>.auth.<region>.amazoncognito.com).
      type: str
      returned: when known
      sample: d111111abcdef8.cloudfront.net
    status:
      description: C(CREATING), C(UPDATING), C(ACTIVE), C(DELETING) or C(FAILED).
      type: str
      returned: when the domain exists
      sample: ACTIVE
    certificate_arn:
      description: The ACM certificate of a custom domain, as AWS reports it; null for prefix domains.
      type: str
      returned: when known
      sample: arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666
"""

import re

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
from ansible_collections.kubeflow_ops.aws.plugins.module_utils._common import (
    KubeflowOpsAWSModule,
    WaitTimeout,
    dict_diff,
    poll_until,
)

LABEL_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
CERTIFICATE_ARN_RE = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):acm:(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+):(?P<account>\d{12}):"
    r"certificate/(?P<id>[0-9A-Za-z-]+)$"
)
# CloudFront, which serves custom domains, only uses certificates from this region.
CERTIFICATE_REGION = "us-east-1"
RESERVED_IN_PREFIX = ("aws", "amazon", "cognito")

# Polling: quick at first (prefix domains are ready in seconds), slower later (custom domains take minutes).
POLL_INITIAL = 2.0
POLL_FACTOR = 1.5
POLL_MAXIMUM = 30.0


def is_custom(domain):
    return "." in domain


def validate(module):
    """Check and normalize the options; returns the domain name. Nothing is called before this."""
    domain = module.params["domain"].strip().lower().rstrip(".")
    certificate_arn = module.params["certificate_arn"]
    if not domain:
        module.fail_json(msg="domain must not be empty")
    if is_custom(domain):
        labels = domain.split(".")
        if len(domain) > 253 or not all(LABEL_RE.match(label) for label in labels):
            module.fail_json(
                msg=f"domain {domain!r} is not a valid DNS name (labels of 1-63 lowercase letters, digits and "
                "hyphens, not starting or ending with a hyphen)"
            )
    else:
        if not LABEL_RE.match(domain):
            module.fail_json(
                msg=f"domain {domain!r} is not a valid prefix: use 1-63 lowercase letters, digits and hyphens, "
                "not starting or ending with a hyphen (or a fully qualified name for a custom domain)"
            )
        reserved = [word for word in RESERVED_IN_PREFIX if word in domain]
        if reserved:
            module.fail_json(msg=f"domain prefix {domain!r} must not contain {', '.join(reserved)} (reserved by AWS)")
        if certificate_arn:
            module.fail_json(
                msg=f"certificate_arn only applies to custom domains; {domain!r} is a prefix domain "
                f"(served as {domain}.auth.<region>.amazoncognito.com)"
            )
    if certificate_arn:
        match = CERTIFICATE_ARN_RE.match(certificate_arn)
        if not match:
            module.fail_json(
                msg=f"certificate_arn {certificate_arn!r} is not an ACM certificate ARN "
                "(expected arn:aws:acm:us-east-1:<account id>:certificate/<id>)"
            )
        if match.group("region") != CERTIFICATE_REGION:
            module.fail_json(
                msg=f"Cognito custom domains need an ACM certificate in {CERTIFICATE_REGION} (CloudFront serves "
                f"them), but certificate_arn is in {match.group('region')}: request the certificate in "
                f"{CERTIFICATE_REGION}"
            )
    if module.params["wait_timeout"] < 0:
        module.fail_json(msg="wait_timeout must not be negative")
    return domain


def describe_domain(module, client, domain):
    """DescribeUserPoolDomain's DomainDescription, or None when no pool has this domain."""
    try:
        result = client.describe_user_pool_domain(Domain=domain, aws_retry=True)
    except is_boto3_error_code("ResourceNotFoundException"):
        return None
    except (
        botocore.exceptions.ClientError,
        botocore.exceptions.BotoCoreError,
    ) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to describe Cognito domain {domain}")
    # An unknown domain is not an error: AWS answers with an empty DomainDescription.
    description = result.get("DomainDescription") or {}
    return description if description.get("UserPoolId") else None


def certificate_of(description):
    return (description.get("CustomDomainConfig") or {}).get("CertificateArn")


def snake(description, region):
    """The module's view of a DomainDescription (or of a planned domain, with fewer keys)."""
    domain = description["Domain"]
    custom = is_custom(domain)
    result = dict(domain=domain, user_pool_id=description["UserPoolId"], custom_domain=custom)
    if custom:
        if description.get("CloudFrontDistribution"):
            result["cloud_front_distribution"] = description["CloudFrontDistribution"]
        result["certificate_arn"] = certificate_of(description)
    else:
        # AWS hosts prefix domains itself; this is the name users reach them under.
        result["cloud_front_distribution"] = f"{domain}.auth.{region}.amazoncognito.com"
        result["certificate_arn"] = None
    if description.get("Status"):
        result["status"] = description["Status"]
    return result


def existing_domain_of_same_kind(pool, domain):
    """The pool's other domain of the same kind (prefix or custom) as `domain`, if any.

    AWS reports the prefix domain as UserPool.Domain and the custom one as UserPool.CustomDomain.
    Moto 5.2 reports any domain as Domain; classifying by name works for both.
    """
    for key in ("Domain", "CustomDomain"):
        name = pool.get(key)
        if name and name != domain and is_custom(name) == is_custom(domain):
            return name
    return None


def wait_for(module, client, domain, pool_id, gone):
    """Poll until the domain is ACTIVE (or FAILED), or until it is gone; fail clearly otherwise."""
    timeout = module.params["wait_timeout"]
    what = f"Cognito domain {domain} to be deleted" if gone else f"Cognito domain {domain} to become ACTIVE"

    def probe():
        return describe_domain(module, client, domain)

    def done(description):
        if gone:
            return description is None or description["UserPoolId"] != pool_id
        # Not found yet counts as not ready: right after CreateUserPoolDomain the domain may not be visible.
        return description is not None and description.get("Status") in ("ACTIVE", "FAILED")

    try:
        description = poll_until(
            probe, done, what, timeout, initial=POLL_INITIAL, factor=POLL_FACTOR, maximum=POLL_MAXIMUM
        )
    except WaitTimeout as e:
        last = e.last.get("Status", "unknown") if e.last else "not found"
        module.fail_json(
            msg=f"Timed out after {timeout}s waiting for {what} (last status: {last}). Custom domains can take "
            "15 minutes or more; run the task again to keep waiting, or raise wait_timeout.",
            user_pool_domain=snake(e.last, module.region) if e.last else {},
        )
    if gone:
        return None
    if description.get("Status") == "FAILED":
        module.fail_json(
            msg=f"Cognito domain {domain} is in status FAILED. For a custom domain check that the certificate is "
            "ISSUED in us-east-1 and covers the domain, and that the parent domain resolves; then delete the domain "
            "(state=absent) and create it again.",
            user_pool_domain=snake(description, module.region),
        )
    return description


def ensure_absent(module, client, domain, pool_id, current):
    if current is None:
        module.exit_json(changed=False, user_pool_domain={})
    if pool_id is None or current["UserPoolId"] != pool_id:
        module.warn(
            f"Cognito domain {domain} belongs to user pool {current['UserPoolId']}, not to "
            f"{pool_id or 'the given pool (which does not exist)'}; left alone"
        )
        module.exit_json(changed=False, user_pool_domain={})

    changed = current.get("Status") != "DELETING"
    if changed and not module.check_mode:
        try:
            client.delete_user_pool_domain(Domain=domain, UserPoolId=pool_id, aws_retry=True)
        except is_boto3_error_code("ResourceNotFoundException"):
            changed = False  # deleted by someone else in between
        except (
            botocore.exceptions.ClientError,
            botocore.exceptions.BotoCoreError,
        ) as e:  # pylint: disable=duplicate-except
            module.fail_json_aws(e, msg=f"Failed to delete Cognito domain {domain}")
    if module.params["wait"] and not module.check_mode:
        wait_for(module, client, domain, pool_id, gone=True)
    result = dict(changed=changed, user_pool_domain={})
    if module._diff:
        result["diff"] = dict_diff(snake(current, module.region), {})
    module.exit_json(**result)


def ensure_present(module, client, domain, pool_id, current):
    certificate_arn = module.params["certificate_arn"]
    custom = is_custom(domain)
    changed = False

    if current is not None and current["UserPoolId"] != pool_id:
        module.fail_json(
            msg=f"Cognito domain {domain} already belongs to user pool {current['UserPoolId']}, not to {pool_id}: "
            "domains are unique across AWS; delete it from that pool first or choose another domain"
        )
    if current is not None and current.get("Status") == "DELETING":
        module.fail_json(msg=f"Cognito domain {domain} is being deleted; run the task again once it is gone")

    if current is None:
        if custom and not certificate_arn:
            module.fail_json(
                msg=f"certificate_arn is required to create the custom domain {domain} "
                "(an ACM certificate in us-east-1 that covers it)"
            )
        pool = describe_user_pool(module, client, pool_id) or {}
        other = existing_domain_of_same_kind(pool, domain)
        if other:
            kind = "custom" if custom else "prefix"
            module.fail_json(
                msg=f"User pool {pool_id} already has the {kind} domain {other}; a user pool domain cannot be renamed "
                f"in place. Delete {other} first (state=absent), then create {domain} and move its DNS record."
            )
        planned = dict(Domain=domain, UserPoolId=pool_id)
        if custom:
            planned["CustomDomainConfig"] = dict(CertificateArn=certificate_arn)
        changed = True
        after = planned
        if not module.check_mode:
            try:
                client.create_user_pool_domain(aws_retry=True, **planned)
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                module.fail_json_aws(e, msg=f"Failed to create Cognito domain {domain} for user pool {pool_id}")
    else:
        after = current
        known = certificate_of(current)
        if custom and certificate_arn:
            if known is None:
                module.warn(
                    f"AWS did not report the certificate of Cognito domain {domain}; certificate_arn was not compared"
                )
            elif known != certificate_arn:
                changed = True
                after = dict(current, CustomDomainConfig=dict(CertificateArn=certificate_arn))
                if not module.check_mode:
                    try:
                        client.update_user_pool_domain(
                            Domain=domain,
                            UserPoolId=pool_id,
                            CustomDomainConfig=dict(CertificateArn=certificate_arn),
                            aws_retry=True,
                        )
                    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                        module.fail_json_aws(e, msg=f"Failed to update the certificate of Cognito domain {domain}")

    if not module.check_mode and (changed or current.get("Status") != "ACTIVE"):
        if module.params["wait"]:
            after = wait_for(module, client, domain, pool_id, gone=False)
        else:
            after = describe_domain(module, client, domain) or after

    result = dict(changed=changed, user_pool_domain=snake(after, module.region))
    if module._diff:
        before = snake(current, module.region) if current else {}
        planned_view = snake(after, module.region)
        # Only what the task decides; the status and the distribution follow from it.
        keys = ("domain", "user_pool_id", "custom_domain", "certificate_arn")
        result["diff"] = dict_diff({k: before[k] for k in keys if k in before}, {k: planned_view[k] for k in keys})
    module.exit_json(**result)


def main():
    argument_spec = dict(
        domain=dict(type="str", required=True),
        certificate_arn=dict(type="str", no_log=False),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=1200),
        **user_pool_argument_spec(),
    )
    module = KubeflowOpsAWSModule(
        argument_spec=argument_spec,
        mutually_exclusive=USER_POOL_MUTUALLY_EXCLUSIVE,
        required_one_of=USER_POOL_REQUIRED_ONE_OF,
        supports_check_mode=True,
    )
    domain = validate(module)
    state = module.params["state"]
    client = module.client("cognito-idp", retry_decorator=AWSRetry.jittered_backoff())

    pool_id = resolve_user_pool_id(
        module,
        client,
        user_pool_id=module.params["user_pool_id"],
        user_pool_name=module.params["user_pool_name"],
        required=state == "present",
    )
    current = describe_domain(module, client, domain)
    if state == "absent":
        ensure_absent(module, client, domain, pool_id, current)
    else:
        ensure_present(module, client, domain, pool_id, current)


if __name__ == "__main__":
    main()
