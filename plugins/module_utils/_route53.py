# -*- coding: utf-8 -*-
# Copyright: kubeflow_ops.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Route53 for kubeflow_ops.aws modules: zones by name or id, record sets in one shape, change batches
(collection-private, may change without notice)."""

from __future__ import annotations

import re

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

RETRY_CODES = ["PriorRequestNotComplete", "Throttling"]
# ListResourceRecordSets answers at most 300 record sets per page.
PAGE_SIZE = "300"

_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")


class Route53Error(Exception):
    """A Route53 call failed; `cause` is the botocore exception, when there is one."""

    def __init__(self, message, cause=None):
        super().__init__(message)
        self.cause = cause


def client(module):
    return module.client("route53", retry_decorator=AWSRetry.jittered_backoff(catch_extra_error_codes=RETRY_CODES))


def absolute_name(name):
    """A record or zone name as Route53 lists it and as we compare it: lower case, trailing dot, '*' for \\052."""
    name = _OCTAL_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), name.strip())
    return name.lower().rstrip(".") + "."


def plain_name(name):
    """The name without its trailing dot (for messages and labels)."""
    return absolute_name(name)[:-1]


def in_zone(name, zone_name):
    name, zone_name = absolute_name(name), absolute_name(zone_name)
    return name == zone_name or name.endswith("." + zone_name)


def zone_id(value):
    """'/hostedzone/Z123' and 'Z123' both give 'Z123'."""
    return value.rsplit("/", 1)[-1]


def call(what, method, **kwargs):
    """method(**kwargs) with the client's retries; a failure raises Route53Error saying what was tried."""
    try:
        return method(aws_retry=True, **kwargs)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        raise Route53Error(f"Could not {what}", e) from e


def describe_zone(route53, hosted_zone_id):
    """The zone with this id as {id, name, private, comment, name_servers}, or None when there is none."""
    try:
        answer = route53.get_hosted_zone(Id=zone_id(hosted_zone_id), aws_retry=True)
    except is_boto3_error_code("NoSuchHostedZone"):
        return None
    except (
        botocore.exceptions.ClientError,
        botocore.exceptions.BotoCoreError,
    ) as e:  # pylint: disable=duplicate-except
        raise Route53Error(f"Could not read hosted zone {hosted_zone_id}", e) from e
    zone = answer["HostedZone"]
    return {
        "id": zone_id(zone["Id"]),
        "name": plain_name(zone["Name"]),
        "private": bool((zone.get("Config") or {}).get("PrivateZone")),
        "comment": (zone.get("Config") or {}).get("Comment", ""),
        "name_servers": list((answer.get("DelegationSet") or {}).get("NameServers", [])),
    }


def zones_named(route53, name, private=False):
    """Ids of the public (or private) zones called `name`; Route53 allows several zones with one name."""
    wanted = absolute_name(name)
    found = []
    kwargs = {"DNSName": wanted}
    while True:
        page = call(f"list the hosted zones named {plain_name(name)}", route53.list_hosted_zones_by_name, **kwargs)
        zones = page.get("HostedZones", [])
        for zone in zones:
            if absolute_name(zone["Name"]) != wanted:
                # The list is sorted by name: past our name, nothing more matches.
                return found
            if bool((zone.get("Config") or {}).get("PrivateZone")) == private:
                found.append(zone_id(zone["Id"]))
        if not page.get("IsTruncated"):
            return found
        kwargs = {"DNSName": page["NextDNSName"], "HostedZoneId": page["NextHostedZoneId"]}


def record_from_aws(rrset):
    """A ResourceRecordSet in the shape our modules return and accept."""
    record = {"name": absolute_name(rrset["Name"]), "type": rrset["Type"]}
    if "TTL" in rrset:
        record["ttl"] = int(rrset["TTL"])
    if "AliasTarget" in rrset:
        target = rrset["AliasTarget"]
        record["alias"] = {
            "dns_name": absolute_name(target["DNSName"]),
            "hosted_zone_id": target["HostedZoneId"],
            "evaluate_target_health": bool(target.get("EvaluateTargetHealth", False)),
        }
    else:
        record["values"] = [r["Value"] for r in rrset.get("ResourceRecords", [])]
    for key in ("SetIdentifier", "Weight", "Region", "Failover", "MultiValueAnswer", "HealthCheckId"):
        if key in rrset:
            record.setdefault("routing", {})[key] = rrset[key]
    return record


def record_to_aws(record):
    """The ResourceRecordSet Route53 takes for one of our records (the inverse of record_from_aws)."""
    rrset = {"Name": record["name"], "Type": record["type"]}
    rrset.update(record.get("routing") or {})
    if record.get("alias"):
        alias = record["alias"]
        rrset["AliasTarget"] = {
            "DNSName": alias["dns_name"],
            "HostedZoneId": alias["hosted_zone_id"],
            "EvaluateTargetHealth": bool(alias.get("evaluate_target_health", False)),
        }
    else:
        rrset["TTL"] = int(record["ttl"])
        rrset["ResourceRecords"] = [{"Value": value} for value in record["values"]]
    return rrset


def comparable_value(value):
    """Values compare as Route53 resolves them: names without case or trailing dot, TXT as written."""
    return value.lower().rstrip(".") if not value.startswith('"') else value


def same_record(have, want):
    """Whether the record `have` (read from Route53) already is `want` (TTL, values or alias target)."""
    if bool(have.get("alias")) != bool(want.get("alias")):
        return False
    if want.get("alias"):
        a, b = have["alias"], want["alias"]
        return (
            comparable_value(a["dns_name"]) == comparable_value(b["dns_name"])
            and (not b.get("hosted_zone_id") or a["hosted_zone_id"] == b["hosted_zone_id"])
            and bool(a.get("evaluate_target_health")) == bool(b.get("evaluate_target_health"))
        )
    return int(have.get("ttl", -1)) == int(want["ttl"]) and sorted(map(comparable_value, have["values"])) == sorted(
        map(comparable_value, want["values"])
    )


def list_records(route53, hosted_zone_id):
    """Every record set of the zone, in our shape."""
    records = []
    kwargs = {"HostedZoneId": hosted_zone_id, "MaxItems": PAGE_SIZE}
    while True:
        page = call(f"list the records of hosted zone {hosted_zone_id}", route53.list_resource_record_sets, **kwargs)
        records.extend(record_from_aws(rrset) for rrset in page.get("ResourceRecordSets", []))
        if not page.get("IsTruncated"):
            return records
        kwargs = {"HostedZoneId": hosted_zone_id, "MaxItems": PAGE_SIZE, "StartRecordName": page["NextRecordName"]}
        kwargs["StartRecordType"] = page["NextRecordType"]
        if "NextRecordIdentifier" in page:
            kwargs["StartRecordIdentifier"] = page["NextRecordIdentifier"]


def records_named(route53, hosted_zone_id, name):
    """Every record set called `name` (one read: the listing is sorted by name, then type)."""
    name = absolute_name(name)
    page = call(
        f"read the records at {plain_name(name)} in hosted zone {hosted_zone_id}",
        route53.list_resource_record_sets,
        HostedZoneId=hosted_zone_id,
        StartRecordName=name,
        MaxItems="100",
    )
    return [record for record in map(record_from_aws, page.get("ResourceRecordSets", [])) if record["name"] == name]


def change_records(route53, hosted_zone_id, changes, comment):
    """Send [(action, record), ...] as one change batch (all or nothing); returns the change id."""
    answer = call(
        f"change records in hosted zone {hosted_zone_id}",
        route53.change_resource_record_sets,
        HostedZoneId=hosted_zone_id,
        ChangeBatch={
            "Comment": comment,
            "Changes": [{"Action": action, "ResourceRecordSet": record_to_aws(record)} for action, record in changes],
        },
    )
    return zone_id(answer["ChangeInfo"]["Id"])


def change_status(route53, change_id):
    return call(f"read Route53 change {change_id}", route53.get_change, Id=change_id)["ChangeInfo"]["Status"]


def load_balancer_zones(elbv2):
    """{DNS name: canonical hosted zone id} of the account's ELBv2 load balancers in the client's region."""
    zones = {}
    kwargs = {}
    while True:
        page = call("list the load balancers (ELBv2)", elbv2.describe_load_balancers, **kwargs)
        for lb in page.get("LoadBalancers", []):
            if lb.get("DNSName") and lb.get("CanonicalHostedZoneId"):
                zones[lb["DNSName"].lower().rstrip(".")] = lb["CanonicalHostedZoneId"]
        if not page.get("NextMarker"):
            return zones
        kwargs = {"Marker": page["NextMarker"]}
