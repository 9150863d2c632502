"""The cluster role on the sandbox (moto + eksctl simulator + Kubernetes stand-in), run with ansible-playbook.

One scenario, several runs, because every run pays for an EKS control plane in the simulator:
converge twice (second changed=0), a size change and a new group in one run (one scale, one create),
a removed group without prune (warning, kept) together with a version bump (one upgrade), prune
(drain + delete), then playbooks/teardown.yml removes every CloudFormation stack.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.sandbox.harness.playbook import run_playbook
from tests.sandbox.harness.scenario import aws_client, live_stacks

REGION = "us-west-2"
CLUSTER = "kf-sandbox"  # inventories/sandbox
# A control plane of 15 min takes 1.5 s, a node group 0.4 s: waits are exercised, runs stay short.
TIME_SCALE = 1 / 600

CPU = {"name": "cpu", "instance_type": "m5.xlarge", "min_size": 1, "max_size": 4, "desired_capacity": 2}


def nodegroups(env):
    eks = aws_client(env, "eks")
    return {
        name: eks.describe_nodegroup(clusterName=CLUSTER, nodegroupName=name)["nodegroup"]
        for name in eks.list_nodegroups(clusterName=CLUSTER)["nodegroups"]
    }


def eksctl_commands(output, verb):
    """eksctl argument lists that ran (from -v results; read-only plans left out) whose first two arguments
    are `verb`, e.g. ('scale', 'nodegroup')."""
    found = []
    for block in output.split("TASK [")[1:]:
        if "(read-only)" in block.split("\n", 1)[0]:
            continue
        for match in re.finditer(r'"commands": (\[\[.*?\]\])', block):
            for cmd in json.loads(match.group(1)):
                if tuple(cmd[1:3]) == verb:
                    found.append(cmd[1:])
    return found


def namespaces(kube):
    return [n["metadata"]["name"] for n in kube.objects(kind="Namespace")]


def extra_vars(**values):
    return ["-e", json.dumps(values)]


@pytest.fixture
def cluster_env(sandbox_env):
    env = dict(sandbox_env)
    env["EKSCTL_SIM_TIME_SCALE"] = str(TIME_SCALE)
    # Results as JSON, so that the eksctl commands each run made can be read back.
    env["ANSIBLE_CALLBACK_RESULT_FORMAT"] = "json"
    return env


def test_cluster_converges_scales_upgrades_prunes_and_tears_down(cluster_env, sandbox_kube):
    env = cluster_env
    first = run_playbook("playbooks/cluster.yml", env, args=["-v"])
    assert first.rc == 0, first.output[-6000:]
    assert first.changed > 0
    stacks = live_stacks(env)
    assert f"eksctl-{CLUSTER}-cluster" in stacks
    assert f"eksctl-{CLUSTER}-nodegroup-cpu" in stacks
    assert f"eksctl-{CLUSTER}-addon-iamserviceaccount-kube-system-aws-load-balancer-controller" in stacks
    assert len(eksctl_commands(first.output, ("create", "cluster"))) == 1
    cluster = aws_client(env, "eks").describe_cluster(name=CLUSTER)["cluster"]
    assert cluster["version"] == "1.33"
    cpu = nodegroups(env)["cpu"]
    assert cpu["scalingConfig"] == {"minSize": 1, "maxSize": 4, "desiredSize": 2}
    assert cpu["labels"]["kubeflow-ops.io/pool"] == "cpu"
    assert cpu["tags"]["kubeflow_ops:cluster"] == CLUSTER
    # OIDC provider for IRSA, the load balancer controller's policy attached to its IRSA role.
    iam = aws_client(env, "iam")
    assert len(iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]) == 1
    policies = [p for p in iam.list_policies(Scope="Local")["Policies"] if p["PolicyName"].startswith(CLUSTER)]
    assert [p["PolicyName"] for p in policies] == [f"{CLUSTER}-AWSLoadBalancerControllerIAMPolicy"]
    assert policies[0]["AttachmentCount"] == 1
    # Subnets tagged for load balancers.
    subnets = aws_client(env, "ec2").describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [cluster["resourcesVpcConfig"]["vpcId"]]}]
    )
    tags = [{t["Key"]: t["Value"] for t in s.get("Tags", [])} for s in subnets["Subnets"]]
    assert any(t.get("kubernetes.io/role/elb") == "1" for t in tags)
    assert any(t.get("kubernetes.io/role/internal-elb") == "1" for t in tags)
    assert all(t.get(f"kubernetes.io/cluster/{CLUSTER}") == "shared" for t in tags)
    # Metrics server and the IRSA service account in the cluster; no dashboard by default.
    assert [d["metadata"]["name"] for d in sandbox_kube.objects(kind="Deployment", namespace="kube-system")] == [
        "metrics-server"
    ]
    assert sandbox_kube.objects(kind="APIService")
    assert "kubernetes-dashboard" not in [n["metadata"]["name"] for n in sandbox_kube.objects(kind="Namespace")]
    sa = [
        s
        for s in sandbox_kube.objects(kind="ServiceAccount")
        if s["metadata"]["name"] == "aws-load-balancer-controller"
    ]
    assert sa and "eks.amazonaws.com/role-arn" in sa[0]["metadata"]["annotations"]
    assert len(sandbox_kube.objects(kind="Node")) == 2

    second = run_playbook("playbooks/cluster.yml", env)
    assert second.rc == 0, second.output[-6000:]
    assert second.changed == 0, second.output[-6000:]

    # A size change and a new group: one scale and one create, nothing else.
    groups = [
        dict(CPU, desired_capacity=3),
        {"name": "cpu-extra", "instance_type": "m5.large", "min_size": 1, "max_size": 2},
    ]
    # The dashboard is switched on in the same run (and off again in the next).
    grow = run_playbook(
        "playbooks/cluster.yml",
        env,
        args=["-v"] + extra_vars(kubeflow_ops_node_groups=groups, kubeflow_ops_cluster_dashboard=True),
    )
    assert grow.rc == 0, grow.output[-6000:]
    assert [c[:2] for c in eksctl_commands(grow.output, ("scale", "nodegroup"))] == [["scale", "nodegroup"]]
    assert "cpu" in eksctl_commands(grow.output, ("scale", "nodegroup"))[0]
    created = eksctl_commands(grow.output, ("create", "nodegroup"))
    assert len(created) == 1 and "--include=cpu-extra" in created[0]
    assert not eksctl_commands(grow.output, ("create", "cluster")) and not eksctl_commands(
        grow.output, ("upgrade", "cluster")
    )
    assert nodegroups(env)["cpu"]["scalingConfig"]["desiredSize"] == 3
    assert f"eksctl-{CLUSTER}-nodegroup-cpu-extra" in live_stacks(env)
    assert "kubernetes-dashboard" in namespaces(sandbox_kube)
    assert "eks-admin" in [b["metadata"]["name"] for b in sandbox_kube.objects(kind="ClusterRoleBinding")]

    # cpu-extra left out without prune: kept, with a warning; the version goes up one minor step.
    bump = run_playbook(
        "playbooks/cluster.yml",
        env,
        args=["-v"]
        + extra_vars(kubeflow_ops_node_groups=[dict(CPU, desired_capacity=3)], kubeflow_ops_kubernetes_version="1.34"),
    )
    assert bump.rc == 0, bump.output[-6000:]
    assert "cpu-extra of cluster kf-sandbox are not in the config; they are kept" in bump.output
    assert not eksctl_commands(bump.output, ("delete", "nodegroup"))
    assert f"eksctl-{CLUSTER}-nodegroup-cpu-extra" in live_stacks(env)
    upgrades = eksctl_commands(bump.output, ("upgrade", "cluster"))
    assert len(upgrades) == 1 and upgrades[0][upgrades[0].index("--version") + 1] == "1.34"
    assert aws_client(env, "eks").describe_cluster(name=CLUSTER)["cluster"]["version"] == "1.34"
    # The dashboard is off again (the inventory default): removed, with its cluster-admin binding.
    assert "kubernetes-dashboard" not in namespaces(sandbox_kube)
    assert "eks-admin" not in [b["metadata"]["name"] for b in sandbox_kube.objects(kind="ClusterRoleBinding")]

    # With prune: drained, then deleted.
    prune = run_playbook(
        "playbooks/cluster.yml",
        env,
        args=["-v"]
        + extra_vars(
            kubeflow_ops_node_groups=[dict(CPU, desired_capacity=3)],
            kubeflow_ops_kubernetes_version="1.34",
            kubeflow_ops_prune_node_groups=True,
        ),
    )
    assert prune.rc == 0, prune.output[-6000:]
    deletes = eksctl_commands(prune.output, ("delete", "nodegroup"))
    assert len(deletes) == 1 and "cpu-extra" in deletes[0] and "--drain" in deletes[0]
    assert f"eksctl-{CLUSTER}-nodegroup-cpu-extra" not in live_stacks(env)
    assert set(nodegroups(env)) == {"cpu"}

    # Teardown: every stack, the cluster, the policy and the kubeconfig go.
    down = run_playbook("playbooks/teardown.yml", env)
    assert down.rc == 0, down.output[-6000:]
    assert live_stacks(env) == []
    assert aws_client(env, "eks").list_clusters()["clusters"] == []
    assert not [
        p
        for p in aws_client(env, "iam").list_policies(Scope="Local")["Policies"]
        if p["PolicyName"].startswith(CLUSTER)
    ]
    assert not sandbox_kube.objects(kind="Node")
    again = run_playbook("playbooks/teardown.yml", env)
    assert again.rc == 0, again.output[-6000:]
    assert again.changed == 0, again.output[-6000:]
