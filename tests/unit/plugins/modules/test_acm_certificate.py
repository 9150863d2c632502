"""acm_certificate against the moto sandbox (certificates go PENDING_VALIDATION -> ISSUED after 2 s).

moto facts these tests rely on (moto 5.2.5), and what real AWS does differently:
- DescribeCertificate returns every DomainValidationOptions[].ResourceRecord at once; real ACM publishes
  them a few seconds after the request (the module polls for them).
- The validation CNAME is the same for every certificate of a name (moto uses one constant name prefix and
  value); real ACM derives it from the account and the name, so certificates for the same name share it too.
- RequestCertificate honours IdempotencyToken for an hour when the tags are equal; moto answers a token whose
  certificate was deleted with a 500 (real ACM returns the deleted certificate's ARN, which the module detects).
  No test here re-requests the same certificate after deleting it within one sandbox account.
- DeleteCertificate never raises ResourceInUseException (real ACM does while a load balancer, CloudFront or
  Cognito uses the certificate): the in-use tests make DeleteCertificate fail in-process.
- InUseBy is filled when a classic ELB listener uses the certificate.
- Route53 changes are INSYNC at once; KeyAlgorithm is ignored (every certificate is RSA_2048).
"""

from __future__ import annotations

import time

import botocore.client
import botocore.exceptions
import pytest

from ansible_collections.kubeflow_ops.aws.plugins.modules import acm_certificate

ZONE = "platform.example.com"
DOMAIN = "*.platform.example.com"
TAGS = {"kubeflow_ops:environment": "test", "kubeflow_ops:certificate": "alb"}
ALL_KEY_TYPES = acm_certificate.ALL_KEY_TYPES


@pytest.fixture
def zone(aws, client):
    return make_zone(client, ZONE)


def make_zone(client, name, private=False):
    kwargs = {"Name": name, "CallerReference": f"{name}-{time.time()}"}
    if private:
        kwargs["VPC"] = {"VPCRegion": "us-west-2", "VPCId": "vpc-12345678"}
        kwargs["HostedZoneConfig"] = {"PrivateZone": True, "Comment": "private"}
    return client("route53").create_hosted_zone(**kwargs)["HostedZone"]["Id"].split("/")[-1]


def certs(client, region="us-west-2"):
    acm = client("acm", region=region)
    summaries = acm.list_certificates(Includes={"keyTypes": ALL_KEY_TYPES})["CertificateSummaryList"]
    return [acm.describe_certificate(CertificateArn=s["CertificateArn"])["Certificate"] for s in summaries]


def cert_tags(client, arn, region="us-west-2"):
    tags = client("acm", region=region).list_tags_for_certificate(CertificateArn=arn)["Tags"]
    return {t["Key"]: t.get("Value", "") for t in tags}


def cnames(client, zone_id):
    sets = client("route53").list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return {s["Name"]: s for s in sets if s["Type"] == "CNAME"}


def params(zone_id=None, **extra):
    args = {"region": "us-west-2", "domain_name": DOMAIN, "tags": dict(TAGS)}
    if zone_id:
        args["validation_zone_id"] = zone_id
    args.update(extra)
    return args


def ops(calls, *names):
    return [op for _service, op in calls if op in names]


def warning_texts(result):
    """Warning messages, whether ansible-core returns them as strings or (2.19+) as warning summaries."""
    return [w if isinstance(w, str) else w["event"]["msg"] for w in result.get("warnings", [])]


def request_with_boto3(client, domain=DOMAIN, sans=None, tags=None, region="us-west-2"):
    kwargs = {"DomainName": domain, "ValidationMethod": "DNS"}
    if sans:
        kwargs["SubjectAlternativeNames"] = sans
    if tags:
        kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    return client("acm", region=region).request_certificate(**kwargs)["CertificateArn"]


# --------------------------------------------------------------------------- the STYLE cycle


def test_full_cycle(run, client, zone, calls):
    # create in check mode: only reads
    calls.clear()
    result = run("acm_certificate", params(zone), check_mode=True, diff=True)
    assert result.changed and not result.failed, result
    assert result["certificate"] == {}
    assert result["diff"]["after"]["domain_name"] == DOMAIN
    assert not ops(calls, "RequestCertificate", "ChangeResourceRecordSets", "AddTagsToCertificate")
    assert certs(client) == [] and cnames(client, zone) == {}

    # create: waits until ISSUED with the record in the zone
    result = run("acm_certificate", params(zone))
    assert result.changed and not result.failed, result
    cert = result["certificate"]
    assert cert["status"] == "ISSUED"
    assert cert["domain_name"] == DOMAIN and cert["subject_alternative_names"] == [DOMAIN]
    assert cert["region"] == "us-west-2" and cert["tags"] == TAGS and cert["in_use_by"] == []
    assert cert["arn"].startswith("arn:aws:acm:us-west-2:")
    (record,) = cert["validation_records"]
    zone_records = cnames(client, zone)
    assert set(zone_records) == {record["name"]}
    assert zone_records[record["name"]]["TTL"] == 300
    assert zone_records[record["name"]]["ResourceRecords"] == [{"Value": record["value"]}]
    assert [c["CertificateArn"] for c in certs(client)] == [cert["arn"]]

    # again, in check mode and for real: nothing changes, nothing is requested or written
    for check_mode in (True, False):
        calls.clear()
        again = run("acm_certificate", params(zone), check_mode=check_mode)
        assert not again.changed and not again.failed, again
        assert again["certificate"]["arn"] == cert["arn"] and again["certificate"]["status"] == "ISSUED"
        assert not ops(calls, "RequestCertificate", "ChangeResourceRecordSets", "AddTagsToCertificate")
    assert len(certs(client)) == 1

    # tags change in place: check mode, real, again
    identity = list(TAGS)
    new_tags = dict(TAGS, owner="platform-team")
    result = run("acm_certificate", params(zone, tags=new_tags, match_tags=identity), check_mode=True, diff=True)
    assert result.changed and result["diff"]["after"]["tags"] == new_tags, result
    assert cert_tags(client, cert["arn"]) == TAGS
    result = run("acm_certificate", params(zone, tags=new_tags, match_tags=identity))
    assert result.changed and result["certificate"]["arn"] == cert["arn"], result
    assert result["certificate"]["tags"] == new_tags and cert_tags(client, cert["arn"]) == new_tags
    result = run("acm_certificate", params(zone, tags=new_tags, match_tags=identity))
    assert not result.changed, result
    # the owner tag changes value in place too, and purge_tags removes it again
    result = run("acm_certificate", params(zone, tags=dict(TAGS, owner="other"), match_tags=identity))
    assert result.changed and cert_tags(client, cert["arn"]) == dict(TAGS, owner="other"), result
    result = run("acm_certificate", params(zone))
    assert result.changed and cert_tags(client, cert["arn"]) == TAGS, result
    result = run("acm_certificate", params(zone, tags={"kubeflow_ops:environment": "test"}, purge_tags=False))
    assert not result.changed, result
    assert len(certs(client)) == 1

    # delete in check mode: nothing goes
    calls.clear()
    result = run("acm_certificate", params(zone, state="absent"), check_mode=True, diff=True)
    assert result.changed and result["removed_validation_records"] == [record], result
    assert result["diff"]["before"]["arn"] == cert["arn"]
    assert not ops(calls, "DeleteCertificate", "ChangeResourceRecordSets")
    assert len(certs(client)) == 1 and set(cnames(client, zone)) == {record["name"]}

    # delete, then delete again
    result = run("acm_certificate", params(zone, state="absent"))
    assert result.changed and result["certificate"] == {}, result
    assert result["removed_validation_records"] == [record]
    assert certs(client) == [] and cnames(client, zone) == {}
    calls.clear()
    result = run("acm_certificate", params(zone, state="absent"))
    assert not result.changed and not result.failed, result
    assert not ops(calls, "DeleteCertificate", "ChangeResourceRecordSets")


def test_names_and_tags_identify_one_certificate_across_repeated_runs(run, client, zone, calls):
    sans = ["platform.example.com", "*.default.platform.example.com"]
    first = run("acm_certificate", params(zone, subject_alternative_names=sans, wait=False))
    assert first.changed and first["certificate"]["status"] == "PENDING_VALIDATION", first
    assert len(first["certificate"]["validation_records"]) == 2  # the wildcard and its apex share a record
    for _attempt in range(2):
        calls.clear()
        again = run("acm_certificate", params(zone, subject_alternative_names=sans, wait=False))
        assert not again.changed and again["certificate"]["arn"] == first["certificate"]["arn"], again
        assert not ops(calls, "RequestCertificate", "ChangeResourceRecordSets")
    # SAN order (and listing the domain name itself) does not matter; waiting is not a change
    reordered = ["*.default.platform.example.com", DOMAIN, "Platform.Example.com."]
    result = run("acm_certificate", params(zone, subject_alternative_names=reordered))
    assert not result.changed and result["certificate"]["arn"] == first["certificate"]["arn"], result
    assert result["certificate"]["status"] == "ISSUED"
    assert len(certs(client)) == 1
    assert set(cnames(client, zone)) == {r["name"] for r in first["certificate"]["validation_records"]}


def test_idempotency_token_covers_a_listing_that_misses_the_certificate(run, client, zone, monkeypatch, calls):
    first = run("acm_certificate", params(zone, wait=False))
    assert first.changed
    # As if ListCertificates had not caught up yet (or the first request's answer had been lost):
    # the module requests again, with the same token, and gets the same certificate back.
    monkeypatch.setattr(acm_certificate, "list_certificates", lambda client, statuses: [])
    calls.clear()
    second = run("acm_certificate", params(zone, wait=False))
    assert ops(calls, "RequestCertificate") == ["RequestCertificate"]
    assert second["certificate"]["arn"] == first["certificate"]["arn"], second
    assert len(certs(client)) == 1
    # other tags make another token, and (here, with the listing still blind) another certificate
    third = run("acm_certificate", params(zone, wait=False, tags={"kubeflow_ops:environment": "other"}))
    assert third["certificate"]["arn"] != first["certificate"]["arn"]


def test_same_names_in_two_regions_are_independent(run, client, zone):
    east = run("acm_certificate", params(zone, region="us-east-1", wait=False))
    west = run("acm_certificate", params(zone, region="us-west-2", wait=False))
    assert east.changed and west.changed
    assert east["certificate"]["arn"].startswith("arn:aws:acm:us-east-1:")
    assert west["certificate"]["arn"].startswith("arn:aws:acm:us-west-2:")
    assert east["certificate"]["region"] == "us-east-1"
    assert len(certs(client, "us-east-1")) == 1 and len(certs(client, "us-west-2")) == 1
    # both certificates list the same validation record (ACM derives it from account and name): one record
    assert east["certificate"]["validation_records"] == west["certificate"]["validation_records"]
    assert len(cnames(client, zone)) == 1
    for region in ("us-east-1", "us-west-2"):
        again = run("acm_certificate", params(zone, region=region))
        assert not again.changed and again["certificate"]["status"] == "ISSUED", again

    # deleting the regional one keeps the record the us-east-1 certificate still needs
    gone = run("acm_certificate", params(zone, state="absent", shared_record_regions=["us-east-1"]))
    assert gone.changed and gone["removed_validation_records"] == [], gone
    assert certs(client, "us-west-2") == [] and len(certs(client, "us-east-1")) == 1
    assert len(cnames(client, zone)) == 1
    gone = run("acm_certificate", params(zone, region="us-east-1", state="absent"))
    assert gone.changed and len(gone["removed_validation_records"]) == 1, gone
    assert certs(client, "us-east-1") == [] and cnames(client, zone) == {}


def test_other_records_in_the_zone_are_left_alone(run, client, zone):
    r53 = client("route53")
    foreign = {"Name": "_other.platform.example.com.", "Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": "x."}]}
    apex_a = {"Name": "platform.example.com.", "Type": "A", "TTL": 300, "ResourceRecords": [{"Value": "127.0.0.1"}]}
    r53.change_resource_record_sets(
        HostedZoneId=zone,
        ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": rr} for rr in (foreign, apex_a)]},
    )
    run("acm_certificate", params(zone, wait=False))
    run("acm_certificate", params(zone, state="absent"))
    left = r53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    assert {(r["Name"], r["Type"]) for r in left if r["Type"] in ("A", "CNAME")} == {
        ("_other.platform.example.com.", "CNAME"),
        ("platform.example.com.", "A"),
    }


def test_records_are_written_only_when_they_differ(run, client, zone, calls):
    first = run("acm_certificate", params(zone, wait=False))
    (record,) = first["certificate"]["validation_records"]
    r53 = client("route53")

    def put(value, ttl):
        rrset = {"Name": record["name"], "Type": "CNAME", "TTL": ttl, "ResourceRecords": [{"Value": value}]}
        r53.change_resource_record_sets(
            HostedZoneId=zone, ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": rrset}]}
        )

    # the right value with another TTL validates just as well: left alone
    put(record["value"], 60)
    calls.clear()
    assert not run("acm_certificate", params(zone, wait=False)).changed
    assert not ops(calls, "ChangeResourceRecordSets")
    # a wrong value is a change: check mode leaves it, a real run fixes it
    put("_stale.acm-validations.aws.", 300)
    assert run("acm_certificate", params(zone, wait=False), check_mode=True).changed
    assert cnames(client, zone)[record["name"]]["ResourceRecords"] == [{"Value": "_stale.acm-validations.aws."}]
    assert run("acm_certificate", params(zone, wait=False)).changed
    assert cnames(client, zone)[record["name"]]["ResourceRecords"] == [{"Value": record["value"]}]
    assert len(certs(client)) == 1


def test_without_a_zone_the_records_are_returned_and_nothing_waits(run, client, aws, calls):
    calls.clear()
    result = run(
        "acm_certificate", params(None, domain_name="example.com", subject_alternative_names=["*.example.com"])
    )
    assert result.changed and not result.failed, result
    # Still pending: the module returned without waiting for ISSUED (which takes 2 s in the sandbox).
    assert result["certificate"]["status"] == "PENDING_VALIDATION"
    (record,) = result["certificate"]["validation_records"]
    assert record["type"] == "CNAME" and record["name"].endswith(".example.com.")
    assert not [c for c in calls if c[0] == "route53"]
    again = run("acm_certificate", params(None, domain_name="example.com", subject_alternative_names=["*.example.com"]))
    assert not again.changed and again["certificate"]["arn"] == result["certificate"]["arn"]


def test_a_new_set_of_names_is_a_new_certificate_and_the_old_one_is_named(run, client, zone):
    old = run("acm_certificate", params(zone, wait=False))
    new = run("acm_certificate", params(zone, subject_alternative_names=["*.default.platform.example.com"], wait=False))
    assert new.changed and new["certificate"]["arn"] != old["certificate"]["arn"]
    (warning,) = [w for w in warning_texts(new) if "Other certificates" in w]
    assert old["certificate"]["arn"] in warning and "delete them once nothing uses them" in warning
    assert len(certs(client)) == 2
    # the old one is left as it was; each is still found by its own names
    assert not run("acm_certificate", params(zone, wait=False)).changed


def test_other_tags_tell_environments_apart(run, client, zone):
    dev = run("acm_certificate", params(zone, tags={"kubeflow_ops:environment": "dev"}, wait=False))
    prod = run("acm_certificate", params(zone, tags={"kubeflow_ops:environment": "prod"}, wait=False))
    assert dev.changed and prod.changed and dev["certificate"]["arn"] != prod["certificate"]["arn"]
    gone = run("acm_certificate", params(zone, tags={"kubeflow_ops:environment": "dev"}, state="absent"))
    assert gone.changed
    # prod still lists the shared record: it stays
    assert gone["removed_validation_records"] == [] and len(cnames(client, zone)) == 1
    assert [c["CertificateArn"] for c in certs(client)] == [prod["certificate"]["arn"]]


# --------------------------------------------------------------------------- ambiguity and immutables


def test_two_matching_certificates_fail_and_change_nothing(run, client, zone, calls):
    arns = {request_with_boto3(client, tags=TAGS) for _attempt in range(2)}
    calls.clear()
    result = run("acm_certificate", params(zone))
    assert result.failed and "2 certificates in us-west-2 match" in result["msg"], result
    assert all(arn in result["msg"] for arn in arns) and "certificate_arn" in result["msg"]
    assert not ops(calls, "RequestCertificate", "ChangeResourceRecordSets", "AddTagsToCertificate")
    assert cnames(client, zone) == {} and len(certs(client)) == 2
    result = run("acm_certificate", params(zone, state="absent"))
    assert result.failed and "2 certificates" in result["msg"]
    assert len(certs(client)) == 2

    # certificate_arn picks one
    keep, drop = sorted(arns)
    result = run("acm_certificate", params(zone, state="absent", certificate_arn=drop))
    assert result.changed, result
    assert [c["CertificateArn"] for c in certs(client)] == [keep]
    result = run("acm_certificate", params(zone, state="absent", certificate_arn=drop))
    assert not result.changed
    result = run("acm_certificate", params(zone, wait=False))
    assert result["certificate"]["arn"] == keep and result.changed  # the record was written


def self_signed(name):
    """A PEM certificate and key for `name` (for an imported certificate)."""
    import datetime  # pylint: disable=import-outside-toplevel

    from cryptography import x509  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives import hashes, serialization  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives.asymmetric import rsa  # pylint: disable=import-outside-toplevel
    from cryptography.x509.oid import NameOID  # pylint: disable=import-outside-toplevel

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem_key = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), pem_key


def test_untagged_and_imported_certificates_are_not_matched(run, client, zone):
    untagged = request_with_boto3(client)
    body, key = self_signed(DOMAIN)
    imported = client("acm").import_certificate(
        Certificate=body, PrivateKey=key, Tags=[{"Key": k, "Value": v} for k, v in TAGS.items()]
    )["CertificateArn"]
    result = run("acm_certificate", params(zone, wait=False))
    assert result.changed and result["certificate"]["arn"] not in (untagged, imported)
    assert len(certs(client)) == 3
    assert not run("acm_certificate", params(zone, wait=False)).changed


def test_key_algorithm_cannot_change(run, client, zone, calls):
    result = run("acm_certificate", params(zone, wait=False, key_algorithm="RSA_2048"))
    assert result.changed and result["certificate"]["key_algorithm"] == "RSA_2048"
    calls.clear()
    result = run("acm_certificate", params(zone, key_algorithm="EC_prime256v1"))
    assert result.failed and "has key algorithm RSA_2048, not EC_prime256v1; ACM cannot change it" in result["msg"]
    assert not ops(calls, "RequestCertificate", "ChangeResourceRecordSets", "AddTagsToCertificate")
    assert len(certs(client)) == 1


def test_certificate_arn_must_name_these_names(run, client, zone):
    other = request_with_boto3(client, domain="api.platform.example.com", tags=TAGS)
    result = run("acm_certificate", params(zone, certificate_arn=other))
    assert result.failed and "is a certificate for api.platform.example.com" in result["msg"], result
    result = run("acm_certificate", params(zone, certificate_arn=other, state="absent"))
    assert result.failed and len(certs(client)) == 1
    missing = other[:-4] + "0000"
    result = run("acm_certificate", params(zone, certificate_arn=missing))
    assert result.failed and f"certificate_arn {missing} not found in us-west-2" in result["msg"]


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "override, message",
    [
        ({"domain_name": "a.*.platform.example.com"}, "misplaced wildcard"),
        ({"domain_name": "**.platform.example.com"}, "misplaced wildcard"),
        ({"subject_alternative_names": ["x*.platform.example.com"]}, "misplaced wildcard"),
        ({"domain_name": "*.com"}, "wildcard directly below a top-level domain"),
        ({"domain_name": "localhost"}, "not a fully qualified domain name"),
        ({"domain_name": "a" * 64 + ".platform.example.com"}, "label longer than 63 characters"),
        ({"domain_name": ".".join(["abcdefghij"] * 23) + ".platform.example.com"}, "longer than 253 characters"),
        ({"domain_name": "bad_name.platform.example.com"}, "invalid label 'bad_name'"),
        ({"subject_alternative_names": ["-x.platform.example.com"]}, "invalid label '-x'"),
        ({"domain_name": "a..platform.example.com"}, "empty label"),
        ({"match_tags": ["owner"]}, "match_tags names keys that are not in tags: owner"),
        ({"wait_timeout": -1}, "wait_timeout must not be negative"),
    ],
)
def test_bad_input_fails_before_any_call(run, client, zone, calls, override, message):
    calls.clear()
    result = run("acm_certificate", params(zone, **override))
    assert result.failed and message in result["msg"], result
    assert result["msg"].startswith("Invalid arguments: ")
    assert not [c for c in calls if c[0] in ("acm", "route53")]
    assert certs(client) == [] and cnames(client, zone) == {}


def test_every_bad_name_is_reported_at_once(run, aws):
    result = run("acm_certificate", params(None, domain_name="a.*.b.example.com", subject_alternative_names=["x..y.z"]))
    assert result.failed and "domain_name 'a.*.b.example.com'" in result["msg"]
    assert "subject_alternative_names entry 'x..y.z'" in result["msg"]


def test_names_outside_the_zone_fail_before_any_request(run, client, zone, calls):
    calls.clear()
    result = run("acm_certificate", params(zone, subject_alternative_names=["*.example.org", "api.example.com"]))
    assert result.failed, result
    assert result["msg"] == (
        f"Not inside the validation zone platform.example.com ({zone}): *.example.org, api.example.com. "
        "Their validation records can only be written into a zone that contains them"
    )
    assert ops(calls, "GetHostedZone") and not [c for c in calls if c[0] == "acm"]
    assert certs(client) == []


def test_a_zone_that_is_missing_or_private_fails(run, client, aws):
    result = run("acm_certificate", params("ZNOSUCHZONE"))
    assert result.failed and result["msg"] == "validation_zone_id ZNOSUCHZONE: no such Route53 hosted zone"
    private = make_zone(client, ZONE, private=True)
    result = run("acm_certificate", params(f"/hostedzone/{private}"))
    assert result.failed and "is a private hosted zone; ACM validates through public DNS" in result["msg"], result
    assert certs(client) == []


# --------------------------------------------------------------------------- waits


def test_wait_timeout_names_the_certificate_and_what_it_waited_for(run, client, zone):
    result = run("acm_certificate", params(zone, wait_timeout=1))
    assert result.failed, result
    (cert,) = certs(client)
    assert result["msg"].startswith("Timed out after 1s (wait_timeout) waiting for ACM to validate it")
    assert cert["CertificateArn"] in result["msg"] and "reach status ISSUED" in result["msg"]
    assert "validation records in zone platform.example.com" in result["msg"]
    assert "last seen: PENDING_VALIDATION" in result["msg"]
    assert result["certificate"]["arn"] == cert["CertificateArn"]
    # the next run picks the same certificate up and finishes the wait
    again = run("acm_certificate", params(zone))
    assert not again.changed and again["certificate"]["status"] == "ISSUED", again
    assert len(certs(client)) == 1


def test_polling_starts_short_and_grows(run, zone, monkeypatch):
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        time.sleep(seconds)

    monkeypatch.setattr(acm_certificate, "_sleep", sleep)
    result = run("acm_certificate", params(zone))
    assert result["certificate"]["status"] == "ISSUED"
    # ISSUED after 2 s: polled after ~1 s, then ~1.5 s - never a fixed 30 s sleep
    assert slept and slept[0] <= 1.0
    assert slept == sorted(slept) and len(set(slept)) == len(slept)
    assert max(slept) < 5
    for intervals in (acm_certificate.POLL_ISSUED, acm_certificate.POLL_CHANGE, acm_certificate.POLL_IN_USE):
        assert intervals["initial"] <= 1.0 and intervals["factor"] > 1 and intervals["maximum"] <= 30


def test_wait_false_writes_records_and_returns_pending(run, client, zone, calls):
    calls.clear()
    result = run("acm_certificate", params(zone, wait=False))
    assert result.changed and result["certificate"]["status"] == "PENDING_VALIDATION"
    assert ops(calls, "ChangeResourceRecordSets") == ["ChangeResourceRecordSets"] and not ops(calls, "GetChange")
    assert len(cnames(client, zone)) == 1


# --------------------------------------------------------------------------- deletion of a certificate in use


def fail_delete(monkeypatch, times):
    """Make DeleteCertificate answer ResourceInUseException `times` times (moto never does; real ACM does)."""
    original = botocore.client.BaseClient._make_api_call
    attempts = []

    def patched(self, operation_name, api_params):
        if operation_name == "DeleteCertificate" and len(attempts) < times:
            attempts.append(api_params["CertificateArn"])
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": "ResourceInUseException", "Message": "Certificate is in use"}}, operation_name
            )
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", patched)
    return attempts


def test_delete_retries_while_in_use(run, client, zone, monkeypatch):
    run("acm_certificate", params(zone, wait=False))
    slept = []
    monkeypatch.setattr(acm_certificate, "_sleep", slept.append)
    attempts = fail_delete(monkeypatch, times=3)
    result = run("acm_certificate", params(zone, state="absent"))
    assert result.changed and not result.failed, result
    assert len(attempts) == 3 and slept == [1.0, 1.5, 2.25]
    assert certs(client) == [] and cnames(client, zone) == {}


def test_delete_in_use_times_out_naming_the_users(run, client, zone, monkeypatch):
    created = run("acm_certificate", params(zone, wait=False))
    arn = created["certificate"]["arn"]
    client("elb").create_load_balancer(
        LoadBalancerName="kubeflow",
        Listeners=[{"Protocol": "HTTPS", "LoadBalancerPort": 443, "InstancePort": 80, "SSLCertificateId": arn}],
        AvailabilityZones=["us-west-2a"],
    )
    in_use = run("acm_certificate", params(zone, wait=False))
    assert len(in_use["certificate"]["in_use_by"]) == 1
    user = in_use["certificate"]["in_use_by"][0]
    fail_delete(monkeypatch, times=1000)
    result = run("acm_certificate", params(zone, state="absent", wait_timeout=2))
    assert result.failed, result
    assert f"Certificate {arn} (*.platform.example.com) in us-west-2 is still in use after 2s" in result["msg"]
    assert f"in use by: {user}" in result["msg"]
    # nothing was removed: the certificate and its record are still there
    assert len(certs(client)) == 1 and len(cnames(client, zone)) == 1
    # without wait, the first refusal fails at once
    started = time.monotonic()
    result = run("acm_certificate", params(zone, state="absent", wait=False))
    assert result.failed and "still in use after 0s" in result["msg"] and time.monotonic() - started < 2


def test_absent_keeps_records_when_asked(run, client, zone):
    run("acm_certificate", params(zone, wait=False))
    result = run("acm_certificate", params(zone, state="absent", remove_validation_records=False))
    assert result.changed and result["removed_validation_records"] == []
    assert certs(client) == [] and len(cnames(client, zone)) == 1


# --------------------------------------------------------------------------- pure helpers


def test_idempotency_token_is_stable_and_order_insensitive():
    token = acm_certificate.idempotency_token
    first = token("a.example.com", ["b.example.com", "a.example.com"], None, {"x": "1", "y": "2"})
    assert first == token("a.example.com", ["a.example.com", "b.example.com"], None, {"y": "2", "x": "1"})
    assert len(first) == 32 and first.isalnum()
    assert first != token("a.example.com", ["a.example.com"], None, {"x": "1", "y": "2"})
    assert first != token("a.example.com", ["b.example.com", "a.example.com"], None, {"x": "1"})
    assert first != token("a.example.com", ["b.example.com", "a.example.com"], "EC_prime256v1", {"x": "1", "y": "2"})


@pytest.mark.parametrize(
    "name, zone_name, inside",
    [
        ("*.platform.example.com", "platform.example.com", True),
        ("platform.example.com", "platform.example.com", True),
        ("*.default.platform.example.com", "platform.example.com", True),
        ("xplatform.example.com", "platform.example.com", False),
        ("example.com", "platform.example.com", False),
    ],
)
def test_in_zone(name, zone_name, inside):
    assert acm_certificate.in_zone(name, zone_name) is inside
