"""The Kubernetes side of the kfctl simulator: the kubeconfig's current context, discovery and client-side apply.

Like kfctl, it reads `$KUBECONFIG` (first file) or `~/.kube/config` and uses the current context: its cluster's
`server` and its user's bearer `token`. No client library: plain JSON over HTTP is enough for the stand-in.
"""

from __future__ import annotations

import json
import os

import yaml

from ..kube_http import KubeHttp, KubeHttpError

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


class KubeError(KubeHttpError):
    """A Kubernetes API or kubeconfig failure, with kubectl-like texts."""


def kubeconfig_path():
    env = os.environ.get("KUBECONFIG")
    if env:
        return env.split(os.pathsep)[0]
    return os.path.expanduser("~/.kube/config")


def current_context():
    """(cluster name, server, token) of the current context; raises KubeError with kubectl-like texts."""
    path = kubeconfig_path()
    try:
        with open(path) as stream:
            config = yaml.safe_load(stream) or {}
    except OSError as exc:
        raise KubeError(0, f"invalid configuration: no configuration has been provided ({path}: {exc.strerror})")
    name = config.get("current-context")
    if not name:
        raise KubeError(0, "invalid configuration: no configuration has been provided, current-context is not set")
    ctx = next((c.get("context") or {} for c in config.get("contexts") or [] if c.get("name") == name), None)
    if ctx is None:
        raise KubeError(0, f'context "{name}" does not exist')
    cluster = next(
        (c.get("cluster") or {} for c in config.get("clusters") or [] if c.get("name") == ctx.get("cluster")), None
    )
    if not cluster or not cluster.get("server"):
        raise KubeError(0, f'invalid configuration: cluster "{ctx.get("cluster")}" has no server')
    user = next((u.get("user") or {} for u in config.get("users") or [] if u.get("name") == ctx.get("user")), {})
    return ctx.get("cluster"), cluster["server"].rstrip("/"), user.get("token")


class Kube(KubeHttp):
    error_class = KubeError

    def __init__(self):
        self.cluster_name, url, token = current_context()
        super().__init__(url, token)
        self._discovery = {}

    # -- objects ---------------------------------------------------------------------------------------
    def resource(self, api_version, kind):
        """(plural, namespaced) from discovery, as kubectl finds it; unknown kinds fail like kubectl."""
        if api_version not in self._discovery:
            base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
            found = self.get(base)
            self._discovery[api_version] = {
                r["kind"]: (r["name"], r.get("namespaced", False))
                for r in (found or {}).get("resources") or []
                if "/" not in r["name"]
            }
        hit = self._discovery[api_version].get(kind)
        if hit is None:
            self._discovery.pop(api_version, None)  # a CRD may register it before the next try
            raise KubeError(404, f'no matches for kind "{kind}" in version "{api_version}"')
        return hit

    def path(self, obj, name=True):
        plural, namespaced = self.resource(obj["apiVersion"], obj["kind"])
        base = "/api/v1" if obj["apiVersion"] == "v1" else f"/apis/{obj['apiVersion']}"
        if namespaced:
            base += f"/namespaces/{obj['metadata'].get('namespace') or 'default'}"
        base += f"/{plural}"
        return base + (f"/{obj['metadata']['name']}" if name else "")

    def apply(self, obj):
        """Client-side apply with the last-applied annotation; returns created / configured / unchanged."""
        wanted = json.loads(json.dumps(obj))
        meta = wanted.setdefault("metadata", {})
        applied = json.dumps(obj, sort_keys=True, separators=(",", ":"))
        meta.setdefault("annotations", {})[LAST_APPLIED] = applied
        current = self.get(self.path(obj))
        if current is None:
            self.call("POST", self.path(obj, name=False), wanted)
            return "created"
        if ((current.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED) == applied:
            return "unchanged"
        self.call("PATCH", self.path(obj), wanted, "application/merge-patch+json")
        return "configured"

    def delete_object(self, obj):
        try:
            return self.delete(self.path(obj))
        except KubeError as exc:
            if exc.status == 404:  # kind no longer served (its CRD went first)
                return False
            raise
