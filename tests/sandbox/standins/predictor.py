"""The sandbox end of a smoke prediction: a CA, an HTTPS predictor and a CONNECT proxy (tests only).

A served model answers on `https://<model>.<namespace>.<domain>/...` through the API ingress (an ALB
whose listener rule lets a request through only with the right header token). In the sandbox those
names do not resolve and there is no ALB, so the same `ansible.builtin.uri` request reaches this:

    client --CONNECT host:443--> proxy (http://127.0.0.1:P) --tunnel--> predictor (TLS, real SNI)

The client does real TLS to the real hostname inside the tunnel and checks the predictor's
certificate (SANs `*.<domain>` and `*.<namespace>.<domain>` per serving namespace) against the sandbox
CA. Nothing in the product knows: the client only sees `https_proxy` (honoured by urllib, so by
ansible.builtin.uri with its default `use_proxy: true`) and a CA bundle, which it is given the way
an SRE with a private CA gives one: the `ca_path` option of ansible.builtin.uri (only that file is
trusted), or `SSL_CERT_FILE` in the environment (replaces the default trust store of the process).

    with PredictorSandbox(domain="platform.example.com", namespaces=["kubeflow-user"],
                          tokens=["token1"], models=[{"name": "sklearn-iris", "namespace": "kubeflow-user"}]) as p:
        env = playbook_env(sandbox_env, p.env())        # https_proxy, no_proxy, KUBEFLOW_OPS_SANDBOX_CA_BUNDLE
        run_playbook(..., args=["-e", f"models_ca_bundle={p.ca_path}"])
        p.requests()                                    # what the predictor answered, tokens never recorded

What the predictor does (like the sklearn-iris sample behind Istio and the header-match ALB rule):

- host `<model>.<namespace>.<domain>` (Host header; anything else: 404), or in kube mode the host of
  the InferenceService's `status.url` when it has one;
- header token (`x-api-key` by default): missing -> 401, not one of the tokens -> 403 (checked
  first, as the ALB does before anything reaches the cluster); no token configured at all -> 503;
- unknown model in that namespace, or a path for another model -> 404;
- v1 (KFServing v1alpha2, KServe v1): `POST /v1/models/<m>:predict` `{"instances": [[4 floats], ...]}`
  -> `{"predictions": [class, ...]}`; `GET /v1/models/<m>` -> `{"name": m, "ready": true}`;
- v2 (open inference protocol): `POST /v2/models/<m>/infer` `{"inputs": [{"name", "shape": [n, 4],
  "datatype": "FP32", "data": [...]}]}` -> `{"model_name": m, "id", "outputs": [{"name": "predict",
  "shape": [n], "datatype": "INT64", "data": [...]}]}`; `GET /v2/models/<m>/ready`;
- a model speaks one protocol: the other protocol's paths are 404; a bad body is 400.

Where models and tokens come from: a JSON settings file, read again on every request
(`PredictorSandbox.configure(...)` rewrites it):

    {"domain": "platform.example.com", "header": "x-api-key", "tokens": ["token1"],
     "models": [{"name": "sklearn-iris", "namespace": "kubeflow-user", "protocol": "v1"}],
     "kube_url": null}

With `kube_url` (the Kubernetes stand-in), `models`, `header` and `tokens` are ignored and read on
each request from the cluster instead, the way the real path depends on them: every InferenceService
(`serving.kubeflow.org/v1alpha2` or `serving.kserve.io/v1beta1`) whose `Ready` condition is `True`
(protocol v2 when its predictor says `protocolVersion: v2`), and the header name and values of the
`alb.ingress.kubernetes.io/conditions.<service>` annotations (field `http-header`) of the Ingresses
(the API ingress `istio-ingress-api` of the kfserving role).

Manual use: `python -m tests.sandbox.standins.predictor --domain D --namespace NS --token T --model NS/NAME[:v2]
[--kube-url URL]` prints the environment to export and serves until interrupted.
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import json
import os
import re
import selectors
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[3]
DEFAULT_HEADER = "x-api-key"
ISVC_API_VERSIONS = ("serving.kubeflow.org/v1alpha2", "serving.kserve.io/v1beta1")
CONDITIONS_ANNOTATION = "alb.ingress.kubernetes.io/conditions."
# The sklearn-iris sample request of the guides, and what the sample model answers.
IRIS_INSTANCES = [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]
IRIS_PREDICTIONS = [1, 1]


# ---------------------------------------------------------------------------------------- TLS


class SandboxCA:
    """A throw-away certificate authority in `directory` (ca.pem) that issues server certificates."""

    def __init__(self, directory, name: str = "kubeflow-ops sandbox CA"):
        # cryptography is a dependency of ansible-core, so it is in every venv that runs the collection.
        from cryptography import x509  # pylint: disable=import-outside-toplevel
        from cryptography.hazmat.primitives import hashes  # pylint: disable=import-outside-toplevel
        from cryptography.hazmat.primitives.asymmetric import ec  # pylint: disable=import-outside-toplevel
        from cryptography.x509.oid import NameOID  # pylint: disable=import-outside-toplevel

        self._x509, self._hashes, self._ec, self._oid = x509, hashes, ec, NameOID
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        public = self._key.public_key()
        self._cert = (
            self._builder(subject, subject, public)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(self._key_usage(cert_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        self.ca_path = self.directory / "ca.pem"
        self.ca_path.write_bytes(self._pem(self._cert))

    def _builder(self, subject, issuer, public):
        now = datetime.datetime.now(datetime.timezone.utc)
        return (
            self._x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public)
            .serial_number(self._x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=30))
        )

    def _key_usage(self, cert_sign: bool):
        return self._x509.KeyUsage(
            digital_signature=True,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=cert_sign,
            crl_sign=cert_sign,
            encipher_only=False,
            decipher_only=False,
        )

    @staticmethod
    def _pem(cert) -> bytes:
        from cryptography.hazmat.primitives.serialization import Encoding  # pylint: disable=import-outside-toplevel

        return cert.public_bytes(Encoding.PEM)

    def issue(self, names, stem: str = "server") -> tuple[Path, Path]:
        """A server certificate for DNS `names` (wildcards allowed) and 127.0.0.1: (cert.pem, key.pem)."""
        from cryptography.hazmat.primitives import serialization  # pylint: disable=import-outside-toplevel

        x509 = self._x509
        names = list(dict.fromkeys(names))
        key = self._ec.generate_private_key(self._ec.SECP256R1())
        public = key.public_key()
        subject = x509.Name([x509.NameAttribute(self._oid.COMMON_NAME, names[0])])
        sans = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        ca_ski = self._cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        cert = (
            self._builder(subject, self._cert.subject, public)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(self._key_usage(cert_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
            .sign(self._key, self._hashes.SHA256())
        )
        cert_path, key_path = self.directory / f"{stem}.pem", self.directory / f"{stem}-key.pem"
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        key_path.chmod(0o600)
        cert_path.write_bytes(self._pem(cert) + self._pem(self._cert))
        return cert_path, key_path


def serving_hostnames(domain: str, namespaces=()) -> list:
    """The certificate names of the API ingress: `*.<domain>` and `*.<namespace>.<domain>` each."""
    return [f"*.{domain}"] + [f"*.{ns}.{domain}" for ns in namespaces]


# --------------------------------------------------------------------------------- the model


def iris_class(row) -> int:
    """A fixed decision tree close to the sklearn-iris sample model (0 setosa, 1 versicolor, 2 virginica)."""
    _sepal_length, _sepal_width, petal_length, petal_width = (float(v) for v in row)
    if petal_length < 2.45:
        return 0
    if petal_width < 1.75:
        return 1 if petal_length < 4.95 else 2
    return 2


def _iris_rows(rows) -> list:
    if not isinstance(rows, list) or not rows:
        raise ValueError("expected a non-empty list of rows")
    for row in rows:
        if (
            not isinstance(row, list)
            or len(row) != 4
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in row)
        ):
            raise ValueError(f"each row must be 4 numbers (sepal length/width, petal length/width), got {row!r}")
    return [iris_class(row) for row in rows]


def _v2_rows(tensor: dict) -> list:
    shape, data = tensor.get("shape"), tensor.get("data")
    if not isinstance(shape, list) or len(shape) != 2 or shape[1] != 4:
        raise ValueError(f"input {tensor.get('name')!r}: shape must be [n, 4], got {shape!r}")
    if isinstance(data, list) and data and all(isinstance(v, list) for v in data):
        rows = data
    elif isinstance(data, list):
        rows = [data[i : i + 4] for i in range(0, len(data), 4)]
    else:
        raise ValueError(f"input {tensor.get('name')!r}: data must be a list")
    if len(rows) != shape[0]:
        raise ValueError(f"input {tensor.get('name')!r}: data does not match shape {shape!r}")
    return rows


# ----------------------------------------------------------------------------------- settings


def _get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as resp:  # the stand-in: plain HTTP on loopback
        return json.loads(resp.read())


def _lower_keys(value):
    if isinstance(value, dict):
        return {str(k).lower(): _lower_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lower_keys(v) for v in value]
    return value


def _isvc_protocol(obj: dict) -> str:
    predictor = (obj.get("spec") or {}).get("predictor") or {}
    for component in predictor.values():
        if isinstance(component, dict) and str(component.get("protocolVersion", "")).lower() == "v2":
            return "v2"
    return "v1"


def models_from_kube(kube_url: str) -> list:
    """Ready InferenceServices of the stand-in, as settings `models` entries."""
    models = []
    for obj in _get_json(f"{kube_url}/sandbox/objects?kind=InferenceService")["items"]:
        if obj.get("apiVersion") not in ISVC_API_VERSIONS:
            continue
        conditions = (obj.get("status") or {}).get("conditions") or []
        if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions):
            meta = obj["metadata"]
            model = {"name": meta["name"], "namespace": meta.get("namespace"), "protocol": _isvc_protocol(obj)}
            url = obj["status"].get("url")
            if url:  # the host Knative routes (config-domain, cluster-local visibility) wins over the template
                model["host"] = (urlsplit(url).hostname or "").lower()
            models.append(model)
    return models


def header_rules_from_kube(kube_url: str) -> list:
    """(header name, values) of every http-header condition annotation on the stand-in's Ingresses."""
    rules = []
    for obj in _get_json(f"{kube_url}/sandbox/objects?kind=Ingress")["items"]:
        for key, value in ((obj.get("metadata") or {}).get("annotations") or {}).items():
            if not key.startswith(CONDITIONS_ANNOTATION):
                continue
            try:
                conditions = _lower_keys(json.loads(value))
            except ValueError:
                continue  # the ALB controller would refuse the Ingress; no rule, no way in
            for cond in conditions if isinstance(conditions, list) else []:
                config = cond.get("httpheaderconfig") or {}
                if cond.get("field") == "http-header" and config.get("httpheadername"):
                    rules.append((config["httpheadername"].lower(), [str(v) for v in config.get("values") or []]))
    return rules


class Settings:
    """The settings file, read on every request (it is tiny; a change is never missed)."""

    def __init__(self, path):
        self.path = Path(path)

    def data(self) -> dict:
        return json.loads(self.path.read_text())

    def current(self) -> tuple[str, list, list]:
        """(domain, models, header rules) as they are now."""
        data = self.data()
        domain = str(data["domain"]).lower().rstrip(".")
        if data.get("kube_url"):
            return domain, models_from_kube(data["kube_url"]), header_rules_from_kube(data["kube_url"])
        rules = []
        if data.get("tokens"):
            rules.append((str(data.get("header") or DEFAULT_HEADER).lower(), [str(t) for t in data["tokens"]]))
        return domain, list(data.get("models") or []), rules


# ---------------------------------------------------------------------------------- predictor

V1_PREDICT = re.compile(r"^/v1/models/(?P<model>[^/:]+):predict$")
V1_MODEL = re.compile(r"^/v1/models/(?P<model>[^/:]+)$")
V2_INFER = re.compile(r"^/v2/models/(?P<model>[^/]+)/infer$")
V2_READY = re.compile(r"^/v2/models/(?P<model>[^/]+)/ready$")


class HttpError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class PredictorHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kfops-predictor-sandbox/1"
    disable_nagle_algorithm = True
    settings: Settings = None  # set by make_servers
    request_log: Path | None = None

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def _send(self, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _record(self, code: int, host: str, model: str | None) -> None:
        if not self.request_log:
            return
        entry = {
            "time": time.time(),
            "method": self.command,
            "host": host,
            "sni": getattr(self.connection, "kfops_sni", None),
            "path": self.path,
            "status": code,
            "model": model,
            "token_sent": self._token_header is not None,  # never the token itself
        }
        with open(self.request_log, "a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")

    _token_header = None

    def _handle(self) -> None:
        self._token_header = None
        host = (self.headers.get("Host") or "").split(":")[0].lower().rstrip(".")
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        model = None
        try:
            domain, models, rules = self.settings.current()
            self._check_token(rules)
            model = self._find_model(host, domain, models)
            code, body = 200, self._answer(model, urlsplit(self.path).path, raw)
        except HttpError as exc:
            code, body = exc.code, {"error": exc.message}
        except OSError as exc:  # the stand-in is gone
            code, body = 503, {"error": f"sandbox predictor: cannot read its settings: {exc}"}
        self._record(code, host, model and model["name"])
        self._send(code, body)

    do_GET = do_POST = do_HEAD = _handle

    def _check_token(self, rules) -> None:
        if not rules:
            raise HttpError(503, "sandbox predictor: no header-token rule configured (no API ingress)")
        sent = [self.headers.get(name) for name, _values in rules]
        self._token_header = next((value for value in sent if value is not None), None)
        if self._token_header is None:
            names = ", ".join(sorted({name for name, _values in rules}))
            raise HttpError(401, f"missing header token ({names})")
        for name, values in rules:
            value = self.headers.get(name)
            if value is not None and value in values:
                return
        raise HttpError(403, "header token not accepted")

    @staticmethod
    def _find_model(host: str, domain: str, models: list) -> dict:
        for model in models:
            if host == (model.get("host") or f"{model.get('name')}.{model.get('namespace')}.{domain}"):
                return {"protocol": "v1", **model}
        suffix = "." + domain
        labels = host[: -len(suffix)].split(".") if host.endswith(suffix) else []
        if len(labels) != 2:
            raise HttpError(404, f"no route for host {host!r}")
        raise HttpError(404, f"no ready InferenceService {labels[0]!r} in namespace {labels[1]!r}")

    def _answer(self, model: dict, path: str, raw: bytes) -> dict:
        name, protocol = model["name"], model["protocol"]
        routes = {
            ("v1", "POST"): V1_PREDICT,
            ("v1", "GET"): V1_MODEL,
            ("v2", "POST"): V2_INFER,
            ("v2", "GET"): V2_READY,
        }
        pattern = routes.get((protocol, "GET" if self.command == "HEAD" else self.command))
        match = pattern.match(path) if pattern else None
        if not match:
            raise HttpError(404, f"model {name!r} ({protocol} protocol) has no {self.command} {path}")
        if match.group("model") != name:
            raise HttpError(404, f"Model with name {match.group('model')} does not exist.")
        if self.command != "POST":
            return {"name": name, "ready": True}
        try:
            body = json.loads(raw or b"null")
        except ValueError as exc:
            raise HttpError(400, f"body is not JSON: {exc}") from None
        if not isinstance(body, dict):
            raise HttpError(400, "body must be a JSON object")
        try:
            if protocol == "v1":
                if "instances" not in body:
                    raise ValueError('expected "instances"')
                return {"predictions": _iris_rows(body["instances"])}
            inputs = body.get("inputs")
            if not isinstance(inputs, list) or len(inputs) != 1 or not isinstance(inputs[0], dict):
                raise ValueError('expected "inputs": one tensor')
            classes = _iris_rows(_v2_rows(inputs[0]))
        except ValueError as exc:
            raise HttpError(400, str(exc)) from None
        return {
            "model_name": name,
            "model_version": None,
            "id": str(uuid.uuid4()),
            "parameters": None,
            "outputs": [{"name": "predict", "shape": [len(classes)], "datatype": "INT64", "data": classes}],
        }


class TLSServer(ThreadingHTTPServer):
    daemon_threads = True
    context: ssl.SSLContext = None

    def finish_request(self, request, client_address):
        # The handshake runs in the request thread, so one stalled client never blocks accept().
        try:
            request.settimeout(30)
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            request.close()
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass


def _remember_sni(sslobj, name, _context):
    # sslobj is the SSLSocket being handshaken; the handler reads the name back for its request log.
    try:
        sslobj.kfops_sni = name
    except AttributeError:
        pass


# -------------------------------------------------------------------------------------- proxy


class ConnectProxyHandler(BaseHTTPRequestHandler):
    """An HTTP proxy that only tunnels CONNECT <host>:443, always to the predictor."""

    protocol_version = "HTTP/1.1"
    server_version = "kfops-proxy-sandbox/1"
    upstream: tuple = None  # (host, port) of the predictor

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def _refuse(self, code: int, message: str) -> None:
        data = (message + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True

    def do_CONNECT(self):  # pylint: disable=invalid-name
        port = self.path.rpartition(":")[2]
        if port != "443":
            self._refuse(403, f"sandbox proxy: only <host>:443 is tunnelled, not {self.path}")
            return
        try:
            upstream = socket.create_connection(self.upstream, timeout=10)
        except OSError as exc:
            self._refuse(502, f"sandbox proxy: predictor unreachable: {exc}")
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        self._relay(self.connection, upstream)

    @staticmethod
    def _relay(client: socket.socket, upstream: socket.socket) -> None:
        client.settimeout(None)
        upstream.settimeout(None)
        peers = {client: upstream, upstream: client}
        with upstream, selectors.DefaultSelector() as sel:
            for sock in peers:
                sel.register(sock, selectors.EVENT_READ)
            while True:
                events = sel.select(timeout=120)
                if not events:
                    return
                for key, _mask in events:
                    try:
                        data = key.fileobj.recv(65536)
                        if not data:
                            return
                        peers[key.fileobj].sendall(data)
                    except OSError:
                        return

    def _not_connect(self):
        self._refuse(405, "sandbox proxy: only CONNECT <host>:443 is supported (set https_proxy, not http_proxy)")

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _not_connect


# ------------------------------------------------------------------------------------ servers


def make_servers(settings_path, cert, key, request_log=None, host: str = "127.0.0.1"):
    """The predictor (HTTPS) and the proxy in front of it, bound to free ports, not yet serving."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert), str(key))
    context.sni_callback = _remember_sni
    handler = type(
        "Predictor",
        (PredictorHandler,),
        {"settings": Settings(settings_path), "request_log": Path(request_log) if request_log else None},
    )
    predictor = TLSServer((host, 0), handler)
    predictor.context = context
    proxy_handler = type("Proxy", (ConnectProxyHandler,), {"upstream": (host, predictor.server_address[1])})
    proxy = ThreadingHTTPServer((host, 0), proxy_handler)
    proxy.daemon_threads = True
    return predictor, proxy


def serve(settings_path, cert, key, request_log=None) -> None:
    """Run both servers until SIGTERM; print where they listen (the parent reads these lines)."""
    predictor, proxy = make_servers(settings_path, cert, key, request_log)
    threading.Thread(target=predictor.serve_forever, daemon=True).start()
    print(f"predictor listening on https://127.0.0.1:{predictor.server_address[1]}", flush=True)
    print(f"proxy listening on http://127.0.0.1:{proxy.server_address[1]}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=proxy.shutdown).start())
    try:
        proxy.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        predictor.shutdown()


# ----------------------------------------------------------------------------- context manager


class PredictorSandbox:
    """Start/stop the predictor and its proxy in a subprocess; hand out the environment for clients.

    `models`: dicts `{"name", "namespace", "protocol": "v1" | "v2"}` (protocol defaults to v1).
    `namespaces`: the serving namespaces the certificate covers (default: those of `models`).
    `kube_url`: read models and tokens from the Kubernetes stand-in instead (see the module doc).
    """

    def __init__(
        self,
        domain: str,
        namespaces=None,
        tokens=(),
        models=(),
        header: str = DEFAULT_HEADER,
        kube_url: str | None = None,
    ):
        self.domain = domain.lower().rstrip(".")
        models = [dict(m) for m in models]
        if namespaces is None:
            namespaces = sorted({m["namespace"] for m in models})
        self.namespaces = list(namespaces)
        self._tmp = tempfile.TemporaryDirectory(prefix="kfops-predictor-")
        self.directory = Path(self._tmp.name)
        self.settings_path = self.directory / "settings.json"
        self.request_log = self.directory / "requests.jsonl"
        self.log = self.directory / "predictor.log"
        self._settings = {"domain": self.domain, "header": header, "tokens": list(tokens), "models": models}
        self._settings["kube_url"] = kube_url
        self.ca_path = None
        self.cert_path = self.key_path = None
        self.proxy_url = self.predictor_url = None
        self.proc = None
        self._log_fh = None

    def configure(self, **changes) -> None:
        """Change `tokens`, `models`, `header` or `kube_url`; the predictor reads them on its next request."""
        unknown = set(changes) - {"tokens", "models", "header", "kube_url"}
        if unknown:
            raise TypeError(f"unknown settings: {sorted(unknown)}")
        self._settings.update(changes)
        tmp = self.settings_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._settings, indent=2))
        os.replace(tmp, self.settings_path)

    def env(self, ssl_cert_file: bool = False) -> dict:
        """Variables to add to a playbook's environment.

        `https_proxy`/`HTTPS_PROXY` send every https:// request to the proxy (nothing else in the
        sandbox speaks https); `no_proxy` keeps loopback direct. `KUBEFLOW_OPS_SANDBOX_CA_BUNDLE` is
        for the harness to pass as the role's CA bundle variable (uri `ca_path`); with
        `ssl_cert_file=True`, `SSL_CERT_FILE` makes the CA trusted without any variable.
        """
        env = {
            "https_proxy": self.proxy_url,
            "HTTPS_PROXY": self.proxy_url,
            "no_proxy": "127.0.0.1,localhost",
            "NO_PROXY": "127.0.0.1,localhost",
            "KUBEFLOW_OPS_SANDBOX_CA_BUNDLE": str(self.ca_path),
        }
        if ssl_cert_file:
            env["SSL_CERT_FILE"] = str(self.ca_path)
        return env

    def url(self, model: str, namespace: str) -> str:
        return f"https://{model}.{namespace}.{self.domain}"

    def requests(self) -> list:
        """Every request the predictor answered: method, host, sni, path, status, model, token_sent."""
        if not self.request_log.exists():
            return []
        return [json.loads(line) for line in self.request_log.read_text().splitlines() if line.strip()]

    def start(self, timeout: float = 30) -> "PredictorSandbox":
        ca = SandboxCA(self.directory)
        self.ca_path = ca.ca_path
        self.cert_path, self.key_path = ca.issue(serving_hostnames(self.domain, self.namespaces))
        self.configure()
        cmd = [
            sys.executable,
            "-m",
            "tests.sandbox.standins.predictor",
            "--settings",
            str(self.settings_path),
            "--cert",
            str(self.cert_path),
            "--key",
            str(self.key_path),
            "--request-log",
            str(self.request_log),
        ]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        env["PYTHONUNBUFFERED"] = "1"
        for name in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
            env.pop(name, None)  # the predictor reads the stand-in directly
        self._log_fh = open(self.log, "wb")  # pylint: disable=consider-using-with
        self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
            cmd, cwd=str(REPO), env=env, stdout=self._log_fh, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sandbox predictor exited early:\n{self.log.read_text(errors='replace')}")
            for line in self.log.read_text(errors="replace").splitlines():
                if line.startswith("predictor listening on "):
                    self.predictor_url = line.split()[-1]
                elif line.startswith("proxy listening on "):
                    self.proxy_url = line.split()[-1]
            if self.proxy_url and self.predictor_url:
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"sandbox predictor did not start within {timeout}s:\n{self.log.read_text(errors='replace')}"
        )

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log_fh:
            self._log_fh.close()
            self._log_fh = None
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        self._tmp.cleanup()


def _model_arg(value: str) -> dict:
    namespace, rest = value.partition("/")[::2]
    name, protocol = rest.partition(":")[::2]
    if not namespace or not name or protocol not in ("", "v1", "v2"):
        raise argparse.ArgumentTypeError("expected NAMESPACE/NAME or NAMESPACE/NAME:v2")
    return {"name": name, "namespace": namespace, "protocol": protocol or "v1"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Sandbox predictor and CONNECT proxy (see the module doc).")
    parser.add_argument("--settings", help="serve with this settings file (the harness's child mode)")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--request-log")
    parser.add_argument("--domain", help="manual mode: the platform domain")
    parser.add_argument("--namespace", action="append", default=[], help="a serving namespace (repeatable)")
    parser.add_argument("--token", action="append", default=[], help="an accepted header token (repeatable)")
    parser.add_argument("--header", default=DEFAULT_HEADER)
    parser.add_argument("--model", action="append", default=[], type=_model_arg, help="NAMESPACE/NAME[:v2]")
    parser.add_argument("--kube-url", help="read models and tokens from the Kubernetes stand-in")
    args = parser.parse_args(argv)
    if args.settings:
        if not (args.cert and args.key):
            parser.error("--settings needs --cert and --key")
        serve(args.settings, args.cert, args.key, args.request_log)
        return 0
    if not args.domain:
        parser.error("give --settings (child mode) or --domain (manual mode)")
    namespaces = sorted(set(args.namespace) | {m["namespace"] for m in args.model})
    sandbox = PredictorSandbox(
        args.domain, namespaces, args.token, args.model, header=args.header, kube_url=args.kube_url
    )
    with sandbox:
        for key, value in sandbox.env().items():
            print(f"export {key}={value}")
        print(f"# CA bundle for uri ca_path: {sandbox.ca_path}", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
