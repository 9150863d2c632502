"""The state of the stand-in API server and every operation on it (no HTTP here).

Objects are kept per resource (group, plural) and (namespace, name); a stored object is never
changed in place (every write stores a new dict), so watch events can hold references to them.
One global `resourceVersion` counter moves on every real change and only then; a write that
changes nothing (a no-op apply, an empty patch) answers with the stored object unchanged.

Simplifications against a real server, on purpose: no admission webhooks, no schema validation of
custom resources (any content is stored) and no conversion between the versions of one resource
(the stored object is served under whichever version is asked for); deleting a namespace removes
its objects at once, also those with finalizers (a controller's finalize hook still runs, see
controllers.py); there are no pods or replica sets behind workloads (controllers only write their
status, see controllers.py).
"""

from __future__ import annotations

import collections
import copy
import itertools
import random
import sys
import threading
import time
import traceback
import uuid

from . import controllers as ctl
from .defaults import DEFAULTERS, Invalid
from .patch import (
    PatchError,
    apply_merge,
    drop_nulls,
    format_path,
    from_fields_v1,
    get_path,
    has_path,
    json_patch,
    leaf_paths,
    merge_patch,
    prune_empty,
    remove_path,
    strategic_merge_patch,
    to_fields_v1,
)
from .resources import CRDError, Registry, ResourceType
from .selectors import SelectorError, fields_match, labels_match, parse_field_selector, parse_label_selector

INITIAL_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
PROTECTED_NAMESPACES = ("default", "kube-system", "kube-public")
EVENT_HISTORY = 20000
SERVER_MANAGER = "kube-apiserver"


class ApiError(Exception):
    """An error answer: a metav1.Status with code, reason, message and details."""

    def __init__(self, code: int, reason: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details or {}

    def status(self) -> dict:
        return status_body(self.code, self.reason, self.message, self.details)


def status_body(code, reason, message, details=None, status="Failure") -> dict:
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": status}
    if message:
        body["message"] = message
    if reason:
        body["reason"] = reason
    body["details"] = details or {}
    body["code"] = code
    return body


def not_found_resource() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource")


def _details(rtype: ResourceType, name: str) -> dict:
    details = {"name": name}
    if rtype.group:
        details["group"] = rtype.group
    details["kind"] = rtype.plural
    return details


def not_found(rtype: ResourceType, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{rtype.qualified()} "{name}" not found', _details(rtype, name))


def invalid(rtype: ResourceType, name: str, causes) -> ApiError:
    text = ", ".join(f"{f}: {m}" for f, m in causes)
    details = {"name": name}
    if rtype.group:
        details["group"] = rtype.group
    details["kind"] = rtype.kind
    details["causes"] = [{"reason": "FieldValueInvalid", "message": m, "field": f} for f, m in causes]
    return ApiError(
        422,
        "Invalid",
        (
            f'{rtype.kind}.{rtype.group or "core"} "{name}" is invalid: {text}'
            if rtype.group
            else f'{rtype.kind} "{name}" is invalid: {text}'
        ),
        details,
    )


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _strip_for_generation(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def _strip_for_spec_change(obj: dict) -> dict:
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in ("managedFields", "resourceVersion")}
    return {**{k: v for k, v in obj.items() if k not in ("status", "metadata", "apiVersion")}, "metadata": meta}


class Cluster:
    """All objects, the resource registry, the watch event history and the controllers."""

    def __init__(self, kubernetes_version: str = "1.25", controller_delay: float = 0.0, settings: dict | None = None):
        self.kubernetes_version = kubernetes_version
        self.minor = int(kubernetes_version.split(".")[1])
        self.controller_delay = controller_delay
        self.settings = dict(settings or {})
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.rv = 0
        self.epoch = 0
        self.dirty = False
        self._pending = set()
        self._reset_state()

    # ------------------------------------------------------------------ state

    def _reset_state(self) -> None:
        self.registry = Registry(self.minor)
        self.objects: dict[tuple, dict] = collections.defaultdict(dict)
        self.events = collections.deque(maxlen=EVENT_HISTORY)
        self.compacted_rv = self.rv
        for name in INITIAL_NAMESPACES:
            self.create(
                self.registry.by_key("", "namespaces"),
                "v1",
                None,
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
                manager=SERVER_MANAGER,
            )

    def reset(self) -> None:
        with self.lock:
            self.epoch += 1
            self._pending.clear()
            self._reset_state()
            self.dirty = True
            self.changed.notify_all()

    def snapshot(self) -> dict:
        with self.lock:
            items = []
            for (group, plural), objs in self.objects.items():
                for obj in objs.values():
                    items.append({"group": group, "plural": plural, "object": obj})
            return {"resourceVersion": self.rv, "kubernetesVersion": self.kubernetes_version, "objects": items}

    def load(self, state: dict) -> None:
        """Replace everything with a snapshot (CRDs first, so their kinds exist)."""
        with self.lock:
            self.registry = Registry(self.minor)
            self.objects = collections.defaultdict(dict)
            self.events.clear()
            self.rv = int(state.get("resourceVersion", 0))
            self.compacted_rv = self.rv
            items = state.get("objects") or []
            for item in items:
                if item["group"] == "apiextensions.k8s.io" and item["plural"] == "customresourcedefinitions":
                    try:
                        self.registry.register_crd(item["object"])
                    except CRDError:
                        continue
            for item in items:
                obj = item["object"]
                self.objects[(item["group"], item["plural"])][
                    (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
                ] = obj

    def all_objects(self) -> list:
        with self.lock:
            return [copy.deepcopy(o) for objs in self.objects.values() for o in objs.values()]

    def objects_of_kind(self, group: str, kind: str, namespace: str | None = None) -> list:
        with self.lock:
            rtype = self.registry.by_kind(group, kind)
            if not rtype:
                return []
            return [
                copy.deepcopy(o)
                for (ns, _name), o in sorted(self.objects[rtype.key].items())
                if namespace is None or ns == namespace
            ]

    def _stored(self, rtype: ResourceType, namespace: str | None, name: str) -> dict | None:
        return self.objects[rtype.key].get((namespace or "", name))

    def _emit(self, etype: str, rtype: ResourceType, obj: dict) -> None:
        if len(self.events) == self.events.maxlen:
            self.compacted_rv = self.events[0][0]
        self.events.append((self.rv, etype, rtype.key, obj["metadata"].get("namespace", ""), obj))
        self.dirty = True
        self.changed.notify_all()

    def _next_rv(self) -> str:
        self.rv += 1
        return str(self.rv)

    # ------------------------------------------------------------------ reads

    def get(self, rtype: ResourceType, namespace: str | None, name: str) -> dict:
        with self.lock:
            obj = self._stored(rtype, namespace, name)
            if obj is None:
                raise not_found(rtype, name)
            return obj

    def list(self, rtype: ResourceType, namespace: str | None, label_selector=None, field_selector=None):
        try:
            labels = parse_label_selector(label_selector)
            fields = parse_field_selector(field_selector)
        except SelectorError as exc:
            raise bad_request(str(exc)) from exc
        with self.lock:
            items = [
                obj
                for (ns, _name), obj in sorted(self.objects[rtype.key].items())
                if (namespace is None or ns == namespace)
                and labels_match(labels, obj["metadata"].get("labels"))
                and fields_match(fields, obj)
            ]
            return items, str(self.rv)

    def events_after(self, cursor: int) -> list:
        """Events with resourceVersion > cursor (caller holds the lock)."""
        if not self.events or self.events[-1][0] <= cursor:
            return []
        return [e for e in itertools.islice(self.events, 0, None) if e[0] > cursor]

    # ------------------------------------------------------------------ writes

    def _check_namespace(self, rtype: ResourceType, namespace: str | None) -> None:
        if rtype.namespaced:
            ns_type = self.registry.by_key("", "namespaces")
            if self._stored(ns_type, None, namespace) is None:
                raise not_found(ns_type, namespace)

    def _prepare_body(self, rtype: ResourceType, version: str, namespace: str | None, body, name: str | None = None):
        if not isinstance(body, dict):
            raise bad_request("the body of the request was in an unknown format")
        body = copy.deepcopy(body)
        gv = rtype.group_version(version)
        if body.get("kind") not in (None, "", rtype.kind):
            raise bad_request(f"the kind in the data ({body['kind']}) does not match the expected kind ({rtype.kind})")
        api_version = body.get("apiVersion")
        if api_version and api_version.rsplit("/", 1)[0] != (rtype.group or api_version.rsplit("/", 1)[0]):
            raise bad_request(
                f"the API version in the data ({api_version}) does not match the expected API version ({gv})"
            )
        if api_version and "/" in api_version and not rtype.group:
            raise bad_request(
                f"the API version in the data ({api_version}) does not match the expected API version ({gv})"
            )
        body["apiVersion"] = gv
        body["kind"] = rtype.kind
        meta = body.get("metadata")
        if meta is None:
            meta = body["metadata"] = {}
        if not isinstance(meta, dict):
            raise bad_request("metadata must be an object")
        if rtype.namespaced:
            if meta.get("namespace") and meta["namespace"] != namespace:
                raise bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        if name is not None:
            if meta.get("name") and meta["name"] != name:
                raise bad_request(
                    "the name of the object (%s) does not match the name on the URL (%s)" % (meta["name"], name)
                )
            meta["name"] = name
        return body

    def _apply_defaults(self, rtype: ResourceType, obj: dict, old: dict | None) -> None:
        defaulter = DEFAULTERS.get((rtype.group, rtype.kind)) if rtype.crd is None else None
        if defaulter:
            try:
                defaulter(obj, old)
            except Invalid as exc:
                raise invalid(rtype, obj["metadata"].get("name", ""), exc.causes) from exc
        if rtype.key == ("apiextensions.k8s.io", "customresourcedefinitions"):
            try:
                from .resources import crd_resource_type  # pylint: disable=import-outside-toplevel

                new_type = crd_resource_type(obj)
            except CRDError as exc:
                raise invalid(rtype, obj["metadata"].get("name", ""), [("spec", str(exc))]) from exc
            current = self.registry.by_key(new_type.group, new_type.plural)
            if current is not None and current.crd is None:
                raise invalid(rtype, obj["metadata"]["name"], [("spec.group", "Invalid value: a built-in resource")])
            if old and (old.get("spec") or {}).get("scope") != obj["spec"].get("scope"):
                raise invalid(rtype, obj["metadata"]["name"], [("spec.scope", "Invalid value: field is immutable")])

    # managed fields ----------------------------------------------------

    @staticmethod
    def _entries(obj: dict | None) -> list:
        entries = []
        for entry in ((obj or {}).get("metadata") or {}).get("managedFields") or []:
            entries.append(
                {
                    **{k: v for k, v in entry.items() if k != "fieldsV1"},
                    "paths": from_fields_v1(entry.get("fieldsV1") or {}),
                }
            )
        return entries

    @staticmethod
    def _store_entries(obj: dict, entries: list, old_entries: list) -> None:
        previous = {(e["manager"], e["operation"], e.get("subresource")): e for e in old_entries}
        out = []
        for entry in entries:
            if not entry["paths"]:
                continue
            key = (entry["manager"], entry["operation"], entry.get("subresource"))
            before = previous.get(key)
            if (
                before is not None
                and before["paths"] == entry["paths"]
                and before.get("apiVersion") == entry.get("apiVersion")
            ):
                stamp = before.get("time")
            else:
                stamp = now()
            item = {
                "manager": entry["manager"],
                "operation": entry["operation"],
                "apiVersion": entry["apiVersion"],
                "time": stamp,
                "fieldsType": "FieldsV1",
                "fieldsV1": to_fields_v1(entry["paths"]),
            }
            if entry.get("subresource"):
                item["subresource"] = entry["subresource"]
            out.append(item)
        if out:
            obj["metadata"]["managedFields"] = out
        else:
            obj["metadata"].pop("managedFields", None)

    def _track_update(self, rtype, gv, old, new, manager, subresource) -> tuple:
        """Ownership after a non-apply write: the writer takes every field it set or changed."""
        keyed = rtype.crd is None
        status_only = subresource == "status"
        include_status = not rtype.status_subresource or status_only
        old_entries = self._entries(old)
        entries = [dict(e, paths=set(e["paths"])) for e in old_entries]
        new_leaves = leaf_paths(new, keyed, include_status, status_only)
        old_leaves = leaf_paths(old, keyed, include_status, status_only) if old else set()
        changed = set()
        for path in new_leaves:
            if path[-1] == ".":
                if old is None or not has_path(old, path):
                    changed.add(path)
            elif old is None or get_path(old, path) != get_path(new, path):
                changed.add(path)
        removed = old_leaves - new_leaves
        for entry in entries:
            entry["paths"] -= changed | removed
        if changed:
            mine = next(
                (
                    e
                    for e in entries
                    if e["manager"] == manager and e["operation"] == "Update" and e.get("subresource") == subresource
                ),
                None,
            )
            if mine is None:
                mine = {"manager": manager, "operation": "Update", "apiVersion": gv, "paths": set()}
                if subresource:
                    mine["subresource"] = subresource
                entries.append(mine)
            mine["paths"] |= changed
            mine["apiVersion"] = gv
        return entries, old_entries

    # the common write path ----------------------------------------------

    def _write(
        self,
        rtype,
        version,
        old,
        new,
        *,
        manager,
        subresource=None,
        dry_run=False,
        check_rv=False,
        entries=None,
        controller=None,
    ):
        """Store `new` as the next state of `old`; returns the stored (or dry-run) object."""
        gv = rtype.group_version(version)
        meta = new["metadata"]
        old_meta = old["metadata"]
        if check_rv and meta.get("resourceVersion") and meta["resourceVersion"] != old_meta.get("resourceVersion"):
            raise ApiError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {rtype.qualified()} "{old_meta["name"]}": the object '
                "has been modified; please apply your changes to the latest version and try again",
                _details(rtype, old_meta["name"]),
            )
        if subresource == "status":
            candidate = copy.deepcopy(old)
            if new.get("status") is None:
                candidate.pop("status", None)
            else:
                candidate["status"] = new["status"]
            new = candidate
            meta = new["metadata"]
        elif rtype.status_subresource:
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)
        for key in (
            "name",
            "namespace",
            "uid",
            "creationTimestamp",
            "generation",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "resourceVersion",
            "managedFields",
        ):
            if key in old_meta:
                meta[key] = old_meta[key]
            else:
                meta.pop(key, None)
        new["apiVersion"] = gv
        new["kind"] = rtype.kind
        if subresource != "status":
            self._apply_defaults(rtype, new, old)
        if entries is None:
            entries, old_entries = self._track_update(rtype, gv, old, new, manager, subresource)
        else:
            old_entries = self._entries(old)
        self._store_entries(new, entries, old_entries)
        if new == old:
            return old
        if rtype.generation and _strip_for_generation(new) != _strip_for_generation(old):
            meta["generation"] = int(old_meta.get("generation", 1)) + 1
        if dry_run:
            return new
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            return self._remove(rtype, new, "Background")
        meta["resourceVersion"] = self._next_rv()
        self._commit(rtype, new)
        self._emit("MODIFIED", rtype, new)
        if rtype.key == ("apiextensions.k8s.io", "customresourcedefinitions"):
            self.registry.unregister_crd(new["metadata"]["name"])
            self.registry.register_crd(new)
        spec_changed = _strip_for_spec_change(new) != _strip_for_spec_change(old)
        self._after_commit(rtype, new, spec_changed=spec_changed, by=controller)
        return self._stored(rtype, meta.get("namespace"), meta["name"]) or new

    def _commit(self, rtype, obj) -> None:
        self.objects[rtype.key][(obj["metadata"].get("namespace", ""), obj["metadata"]["name"])] = obj

    # create -------------------------------------------------------------

    def create(self, rtype, version, namespace, body, *, manager, dry_run=False, apply_paths=None):
        with self.lock:
            obj = drop_nulls(self._prepare_body(rtype, version, namespace, body))
            meta = obj["metadata"]
            if not meta.get("name"):
                if meta.get("generateName"):
                    suffix = "".join(random.choice("bcdfghjklmnpqrstvwxz2456789") for _i in range(5))
                    meta["name"] = meta["generateName"] + suffix
                else:
                    raise invalid(rtype, "", [("metadata.name", "Required value: name or generateName is required")])
            name = meta["name"]
            if rtype.namespaced:
                self._check_namespace(rtype, namespace)
            if self._stored(rtype, namespace, name) is not None:
                raise ApiError(
                    409, "AlreadyExists", f'{rtype.qualified()} "{name}" already exists', _details(rtype, name)
                )
            for key in (
                "uid",
                "resourceVersion",
                "generation",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "managedFields",
                "selfLink",
            ):
                meta.pop(key, None)
            if rtype.status_subresource and not rtype.status_on_create:
                obj.pop("status", None)
            if rtype.status_subresource and rtype.crd is None:
                obj.setdefault("status", {})  # built-in types always serialize their status struct
            self._apply_defaults(rtype, obj, None)
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now()
            if rtype.generation:
                meta["generation"] = 1
            gv = rtype.group_version(version)
            if apply_paths is not None:
                entries = [{"manager": manager, "operation": "Apply", "apiVersion": gv, "paths": apply_paths}]
            else:
                entries = self._track_update(rtype, gv, None, obj, manager, None)[0]
            self._store_entries(obj, entries, [])
            if dry_run:
                return obj
            meta["resourceVersion"] = self._next_rv()
            self._commit(rtype, obj)
            self._emit("ADDED", rtype, obj)
            if rtype.key == ("apiextensions.k8s.io", "customresourcedefinitions"):
                self.registry.register_crd(obj)
            self._after_commit(rtype, obj, spec_changed=True)
            return self._stored(rtype, namespace, name) or obj

    # replace / patch / apply ----------------------------------------------

    def replace(self, rtype, version, namespace, name, body, *, manager, subresource=None, dry_run=False):
        with self.lock:
            old = self.get(rtype, namespace, name)
            new = self._prepare_body(rtype, version, namespace, body, name=name)
            return self._write(
                rtype, version, old, new, manager=manager, subresource=subresource, dry_run=dry_run, check_rv=True
            )

    def patch(
        self,
        rtype,
        version,
        namespace,
        name,
        content_type,
        body,
        *,
        manager,
        force=False,
        subresource=None,
        dry_run=False,
    ):
        with self.lock:
            if content_type == "application/apply-patch+yaml":
                return self.apply(
                    rtype,
                    version,
                    namespace,
                    name,
                    body,
                    manager=manager,
                    force=force,
                    subresource=subresource,
                    dry_run=dry_run,
                )
            old = self.get(rtype, namespace, name)
            keyed = rtype.crd is None
            try:
                if content_type == "application/json-patch+json":
                    new = json_patch(old, body)
                elif content_type == "application/merge-patch+json":
                    new = merge_patch(old, body)
                elif content_type == "application/strategic-merge-patch+json":
                    if rtype.crd is not None:
                        raise ApiError(
                            415,
                            "UnsupportedMediaType",
                            "the body of the request was in an unknown format - accepted media types "
                            "include: application/json-patch+json, application/merge-patch+json, "
                            "application/apply-patch+yaml",
                        )
                    new = strategic_merge_patch(old, body, keyed=keyed)
                else:
                    raise ApiError(415, "UnsupportedMediaType", f"the media type {content_type!r} is not supported")
            except PatchError as exc:
                raise ApiError(422, "Invalid", str(exc)) from exc
            if not isinstance(new, dict):
                raise bad_request("the patch does not result in an object")
            new = self._prepare_body(rtype, version, namespace, new, name=name)
            return self._write(
                rtype, version, old, new, manager=manager, subresource=subresource, dry_run=dry_run, check_rv=True
            )

    def apply(self, rtype, version, namespace, name, body, *, manager, force=False, subresource=None, dry_run=False):
        """Server-side apply: create or merge `body` and track what `manager` owns."""
        with self.lock:
            if not manager:
                raise bad_request("PATCH: fieldManager is required for apply requests")
            if not isinstance(body, dict) or not body.get("apiVersion") or not body.get("kind"):
                raise bad_request("invalid object: apiVersion and kind must be set in an applied configuration")
            applied = self._prepare_body(rtype, version, namespace, body, name=name)
            keyed = rtype.crd is None
            status_only = subresource == "status"
            include_status = not rtype.status_subresource or status_only
            if status_only:
                applied = {k: v for k, v in applied.items() if k in ("apiVersion", "kind", "metadata", "status")}
                applied["metadata"] = {
                    k: applied["metadata"][k] for k in ("name", "namespace") if k in applied["metadata"]
                }
            elif rtype.status_subresource:
                applied.pop("status", None)
            new_paths = leaf_paths(applied, keyed, include_status, status_only)
            old = self._stored(rtype, namespace, name)
            if old is None:
                if status_only:
                    raise not_found(rtype, name)
                return self.create(
                    rtype, version, namespace, applied, manager=manager, dry_run=dry_run, apply_paths=new_paths
                )
            gv = rtype.group_version(version)
            old_entries = self._entries(old)
            entries = [dict(e, paths=set(e["paths"])) for e in old_entries]
            mine = next(
                (
                    e
                    for e in entries
                    if e["manager"] == manager and e["operation"] == "Apply" and e.get("subresource") == subresource
                ),
                None,
            )
            others = [e for e in entries if e is not mine and e.get("subresource") == subresource]
            conflicts = []
            for path in sorted(new_paths):
                if path[-1] == ".":
                    continue
                live = get_path(old, path)
                if not has_path(old, path) or live == get_path(applied, path):
                    continue
                for entry in others:
                    if path in entry["paths"]:
                        conflicts.append((entry, path))
            if conflicts and not force:
                owner = conflicts[0][0]
                paths = [format_path(p) for _entry, p in conflicts]
                noun = "conflict" if len(conflicts) == 1 else "conflicts"
                message = (
                    f"Apply failed with {len(conflicts)} {noun}: conflict with \"{owner['manager']}\" "
                    f"using {owner.get('apiVersion')}: " + ", ".join(paths)
                )
                details = _details(rtype, name)
                details["causes"] = [
                    {
                        "reason": "FieldManagerConflict",
                        "message": f"conflict with \"{e['manager']}\" using {e.get('apiVersion')}",
                        "field": format_path(p),
                    }
                    for e, p in conflicts
                ]
                raise ApiError(409, "Conflict", message, details)
            for entry, path in conflicts:
                entry["paths"].discard(path)
            merged = apply_merge(old, applied, keyed=keyed)
            owned_by_others = set().union(*(e["paths"] for e in others)) if others else set()
            if mine is not None:
                removed = mine["paths"] - new_paths - owned_by_others
                still_owned = new_paths | owned_by_others
                # Whole list items first (outermost first), then single fields outside removed items.
                items = [p[:-1] for p in removed if p[-1] == "."]
                items = [i for i in items if not any(q[: len(i)] == i for q in still_owned)]
                for item in sorted(items, key=len):
                    remove_path(merged, item)
                    prune_empty(merged, item)
                for path in sorted(removed, key=len, reverse=True):
                    if path[-1] == "." or any(path[: len(i)] == i for i in items):
                        continue
                    remove_path(merged, path)
                    prune_empty(merged, path)
            if mine is None:
                mine = {"manager": manager, "operation": "Apply", "apiVersion": gv, "paths": set()}
                if subresource:
                    mine["subresource"] = subresource
                entries.append(mine)
            mine["paths"] = set(new_paths)
            mine["apiVersion"] = gv
            merged = self._prepare_body(rtype, version, namespace, merged, name=name)
            return self._write(
                rtype,
                version,
                old,
                merged,
                manager=manager,
                subresource=subresource,
                dry_run=dry_run,
                check_rv=True,
                entries=entries,
            )

    # delete -------------------------------------------------------------

    def delete(self, rtype, version, namespace, name, *, propagation=None, dry_run=False):
        with self.lock:
            obj = self.get(rtype, namespace, name)
            if rtype.key == ("", "namespaces") and name in PROTECTED_NAMESPACES:
                raise ApiError(
                    403,
                    "Forbidden",
                    f'namespaces "{name}" is forbidden: this namespace may not be deleted',
                    {"name": name, "kind": "namespaces"},
                )
            gone = copy.deepcopy(obj)
            gone["metadata"].setdefault("deletionTimestamp", now())
            gone["metadata"].setdefault("deletionGracePeriodSeconds", 0)
            if rtype.key == ("", "namespaces"):
                gone.setdefault("status", {})["phase"] = "Terminating"
            if dry_run:
                return self._delete_answer(rtype, version, gone)
            if obj["metadata"].get("finalizers") and rtype.key != ("", "namespaces"):
                if not obj["metadata"].get("deletionTimestamp"):
                    gone["metadata"]["resourceVersion"] = self._next_rv()
                    self._commit(rtype, gone)
                    self._emit("MODIFIED", rtype, gone)
                    self._schedule_finalizers(rtype, gone)
                stored = self._stored(rtype, namespace, name)
                if stored is None:  # a finalize hook without delay let go at once
                    return self._delete_answer(rtype, version, gone)
                return self._with_version(rtype, version, stored)
            self._remove(rtype, gone, propagation or "Background")
            return self._delete_answer(rtype, version, gone)

    def _delete_answer(self, rtype, version, obj):
        if rtype.return_deleted:
            return self._with_version(rtype, version, obj)
        details = _details(rtype, obj["metadata"]["name"])
        details["uid"] = obj["metadata"].get("uid")
        return status_body(200, None, None, details, status="Success")

    @staticmethod
    def _with_version(rtype, version, obj):
        return {**obj, "apiVersion": rtype.group_version(version)}

    def _remove(self, rtype, obj, propagation):
        """Remove an object now, with what goes with it (namespace contents, custom resources, dependents)."""
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        if key not in self.objects[rtype.key]:
            return obj
        del self.objects[rtype.key][key]
        obj = copy.deepcopy(obj)
        obj["metadata"]["resourceVersion"] = self._next_rv()
        self._emit("DELETED", rtype, obj)
        self._finalize_removed(rtype, obj)
        if rtype.key == ("", "namespaces"):
            for other in self.registry.all():
                if other.namespaced:
                    for (ns, _name), child in list(self.objects[other.key].items()):
                        if ns == meta["name"]:
                            self._remove(other, child, "Background")
        if rtype.key == ("apiextensions.k8s.io", "customresourcedefinitions"):
            crd_type = self.registry.unregister_crd(meta["name"])
            if crd_type:
                for child in list(self.objects[crd_type.key].values()):
                    self._remove(crd_type, child, "Background")
                self.objects.pop(crd_type.key, None)
        if propagation != "Orphan":
            self._collect_garbage(meta.get("uid"))
        self._after_commit(rtype, obj, spec_changed=False)
        return obj

    def _collect_garbage(self, uid) -> None:
        if not uid:
            return
        alive = {o["metadata"].get("uid") for objs in self.objects.values() for o in objs.values()}
        for other in self.registry.all():
            for child in list(self.objects[other.key].values()):
                owners = [r.get("uid") for r in child["metadata"].get("ownerReferences") or []]
                if uid in owners and not any(o in alive for o in owners if o != uid):
                    if child["metadata"].get("finalizers"):
                        if not child["metadata"].get("deletionTimestamp"):
                            marked = copy.deepcopy(child)
                            marked["metadata"]["deletionTimestamp"] = now()
                            marked["metadata"]["resourceVersion"] = self._next_rv()
                            self._commit(other, marked)
                            self._emit("MODIFIED", other, marked)
                            self._schedule_finalizers(other, marked)
                    else:
                        self._remove(other, child, "Background")

    def delete_collection(
        self, rtype, version, namespace, label_selector=None, field_selector=None, *, propagation=None, dry_run=False
    ):
        with self.lock:
            items = self.list(rtype, namespace, label_selector, field_selector)[0]
            deleted = []
            for obj in items:
                meta = obj["metadata"]
                if rtype.key == ("", "namespaces") and meta["name"] in PROTECTED_NAMESPACES:
                    continue
                self.delete(
                    rtype, version, meta.get("namespace"), meta["name"], propagation=propagation, dry_run=dry_run
                )
                deleted.append(self._with_version(rtype, version, obj))
            return {
                "kind": f"{rtype.kind}List",
                "apiVersion": rtype.group_version(version),
                "metadata": {"resourceVersion": str(self.rv)},
                "items": deleted,
            }

    # controllers ----------------------------------------------------------

    def _after_commit(self, rtype, obj, spec_changed: bool, by: str | None = None) -> None:
        kind = (rtype.group, rtype.kind)
        meta = obj["metadata"]
        for controller in list(ctl.CONTROLLERS):
            if spec_changed and (controller.group, controller.kind) == kind and controller.name != by:
                self._schedule(controller, rtype.key, meta.get("namespace", ""), meta["name"])
            if kind in controller.watches and controller.name != by:
                target = self.registry.by_kind(controller.group, controller.kind)
                if target:
                    for ns, name in list(self.objects[target.key]):
                        self._schedule(controller, target.key, ns, name)

    def _schedule(self, controller, key, namespace, name, delay=None, finalize=False) -> None:
        """Run `reconcile` (or `finalize`) of `controller` for one object now or on a timer."""
        if delay is None:
            delay = controller.finalize_delay if finalize else controller.delay
        if delay is None:
            delay = self.controller_delay
        if delay <= 0:
            (self._finalize if finalize else self._reconcile)(controller, key, namespace, name)
            return
        token = (controller.name, finalize, key, namespace, name)
        if token in self._pending:
            return
        self._pending.add(token)
        timer = threading.Timer(delay, self._run_later, args=(self.epoch, token, controller, key, namespace, name))
        timer.daemon = True
        timer.start()

    def _run_later(self, epoch, token, controller, key, namespace, name) -> None:
        with self.lock:
            if epoch != self.epoch:
                return
            self._pending.discard(token)
            (self._finalize if token[1] else self._reconcile)(controller, key, namespace, name)

    def _requeue(self, view, controller, key, namespace, name, finalize=False) -> None:
        if view.requeue_after is not None:
            self._schedule(controller, key, namespace, name, delay=view.requeue_after, finalize=finalize)

    @staticmethod
    def _version_of(rtype, obj) -> str:
        version = obj["apiVersion"].rsplit("/", 1)[-1]
        return version if version in rtype.versions else rtype.preferred_version

    def _reconcile(self, controller, key, namespace, name) -> None:
        rtype = self.registry.by_key(*key)
        obj = self.objects[key].get((namespace, name)) if rtype else None
        if obj is None or obj["metadata"].get("deletionTimestamp"):
            return
        view = ctl.ClusterView(self, self.settings)
        try:
            status = controller.reconcile(copy.deepcopy(obj), view)
        except Exception:  # pylint: disable=broad-except  # a broken hook must not break the API
            print(f"controller {controller.name} failed on {key} {namespace}/{name}:", file=sys.stderr)
            traceback.print_exc()
            self._requeue(view, controller, key, namespace, name)
            return
        self._requeue(view, controller, key, namespace, name)
        if status is None:
            return
        version = self._version_of(rtype, obj)
        finalizers = obj["metadata"].get("finalizers") or []
        if controller.finalizer and controller.finalizer not in finalizers:
            marked = copy.deepcopy(obj)
            marked["metadata"]["finalizers"] = [*finalizers, controller.finalizer]
            obj = self._write(rtype, version, obj, marked, manager=controller.name, controller=controller.name)
        if status == obj.get("status"):
            return
        new = copy.deepcopy(obj)
        new["status"] = status
        subresource = "status" if rtype.status_subresource else None
        self._write(
            rtype, version, obj, new, manager=controller.name, subresource=subresource, controller=controller.name
        )

    def _schedule_finalizers(self, rtype, obj) -> None:
        """An object was marked for deletion: start the finalize hooks of the finalizers it carries."""
        meta = obj["metadata"]
        for controller in list(ctl.CONTROLLERS):
            if (controller.group, controller.kind) == (rtype.group, rtype.kind) and controller.finalizer in (
                meta.get("finalizers") or []
            ):
                self._schedule(controller, rtype.key, meta.get("namespace", ""), meta["name"], finalize=True)

    def _finalize(self, controller, key, namespace, name) -> None:
        rtype = self.registry.by_key(*key)
        obj = self.objects[key].get((namespace, name)) if rtype else None
        if obj is None or not obj["metadata"].get("deletionTimestamp"):
            return
        finalizers = obj["metadata"].get("finalizers") or []
        if controller.finalizer not in finalizers:
            return
        view = ctl.ClusterView(self, self.settings)
        try:
            done = controller.finalize(copy.deepcopy(obj), view)
        except Exception:  # pylint: disable=broad-except  # a broken hook must not break the API
            print(f"finalizer {controller.finalizer} failed on {key} {namespace}/{name}:", file=sys.stderr)
            traceback.print_exc()
            done = False
        if done is False:
            self._requeue(view, controller, key, namespace, name, finalize=True)
            return
        new = copy.deepcopy(obj)
        new["metadata"]["finalizers"] = [f for f in finalizers if f != controller.finalizer]
        self._write(rtype, self._version_of(rtype, obj), obj, new, manager=controller.name, controller=controller.name)

    def _finalize_removed(self, rtype, obj) -> None:
        """A cascade removed `obj` with finalizers still on it: run their finalize hooks once, on a copy."""
        finalizers = obj["metadata"].get("finalizers") or []
        for controller in list(ctl.CONTROLLERS):
            if (controller.group, controller.kind) == (rtype.group, rtype.kind) and controller.finalizer in finalizers:
                delay = controller.finalize_delay
                self._finalize_copy_later(controller, obj, self.controller_delay if delay is None else delay)

    def _finalize_copy_later(self, controller, obj, delay) -> None:
        if delay <= 0:
            self._finalize_copy(self.epoch, controller, obj)
            return
        timer = threading.Timer(delay, self._finalize_copy, args=(self.epoch, controller, obj))
        timer.daemon = True
        timer.start()

    def _finalize_copy(self, epoch, controller, obj) -> None:
        with self.lock:
            if epoch != self.epoch:
                return
            view = ctl.ClusterView(self, self.settings)
            try:
                done = controller.finalize(copy.deepcopy(obj), view)
            except Exception:  # pylint: disable=broad-except  # a broken hook must not break the API
                print(f"finalizer {controller.finalizer} failed on removed {obj['metadata']['name']}:", file=sys.stderr)
                traceback.print_exc()
                done = False
            if done is False and view.requeue_after is not None:
                self._finalize_copy_later(controller, obj, view.requeue_after)
