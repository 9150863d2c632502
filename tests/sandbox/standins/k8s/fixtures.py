"""pytest fixture `kube`: the stand-in Kubernetes API server, reset for each test.

One server subprocess per test process (started on first use, stopped at exit). The fixture
writes a kubeconfig into the test's tmp_path, points K8S_AUTH_KUBECONFIG and KUBECONFIG at it for
the test, and returns the `KubeSandbox` (`kube.url`, `kube.kubeconfig`, `kube.environ()`,
`kube.api_client()`, `kube.dynamic_client()`, `kube.objects(...)`).

Use from a conftest.py or a test module: `from tests.sandbox.standins.k8s.fixtures import kube  # noqa`.
"""

from __future__ import annotations

import atexit

import pytest

from . import KubeSandbox

_SERVER = None


def kube_server() -> KubeSandbox:
    """The process-wide sandbox server (started on first call)."""
    global _SERVER  # pylint: disable=global-statement
    if _SERVER is None or _SERVER.proc is None or _SERVER.proc.poll() is not None:
        _SERVER = KubeSandbox().start()
        atexit.register(_SERVER.__exit__)
    return _SERVER


@pytest.fixture
def kube(tmp_path, monkeypatch):
    """A clean sandbox API server and a kubeconfig for it (also in K8S_AUTH_KUBECONFIG / KUBECONFIG)."""
    server = kube_server()
    server.reset()
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    for name in ("K8S_AUTH_HOST", "K8S_AUTH_API_KEY", "K8S_AUTH_CONTEXT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("K8S_AUTH_KUBECONFIG", str(kubeconfig))
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    return server
