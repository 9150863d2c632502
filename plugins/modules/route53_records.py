#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubeflow_ops.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: route53_records
short_description: Find a Route53 hosted zone by name or id and make a set of its records exactly so, in one change
version_added: 0.2.0
description:
  - Finds one hosted zone, by O(hosted_zone_id) or by O(zone) name (two zones with that name stop the module
    with their ids), and returns it with its name servers.
  - With O(state=present), writes the O(records) that are missing or differ (TTL, values, or alias target) in
    one change batch, which Route53 applies all or nothing. Records that are already right are not sent, so a
    second run reports no change. Record sets of the same name whose type is in O(replace_types) are deleted in
    the same batch (a name holds either a C(CNAME) or other records).
  - With O(state=absent), deletes those of the O(records) that exist and match (their values, alias target or
    O(records[].value_pattern)); a record at the name that does not match is someone else's and is left alone,
    and reported in RV(kept).
  - With O(state=query), changes nothing and returns the zone and (O(list_records)) all its records.
  - Names are compared as Route53 resolves them (case, trailing dot, C(\\052) for C(*)); returned names are
    absolute, lower case and show C(*) as C(*).
  - Only simple routing is managed. A name that holds weighted, latency, failover or other routed record sets
    of the type stops the module before any change.
author:
  - kubeflow_ops maintainers (!UNKNOWN)
options:
  state:
    description:
      - V(present) writes the records, V(absent) deletes them, V(query) only reads.
    type: str
    choices: [present, absent, query]
    default: present
  hosted_zone_id:
    description:
      - Id of the hosted zone (V(Z123...) or V(/hostedzone/Z123...)).
      - Exactly one of O(hosted_zone_id) and O(zone) is required.
    type: str
  zone:
    description:
      - Name of the hosted zone. When no zone has this name, RV(zone) is empty and nothing is read or changed with
        O(state=absent) or O(state=query); O(state=present) with records fails.
    type: str
  private_zone:
    description:
      - Look O(zone) up among the private hosted zones instead of the public ones.
    type: bool
    default: false
  records:
    description:
      - The record sets to write or delete, each of simple routing.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - Absolute name of the record (a trailing dot is optional), inside the zone; V(*.example.com) for a
            wildcard.
        type: str
        required: true
      type:
        description:
          - Record type.
        type: str
        required: true
        choices: [A, AAAA, CAA, CNAME, MX, NS, PTR, SRV, TXT]
      ttl:
        description:
          - TTL in seconds (not for alias records).
        type: int
        default: 300
      values:
        description:
          - The values of the record set; exactly one of O(records[].values) and O(records[].alias) with
            O(state=present).
          - With O(state=absent), the record is deleted only when it has these values (in any order).
        type: list
        elements: str
      alias:
        description:
          - Alias target (for example a load balancer or a CloudFront distribution).
          - With O(state=absent), the record is deleted only when it is an alias to this DNS name.
        type: dict
        suboptions:
          dns_name:
            description: DNS name of the target.
            type: str
            required: true
          hosted_zone_id:
            description:
              - Hosted zone id of the target (the load balancer's canonical hosted zone id, or V(Z2FDTNDATAQYW2) for
                CloudFront). Not compared with O(state=absent).
              - When omitted for a load balancer's DNS name (with or without the C(dualstack.) prefix), the module
                finds the load balancer in ELBv2 in O(region) and uses its canonical hosted zone id, and only when
                the record has to be written; an alias already pointing at O(records[].alias.dns_name) is not
                compared by zone id then.
            type: str
          evaluate_target_health:
            description: Whether Route53 checks the target's health.
            type: bool
            default: false
      value_pattern:
        description:
          - With O(state=absent) only, a Python regular expression. The record is deleted only when each of its
            values, or its alias DNS name, matches it (C(re.search); start with C((?i)) to ignore case).
        type: str
  replace_types:
    description:
      - With O(state=present), record sets at the name of a written record whose type is one of these and not the
        written type are deleted in the same change batch. For example V([A, CNAME]) turns a C(CNAME) into an
        C(A) alias.
    type: list
    elements: str
    default: []
  overwrite:
    description:
      - With O(state=present), whether a record that exists with other values (or a record of a type in
        O(replace_types)) is replaced. With V(false) it is left alone and reported in RV(kept).
    type: bool
    default: true
  list_records:
    description:
      - With O(state=query), whether to return all records of the zone in RV(records) (one read per 300 record
        sets). With V(false) only the zone is read.
    type: bool
    default: true
  wait:
    description:
      - Wait until Route53 reports the change C(INSYNC) on its name servers.
    type: bool
    default: false
  wait_timeout:
    description:
      - How long to wait with O(wait), in seconds.
    type: int
    default: 300
notes:
  - Supports check mode and diff mode. In check mode nothing is sent; RV(changes) lists what would be.
  - "IAM: C(route53:GetHostedZone), C(route53:ListHostedZonesByName) (with O(zone)),
    C(route53:ListResourceRecordSets), C(route53:ChangeResourceRecordSets), C(route53:GetChange) with O(wait), and
    C(elasticloadbalancing:DescribeLoadBalancers) for an alias without O(records[].alias.hosted_zone_id)."
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Point the wildcard name and the apex at the load balancer
  kubeflow_ops.aws.route53_records:
    zone: platform.example.com
    records:
      - name: "*.platform.example.com"
        type: CNAME
        ttl: 60
        values: [k8s-istiosys-ingress-0123456789.eu-west-1.elb.amazonaws.com]
      - name: platform.example.com
        type: A
        alias:
          dns_name: dualstack.k8s-istiosys-ingress-0123456789.eu-west-1.elb.amazonaws.com
          hosted_zone_id: Z32O12XQLNTSW2

- name: Read the zone's name servers only
  kubeflow_ops.aws.route53_records:
    state: query
    zone: platform.example.com
    list_records: false
  register: platform_zone

- name: Remove the apex alias, but only when it still points at a load balancer
  kubeflow_ops.aws.route53_records:
    state: absent
    hosted_zone_id: "{{ platform_zone.zone.id }}"
    records:
      - name: platform.example.com
        type: A
        value_pattern: '(?i)\.elb\.[a-z0-9.-]*amazonaws\.com\.?$'
"""

RETURN = r"""
zone:
  description: The hosted zone; empty when O(zone) names no zone.
  returned: always
  type: dict
  contains:
    id:
      description: Zone id without the C(/hostedzone/) prefix.
      type: str
      sample: Z0123456789ABCDEFGHIJ
    name:
      description: Zone name, without the trailing dot.
      type: str
      sample: platform.example.com
    private:
      description: Whether it is a private zone.
      type: bool
    name_servers:
      description: The zone's name servers (for the NS delegation in the parent zone).
      type: list
      elements: str
      sample: [ns-1.awsdns-01.org, ns-2.awsdns-02.com]
records:
  description:
    - With O(state=query) and O(list_records), every record set of the zone; otherwise the record sets at the names
      of O(records) after the change (what check mode would leave).
    - Each has C(name) (absolute, C(*) unescaped), C(type), C(ttl) (not for aliases), C(values) or C(alias) (with
      C(dns_name), C(hosted_zone_id) and C(evaluate_target_health)), and C(routing) for routed record sets.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "*.platform.example.com.", "type": "CNAME", "ttl": 60, "values": ["k8s-example.elb.amazonaws.com"]}]
changes:
  description: The changes sent (or, in check mode, that would be), in batch order.
  returned: always
  type: list
  elements: dict
  sample: [{"action": "UPSERT", "name": "*.platform.example.com.", "type": "CNAME"}]
kept:
  description: Records left alone because they are not what the task describes (O(overwrite=false), or O(state=absent)
    and they do not match).
  returned: always
  type: list
  elements: dict
change_id:
  description: Id of the Route53 change, when one was sent.
  returned: when changed and not in check mode
  type: str
"""

import re

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.kubeflow_ops.aws.plugins.module_utils import _route53 as r53
from ansible_collections.kubeflow_ops.aws.plugins.module_utils._common import (
    KubeflowOpsAWSModule,
    WaitTimeout,
    poll_until,
)

ALIAS_SPEC = dict(
    dns_name=dict(type="str", required=True),
    hosted_zone_id=dict(type="str"),
    evaluate_target_health=dict(type="bool", default=False),
)
RECORD_SPEC = dict(
    name=dict(type="str", required=True),
    type=dict(type="str", required=True, choices=["A", "AAAA", "CAA", "CNAME", "MX", "NS", "PTR", "SRV", "TXT"]),
    ttl=dict(type="int", default=300),
    values=dict(type="list", elements="str"),
    alias=dict(type="dict", options=ALIAS_SPEC),
    value_pattern=dict(type="str"),
)


def record_label(record):
    return f"{r53.plain_name(record['name'])} {record['type']}"


def summary(record):
    """What the diff shows of a record."""
    if record.get("alias"):
        return f"ALIAS {r53.plain_name(record['alias']['dns_name'])}"
    return f"{record.get('ttl')} {' '.join(record.get('values') or [])}"


def check_records(records, state, zone_name):
    """Problems of the input (no call has been made yet)."""
    problems = []
    seen = set()
    for index, record in enumerate(records):
        where = f"records[{index}] ({record['name']} {record['type']})"
        key = (r53.absolute_name(record["name"]), record["type"])
        if key in seen:
            problems.append(f"{where} is listed twice")
        seen.add(key)
        if record.get("values") is not None and record.get("alias"):
            problems.append(f"{where} has both values and alias")
        if state == "present":
            if not record.get("values") and not record.get("alias"):
                problems.append(f"{where} needs values or alias")
            if record.get("value_pattern") is not None:
                problems.append(f"{where}: value_pattern is only for state=absent")
        if record.get("value_pattern") is not None:
            try:
                re.compile(record["value_pattern"])
            except re.error as e:
                problems.append(f"{where}: value_pattern is not a regular expression ({e})")
        if zone_name and not r53.in_zone(record["name"], zone_name):
            problems.append(f"{where} is not inside the zone {zone_name}")
    return problems


def want_record(record):
    out = {"name": r53.absolute_name(record["name"]), "type": record["type"]}
    if record.get("alias"):
        alias = record["alias"]
        out["alias"] = {
            "dns_name": r53.absolute_name(alias["dns_name"]),
            "hosted_zone_id": alias.get("hosted_zone_id") or "",
            "evaluate_target_health": bool(alias.get("evaluate_target_health")),
        }
    else:
        out["ttl"] = record["ttl"]
        out["values"] = list(record.get("values") or [])
    return out


def matches_for_delete(have, record):
    """Whether the existing record `have` is the one a state=absent entry describes."""
    if have.get("alias"):
        seen = [have["alias"]["dns_name"]]
    else:
        seen = list(have.get("values") or [])
    if record.get("value_pattern") is not None:
        pattern = re.compile(record["value_pattern"])
        if not seen or not all(pattern.search(value) for value in seen):
            return False
    if record.get("alias"):
        if not have.get("alias"):
            return False
        return r53.comparable_value(have["alias"]["dns_name"]) == r53.comparable_value(record["alias"]["dns_name"])
    if record.get("values") is not None:
        return not have.get("alias") and sorted(map(r53.comparable_value, seen)) == sorted(
            map(r53.comparable_value, record["values"])
        )
    return True


class Records:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.route53 = r53.client(module)

    def fail(self, exc):
        if exc.cause is not None:
            self.module.fail_json_aws(exc.cause, msg=str(exc))
        self.module.fail_json(msg=str(exc))

    def find_zone(self):
        if self.params["hosted_zone_id"]:
            zone = r53.describe_zone(self.route53, self.params["hosted_zone_id"])
            if zone is None and self.params["state"] != "absent":
                self.module.fail_json(
                    msg=f"There is no Route53 hosted zone with the id {self.params['hosted_zone_id']}"
                )
            return zone
        kind = "private" if self.params["private_zone"] else "public"
        ids = r53.zones_named(self.route53, self.params["zone"], private=self.params["private_zone"])
        if len(ids) > 1:
            self.module.fail_json(
                msg=(
                    f"{len(ids)} {kind} hosted zones are named {r53.plain_name(self.params['zone'])} "
                    f"({', '.join(ids)}): set hosted_zone_id to the one to use. Nothing was changed."
                )
            )
        if not ids:
            if self.params["state"] == "present" and self.params["records"]:
                self.module.fail_json(
                    msg=f"There is no {kind} Route53 hosted zone {r53.plain_name(self.params['zone'])}"
                )
            return None
        return r53.describe_zone(self.route53, ids[0])

    def records_at(self, zone_id, names):
        """The record sets at each name: {name: [record, ...]}, one read per name."""
        return {name: r53.records_named(self.route53, zone_id, name) for name in names}

    def plan(self, zone_id):
        """(changes, kept, after, current): the change batch, the records left alone, and the records at the
        names once the batch is applied and before."""
        state = self.params["state"]
        names = list(dict.fromkeys(r53.absolute_name(record["name"]) for record in self.params["records"]))
        current = self.records_at(zone_id, names)
        changes, kept = [], []
        for record in self.params["records"]:
            name = r53.absolute_name(record["name"])
            here = current[name]
            same_type = [have for have in here if have["type"] == record["type"]]
            if any(have.get("routing") for have in same_type):
                self.module.fail_json(
                    msg=(
                        f"{record_label(record)} has routed record sets (weighted, latency, failover...): "
                        "this module manages simple routing only. Nothing was changed."
                    )
                )
            have = same_type[0] if same_type else None
            if state == "absent":
                if have is None:
                    continue
                if matches_for_delete(have, record):
                    changes.append(("DELETE", have))
                else:
                    kept.append(have)
                continue
            want = want_record(record)
            others = [
                other
                for other in here
                if other["type"] != record["type"] and other["type"] in self.params["replace_types"]
            ]
            if have is not None and r53.same_record(have, want) and not others:
                continue
            if not self.params["overwrite"] and (have is not None or others):
                kept.extend(([have] if have is not None else []) + others)
                continue
            changes.extend(("DELETE", other) for other in others)
            changes.append(("UPSERT", want))
        after = {name: list(records) for name, records in current.items()}
        for action, record in changes:
            at = after[record["name"]]
            at[:] = [r for r in at if r["type"] != record["type"]]
            if action == "UPSERT":
                at.append(record)
        return changes, kept, [record for name in names for record in after[name]], current

    def run(self):
        state = self.params["state"]
        problems = []
        if self.params["hosted_zone_id"] is not None and not self.params["hosted_zone_id"].strip():
            problems.append("hosted_zone_id is empty")
        if self.params["zone"] is not None and not self.params["zone"].strip():
            problems.append("zone is empty")
        problems.extend(check_records(self.params["records"], state, None))
        if problems:
            self.module.fail_json(msg="Invalid arguments: " + "; ".join(problems) + ". Nothing was changed.")
        result = dict(changed=False, zone={}, records=[], changes=[], kept=[])
        try:
            zone = self.find_zone()
            if zone is None:
                self.module.exit_json(**result)
            result["zone"] = zone
            problems = check_records(self.params["records"], state, zone["name"])
            if problems:
                self.module.fail_json(msg="Invalid arguments: " + "; ".join(problems) + ". Nothing was changed.")
            if state == "query":
                if self.params["list_records"]:
                    result["records"] = r53.list_records(self.route53, zone["id"])
                self.module.exit_json(**result)
            changes, kept, after, current = self.plan(zone["id"])
            result.update(
                records=after,
                kept=kept,
                changes=[dict(action=action, name=record["name"], type=record["type"]) for action, record in changes],
                changed=bool(changes),
            )
            if self.module._diff:
                # The diff shows the (name, type) pairs this task is about, not the rest of the name (NS, SOA).
                pairs = {(r53.absolute_name(r["name"]), r["type"]) for r in self.params["records"]}
                pairs |= {(record["name"], record["type"]) for _action, record in changes}
                before_all = [r for records in current.values() for r in records if (r["name"], r["type"]) in pairs]
                result["diff"] = {
                    "before": {record_label(r): summary(r) for r in before_all},
                    "after": {record_label(r): summary(r) for r in after if (r["name"], r["type"]) in pairs},
                    "before_header": f"Route53 zone {zone['name']}",
                    "after_header": f"Route53 zone {zone['name']}",
                }
            self.resolve_alias_zones(changes)
            if changes and not self.module.check_mode:
                comment = f"kubeflow_ops: {len(changes)} change(s) in {zone['name']}"
                result["change_id"] = r53.change_records(self.route53, zone["id"], changes, comment)
                if self.params["wait"]:
                    self.wait(result["change_id"])
        except r53.Route53Error as exc:
            self.fail(exc)
        self.module.exit_json(**result)

    def resolve_alias_zones(self, changes):
        """Fill in the canonical hosted zone of load balancers the aliases to write point at."""
        missing = [record["alias"] for action, record in changes if action == "UPSERT" and record.get("alias")]
        missing = [alias for alias in missing if not alias["hosted_zone_id"]]
        if not missing:
            return
        zones = r53.load_balancer_zones(self.module.client("elbv2", retry_decorator=AWSRetry.jittered_backoff()))
        for alias in missing:
            name = r53.plain_name(alias["dns_name"])
            name = name[len("dualstack.") :] if name.startswith("dualstack.") else name
            if name not in zones:
                self.module.fail_json(
                    msg=(
                        f"No load balancer in {self.module.region} has the DNS name {name} (is it in another account "
                        "or region, or not made yet?): the alias needs its canonical hosted zone id "
                        "(give alias.hosted_zone_id to write the alias without reading ELBv2, or write a CNAME to the name instead). "
                        "Nothing was changed."
                    )
                )
            alias["hosted_zone_id"] = zones[name]

    def wait(self, change_id):
        try:
            poll_until(
                lambda: r53.change_status(self.route53, change_id),
                lambda status: status == "INSYNC",
                f"Route53 change {change_id} to be INSYNC",
                self.params["wait_timeout"],
                maximum=10.0,
            )
        except WaitTimeout as exc:
            self.module.fail_json(msg=f"{exc} (wait_timeout={self.params['wait_timeout']})", change_id=change_id)


def main():
    module = KubeflowOpsAWSModule(
        argument_spec=dict(
            state=dict(type="str", choices=["present", "absent", "query"], default="present"),
            hosted_zone_id=dict(type="str"),
            zone=dict(type="str"),
            private_zone=dict(type="bool", default=False),
            records=dict(type="list", elements="dict", options=RECORD_SPEC, default=[]),
            replace_types=dict(type="list", elements="str", default=[]),
            overwrite=dict(type="bool", default=True),
            list_records=dict(type="bool", default=True),
            wait=dict(type="bool", default=False),
            wait_timeout=dict(type="int", default=300),
        ),
        mutually_exclusive=[("hosted_zone_id", "zone")],
        required_one_of=[("hosted_zone_id", "zone")],
        supports_check_mode=True,
    )
    Records(module).run()


if __name__ == "__main__":
    main()
