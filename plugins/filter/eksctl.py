# -*- coding: utf-8 -*-
# Copyright: kubeflow_ops.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that check and render what roles hand to eksctl (plugins/module_utils/_eksctl/)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.kubeflow_ops.aws.plugins.module_utils._eksctl.config import (
    SUPPORTED_KUBERNETES_VERSIONS,
    addon_problems,
    cluster_config,
)
from ansible_collections.kubeflow_ops.aws.plugins.module_utils._eksctl.nodegroups import inventory_node_groups

KINDS = ("cpu", "gpu")


def eksctl_node_groups(groups, kind="cpu", tags=None, taint=None, label=None):
    if kind not in KINDS:
        raise AnsibleFilterError(f"kubeflow_ops.aws.eksctl_node_groups: kind must be one of {', '.join(KINDS)}")
    if kind == "gpu" and (taint is None or label is None):
        raise AnsibleFilterError("kubeflow_ops.aws.eksctl_node_groups: kind=gpu needs taint and label")
    return inventory_node_groups(groups, kind, dict(tags or {}), taint=taint, label=label)


def eksctl_cluster_config(name, region, version, tags=None, addons=None, availability_zones=None, vpc_cidr=""):
    addons = [] if addons is None else addons
    return {
        "config": cluster_config(
            name, region, version, tags or {}, addons, availability_zones=availability_zones or [], vpc_cidr=vpc_cidr
        ),
        "addon_problems": addon_problems(addons),
        "supported_versions": list(SUPPORTED_KUBERNETES_VERSIONS),
    }


class FilterModule:
    def filters(self):
        return {"eksctl_node_groups": eksctl_node_groups, "eksctl_cluster_config": eksctl_cluster_config}
