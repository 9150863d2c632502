"""The sandbox's moto server answers like real AWS where moto alone does not."""

from __future__ import annotations

import boto3

from tests.sandbox.harness.aws import MotoSandbox


def test_route53_lists_wildcard_records_escaped_like_aws():
    with MotoSandbox() as sandbox:
        env = sandbox.env()
        r53 = boto3.client(
            "route53",
            endpoint_url=env["AWS_ENDPOINT_URL"],
            region_name="us-east-1",
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=env.get("AWS_SESSION_TOKEN"),
        )
        zone = r53.create_hosted_zone(Name="example.com", CallerReference="wildcard")["HostedZone"]["Id"]
        record = {"Name": "*.example.com", "Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": "lb.example.net"}]}
        r53.change_resource_record_sets(
            HostedZoneId=zone, ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": record}]}
        )
        names = [r["Name"] for r in r53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]]
        assert "\\052.example.com." in names and "*.example.com." not in names
        # Changes still take the name in either form, as Route53 does.
        r53.change_resource_record_sets(
            HostedZoneId=zone,
            ChangeBatch={"Changes": [{"Action": "DELETE", "ResourceRecordSet": dict(record, Name="*.example.com.")}]},
        )
        names = [r["Name"] for r in r53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]]
        assert [n for n in names if "example.com" in n and n != "example.com."] == []
