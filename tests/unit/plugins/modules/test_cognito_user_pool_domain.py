"""cognito_user_pool_domain against the moto sandbox: prefix and custom domains, waiting, bad input."""

from __future__ import annotations

import functools

import pytest
from botocore.client import BaseClient

from ansible_collections.kubeflow_ops.aws.plugins.module_utils import _common
from ansible_collections.kubeflow_ops.aws.plugins.modules import cognito_user_pool_domain as domain_module
from tests.unit.plugins.modules.cognito_helpers import api_calls  # noqa: F401  pylint: disable=unused-import
from tests.unit.plugins.modules.cognito_helpers import REGION, make_pool, warnings_of

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
CERT2 = "arn:aws:acm:us-east-1:123456789012:certificate/66666666-7777-8888-9999-000000000000"
CUSTOM = "auth.platform.example.com"


@pytest.fixture
def aws_domain_shape(monkeypatch):
    """Give DescribeUserPoolDomain the CustomDomainConfig that real AWS returns.

    moto 5.2.5 keeps the certificate of a custom domain but leaves CustomDomainConfig out of
    DescribeUserPoolDomain; AWS returns {"CustomDomainConfig": {"CertificateArn": ...}}. This records the
    certificate that moto accepted and adds it to the description, so certificate changes can be tested.
    """
    certificates = {}
    original = BaseClient._make_api_call

    def call(self, operation_name, api_params):
        result = original(self, operation_name, api_params)
        if operation_name in ("CreateUserPoolDomain", "UpdateUserPoolDomain") and "CustomDomainConfig" in api_params:
            certificates[api_params["Domain"]] = api_params["CustomDomainConfig"]["CertificateArn"]
        elif operation_name == "DeleteUserPoolDomain":
            certificates.pop(api_params["Domain"], None)
        elif operation_name == "DescribeUserPoolDomain":
            description = result.get("DomainDescription") or {}
            if description.get("Domain") in certificates:
                description.setdefault("CustomDomainConfig", {"CertificateArn": certificates[description["Domain"]]})
        return result

    monkeypatch.setattr(BaseClient, "_make_api_call", call)
    return certificates


def describe(client, domain):
    return client("cognito-idp", region=REGION).describe_user_pool_domain(Domain=domain)["DomainDescription"]


def run_domain(run, check_mode=False, **params):
    params.setdefault("region", REGION)
    return run("cognito_user_pool_domain", params, check_mode=check_mode, diff=True)


def fast_polling(monkeypatch, clock_step=0.0):
    """Run poll_until with a fake clock and sleep; returns the list of sleeps."""
    sleeps = []
    now = [0.0]

    def sleep(seconds):
        sleeps.append(seconds)
        now[0] += seconds

    def clock():
        now[0] += clock_step
        return now[0]

    monkeypatch.setattr(domain_module, "poll_until", functools.partial(_common.poll_until, sleep=sleep, clock=clock))
    return sleeps


# --- the STYLE.md cycle ---------------------------------------------------------------------------------------


def test_prefix_domain_cycle(aws, run, client):
    pool_id = make_pool(client)

    result = run_domain(run, check_mode=True, user_pool_id=pool_id, domain="kf-dev")
    assert result.changed and not result.failed, result
    assert describe(client, "kf-dev") == {}
    assert result["user_pool_domain"]["cloud_front_distribution"] == "kf-dev.auth.us-west-2.amazoncognito.com"
    assert "status" not in result["user_pool_domain"]
    assert result["diff"]["after"]["domain"] == "kf-dev" and result["diff"]["before"] == {}

    result = run_domain(run, user_pool_id=pool_id, domain="kf-dev")
    assert result.changed and not result.failed, result
    assert result["user_pool_domain"] == {
        "domain": "kf-dev",
        "user_pool_id": pool_id,
        "custom_domain": False,
        "cloud_front_distribution": "kf-dev.auth.us-west-2.amazoncognito.com",
        "certificate_arn": None,
        "status": "ACTIVE",
    }
    assert describe(client, "kf-dev")["UserPoolId"] == pool_id

    for check_mode in (True, False):
        again = run_domain(run, check_mode=check_mode, user_pool_id=pool_id, domain="kf-dev")
        assert not again.changed and not again.failed, again
        assert again["user_pool_domain"] == result["user_pool_domain"]

    result = run_domain(run, check_mode=True, user_pool_id=pool_id, domain="kf-dev", state="absent")
    assert result.changed and result["diff"]["before"]["domain"] == "kf-dev"
    assert describe(client, "kf-dev")["UserPoolId"] == pool_id

    result = run_domain(run, user_pool_id=pool_id, domain="kf-dev", state="absent")
    assert result.changed and not result.failed and result["user_pool_domain"] == {}
    assert describe(client, "kf-dev") == {}
    assert client("cognito-idp", region=REGION).describe_user_pool(UserPoolId=pool_id)["UserPool"].get("Domain") is None

    for check_mode in (True, False):
        result = run_domain(run, check_mode=check_mode, user_pool_id=pool_id, domain="kf-dev", state="absent")
        assert not result.changed and not result.failed, result


def test_custom_domain_cycle_with_certificate_change(aws, run, client, aws_domain_shape):
    pool_id = make_pool(client)
    args = dict(user_pool_name="kubeflow", domain=CUSTOM, certificate_arn=CERT)

    result = run_domain(run, check_mode=True, **args)
    assert result.changed and describe(client, CUSTOM) == {}
    assert result["user_pool_domain"] == {
        "domain": CUSTOM,
        "user_pool_id": pool_id,
        "custom_domain": True,
        "certificate_arn": CERT,
    }

    result = run_domain(run, **args)
    assert result.changed and not result.failed, result
    created = result["user_pool_domain"]
    assert created["status"] == "ACTIVE" and created["custom_domain"] is True and created["certificate_arn"] == CERT
    assert created["cloud_front_distribution"].endswith(".cloudfront.net")
    assert created["cloud_front_distribution"] == describe(client, CUSTOM)["CloudFrontDistribution"]

    for check_mode in (True, False):
        again = run_domain(run, check_mode=check_mode, **args)
        assert not again.changed and not again.failed, again
        assert warnings_of(again) == []

    # Without certificate_arn an existing custom domain is only read.
    again = run_domain(run, user_pool_name="kubeflow", domain=CUSTOM)
    assert not again.changed and again["user_pool_domain"]["certificate_arn"] == CERT

    args["certificate_arn"] = CERT2
    result = run_domain(run, check_mode=True, **args)
    assert result.changed
    assert result["diff"] == {"before": {"certificate_arn": CERT}, "after": {"certificate_arn": CERT2}}
    assert describe(client, CUSTOM)["CloudFrontDistribution"] == created["cloud_front_distribution"]

    result = run_domain(run, **args)
    assert result.changed and not result.failed, result
    assert result["user_pool_domain"]["certificate_arn"] == CERT2
    # moto derives the distribution name from the certificate, so this shows moto got the new one.
    assert describe(client, CUSTOM)["CloudFrontDistribution"] != created["cloud_front_distribution"]
    assert result["user_pool_domain"]["cloud_front_distribution"] == describe(client, CUSTOM)["CloudFrontDistribution"]

    again = run_domain(run, **args)
    assert not again.changed and not again.failed, again

    result = run_domain(run, check_mode=True, user_pool_name="kubeflow", domain=CUSTOM, state="absent")
    assert result.changed and describe(client, CUSTOM)["Domain"] == CUSTOM
    result = run_domain(run, user_pool_name="kubeflow", domain=CUSTOM, state="absent")
    assert result.changed and describe(client, CUSTOM) == {}
    result = run_domain(run, user_pool_name="kubeflow", domain=CUSTOM, state="absent")
    assert not result.changed and not result.failed


def test_unknown_certificate_is_left_alone_with_a_warning(aws, run, client):
    # Plain moto: DescribeUserPoolDomain has no CustomDomainConfig (real AWS has). The module must not
    # report a change on every run because of that.
    make_pool(client)
    args = dict(user_pool_name="kubeflow", domain=CUSTOM, certificate_arn=CERT)
    assert run_domain(run, **args).changed
    again = run_domain(run, **args)
    assert not again.changed and not again.failed, again
    assert any("did not report the certificate" in w for w in warnings_of(again))


def test_prefix_and_custom_domain_coexist(aws, run, client, aws_domain_shape):
    pool_id = make_pool(client)
    assert run_domain(run, user_pool_id=pool_id, domain="kf-dev").changed
    result = run_domain(run, user_pool_id=pool_id, domain=CUSTOM, certificate_arn=CERT)
    assert result.changed and not result.failed, result
    assert describe(client, "kf-dev")["UserPoolId"] == pool_id
    assert describe(client, CUSTOM)["UserPoolId"] == pool_id


def test_domain_name_is_normalized(aws, run, client, aws_domain_shape):
    make_pool(client)
    result = run_domain(run, user_pool_name="kubeflow", domain="Auth.Platform.Example.com.", certificate_arn=CERT)
    assert result.changed and result["user_pool_domain"]["domain"] == CUSTOM
    assert describe(client, CUSTOM)["Domain"] == CUSTOM


# --- refusals: nothing is touched ----------------------------------------------------------------------------


def test_second_domain_of_the_same_kind_is_not_a_rename(aws, run, client, api_calls):
    pool_id = make_pool(client)
    assert run_domain(run, user_pool_id=pool_id, domain="kf-dev").changed
    api_calls.clear()
    result = run_domain(run, user_pool_id=pool_id, domain="kf-prod")
    assert result.failed
    assert f"User pool {pool_id} already has the prefix domain kf-dev" in result["msg"]
    assert "cannot be renamed in place" in result["msg"]
    assert api_calls.writes() == []
    assert describe(client, "kf-prod") == {}


def test_domain_of_another_pool(aws, run, client, api_calls):
    theirs = make_pool(client, name="theirs")
    ours = make_pool(client, name="ours")
    assert run_domain(run, user_pool_id=theirs, domain="shared-name").changed
    api_calls.clear()

    result = run_domain(run, user_pool_id=ours, domain="shared-name")
    assert result.failed
    assert f"already belongs to user pool {theirs}, not to {ours}" in result["msg"]

    result = run_domain(run, user_pool_id=ours, domain="shared-name", state="absent")
    assert not result.changed and not result.failed
    assert any(f"belongs to user pool {theirs}" in w for w in warnings_of(result))
    assert api_calls.writes() == []
    assert describe(client, "shared-name")["UserPoolId"] == theirs


def test_absent_when_the_pool_is_gone(aws, run, client):
    result = run_domain(run, user_pool_name="never-made", domain="kf-dev", state="absent")
    assert not result.changed and not result.failed, result


def test_ambiguous_pool_name_lists_the_ids(aws, run, client, api_calls):
    ids = sorted([make_pool(client, name="twin"), make_pool(client, name="twin")])
    api_calls.clear()
    result = run_domain(run, user_pool_name="twin", domain="kf-dev")
    assert result.failed
    assert f"2 Cognito user pools are named 'twin' in {REGION} ({ids[0]}, {ids[1]})" in result["msg"]
    assert result["user_pool_ids"] == ids
    assert api_calls.writes() == []


BAD_INPUT = {
    "certificate in eu-west-1": (
        dict(domain=CUSTOM, certificate_arn=CERT.replace("us-east-1", "eu-west-1")),
        "Cognito custom domains need an ACM certificate in us-east-1 (CloudFront serves them), "
        "but certificate_arn is in eu-west-1",
    ),
    "certificate in the pool's region": (
        dict(domain=CUSTOM, certificate_arn=CERT.replace("us-east-1", REGION)),
        f"certificate_arn is in {REGION}",
    ),
    "malformed certificate arn": (
        dict(domain=CUSTOM, certificate_arn="arn:aws:acm:us-east-1:123:cert/abc"),
        "is not an ACM certificate ARN (expected arn:aws:acm:us-east-1:<account id>:certificate/<id>)",
    ),
    "not an arn at all": (dict(domain=CUSTOM, certificate_arn="my-certificate"), "is not an ACM certificate ARN"),
    "iam server certificate": (
        dict(domain=CUSTOM, certificate_arn="arn:aws:iam::123456789012:server-certificate/x"),
        "is not an ACM certificate ARN",
    ),
    "certificate with a prefix domain": (
        dict(domain="kf-dev", certificate_arn=CERT),
        "certificate_arn only applies to custom domains; 'kf-dev' is a prefix domain",
    ),
    "reserved word in prefix": (dict(domain="kf-cognito"), "must not contain cognito (reserved by AWS)"),
    "underscore in prefix": (dict(domain="kf_dev"), "'kf_dev' is not a valid prefix"),
    "bad custom domain label": (
        dict(domain="auth.-bad.example.com", certificate_arn=CERT),
        "'auth.-bad.example.com' is not a valid DNS name",
    ),
    "custom domain without certificate": (
        dict(domain=CUSTOM),
        f"certificate_arn is required to create the custom domain {CUSTOM}",
    ),
    "negative wait_timeout": (dict(domain="kf-dev", wait_timeout=-1), "wait_timeout must not be negative"),
}


@pytest.mark.parametrize("params,message", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_fails_before_any_write(aws, run, client, api_calls, params, message):
    pool_id = make_pool(client)
    api_calls.clear()
    result = run_domain(run, user_pool_id=pool_id, **params)
    assert result.failed and message in result["msg"], result
    assert api_calls.writes() == []
    assert describe(client, params["domain"].lower().rstrip(".")) == {}


@pytest.mark.parametrize(
    "params",
    [dict(domain=CUSTOM, certificate_arn=CERT.replace("us-east-1", "eu-west-1")), dict(domain="kf-aws")],
    ids=["wrong-region certificate", "reserved prefix"],
)
def test_input_errors_make_no_call_at_all(aws, run, client, api_calls, params):
    pool_id = make_pool(client)
    api_calls.clear()
    result = run_domain(run, user_pool_id=pool_id, **params)
    assert result.failed
    assert api_calls.names() == []


def test_pool_id_from_another_region(aws, run, client):
    make_pool(client)
    result = run_domain(run, user_pool_id="eu-west-1_AbC123", domain="kf-dev")
    assert result.failed
    assert "user_pool_id eu-west-1_AbC123 belongs to region eu-west-1, but the module runs in region us-west-2" in (
        result["msg"]
    )


def test_pool_id_and_name_are_exclusive(aws, run, client):
    result = run_domain(run, user_pool_id="us-west-2_x", user_pool_name="kubeflow", domain="kf-dev")
    assert result.failed and "mutually exclusive" in result["msg"]


# --- waiting ---------------------------------------------------------------------------------------------------


def test_wait_returns_at_once_when_moto_reports_active(aws, run, client, api_calls, monkeypatch):
    sleeps = fast_polling(monkeypatch)
    pool_id = make_pool(client)
    api_calls.clear()
    result = run_domain(run, user_pool_id=pool_id, domain="kf-dev")
    assert result["user_pool_domain"]["status"] == "ACTIVE"
    assert sleeps == []
    # describe (before), create, describe (the poll's first probe, already ACTIVE)
    assert [n for n in api_calls.names() if "Domain" in n] == [
        "DescribeUserPoolDomain",
        "CreateUserPoolDomain",
        "DescribeUserPoolDomain",
    ]


def test_wait_polls_with_growing_intervals_until_active(aws, run, client, monkeypatch):
    sleeps = fast_polling(monkeypatch)
    pool_id = make_pool(client)
    real_describe = domain_module.describe_domain
    statuses = iter([None, "CREATING", "CREATING", "CREATING"])  # the first read is the "before"

    def describe_creating(module, client, domain):
        description = real_describe(module, client, domain)
        status = next(statuses, "ACTIVE")
        if description is not None and status is not None:
            description = dict(description, Status=status)
        return description

    monkeypatch.setattr(domain_module, "describe_domain", describe_creating)
    result = run_domain(run, user_pool_id=pool_id, domain="kf-dev")
    assert result.changed and not result.failed, result
    assert result["user_pool_domain"]["status"] == "ACTIVE"
    assert sleeps == [2.0, 3.0, 4.5]


def test_wait_timeout_names_the_domain(aws, run, client, monkeypatch):
    fast_polling(monkeypatch)
    pool_id = make_pool(client)
    real_describe = domain_module.describe_domain

    def always_creating(module, client, domain):
        description = real_describe(module, client, domain)
        return dict(description, Status="CREATING") if description else None

    monkeypatch.setattr(domain_module, "describe_domain", always_creating)
    result = run_domain(run, user_pool_id=pool_id, domain=CUSTOM, certificate_arn=CERT, wait_timeout=60)
    assert result.failed
    assert result["msg"].startswith(
        f"Timed out after 60s waiting for Cognito domain {CUSTOM} to become ACTIVE (last status: CREATING)."
    )
    assert "raise wait_timeout" in result["msg"]
    assert result["user_pool_domain"]["status"] == "CREATING"


def test_wait_keeps_polling_while_a_new_domain_is_not_visible_yet(aws, run, client, monkeypatch):
    # AWS is eventually consistent: just after CreateUserPoolDomain the domain can still read as unknown.
    sleeps = fast_polling(monkeypatch)
    pool_id = make_pool(client)
    real_describe = domain_module.describe_domain
    hidden = iter([False, True])  # the first read is the "before"

    def not_visible_at_first(module, client, domain):
        description = real_describe(module, client, domain)
        return None if next(hidden, False) else description

    monkeypatch.setattr(domain_module, "describe_domain", not_visible_at_first)
    result = run_domain(run, user_pool_id=pool_id, domain="kf-dev")
    assert result.changed and not result.failed, result
    assert result["user_pool_domain"]["status"] == "ACTIVE"
    assert sleeps == [2.0]


def test_delete_wait_timeout_names_the_domain(aws, run, client, api_calls, monkeypatch):
    fast_polling(monkeypatch)
    pool_id = make_pool(client)
    assert run_domain(run, user_pool_id=pool_id, domain=CUSTOM, certificate_arn=CERT).changed
    real_describe = domain_module.describe_domain
    seen = []

    def deleting_forever(module, client, domain):
        # the first read (before the delete) is real; afterwards AWS keeps reporting DELETING
        if not seen:
            seen.append(real_describe(module, client, domain))
            return seen[0]
        return dict(seen[0], Status="DELETING")

    monkeypatch.setattr(domain_module, "describe_domain", deleting_forever)
    api_calls.clear()
    result = run_domain(run, user_pool_id=pool_id, domain=CUSTOM, state="absent", wait_timeout=30)
    assert result.failed
    assert result["msg"].startswith(
        f"Timed out after 30s waiting for Cognito domain {CUSTOM} to be deleted (last status: DELETING)."
    )
    assert api_calls.writes() == ["DeleteUserPoolDomain"]


def test_failed_domain_fails_with_advice(aws, run, client, monkeypatch):
    fast_polling(monkeypatch)
    pool_id = make_pool(client)
    real_describe = domain_module.describe_domain

    def failed(module, client, domain):
        description = real_describe(module, client, domain)
        return dict(description, Status="FAILED") if description else None

    monkeypatch.setattr(domain_module, "describe_domain", failed)
    result = run_domain(run, user_pool_id=pool_id, domain=CUSTOM, certificate_arn=CERT)
    assert result.failed
    assert f"Cognito domain {CUSTOM} is in status FAILED" in result["msg"]
    # without waiting, the status is only reported
    result = run_domain(run, user_pool_id=pool_id, domain=CUSTOM, certificate_arn=CERT, wait=False)
    assert not result.failed and not result.changed and result["user_pool_domain"]["status"] == "FAILED"


def test_no_wait_returns_after_create(aws, run, client, monkeypatch):
    sleeps = fast_polling(monkeypatch)
    pool_id = make_pool(client)
    result = run_domain(run, user_pool_id=pool_id, domain="kf-dev", wait=False)
    assert result.changed and result["user_pool_domain"]["status"] == "ACTIVE"
    assert sleeps == []
