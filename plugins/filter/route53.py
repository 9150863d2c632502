# -*- coding: utf-8 -*-
# Copyright: kubeflow_ops.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that shape record lists for kubeflow_ops.aws.route53_records."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

RECORD_KEYS = ("type", "ttl", "values", "alias", "value_pattern")


def route53_records_for(names, name_format="{}", **record):
    """One record per name, each `record` with its name set to name_format.format(name); None values dropped."""
    if isinstance(names, (str, bytes)) or not hasattr(names, "__iter__"):
        raise AnsibleFilterError("kubeflow_ops.aws.route53_records_for: the input must be a list of names")
    unknown = sorted(set(record) - set(RECORD_KEYS))
    if unknown:
        raise AnsibleFilterError(
            f"kubeflow_ops.aws.route53_records_for: unknown record keys {', '.join(unknown)} "
            f"(known: {', '.join(RECORD_KEYS)})"
        )
    if "{}" not in name_format:
        raise AnsibleFilterError("kubeflow_ops.aws.route53_records_for: name_format must contain {}")
    fields = {key: value for key, value in record.items() if value is not None}
    return [dict(fields, name=name_format.replace("{}", str(name))) for name in names]


class FilterModule:
    def filters(self):
        return {"route53_records_for": route53_records_for}
