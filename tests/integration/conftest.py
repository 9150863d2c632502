"""Fixtures for integration tests: playbooks run as a user runs them, against the sandbox."""

from __future__ import annotations

import atexit

import pytest

from tests.sandbox.harness.playbook import playbook_env
from tests.sandbox.harness.scenario import KUBE_CONTROLLERS, PLATFORM_DOMAIN, SERVING_NAMESPACES, kube_env, platform_env
from tests.sandbox.standins.k8s import KubeSandbox
from tests.sandbox.standins.predictor import PredictorSandbox

_KUBE = None


def platform_kube(aws_env: dict | None = None) -> KubeSandbox:
    """The Kubernetes stand-in of this test process, with the GPU node and platform controllers (ALBs and
    models in the sandbox AWS of `aws_env`); started on first use."""
    global _KUBE  # pylint: disable=global-statement
    if _KUBE is None or _KUBE.proc is None or _KUBE.proc.poll() is not None:
        _KUBE = KubeSandbox(controllers=KUBE_CONTROLLERS, env=kube_env(aws_env or {})).start()
        atexit.register(_KUBE.__exit__)
    return _KUBE


@pytest.fixture
def sandbox_kube(moto_server):
    """A clean Kubernetes stand-in (the simulator's cluster API) for one test."""
    kube = platform_kube(moto_server.env())
    kube.reset()
    return kube


@pytest.fixture
def sandbox_env(aws, sandbox_kube, tmp_path):
    """Process environment for ansible-playbook on a fresh sandbox account with the user's root zone,
    the eksctl simulator (instant) and its Kubernetes stand-in (see tests.sandbox.harness.scenario.platform_env)."""
    return playbook_env(platform_env(aws.env(), sandbox_kube.url, tmp_path / "kube" / "config"))


@pytest.fixture(scope="module")
def sandbox_predictor(moto_server):
    """The sandbox model predictor behind its HTTPS proxy, in kube mode: the models are the Ready InferenceServices of
    this process's Kubernetes stand-in, the tokens those of the API ingress's annotation (see tests.sandbox.standins.predictor).
    Add its env() to a playbook's environment."""
    kube = platform_kube(moto_server.env())
    with PredictorSandbox(domain=PLATFORM_DOMAIN, namespaces=SERVING_NAMESPACES, kube_url=kube.url) as predictor:
        yield predictor


# The longest tests first, two by two: pytest-xdist's load scheduling hands each of the two workers two
# tests at the start (consecutive ones) and the rest as they finish, so a long test collected late would run
# alone at the end while the other worker idles. Measured: each platform test 5-6 min, the cluster lifecycle
# 4 min, the auth-alone scenario 2 min; pairing them puts about the same work on each worker.
LONGEST_FIRST = (
    "test_platform.py::test_site_yml_builds_the_whole_platform_twice_unchanged_and_teardown_leaves_nothing[v1.0]",
    "test_cluster_role.py::",
    "test_platform.py::test_site_yml_builds_the_whole_platform_twice_unchanged_and_teardown_leaves_nothing[v1.7]",
    "test_auth_role.py::test_auth_role_alone",
)


def pytest_collection_modifyitems(items):
    def rank(item):
        return next((i for i, key in enumerate(LONGEST_FIRST) if key in item.nodeid), len(LONGEST_FIRST))

    items.sort(key=rank)  # stable: the order within a rank stays the collection order
