# -*- coding: utf-8 -*-
# Copyright: kubeflow_ops.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ClusterConfig (eksctl.io/v1alpha5) of a cluster, and the Kubernetes versions EKS offers (collection-private).

The cluster role renders its ClusterConfig here (through the kubeflow_ops.aws.eksctl_cluster_config filter);
eksctl_cluster checks versions with the same list. Facts about the CLI follow eksctl v0.230.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

API_VERSION = "eksctl.io/v1alpha5"
KIND = "ClusterConfig"

# Kubernetes versions EKS offers (standard + extended support) as known to eksctl 0.230.
SUPPORTED_KUBERNETES_VERSIONS = ("1.28", "1.29", "1.30", "1.31", "1.32", "1.33", "1.34")

# EKS add-ons installed with every cluster. eksctl's default add-ons are switched off
# (addonsConfig.disableDefaultAddons) so that it never adds metrics-server as an EKS add-on next to ours.
BASE_ADDONS = ({"name": "vpc-cni"}, {"name": "coredns"}, {"name": "kube-proxy"})


def parse_version(version):
    """'1.30' -> (1, 30); raises ValueError for anything else."""
    match = re.match(r"^(\d+)\.(\d+)$", str(version).strip())
    if not match:
        raise ValueError(f"'{version}' is not a Kubernetes minor version such as 1.30")
    return int(match.group(1)), int(match.group(2))


def upgrade_steps(current, desired):
    """Versions to pass through from current to desired, one minor step each (EKS allows no more)."""
    cur, want = parse_version(current), parse_version(desired)
    if want <= cur:
        return []
    return [f"{cur[0]}.{minor}" for minor in range(cur[1] + 1, want[1] + 1)]


def addon_problems(addons):
    """Problems of the add-ons a user lists besides BASE_ADDONS (metrics-server is the cluster role's own)."""
    if isinstance(addons, (str, Mapping)) or not isinstance(addons, (list, tuple)):
        return ["must be a list of {name, version}"]
    base = [addon["name"] for addon in BASE_ADDONS]
    out = []
    for index, addon in enumerate(addons, start=1):
        if not isinstance(addon, Mapping) or "name" not in addon:
            out.append(f"item {index} needs a name")
        elif addon["name"] == "metrics-server":
            out.append("metrics-server is installed by this role (cluster_metrics_server), not as an EKS add-on")
        elif addon["name"] in base:
            out.append(f"{addon['name']} is always installed; do not list it")
    return out


def cluster_config(name, region, version, tags, addons=(), availability_zones=(), vpc_cidr=""):
    """The ClusterConfig of a cluster without node groups (eksctl_nodegroup adds those)."""
    config = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": name, "region": region, "version": str(version), "tags": dict(tags or {})},
        "iam": {"withOIDC": True},
        "addonsConfig": {"disableDefaultAddons": True},
        "addons": [dict(addon) for addon in BASE_ADDONS] + (list(addons) if not addon_problems(addons) else []),
    }
    if availability_zones:
        config["availabilityZones"] = list(availability_zones)
    if vpc_cidr:
        config["vpc"] = {"cidr": vpc_cidr}
    return config
