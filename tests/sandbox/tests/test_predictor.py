"""The sandbox predictor: the smoke prediction of the models role succeeds through a proxy and real TLS."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
import yaml

from tests.sandbox.harness.playbook import BIN, REPO, playbook_env
from tests.sandbox.standins.k8s.fixtures import kube  # noqa: F401  pylint: disable=unused-import
from tests.sandbox.standins.predictor import IRIS_INSTANCES, IRIS_PREDICTIONS, PredictorSandbox, SandboxCA, iris_class

# pylint: disable=redefined-outer-name

DOMAIN = "platform.example.com"
TOKENS = ["token1", "token2"]
MODELS = [
    {"name": "sklearn-iris", "namespace": "kubeflow-user", "protocol": "v1"},
    {"name": "sklearn-v2-iris", "namespace": "serving", "protocol": "v2"},
]
V1_HOST = f"sklearn-iris.kubeflow-user.{DOMAIN}"
V1_PATH = "/v1/models/sklearn-iris:predict"
V2_HOST = f"sklearn-v2-iris.serving.{DOMAIN}"
V2_PATH = "/v2/models/sklearn-v2-iris/infer"
V2_BODY = {"inputs": [{"name": "input-0", "shape": [2, 4], "datatype": "FP32", "data": IRIS_INSTANCES}]}


@pytest.fixture(scope="module")
def predictor():
    with PredictorSandbox(DOMAIN, namespaces=["kubeflow-user", "serving"], tokens=TOKENS, models=MODELS) as sandbox:
        yield sandbox


@pytest.fixture
def fresh(predictor):
    """The module's predictor with the original settings back (a test may change them)."""
    predictor.configure(tokens=TOKENS, models=MODELS, header="x-api-key", kube_url=None)
    return predictor


def post(sandbox, host, path, body, headers=None, cafile="sandbox", method="POST"):
    """A request as urllib (so ansible.builtin.uri) makes it: through https_proxy, TLS to the real name."""
    cafile = str(sandbox.ca_path) if cafile == "sandbox" else cafile
    context = ssl.create_default_context(cafile=cafile)
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({"https": sandbox.proxy_url}), urllib.request.HTTPSHandler(context=context)
    )
    data = json.dumps(body).encode() if body is not None else None
    hdrs = {"Content-Type": "application/json", **(headers if headers is not None else {"x-api-key": TOKENS[0]})}
    request = urllib.request.Request(f"https://{host}{path}", data=data, headers=hdrs, method=method)
    try:
        with opener.open(request, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


# ------------------------------------------------------------------- ansible.builtin.uri, for real


def uri_task(name, register, host, path, token, body, **options):
    """A task shaped like the models role's smoke request (token in a header, result registered, no_log)."""
    args = {"url": f"https://{host}{path}", "method": "POST", "body_format": "json", "body": body}
    args["headers"] = {"x-api-key": token}
    args.update(options.pop("uri", {}))
    return {"name": name, "ansible.builtin.uri": args, "no_log": True, "register": register, **options}


def smoke_playbook(ca, out) -> list:
    v1 = {"instances": IRIS_INSTANCES}
    tasks = [
        uri_task("v1 with the CA bundle as ca_path", "v1", V1_HOST, V1_PATH, "token1", v1, uri={"ca_path": ca}),
        uri_task(
            "v2, CA from SSL_CERT_FILE", "v2", V2_HOST, V2_PATH, "token2", V2_BODY, environment={"SSL_CERT_FILE": ca}
        ),
        uri_task(
            "wrong token", "wrong_token", V1_HOST, V1_PATH, "not-a-token", v1, uri={"ca_path": ca}, ignore_errors=True
        ),
        uri_task(
            "unknown model",
            "unknown_model",
            f"nope.kubeflow-user.{DOMAIN}",
            "/v1/models/nope:predict",
            "token1",
            v1,
            uri={"ca_path": ca},
            ignore_errors=True,
        ),
        uri_task("no CA given", "no_ca", V1_HOST, V1_PATH, "token1", v1, ignore_errors=True),
        {
            "name": "results",
            "ansible.builtin.copy": {
                "dest": out,
                "mode": "0600",
                "content": "{{ dict(v1=v1, v2=v2, wrong_token=wrong_token, unknown_model=unknown_model, no_ca=no_ca)"
                " | to_json }}",
            },
        },
    ]
    return [{"hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": tasks}]


@pytest.fixture(scope="module")
def uri_results(predictor, tmp_path_factory):
    """One real ansible-playbook run of ansible.builtin.uri tasks shaped like the models role's smoke request."""
    predictor.configure(tokens=TOKENS, models=MODELS, header="x-api-key", kube_url=None)
    tmp = tmp_path_factory.mktemp("uri")
    out = tmp / "results.json"
    playbook = tmp / "smoke.yml"
    playbook.write_text(yaml.safe_dump(smoke_playbook(str(predictor.ca_path), str(out)), sort_keys=False))
    env = playbook_env({}, predictor.env())
    env.pop("SSL_CERT_FILE", None)
    before = len(predictor.requests())
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", "localhost,", "-e", f"ansible_python_interpreter={sys.executable}"]
        + [str(playbook)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "token1" not in proc.stdout and "token2" not in proc.stdout
    return json.loads(out.read_text()), predictor.requests()[before:]


def test_uri_with_token_gets_v1_predictions(uri_results):
    results = uri_results[0]
    assert results["v1"]["status"] == 200
    assert results["v1"]["json"] == {"predictions": IRIS_PREDICTIONS}


def test_uri_v2_protocol_with_ssl_cert_file(uri_results):
    results = uri_results[0]
    assert results["v2"]["status"] == 200
    output = results["v2"]["json"]["outputs"][0]
    assert results["v2"]["json"]["model_name"] == "sklearn-v2-iris"
    assert output == {"name": "predict", "shape": [2], "datatype": "INT64", "data": IRIS_PREDICTIONS}


def test_uri_wrong_token_is_403(uri_results):
    results = uri_results[0]
    assert results["wrong_token"]["failed"] and results["wrong_token"]["status"] == 403


def test_uri_unknown_model_is_404(uri_results):
    results = uri_results[0]
    assert results["unknown_model"]["failed"] and results["unknown_model"]["status"] == 404


def test_uri_without_the_ca_fails_certificate_validation(uri_results):
    results, requests = uri_results
    assert results["no_ca"]["failed"]
    assert "CERTIFICATE_VERIFY_FAILED" in results["no_ca"]["msg"] or "certificate verify" in results["no_ca"]["msg"]
    # Four requests reached the predictor (not the one without a CA), each with TLS to the real name.
    assert [r["status"] for r in requests] == [200, 200, 403, 404]
    assert all(r["sni"] == r["host"] for r in requests)
    assert requests[0]["host"] == V1_HOST


# ------------------------------------------------------------------------------ urllib, in process


def test_v1_and_v2_answers(fresh):
    assert post(fresh, V1_HOST, V1_PATH, {"instances": IRIS_INSTANCES}) == (200, {"predictions": [1, 1]})
    code, body = post(fresh, V2_HOST, V2_PATH, V2_BODY)
    assert code == 200 and body["outputs"][0]["data"] == [1, 1] and body["outputs"][0]["shape"] == [2]
    flat = {"inputs": [{"name": "x", "shape": [2, 4], "datatype": "FP32", "data": sum(IRIS_INSTANCES, [])}]}
    assert post(fresh, V2_HOST, V2_PATH, flat)[1]["outputs"][0]["data"] == [1, 1]
    assert post(fresh, V1_HOST, "/v1/models/sklearn-iris", None, method="GET") == (
        200,
        {"name": "sklearn-iris", "ready": True},
    )


def test_iris_classes():
    assert [iris_class(r) for r in ([5.1, 3.5, 1.4, 0.2], [6.8, 2.8, 4.8, 1.4], [6.3, 3.3, 6.0, 2.5])] == [0, 1, 2]


@pytest.mark.parametrize(
    "headers, code",
    [({}, 401), ({"x-api-key": "wrong"}, 403), ({"x-api-key": ""}, 403), ({"X-API-KEY": "token2"}, 200)],
)
def test_header_token(fresh, headers, code):
    assert post(fresh, V1_HOST, V1_PATH, {"instances": IRIS_INSTANCES}, headers=headers)[0] == code


def test_header_name_and_tokens_are_settings(fresh):
    fresh.configure(header="x-team-token", tokens=["s3cret"])
    body = {"instances": IRIS_INSTANCES}
    assert post(fresh, V1_HOST, V1_PATH, body, headers={"x-api-key": "token1"})[0] == 401
    assert post(fresh, V1_HOST, V1_PATH, body, headers={"x-team-token": "s3cret"})[0] == 200
    fresh.configure(tokens=[])
    code, answer = post(fresh, V1_HOST, V1_PATH, body, headers={"x-team-token": "s3cret"})
    assert code == 503 and "no header-token rule" in answer["error"]


@pytest.mark.parametrize(
    "host, path",
    [
        (f"nope.kubeflow-user.{DOMAIN}", "/v1/models/nope:predict"),  # no such model
        (f"sklearn-iris.serving.{DOMAIN}", V1_PATH),  # model exists, other namespace
        (V1_HOST, "/v1/models/other:predict"),  # path names another model
        (V1_HOST, "/v2/models/sklearn-iris/infer"),  # v1 model, v2 path
        (V2_HOST, "/v1/models/sklearn-v2-iris:predict"),  # v2 model, v1 path
        (f"kubeflow.{DOMAIN}", V1_PATH),  # not <model>.<namespace>.<domain>
    ],
)
def test_unknown_routes_are_404(fresh, host, path):
    code, body = post(fresh, host, path, {"instances": IRIS_INSTANCES})
    assert code == 404, body
    assert body["error"]


@pytest.mark.parametrize(
    "host, path, body",
    [
        (V1_HOST, V1_PATH, {"inputs": IRIS_INSTANCES}),
        (V1_HOST, V1_PATH, {"instances": [[1, 2, 3]]}),
        (V1_HOST, V1_PATH, [1, 2]),
        (V2_HOST, V2_PATH, {"inputs": [{"name": "x", "shape": [3, 4], "data": IRIS_INSTANCES}]}),
    ],
)
def test_bad_body_is_400(fresh, host, path, body):
    assert post(fresh, host, path, body)[0] == 400


def test_tls_is_real(fresh, tmp_path):
    body = {"instances": IRIS_INSTANCES}
    other_ca = SandboxCA(tmp_path / "other")
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        post(fresh, V1_HOST, V1_PATH, body, cafile=str(other_ca.ca_path))
    # A namespace the certificate has no wildcard for fails the hostname check, as on the real ALB.
    with pytest.raises(urllib.error.URLError, match="Hostname mismatch|doesn't match"):
        post(fresh, f"sklearn-iris.no-san.{DOMAIN}", V1_PATH, body)


def test_proxy_tunnels_only_port_443(fresh):
    host, port = fresh.proxy_url.rsplit("/", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"CONNECT example.org:80 HTTP/1.1\r\nHost: example.org:80\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 403")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{fresh.proxy_url}/", timeout=10)  # pylint: disable=consider-using-with
    assert info.value.code == 405


# ----------------------------------------------------------------- models and tokens from the stand-in

ISVC_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "inferenceservices.serving.kserve.io"},
    "spec": {
        "group": "serving.kserve.io",
        "scope": "Namespaced",
        "names": {"plural": "inferenceservices", "singular": "inferenceservice", "kind": "InferenceService"},
        "versions": [
            {
                "name": "v1beta1",
                "served": True,
                "storage": True,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
            }
        ],
    },
}


def _isvc(name, ready, protocol=None, url=None):
    model = {"modelFormat": {"name": "sklearn"}, "storageUri": "s3://bucket/iris"}
    if protocol:
        model["protocolVersion"] = protocol
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": name, "namespace": "kubeflow-user"},
        "spec": {"predictor": {"model": model}},
        "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}], "url": url},
    }


def _api_ingress(values):
    condition = [{"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "x-api-key", "Values": values}}]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": "istio-ingress-api",
            "namespace": "istio-system",
            "annotations": {
                "alb.ingress.kubernetes.io/conditions.istio-ingressgateway": json.dumps(condition),
            },
        },
        "spec": {
            "rules": [
                {
                    "http": {
                        "paths": [
                            {
                                "path": "/*",
                                "pathType": "ImplementationSpecific",
                                "backend": {"service": {"name": "istio-ingressgateway", "port": {"number": 80}}},
                            }
                        ]
                    }
                }
            ]
        },
    }


def test_models_and_tokens_from_the_kubernetes_standin(fresh, kube):  # noqa: F811
    dyn = kube.dynamic_client()
    dyn.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition").create(body=ISVC_CRD)
    for ns in ("kubeflow-user", "istio-system"):
        dyn.resources.get(api_version="v1", kind="Namespace").create(body={"metadata": {"name": ns}})
    fresh.configure(kube_url=kube.url)
    body = {"instances": IRIS_INSTANCES}

    code, answer = post(fresh, V1_HOST, V1_PATH, body)
    assert code == 503 and "no API ingress" in answer["error"]  # the kfserving role has not run

    dyn.resources.get(api_version="networking.k8s.io/v1", kind="Ingress").create(
        body=_api_ingress(["kube-token"]), namespace="istio-system"
    )
    assert post(fresh, V1_HOST, V1_PATH, body, headers={"x-api-key": "token1"})[0] == 403
    assert post(fresh, V1_HOST, V1_PATH, body, headers={"x-api-key": "kube-token"})[0] == 404  # no ISVC yet

    isvcs = dyn.resources.get(api_version="serving.kserve.io/v1beta1", kind="InferenceService")
    isvcs.create(body=_isvc("sklearn-iris", ready=False), namespace="kubeflow-user")
    assert post(fresh, V1_HOST, V1_PATH, body, headers={"x-api-key": "kube-token"})[0] == 404  # not Ready
    isvcs.delete(name="sklearn-iris", namespace="kubeflow-user")
    isvcs.create(body=_isvc("sklearn-iris", ready=True), namespace="kubeflow-user")
    assert post(fresh, V1_HOST, V1_PATH, body, headers={"x-api-key": "kube-token"}) == (200, {"predictions": [1, 1]})

    url = f"http://iris-v2.kubeflow-user.{DOMAIN}"
    isvcs.create(body=_isvc("iris-v2", ready=True, protocol="v2", url=url), namespace="kubeflow-user")
    code, answer = post(
        fresh,
        f"iris-v2.kubeflow-user.{DOMAIN}",
        "/v2/models/iris-v2/infer",
        V2_BODY,
        headers={"x-api-key": "kube-token"},
    )
    assert code == 200 and answer["outputs"][0]["data"] == [1, 1]
    # Knative routes by the InferenceService's URL: a cluster-local one is not reachable from outside.
    local = _isvc("local-iris", ready=True, url="http://local-iris.kubeflow-user.svc.cluster.local")
    isvcs.create(body=local, namespace="kubeflow-user")
    code, answer = post(
        fresh,
        f"local-iris.kubeflow-user.{DOMAIN}",
        "/v1/models/local-iris:predict",
        body,
        headers={"x-api-key": "kube-token"},
    )
    assert code == 404 and "no ready InferenceService 'local-iris'" in answer["error"]
