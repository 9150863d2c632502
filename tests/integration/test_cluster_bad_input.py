"""Bad input to the cluster and gpu_nodes roles: each case fails with a clear message before eksctl changes
anything. A cluster at Kubernetes 1.31 exists already (made with the simulator directly), so that the cases
that compare with it (version jumps, a region change, a delete without confirmation) have something to guard."""

from __future__ import annotations

from tests.sandbox.harness.playbook import run_failure_cases, unmet_expectations
from tests.sandbox.harness.scenario import aws_client, existing_cluster, live_stacks

REGION = "us-west-2"
CLUSTER = "kf-sandbox"  # inventories/sandbox
CPU = {"name": "cpu", "instance_type": "m5.large", "min_size": 1, "max_size": 2}
GPU = {"name": "gpu-t4", "instance_type": "g4dn.xlarge", "min_size": 0, "max_size": 1}

# case name -> (role, extra vars for the role, a piece of the expected message)
CASES = {
    "min > max": ("cluster", {"cluster_node_groups": [dict(CPU, min_size=3, max_size=1)]}, "is greater than max_size"),
    "desired outside min..max": (
        "cluster",
        {"cluster_node_groups": [dict(CPU, desired_capacity=5)]},
        "desired_capacity 5 must lie between",
    ),
    "negative size": ("cluster", {"cluster_node_groups": [dict(CPU, min_size=-1)]}, "must be a whole number >= 0"),
    "non-GPU type in a GPU group": (
        "gpu_nodes",
        {"gpu_nodes_groups": [dict(GPU, instance_type="m5.xlarge")]},
        "m5.xlarge has no NVIDIA GPU",
    ),
    "AMD GPU type in a GPU group": (
        "gpu_nodes",
        {"gpu_nodes_groups": [dict(GPU, instance_type="g4ad.xlarge")]},
        "has AMD Radeon GPUs, not NVIDIA GPUs",
    ),
    "GPU group without the gpu- prefix": (
        "gpu_nodes",
        {"gpu_nodes_groups": [dict(GPU, name="t4")]},
        "must start with gpu-",
    ),
    "GPU taint given twice": (
        "gpu_nodes",
        {"gpu_nodes_groups": [dict(GPU, taints=[{"key": "nvidia.com/gpu", "value": "x", "effect": "NoSchedule"}])]},
        "taint is set by the role",
    ),
    "GPU group in the CPU list": (
        "cluster",
        {"cluster_node_groups": [dict(CPU, name="gpu-a", instance_type="g5.xlarge")]},
        "belong to the gpu_nodes role",
    ),
    "unknown Kubernetes version": ("cluster", {"cluster_kubernetes_version": "1.27"}, "is not a Kubernetes version"),
    "version not quoted": ("cluster", {"cluster_kubernetes_version": 1.3}, "as a quoted string"),
    "two-minor-version jump": ("cluster", {"cluster_kubernetes_version": "1.33"}, "one minor version at a time"),
    "downgrade": ("cluster", {"cluster_kubernetes_version": "1.30"}, "downgrading to 1.30 is not supported"),
    "missing eksctl binary": (
        "cluster",
        {"cluster_eksctl_path": "/nonexistent/bin/eksctl"},
        "/nonexistent/bin/eksctl is not an executable file",
    ),
    "missing eksctl binary (GPU)": (
        "gpu_nodes",
        {"gpu_nodes_eksctl_path": "/nonexistent/bin/eksctl"},
        "/nonexistent/bin/eksctl is not an executable file",
    ),
    "invalid taint effect": (
        "cluster",
        {"cluster_node_groups": [dict(CPU, taints=[{"key": "team", "value": "a", "effect": "NoWay"}])]},
        "has effect NoWay",
    ),
    "region change": (
        "cluster",
        {"cluster_region": "eu-west-1", "cluster_kubernetes_version": "1.31"},
        "the region of a cluster cannot change",
    ),
    "region not a region": ("cluster", {"cluster_region": "uswest2"}, "is not an AWS region name"),
    # (the sandbox inventory pre-confirms its own cluster; a real inventory does not)
    "delete without confirmation": (
        "cluster",
        {"cluster_state": "absent", "cluster_delete_confirm": ""},
        "Refusing to delete cluster kf-sandbox",
    ),
    "delete confirmation mismatch": (
        "cluster",
        {"cluster_state": "absent", "cluster_delete_confirm": "kf-prod"},
        "got 'kf-prod'",
    ),
    "typo in a node group setting": (
        "cluster",
        {"cluster_node_groups": [{"name": "cpu", "instance_type": "m5.large", "desired_capacty": 2}]},
        "unknown settings desired_capacty",
    ),
    "duplicate node group": ("cluster", {"cluster_node_groups": [CPU, CPU]}, "cpu: listed twice"),
    "label value not a string": (
        "cluster",
        {"cluster_node_groups": [dict(CPU, labels={"gpu": True})]},
        "is not a valid Kubernetes label",
    ),
    "metrics-server as an EKS add-on": (
        "cluster",
        {"cluster_addons": [{"name": "metrics-server"}]},
        "metrics-server is installed by this role",
    ),
    "GPU instance type the role cannot size": (
        "gpu_nodes",
        {"gpu_nodes_groups": [dict(GPU, instance_type="p5.4xlarge")]},
        "set gpus_per_node",
    ),
    "state not a choice": ("cluster", {"cluster_state": "gone"}, "cluster_state"),
}


def test_each_bad_input_fails_clearly_before_eksctl_changes_anything(sandbox_env, sandbox_kube, tmp_path):
    existing_cluster(sandbox_env, tmp_path, CLUSTER, REGION, "1.31", oidc=True)
    before = {
        "stacks": live_stacks(sandbox_env),
        "cluster": aws_client(sandbox_env, "eks").describe_cluster(name=CLUSTER)["cluster"]["version"],
    }
    assert before["stacks"] == [f"eksctl-{CLUSTER}-cluster"]
    # The cluster role's check of the existing cluster passes (1.31 as in the inventory) unless a case changes it.
    results = run_failure_cases(
        {name: (f"kubeflow_ops.aws.{role}", role_vars) for name, (role, role_vars, _expected) in CASES.items()},
        sandbox_env,
        tmp_path,
        args=["-e", "kubeflow_ops_kubernetes_version=1.31"],
    )
    problems = unmet_expectations(results, {name: expected for name, (_role, _vars, expected) in CASES.items()})
    assert not problems, "\n".join(problems)
    assert len(CASES) >= 15

    # Nothing was created, scaled, upgraded or deleted.
    assert live_stacks(sandbox_env) == before["stacks"]
    assert aws_client(sandbox_env, "eks").describe_cluster(name=CLUSTER)["cluster"]["version"] == before["cluster"]
    assert aws_client(sandbox_env, "eks").list_nodegroups(clusterName=CLUSTER)["nodegroups"] == []
    assert aws_client(sandbox_env, "eks", "eu-west-1").list_clusters()["clusters"] == []
    iam = aws_client(sandbox_env, "iam")
    assert [p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]] == []
    assert sandbox_kube.objects(kind="Deployment") == [] and sandbox_kube.objects(kind="DaemonSet") == []
