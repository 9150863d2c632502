"""The cluster role's ClusterConfig and the Kubernetes versions (module_utils/_eksctl/config.py)."""

from __future__ import annotations

import pytest

from ansible_collections.kubeflow_ops.aws.plugins.module_utils._eksctl import config as cc


def test_config_without_options():
    config = cc.cluster_config("kf", "eu-west-1", "1.33", {"a": "b"})
    assert config == {
        "apiVersion": "eksctl.io/v1alpha5",
        "kind": "ClusterConfig",
        "metadata": {"name": "kf", "region": "eu-west-1", "version": "1.33", "tags": {"a": "b"}},
        "iam": {"withOIDC": True},
        "addonsConfig": {"disableDefaultAddons": True},
        "addons": [{"name": "vpc-cni"}, {"name": "coredns"}, {"name": "kube-proxy"}],
    }


def test_config_with_addons_zones_and_cidr():
    config = cc.cluster_config(
        "kf", "eu-west-1", 1.3, {}, [{"name": "aws-ebs-csi-driver"}], availability_zones=["eu-west-1a"],
        vpc_cidr="10.1.0.0/16",
    )  # fmt: skip
    assert config["metadata"]["version"] == "1.3"
    assert config["addons"][-1] == {"name": "aws-ebs-csi-driver"}
    assert config["availabilityZones"] == ["eu-west-1a"] and config["vpc"] == {"cidr": "10.1.0.0/16"}


@pytest.mark.parametrize(
    "addons, problems",
    [
        ([], []),
        ([{"name": "aws-ebs-csi-driver", "version": "latest"}], []),
        ("ebs", ["must be a list of {name, version}"]),
        ([{"version": "1"}], ["item 1 needs a name"]),
        ([{"name": "metrics-server"}], ["metrics-server is installed by this role (cluster_metrics_server), not as an EKS add-on"]),
        ([{"name": "coredns"}], ["coredns is always installed; do not list it"]),
    ],
)  # fmt: skip
def test_addon_problems(addons, problems):
    assert cc.addon_problems(addons) == problems
    if problems:
        assert cc.cluster_config("kf", "eu-west-1", "1.33", {}, addons)["addons"] == list(map(dict, cc.BASE_ADDONS))


def test_versions():
    assert cc.parse_version("1.30") == (1, 30)
    with pytest.raises(ValueError, match="not a Kubernetes minor version"):
        cc.parse_version("1.30.1")
    assert cc.upgrade_steps("1.30", "1.32") == ["1.31", "1.32"]
    assert cc.upgrade_steps("1.31", "1.31") == []
