"""Filters kubeflow_ops.aws.eksctl_node_groups and eksctl_cluster_config, as roles call them."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.kubeflow_ops.aws.plugins.filter.eksctl import FilterModule

FILTERS = FilterModule().filters()


def test_node_groups_filter():
    result = FILTERS["eksctl_node_groups"]([{"name": "cpu", "instance_type": "m5.large"}], "cpu", tags={"a": "b"})
    assert result["problems"] == [] and result["node_groups"][0]["tags"] == {"a": "b"}


def test_node_groups_filter_arguments():
    with pytest.raises(AnsibleFilterError, match="kind must be one of cpu, gpu"):
        FILTERS["eksctl_node_groups"]([], "tpu")
    with pytest.raises(AnsibleFilterError, match="kind=gpu needs taint and label"):
        FILTERS["eksctl_node_groups"]([], "gpu")


def test_cluster_config_filter():
    result = FILTERS["eksctl_cluster_config"]("kf", region="eu-west-1", version="1.33", addons=[{"name": "coredns"}])
    assert result["config"]["metadata"]["name"] == "kf"
    assert result["addon_problems"] == ["coredns is always installed; do not list it"]
    assert "1.33" in result["supported_versions"]
