"""Label and field selectors, as the list and watch endpoints take them."""

from __future__ import annotations

import re


class SelectorError(ValueError):
    """An unparsable selector (answered with 400 BadRequest)."""


def _split(text: str) -> list:
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


_SET_RE = re.compile(r"^([^\s!=(),]+)\s+(in|notin)\s+\((.*)\)$")
_EQ_RE = re.compile(r"^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)$")
_KEY_RE = re.compile(r"^(!?)\s*([^\s!=(),]+)$")


def parse_label_selector(text: str | None) -> list:
    """Requirements as (key, operator, values): operators =, !=, in, notin, exists, !exists."""
    requirements = []
    for part in _split(text or ""):
        match = _SET_RE.match(part)
        if match:
            values = {v.strip() for v in match.group(3).split(",") if v.strip()}
            requirements.append((match.group(1), match.group(2), values))
            continue
        match = _EQ_RE.match(part)
        if match:
            operator = "!=" if match.group(2) == "!=" else "="
            requirements.append((match.group(1), operator, {match.group(3)}))
            continue
        match = _KEY_RE.match(part)
        if match:
            requirements.append((match.group(2), "!exists" if match.group(1) else "exists", set()))
            continue
        raise SelectorError(f'unable to parse requirement: found "{part}"')
    return requirements


def labels_match(requirements: list, labels: dict | None) -> bool:
    labels = labels or {}
    for key, operator, values in requirements:
        present = key in labels
        value = labels.get(key)
        if operator == "=" and not (present and value in values):
            return False
        if operator == "!=" and present and value in values:
            return False
        if operator == "in" and not (present and value in values):
            return False
        if operator == "notin" and present and value in values:
            return False
        if operator == "exists" and not present:
            return False
        if operator == "!exists" and present:
            return False
    return True


def parse_field_selector(text: str | None) -> list:
    requirements = []
    for part in _split(text or ""):
        match = re.match(r"^([A-Za-z0-9_.\-]+)\s*(==|=|!=)\s*(.*)$", part)
        if not match:
            raise SelectorError(f"invalid selector: '{part}'; can't understand '{part}'")
        requirements.append((match.group(1), "!=" if match.group(2) == "!=" else "=", match.group(3)))
    return requirements


def _field(obj: dict, dotted: str) -> str:
    node = obj
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return ""
        node = node[part]
    if isinstance(node, bool):
        return "true" if node else "false"
    return "" if node is None else str(node)


def fields_match(requirements: list, obj: dict) -> bool:
    for path, operator, value in requirements:
        actual = _field(obj, path)
        if (operator == "=") != (actual == value):
            return False
    return True
