"""Fixtures shared by the module unit tests."""

from __future__ import annotations

import pytest

from tests.unit.plugins.modules.eksctl_fixtures import FakeEksctl


@pytest.fixture
def eksctl(tmp_path, monkeypatch):
    """A scripted eksctl binary (see fake_eksctl.py); `eksctl.path` is what modules get as `binary`."""
    return FakeEksctl(tmp_path, monkeypatch)
