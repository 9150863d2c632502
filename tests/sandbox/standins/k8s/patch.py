"""Patch and apply semantics of the stand-in API server.

- `merge_patch`: RFC 7386 JSON merge patch (`application/merge-patch+json`).
- `strategic_merge_patch`: an approximation of Kubernetes strategic merge patch
  (`application/strategic-merge-patch+json`): maps merge, lists of objects whose field name has a
  known patch merge key (containers/env/volumes/ports/... by name, port, mountPath, ...) merge item by
  item, `metadata.finalizers` merges as a set, other lists are replaced; `$patch: replace|delete`,
  `$retainKeys`, `$deleteFromPrimitiveList/<field>` are honoured and `$setElementOrder/<field>` ignored.
- `json_patch`: RFC 6902 (`application/json-patch+json`).
- Field ownership for server-side apply (`application/apply-patch+yaml`): sets of field paths per
  field manager, stored in `metadata.managedFields[].fieldsV1` in the real `f:`/`k:` notation.
  Lists with a known key are "map" lists (items owned one by one), all other lists are atomic, as
  for built-in types; custom resources have every list atomic (as a CRD schema without
  `x-kubernetes-list-type: map` does).
"""

from __future__ import annotations

import copy
import json

# Patch merge keys by field name. The real server takes these from the Go types (patchMergeKey /
# listMapKey); the field name alone is a close enough guide for the kinds the platform uses.
MERGE_KEYS = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "volumes": ("name",),
    "env": ("name",),
    "imagePullSecrets": ("name",),
    "webhooks": ("name",),
    "volumeMounts": ("mountPath",),
    "volumeDevices": ("devicePath",),
    "conditions": ("type",),
    "hostAliases": ("ip",),
    "ownerReferences": ("uid",),
    "topologySpreadConstraints": ("topologyKey", "whenUnsatisfiable"),
    "secrets": ("name",),
}
# Lists of scalars that strategic merge patch merges as sets instead of replacing.
SET_LISTS = {"finalizers"}


class PatchError(ValueError):
    """A patch the server cannot apply (answered with 422 or 400)."""


def list_keys(field: str, *lists, keyed: bool = True):
    """The merge key of a list field if every item of the given lists is an object carrying it."""
    if not keyed:
        return None
    if field == "ports":
        items = [i for lst in lists for i in (lst or [])]
        keys = (
            ("containerPort",)
            if items and all(isinstance(i, dict) and "containerPort" in i for i in items)
            else ("port",)
        )
    else:
        keys = MERGE_KEYS.get(field)
    if not keys:
        return None
    for lst in lists:
        for item in lst or []:
            if not isinstance(item, dict) or any(k not in item for k in keys):
                return None
    return keys


def _item_key(item: dict, keys: tuple) -> tuple:
    return tuple(json.dumps(item.get(k), sort_keys=True) for k in keys)


# --------------------------------------------------------------------------- merge patch (RFC 7386)


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# --------------------------------------------------------------------------- strategic merge patch

_DELETE = object()


def strategic_merge_patch(target, patch, keyed: bool = True):
    result = _smp_map(target if isinstance(target, dict) else {}, patch, keyed)
    return {} if result is _DELETE else result


def _smp_map(original: dict, patch: dict, keyed: bool):
    if not isinstance(patch, dict):
        raise PatchError("strategic merge patch: expected an object")
    directive = patch.get("$patch")
    if directive == "delete":
        return _DELETE
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    result = copy.deepcopy(original)
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys") or key.startswith("$setElementOrder/"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            if isinstance(result.get(field), list):
                result[field] = [v for v in result[field] if v not in (value or [])]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = _smp_map(result.get(key) if isinstance(result.get(key), dict) else {}, value, keyed)
            if merged is _DELETE:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            result[key] = _smp_list(key, result.get(key), value, keyed)
        else:
            result[key] = copy.deepcopy(value)
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _smp_list(field: str, original, patch: list, keyed: bool):
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        return [copy.deepcopy(i) for i in patch if not (isinstance(i, dict) and "$patch" in i)]
    original = original if isinstance(original, list) else []
    if field in SET_LISTS and all(not isinstance(i, (dict, list)) for i in patch):
        return list(original) + [i for i in patch if i not in original]
    plain = [i for i in patch if not (isinstance(i, dict) and i.get("$patch") == "delete")]
    keys = list_keys(field, original, plain, keyed=keyed)
    if not keys:
        return copy.deepcopy(plain)
    result = copy.deepcopy(original)
    for item in patch:
        if isinstance(item, dict) and item.get("$patch") == "delete":
            if all(k in item for k in keys):
                result = [r for r in result if _item_key(r, keys) != _item_key(item, keys)]
            continue
        for index, current in enumerate(result):
            if _item_key(current, keys) == _item_key(item, keys):
                merged = _smp_map(current, item, keyed)
                if merged is _DELETE:
                    del result[index]
                else:
                    result[index] = merged
                break
        else:
            result.append(copy.deepcopy(item))
    return result


# --------------------------------------------------------------------------- JSON patch (RFC 6902)


def _pointer(path: str) -> list:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _container(doc, parts, create=False):
    node = doc
    for part in parts[:-1]:
        if isinstance(node, list):
            try:
                node = node[int(part)]
            except (ValueError, IndexError) as exc:
                raise PatchError(f"path element {part!r} not found") from exc
        elif isinstance(node, dict):
            if part not in node:
                raise PatchError(f"path element {part!r} not found")
            node = node[part]
        else:
            raise PatchError(f"path element {part!r} not found")
    del create
    return node


def json_patch(target, operations):
    if not isinstance(operations, list):
        raise PatchError("json patch: expected a list of operations")
    doc = copy.deepcopy(target)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError(f"json patch: invalid operation {op!r}")
        name = op["op"]
        if name in ("move", "copy"):
            src = _pointer(op.get("from", ""))
            value = copy.deepcopy(_get(doc, src))
            if name == "move":
                doc = _remove(doc, src)
            doc = _add(doc, _pointer(op["path"]), value)
        elif name == "add":
            doc = _add(doc, _pointer(op["path"]), copy.deepcopy(op.get("value")))
        elif name == "remove":
            doc = _remove(doc, _pointer(op["path"]))
        elif name == "replace":
            parts = _pointer(op["path"])
            _get(doc, parts)
            doc = _remove(doc, parts) if parts else doc
            doc = _add(doc, parts, copy.deepcopy(op.get("value")))
        elif name == "test":
            if _get(doc, _pointer(op["path"])) != op.get("value"):
                raise PatchError(f"json patch: test failed at {op['path']}")
        else:
            raise PatchError(f"json patch: unknown operation {name!r}")
    return doc


def _get(doc, parts):
    node = doc
    for part in parts:
        if isinstance(node, list):
            try:
                node = node[int(part)]
            except (ValueError, IndexError) as exc:
                raise PatchError(f"path element {part!r} not found") from exc
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise PatchError(f"path element {part!r} not found")
    return node


def _add(doc, parts, value):
    if not parts:
        return value
    parent = _container(doc, parts)
    last = parts[-1]
    if isinstance(parent, list):
        if last == "-":
            parent.append(value)
        else:
            try:
                index = int(last)
            except ValueError as exc:
                raise PatchError(f"invalid list index {last!r}") from exc
            if index > len(parent):
                raise PatchError(f"list index {index} out of range")
            parent.insert(index, value)
    elif isinstance(parent, dict):
        parent[last] = value
    else:
        raise PatchError(f"cannot add at {'/'.join(parts)}")
    return doc


def _remove(doc, parts):
    if not parts:
        raise PatchError("cannot remove the whole document")
    parent = _container(doc, parts)
    last = parts[-1]
    try:
        if isinstance(parent, list):
            del parent[int(last)]
        else:
            del parent[last]
    except (KeyError, IndexError, ValueError, TypeError) as exc:
        raise PatchError(f"path element {last!r} not found") from exc
    return doc


# --------------------------------------------------------------------------- field sets (server-side apply)

# Fields that belong to the object's identity or the server, never to a field manager.
UNTRACKED_METADATA = {
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
}


def leaf_paths(obj: dict, keyed: bool = True, include_status: bool = True, only_status: bool = False) -> set:
    """The field paths an object (or an applied configuration) sets."""
    paths = set()
    for key, value in obj.items():
        if key in ("apiVersion", "kind"):
            continue
        if only_status and key != "status":
            continue
        if key == "status" and not include_status:
            continue
        if key == "metadata" and isinstance(value, dict):
            value = {k: v for k, v in value.items() if k not in UNTRACKED_METADATA}
            if not value:
                continue
        _collect(value, ("f:" + key,), key, paths, keyed)
    return paths


def _collect(value, prefix, field, paths, keyed):
    if isinstance(value, dict) and value:
        for key, child in value.items():
            _collect(child, prefix + ("f:" + key,), key, paths, keyed)
    elif isinstance(value, list) and value and list_keys(field, value, keyed=keyed):
        keys = list_keys(field, value, keyed=keyed)
        for item in value:
            item_path = prefix + ("k:" + json.dumps({k: item[k] for k in keys}, sort_keys=True, separators=(",", ":")),)
            paths.add(item_path + (".",))
            for key, child in item.items():
                _collect(child, item_path + ("f:" + key,), key, paths, keyed)
    else:
        paths.add(prefix)


_MISSING = object()


def get_path(obj, path):
    """The value at a field path, or _MISSING."""
    node = obj
    for element in path:
        if element == ".":
            return node
        if element.startswith("f:"):
            if not isinstance(node, dict) or element[2:] not in node:
                return _MISSING
            node = node[element[2:]]
        else:
            wanted = json.loads(element[2:])
            if not isinstance(node, list):
                return _MISSING
            for item in node:
                if isinstance(item, dict) and all(item.get(k) == v for k, v in wanted.items()):
                    node = item
                    break
            else:
                return _MISSING
    return node


def has_path(obj, path) -> bool:
    return get_path(obj, path) is not _MISSING


def remove_path(obj, path) -> None:
    """Remove the field (or keyed list item, for a path ending in '.') at path, if present."""
    if path and path[-1] == ".":
        path = path[:-1]
    parent = get_path(obj, path[:-1])
    if parent is _MISSING:
        return
    last = path[-1]
    if last.startswith("f:") and isinstance(parent, dict):
        parent.pop(last[2:], None)
    elif last.startswith("k:") and isinstance(parent, list):
        wanted = json.loads(last[2:])
        parent[:] = [i for i in parent if not (isinstance(i, dict) and all(i.get(k) == v for k, v in wanted.items()))]


def prune_empty(obj, path) -> None:
    """After a removal at path, drop maps/lists on the way up that became empty (not metadata or the root)."""
    for depth in range(len(path) - 1, 1, -1):
        parent_path = path[:depth]
        if parent_path[-1] == ".":
            continue
        value = get_path(obj, parent_path)
        if value in ({}, []) and parent_path != ("f:metadata",):
            remove_path(obj, parent_path)


def drop_nulls(value):
    """A copy without null map values, as the API server stores objects (a `null` field is an unset field)."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(item) for item in value]
    return copy.deepcopy(value)


def apply_merge(live, applied, field: str = "", keyed: bool = True):
    """Merge an applied configuration into the live object (maps and keyed lists merge, the rest is replaced)."""
    if isinstance(applied, dict) and isinstance(live, dict):
        result = copy.deepcopy(live)
        for key, value in applied.items():
            if value is None:
                result.pop(key, None)
            else:
                result[key] = apply_merge(result.get(key), value, key, keyed)
        return result
    if isinstance(applied, list) and isinstance(live, list):
        keys = list_keys(field, live, applied, keyed=keyed)
        if keys:
            result = copy.deepcopy(live)
            for item in applied:
                for index, current in enumerate(result):
                    if _item_key(current, keys) == _item_key(item, keys):
                        result[index] = apply_merge(current, item, "", keyed)
                        break
                else:
                    result.append(drop_nulls(item))
            return result
    return drop_nulls(applied)


def to_fields_v1(paths) -> dict:
    tree: dict = {}
    for path in sorted(paths):
        node = tree
        for element in path:
            node = node.setdefault(element, {})
    return tree


def from_fields_v1(tree: dict, prefix=()) -> set:
    paths = set()
    for element, child in (tree or {}).items():
        path = prefix + (element,)
        if child:
            paths |= from_fields_v1(child, path)
        else:
            paths.add(path)
    return paths


def format_path(path) -> str:
    """`.spec.template.spec.containers[name="app"].image`, as the real conflict messages print paths."""
    out = ""
    for element in path:
        if element == ".":
            continue
        if element.startswith("f:"):
            out += "." + element[2:]
        else:
            wanted = json.loads(element[2:])
            out += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in wanted.items()) + "]"
    return out
