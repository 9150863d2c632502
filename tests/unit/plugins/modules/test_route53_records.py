"""route53_records against the moto sandbox: zone lookup, the write/compare/delete cycle, ownership, check mode."""

from __future__ import annotations

import time

import pytest

ZONE = "platform.example.com"
ALB = "k8s-istiosys-ingress-0123456789.us-west-2.elb.amazonaws.com"
ALB_ZONE = "Z1H1FL5HABSF5"


def make_zone(client, name=ZONE, private=False):
    kwargs = {"Name": name, "CallerReference": f"{name}-{time.time()}"}
    if private:
        kwargs["VPC"] = {"VPCRegion": "us-west-2", "VPCId": "vpc-12345678"}
        kwargs["HostedZoneConfig"] = {"PrivateZone": True, "Comment": "private"}
    return client("route53").create_hosted_zone(**kwargs)["HostedZone"]["Id"].split("/")[-1]


@pytest.fixture
def zone(aws, client):
    return make_zone(client)


def zone_records(client, zone_id):
    """(name, type) -> record set, as Route53 lists them (wildcards as \\052)."""
    sets = client("route53").list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return {(s["Name"], s["Type"]): s for s in sets if s["Type"] not in ("NS", "SOA")}


def upsert(client, zone_id, name, rtype, ttl=300, values=None, alias=None):
    rrset = {"Name": name, "Type": rtype}
    if alias:
        rrset["AliasTarget"] = {"DNSName": alias, "HostedZoneId": ALB_ZONE, "EvaluateTargetHealth": False}
    else:
        rrset["TTL"] = ttl
        rrset["ResourceRecords"] = [{"Value": v} for v in values]
    client("route53").change_resource_record_sets(
        HostedZoneId=zone_id, ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": rrset}]}
    )


WILDCARD = {"name": f"*.{ZONE}", "type": "CNAME", "ttl": 60, "values": [ALB]}
APEX = {"name": ZONE, "type": "A", "alias": {"dns_name": f"dualstack.{ALB}", "hosted_zone_id": ALB_ZONE}}


def test_write_compare_and_delete_cycle(run, client, zone):
    args = {"zone": ZONE, "records": [WILDCARD, APEX]}

    plan = run("route53_records", args, check_mode=True, diff=True)
    assert plan.changed and not plan.failed, plan
    assert [(c["action"], c["name"], c["type"]) for c in plan["changes"]] == [
        ("UPSERT", f"*.{ZONE}.", "CNAME"),
        ("UPSERT", f"{ZONE}.", "A"),
    ]
    assert plan["diff"]["after"] == {f"*.{ZONE} CNAME": f"60 {ALB}", f"{ZONE} A": f"ALIAS dualstack.{ALB}"}
    assert zone_records(client, zone) == {}, "check mode wrote records"

    done = run("route53_records", args)
    assert done.changed and done["change_id"], done
    assert done["zone"]["id"] == zone and done["zone"]["name"] == ZONE and done["zone"]["name_servers"]
    have = zone_records(client, zone)
    assert set(have) == {(f"\\052.{ZONE}.", "CNAME"), (f"{ZONE}.", "A")}
    assert have[(f"\\052.{ZONE}.", "CNAME")]["TTL"] == 60
    assert have[(f"{ZONE}.", "A")]["AliasTarget"]["DNSName"].rstrip(".") == f"dualstack.{ALB}"

    # Again, also with other case and trailing dots: nothing to send, nothing duplicated.
    for again_args in (args, {"zone": ZONE + ".", "records": [dict(WILDCARD, values=[ALB.upper() + "."]), APEX]}):
        again = run("route53_records", again_args)
        assert not again.changed and again["changes"] == [], again
    assert zone_records(client, zone) == have
    assert {r["name"] for r in again["records"]} == {f"*.{ZONE}.", f"{ZONE}."}, "the wildcard is returned unescaped"

    # A new TTL is one UPSERT of that record only.
    changed = run("route53_records", {"zone": ZONE, "records": [dict(WILDCARD, ttl=300), APEX]})
    assert [(c["action"], c["type"]) for c in changed["changes"]] == [("UPSERT", "CNAME")]
    assert zone_records(client, zone)[(f"\\052.{ZONE}.", "CNAME")]["TTL"] == 300

    gone = run("route53_records", {"state": "absent", "zone": ZONE, "records": [WILDCARD, APEX]})
    assert gone.changed and len(gone["changes"]) == 2, gone
    assert zone_records(client, zone) == {}
    again = run("route53_records", {"state": "absent", "zone": ZONE, "records": [WILDCARD, APEX]})
    assert not again.changed


def test_replace_types_turns_a_cname_into_an_alias_in_one_batch(run, client, zone):
    upsert(client, zone, f"*.research.{ZONE}", "CNAME", values=["old.example.net"])
    alias = {
        "name": f"*.research.{ZONE}",
        "type": "A",
        "alias": {"dns_name": f"dualstack.{ALB}", "hosted_zone_id": ALB_ZONE},
    }
    result = run("route53_records", {"zone": ZONE, "records": [alias], "replace_types": ["A", "CNAME"]})
    assert [(c["action"], c["type"]) for c in result["changes"]] == [("DELETE", "CNAME"), ("UPSERT", "A")]
    assert set(zone_records(client, zone)) == {(f"\\052.research.{ZONE}.", "A")}
    again = run("route53_records", {"zone": ZONE, "records": [alias], "replace_types": ["A", "CNAME"]})
    assert not again.changed


def test_overwrite_false_keeps_a_record_someone_else_wrote(run, client, zone):
    upsert(client, zone, ZONE, "A", values=["203.0.113.7"])
    placeholder = {"name": ZONE, "type": "A", "values": ["192.0.2.1"]}
    result = run("route53_records", {"zone": ZONE, "records": [placeholder], "overwrite": False})
    assert not result.changed and not result.failed
    assert [(k["name"], k["values"]) for k in result["kept"]] == [(f"{ZONE}.", ["203.0.113.7"])]
    assert zone_records(client, zone)[(f"{ZONE}.", "A")]["ResourceRecords"] == [{"Value": "203.0.113.7"}]


def test_absent_deletes_only_what_matches(run, client, zone):
    upsert(client, zone, ZONE, "A", alias=f"dualstack.{ALB}")
    upsert(client, zone, f"www.{ZONE}", "A", values=["203.0.113.7"])
    elb = r"(?i)\.elb\.[a-z0-9.-]*amazonaws\.com\.?$"
    records = [
        {"name": ZONE, "type": "A", "value_pattern": elb},
        {"name": f"www.{ZONE}", "type": "A", "values": ["192.0.2.1"]},
        {"name": f"missing.{ZONE}", "type": "TXT"},
    ]
    result = run("route53_records", {"state": "absent", "zone": ZONE, "records": records})
    assert [(c["action"], c["name"]) for c in result["changes"]] == [("DELETE", f"{ZONE}.")]
    assert [k["name"] for k in result["kept"]] == [f"www.{ZONE}."]
    assert set(zone_records(client, zone)) == {(f"www.{ZONE}.", "A")}


def test_query_and_zone_lookup(run, client, zone):
    upsert(client, zone, f"txt.{ZONE}", "TXT", values=['"hello"'])
    result = run("route53_records", {"state": "query", "zone": ZONE})
    assert not result.changed
    assert {(r["name"], r["type"]) for r in result["records"]} >= {(f"txt.{ZONE}.", "TXT"), (f"{ZONE}.", "NS")}
    only_zone = run(
        "route53_records", {"state": "query", "hosted_zone_id": f"/hostedzone/{zone}", "list_records": False}
    )
    assert only_zone["zone"]["id"] == zone and only_zone["records"] == []

    # A private zone of the same name is not the public one.
    make_zone(client, f"private.{ZONE}", private=True)
    assert run("route53_records", {"state": "query", "zone": f"private.{ZONE}"})["zone"] == {}
    assert run("route53_records", {"state": "query", "zone": f"private.{ZONE}", "private_zone": True})["zone"][
        "private"
    ]

    # No zone of that name: empty for query and absent, an error for present.
    assert run("route53_records", {"state": "query", "zone": "nothing.example.org"})["zone"] == {}
    missing = run("route53_records", {"zone": "nothing.example.org", "records": [WILDCARD]})
    assert missing.failed and "There is no public Route53 hosted zone nothing.example.org" in missing["msg"]
    bad_id = run("route53_records", {"state": "query", "hosted_zone_id": "ZNOSUCHZONE"})
    assert bad_id.failed and "no Route53 hosted zone with the id ZNOSUCHZONE" in bad_id["msg"]


def test_two_zones_with_one_name_stop_before_any_change(run, client, zone):
    second = make_zone(client)
    result = run("route53_records", {"zone": ZONE, "records": [WILDCARD]})
    assert result.failed and "2 public hosted zones are named platform.example.com" in result["msg"]
    assert zone in result["msg"] and second in result["msg"]
    assert zone_records(client, zone) == {} and zone_records(client, second) == {}


@pytest.mark.parametrize(
    "records, expected",
    [
        (
            [{"name": "*.other.example.org", "type": "CNAME", "values": [ALB]}],
            "is not inside the zone platform.example.com",
        ),
        ([{"name": ZONE, "type": "A"}], "needs values or alias"),
        ([dict(WILDCARD), dict(WILDCARD)], "is listed twice"),
        ([dict(APEX, values=["192.0.2.1"])], "has both values and alias"),
        ([dict(WILDCARD, value_pattern="x")], "value_pattern is only for state=absent"),
    ],
)
def test_bad_records_fail_before_any_change(run, client, zone, records, expected):
    result = run("route53_records", {"zone": ZONE, "records": records})
    assert result.failed and expected in result["msg"] and "Nothing was changed" in result["msg"], result
    assert zone_records(client, zone) == {}


def test_routed_record_sets_are_not_touched(run, client, zone):
    client("route53").change_resource_record_sets(
        HostedZoneId=zone,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": f"api.{ZONE}",
                        "Type": "CNAME",
                        "SetIdentifier": "blue",
                        "Weight": 10,
                        "TTL": 60,
                        "ResourceRecords": [{"Value": "blue.example.net"}],
                    },
                }
            ]
        },
    )
    result = run(
        "route53_records", {"zone": ZONE, "records": [{"name": f"api.{ZONE}", "type": "CNAME", "values": [ALB]}]}
    )
    assert result.failed and "simple routing only" in result["msg"]


def make_alb(client, name="k8s-istiosys-ingress"):
    ec2 = client("ec2", region="us-west-2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=f"us-west-2{az}")["Subnet"][
            "SubnetId"
        ]
        for i, az in enumerate("ab")
    ]
    lb = client("elbv2", region="us-west-2").create_load_balancer(Name=name, Subnets=subnets)["LoadBalancers"][0]
    return lb["DNSName"], lb["CanonicalHostedZoneId"]


def test_alias_to_a_load_balancer_finds_its_zone_only_when_writing(run, client, zone, calls):
    dns_name, lb_zone = make_alb(client)
    apex = {"name": ZONE, "type": "A", "alias": {"dns_name": f"dualstack.{dns_name}"}}
    args = {"zone": ZONE, "region": "us-west-2", "records": [apex]}
    result = run("route53_records", args)
    assert result.changed, result
    assert zone_records(client, zone)[(f"{ZONE}.", "A")]["AliasTarget"]["HostedZoneId"] == lb_zone
    calls.clear()
    again = run("route53_records", args)
    assert not again.changed
    assert "DescribeLoadBalancers" not in [op for _service, op in calls], "ELBv2 read although nothing was written"

    elsewhere = {
        "name": f"x.{ZONE}",
        "type": "A",
        "alias": {"dns_name": "dualstack.gone-1.us-west-2.elb.amazonaws.com"},
    }
    missing = run("route53_records", dict(args, records=[elsewhere]))
    assert missing.failed and "No load balancer in us-west-2 has the DNS name gone-1" in missing["msg"]
    assert (f"x.{ZONE}.", "A") not in zone_records(client, zone)
