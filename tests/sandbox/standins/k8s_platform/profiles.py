"""The Kubeflow profile controller: a Profile owns a namespace of its name.

As the upstream controller (components/profile-controller) does for the parts the platform relies on:
the namespace gets the owner annotation and the labels that Istio injection, KFServing/KServe and the
Kubeflow dashboard look for, the Profile gets a Ready condition; deleting the Profile deletes its
namespace (finalizer `profile-finalizer`). Role bindings, quotas and the namespace's Istio policies are
not simulated. A namespace that exists already is left as it is (the upstream controller refuses to
take over one it does not own; the stand-in only reports it on the condition).
"""

from __future__ import annotations

try:  # the stand-in's controller registry (tests/sandbox/standins/k8s/controllers.py)
    from tests.sandbox.standins.k8s.controllers import controller, set_condition
except ImportError:  # pragma: no cover
    controller = set_condition = None

FINALIZER = "profile-finalizer"
OWNER_ANNOTATION = "owner"
LABELS = {
    "app.kubernetes.io/part-of": "kubeflow-profile",
    "istio-injection": "enabled",
    "katib.kubeflow.org/metrics-collector-injection": "enabled",
    "serving.kubeflow.org/inferenceservice": "enabled",
    "pipelines.kubeflow.org/enabled": "true",
}


def profile(obj, view):
    """reconcile(profile, view): make the profile's namespace, report Ready."""
    name = obj["metadata"]["name"]
    owner = ((obj.get("spec") or {}).get("owner") or {}).get("name", "")
    existing = view.get("", "Namespace", name)
    if existing is None:
        view.create(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": name, "labels": dict(LABELS), "annotations": {OWNER_ANNOTATION: owner}},
            },
            manager="profile-controller",
        )
        state, reason, message = "True", "", ""
    elif (existing["metadata"].get("annotations") or {}).get(OWNER_ANNOTATION) == owner:
        state, reason, message = "True", "", ""
    else:
        state, reason = "False", "NamespaceOwnedByOther"
        message = f"namespace {name} exists and is not owned by {owner}"
    conditions = set_condition((obj.get("status") or {}).get("conditions"), "Ready", state, reason, message)
    return {"conditions": conditions}


def remove_namespace(obj, view):
    """finalize(profile, view): the profile's namespace goes with it (when the profile owns it)."""
    name = obj["metadata"]["name"]
    owner = ((obj.get("spec") or {}).get("owner") or {}).get("name", "")
    existing = view.get("", "Namespace", name)
    if existing is not None and (existing["metadata"].get("annotations") or {}).get(OWNER_ANNOTATION) == owner:
        view.delete("", "Namespace", name)
    return True


if controller is not None:
    controller("kubeflow.org", "Profile", name="profile-controller", finalizer=FINALIZER, finalize=remove_namespace)(
        profile
    )
