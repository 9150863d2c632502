#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubeflow_ops.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: acm_certificate
short_description: Request a public, DNS-validated ACM certificate and write its validation records in Route53
version_added: 0.1.0
description:
  - Requests a public AWS Certificate Manager (ACM) certificate for O(domain_name) and
    O(subject_alternative_names) in the module's region, validated by DNS.
  - When O(validation_zone_id) is given, writes the validation CNAME records into that Route53 hosted zone
    and, with O(wait=true), waits until the certificate is C(ISSUED).
    Without O(validation_zone_id) the module only returns the records to create (RV(certificate.validation_records)),
    waiting for ACM to publish them when it has just requested the certificate, and does not wait for the
    certificate to be issued, whatever O(wait) says.
  - C(RequestCertificate) is not idempotent, so the module first looks for an existing certificate.
    A certificate matches when its domain name and its set of names (the domain name plus the subject
    alternative names, in any order) equal the requested ones, and it carries every tag named by O(match_tags)
    with the value given in O(tags). Certificates that are C(FAILED), C(EXPIRED), C(REVOKED) or
    C(VALIDATION_TIMED_OUT), imported or private ones, and ones managed by another service are never matched.
    When more than one certificate matches, the module fails and lists them; it never requests a second one.
    The request also carries an idempotency token derived from the names, key algorithm and tags, so that a
    request retried within the hour in which ACM remembers the token does not create a second certificate.
  - ACM cannot change the names or the key algorithm of a certificate. A different set of names is a different
    certificate; the module requests a new one and leaves the old one alone, with a warning naming it when it
    has the same domain name and matching tags (delete it once nothing uses it). A different O(key_algorithm)
    for a matching certificate fails before anything changes.
  - Tags are updated in place on the matching certificate.
  - The validation records are written only when the zone does not already hold them with the right value,
    in one C(UPSERT) batch with a TTL of 300 seconds, touching no other record of the zone (another certificate
    may be validated in the same zone at the same time). A wildcard name and its apex share one record.
  - With O(state=absent), deletes the matching certificate (or O(certificate_arn)); while ACM says it is in use
    (by a load balancer, a CloudFront distribution, a Cognito domain) the deletion is retried until O(wait_timeout).
    With O(validation_zone_id) and O(remove_validation_records=true), then removes its validation records from
    the zone unless another certificate still lists them.
  - In check mode nothing is requested, written or deleted.
author:
  - kubeflow_ops maintainers (!UNKNOWN)
options:
  state:
    description: Whether the certificate should exist.
    type: str
    choices: [present, absent]
    default: present
  domain_name:
    description:
      - The certificate's domain name (its subject), for example V(*.platform.example.com).
      - A wildcard is allowed only as the whole leftmost label and covers exactly one label.
      - Compared without regard to case or a trailing dot.
    type: str
    required: true
  subject_alternative_names:
    description:
      - Further names the certificate covers. The order does not matter, and O(domain_name) may be listed or not.
      - Together with O(domain_name) these names identify the certificate; they cannot change on an existing one.
    type: list
    elements: str
    default: []
  certificate_arn:
    description:
      - Work on this certificate instead of looking one up by names and tags, for example to pick one of
        several matching certificates.
      - It must be a certificate for exactly O(domain_name) and O(subject_alternative_names).
      - With O(state=present) it must exist; with O(state=absent) a missing one is not an error.
    type: str
  key_algorithm:
    description:
      - Key algorithm of a new certificate. ACM uses V(RSA_2048) when this is not set.
      - It cannot change on an existing certificate; a matching certificate with another algorithm fails.
      - Not every algorithm is available for public certificates; ACM rejects those it does not support.
    type: str
    choices: [RSA_1024, RSA_2048, RSA_3072, RSA_4096, EC_prime256v1, EC_secp384r1, EC_secp521r1]
  validation_zone_id:
    description:
      - Id of the public Route53 hosted zone that receives the validation CNAME records (V(Z123...) or
        V(/hostedzone/Z123...)).
      - Every name of the certificate must be the zone's name or inside it; the module checks this before
        requesting anything.
      - When not set, the records are only returned, and the module does not wait for the certificate.
    type: str
  match_tags:
    description:
      - Keys of O(tags) that identify the certificate. A certificate matches only when it carries each of them
        with the value given in O(tags).
      - Defaults to every key of O(tags). Name fewer keys (for example the environment) to let the other tags
        change in place; a change to a matching tag means another certificate.
      - Every key must be present in O(tags).
    type: list
    elements: str
  wait:
    description:
      - With O(validation_zone_id), wait until the record change is in sync and the certificate is C(ISSUED).
      - With O(wait=false) the module returns as soon as the certificate is requested and its validation records
        are written, so that several certificates can be validated at the same time; run it again with
        O(wait=true) to wait for them.
      - With O(state=absent), retry the deletion while the certificate is in use.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds one run may spend waiting, in total, for the validation records to be published,
        the record change to be in sync, the certificate to be issued, or (with O(state=absent)) the certificate
        to stop being in use. Issuance usually takes a few minutes but can take much longer.
      - A timeout is a failure that names the certificate and what was being waited for.
    type: int
    default: 1800
  remove_validation_records:
    description:
      - With O(state=absent) and O(validation_zone_id), remove the certificate's validation records from the
        zone after the certificate is deleted.
      - A record is removed only when it still holds this certificate's value and no other certificate in the
        region (or in O(shared_record_regions)) lists it. ACM derives a validation record from the account and
        the name, so certificates for the same name share it.
    type: bool
    default: true
  shared_record_regions:
    description:
      - Other regions whose certificates may share validation records with this one (for example V(us-east-1)
        when the same names also have a certificate there for CloudFront or Cognito).
      - Used only to decide which records O(remove_validation_records) may remove.
    type: list
    elements: str
    default: []
notes:
  - The certificate's region is the module's O(region).
  - If a run is interrupted after the certificate is deleted but before its validation records are removed,
    the records stay in the zone (the module cannot know them once the certificate is gone).
  - "IAM actions: C(acm:ListCertificates), C(acm:DescribeCertificate), C(acm:ListTagsForCertificate),
    C(acm:RequestCertificate), C(acm:AddTagsToCertificate), C(acm:RemoveTagsFromCertificate),
    C(acm:DeleteCertificate), C(route53:GetHostedZone), C(route53:ListResourceRecordSets),
    C(route53:ChangeResourceRecordSets), C(route53:GetChange)."
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Wildcard certificate for the ALB, validated in the platform zone
  kubeflow_ops.aws.acm_certificate:
    region: eu-west-1
    domain_name: "*.platform.example.com"
    subject_alternative_names:
      - "*.default.platform.example.com"
      - "*.staging.platform.example.com"
    validation_zone_id: Z0123456789ABCDEFGHIJ
    tags:
      kubeflow_ops:environment: prod
      kubeflow_ops:certificate: alb
  register: alb_cert

- name: The same names in us-east-1 for the Cognito custom domain, without waiting yet
  kubeflow_ops.aws.acm_certificate:
    region: us-east-1
    domain_name: "*.platform.example.com"
    validation_zone_id: Z0123456789ABCDEFGHIJ
    tags:
      kubeflow_ops:environment: prod
      kubeflow_ops:certificate: cognito
      owner: platform-team
    match_tags: [kubeflow_ops:environment, kubeflow_ops:certificate]
    wait: false

- name: Only get the records to create at a DNS provider outside Route53
  kubeflow_ops.aws.acm_certificate:
    region: eu-west-1
    domain_name: example.com
    subject_alternative_names: ["*.example.com"]
    tags:
      kubeflow_ops:environment: prod
  register: root_cert

- name: Delete the certificate and its validation records
  kubeflow_ops.aws.acm_certificate:
    state: absent
    region: eu-west-1
    domain_name: "*.platform.example.com"
    subject_alternative_names:
      - "*.default.platform.example.com"
      - "*.staging.platform.example.com"
    validation_zone_id: Z0123456789ABCDEFGHIJ
    shared_record_regions: [us-east-1]
    tags:
      kubeflow_ops:environment: prod
      kubeflow_ops:certificate: alb
"""

RETURN = r"""
certificate:
  description:
    - The certificate. Empty when there is none (after O(state=absent), or in check mode before it is requested).
  returned: always
  type: dict
  contains:
    arn:
      description: ARN of the certificate.
      type: str
      sample: arn:aws:acm:eu-west-1:123456789012:certificate/0c6a7d0e-7c8f-4c8e-9a39-4bb1a7e3c2f5
    domain_name:
      description: The certificate's domain name.
      type: str
      sample: "*.platform.example.com"
    subject_alternative_names:
      description: Every name of the certificate, as ACM lists them (the domain name included).
      type: list
      elements: str
      sample: ["*.platform.example.com", "*.default.platform.example.com"]
    status:
      description: ACM status, for example C(PENDING_VALIDATION) or C(ISSUED).
      type: str
      sample: ISSUED
    key_algorithm:
      description: Key algorithm of the certificate.
      type: str
      sample: RSA_2048
    region:
      description: The region of the certificate.
      type: str
      sample: eu-west-1
    validation_records:
      description: The distinct DNS records that validate the certificate (empty until ACM publishes them).
      type: list
      elements: dict
      contains:
        name:
          description: Record name, fully qualified.
          type: str
          sample: _3f2a1b.platform.example.com.
        type:
          description: Record type.
          type: str
          sample: CNAME
        value:
          description: Record value.
          type: str
          sample: _7c9d2e.abcdefghij.acm-validations.aws.
    in_use_by:
      description: ARNs of the AWS resources that use the certificate.
      type: list
      elements: str
      sample: []
    tags:
      description: Tags of the certificate.
      type: dict
      sample: {"kubeflow_ops:environment": "prod"}
removed_validation_records:
  description: Validation records removed (or, in check mode, that would be removed) with O(state=absent).
  returned: when O(state=absent)
  type: list
  elements: dict
  sample: [{"name": "_3f2a1b.platform.example.com.", "type": "CNAME", "value": "_7c9d2e.abcdefghij.acm-validations.aws."}]
"""

import hashlib
import re
import time
import uuid

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    compare_aws_tags,
)

from ansible_collections.kubeflow_ops.aws.plugins.module_utils._common import (
    KubeflowOpsAWSModule,
    WaitTimeout,
    dict_diff,
    poll_until,
)

ACM_RETRY_CODES = ["RequestInProgressException"]
ROUTE53_RETRY_CODES = ["PriorRequestNotComplete", "Throttling"]

# Certificates in these states can still become (or are) usable; the others never will.
MATCHABLE_STATUSES = ["PENDING_VALIDATION", "ISSUED", "INACTIVE"]
ALL_STATUSES = ["PENDING_VALIDATION", "ISSUED", "INACTIVE", "EXPIRED", "VALIDATION_TIMED_OUT", "REVOKED", "FAILED"]
# ListCertificates returns only RSA_1024 and RSA_2048 certificates unless asked for every key type.
ALL_KEY_TYPES = ["RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1"]
FAILED_STATUSES = ["FAILED", "VALIDATION_TIMED_OUT", "REVOKED", "EXPIRED", "INACTIVE"]

RECORD_TTL = 300
# Polling: start around a second so fast operations stay fast, grow so that long ones
# (issuance, a certificate still attached to a load balancer) do not hammer the APIs.
POLL_RECORDS = dict(initial=1.0, factor=1.5, maximum=5.0)
POLL_CHANGE = dict(initial=1.0, factor=1.5, maximum=10.0)
POLL_ISSUED = dict(initial=1.0, factor=1.5, maximum=15.0)
POLL_IN_USE = dict(initial=1.0, factor=1.5, maximum=30.0)
# How long a freshly requested certificate may take to show up in DescribeCertificate (ACM is
# eventually consistent) before its ARN is taken for a stale idempotency-token answer.
NEW_CERT_VISIBLE_TIMEOUT = 20

LABEL_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def _sleep(seconds):
    # A module-level indirection so that tests can observe the polling intervals.
    time.sleep(seconds)


def _poll(probe, done, what, timeout, intervals):
    return poll_until(probe, done, what, max(timeout, 0), sleep=_sleep, **intervals)


def normalize_name(name):
    return name.strip().lower().rstrip(".")


def domain_name_error(name, what):
    """Return why `name` is not a name ACM can put in a public certificate, or None."""
    if not name:
        return f"{what} is empty"
    if len(name) > 253:
        return f"{what} {name!r} is longer than 253 characters"
    labels = name.split(".")
    if len(labels) < 2:
        return f"{what} {name!r} is not a fully qualified domain name (it needs at least two labels)"
    for index, label in enumerate(labels):
        if "*" in label:
            if label != "*" or index != 0:
                return (
                    f"{what} {name!r} has a misplaced wildcard: '*' is allowed only as the whole leftmost label, "
                    "as in *.example.com"
                )
            continue
        if not label:
            return f"{what} {name!r} has an empty label"
        if len(label) > 63:
            return f"{what} {name!r} has a label longer than 63 characters ({label[:20]}...)"
        if not LABEL_RE.match(label):
            return (
                f"{what} {name!r} has an invalid label {label!r}: use letters, digits and hyphens, "
                "not starting or ending with a hyphen"
            )
    if labels[0] == "*" and len(labels) < 3:
        return f"{what} {name!r} is a wildcard directly below a top-level domain"
    return None


def in_zone(name, zone_name):
    base = name[2:] if name.startswith("*.") else name
    return base == zone_name or base.endswith("." + zone_name)


def idempotency_token(domain_name, names, key_algorithm, tags, salt=""):
    """A token of at most 32 word characters, the same for the same request (ACM remembers it for an hour)."""
    parts = [domain_name, ",".join(sorted(names)), key_algorithm or "", salt]
    parts.extend(f"{key}={value}" for key, value in sorted((tags or {}).items()))
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:32]


def normalize_record_name(name):
    return name.strip().lower().rstrip(".") + "."


def validation_records(cert):
    """The distinct validation records of a described certificate (a wildcard and its apex share one)."""
    records = []
    seen = set()
    for option in cert.get("DomainValidationOptions") or []:
        record = option.get("ResourceRecord")
        if not record:
            continue
        entry = {
            "name": normalize_record_name(record["Name"]),
            "type": record.get("Type", "CNAME"),
            "value": record["Value"],
        }
        key = (entry["name"], entry["type"], normalize_record_name(entry["value"]))
        if key not in seen:
            seen.add(key)
            records.append(entry)
    return sorted(records, key=lambda r: (r["name"], r["type"], r["value"]))


def records_published(cert):
    options = cert.get("DomainValidationOptions") or []
    return bool(options) and all(option.get("ResourceRecord") for option in options)


def record_key(record):
    return (normalize_record_name(record["name"]), record["type"], normalize_record_name(record["value"]))


def tags_dict(tag_list):
    return {tag["Key"]: tag.get("Value", "") for tag in tag_list or []}


@AWSRetry.jittered_backoff(catch_extra_error_codes=ACM_RETRY_CODES)
def list_certificates(client, statuses):
    paginator = client.get_paginator("list_certificates")
    result = paginator.paginate(CertificateStatuses=statuses, Includes={"keyTypes": ALL_KEY_TYPES}).build_full_result()
    return result.get("CertificateSummaryList", [])


class CertificateManager:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.region = module.region
        self.deadline = time.monotonic() + self.params["wait_timeout"]
        self.acm = module.client(
            "acm", retry_decorator=AWSRetry.jittered_backoff(catch_extra_error_codes=ACM_RETRY_CODES)
        )
        self._route53 = None
        self.domain_name = normalize_name(self.params["domain_name"])
        self.names = sorted({self.domain_name} | {normalize_name(n) for n in self.params["subject_alternative_names"]})
        self.tags = self.params["tags"]
        match_keys = self.params["match_tags"]
        if match_keys is None:
            match_keys = list(self.tags or {})
        self.match_tags = {key: (self.tags or {}).get(key) for key in match_keys}
        zone_id = self.params["validation_zone_id"]
        self.zone_id = zone_id.strip().split("/")[-1] if zone_id else None
        self.zone_name = None
        self.changed = False

    # ---------------------------------------------------------------- helpers

    @property
    def route53(self):
        if self._route53 is None:
            self._route53 = self.module.client(
                "route53", retry_decorator=AWSRetry.jittered_backoff(catch_extra_error_codes=ROUTE53_RETRY_CODES)
            )
        return self._route53

    def remaining(self):
        return self.deadline - time.monotonic()

    def fail_timeout(self, exc, cert, what):
        self.module.fail_json(
            msg=(
                f"Timed out after {self.params['wait_timeout']}s (wait_timeout) waiting for {what} "
                f"of certificate {cert['CertificateArn']} ({self.domain_name}) in {self.region}; "
                f"last seen: {exc.last}"
            ),
            certificate=self.output(cert),
        )

    # ---------------------------------------------------------------- validation

    def validate(self):
        errors = []
        error = domain_name_error(self.domain_name, "domain_name")
        if error:
            errors.append(error)
        for name in self.params["subject_alternative_names"]:
            error = domain_name_error(normalize_name(name), "subject_alternative_names entry")
            if error:
                errors.append(error)
        if self.params["match_tags"] is not None:
            missing = [key for key in self.params["match_tags"] if key not in (self.tags or {})]
            if missing:
                errors.append(f"match_tags names keys that are not in tags: {', '.join(missing)}")
        if self.params["wait_timeout"] < 0:
            errors.append("wait_timeout must not be negative")
        if self.params["validation_zone_id"] is not None and not self.zone_id:
            errors.append("validation_zone_id is empty")
        if errors:
            self.module.fail_json(msg="Invalid arguments: " + "; ".join(errors))

    def check_zone(self):
        """Read the validation zone and check every name is inside it, before anything changes."""
        if not self.zone_id:
            return
        try:
            zone = self.route53.get_hosted_zone(Id=self.zone_id, aws_retry=True)["HostedZone"]
        except is_boto3_error_code("NoSuchHostedZone"):
            self.module.fail_json(msg=f"validation_zone_id {self.zone_id}: no such Route53 hosted zone")
        except (
            botocore.exceptions.ClientError,
            botocore.exceptions.BotoCoreError,
        ) as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg=f"Could not read hosted zone {self.zone_id}")
        self.zone_name = normalize_name(zone["Name"])
        if (zone.get("Config") or {}).get("PrivateZone"):
            self.module.fail_json(
                msg=(
                    f"validation_zone_id {self.zone_id} ({self.zone_name}) is a private hosted zone; "
                    "ACM validates through public DNS, so the records must go into a public zone"
                )
            )
        outside = [name for name in self.names if not in_zone(name, self.zone_name)]
        if outside:
            self.module.fail_json(
                msg=(
                    f"Not inside the validation zone {self.zone_name} ({self.zone_id}): {', '.join(outside)}. "
                    "Their validation records can only be written into a zone that contains them"
                )
            )

    # ---------------------------------------------------------------- ACM reads

    def describe(self, arn, client=None):
        """DescribeCertificate plus its tags, or None when the certificate does not exist."""
        client = client or self.acm
        try:
            cert = client.describe_certificate(CertificateArn=arn, aws_retry=True)["Certificate"]
            tags = client.list_tags_for_certificate(CertificateArn=arn, aws_retry=True).get("Tags", [])
        except is_boto3_error_code("ResourceNotFoundException"):
            return None
        except (
            botocore.exceptions.ClientError,
            botocore.exceptions.BotoCoreError,
        ) as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg=f"Could not describe certificate {arn}")
        cert["Tags"] = tags_dict(tags)
        return cert

    def list_summaries(self, statuses, client=None):
        try:
            return list_certificates(client or self.acm, statuses)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg="Could not list ACM certificates")

    @staticmethod
    def is_ours_kind(cert):
        """A public, DNS-validated certificate that ACM issued and no other service manages."""
        if cert.get("Type") != "AMAZON_ISSUED" or cert.get("ManagedBy"):
            return False
        methods = {option.get("ValidationMethod") for option in cert.get("DomainValidationOptions") or []}
        return methods <= {"DNS", None}

    def cert_names(self, cert):
        return sorted(
            {normalize_name(cert["DomainName"])} | {normalize_name(n) for n in cert.get("SubjectAlternativeNames", [])}
        )

    def names_match(self, cert):
        return normalize_name(cert["DomainName"]) == self.domain_name and self.cert_names(cert) == self.names

    def tags_match(self, cert):
        return all(cert["Tags"].get(key) == value for key, value in self.match_tags.items())

    def find(self):
        """Return (matches, others): certificates with these names and tags, and older ones with other names."""
        matches = []
        others = []
        for summary in self.list_summaries(MATCHABLE_STATUSES):
            if normalize_name(summary.get("DomainName", "")) != self.domain_name:
                continue
            cert = self.describe(summary["CertificateArn"])
            if cert is None or cert.get("Status") not in MATCHABLE_STATUSES or not self.is_ours_kind(cert):
                continue
            if not self.tags_match(cert):
                continue
            if self.names_match(cert):
                matches.append(cert)
            else:
                others.append(cert)
        return matches, others

    def by_arn(self):
        arn = self.params["certificate_arn"]
        cert = self.describe(arn)
        if cert is None:
            return None
        if not self.names_match(cert):
            self.module.fail_json(
                msg=(
                    f"certificate_arn {arn} is a certificate for {', '.join(self.cert_names(cert))}, "
                    f"not for {', '.join(self.names)}; ACM cannot change the names of a certificate"
                )
            )
        return cert

    def lookup(self):
        if self.params["certificate_arn"]:
            return self.by_arn(), []
        matches, others = self.find()
        if len(matches) > 1:
            listing = ", ".join(f"{c['CertificateArn']} ({c['Status']})" for c in matches)
            self.module.fail_json(
                msg=(
                    f"{len(matches)} certificates in {self.region} match {', '.join(self.names)} with tags "
                    f"{self.match_tags}: {listing}. Refusing to guess: delete the extra ones, tell them apart with "
                    "tags, or name one with certificate_arn"
                )
            )
        return (matches[0] if matches else None), others

    # ---------------------------------------------------------------- output

    def output(self, cert):
        if not cert:
            return {}
        return {
            "arn": cert["CertificateArn"],
            "domain_name": cert["DomainName"],
            "subject_alternative_names": list(cert.get("SubjectAlternativeNames", [])),
            "status": cert.get("Status"),
            "key_algorithm": cert.get("KeyAlgorithm"),
            "region": self.region,
            "validation_records": validation_records(cert),
            "in_use_by": list(cert.get("InUseBy", [])),
            "tags": dict(cert.get("Tags", {})),
        }

    # ---------------------------------------------------------------- Route53

    def read_record(self, name, rtype):
        try:
            result = self.route53.list_resource_record_sets(
                HostedZoneId=self.zone_id, StartRecordName=name, StartRecordType=rtype, MaxItems="1", aws_retry=True
            )
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg=f"Could not read record {name} in hosted zone {self.zone_id}")
        for rrset in result.get("ResourceRecordSets", []):
            if normalize_record_name(rrset["Name"]) == normalize_record_name(name) and rrset["Type"] == rtype:
                return rrset
        return None

    @staticmethod
    def rrset_values(rrset):
        return sorted(normalize_record_name(r["Value"]) for r in rrset.get("ResourceRecords", []))

    def missing_records(self, records):
        """The records that the zone does not hold with this value (a TTL someone else set is left alone)."""
        missing = []
        for record in records:
            rrset = self.read_record(record["name"], record["type"])
            if rrset is None or self.rrset_values(rrset) != [normalize_record_name(record["value"])]:
                missing.append(record)
        return missing

    def change_records(self, action, changes, comment):
        try:
            result = self.route53.change_resource_record_sets(
                HostedZoneId=self.zone_id,
                ChangeBatch={
                    "Comment": comment,
                    "Changes": [{"Action": action, "ResourceRecordSet": c} for c in changes],
                },
                aws_retry=True,
            )
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg=f"Could not {action} validation records in hosted zone {self.zone_id}")
        return result["ChangeInfo"]["Id"].split("/")[-1]

    def wait_change(self, change_id, cert):
        def probe():
            try:
                return self.route53.get_change(Id=change_id, aws_retry=True)["ChangeInfo"]["Status"]
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                self.module.fail_json_aws(e, msg=f"Could not read Route53 change {change_id}")

        try:
            _poll(
                probe,
                lambda status: status == "INSYNC",
                f"Route53 change {change_id}",
                self.remaining(),
                POLL_CHANGE,
            )
        except WaitTimeout as exc:
            self.fail_timeout(exc, cert, f"its validation records (Route53 change {change_id}) to be INSYNC")

    # ---------------------------------------------------------------- ACM writes and waits

    def request(self, token):
        kwargs = dict(
            DomainName=self.domain_name,
            ValidationMethod="DNS",
            IdempotencyToken=token,
        )
        sans = [name for name in self.names if name != self.domain_name]
        if sans:
            # ACM lists the domain name among the SANs of the certificate; send the full set.
            kwargs["SubjectAlternativeNames"] = [self.domain_name] + sans
        if self.params["key_algorithm"]:
            kwargs["KeyAlgorithm"] = self.params["key_algorithm"]
        if self.tags:
            kwargs["Tags"] = ansible_dict_to_boto3_tag_list(self.tags)
        try:
            return self.acm.request_certificate(aws_retry=True, **kwargs)["CertificateArn"]
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg=f"Could not request a certificate for {', '.join(self.names)}")

    def describe_new(self, arn):
        """Describe a certificate just requested, allowing for ACM's eventual consistency; None if it never shows."""
        try:
            return _poll(
                lambda: self.describe(arn),
                lambda cert: cert is not None,
                f"certificate {arn} to be visible",
                min(NEW_CERT_VISIBLE_TIMEOUT, max(self.remaining(), 1)),
                POLL_RECORDS,
            )
        except WaitTimeout:
            return None

    def create(self):
        token = idempotency_token(self.domain_name, self.names, self.params["key_algorithm"], self.tags)
        arn = self.request(token)
        cert = self.describe_new(arn)
        if cert is None or not self.names_match(cert):
            # ACM answers a token it saw within the last hour with the certificate that token created,
            # even when that certificate has been deleted since (a teardown followed by a new run):
            # request again with a token of its own.
            salted = idempotency_token(
                self.domain_name, self.names, self.params["key_algorithm"], self.tags, salt=uuid.uuid4().hex
            )
            arn = self.request(salted)
            cert = self.describe_new(arn)
            if cert is None:
                self.module.fail_json(msg=f"Certificate {arn} was requested but DescribeCertificate does not find it")
        return cert

    def wait_records(self, cert):
        """Wait until ACM publishes every validation record (usually seconds after the request)."""
        if records_published(cert):
            return cert
        holder = {"cert": cert}

        def probe():
            holder["cert"] = self.describe(cert["CertificateArn"]) or holder["cert"]
            return holder["cert"]

        try:
            return _poll(
                probe,
                records_published,
                "validation records",
                self.remaining(),
                POLL_RECORDS,
            )
        except WaitTimeout:
            self.module.fail_json(
                msg=(
                    f"Timed out after {self.params['wait_timeout']}s (wait_timeout) waiting for ACM to publish the "
                    f"DNS validation records of certificate {cert['CertificateArn']} ({self.domain_name}) "
                    f"in {self.region}"
                ),
                certificate=self.output(holder["cert"]),
            )

    def wait_issued(self, cert):
        holder = {"cert": cert}

        def probe():
            holder["cert"] = self.describe(cert["CertificateArn"]) or holder["cert"]
            return holder["cert"].get("Status")

        def done(status):
            if status in FAILED_STATUSES:
                reason = holder["cert"].get("FailureReason") or "no reason given"
                self.module.fail_json(
                    msg=(
                        f"Certificate {cert['CertificateArn']} ({self.domain_name}) in {self.region} is {status} "
                        f"instead of ISSUED: {reason}"
                    ),
                    certificate=self.output(holder["cert"]),
                )
            return status == "ISSUED"

        try:
            _poll(probe, done, "status ISSUED", self.remaining(), POLL_ISSUED)
        except WaitTimeout as exc:
            what = "ACM to validate it and reach status ISSUED"
            if self.zone_id:
                what += f" (validation records in zone {self.zone_name})"
            self.fail_timeout(exc, holder["cert"], what)
        return holder["cert"]

    def update_tags(self, cert):
        if self.tags is None:
            return False
        to_set, to_unset = compare_aws_tags(cert["Tags"], self.tags, self.params["purge_tags"])
        if not to_set and not to_unset:
            return False
        if self.module.check_mode:
            return True
        arn = cert["CertificateArn"]
        try:
            if to_unset:
                self.acm.remove_tags_from_certificate(
                    CertificateArn=arn,
                    Tags=[{"Key": key, "Value": cert["Tags"][key]} for key in to_unset],
                    aws_retry=True,
                )
            if to_set:
                self.acm.add_tags_to_certificate(
                    CertificateArn=arn, Tags=ansible_dict_to_boto3_tag_list(to_set), aws_retry=True
                )
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg=f"Could not update the tags of certificate {arn}")
        return True

    # ---------------------------------------------------------------- present

    def present(self):
        self.check_zone()
        cert, others = self.lookup()
        if self.params["certificate_arn"] and cert is None:
            self.module.fail_json(msg=f"certificate_arn {self.params['certificate_arn']} not found in {self.region}")
        if others:
            self.module.warn(
                f"Other certificates for {self.domain_name} with the same tags but other names exist in {self.region}: "
                + ", ".join(f"{c['CertificateArn']} ({', '.join(self.cert_names(c))})" for c in others)
                + ". ACM cannot change the names of a certificate, so this module leaves them alone; "
                "delete them once nothing uses them (see their in_use_by)."
            )
        before = self.output(cert)
        key_algorithm = self.params["key_algorithm"]
        if cert is not None and key_algorithm and cert.get("KeyAlgorithm") != key_algorithm:
            self.module.fail_json(
                msg=(
                    f"Certificate {cert['CertificateArn']} for {', '.join(self.names)} has key algorithm "
                    f"{cert.get('KeyAlgorithm')}, not {key_algorithm}; ACM cannot change it. Delete the certificate "
                    "(or give the new one other tags) to get one with another key algorithm"
                ),
                certificate=before,
            )

        created = cert is None
        if created:
            self.changed = True
            if self.module.check_mode:
                after = {"domain_name": self.domain_name, "subject_alternative_names": self.names, "tags": self.tags}
                self.exit(cert=None, before={}, after=after)
            cert = self.create()
        elif self.update_tags(cert):
            self.changed = True
            if not self.module.check_mode:
                cert = self.describe(cert["CertificateArn"]) or cert

        change_id = None
        # Without a zone, wait for the records only of a certificate just requested: they are what the user
        # needs to create them elsewhere.
        if not self.module.check_mode and (self.zone_id or created):
            cert = self.wait_records(cert)
        if self.zone_id:
            missing = self.missing_records(validation_records(cert))
            if missing:
                self.changed = True
                if not self.module.check_mode:
                    change_id = self.change_records(
                        "UPSERT",
                        [
                            {
                                "Name": r["name"],
                                "Type": r["type"],
                                "TTL": RECORD_TTL,
                                "ResourceRecords": [{"Value": r["value"]}],
                            }
                            for r in missing
                        ],
                        f"ACM DNS validation of {cert['CertificateArn']}",
                    )
            if self.params["wait"] and not self.module.check_mode:
                if change_id:
                    self.wait_change(change_id, cert)
                if cert.get("Status") != "ISSUED":
                    cert = self.wait_issued(cert)

        after = self.output(cert)
        if self.module.check_mode and self.tags is not None:
            after["tags"] = self.expected_tags(cert)
        self.exit(cert=cert, before=before, after=after)

    def expected_tags(self, cert):
        to_set, to_unset = compare_aws_tags(cert["Tags"], self.tags, self.params["purge_tags"])
        tags = {k: v for k, v in cert["Tags"].items() if k not in to_unset}
        tags.update(to_set)
        return tags

    # ---------------------------------------------------------------- absent

    def delete(self, cert):
        arn = cert["CertificateArn"]

        def probe():
            try:
                self.acm.delete_certificate(CertificateArn=arn, aws_retry=True)
            except is_boto3_error_code("ResourceNotFoundException"):
                return "deleted"
            except is_boto3_error_code("ResourceInUseException"):  # pylint: disable=duplicate-except
                return "in use"
            except (
                botocore.exceptions.ClientError,
                botocore.exceptions.BotoCoreError,
            ) as e:  # pylint: disable=duplicate-except
                self.module.fail_json_aws(e, msg=f"Could not delete certificate {arn}")
            return "deleted"

        timeout = self.remaining() if self.params["wait"] else 0
        try:
            _poll(probe, lambda state: state == "deleted", "deletion", timeout, POLL_IN_USE)
        except WaitTimeout:
            current = self.describe(arn) or cert
            users = ", ".join(current.get("InUseBy") or []) or "(ACM did not say which resources)"
            self.module.fail_json(
                msg=(
                    f"Certificate {arn} ({self.domain_name}) in {self.region} is still in use after "
                    f"{self.params['wait_timeout'] if self.params['wait'] else 0}s, so it cannot be deleted; "
                    f"in use by: {users}. Detach it from these resources first"
                ),
                certificate=self.output(current),
            )

    def records_still_needed(self, arn):
        """Validation records that other certificates (this region and shared_record_regions) list."""
        needed = set()
        clients = [self.acm]
        for region in self.params["shared_record_regions"]:
            if region != self.region:
                clients.append(
                    self.module.client(
                        "acm",
                        retry_decorator=AWSRetry.jittered_backoff(catch_extra_error_codes=ACM_RETRY_CODES),
                        region=region,
                    )
                )
        for client in clients:
            for summary in self.list_summaries(ALL_STATUSES, client=client):
                if summary["CertificateArn"] == arn:
                    continue
                other = self.describe(summary["CertificateArn"], client=client)
                if other is not None:
                    needed.update(record_key(r) for r in validation_records(other))
        return needed

    def removable_records(self, cert):
        if not (self.zone_id and self.params["remove_validation_records"]):
            return []
        needed = self.records_still_needed(cert["CertificateArn"])
        removable = []
        for record in validation_records(cert):
            if record_key(record) in needed:
                continue
            rrset = self.read_record(record["name"], record["type"])
            if rrset is not None and self.rrset_values(rrset) == [normalize_record_name(record["value"])]:
                removable.append(rrset)
        return removable

    def absent(self):
        if self.zone_id:
            self.check_zone()
        cert, _others = self.lookup()
        if cert is None:
            self.module.exit_json(changed=False, certificate={}, removed_validation_records=[])
        before = self.output(cert)
        self.changed = True
        removable = self.removable_records(cert)
        removed = [{"name": r["Name"], "type": r["Type"], "value": r["ResourceRecords"][0]["Value"]} for r in removable]
        if not self.module.check_mode:
            self.delete(cert)
            if removable:
                self.change_records("DELETE", removable, f"ACM certificate {cert['CertificateArn']} deleted")
        self.exit(cert=None, before=before, after={}, removed_validation_records=removed)

    # ---------------------------------------------------------------- exit

    def exit(self, cert, before, after, **extra):
        result = dict(changed=self.changed, certificate=self.output(cert), **extra)
        if self.module._diff:  # pylint: disable=protected-access
            result["diff"] = dict_diff(before, after)
        self.module.exit_json(**result)


def main():
    argument_spec = dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        domain_name=dict(type="str", required=True),
        subject_alternative_names=dict(type="list", elements="str", default=[]),
        certificate_arn=dict(type="str"),
        key_algorithm=dict(type="str", choices=ALL_KEY_TYPES),
        validation_zone_id=dict(type="str"),
        match_tags=dict(type="list", elements="str"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=1800),
        remove_validation_records=dict(type="bool", default=True),
        shared_record_regions=dict(type="list", elements="str", default=[]),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = KubeflowOpsAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    manager = CertificateManager(module)
    manager.validate()
    if module.params["state"] == "present":
        manager.present()
    else:
        manager.absent()


if __name__ == "__main__":
    main()
