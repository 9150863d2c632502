"""Shared pytest fixtures: the sandbox AWS and an in-process module runner."""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
# Make `ansible_collections.kubeflow_ops.aws` importable from this checkout; the bundled
# collections (amazon.aws, kubernetes.core) stay importable from site-packages because
# `ansible_collections` is a namespace package.
sys.path.insert(0, str(REPO / "collections"))

from tests.sandbox.harness.aws import MotoSandbox  # noqa: E402  pylint: disable=wrong-import-position
from tests.sandbox.standins.k8s.fixtures import (  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
    kube,
)


@pytest.fixture(scope="session")
def moto_server():
    """One moto server per test worker, ACM certificates issued after 2 s."""
    with MotoSandbox(acm_validation_wait=int(os.environ.get("KFOPS_TEST_ACM_WAIT", "2"))) as sandbox:
        yield sandbox


@pytest.fixture
def aws(moto_server, monkeypatch):
    """A clean sandbox account for one test; the process environment points at it."""
    moto_server.reset()
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    for key, value in moto_server.env().items():
        monkeypatch.setenv(key, value)
    return moto_server


def boto3_client(service, region=None):
    import boto3  # pylint: disable=import-outside-toplevel

    return boto3.client(service, region_name=region or os.environ.get("AWS_DEFAULT_REGION", "us-west-2"))


class ModuleResult(dict):
    @property
    def failed(self):
        return bool(self.get("failed"))

    @property
    def changed(self):
        return bool(self.get("changed"))


def run_module(name, args, check_mode=False, diff=False):
    """Run kubeflow_ops.aws.<name> in-process the way ansible does and return its JSON result."""
    from ansible.module_utils.common import warnings  # pylint: disable=import-outside-toplevel
    from ansible.module_utils.testing import patch_module_args  # pylint: disable=import-outside-toplevel

    # A real module is a new process; here earlier runs' warnings would leak into this result.
    warnings._global_warnings.clear()  # pylint: disable=protected-access
    warnings._global_deprecations.clear()  # pylint: disable=protected-access
    module = importlib.import_module(f"ansible_collections.kubeflow_ops.aws.plugins.modules.{name}")
    module_args = dict(args)
    module_args["_ansible_check_mode"] = check_mode
    module_args["_ansible_diff"] = diff
    out = io.StringIO()
    with patch_module_args(module_args), contextlib.redirect_stdout(out):
        with pytest.raises(SystemExit):
            module.main()
    text = out.getvalue()
    try:
        return ModuleResult(json.loads(text))
    except ValueError as exc:  # pragma: no cover - would be a module bug
        raise AssertionError(f"module {name} printed non-JSON output: {text!r}") from exc


@pytest.fixture
def run():
    return run_module


@pytest.fixture
def client():
    return boto3_client
