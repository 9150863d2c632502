# -*- coding: utf-8 -*-
# Copyright: kubeflow_ops.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja test `valid`: does a value have the shape of an AWS or Kubernetes name (plugins/module_utils/_names.py)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.kubeflow_ops.aws.plugins.module_utils._names import PATTERNS, matches


def valid(value, kind):
    if kind not in PATTERNS:
        raise AnsibleFilterError(
            f"kubeflow_ops.aws.valid: unknown kind {kind!r} (known: {', '.join(sorted(PATTERNS))})"
        )
    return matches(kind, value)


class TestModule:
    def tests(self):
        return {"valid": valid}
