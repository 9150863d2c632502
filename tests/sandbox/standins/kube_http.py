"""Plain JSON-over-HTTP calls to the Kubernetes API, shared by the eksctl and kfctl simulators.

No client library: the stand-in is small and the simulators must start fast. Each simulator
subclasses `KubeHttp` with its own error class (so failures read like that tool's errors).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request


class KubeHttpError(Exception):
    """An API call failed: `status` is the HTTP status (0 when the server was not reached)."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class KubeHttp:
    error_class = KubeHttpError

    def __init__(self, url: str, token: str | None = None):
        self.url = url.rstrip("/")
        self.token = token

    def call(self, method, path, body=None, content_type="application/json"):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return json.loads(raw) if raw else {}
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                message = json.loads(raw).get("message") or raw.decode(errors="replace")
            except ValueError:
                message = raw.decode(errors="replace")
            raise self.error_class(exc.code, message) from None
        except OSError as exc:
            raise self.error_class(0, f'{method} "{self.url}{path}": {exc}') from None

    def get(self, path):
        """The object at `path`, or None when the server says 404."""
        try:
            return self.call("GET", path)
        except KubeHttpError as exc:
            if exc.status == 404:
                return None
            raise

    def items(self, path):
        return (self.get(path) or {}).get("items") or []

    def delete(self, path):
        """True when something was deleted, False when it was already gone."""
        try:
            self.call("DELETE", path)
            return True
        except KubeHttpError as exc:
            if exc.status == 404:
                return False
            raise

    def merge_patch(self, path, body):
        return self.call("PATCH", path, body, "application/merge-patch+json")

    def ensure_namespace(self, name) -> bool:
        """Create the namespace unless it exists; True when it was created."""
        if self.get(f"/api/v1/namespaces/{name}") is not None:
            return False
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        try:
            self.call("POST", "/api/v1/namespaces", body)
        except KubeHttpError as exc:
            if exc.status != 409:
                raise
            return False
        return True
