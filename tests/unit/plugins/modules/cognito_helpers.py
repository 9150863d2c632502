"""Test helpers for the Cognito pool-scoped modules (domain, user, group): pools and an API call recorder."""

from __future__ import annotations

import pytest
from botocore.client import BaseClient

REGION = "us-west-2"


def make_pool(client, name="kubeflow", **kwargs):
    """Create a user pool straight through boto3 and return its id."""
    return client("cognito-idp", region=REGION).create_user_pool(PoolName=name, **kwargs)["UserPool"]["Id"]


class ApiCalls(list):
    """(operation name, parameters) of every AWS call made in this process, modules and tests alike."""

    def names(self):
        return [name for name, _params in self]

    def writes(self):
        reads = ("Describe", "List", "Get", "AdminGet", "AdminList")
        return [name for name in self.names() if not name.startswith(reads)]


@pytest.fixture
def api_calls(monkeypatch):
    calls = ApiCalls()
    original = BaseClient._make_api_call

    def recording(self, operation_name, api_params):
        calls.append((operation_name, dict(api_params)))
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    return calls


def warnings_of(result):
    """Warning texts of a module result (ansible-core 2.19 wraps each one in an event dict)."""
    texts = []
    for warning in result.get("warnings") or []:
        texts.append(warning["event"]["msg"] if isinstance(warning, dict) else warning)
    return texts
