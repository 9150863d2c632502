#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubeflow_ops.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: k8s_bundle
short_description: Apply or delete a whole bundle of Kubernetes objects (a kustomization) in one call
version_added: 0.1.0
description:
  - Applies every object of a bundle - the output of C(kubectl kustomize DIR) for O(kustomization), or the list
    O(definitions) - with server-side apply in one module invocation, in dependency order
    (CustomResourceDefinitions and Namespaces, then the rest, admission webhook configurations last), and waits
    until the bundle's CustomResourceDefinitions are C(Established) before any custom resource is applied.
  - Made for manifests with hundreds of objects such as the Kubeflow-on-AWS deployments. Requests run on
    O(workers) connections at once; objects that failed are applied again, and only they, up to O(retries)
    times with a growing pause (webhooks that are not served yet, kinds not discovered yet, an API server that
    is busy). Errors that a retry cannot fix (invalid object, field manager conflict) are not retried.
  - Before building, O(params) (and O(secret_params)) write the C(params.env) files the kustomization reads
    (C(configMapGenerator) / C(secretGenerator) C(envs)) whole, as C(key=value) lines, atomically and only when
    their content differs.
  - An object counts as changed only when the API server changed it (its C(resourceVersion) moved), so a second
    run with the same input reports no change. In check mode every object is sent as a server-side dry run and
    compared with the stored one; objects that need a CustomResourceDefinition or Namespace the bundle would
    create are counted as created without asking the server.
  - O(state=absent) deletes the bundle's objects in the reverse order - webhook configurations first, custom
    resources before their CustomResourceDefinitions, Namespaces last - and with O(wait) waits until they are gone.
  - Objects the API server has that are not in the bundle are left alone (no pruning).
author:
  - kubeflow_ops maintainers (!UNKNOWN)
options:
  state:
    description:
      - V(present) applies the bundle, V(absent) deletes its objects.
    type: str
    choices: [present, absent]
    default: present
  kustomization:
    description:
      - Directory holding a C(kustomization.yaml), built with O(kubectl_path) (C(kubectl kustomize DIR), or
        C(kustomize build DIR) when O(kubectl_path) names a C(kustomize) binary).
      - Exactly one of O(kustomization) and O(definitions) is required.
    type: path
  definitions:
    description:
      - The objects as a list of dictionaries (each with C(apiVersion), C(kind) and C(metadata.name); a C(v1/List)
        is flattened), for example from the P(kubernetes.core.kustomize#lookup) lookup.
      - Exactly one of O(kustomization) and O(definitions) is required.
    type: list
    elements: dict
  kubectl_path:
    description:
      - Path of the C(kubectl) (or C(kustomize)) binary that builds O(kustomization).
      - Looked up on E(PATH) when not given, C(kubectl) first, then C(kustomize).
    type: path
  params:
    description:
      - C(params.env) files to write before the build, as a mapping of file path to a mapping of keys to values.
        Relative paths are relative to O(kustomization). Each file is written whole (keys in the order given,
        one C(key=value) line each, a null value as an empty value), atomically, and only when its content
        differs; its directory must exist.
      - Only with O(kustomization). The values show in the diff; put secret values in O(secret_params).
    type: dict
    default: {}
  secret_params:
    description:
      - Like O(params), for values that must never print (for example those a C(secretGenerator) reads). They
        are written to the same files (after the keys of O(params)) and show as C(********) in the diff.
    type: dict
    default: {}
  create_only:
    description:
      - Objects of the bundle that are created when missing and never updated afterwards, because another tool
        owns them once they exist (for example Knative's C(config-domain) ConfigMap, whose data the platform's
        own role sets; applying the bundle's copy again would undo that on every run).
      - Each entry names one object by C(kind), C(name) and, for namespaced kinds, C(namespace). An entry that
        matches no object of the bundle gives a warning (a role may pass the same list to several bundles).
      - With O(state=absent) they are deleted like the other objects.
    type: list
    elements: dict
    default: []
    suboptions:
      kind: {description: Kind of the object., type: str, required: true}
      name: {description: Name of the object., type: str, required: true}
      namespace: {description: Namespace of the object (empty for cluster-scoped ones)., type: str, default: ''}
  api_versions:
    description:
      - apiVersions the bundle uses that the cluster no longer serves, each mapped to the apiVersion that replaced it
        with the same schema. Kubeflow 1.7's Knative ships two HorizontalPodAutoscalers as C(autoscaling/v2beta2),
        which Kubernetes 1.26 removed; mapping C(autoscaling/v2beta2) to C(autoscaling/v2) applies them on current
        clusters.
      - Only what is sent changes (the kustomization is not touched); O(state=absent) uses the mapping too.
    type: dict
    default: {}
  namespace:
    description:
      - Namespace of namespaced objects that have none in their metadata.
    type: str
    default: default
  field_manager:
    description: Field manager name of the server-side apply requests.
    type: str
    default: kubeflow-ops
  force_conflicts:
    description:
      - Take over fields another field manager owns (C(force=true) on the apply requests), for example after an
        install with C(kubectl apply). Without it such an object fails with the conflicting fields in its error.
    type: bool
    default: false
  wait:
    description:
      - With O(state=absent), wait until every deleted object is gone (Namespaces and objects with finalizers
        take a while).
      - With O(state=present) the module always waits for the bundle's CustomResourceDefinitions to be
        C(Established); this option does not change that.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the CustomResourceDefinitions to be C(Established), and with O(state=absent) and
        O(wait) for the deleted objects to be gone. The error names what was still awaited.
    type: int
    default: 120
  retries:
    description:
      - How many more times objects that failed are applied (or deleted) again, in each phase. V(0) tries once.
    type: int
    default: 5
  retry_delay:
    description: Seconds before the first retry; each further retry waits 1.5 times longer (at most 30 s).
    type: float
    default: 2.0
  workers:
    description: How many requests run at the same time (V(1) applies one object after the other).
    type: int
    default: 4
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
requirements:
  - kubernetes >= 24.2.0 and PyYAML (Python libraries on the host the module runs on).
  - kubectl (with its built-in kustomize) or kustomize, for O(kustomization).
notes:
  - Keys whose value is null are left out of the applied objects (server-side apply gives them no meaning).
  - The data of Secret objects never shows in results or diffs (shown as C(<hidden>)); values of at least six
    characters are also masked anywhere else in the output. A C(kubectl.kubernetes.io/last-applied-configuration)
    annotation of a Secret is hidden too.
  - In check mode with O(params) that differ from the files, the build runs on a temporary tree that has the
    new files in place and links to everything else, so the plan shows their effect while nothing is written.
  - Unlike M(kubernetes.core.k8s) with a list O(definitions), one failing object does not stop the others;
    the module fails at the end and lists every object that still failed in RV(failed_objects).
seealso:
  - module: kubernetes.core.k8s
  - plugin: kubernetes.core.kustomize
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: Kubeflow 1.7 with Cognito from the Kubeflow-on-AWS manifests
  kubeflow_ops.aws.k8s_bundle:
    kustomization: "{{ kubeflow_manifests }}/deployments/cognito"
    kubeconfig: "{{ kubeconfig_path }}"
    params:
      ../../awsconfigs/common/istio-ingress/overlays/cognito/params.env:
        CognitoUserPoolArn: "{{ pool_arn }}"
        CognitoAppClientId: "{{ app_client_id }}"
        CognitoUserPoolDomain: "auth.{{ domain }}"
        certArn: "{{ certificate_arn }}"
      ../../awsconfigs/common/aws-alb-ingress-controller/base/params.env:
        clusterName: "{{ cluster_name }}"
      ../../awsconfigs/common/aws-authservice/base/params.env:
        LOGOUT_URL: "https://auth.{{ domain }}/logout?client_id={{ app_client_id }}&logout_uri=https://kubeflow.{{ domain }}"
    wait_timeout: 300
  register: kubeflow

- name: What the install changed
  ansible.builtin.debug:
    msg: "{{ kubeflow.counts }}"

- name: Objects from the kustomize lookup, taking over fields an earlier kubectl apply owned
  kubeflow_ops.aws.k8s_bundle:
    definitions: "{{ lookup('kubernetes.core.kustomize', dir='manifests/knative') | from_yaml_all | list }}"
    force_conflicts: true

- name: Remove the bundle (custom resources, then CRDs, then namespaces)
  kubeflow_ops.aws.k8s_bundle:
    kustomization: "{{ kubeflow_manifests }}/deployments/cognito"
    state: absent
    wait_timeout: 600
"""

RETURN = r"""
total:
  description: Number of objects in the bundle.
  returned: always
  type: int
  sample: 647
crds:
  description: Number of CustomResourceDefinitions in the bundle.
  returned: always
  type: int
  sample: 100
counts:
  description: How many objects were (or in check mode would be) created, updated, deleted, left unchanged or failed.
  returned: always
  type: dict
  contains:
    created: {description: Objects created., type: int}
    updated: {description: Objects the apply changed., type: int}
    unchanged: {description: Objects the apply left as they were (or already absent with O(state=absent))., type: int}
    deleted: {description: Objects deleted (O(state=absent))., type: int}
    failed: {description: Objects that still failed after the retries., type: int}
  sample: {created: 647, updated: 0, unchanged: 0, deleted: 0, failed: 0}
changed_objects:
  description: The objects that changed (or would change), in the order of the bundle.
  returned: always
  type: list
  elements: dict
  contains:
    api_version: {description: apiVersion of the object., type: str}
    kind: {description: Kind of the object., type: str}
    namespace: {description: Namespace of the object (empty for cluster-scoped objects)., type: str}
    name: {description: Name of the object., type: str}
    action: {description: "V(create), V(update) or V(delete).", type: str}
  sample: [{api_version: v1, kind: ConfigMap, namespace: istio-system, name: istio-ingress-cognito-parameters,
            action: update}]
failed_objects:
  description: The objects that failed after the retries, with the API server's answer.
  returned: always
  type: list
  elements: dict
  contains:
    api_version: {description: apiVersion of the object., type: str}
    kind: {description: Kind of the object., type: str}
    namespace: {description: Namespace of the object., type: str}
    name: {description: Name of the object., type: str}
    status: {description: HTTP status of the last answer (0 when no answer came)., type: int}
    reason: {description: "Reason of the last answer (C(Invalid), C(Conflict), C(NotFound), ...).", type: str}
    message: {description: Message of the last answer., type: str}
    attempts: {description: How many times the object was tried., type: int}
params_files:
  description: The O(params) / O(secret_params) files and whether each was (or would be) written.
  returned: always
  type: list
  elements: dict
  contains:
    path: {description: Absolute path of the file., type: str}
    changed: {description: Whether the content differed., type: bool}
  sample: [{path: /srv/manifests/awsconfigs/common/istio-ingress/overlays/cognito/params.env, changed: true}]
retried:
  description: How many object operations were tried again after a failure.
  returned: always
  type: int
  sample: 0
durations:
  description:
    - Seconds spent building the kustomization (C(build)), applying (C(apply), including C(crds_established),
      the wait for the CustomResourceDefinitions) or deleting (C(delete)) and waiting for deleted objects to be
      gone (C(gone)).
  returned: always
  type: dict
  sample: {build: 3.1, apply: 14.2, crds_established: 0.0}
"""

import base64
import concurrent.futures
import copy
import json
import os
import re
import shutil
import tempfile
import threading
import time
import traceback

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    yaml = None

try:
    from kubernetes.dynamic.exceptions import DynamicApiError, ResourceNotFoundError, ResourceNotUniqueError

    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError:
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = traceback.format_exc()
    DynamicApiError = ResourceNotFoundError = ResourceNotUniqueError = Exception

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_text
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client

from ansible_collections.kubeflow_ops.aws.plugins.module_utils._common import WaitTimeout, poll_until

CRD = ("apiextensions.k8s.io", "CustomResourceDefinition")
NAMESPACE = ("", "Namespace")
LAST_KINDS = {
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("apiregistration.k8s.io", "APIService"),
}
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
# Answers a later attempt cannot change: the object itself is wrong or another manager owns its fields.
FINAL_STATUSES = {400, 401, 405, 409, 413, 415, 422}
NOISE = ("resourceVersion", "managedFields", "uid", "creationTimestamp", "generation", "selfLink")
HIDDEN = "<hidden>"
MASK = "********"
PARAM_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
MIN_MASKED = 6


class BundleError(Exception):
    """The input is wrong; nothing has been applied."""


class Item:
    """One object of the bundle and what happened to it."""

    __slots__ = (
        "body",
        "group",
        "version",
        "kind",
        "name",
        "namespace",
        "action",
        "error",
        "attempts",
        "states",
        "create_only",
    )

    def __init__(self, body):
        api_version = body["apiVersion"]
        self.group, _sep, self.version = api_version.rpartition("/")
        self.kind = body["kind"]
        self.name = body["metadata"]["name"]
        self.namespace = body["metadata"].get("namespace") or ""
        self.body = body
        self.action = None  # create / update / unchanged / delete / absent, or None when it failed
        self.error = None
        self.attempts = 0
        self.states = None
        self.create_only = False

    @property
    def api_version(self):
        return self.body["apiVersion"]

    @property
    def gk(self):
        return (self.group, self.kind)

    @property
    def label(self):
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"

    def cluster_scoped(self):
        """Forget a namespace kustomize gave a cluster-scoped object (the API server ignores it too)."""
        if self.namespace:
            self.namespace = ""
            metadata = {k: v for k, v in self.body["metadata"].items() if k != "namespace"}
            self.body = dict(self.body, metadata=metadata)

    def scope(self, namespaced, default_namespace):
        """Fit the object to the scope of its kind: no namespace, or the default one when it has none."""
        if not namespaced:
            self.cluster_scoped()
        elif not self.namespace:
            self.namespace = default_namespace
            self.body = dict(self.body, metadata=dict(self.body["metadata"], namespace=default_namespace))

    def summary(self):
        return dict(
            api_version=self.api_version, kind=self.kind, namespace=self.namespace, name=self.name, action=self.action
        )


def drop_nulls(value):
    """A copy without null map values (at any depth)."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


def flatten(objects):
    for obj in objects:
        if isinstance(obj, dict) and obj.get("kind") == "List" and isinstance(obj.get("items"), list):
            yield from flatten(obj["items"])
        else:
            yield obj


def mark_create_only(items, entries):
    """Flag the items named in `entries` (the create_only option); returns the entries that name none."""
    unknown = []
    for entry in entries:
        matched = False
        for item in items:
            if (item.kind, item.name) == (entry["kind"], entry["name"]) and item.namespace in (
                entry.get("namespace") or "",
                "",
            ):
                item.create_only = matched = True
        if not matched:
            where = f"{entry['namespace']}/" if entry.get("namespace") else ""
            unknown.append(f"{entry['kind']} {where}{entry['name']}")
    return unknown


def load_items(objects, api_versions=None):
    """Validate the objects and wrap them; duplicates and objects without a name are input errors.
    `api_versions` maps apiVersions the cluster no longer serves to their replacements."""
    items, seen, errors = [], {}, []
    for index, obj in enumerate(flatten(objects)):
        if isinstance(obj, dict) and obj.get("apiVersion") in (api_versions or {}):
            obj = dict(obj, apiVersion=api_versions[obj["apiVersion"]])
        where = f"object {index + 1}"
        if not isinstance(obj, dict):
            errors.append(f"{where} is not a mapping")
            continue
        metadata = obj.get("metadata")
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if not isinstance(api_version, str) or not api_version or not isinstance(kind, str) or not kind:
            errors.append(f"{where} has no apiVersion or kind")
            continue
        if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str) or not metadata["name"]:
            errors.append(f"{where} ({kind}) has no metadata.name (generateName is not supported)")
            continue
        item = Item(drop_nulls(obj))
        key = (item.group, item.kind, item.namespace, item.name)
        if key in seen:
            errors.append(f"{item.label} ({item.api_version}) appears twice (objects {seen[key]} and {index + 1})")
            continue
        seen[key] = index + 1
        items.append(item)
    if errors:
        raise BundleError("invalid bundle: " + "; ".join(errors))
    return items


# --------------------------------------------------------------------------- params.env files


def render_params(values, what):
    lines = []
    for key, value in values.items():
        if not isinstance(key, str) or not PARAM_KEY.match(key):
            raise BundleError(f"{what}: key {key!r} is not a valid env file key")
        if value is None:
            value = ""
        elif isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (int, float, str)):
            value = to_text(value)
        else:
            raise BundleError(f"{what}: value of {key} must be a string, number, boolean or null")
        if "\n" in value or "\r" in value:
            raise BundleError(f"{what}: value of {key} spans more than one line")
        lines.append(f"{key}={value}")
    return "".join(line + "\n" for line in lines)


def plan_params(params, secret_params, base):
    """{absolute path: (new text, set of secret keys)} from the two options."""
    files = {}
    for option, mapping in (("params", params), ("secret_params", secret_params)):
        for path, values in (mapping or {}).items():
            if not isinstance(values, dict):
                raise BundleError(f"{option}: {path} must map keys to values")
            full = os.path.normpath(os.path.join(base, path))
            text, secret = files.get(full, ("", set()))
            twice = set(values) & {line.split("=", 1)[0] for line in text.splitlines()}
            if twice:
                raise BundleError(f"{path}: {', '.join(sorted(twice))} given in both params and secret_params")
            text += render_params(values, f"{option}: {path}")
            if option == "secret_params":
                secret |= set(values)
            files[full] = (text, secret)
    for full in files:
        if os.path.isdir(full):
            raise BundleError(f"params file {full} is a directory")
        if not os.path.isdir(os.path.dirname(full)):
            raise BundleError(f"directory of params file {full} does not exist")
    return files


def read_text(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def masked(text, secret):
    if not text or not secret:
        return text or ""
    lines = []
    for line in text.splitlines():
        key, sep, _value = line.partition("=")
        lines.append(f"{key}={MASK}" if sep and key in secret else line)
    return "".join(line + "\n" for line in lines)


def write_atomically(path, text):
    directory = os.path.dirname(path)
    mode = os.stat(path).st_mode & 0o7777 if os.path.exists(path) else 0o644
    fd, tmp = tempfile.mkstemp(prefix=".params-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def shadow_tree(kustomization, files):
    """A temporary tree where `files` have their new text and everything else is the original.

    kustomize resolves `../` references from a directory's path and refuses files that are links
    leading out of a kustomization root, so the directories on the way to the kustomization and to
    each file are real (with copies of their regular files) and every other entry is a link.
    Returns (temporary root, path of the kustomization inside it).
    """
    root = tempfile.mkdtemp(prefix="kfops-bundle-plan-")
    targets = [os.path.realpath(kustomization)] + [
        os.path.join(os.path.realpath(os.path.dirname(p)), os.path.basename(p)) for p in files
    ]
    common = os.path.commonpath(targets)
    new_text = {targets[i + 1]: text for i, text in enumerate(files.values())}
    real = set()
    for path in [targets[0]] + [os.path.dirname(t) for t in targets[1:]]:
        while True:
            real.add(path)
            parent = os.path.dirname(path)
            if parent == path:
                break
            path = parent
    for directory in sorted(real):
        inside = root + directory if directory != os.sep else root
        os.makedirs(inside, exist_ok=True)
        below = directory == common or directory.startswith(common.rstrip(os.sep) + os.sep)
        for name in os.listdir(directory):
            source = os.path.join(directory, name)
            if source in real or source in new_text:
                continue
            if below and os.path.isfile(source) and not os.path.islink(source):
                shutil.copy2(source, os.path.join(inside, name))
            else:
                os.symlink(source, os.path.join(inside, name))
    for path, text in new_text.items():
        with open(root + path, "w", encoding="utf-8") as handle:
            handle.write(text)
    return root, root + targets[0]


# --------------------------------------------------------------------------- build


def kustomize_command(module, directory):
    binary = module.params["kubectl_path"]
    if not binary:
        binary = module.get_bin_path("kubectl") or module.get_bin_path("kustomize")
        if not binary:
            module.fail_json(msg="neither kubectl nor kustomize found on PATH; set kubectl_path")
    if os.path.basename(binary).startswith("kustomize"):
        return [binary, "build", directory]
    return [binary, "kustomize", directory]


def build(module, directory):
    if not any(os.path.isfile(os.path.join(directory, name)) for name in KUSTOMIZATION_FILES):
        raise BundleError(f"no kustomization.yaml in {directory}")
    cmd = kustomize_command(module, directory)
    rc, out, err = module.run_command(cmd)
    if rc != 0:
        module.fail_json(msg=f"kustomize build of {directory} failed", cmd=cmd, rc=rc, stdout=out, stderr=err)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return [doc for doc in yaml.load_all(out, Loader=loader) if doc is not None]
    except yaml.YAMLError as exc:
        module.fail_json(msg=f"output of {' '.join(cmd)} is not YAML: {exc}", cmd=cmd)
    return []  # pragma: no cover - fail_json exits


# --------------------------------------------------------------------------- secrets


def is_secret(obj):
    return obj.get("kind") == "Secret" and obj.get("apiVersion") == "v1"


def secret_values(obj):
    values = []
    for field in ("data", "stringData"):
        for value in (obj.get(field) or {}).values():
            if not isinstance(value, str):
                continue
            values.append(value)
            if field == "data":
                try:
                    values.append(base64.b64decode(value, validate=True).decode("utf-8"))
                except (ValueError, UnicodeDecodeError):
                    pass
    return [v for v in values if len(v) >= MIN_MASKED]


def hide_secret(obj, other=None):
    """A copy of a Secret with every value hidden; values that differ from `other`'s say so."""
    if not obj or not is_secret(obj):
        return obj
    obj = copy.deepcopy(obj)
    for field in ("data", "stringData"):
        if isinstance(obj.get(field), dict):
            theirs = (other or {}).get(field) or {}
            obj[field] = {
                k: HIDDEN if other is None or theirs.get(k) == v else HIDDEN + " (changed)"
                for k, v in obj[field].items()
            }
    annotations = obj.get("metadata", {}).get("annotations") or {}
    if "kubectl.kubernetes.io/last-applied-configuration" in annotations:
        annotations["kubectl.kubernetes.io/last-applied-configuration"] = HIDDEN
    return obj


def comparable(obj):
    """The object without what every write changes (and without status, which controllers own)."""
    if obj is None:
        return None
    obj = {k: v for k, v in obj.items() if k != "status"}
    obj["metadata"] = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in NOISE}
    return obj


def dump(obj):
    return yaml.safe_dump(obj, sort_keys=True, default_flow_style=False) if obj else ""


# --------------------------------------------------------------------------- the API side


class Api:
    """The dynamic client of kubernetes.core with raw JSON answers and a lock around discovery."""

    def __init__(self, client, namespace):
        self.client = client
        self.namespace = namespace
        self._lock = threading.Lock()
        self._resources = {}

    def refresh(self):
        with self._lock:
            self._resources.clear()
            self.client.resources.invalidate_cache()

    def resource(self, item):
        key = (item.api_version, item.kind)
        with self._lock:
            if key not in self._resources:
                self._resources[key] = self.client.resources.get(api_version=item.api_version, kind=item.kind)
            return self._resources[key]

    @staticmethod
    def path(item, resource):
        if resource.namespaced:
            return resource.path(name=item.name, namespace=item.namespace)
        return resource.path(name=item.name)

    def call(self, method, path, **params):
        answer = self.client.request(method, path, serialize=False, **params)
        return json.loads(answer.data)

    def get(self, item, resource):
        try:
            return self.call("get", self.path(item, resource))
        except DynamicApiError as exc:
            if exc.status == 404:
                return None
            raise

    def apply(self, item, resource, field_manager, force, dry_run):
        return self.call(
            "patch",
            self.path(item, resource),
            body=item.body,
            content_type="application/apply-patch+yaml",
            field_manager=field_manager,
            force_conflicts=force,
            dry_run="All" if dry_run else None,
        )

    def delete(self, item, resource):
        return self.call("delete", self.path(item, resource), propagation_policy="Background")


def error_fields(exc):
    """(status, reason, message) of an exception from the client."""
    if isinstance(exc, DynamicApiError):
        status, reason, message = exc.status or 0, exc.reason or "", to_text(exc)
        try:
            body = json.loads(exc.body)
            reason, message = body.get("reason") or reason, body.get("message") or message
        except (TypeError, ValueError):
            pass
        return status, reason, message
    if isinstance(exc, (ResourceNotFoundError, ResourceNotUniqueError)):
        return 404, "KindNotServed", to_text(exc)
    return 0, type(exc).__name__, to_text(exc)


class Bundle:
    """Applies or deletes the items phase by phase, retrying only what failed."""

    def __init__(self, module, api, items):
        self.module = module
        self.api = api
        self.items = items
        params = module.params
        self.check = module.check_mode
        self.field_manager = params["field_manager"]
        self.force = params["force_conflicts"]
        self.retries = params["retries"]
        self.retry_delay = params["retry_delay"]
        self.workers = params["workers"]
        self.retried = 0
        self.new_namespaces = set()  # check mode: namespaces the bundle would create
        self.new_kinds = set()  # check mode: (group, kind) of CRDs the bundle would create
        self.crd_kinds = {}  # (group, kind) -> CRD item
        self.namespaces = {i.name: i for i in items if i.gk == NAMESPACE}
        self.durations = {}
        for item in items:
            if item.gk == CRD:
                spec = item.body.get("spec") or {}
                self.crd_kinds[(spec.get("group", ""), (spec.get("names") or {}).get("kind"))] = item
        for item in items:
            crd = self.crd_kinds.get(item.gk)
            if crd is not None and (crd.body.get("spec") or {}).get("scope") == "Cluster":
                item.cluster_scoped()

    # ----------------------------------------------------------------- helpers

    def run(self, step, phase):
        """step(item) for every item of the phase; failed ones again up to `retries` times."""
        pending = [i for i in phase if i.action is None]
        delay = self.retry_delay
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(delay)
                delay = min(delay * 1.5, 30.0)
                self.retried += len(pending)
                # A kind not served or a 404 may be a stale discovery cache (CRDs come and go).
                if any(i.error and (i.error[1] == "KindNotServed" or i.error[0] == 404) for i in pending):
                    self.api.refresh()
            self._parallel(step, pending)
            pending = [i for i in pending if i.action is None and i.error and i.error[0] not in FINAL_STATUSES]
            if not pending:
                return

    def _parallel(self, step, items):
        def guarded(item):
            item.attempts += 1
            try:
                item.error = None
                step(item)
            except Exception as exc:  # pylint: disable=broad-except
                item.action = None
                item.error = error_fields(exc)

        if self.workers <= 1 or len(items) <= 1:
            for item in items:
                guarded(item)
            return
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.workers) as pool:
            list(pool.map(guarded, items))

    def blocked(self, item):
        """Why an item cannot be applied: its namespace or its CRD failed."""
        namespace = self.namespaces.get(item.namespace)
        if namespace is not None and namespace.action is None and namespace.error:
            return f"its namespace {namespace.name} failed"
        crd = self.crd_kinds.get(item.gk)
        if crd is not None and crd.action is None and crd.error:
            return f"its CustomResourceDefinition {crd.name} failed"
        return None

    # ----------------------------------------------------------------- present

    def apply_item(self, item):
        if self.check and (item.gk in self.new_kinds or (item.namespace and item.namespace in self.new_namespaces)):
            # Neither kind nor namespace exists yet, so a dry run cannot answer; a real run creates it.
            item.action = "create"
            return
        try:
            resource = self.api.resource(item)
        except (ResourceNotFoundError, ResourceNotUniqueError):
            crd = self.crd_kinds.get(item.gk)
            if self.check and crd is not None and crd.action == "update":
                item.action = "create"  # a version the changed CRD would add
                return
            raise
        item.scope(resource.namespaced, self.api.namespace)
        live = self.api.get(item, resource)
        if live is not None and item.create_only:
            item.states = (live, live)
            item.action = "unchanged"
            return
        after = self.api.apply(item, resource, self.field_manager, self.force, self.check)
        item.states = (live, after)
        if live is None:
            item.action = "create"
            if self.check and item.gk == NAMESPACE:
                self.new_namespaces.add(item.name)
            if self.check and item.gk == CRD:
                spec = item.body.get("spec") or {}
                self.new_kinds.add((spec.get("group", ""), (spec.get("names") or {}).get("kind")))
        elif self.check:
            item.action = "update" if comparable(live) != comparable(after) else "unchanged"
        else:
            same = live["metadata"].get("resourceVersion") == after["metadata"].get("resourceVersion")
            item.action = "unchanged" if same else "update"

    def wait_established(self, crds, timeout):
        def established(obj):
            return any(
                c.get("type") == "Established" and c.get("status") == "True"
                for c in ((obj or {}).get("status") or {}).get("conditions") or []
            )

        waiting = [i for i in crds if i.action is not None and not established((i.states or (None, None))[1])]
        if not waiting or self.check:
            return

        def probe():
            left = []
            for item in waiting:
                if not established(self.api.get(item, self.api.resource(item))):
                    left.append(item.name)
            return left

        try:
            poll_until(probe, lambda left: not left, "CustomResourceDefinitions to be Established", timeout, 0.2)
        except WaitTimeout as exc:
            self.module.fail_json(
                msg=f"timed out after {timeout}s waiting for CustomResourceDefinitions to be Established: "
                + ", ".join(exc.last),
                **self.result(),
            )

    def present(self, timeout):
        first = [i for i in self.items if i.gk in (CRD, NAMESPACE)]
        last = [i for i in self.items if i.gk in LAST_KINDS]
        middle = [i for i in self.items if i.gk not in (CRD, NAMESPACE) and i.gk not in LAST_KINDS]
        started = time.monotonic()
        self.run(self.apply_item, first)
        crds = [i for i in first if i.gk == CRD]
        waited = time.monotonic()
        self.wait_established(crds, timeout)
        self.durations["crds_established"] = round(time.monotonic() - waited, 2)
        if any(i.action in ("create", "update") for i in crds) and not self.check:
            self.api.refresh()
        for phase in (middle, last):
            for item in phase:
                reason = self.blocked(item)
                if reason:
                    item.error = (0, "DependencyFailed", reason)
                    item.attempts = 0
            self.run(self.apply_item, [i for i in phase if not (i.error and i.error[1] == "DependencyFailed")])
        self.durations["apply"] = round(time.monotonic() - started, 2)

    # ----------------------------------------------------------------- absent

    def delete_item(self, item):
        try:
            resource = self.api.resource(item)
        except (ResourceNotFoundError, ResourceNotUniqueError):
            if item.gk in self.crd_kinds or item.attempts > 1:
                item.action = "absent"  # the kind is gone, and with it every object of the kind
                return
            raise
        item.scope(resource.namespaced, self.api.namespace)
        live = self.api.get(item, resource)
        item.states = (live, None)
        if live is None or live["metadata"].get("deletionTimestamp"):
            item.action = "absent"
            return
        if not self.check:
            try:
                self.api.delete(item, resource)
            except DynamicApiError as exc:
                if exc.status != 404:
                    raise
                item.action = "absent"
                return
        item.action = "delete"

    def absent(self, wait, timeout):
        crds = [i for i in self.items if i.gk == CRD]
        namespaces = [i for i in self.items if i.gk == NAMESPACE]
        webhooks = [i for i in reversed(self.items) if i.gk in LAST_KINDS]
        rest = [i for i in reversed(self.items) if i.gk not in (CRD, NAMESPACE) and i.gk not in LAST_KINDS]
        started = time.monotonic()
        for phase in (webhooks, rest, list(reversed(crds)), list(reversed(namespaces))):
            self.run(self.delete_item, phase)
        self.durations["delete"] = round(time.monotonic() - started, 2)
        if not wait or self.check:
            return
        started = time.monotonic()
        deleted = [i for i in self.items if i.action == "delete"]

        def probe():
            left = []
            for item in deleted:
                try:
                    resource = self.api.resource(item)
                except (ResourceNotFoundError, ResourceNotUniqueError):
                    continue
                if self.api.get(item, resource) is not None:
                    left.append(item)
            deleted[:] = left
            return left

        try:
            poll_until(probe, lambda left: not left, "deleted objects to be gone", timeout, 0.5)
        except WaitTimeout as exc:
            self.module.fail_json(
                msg=f"timed out after {timeout}s waiting for deleted objects to be gone: "
                + ", ".join(i.label for i in exc.last[:20])
                + (f" and {len(exc.last) - 20} more" if len(exc.last) > 20 else ""),
                **self.result(),
            )
        self.durations["gone"] = round(time.monotonic() - started, 2)

    # ----------------------------------------------------------------- results

    def counts(self):
        counts = dict(created=0, updated=0, unchanged=0, deleted=0, failed=0)
        names = {"create": "created", "update": "updated", "unchanged": "unchanged", "delete": "deleted"}
        for item in self.items:
            if item.action is None:
                counts["failed"] += 1
            else:
                counts[names.get(item.action, "unchanged")] += 1
        return counts

    def result(self):
        return dict(
            total=len(self.items),
            crds=sum(1 for i in self.items if i.gk == CRD),
            counts=self.counts(),
            changed_objects=[i.summary() for i in self.items if i.action in ("create", "update", "delete")],
            failed_objects=[
                dict(
                    api_version=i.api_version,
                    kind=i.kind,
                    namespace=i.namespace,
                    name=i.name,
                    status=i.error[0],
                    reason=i.error[1],
                    message=i.error[2],
                    attempts=i.attempts,
                )
                for i in self.items
                if i.action is None and i.error
            ],
            retried=self.retried,
            durations=dict(self.durations),
        )

    def diffs(self):
        out = []
        for item in self.items:
            if item.action not in ("create", "update", "delete"):
                continue
            live, after = item.states or (None, None)
            if item.action == "create" and after is None:
                after = item.body  # check mode without a dry run
            before_obj = comparable(live)
            after_obj = comparable(after) if item.action != "delete" else None
            out.append(
                dict(
                    before=dump(hide_secret(before_obj)),
                    after=dump(hide_secret(after_obj, before_obj)),
                    before_header=f"{item.api_version} {item.label}",
                    after_header=f"{item.api_version} {item.label}",
                )
            )
        return out


def main():
    argument_spec = copy.deepcopy(AUTH_ARG_SPEC)
    argument_spec.update(
        state=dict(type="str", default="present", choices=["present", "absent"]),
        kustomization=dict(type="path"),
        definitions=dict(type="list", elements="dict"),
        kubectl_path=dict(type="path"),
        params=dict(type="dict", default={}),
        secret_params=dict(type="dict", default={}, no_log=True),
        api_versions=dict(type="dict", default={}),
        create_only=dict(
            type="list",
            elements="dict",
            default=[],
            options=dict(
                kind=dict(type="str", required=True),
                name=dict(type="str", required=True),
                namespace=dict(type="str", default=""),
            ),
        ),
        namespace=dict(type="str", default="default"),
        field_manager=dict(type="str", default="kubeflow-ops"),
        force_conflicts=dict(type="bool", default=False),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=120),
        retries=dict(type="int", default=5),
        retry_delay=dict(type="float", default=2.0),
        workers=dict(type="int", default=4),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[["kustomization", "definitions"]],
        required_one_of=[["kustomization", "definitions"]],
        supports_check_mode=True,
    )
    if not HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=KUBERNETES_IMPORT_ERROR)
    if yaml is None:  # pragma: no cover
        module.fail_json(msg=missing_required_lib("PyYAML"))
    params = module.params
    for name, low in (("wait_timeout", 1), ("retries", 0), ("workers", 1)):
        if params[name] < low:
            module.fail_json(msg=f"{name} must be at least {low}")
    if params["retry_delay"] < 0:
        module.fail_json(msg="retry_delay must not be negative")
    if not params["field_manager"]:
        module.fail_json(msg="field_manager must not be empty")

    changed_files, file_diffs, params_files, plan_root, build_seconds = [], [], [], None, None
    try:
        kustomization = params["kustomization"]
        if kustomization is None and (params["params"] or params["secret_params"]):
            raise BundleError("params and secret_params need kustomization")
        if kustomization is not None:
            kustomization = os.path.abspath(kustomization)
            if not os.path.isdir(kustomization):
                raise BundleError(f"kustomization {kustomization} is not a directory")
            files = plan_params(params["params"], params["secret_params"], kustomization)
            for path, (text, secret) in files.items():
                current = read_text(path)
                params_files.append(dict(path=path, changed=current != text))
                if current != text:
                    changed_files.append(path)
                    file_diffs.append(
                        dict(
                            before=masked(current, secret),
                            after=masked(text, secret),
                            before_header=path,
                            after_header=path,
                        )
                    )
            build_dir = kustomization
            if changed_files and module.check_mode:
                plan_root, build_dir = shadow_tree(kustomization, {p: files[p][0] for p in changed_files})
            elif changed_files:
                for path in changed_files:
                    write_atomically(path, files[path][0])
            started = time.monotonic()
            objects = build(module, build_dir)
            build_seconds = round(time.monotonic() - started, 2)
        else:
            objects = params["definitions"]
        bad = [k for k, v in params["api_versions"].items() if not isinstance(v, str) or "/" not in v and v != "v1"]
        if bad:
            raise BundleError(f"api_versions: {', '.join(bad)} must map to an apiVersion such as autoscaling/v2")
        items = load_items(objects, params["api_versions"])
        for missing in mark_create_only(items, params["create_only"]):
            module.warn(f"create_only: the bundle has no {missing}")
    except BundleError as exc:
        module.fail_json(msg=to_text(exc), params_files=params_files)
    except OSError as exc:
        module.fail_json(msg=f"cannot write params files: {exc}", exception=traceback.format_exc())
    finally:
        if plan_root:
            shutil.rmtree(plan_root, ignore_errors=True)

    for item in items:
        if is_secret(item.body):
            module.no_log_values.update(secret_values(item.body))

    try:
        # kubernetes.core's client: the same connection options and K8S_AUTH_* variables as its k8s module.
        client = get_api_client(**{name: params[name] for name in AUTH_ARG_SPEC})
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_json(msg=f"cannot create the Kubernetes API client: {to_text(exc)}")
    bundle = Bundle(module, Api(client.client, params["namespace"]), items)
    if params["state"] == "present":
        bundle.present(params["wait_timeout"])
    else:
        bundle.absent(params["wait"], params["wait_timeout"])

    result = bundle.result()
    result["params_files"] = params_files
    if build_seconds is not None:
        result["durations"]["build"] = build_seconds
    result["changed"] = bool(changed_files or result["changed_objects"])
    if module._diff:  # pylint: disable=protected-access
        result["diff"] = file_diffs + bundle.diffs()
    if result["failed_objects"]:
        failed = result["failed_objects"]
        shown = "; ".join(
            f"{f['kind']} {f['namespace'] + '/' if f['namespace'] else ''}{f['name']}: {f['message']}"
            for f in failed[:10]
        )
        more = f" (and {len(failed) - 10} more)" if len(failed) > 10 else ""
        module.fail_json(msg=f"{len(failed)} of {len(items)} objects failed: {shown}{more}", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
