"""Validate rendered Kubernetes objects the way an API server with strict field validation would (tests only).

    from tests.sandbox.harness.validate import assert_valid, validate_objects, require_schemas

    findings = validate_objects(objects)            # one Finding per object, never raises on bad input
    assert_valid(objects)                           # AssertionError listing every problem, else the findings
    require_schemas()                               # pytest.skip when ../shared/reference/schemas is absent

Where each object's schema comes from, first match wins:

1. a CustomResourceDefinition among the objects themselves (what the cluster would have once they are
   applied; e.g. the CRDs of a kustomize tree);
2. a CRD in the reference schemas directory (`<repo>/../shared/reference/schemas`, set
   `KUBEFLOW_OPS_SCHEMAS_DIR` to move it): InferenceService `serving.kubeflow.org/v1alpha2` (KFServing
   0.2.2) and `serving.kserve.io/v1beta1` (KServe 0.11), Profile `kubeflow.org/v1` and `v1beta1`,
   AuthorizationPolicy `security.istio.io/v1beta1` and `v1`; when two CRDs there define one kind (the
   Profile CRD comes in `apiextensions.k8s.io/v1beta1` and `v1` form) the `apiextensions.k8s.io/v1` one is used;
3. KfDef `kfdef.apps.kubeflow.org/v1`: no CRD exists upstream (kfctl reads the file itself), so the
   schema is ours, written from the contract (reference/kfctl-cli-contract.md §4), including the
   KfAwsPlugin spec;
4. built-in kinds (groups `""`, `apps`, `batch`, `policy`, `autoscaling` and `*.k8s.io`): the JSON schemas
   bundled with `kubernetes-validate` for the chosen Kubernetes version (default 1.33, the inventory's;
   the package ships 1.25 to 1.37, and the newest one not newer than the version asked for is used).

Strict (the default, like `kubectl apply`'s default `--validate=strict`): unknown fields are errors.
A CRD's openAPIV3Schema is read as the API server reads it: `nullable`, `x-kubernetes-int-or-string`,
`x-kubernetes-preserve-unknown-fields` (open object) and `x-kubernetes-embedded-resource` are honoured,
and `apiVersion`, `kind` and `metadata` (names, labels and annotations as string maps) are checked
for every custom object even when the CRD leaves them out.

Objects that cannot be checked are reported, never passed silently: status `not validated` with
reason `schemas absent` (a kind from step 2 while the directory is missing) or `unknown kind` (no
schema anywhere). `assert_valid` fails on them unless `allow_not_validated=True`.

The built-in schemas are read with a cache of one validator per kind: `kubernetes_validate.validate()`
re-reads the 1.4 MB definitions file on every call (~40 ms per object); the result is the same
(tests/sandbox/tests/test_validate.py compares both).
"""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml
from kubernetes_validate.utils import all_versions
from referencing import Registry, Resource

REPO = Path(__file__).resolve().parents[3]
DEFAULT_SCHEMAS_DIR = REPO.parent / "shared" / "reference" / "schemas"
DEFAULT_KUBERNETES_VERSION = "1.33"
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: the KServe CRD is 700 kB
BUILTIN_GROUPS = {"", "apps", "batch", "policy", "autoscaling", "extensions"}
# Kinds whose schema is expected in the reference schemas directory.
REFERENCE_KINDS = {
    ("serving.kubeflow.org/v1alpha2", "InferenceService"),
    ("serving.kserve.io/v1beta1", "InferenceService"),
    ("kubeflow.org/v1", "Profile"),
    ("kubeflow.org/v1beta1", "Profile"),
    ("security.istio.io/v1beta1", "AuthorizationPolicy"),
    ("security.istio.io/v1", "AuthorizationPolicy"),
}
VALID, INVALID, NOT_VALIDATED = "valid", "invalid", "not validated"
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
API_VERSION = re.compile(r"^(v1|[a-z0-9.-]+/[a-z0-9]+)$")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def schemas_dir() -> Path:
    return Path(os.environ.get("KUBEFLOW_OPS_SCHEMAS_DIR") or DEFAULT_SCHEMAS_DIR)


def schemas_present(directory=None) -> bool:
    directory = Path(directory) if directory else schemas_dir()
    return directory.is_dir() and any(directory.glob("*.yaml"))


def require_schemas(directory=None) -> Path:
    """The reference schemas directory, or pytest.skip when it is absent (a clone without ../shared)."""
    import pytest  # pylint: disable=import-outside-toplevel

    directory = Path(directory) if directory else schemas_dir()
    if not schemas_present(directory):
        pytest.skip(f"reference schemas absent ({directory}): custom kinds cannot be validated")
    return directory


# ------------------------------------------------------------------------------------ findings


@dataclass
class Finding:
    api_version: str
    kind: str
    name: str
    namespace: str | None
    status: str  # VALID, INVALID or NOT_VALIDATED
    schema: str = ""  # what it was checked against
    errors: list = field(default_factory=list)  # "path: message", INVALID only
    reason: str = ""  # NOT_VALIDATED only

    @property
    def ok(self) -> bool:
        return self.status == VALID

    @property
    def ref(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where} ({self.api_version})"

    def __str__(self) -> str:
        if self.status == VALID:
            return f"{self.ref}: valid against {self.schema}"
        if self.status == NOT_VALIDATED:
            return f"{self.ref}: not validated: {self.reason}"
        lines = [f"{self.ref}: invalid against {self.schema}:"]
        lines += [f"  - {error}" for error in self.errors]
        return "\n".join(lines)


def report(findings) -> str:
    return "\n".join(str(f) for f in findings)


# ----------------------------------------------------------------------- CRD schema -> JSON Schema

OBJECT_META = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "generateName": {"type": "string"},
        "namespace": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        "finalizers": {"type": "array", "items": {"type": "string"}},
        "ownerReferences": {"type": "array", "items": {"type": "object"}},
        "uid": {"type": "string"},
        "resourceVersion": {"type": "string"},
        "generation": {"type": "integer"},
        "creationTimestamp": {"type": ["string", "null"]},
        "deletionTimestamp": {"type": ["string", "null"]},
        "deletionGracePeriodSeconds": {"type": "integer"},
        "managedFields": {"type": "array", "items": {"type": "object"}},
        "selfLink": {"type": "string"},
        "clusterName": {"type": "string"},
    },
}
SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf")


def to_jsonschema(node, strict: bool = True, root: bool = False):
    """A Kubernetes structural (OpenAPI v3) schema as a JSON Schema (draft 4) with the server's reading."""
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "properties":
            out[key] = {name: to_jsonschema(sub, strict) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = to_jsonschema(value, strict)
        elif key in SUBSCHEMA_LISTS or (key == "items" and isinstance(value, list)):
            out[key] = [to_jsonschema(sub, strict) for sub in value]
        elif key in ("description", "default", "example", "format") or key.startswith("x-kubernetes-"):
            continue  # annotations only (formats such as int32 are not checked by the API server either)
        else:
            out[key] = value
    if node.get("x-kubernetes-int-or-string") and "type" not in node:
        out["type"] = ["integer", "string"]
    if node.get("nullable") and "type" in out:
        out.pop("nullable", None)
        out["type"] = (out["type"] if isinstance(out["type"], list) else [out["type"]]) + ["null"]
    embedded = node.get("x-kubernetes-embedded-resource")
    if embedded or root:
        props = out.setdefault("properties", {})
        props.setdefault("apiVersion", {"type": "string"})
        props.setdefault("kind", {"type": "string"})
        props["metadata"] = to_jsonschema(OBJECT_META, strict) if root else props.get("metadata", {"type": "object"})
    open_object = node.get("x-kubernetes-preserve-unknown-fields") or "additionalProperties" in node
    if strict and "properties" in out and not open_object:
        out["additionalProperties"] = False
    return out


def _crd_versions(crd: dict):
    """(group/version, kind, openAPIV3Schema or None) for every served version of a CRD document."""
    spec = crd.get("spec") or {}
    group, kind = spec.get("group"), (spec.get("names") or {}).get("kind")
    common = ((spec.get("validation") or {}).get("openAPIV3Schema")) if "validation" in spec else None
    versions = spec.get("versions") or []
    if not versions and spec.get("version"):
        versions = [{"name": spec["version"], "served": True}]
    for version in versions:
        if version.get("served", True):
            schema = ((version.get("schema") or {}).get("openAPIV3Schema")) or common
            yield f"{group}/{version['name']}", kind, schema


def _index_crds(documents, source: str, index: dict) -> None:
    for doc in documents:
        if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
            continue
        rank = 1 if doc.get("apiVersion") == "apiextensions.k8s.io/v1" else 0
        name = (doc.get("metadata") or {}).get("name", "?")
        for api_version, kind, schema in _crd_versions(doc):
            key = (api_version, kind)
            if key not in index or index[key][0] < rank:
                index[key] = (rank, f"CRD {name} ({source})", schema)


@functools.lru_cache(maxsize=8)
def _reference_crds(directory: str) -> dict:
    index: dict = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        try:
            documents = list(yaml.load_all(path.read_text(), Loader=SAFE_LOADER))
        except yaml.YAMLError:
            continue
        _index_crds(documents, path.name, index)
    return index


# --------------------------------------------------------------------------------- KfDef (ours)

_STR = {"type": "string"}
_STRINGS = {"type": "array", "items": _STR}


def _obj(properties: dict, required=()) -> dict:
    out = {"type": "object", "properties": properties}
    if required:
        out["required"] = list(required)
    return out


KFDEF_V1 = _obj(
    {
        "spec": _obj(
            {
                "version": _STR,
                "applications": {
                    "type": "array",
                    "items": _obj(
                        {
                            "name": _STR,
                            "kustomizeConfig": _obj(
                                {
                                    "repoRef": _obj({"name": _STR, "path": _STR}, ["name", "path"]),
                                    "overlays": _STRINGS,
                                    "parameters": {
                                        "type": "array",
                                        "items": _obj({"name": _STR, "value": _STR}, ["name"]),
                                    },
                                }
                            ),
                        },
                        ["name"],
                    ),
                },
                "plugins": {
                    "type": "array",
                    "items": _obj(
                        {
                            "kind": _STR,
                            "apiVersion": _STR,
                            "metadata": _obj({"name": _STR}),
                            "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                        },
                        ["kind"],
                    ),
                },
                "repos": {"type": "array", "items": _obj({"name": _STR, "uri": _STR}, ["name", "uri"])},
                "secrets": {
                    "type": "array",
                    "items": _obj(
                        {
                            "name": _STR,
                            "secretSource": _obj(
                                {"literalSource": _obj({"value": _STR}), "envSource": _obj({"name": _STR})}
                            ),
                        },
                        ["name"],
                    ),
                },
            }
        ),
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    },
    ["spec"],
)
_SECRET_REF = _obj({"name": _STR}, ["name"])
KF_AWS_PLUGIN_SPEC = _obj(
    {
        "region": _STR,
        "roles": _STRINGS,
        "auth": _obj(
            {
                "cognito": _obj(
                    {
                        "certArn": _STR,
                        "cognitoAppClientId": _STR,
                        "cognitoUserPoolArn": _STR,
                        "cognitoUserPoolDomain": _STR,
                    },
                    ["certArn", "cognitoAppClientId", "cognitoUserPoolArn", "cognitoUserPoolDomain"],
                ),
                "oidc": _obj(
                    {
                        k: _STR
                        for k in (
                            "oidcAuthorizationEndpoint",
                            "oidcIssuer",
                            "oidcTokenEndpoint",
                            "oidcUserInfoEndpoint",
                            "certArn",
                            "oAuthClientId",
                            "oAuthClientSecret",
                        )
                    },
                    [
                        "oidcAuthorizationEndpoint",
                        "oidcIssuer",
                        "oidcTokenEndpoint",
                        "oidcUserInfoEndpoint",
                        "certArn",
                        "oAuthClientId",
                        "oAuthClientSecret",
                    ],
                ),
                "basicAuth": _obj({"username": _STR, "password": _SECRET_REF}, ["username", "password"]),
            }
        ),
        "enablePodIamPolicy": {"type": "boolean"},
        "enableNodeGroupLog": {"type": "boolean"},
        "managedCluster": {"type": "boolean"},
        "managedRelationDatabase": _obj(
            {"host": _STR, "port": {"type": "integer"}, "database": _STR, "username": _STR, "password": _SECRET_REF}
        ),
        "managedObjectStorage": _obj({"endpoint": _STR, "region": _STR, "bucket": _STR, "pathPrefix": _STR}),
    },
    ["auth"],
)
KFDEF = ("kfdef.apps.kubeflow.org/v1", "KfDef")
KFDEF_SOURCE = "kubeflow_ops KfDef v1 schema (reference/kfctl-cli-contract.md §4)"


# -------------------------------------------------------------------------------- validators


def _messages(validator, instance, prefix=()) -> list:
    out = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path]):
        if error.context:  # anyOf / oneOf: the branch that came closest says most
            error = jsonschema.exceptions.best_match(error.context)
        path = ".".join(str(p) for p in (*prefix, *error.absolute_path)) or "(object)"
        out.append(f"{path}: {error.message}")
    return out


@functools.lru_cache(maxsize=256)
def _crd_validator(source: str, api_version: str, kind: str, schema_json: str, strict: bool):
    del source, api_version, kind  # part of the cache key only
    schema = to_jsonschema(json.loads(schema_json), strict=strict, root=True)
    return jsonschema.Draft4Validator(schema)


def _builtin_version(desired: str) -> str:
    desired = desired.lstrip("v")
    wanted = tuple(int(p) for p in desired.split(".")[:2])
    shipped = [v for v in all_versions() if tuple(int(p) for p in v.split(".")[:2]) <= wanted]
    if not shipped:
        raise ValueError(f"kubernetes-validate {kubernetes_validate.__version__} has no schemas for {desired}")
    return shipped[-1]


@functools.lru_cache(maxsize=4)
def _builtin_registry(schema_dir: str):
    definitions = json.loads((resources.files("kubernetes_validate") / schema_dir / "_definitions.json").read_text())
    return Resource.from_contents(definitions) @ Registry()


@functools.lru_cache(maxsize=512)
def _builtin_validator(version: str, api_version: str, kind: str, strict: bool):
    """The bundled schema of a built-in kind (file names as kubernetes-validate lays them out), or None."""
    schema_dir = f"kubernetes-json-schema/v{version}-local" + ("-strict" if strict else "")
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    path = resources.files("kubernetes_validate") / schema_dir / f"{kind.lower()}-{group_version}.json"
    if not path.is_file():
        return None
    schema = json.loads(path.read_text())
    return jsonschema.Draft202012Validator(
        schema, registry=Resource.from_contents(schema) @ _builtin_registry(schema_dir)
    )


def _major_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _is_builtin(api_version: str) -> bool:
    group = api_version.rpartition("/")[0]
    return group in BUILTIN_GROUPS or group.endswith(".k8s.io")


def _name_errors(meta) -> list:
    if not isinstance(meta, dict):
        return []
    errors = []
    name, namespace = meta.get("name"), meta.get("namespace")
    if name is None and not meta.get("generateName"):
        errors.append("metadata.name: required")
    elif isinstance(name, str) and (len(name) > 253 or not DNS1123_SUBDOMAIN.match(name)):
        errors.append(f"metadata.name: {name!r} is not a DNS-1123 subdomain (lower case, digits, '-', '.')")
    if isinstance(namespace, str) and (len(namespace) > 63 or not DNS1123_LABEL.match(namespace)):
        errors.append(f"metadata.namespace: {namespace!r} is not a DNS-1123 label")
    return errors


def flatten(objects) -> list:
    """Objects, with `kind: List` (and `*List` with `items`) expanded and empty YAML documents dropped."""
    out = []
    for obj in objects:
        if obj is None:
            continue
        if isinstance(obj, dict) and str(obj.get("kind", "")).endswith("List") and isinstance(obj.get("items"), list):
            out += flatten(obj["items"])
        else:
            out.append(obj)
    return out


def load_documents(text_or_path) -> list:
    """Every object of a multi-document YAML string or file."""
    text = Path(text_or_path).read_text() if isinstance(text_or_path, Path) else text_or_path
    return flatten(yaml.load_all(text, Loader=SAFE_LOADER))


def validate_objects(objects, kubernetes_version: str = DEFAULT_KUBERNETES_VERSION, schemas=None, strict=True) -> list:
    """One Finding per object (see the module doc for where schemas come from)."""
    objects = flatten(objects)
    directory = Path(schemas) if schemas else schemas_dir()
    from_input: dict = {}
    _index_crds(objects, "in the objects", from_input)
    builtin = _builtin_version(kubernetes_version)
    findings = []
    for obj in objects:
        if not isinstance(obj, dict):
            findings.append(Finding("?", "?", "?", None, INVALID, "object", [f"not a mapping: {obj!r:.80}"]))
            continue
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        finding = Finding(str(api_version), str(kind), str(meta.get("name", "?")), meta.get("namespace"), VALID)
        findings.append(finding)
        if not (isinstance(kind, str) and kind and isinstance(api_version, str) and API_VERSION.match(api_version)):
            finding.status, finding.schema = INVALID, "object"
            finding.errors = ["apiVersion and kind must be strings (apiVersion <group>/<version> or v1)"]
            continue
        key = (api_version, kind)
        custom = from_input.get(key)
        if not custom and key != KFDEF:
            reference = _reference_crds(str(directory)) if schemas_present(directory) else {}
            custom = reference.get(key)
        if custom:
            finding.schema, schema = custom[1:]
            schema = schema or {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
            validator = _crd_validator(finding.schema, api_version, kind, json.dumps(schema, sort_keys=True), strict)
            finding.errors = _messages(validator, obj) + _name_errors(meta)
        elif key == KFDEF:
            finding.schema = KFDEF_SOURCE
            finding.errors = _messages(_crd_validator(KFDEF_SOURCE, *key, json.dumps(KFDEF_V1), strict), obj)
            plugin_validator = jsonschema.Draft4Validator(to_jsonschema(KF_AWS_PLUGIN_SPEC, strict))
            plugins = (obj.get("spec") or {}).get("plugins") if isinstance(obj.get("spec"), dict) else None
            for i, plugin in enumerate(plugins if isinstance(plugins, list) else []):
                if isinstance(plugin, dict) and plugin.get("kind") == "KfAwsPlugin":
                    spec = plugin.get("spec")
                    finding.errors += _messages(plugin_validator, spec, ("spec", "plugins", i, "spec"))
        elif _is_builtin(api_version) and (validator := _builtin_validator(builtin, api_version, kind, strict)):
            finding.schema = (
                f"Kubernetes {_major_minor(builtin)} schema (kubernetes-validate {kubernetes_validate.__version__})"
            )
            finding.errors = _messages(validator, obj)
        else:
            finding.status = NOT_VALIDATED
            if key in REFERENCE_KINDS and not schemas_present(directory):
                finding.reason = f"schemas absent ({directory} has no CRDs)"
            elif _is_builtin(api_version):
                finding.reason = (
                    f"unknown kind: Kubernetes {_major_minor(builtin)} serves no {kind} in {api_version} (a removed "
                    "API version, or the kind of a CRD that is not among the objects)"
                )
            else:
                finding.reason = (
                    f"unknown kind: no Kubernetes {_major_minor(builtin)} schema for {kind} {api_version}, "
                    f"and no CRD for it among the objects or in {directory}"
                )
            continue
        if finding.errors:
            finding.status = INVALID
    return findings


def assert_valid(objects, allow_not_validated: bool = False, **options) -> list:
    """The findings; AssertionError listing every invalid (and, unless allowed, unvalidated) object."""
    findings = validate_objects(objects, **options)
    bad = [f for f in findings if f.status == INVALID or (f.status == NOT_VALIDATED and not allow_not_validated)]
    if bad:
        raise AssertionError(f"{len(bad)} of {len(findings)} objects failed validation:\n{report(bad)}")
    return findings
