# -*- coding: utf-8 -*-
# Copyright: kubeflow_ops.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The names and ARNs the collection checks, in one place (collection-private, may change without notice).

Modules import the compiled patterns; roles reach the same patterns through the Jinja tests of
plugins/test/names.py (`x is kubeflow_ops.aws.region`), so a module and a role never disagree on
what a region, a pool id or a certificate ARN looks like.
"""

from __future__ import annotations

import re

PARTITION = r"aws(?:-cn|-us-gov|-iso(?:-[a-z])?)?"
ACCOUNT = r"\d{12}"
# eu-west-1, us-gov-west-1, cn-north-1, us-iso-east-1, us-isob-east-1, ap-southeast-5.
REGION = r"[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}"

REGION_RE = re.compile(rf"^{REGION}$")
# <region>_<id>, e.g. eu-west-1_AbCdEf123 (the API's own pattern is [\w-]+_[0-9a-zA-Z]+).
USER_POOL_ID_RE = re.compile(rf"^(?P<region>{REGION})_[0-9a-zA-Z]+$")
USER_POOL_ARN_RE = re.compile(
    rf"^arn:(?P<partition>{PARTITION}):cognito-idp:(?P<region>{REGION}):(?P<account>{ACCOUNT}):"
    rf"userpool/(?P<pool>(?P=region)_[0-9a-zA-Z]+)$"
)
USER_POOL_CLIENT_ID_RE = re.compile(r"^[0-9a-z]{1,128}$")
# Cognito names of pools and app clients.
COGNITO_NAME_RE = re.compile(r"^[\w\s+=,.@-]{1,128}$")
CERTIFICATE_ARN_RE = re.compile(
    rf"^arn:(?P<partition>{PARTITION}):acm:(?P<region>{REGION}):(?P<account>{ACCOUNT}):"
    r"certificate/(?P<id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)
IAM_ROLE_ARN_RE = re.compile(rf"^arn:{PARTITION}:iam::{ACCOUNT}:role/[\w+=,.@/-]+$")
# AWS managed policies have the account "aws".
IAM_POLICY_ARN_RE = re.compile(rf"^arn:{PARTITION}:iam::(?:aws|{ACCOUNT}):policy/[\w+=,.@/-]+$")
IAM_ROLE_NAME_RE = re.compile(r"^[\w+=,.@-]{1,64}$")
IAM_POLICY_NAME_RE = re.compile(r"^[\w+=,.@-]{1,128}$")
# EKS: a letter, then letters, digits and -, at most 100 characters.
CLUSTER_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,99}$")
# eksctl node groups: a letter, then letters, digits and -, at most 63 characters.
NODE_GROUP_NAME_RE = re.compile(r"^[a-zA-Z][-a-zA-Z0-9]{0,62}$")
INSTANCE_TYPE_RE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9-]+$")
# One DNS label (RFC 1123), as Kubernetes names namespaces and as Route53 and Cognito prefixes use them.
DNS_LABEL_RE = re.compile(r"^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$")
# A fully qualified host name of at least two labels whose last label is not numeric.
DNS_NAME_RE = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$")
# A Kubernetes label or taint key: an optional DNS-subdomain prefix, then a name of up to 63 characters.
LABEL_KEY_RE = re.compile(
    r"^(?:[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
LABEL_VALUE_RE = re.compile(r"^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")
# S3 bucket names: 3-63 lowercase letters, digits, . and -, starting and ending with a letter or digit.
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# An HTTP header name (RFC 9110 token) of at most 40 characters, as ALB listener rules accept them.
HEADER_NAME_RE = re.compile(r"^[A-Za-z0-9!#$%&'+.^_`|~-]{1,40}$")
# A header value an ALB rule can match literally (visible ASCII without '*', '?' and '\').
HEADER_TOKEN_RE = re.compile(r"^[!#-)+->@-\[\]-~]+$")


def bucket_problem(name):
    """Why `name` is not a valid S3 bucket name, or None."""
    if (
        not isinstance(name, str)
        or not BUCKET_RE.match(name)
        or ".." in name
        or re.match(r"^\d+(\.\d+){3}$", name)
        or name.startswith("xn--")
        or name.endswith("-s3alias")
    ):
        return (
            f"{name!r} is not a valid S3 bucket name (3-63 lowercase letters, digits, . and -, starting and ending "
            "with a letter or digit, not an IP address)"
        )
    return None


def partition_of(region):
    """The ARN partition of a region."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


# The patterns by the name the Jinja tests use.
PATTERNS = {
    "region": REGION_RE,
    "user_pool_id": USER_POOL_ID_RE,
    "user_pool_arn": USER_POOL_ARN_RE,
    "user_pool_client_id": USER_POOL_CLIENT_ID_RE,
    "certificate_arn": CERTIFICATE_ARN_RE,
    "iam_role_arn": IAM_ROLE_ARN_RE,
    "iam_policy_arn": IAM_POLICY_ARN_RE,
    "iam_policy_name": IAM_POLICY_NAME_RE,
    "cluster_name": CLUSTER_NAME_RE,
    "node_group_name": NODE_GROUP_NAME_RE,
    "instance_type": INSTANCE_TYPE_RE,
    "dns_label": DNS_LABEL_RE,
    "dns_name": DNS_NAME_RE,
    "label_key": LABEL_KEY_RE,
    "label_value": LABEL_VALUE_RE,
    "email": EMAIL_RE,
    "header_name": HEADER_NAME_RE,
    "header_token": HEADER_TOKEN_RE,
}


def matches(kind, value):
    """True when `value` is a string that has the shape of `kind` (a key of PATTERNS)."""
    return isinstance(value, str) and PATTERNS[kind].match(value) is not None
