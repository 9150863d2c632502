"""Fixtures shared by the module unit tests."""

from __future__ import annotations

import botocore.client
import pytest

from tests.unit.plugins.modules.eksctl_fixtures import FakeEksctl
from tests.unit.plugins.modules.kfctl_fixtures import FakeKfctl


@pytest.fixture
def eksctl(tmp_path, monkeypatch):
    """A scripted eksctl binary (see fake_cli.py); `eksctl.path` is what modules get as `binary`."""
    return FakeEksctl(tmp_path, monkeypatch)


@pytest.fixture
def kfctl(tmp_path, monkeypatch):
    """A scripted kfctl binary (see fake_cli.py); `kfctl.path` is what the kfctl module gets as kfctl_path."""
    return FakeKfctl(tmp_path, monkeypatch)


@pytest.fixture
def calls(monkeypatch):
    """Every AWS call made in this process, as (service, operation); clear it before the run to observe."""
    seen = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self, operation_name, api_params):
        seen.append((self._service_model.service_name, operation_name))
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return seen
