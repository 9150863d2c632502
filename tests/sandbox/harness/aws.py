"""The sandbox AWS: moto in server mode on a free loopback port (tests and `make demo` only).

Product code never imports this. Modules reach the server only through the standard
endpoint settings that real users have too: AWS_URL (amazon.aws `endpoint_url`) and
AWS_ENDPOINT_URL (boto3).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
# Credentials moto accepts; never real ones.
SANDBOX_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
SANDBOX_ACCOUNT_ID = "123456789012"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MotoSandbox:
    """Start/stop a moto server subprocess and expose the environment that points clients at it."""

    def __init__(
        self,
        acm_validation_wait: int = 2,
        region: str = "us-west-2",
        record: bool = False,
        iam_managed_policies: bool = False,
    ):
        self.iam_managed_policies = iam_managed_policies
        self.acm_validation_wait = acm_validation_wait
        self.region = region
        self.record = record
        self.port = None
        self.proc = None
        self._tmp = tempfile.TemporaryDirectory(prefix="kfops-moto-")
        self.recording = Path(self._tmp.name) / "recording.jsonl"
        self.log = Path(self._tmp.name) / "moto.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict:
        """Environment for anything that should talk to the sandbox (boto3, amazon.aws, our modules)."""
        env = dict(SANDBOX_CREDENTIALS)
        env.update(
            AWS_URL=self.url,
            AWS_ENDPOINT_URL=self.url,
            AWS_DEFAULT_REGION=self.region,
            AWS_REGION=self.region,
            # Make sure a developer's real config and credentials are never picked up.
            AWS_CONFIG_FILE=os.devnull,
            AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        )
        return env

    def environ(self, base=None) -> dict:
        """A full process environment: `base` (default os.environ) pointed at the sandbox."""
        env = dict(os.environ if base is None else base)
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CA_BUNDLE"):
            env.pop(name, None)
        env.update(self.env())
        return env

    def start(self, timeout: float = 30) -> "MotoSandbox":
        self.port = free_port()
        env = dict(os.environ)
        env["MOTO_ACM_VALIDATION_WAIT"] = str(self.acm_validation_wait)
        # AWS managed policies (AmazonEKSWorkerNodePolicy, ...) exist in a real account; loading them
        # makes every reset take seconds, so only sandboxes that need them ask for them.
        if self.iam_managed_policies:
            env["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
        else:
            env.pop("MOTO_IAM_LOAD_MANAGED_POLICIES", None)
        # The sandbox must not remember anything between runs.
        env.pop("MOTO_ENABLE_RECORDING", None)
        if self.record:
            env["MOTO_ENABLE_RECORDING"] = "true"
            env["MOTO_RECORDER_FILEPATH"] = str(self.recording)
        self._log_fh = open(self.log, "wb")  # pylint: disable=consider-using-with
        self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, "-m", "tests.sandbox.standins.moto_server", "-H", "127.0.0.1", "-p", str(self.port)],
            cwd=REPO,  # tests.sandbox.standins.moto_server: moto with the answers real AWS gives differently
            env=env,
            stdout=self._log_fh,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto server exited early:\n{self.log.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/data.json", timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"moto server did not answer on {self.url} within {timeout}s")

    def _post(self, path: str) -> bytes:
        req = urllib.request.Request(f"{self.url}{path}", data=b"", method="POST")
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.read()

    def reset(self) -> None:
        """Forget every resource (between tests)."""
        self._post("/moto-api/reset")

    def start_recording(self) -> None:
        self._post("/moto-api/recorder/reset-recording")
        self._post("/moto-api/recorder/start-recording")

    def stop_recording(self) -> list:
        self._post("/moto-api/recorder/stop-recording")
        entries = []
        if self.recording.exists():
            for line in self.recording.read_text().splitlines():
                if line.strip():
                    entries.append(json.loads(line))
        return entries

    @staticmethod
    def api_calls(entries: list) -> Counter:
        """Count recorded requests by '<service>:<Action>' (moto's request log)."""
        counts = Counter()
        for entry in entries:
            headers = entry.get("headers", {})
            target = headers.get("X-Amz-Target") or headers.get("x-amz-target")
            service = "?"
            auth = headers.get("Authorization", "")
            if "Credential=" in auth:
                parts = auth.split("Credential=", 1)[1].split("/")
                if len(parts) > 3:
                    service = parts[3]
            if target:
                action = target.split(".")[-1]
            else:
                body = entry.get("body") or ""
                action = None
                if isinstance(body, str) and "Action=" in body:
                    action = body.split("Action=", 1)[1].split("&", 1)[0]
                if not action:
                    action = f"{entry.get('method')} {entry.get('uri', '').split('?')[0]}"
            counts[f"{service}:{action}"] += 1
        return counts

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
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        self._tmp.cleanup()
