"""A small stateful Kubernetes API server for the sandbox (tests and `make demo` only).

Product code never imports this: playbooks reach it through a kubeconfig, as they would reach EKS.

    with KubeSandbox() as kube:                     # a subprocess on a free loopback port
        kubeconfig = kube.write_kubeconfig(tmp / "kubeconfig")
        env = kube.environ(kubeconfig)              # K8S_AUTH_KUBECONFIG / KUBECONFIG for ansible-playbook
        core = kubernetes.client.CoreV1Api(kube.api_client())
        ...
        kube.objects(kind="Deployment")             # everything stored, for assertions
        kube.reset()                                # back to the four initial namespaces

What it serves (see server.py, cluster.py): discovery (`/version`, `/api`, `/api/v1`, `/apis`,
`/apis/<group>/<version>`) for the built-in kinds in resources.py and for every CRD created;
create/get/list/watch/replace/patch (merge, strategic merge, JSON patch, server-side apply with
field managers and conflicts)/delete/deletecollection, `/status` subresources, dry-run, label and
field selectors, namespace and CRD cascades, owner-reference garbage collection, finalizers.
Controllers (controllers.py) write the status real controllers would, hold deletions with their
finalizers and ask to be run again later; the docstring of controllers.py says how to add one.
Ingress load balancers (in the sandbox AWS), Knative Services and InferenceServices are in
tests/sandbox/standins/k8s_platform, loaded by the harness (tests.sandbox.harness.scenario.KUBE_CONTROLLERS).

Run it by hand: `python -m tests.sandbox.standins.k8s --port 8001 --state-file /tmp/kube.json`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[4]
SANDBOX_TOKEN = "sandbox-token"  # any bearer token is accepted; never a real one


class KubeSandbox:
    """Start/stop the stand-in API server in a subprocess and hand out kubeconfigs and clients."""

    def __init__(
        self,
        state_file=None,
        controllers=(),
        controller_delay: float = 0.0,
        kubernetes_version: str = "1.25",
        env: dict | None = None,
        verbose: bool = False,
    ):
        self.state_file = Path(state_file) if state_file else None
        self.controllers = list(controllers)
        self.controller_delay = controller_delay
        self.kubernetes_version = kubernetes_version
        self.extra_env = dict(env or {})
        self.verbose = verbose
        self.port = None
        self.proc = None
        self.kubeconfig = None
        self._tmp = tempfile.TemporaryDirectory(prefix="kfops-kube-")
        self.log = Path(self._tmp.name) / "kube.log"
        self._clients = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> "KubeSandbox":
        cmd = [
            sys.executable,
            "-m",
            "tests.sandbox.standins.k8s",
            "--port",
            "0",
            "--kubernetes-version",
            self.kubernetes_version,
            "--controller-delay",
            str(self.controller_delay),
        ]
        if self.state_file:
            cmd += ["--state-file", str(self.state_file)]
        if self.controllers:
            cmd += ["--controllers", ",".join(self.controllers)]
        if self.verbose:
            cmd.append("--verbose")
        env = dict(os.environ)
        env.update(self.extra_env)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        env["PYTHONUNBUFFERED"] = "1"
        self._log_fh = open(self.log, "wb")  # pylint: disable=consider-using-with
        self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
            cmd, cwd=str(REPO), env=env, stdout=self._log_fh, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kube sandbox exited early:\n{self.log.read_text(errors='replace')}")
            for line in self.log.read_text(errors="replace").splitlines():
                if line.startswith("listening on http://"):
                    self.port = int(line.rsplit(":", 1)[1])
                    try:
                        self._request("GET", "/readyz")
                        return self
                    except OSError:
                        break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"kube sandbox did not start within {timeout}s:\n{self.log.read_text(errors='replace')}")

    def _request(self, method: str, path: str) -> bytes:
        req = urllib.request.Request(f"{self.url}{path}", data=b"" if method == "POST" else None, method=method)
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.read()

    def reset(self) -> None:
        """Forget every object and CRD (between tests)."""
        self._request("POST", "/sandbox/reset")

    def save(self) -> None:
        """Write the state file now."""
        self._request("POST", "/sandbox/save")

    def objects(self, api_version: str | None = None, kind: str | None = None, namespace: str | None = None) -> list:
        """Every stored object, optionally only one apiVersion / kind / namespace ("" = cluster-scoped)."""
        query = []
        if api_version:
            query.append(f"apiVersion={api_version}")
        if kind:
            query.append(f"kind={kind}")
        if namespace is not None:
            query.append(f"namespace={namespace}")
        path = "/sandbox/objects" + ("?" + "&".join(query) if query else "")
        return json.loads(self._request("GET", path))["items"]

    def write_kubeconfig(
        self,
        path,
        cluster_name: str = "sandbox",
        context: str | None = None,
        user: str = "sandbox-admin",
        token: str = SANDBOX_TOKEN,
        namespace: str | None = None,
    ) -> Path:
        """A normal kubeconfig: one cluster (server = this sandbox), one token user, one current context."""
        context = context or cluster_name
        ctx = {"cluster": cluster_name, "user": user}
        if namespace:
            ctx["namespace"] = namespace
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": cluster_name, "cluster": {"server": self.url}}],
            "users": [{"name": user, "user": {"token": token}}],
            "contexts": [{"name": context, "context": ctx}],
            "current-context": context,
            "preferences": {},
        }
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        path.chmod(0o600)
        self.kubeconfig = path
        return path

    def environ(self, kubeconfig=None, base: dict | None = None) -> dict:
        """A process environment (default os.environ) whose Kubernetes clients reach this sandbox."""
        kubeconfig = kubeconfig or self.kubeconfig
        if kubeconfig is None:
            raise ValueError("write_kubeconfig() first, or pass kubeconfig")
        env = dict(os.environ if base is None else base)
        for name in list(env):
            if name.startswith("K8S_AUTH_"):
                del env[name]
        env["K8S_AUTH_KUBECONFIG"] = str(kubeconfig)
        env["KUBECONFIG"] = str(kubeconfig)
        return env

    def api_client(self):
        """A kubernetes.client.ApiClient for this sandbox (no kubeconfig needed)."""
        import kubernetes.client  # pylint: disable=import-outside-toplevel

        configuration = kubernetes.client.Configuration()
        configuration.host = self.url
        configuration.api_key = {"authorization": SANDBOX_TOKEN}
        configuration.api_key_prefix = {"authorization": "Bearer"}
        return kubernetes.client.ApiClient(configuration)

    def dynamic_client(self):
        """A kubernetes.dynamic.DynamicClient with its own discovery cache file."""
        from kubernetes.dynamic import DynamicClient  # pylint: disable=import-outside-toplevel

        self._clients += 1
        cache = Path(self._tmp.name) / f"discovery-{os.getpid()}-{self._clients}.json"
        return DynamicClient(self.api_client(), cache_file=str(cache))

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "_log_fh", None):
            self._log_fh.close()
            self._log_fh = None
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        self._tmp.cleanup()
