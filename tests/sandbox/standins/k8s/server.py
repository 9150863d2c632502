"""HTTP front of the stand-in API server: discovery, resource paths, watch streams, admin endpoints.

Plain HTTP/1.1 with JSON bodies on a loopback port; any bearer token (or none) is accepted.
Answers every request with JSON even when a client asks for protobuf, tables or aggregated
discovery (`as=APIGroupDiscoveryList`): real clients fall back to plain JSON discovery, which is
what kubernetes client 37 and kubernetes.core ask for anyway.

Admin endpoints, outside the Kubernetes paths:
    POST /sandbox/reset     forget every object and CRD (the four initial namespaces come back)
    GET  /sandbox/objects   every object; filters: ?apiVersion=&kind=&namespace=
    POST /sandbox/save      write the state file now (when the server has one)
"""

from __future__ import annotations

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import yaml

from .cluster import ApiError, Cluster, bad_request, not_found_resource, status_body


def _bool(value) -> bool:
    return str(value).lower() in ("1", "true", "yes")


class KubeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY, Nagle + delayed ACK add 40 ms per request.
    disable_nagle_algorithm = True
    server_version = "kfops-kube-sandbox/1"
    cluster: Cluster = None  # set by make_server
    verbose = False
    saver = None

    # -------------------------------------------------------------- plumbing

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        if self.verbose:
            sys.stderr.write("%s %s\n" % (self.log_date_time_string(), format % args))

    def _send(self, code: int, body, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError:
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            if "yaml" in content_type:
                try:
                    return yaml.safe_load(raw)
                except yaml.YAMLError as exc:
                    raise bad_request(f"error decoding YAML: {exc}") from exc
            raise bad_request("the body of the request could not be decoded as JSON") from None

    def _handle(self):
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        try:
            self._dispatch(url.path, query)
        except ApiError as exc:
            self._send(exc.code, exc.status())
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # pylint: disable=broad-except  # answer 500 like a real server, keep serving
            import traceback  # pylint: disable=import-outside-toplevel

            traceback.print_exc()
            self._send(500, status_body(500, "InternalError", f"Internal error occurred: {exc}"))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

    # -------------------------------------------------------------- routing

    def _dispatch(self, path: str, query: dict) -> None:
        parts = [p for p in path.split("/") if p]
        cluster = self.cluster
        if not parts:
            paths = ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/readyz", "/version"]
            paths += [f"/apis/{g}" for g in cluster.registry.groups()]
            self._send(200, {"paths": paths})
            return
        if parts[0] in ("healthz", "livez", "readyz"):
            self._send(200, b"ok", "text/plain; charset=utf-8")
            return
        if parts == ["version"]:
            self._send(200, self._version())
            return
        if parts[0] == "sandbox":
            self._admin(parts[1:], query)
            return
        if parts[0] == "api":
            group, rest = "", parts[1:]
            if not rest:
                host = self.headers.get("Host", "127.0.0.1")
                self._send(
                    200,
                    {
                        "kind": "APIVersions",
                        "versions": ["v1"],
                        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": host}],
                    },
                )
                return
        elif parts[0] == "apis":
            if len(parts) == 1:
                self._send(
                    200,
                    {
                        "kind": "APIGroupList",
                        "apiVersion": "v1",
                        "groups": [self._group(g) for g in cluster.registry.groups()],
                    },
                )
                return
            group, rest = parts[1], parts[2:]
            if not group or group not in cluster.registry.groups():
                raise not_found_resource()
            if not rest:
                self._send(200, {"kind": "APIGroup", "apiVersion": "v1", **self._group(group)})
                return
        else:
            raise not_found_resource()
        version, rest = rest[0], rest[1:]
        if version not in cluster.registry.group_versions(group):
            raise not_found_resource()
        if not rest:
            self._send(200, self._resource_list(group, version))
            return
        self._resource(group, version, rest, query)

    def _version(self) -> dict:
        minor = str(self.cluster.minor)
        return {
            "major": "1",
            "minor": minor,
            "gitVersion": f"v1.{minor}.0-sandbox",
            "gitCommit": "0000000000000000000000000000000000000000",
            "gitTreeState": "clean",
            "buildDate": "2024-01-01T00:00:00Z",
            "goVersion": "go1.22.0",
            "compiler": "gc",
            "platform": "linux/amd64",
        }

    def _group(self, group: str) -> dict:
        versions = self.cluster.registry.group_versions(group)
        entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        return {"name": group, "versions": entries, "preferredVersion": entries[0]}

    def _resource_list(self, group: str, version: str) -> dict:
        resources = []
        for rtype in sorted(self.cluster.registry.resources(group, version), key=lambda r: r.plural):
            resources.extend(rtype.discovery())
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version,
            "resources": resources,
        }

    def _resource(self, group: str, version: str, rest: list, query: dict) -> None:
        cluster = self.cluster
        watch = _bool(query.get("watch", "false"))
        if rest[0] == "watch":
            watch, rest = True, rest[1:]
        namespace = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            candidate = cluster.registry.lookup(group, version, rest[2])
            if candidate is not None and candidate.namespaced:
                namespace, rest = rest[1], rest[2:]
        if not rest or len(rest) > 3:
            raise not_found_resource()
        rtype = cluster.registry.lookup(group, version, rest[0])
        name = rest[1] if len(rest) > 1 else None
        subresource = rest[2] if len(rest) > 2 else None
        if rtype is None or (subresource and not (subresource == "status" and rtype.status_subresource)):
            raise not_found_resource()
        if rtype.namespaced and name is not None and namespace is None:
            raise not_found_resource()
        method = self.command
        dry_run = query.get("dryRun") == "All"
        manager = query.get("fieldManager") or self._default_manager()
        if name is None:
            if method in ("GET", "HEAD"):
                if watch:
                    self._watch(rtype, version, namespace, query)
                else:
                    self._list(rtype, version, namespace, query)
            elif method == "POST":
                if rtype.namespaced and namespace is None:
                    raise not_found_resource()
                obj = cluster.create(rtype, version, namespace, self._read_body(), manager=manager, dry_run=dry_run)
                self._send(201, self._out(rtype, version, obj))
            elif method == "DELETE":
                body = self._read_body() or {}
                result = cluster.delete_collection(
                    rtype,
                    version,
                    namespace,
                    query.get("labelSelector"),
                    query.get("fieldSelector"),
                    propagation=query.get("propagationPolicy") or body.get("propagationPolicy"),
                    dry_run=dry_run,
                )
                self._send(200, result)
            else:
                self._method_not_allowed()
            return
        if method in ("GET", "HEAD"):
            self._send(200, self._out(rtype, version, cluster.get(rtype, namespace, name)))
        elif method == "PUT":
            obj = cluster.replace(
                rtype,
                version,
                namespace,
                name,
                self._read_body(),
                manager=manager,
                subresource=subresource,
                dry_run=dry_run,
            )
            self._send(200, self._out(rtype, version, obj))
        elif method == "PATCH":
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            existed = True
            if content_type == "application/apply-patch+yaml":
                try:
                    cluster.get(rtype, namespace, name)
                except ApiError:
                    existed = False
                manager = query.get("fieldManager")
            obj = cluster.patch(
                rtype,
                version,
                namespace,
                name,
                content_type,
                self._read_body(),
                manager=manager,
                force=_bool(query.get("force", "false")),
                subresource=subresource,
                dry_run=dry_run,
            )
            self._send(200 if existed else 201, self._out(rtype, version, obj))
        elif method == "DELETE":
            if subresource:
                self._method_not_allowed()
                return
            body = self._read_body() or {}
            propagation = query.get("propagationPolicy") or body.get("propagationPolicy")
            if body.get("dryRun") == ["All"]:
                dry_run = True
            self._send(200, cluster.delete(rtype, version, namespace, name, propagation=propagation, dry_run=dry_run))
        else:
            self._method_not_allowed()

    def _method_not_allowed(self):
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")

    def _default_manager(self) -> str:
        # The real server names an unnamed field manager after the client's User-Agent, up to the first "/".
        agent = self.headers.get("User-Agent") or "unknown"
        return agent.split("/", 1)[0] or "unknown"

    @staticmethod
    def _out(rtype, version, obj) -> dict:
        if obj.get("kind") == "Status":
            return obj
        return {**obj, "apiVersion": rtype.group_version(version)}

    def _list(self, rtype, version, namespace, query) -> None:
        items, rv = self.cluster.list(rtype, namespace, query.get("labelSelector"), query.get("fieldSelector"))
        items = [self._out(rtype, version, o) for o in items]
        metadata = {"resourceVersion": rv}
        limit = int(query.get("limit") or 0)
        start = int(query.get("continue") or 0) if (query.get("continue") or "0").isdigit() else 0
        if limit > 0:
            page = items[start : start + limit]
            if start + limit < len(items):
                metadata["continue"] = str(start + limit)
                metadata["remainingItemCount"] = len(items) - start - limit
            items = page
        self._send(
            200,
            {
                "kind": f"{rtype.kind}List",
                "apiVersion": rtype.group_version(version),
                "metadata": metadata,
                "items": items,
            },
        )

    # -------------------------------------------------------------- watch

    def _watch(self, rtype, version, namespace, query) -> None:
        from .selectors import (  # pylint: disable=import-outside-toplevel
            SelectorError,
            fields_match,
            labels_match,
            parse_field_selector,
            parse_label_selector,
        )

        cluster = self.cluster
        try:
            labels = parse_label_selector(query.get("labelSelector"))
            fields = parse_field_selector(query.get("fieldSelector"))
        except SelectorError as exc:
            raise bad_request(str(exc)) from exc
        timeout = float(query.get("timeoutSeconds") or 1800)
        deadline = time.monotonic() + timeout
        requested = query.get("resourceVersion")

        def wanted(key, ns, obj):
            return (
                key == rtype.key
                and (namespace is None or ns == namespace)
                and labels_match(labels, obj["metadata"].get("labels"))
                and fields_match(fields, obj)
            )

        initial = []
        expired = None
        with cluster.lock:
            if requested in (None, "", "0"):
                items = cluster.list(rtype, namespace, query.get("labelSelector"), query.get("fieldSelector"))[0]
                initial = [("ADDED", o) for o in items]
                cursor = cluster.rv
            else:
                try:
                    cursor = int(requested)
                except ValueError as exc:
                    raise bad_request(f"invalid resource version {requested!r}") from exc
                if cursor < cluster.compacted_rv:
                    expired = status_body(410, "Expired", f"too old resource version: {cursor} ({cluster.rv})")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.close_connection = True
        try:
            if expired:
                self._chunk({"type": "ERROR", "object": expired})
            else:
                for etype, obj in initial:
                    self._chunk({"type": etype, "object": self._out(rtype, version, obj)})
                while True:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    with cluster.lock:
                        events = cluster.events_after(cursor)
                        if not events:
                            cluster.changed.wait(timeout=min(remaining, 1.0))
                            events = cluster.events_after(cursor)
                    if events:
                        cursor = events[-1][0]
                    for _rv, etype, key, ns, obj in events:
                        if wanted(key, ns, obj):
                            self._chunk({"type": etype, "object": self._out(rtype, version, obj)})
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            return

    def _chunk(self, event: dict) -> None:
        data = json.dumps(event, separators=(",", ":")).encode() + b"\n"
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    # -------------------------------------------------------------- admin

    def _admin(self, parts: list, query: dict) -> None:
        cluster = self.cluster
        if parts == ["reset"] and self.command == "POST":
            cluster.reset()
            self._send(200, {"reset": True, "resourceVersion": str(cluster.rv)})
        elif parts == ["objects"] and self.command == "GET":
            items = cluster.all_objects()
            for key in ("apiVersion", "kind"):
                if query.get(key):
                    items = [o for o in items if o.get(key) == query[key]]
            if "namespace" in query:
                items = [o for o in items if o["metadata"].get("namespace", "") == query["namespace"]]
            items.sort(
                key=lambda o: (
                    o.get("apiVersion"),
                    o.get("kind"),
                    o["metadata"].get("namespace", ""),
                    o["metadata"]["name"],
                )
            )
            self._send(200, {"resourceVersion": str(cluster.rv), "items": items})
        elif parts == ["save"] and self.command == "POST":
            if self.saver:
                self.saver.save()
            self._send(200, {"saved": bool(self.saver)})
        else:
            raise not_found_resource()


class KubeHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def make_server(cluster: Cluster, host: str = "127.0.0.1", port: int = 0, verbose: bool = False, saver=None):
    handler = type("BoundKubeHandler", (KubeHandler,), {"cluster": cluster, "verbose": verbose, "saver": saver})
    return KubeHTTPServer((host, port), handler)
