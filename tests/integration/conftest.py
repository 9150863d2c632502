"""Fixtures for integration tests: playbooks run as a user runs them, against the sandbox."""

from __future__ import annotations

import pytest

from tests.sandbox.playbook import playbook_env
from tests.sandbox.scenario import ensure_root_zone


@pytest.fixture
def sandbox_env(aws):
    """Process environment for ansible-playbook on a fresh sandbox account with the user's root zone."""
    env = aws.env()
    env["KUBEFLOW_OPS_SANDBOX_ROOT_ZONE_ID"] = ensure_root_zone(env)
    return playbook_env(env)
