"""The eksctl simulator (tests/sandbox/standins/bin/eksctl) against the sandbox AWS, run as a subprocess.

Checks the CLI contract (shared/reference/eksctl-cli-contract.md): flags, stdout/stderr split, JSON
shapes, exit codes and error texts, plan mode, idempotency, and that boto3 sees the same state.
The Kubernetes side is checked against a tiny in-process API fake (`FakeKube` below).
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
EKSCTL = REPO / "tests" / "sandbox" / "standins" / "bin" / "eksctl"
SCHEMA = REPO.parent / "shared" / "reference" / "schemas" / "eksctl-clusterconfig.schema.json"
# eksctl's task trees start with an empty log line followed by the indented tree.
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[(ℹ|✔|!|✖|▶)\](  .*\S)?$")
REGION = "us-west-2"

CLUSTER_KEYS = [
    "AccessConfig",
    "Arn",
    "CertificateAuthority",
    "ClientRequestToken",
    "ComputeConfig",
    "ConnectorConfig",
    "ControlPlaneScalingConfig",
    "CreatedAt",
    "DeletionProtection",
    "EncryptionConfig",
    "Endpoint",
    "Health",
    "Id",
    "Identity",
    "KubeApiServerConfig",
    "KubeControllerManagerConfig",
    "KubeSchedulerConfig",
    "KubernetesNetworkConfig",
    "Logging",
    "Name",
    "OutpostConfig",
    "PlatformVersion",
    "RemoteNetworkConfig",
    "ResourcesVpcConfig",
    "RoleArn",
    "Status",
    "StorageConfig",
    "Tags",
    "Version",
    "UpgradePolicy",
    "ZonalShiftConfig",
]
SUMMARY_KEYS = [
    "StackName",
    "Cluster",
    "Name",
    "Status",
    "MaxSize",
    "MinSize",
    "DesiredCapacity",
    "InstanceType",
    "ImageID",
    "CreationTime",
    "NodeInstanceRoleARN",
    "AutoScalingGroupName",
    "Version",
    "Type",
]


# ---------------------------------------------------------------------------------------------
# A minimal Kubernetes API: enough for Nodes, Pods, DaemonSets, ServiceAccounts and Namespaces.


class FakeKube:
    def __init__(self):
        self.objects = {}  # (prefix, namespace, plural, name) -> object
        self.version = 0
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, code, body):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self):
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length)) if length else None

            def _handle(self):
                with fake.lock:
                    code, body = fake.handle(self.command, self.path.split("?", 1)[0], self._body())
                self._send(code, body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def parse(path):
        match = re.match(r"^/api/v1/namespaces(?:/([^/]+))?$", path)
        if match:
            return "/api/v1", None, "namespaces", match.group(1), False
        match = re.match(r"^/(api/v1|apis/[^/]+/[^/]+)(?:/namespaces/([^/]+))?/([^/]+)(?:/([^/]+))?(/status)?$", path)
        if not match:
            return None
        prefix, namespace, plural, name, status = match.groups()
        return "/" + prefix, namespace, plural, name, bool(status)

    def handle(self, method, path, body):
        parsed = self.parse(path)
        if parsed is None:
            return 404, {"kind": "Status", "message": "not found"}
        prefix, namespace, plural, name, status = parsed
        key = (prefix, namespace, plural, name)
        if name is None and method == "GET":
            items = [
                o
                for k, o in sorted(self.objects.items(), key=_key)
                if k[0] == prefix and k[2] == plural and (namespace is None or k[1] == namespace)
            ]
            return 200, {"kind": "List", "items": copy.deepcopy(items)}
        if method == "POST":
            name = body["metadata"]["name"]
            key = (prefix, namespace, plural, name)
            if key in self.objects:
                return 409, {"kind": "Status", "message": f'{plural} "{name}" already exists'}
            self.version += 1
            body["metadata"].update(resourceVersion=str(self.version), uid=f"uid-{self.version}")
            if namespace:
                body["metadata"]["namespace"] = namespace
            self.objects[key] = body
            return 201, body
        if key not in self.objects:
            return 404, {"kind": "Status", "message": f'{plural} "{name}" not found'}
        if method == "GET":
            return 200, self.objects[key]
        if method == "DELETE":
            return 200, self.objects.pop(key)
        if method == "PUT":
            self.objects[key] = body
            return 200, body
        if method == "PATCH":
            merge(self.objects[key], body if not status else {"status": body.get("status", {})})
            return 200, self.objects[key]
        return 405, {"kind": "Status", "message": "method not allowed"}

    def list(self, plural, namespace=None):
        return [
            o
            for k, o in sorted(self.objects.items(), key=_key)
            if k[2] == plural and (namespace is None or k[1] == namespace)
        ]

    def add(self, prefix, namespace, plural, obj):
        self.objects[(prefix, namespace, plural, obj["metadata"]["name"])] = obj

    def stop(self):
        self.server.shutdown()


def _key(item):
    return tuple(part or "" for part in item[0])


def merge(target, patch):
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = value


# ---------------------------------------------------------------------------------------------
# Fixtures and helpers


class Sim:
    def __init__(self, aws, tmp_path, kube_url=None):
        self.tmp = tmp_path
        self.kubeconfig = tmp_path / "kubeconfig"
        self.env = aws.environ()
        self.env.update(
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{self.env.get('PATH', '')}",
            HOME=str(tmp_path),
            KUBECONFIG=str(self.kubeconfig),
            EKSCTL_SIM_TIME_SCALE="0",
        )
        self.env.pop("EKSCTL_SIM_KUBE_URL", None)
        if kube_url:
            self.env["EKSCTL_SIM_KUBE_URL"] = kube_url

    def __call__(self, *args, ok=True, stdin=None, env=None, timeout=60):
        run_env = dict(self.env, **(env or {}))
        result = subprocess.run(
            [str(EKSCTL), *map(str, args)],
            capture_output=True,
            text=True,
            env=run_env,
            input=stdin,
            timeout=timeout,
            check=False,
        )
        if ok is True:
            assert result.returncode == 0, f"eksctl {' '.join(map(str, args))}\n{result.stdout}\n{result.stderr}"
        elif ok is False:
            assert result.returncode == 1, f"expected failure: eksctl {' '.join(map(str, args))}\n{result.stdout}"
        return result

    def popen(self, *args, env=None):
        return subprocess.Popen(  # pylint: disable=consider-using-with
            [str(EKSCTL), *map(str, args)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(self.env, **(env or {})),
        )

    def config(self, doc, name="cluster.yaml"):
        path = self.tmp / name
        path.write_text(yaml.safe_dump(doc))
        return path


@pytest.fixture
def kube_api():
    fake = FakeKube()
    yield fake
    fake.stop()


@pytest.fixture
def sim(aws, tmp_path, kube_api):
    return Sim(aws, tmp_path, kube_api.url)


def client(service):
    return boto3.client(service, region_name=REGION)


def cluster_doc(name="kf", version="1.30", managed=None, unmanaged=None, **extra):
    doc = {
        "apiVersion": "eksctl.io/v1alpha5",
        "kind": "ClusterConfig",
        "metadata": {"name": name, "region": REGION, "version": version, "tags": {"owner": "tests"}},
    }
    if managed:
        doc["managedNodeGroups"] = managed
    if unmanaged:
        doc["nodeGroups"] = unmanaged
    doc.update(extra)
    return doc


GPU_NG = {
    "name": "gpu",
    "instanceType": "g4dn.xlarge",
    "minSize": 0,
    "maxSize": 3,
    "desiredCapacity": 1,
    "labels": {"role": "gpu"},
    "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}],
}
CPU_NG = {"name": "cpu", "instanceType": "m5.large", "desiredCapacity": 2, "labels": {"role": "cpu"}}
LEGACY_NG = {
    "name": "legacy",
    "instanceType": "m5.large",
    "desiredCapacity": 1,
    "taints": {"dedicated": "legacy:NoExecute"},
}


def stack_tags(name):
    stack = client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    return {t["Key"]: t["Value"] for t in stack["Tags"]}


def node_names(kube_api, nodegroup):
    return [
        n["metadata"]["name"]
        for n in kube_api.list("nodes")
        if n["metadata"]["labels"].get("alpha.eksctl.io/nodegroup-name") == nodegroup
    ]


def assert_logs(text):
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines
    for line in lines:
        if line[:2].isdigit():
            assert LOG_LINE.match(line.rstrip()), line


# ---------------------------------------------------------------------------------------------
# Commands that need no cluster


def test_version_schema_and_cli_errors(aws, tmp_path):
    sim = Sim(aws, tmp_path)
    assert sim("version").stdout == "0.230.0\n"
    info = json.loads(sim("version", "-o", "json").stdout)
    assert list(info) == ["Version", "PreReleaseID", "Metadata"] and info["Version"] == "0.230.0"
    assert sim("version", "-o", "yaml", ok=False).stderr == "Error: unknown output: yaml\n"
    if SCHEMA.is_file():
        assert sim("utils", "schema").stdout == SCHEMA.read_text()
    assert sim("get", "cluster", "--bogus", ok=False).stderr == "Error: unknown flag: --bogus\n"
    assert sim("get", "cluster", "-x", ok=False).stderr == "Error: unknown shorthand flag: 'x' in -x\n"
    assert sim("get", "cluster", "--name", ok=False).stderr == "Error: flag needs an argument: --name\n"
    assert sim("get", "cluster", "--name", "a", "b", ok=False).stderr == (
        "Error: --name=a and argument b cannot be used at the same time\n"
    )
    out = sim("get", "nodegroup", "-o", "json", ok=False)
    assert out.stderr == "Error: --cluster must be set\n" and out.stdout == ""
    assert sim("frobnicate", ok=False).stderr.startswith('Error: unknown command "frobnicate" for "eksctl"')
    assert sim("scale", "nodegroup", "ng", "--cluster", "c", "--nodes", "x", ok=False).stderr == (
        'Error: invalid argument "x" for "-N, --nodes" flag: strconv.ParseInt: parsing "x": invalid syntax\n'
    )
    no_region = {"AWS_REGION": "", "AWS_DEFAULT_REGION": ""}
    assert sim("get", "cluster", env=no_region, ok=False).stderr == (
        "Error: AWS Region must be set, please set the AWS Region in AWS config file or as environment variable\n"
    )
    assert sim("get", "cluster", "-o", "json").stdout == "[]"


def test_config_file_is_parsed_strictly(aws, tmp_path):
    sim = Sim(aws, tmp_path)
    bad = cluster_doc(managed=[dict(CPU_NG, instanceTyp="m5.large")])
    path = sim.config(bad)
    assert sim("create", "cluster", "-f", path, ok=False).stderr == (
        f'Error: loading config file "{path}": error unmarshaling JSON: while decoding JSON: json: unknown field '
        '"instanceTyp"\n'
    )
    path = sim.config(dict(cluster_doc(), nodes=3))
    assert 'json: unknown field "nodes"' in sim("create", "cluster", "-f", path, ok=False).stderr
    doc = cluster_doc()
    doc["metadata"]["version"] = 1.3
    path = sim.config(doc)
    assert sim("create", "cluster", "-f", path, ok=False).stderr == (
        f'Error: loading config file "{path}": json: cannot unmarshal number into Go struct field '
        "ClusterMeta.metadata.version of type string\n"
    )
    doc = cluster_doc()
    del doc["metadata"]["region"]
    assert sim("create", "cluster", "-f", sim.config(doc), ok=False).stderr == "Error: metadata.region must be set\n"
    path = sim.config(cluster_doc())
    assert sim("create", "cluster", "-f", path, "--region", REGION, ok=False).stderr == (
        "Error: cannot use --region when --config-file/-f is set\n"
    )
    assert sim("create", "cluster", "--include", "a", ok=False).stderr == (
        "Error: cannot use --include unless a config file is specified via --config-file/-f\n"
    )
    assert sim("create", "cluster", "-f", tmp_path / "nope.yaml", ok=False).stderr == (
        f'Error: reading config file "{tmp_path / "nope.yaml"}": open {tmp_path / "nope.yaml"}: no such file or directory\n'
    )
    # The old map form of self-managed taints is not in the schema but eksctl accepts it; --dry-run
    # prints the defaulted config as YAML, no logs, and creates nothing.
    path = sim.config(cluster_doc(managed=[CPU_NG], unmanaged=[LEGACY_NG]))
    out = sim("create", "cluster", "-f", path, "--dry-run")
    defaulted = yaml.safe_load(out.stdout)
    assert defaulted["metadata"]["version"] == "1.30" and len(defaulted["availabilityZones"]) == 3
    assert (
        defaulted["managedNodeGroups"][0]["minSize"] == 2
        and defaulted["managedNodeGroups"][0]["amiFamily"] == "AmazonLinux2023"
    )
    assert "[ℹ]" not in out.stdout and out.stderr == ""
    assert client("eks").list_clusters()["clusters"] == []
    assert sim("create", "cluster", "-f", path, "--dry-run", "--kubeconfig", "x", ok=False).stderr == (
        "Error: cannot use --kubeconfig with --dry-run\n"
    )


# ---------------------------------------------------------------------------------------------
# The main path: a cluster with managed, GPU and self-managed node groups


def test_create_cluster_and_read_it_back(sim, kube_api):
    path = sim.config(cluster_doc(managed=[CPU_NG, GPU_NG], unmanaged=[LEGACY_NG]))
    out = sim("create", "cluster", "-f", path)
    assert_logs(out.stdout)
    assert out.stderr == ""
    assert 'waiting for CloudFormation stack "eksctl-kf-cluster"' in out.stdout
    assert out.stdout.rstrip().endswith('[✔]  EKS cluster "kf" in "us-west-2" region is ready')
    assert f'saved kubeconfig as "{sim.kubeconfig}"' in out.stdout

    # AWS holds the state, as it would for a real eksctl.
    eks, iam = client("eks"), client("iam")
    cluster = eks.describe_cluster(name="kf")["cluster"]
    assert cluster["version"] == "1.30" and cluster["status"] == "ACTIVE"
    assert cluster["resourcesVpcConfig"]["vpcId"].startswith("vpc-")
    tags = stack_tags("eksctl-kf-cluster")
    assert tags["alpha.eksctl.io/cluster-name"] == "kf" and tags["alpha.eksctl.io/eksctl-version"] == "0.230.0"
    assert tags["eksctl.cluster.k8s.io/v1alpha1/cluster-name"] == "kf" and tags["owner"] == "tests"
    for ng, kind in (("cpu", "managed"), ("gpu", "managed"), ("legacy", "unmanaged")):
        tags = stack_tags(f"eksctl-kf-nodegroup-{ng}")
        assert tags["alpha.eksctl.io/nodegroup-name"] == ng and tags["alpha.eksctl.io/nodegroup-type"] == kind
    roles = [r["RoleName"] for r in iam.list_roles()["Roles"]]
    node_roles = [r for r in roles if r.startswith("eksctl-kf-") and "NodeInstanceRole" in r]
    assert len(node_roles) == 3 and all(len(r) <= 64 for r in node_roles)
    gpu = eks.describe_nodegroup(clusterName="kf", nodegroupName="gpu")["nodegroup"]
    assert gpu["amiType"] == "AL2023_x86_64_NVIDIA" and gpu["scalingConfig"] == {
        "minSize": 0,
        "maxSize": 3,
        "desiredSize": 1,
    }
    assert gpu["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
    assert gpu["labels"]["role"] == "gpu" and gpu["nodeRole"].split("/")[-1] in node_roles
    asg = client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"]
    assert [(g["MinSize"], g["MaxSize"], g["DesiredCapacity"]) for g in asg] == [(1, 1, 1)]

    # Kubernetes: nodes per group with the EKS labels; GPUs advertised once the plugin runs.
    assert len(node_names(kube_api, "cpu")) == 2 and len(node_names(kube_api, "legacy")) == 1
    (gpu_node,) = [
        n for n in kube_api.list("nodes") if n["metadata"]["labels"].get("eks.amazonaws.com/nodegroup") == "gpu"
    ]
    assert gpu_node["metadata"]["labels"]["node.kubernetes.io/instance-type"] == "g4dn.xlarge"
    assert gpu_node["metadata"]["labels"]["role"] == "gpu"
    assert gpu_node["spec"]["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}]
    assert gpu_node["status"]["allocatable"]["nvidia.com/gpu"] == "1"
    assert [c["status"] for c in gpu_node["status"]["conditions"] if c["type"] == "Ready"] == ["True"]
    (legacy_node,) = [
        n for n in kube_api.list("nodes") if n["metadata"]["labels"]["alpha.eksctl.io/nodegroup-name"] == "legacy"
    ]
    assert legacy_node["spec"]["taints"] == [{"key": "dedicated", "value": "legacy", "effect": "NoExecute"}]
    (plugin,) = kube_api.list("daemonsets", "kube-system")
    assert plugin["metadata"]["name"] == "nvidia-device-plugin-daemonset"
    pod_spec = plugin["spec"]["template"]["spec"]
    assert pod_spec["containers"][0]["image"] == "nvcr.io/nvidia/k8s-device-plugin:v0.19.3"
    assert pod_spec["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    kubeconfig = yaml.safe_load(sim.kubeconfig.read_text())
    assert kubeconfig["current-context"] == "moto@kf.us-west-2.eksctl.io"
    assert kubeconfig["clusters"] == [{"cluster": {"server": kube_api.url}, "name": "kf.us-west-2.eksctl.io"}]
    assert kubeconfig["users"][0]["user"] == {"token": "eksctl-sim"}

    # get cluster: a list of one SDK-shaped object; logs would go to stderr.
    out = sim("get", "cluster", "--name", "kf", "-o", "json")
    assert not out.stdout.endswith("\n") and out.stdout.startswith("[\n    {\n        ")
    (item,) = json.loads(out.stdout)
    assert list(item) == CLUSTER_KEYS
    assert (
        item["Status"] == "ACTIVE"
        and item["Version"] == "1.30"
        and item["Identity"]["Oidc"]["Issuer"].startswith("https://")
    )
    assert item["ResourcesVpcConfig"]["VpcId"] == cluster["resourcesVpcConfig"]["vpcId"]
    assert item["Tags"]["alpha.eksctl.io/cluster-name"] == "kf" and not any(
        k.startswith("eksctl.sim/") for k in item["Tags"]
    )
    assert json.loads(sim("get", "cluster", "-o", "json").stdout) == [{"Name": "kf", "Region": REGION, "Owned": "True"}]
    assert yaml.safe_load(sim("get", "cluster", "kf", "-o", "yaml").stdout)[0]["Name"] == "kf"

    # get nodegroup: summaries; unmanaged values from the stack and the ASG, managed ones from EKS.
    summaries = json.loads(sim("get", "nodegroup", "--cluster", "kf", "-o", "json").stdout)
    assert [list(s) for s in summaries] == [SUMMARY_KEYS] * 3
    by_name = {s["Name"]: s for s in summaries}
    assert by_name["legacy"]["Type"] == "unmanaged" and by_name["legacy"]["Status"] == "CREATE_COMPLETE"
    assert by_name["legacy"]["ImageID"].startswith("ami-") and by_name["legacy"]["Version"].startswith("v1.30.")
    assert by_name["legacy"]["AutoScalingGroupName"] == asg[0]["AutoScalingGroupName"]
    assert by_name["gpu"]["Type"] == "managed" and by_name["gpu"]["Status"] == "ACTIVE"
    assert by_name["gpu"]["ImageID"] == "AL2023_x86_64_NVIDIA" and by_name["gpu"]["InstanceType"] == "g4dn.xlarge"
    assert by_name["gpu"]["StackName"] == "eksctl-kf-nodegroup-gpu" and by_name["gpu"]["Version"] == "1.30"
    assert (by_name["cpu"]["MinSize"], by_name["cpu"]["MaxSize"], by_name["cpu"]["DesiredCapacity"]) == (2, 2, 2)
    table = sim("get", "nodegroup", "--cluster", "kf", "gpu").stdout
    assert table.splitlines()[0].split("\t")[0] == "CLUSTER" and "\tmanaged" in table
    missing = sim("get", "nodegroup", "--cluster", "kf", "--name", "nope", "-o", "json", ok=False)
    assert missing.stdout == "" and re.fullmatch(
        r"Error: operation error EKS: DescribeNodegroup, https response error StatusCode: 404, RequestID: [0-9a-f-]{36}, "
        r"ResourceNotFoundException: No node group found for name: nope\.\n",
        missing.stderr,
    )

    # Not idempotent: a second create fails on the existing stack and changes nothing.
    again = sim("create", "cluster", "-f", path, ok=False)
    assert again.stderr == 'Error: failed to create cluster "kf"\n'
    assert "AlreadyExistsException: Stack [eksctl-kf-cluster] already exists" in again.stdout
    assert "to cleanup resources, run 'eksctl delete cluster --region=us-west-2 --name=kf'" in again.stdout
    assert len(client("cloudformation").describe_stacks()["Stacks"]) == 4


def test_missing_cluster_errors(sim):
    out = sim("get", "cluster", "--name", "ghost", "-o", "json", ok=False)
    assert out.stdout == "" and re.fullmatch(
        r'Error: unable to describe control plane "ghost": operation error EKS: DescribeCluster, https response error '
        r"StatusCode: 404, RequestID: [0-9a-f-]{36}, ResourceNotFoundException: No cluster found for name: ghost\.\n",
        out.stderr,
    )
    generic = (
        r"Error: unable to describe cluster control plane: operation error EKS: DescribeCluster, "
        r".*ResourceNotFoundException: No cluster found for name: ghost\.\n"
    )
    assert re.fullmatch(generic, sim("delete", "cluster", "--name", "ghost", ok=False).stderr)
    assert re.fullmatch(generic, sim("get", "nodegroup", "--cluster", "ghost", ok=False).stderr)
    assert re.fullmatch(generic, sim("upgrade", "cluster", "--name", "ghost", ok=False).stderr)
    assert re.fullmatch(generic, sim("utils", "associate-iam-oidc-provider", "--cluster", "ghost", ok=False).stderr)
    path = sim.config(cluster_doc(name="ghost", managed=[CPU_NG]))
    assert sim("create", "nodegroup", "-f", path, ok=False).stderr.startswith(
        "Error: could not create cluster provider from options: unable to describe cluster control plane: "
    )


def test_create_nodegroup_filters_and_idempotency(sim, kube_api):
    path = sim.config(cluster_doc(managed=[CPU_NG, GPU_NG]))
    out = sim("create", "cluster", "-f", path, "--without-nodegroup", "--write-kubeconfig=false")
    assert "2 nodegroups (cpu, gpu) were excluded (based on the include/exclude rules)" in out.stdout
    assert client("eks").list_nodegroups(clusterName="kf")["nodegroups"] == [] and not sim.kubeconfig.exists()

    assert sim("create", "nodegroup", "-f", path, "--include=tpu*", ok=False).stderr == (
        'Error: no nodegroups match include glob filter specification: "tpu*"\n'
    )
    out = sim("create", "nodegroup", "-f", path, "--include=gp*", "--install-nvidia-plugin=false")
    assert "1 nodegroup (gpu) was included (based on the include/exclude rules)" in out.stdout
    assert "you will need to install the Nvidia Kubernetes device plugin" in out.stdout
    assert client("eks").list_nodegroups(clusterName="kf")["nodegroups"] == ["gpu"]
    (gpu_node,) = kube_api.list("nodes")
    assert "nvidia.com/gpu" not in gpu_node["status"]["allocatable"] and kube_api.list("daemonsets") == []

    again = sim("create", "nodegroup", "-f", path, "--include=gpu")
    assert "1 existing nodegroup(s) (gpu) will be excluded" in again.stdout
    assert 'created 0 nodegroup(s) in cluster "kf"' in again.stdout
    assert 'created 0 managed nodegroup(s) in cluster "kf"' in again.stdout
    assert client("eks").list_nodegroups(clusterName="kf")["nodegroups"] == ["gpu"]

    # Our own device plugin (any DaemonSet with the plugin image in kube-system) counts once it can run
    # on the tainted GPU nodes; GPUs appear at the simulator's next node change.
    plugin = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "nvidia-device-plugin", "namespace": "kube-system"},
        "spec": {
            "template": {"spec": {"containers": [{"name": "p", "image": "nvcr.io/nvidia/k8s-device-plugin:v0.17.0"}]}}
        },
    }
    kube_api.add("/apis/apps/v1", "kube-system", "daemonsets", plugin)
    sim("scale", "nodegroup", "--cluster", "kf", "--name", "gpu", "--nodes", "2")
    nodes = [n for n in kube_api.list("nodes") if n["metadata"]["labels"]["eks.amazonaws.com/nodegroup"] == "gpu"]
    assert len(nodes) == 2 and not any("nvidia.com/gpu" in n["status"]["allocatable"] for n in nodes)
    plugin["spec"]["template"]["spec"]["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists"}]
    sim("scale", "nodegroup", "--cluster", "kf", "--name", "gpu", "--nodes", "2")
    nodes = [n for n in kube_api.list("nodes") if n["metadata"]["labels"]["eks.amazonaws.com/nodegroup"] == "gpu"]
    assert len(nodes) == 2 and all(n["status"]["allocatable"]["nvidia.com/gpu"] == "1" for n in nodes)

    out = sim("create", "nodegroup", "-f", path)
    assert "1 existing nodegroup(s) (gpu) will be excluded" in out.stdout
    assert sorted(client("eks").list_nodegroups(clusterName="kf")["nodegroups"]) == ["cpu", "gpu"]
    assert len(node_names(kube_api, "cpu")) == 2


def test_scale_nodegroup(sim, kube_api):
    sim("create", "cluster", "-f", sim.config(cluster_doc(managed=[CPU_NG], unmanaged=[LEGACY_NG])))
    base = ["scale", "nodegroup", "--cluster", "kf"]
    assert (
        sim(*base, "--name", "cpu", ok=False).stderr
        == "Error: at least one of minimum, maximum and desired nodes must be set\n"
    )
    assert sim(*base, "cpu", "-N", "2", "-m", "3", ok=False).stderr == (
        "Error: minimum number of nodes must be fewer than or equal to number of nodes\n"
    )
    assert sim(*base, "cpu", "-N", "4", "-M", "3", ok=False).stderr == (
        "Error: maximum number of nodes must be greater than or equal to number of nodes\n"
    )
    assert sim("scale", "nodegroup", "cpu", "-N", "1", ok=False).stderr == "Error: --cluster must be set\n"

    out = sim(*base, "--name", "cpu", "-N", "3", "-M", "4")
    assert 'scaling nodegroup "cpu" in cluster kf' in out.stdout and "initiated scaling of nodegroup" in out.stdout
    assert (
        "to see the status of the scaling run `eksctl get nodegroup --cluster kf --region us-west-2 --name cpu`"
        in out.stdout
    )
    scaling = client("eks").describe_nodegroup(clusterName="kf", nodegroupName="cpu")["nodegroup"]["scalingConfig"]
    assert scaling == {"minSize": 2, "maxSize": 4, "desiredSize": 3}
    assert len(node_names(kube_api, "cpu")) == 3
    sim(*base, "--name", "cpu", "-N", "3", "-M", "4")  # no "already at that size" check: the update is sent again
    sim(*base, "--name", "cpu", "-N", "0", "-m", "0")
    assert node_names(kube_api, "cpu") == []

    sim(*base, "--name", "legacy", "-N", "2", "-M", "3")
    (asg,) = client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"]
    assert (asg["MinSize"], asg["MaxSize"], asg["DesiredCapacity"]) == (1, 3, 2)
    assert len(node_names(kube_api, "legacy")) == 2
    legacy = [
        s for s in json.loads(sim("get", "nodegroup", "--cluster", "kf", "-o", "json").stdout) if s["Name"] == "legacy"
    ]
    assert (legacy[0]["MinSize"], legacy[0]["MaxSize"], legacy[0]["DesiredCapacity"]) == (1, 3, 2)

    out = sim(*base, "--name", "nope", "-N", "1", ok=False)
    assert re.fullmatch(
        r'Error: failed to scale nodegroup "nope" for cluster "kf", error: operation error EKS: UpdateNodegroupConfig, '
        r"https response error StatusCode: 404, RequestID: [0-9a-f-]{36}, ResourceNotFoundException: No node group "
        r"found for name: nope\.\n",
        out.stderr,
    )


def test_delete_nodegroup_drains_and_is_not_idempotent(sim, kube_api):
    sim("create", "cluster", "-f", sim.config(cluster_doc(managed=[CPU_NG, GPU_NG])))
    victim = node_names(kube_api, "cpu")[0]
    kube_api.add(
        "/api/v1",
        "default",
        "pods",
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "work", "namespace": "default"},
            "spec": {"nodeName": victim},
        },
    )
    kube_api.add(
        "/api/v1",
        "default",
        "pods",
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "elsewhere", "namespace": "default"},
            "spec": {"nodeName": node_names(kube_api, "gpu")[0]},
        },
    )
    assert sim("delete", "nodegroup", "--cluster", "kf", "--name", "cpu", "--approve", ok=False).stderr == (
        "Error: cannot use --approve unless a config file is specified via --config-file/-f\n"
    )
    role_arn = client("eks").describe_nodegroup(clusterName="kf", nodegroupName="cpu")["nodegroup"]["nodeRole"]
    out = sim("delete", "nodegroup", "--cluster", "kf", "--name", "cpu", "--wait")
    assert f'cordon node "{victim}"' in out.stdout and 'deleted 1 nodegroup(s) from cluster "kf"' in out.stdout
    assert 'waiting for stack "eksctl-kf-nodegroup-cpu" to get deleted' in out.stdout
    assert [p["metadata"]["name"] for p in kube_api.list("pods")] == ["elsewhere"]
    assert node_names(kube_api, "cpu") == [] and len(node_names(kube_api, "gpu")) == 1
    assert client("eks").list_nodegroups(clusterName="kf")["nodegroups"] == ["gpu"]
    stacks = [s["StackName"] for s in client("cloudformation").describe_stacks()["Stacks"]]
    assert "eksctl-kf-nodegroup-cpu" not in stacks
    assert role_arn.split("/")[-1] not in [r["RoleName"] for r in client("iam").list_roles()["Roles"]]

    again = sim("delete", "nodegroup", "--cluster", "kf", "--name", "cpu", ok=False)
    assert again.stdout == "" and re.fullmatch(
        r"Error: operation error EKS: DescribeNodegroup, https response error StatusCode: 404, RequestID: [0-9a-f-]{36}, "
        r"ResourceNotFoundException: No node group found for name: cpu\.\n",
        again.stderr,
    )


def test_upgrade_cluster_plan_mode_and_one_step(sim):
    sim("create", "cluster", "-f", sim.config(cluster_doc(managed=[CPU_NG])))
    out = sim("upgrade", "cluster", "--name", "kf", "--version", "1.31")
    assert '(plan) would upgrade cluster "kf" control plane from current version "1.30" to "1.31"' in out.stdout
    assert out.stdout.rstrip().endswith("[!]  no changes were applied, run again with '--approve' to apply the changes")
    assert client("eks").describe_cluster(name="kf")["cluster"]["version"] == "1.30"
    assert sim("upgrade", "cluster", "--name", "kf", "--version", "1.32", "--approve", ok=False).stderr == (
        'Error: upgrading more than one version at a time is not supported. Found upgrade from "1.30" to "1.32". '
        'Please upgrade to "1.31" first\n'
    )
    out = sim("upgrade", "cluster", "--name", "kf", "--version", "1.31", "--approve")
    assert 'cluster "kf" control plane has been upgraded to version "1.31"' in out.stdout
    assert client("eks").describe_cluster(name="kf")["cluster"]["version"] == "1.31"
    assert json.loads(sim("get", "cluster", "kf", "-o", "json").stdout)[0]["Version"] == "1.31"
    group = client("eks").describe_nodegroup(clusterName="kf", nodegroupName="cpu")["nodegroup"]
    assert group["version"] == "1.30"  # node groups are not upgraded by this command
    out = sim("upgrade", "cluster", "--name", "kf", "--version", "1.31", "--approve")
    assert "no cluster version update required" in out.stdout and "no changes were applied" not in out.stdout


def test_oidc_and_iamserviceaccounts(sim, kube_api):
    sim("create", "cluster", "-f", sim.config(cluster_doc()))
    iam = client("iam")
    policy = iam.create_policy(
        PolicyName="s3-read",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
        ),
    )["Policy"]["Arn"]
    other = iam.create_policy(
        PolicyName="s3-write",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]}
        ),
    )["Policy"]["Arn"]
    create = [
        "create",
        "iamserviceaccount",
        "--cluster",
        "kf",
        "--namespace",
        "kubeflow",
        "--name",
        "models",
        "--attach-policy-arn",
        policy,
        "--override-existing-serviceaccounts",
    ]
    out = sim(*create, "--approve", ok=False)
    assert out.stderr == "Error: unable to create iamserviceaccount(s) without IAM OIDC provider enabled\n"
    assert (
        "no IAM OIDC provider associated with cluster, try 'eksctl utils associate-iam-oidc-provider "
        "--region=us-west-2 --cluster=kf'" in out.stdout
    )
    assert sim("create", "iamserviceaccount", "--cluster", "kf", "--name", "x", ok=False).stderr == (
        "Error: --attach-policy-arn or --attach-role-arn must be set\n"
    )

    oidc = ["utils", "associate-iam-oidc-provider", "--cluster", "kf"]
    out = sim(*oidc)
    assert '(plan) would create IAM Open ID Connect provider for cluster "kf" in "us-west-2"' in out.stdout
    assert (
        "no changes were applied" in out.stdout
        and iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    )
    out = sim(*oidc, "--approve")
    assert 'created IAM Open ID Connect provider for cluster "kf" in "us-west-2"' in out.stdout
    issuer = client("eks").describe_cluster(name="kf")["cluster"]["identity"]["oidc"]["issuer"]
    (provider,) = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    assert provider["Arn"].endswith("oidc-provider/" + issuer.split("://")[1])
    assert (
        client("eks").describe_cluster(name="kf")["cluster"]["tags"]["alpha.eksctl.io/cluster-oidc-enabled"] == "true"
    )
    assert stack_tags("eksctl-kf-cluster")["alpha.eksctl.io/cluster-oidc-enabled"] == "true"
    out = sim(*oidc, "--approve")
    assert 'IAM Open ID Connect provider is already associated with cluster "kf" in "us-west-2"' in out.stdout
    assert len(iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]) == 1

    out = sim(*create)  # plan mode
    assert (
        "no changes were applied" in out.stdout
        and sim("get", "iamserviceaccount", "--cluster", "kf", "-o", "json").stdout == "[]"
    )
    sim(*create, "--approve")
    stack_name = "eksctl-kf-addon-iamserviceaccount-kubeflow-models"
    stack = client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    role_arn = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["Role1"]
    role_name = role_arn.split("/")[-1]
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]] == [policy]
    trust = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Principal"]["Federated"] == provider["Arn"]
    (sa,) = kube_api.list("serviceaccounts", "kubeflow")
    assert sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == role_arn

    out = sim(*create, "--approve")  # the existing stack is always skipped
    assert "1 existing iamserviceaccount(s) (kubeflow/models) will be excluded" in out.stdout
    assert len([s for s in client("cloudformation").describe_stacks()["Stacks"] if "addon" in s["StackName"]]) == 1
    (item,) = json.loads(
        sim("get", "iamserviceaccount", "--cluster", "kf", "--namespace", "kubeflow", "-o", "json").stdout
    )
    assert list(item) == ["metadata", "wellKnownPolicies", "status"]
    assert item["metadata"] == {"name": "models", "namespace": "kubeflow"}
    assert list(item["wellKnownPolicies"]) == [
        "imageBuilder",
        "autoScaler",
        "awsLoadBalancerController",
        "externalDNS",
        "certManager",
        "ebsCSIController",
        "efsCSIController",
    ]
    assert not any(item["wellKnownPolicies"].values())
    assert list(item["status"]) == ["roleARN", "stackName", "tags", "capabilities"]
    assert item["status"]["roleARN"] == role_arn and item["status"]["stackName"] == stack_name
    assert len(item["status"]["tags"]) == 1 and item["status"]["capabilities"] == ["CAPABILITY_IAM"]

    sim(
        "update",
        "iamserviceaccount",
        "--cluster",
        "kf",
        "--namespace",
        "kubeflow",
        "--name",
        "models",
        "--attach-policy-arn",
        other,
        "--approve",
    )
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]] == [other]

    sim("delete", "iamserviceaccount", "--cluster", "kf", "--namespace", "kubeflow", "--name", "models", "--wait")
    assert sim("get", "iamserviceaccount", "--cluster", "kf", "-o", "json").stdout == "[]"
    assert role_name not in [r["RoleName"] for r in iam.list_roles()["Roles"]]
    assert kube_api.list("serviceaccounts", "kubeflow") == []


def test_write_kubeconfig_merges_and_is_stable(aws, tmp_path):
    sim = Sim(aws, tmp_path)  # no Kubernetes stand-in: the exec plugin entry eksctl writes
    sim("create", "cluster", "-f", sim.config(cluster_doc()), "--write-kubeconfig=false")
    target = tmp_path / "other" / "config"
    target.parent.mkdir()
    target.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "mine",
                "clusters": [{"name": "mine", "cluster": {"server": "https://mine"}}],
                "contexts": [{"name": "mine", "context": {"cluster": "mine", "user": "me"}}],
                "users": [{"name": "me", "user": {"token": "t"}}],
            }
        )
    )
    out = sim("utils", "write-kubeconfig", "--cluster", "kf", "--kubeconfig", target)
    assert f'saved kubeconfig as "{target}"' in out.stdout
    first = target.read_text()
    data = yaml.safe_load(first)
    assert [c["name"] for c in data["clusters"]] == ["kf.us-west-2.eksctl.io", "mine"]
    assert data["current-context"] == "moto@kf.us-west-2.eksctl.io"
    (user,) = [u for u in data["users"] if u["name"] == "moto@kf.us-west-2.eksctl.io"]
    assert user["user"]["exec"]["command"] == "aws"
    assert user["user"]["exec"]["args"] == [
        "eks",
        "get-token",
        "--output",
        "json",
        "--cluster-name",
        "kf",
        "--region",
        REGION,
    ]
    endpoint = client("eks").describe_cluster(name="kf")["cluster"]["endpoint"].rstrip("/")
    assert data["clusters"][0]["cluster"]["server"] == endpoint
    sim("utils", "write-kubeconfig", "--cluster", "kf", "--kubeconfig", target)
    assert target.read_text() == first

    # The same name in another region is another cluster; --all-regions lists both.
    doc = cluster_doc()
    doc["metadata"]["region"] = "eu-west-1"
    sim("create", "cluster", "-f", sim.config(doc), "--write-kubeconfig=false")
    assert json.loads(sim("get", "cluster", "--all-regions", "-o", "json").stdout) == [
        {"Name": "kf", "Region": "eu-west-1", "Owned": "True"},
        {"Name": "kf", "Region": "us-west-2", "Owned": "True"},
    ]
    assert json.loads(sim("get", "cluster", "-o", "json").stdout) == [{"Name": "kf", "Region": REGION, "Owned": "True"}]
    assert sim("utils", "write-kubeconfig", "--cluster", "ghost", ok=False).stderr.startswith(
        "Error: unable to describe cluster control plane: operation error EKS: DescribeCluster"
    )


def test_delete_cluster_removes_everything(sim, kube_api):
    path = sim.config(cluster_doc(managed=[CPU_NG], unmanaged=[LEGACY_NG], iam={"withOIDC": True}))
    sim("create", "cluster", "-f", path)
    iam = client("iam")
    policy = iam.create_policy(
        PolicyName="p",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
        ),
    )["Policy"]["Arn"]
    sim("create", "iamserviceaccount", "--cluster", "kf", "--name", "sa", "--attach-policy-arn", policy, "--approve")
    assert len(iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]) == 1
    assert yaml.safe_load(sim.kubeconfig.read_text())["clusters"]

    out = sim("delete", "cluster", "--name", "kf", "--wait")
    assert_logs(out.stdout)
    assert 'will delete stack "eksctl-kf-cluster"' in out.stdout and "kubeconfig has been updated" in out.stdout
    assert out.stdout.rstrip().endswith("[✔]  all cluster resources were deleted")
    assert client("eks").list_clusters()["clusters"] == []
    assert client("cloudformation").describe_stacks()["Stacks"] == []
    assert not [r for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("eksctl-kf-")]
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    assert client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"] == []
    assert kube_api.list("nodes") == []
    assert yaml.safe_load(sim.kubeconfig.read_text())["clusters"] == []
    assert re.fullmatch(
        r"Error: unable to describe cluster control plane: operation error EKS: DescribeCluster, https response error "
        r"StatusCode: 404, RequestID: [0-9a-f-]{36}, ResourceNotFoundException: No cluster found for name: kf\.\n",
        sim("delete", "cluster", "--name", "kf", ok=False).stderr,
    )
    assert sim("get", "cluster", "-o", "json").stdout == "[]"


def test_simulated_time_and_timeouts(sim):
    path = sim.config(cluster_doc(managed=[CPU_NG]))
    # 15 min -> 4.5 s, 4 min -> 1.2 s: long enough that a busy machine still sees CREATING first.
    scale = 0.005
    started = time.monotonic()
    proc = sim.popen("create", "cluster", "-f", path, env={"EKSCTL_SIM_TIME_SCALE": str(scale)})
    status = None
    for _attempt in range(100):
        time.sleep(0.1)
        out = sim("get", "cluster", "kf", "-o", "json", ok=None)
        if out.returncode == 0:
            status = json.loads(out.stdout)[0]["Status"]
            break
    assert status == "CREATING"
    stdout, stderr = proc.communicate(timeout=30)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, stderr
    assert elapsed >= (15 + 4) * 60 * scale
    # Progress is reported between polls (how many depends on how busy the machine is).
    assert stdout.count('waiting for CloudFormation stack "eksctl-kf-cluster"') >= 3
    assert json.loads(sim("get", "cluster", "kf", "-o", "json").stdout)[0]["Status"] == "ACTIVE"

    # Without --wait, delete nodegroup returns at once; the node group reads DELETING until its time
    # is up, and the next eksctl call after that finishes the deletion (as AWS would have).
    started = time.monotonic()
    # 3 min at 0.03 = 5.4 s: room for two simulator processes on a busy machine.
    sim("delete", "nodegroup", "--cluster", "kf", "--name", "cpu", env={"EKSCTL_SIM_TIME_SCALE": "0.03"})
    returned = time.monotonic()  # the deletion started between `started` and now
    (summary,) = json.loads(sim("get", "nodegroup", "--cluster", "kf", "-o", "json").stdout)
    assert summary["Status"] == "DELETING" and time.monotonic() - started < 5.4
    time.sleep(max(0.0, 5.6 - (time.monotonic() - returned)))
    assert sim("get", "nodegroup", "--cluster", "kf", "-o", "json").stdout == "[]"
    assert client("eks").list_nodegroups(clusterName="kf")["nodegroups"] == []

    # A wait longer than --timeout fails like eksctl's waiter; AWS goes on regardless.
    out = sim("delete", "cluster", "--name", "kf", "--wait", "--timeout", "5m", ok=False)
    assert out.stderr == (
        'Error: waiting for CloudFormation stack "eksctl-kf-cluster": exceeded max wait time for StackDeleteComplete waiter\n'
    )
    # Time scale 0: the deletion is over by now; the next eksctl call that looks finishes it.
    assert sim("get", "cluster", "-o", "json").stdout == "[]"
    assert client("eks").list_clusters()["clusters"] == []


def test_device_plugin_status_hook():
    """The rule the Kubernetes stand-in can load as a Node controller (tests.sandbox.standins.eksctl.k8s_gpu)."""
    from tests.sandbox.standins.eksctl import k8s_gpu  # pylint: disable=import-outside-toplevel

    def node(instance_type, taints=(), os_image="Amazon Linux 2023"):
        return {
            "metadata": {"name": "n", "labels": {"node.kubernetes.io/instance-type": instance_type}},
            "spec": {"taints": list(taints)},
            "status": {"capacity": {"cpu": "4"}, "allocatable": {"cpu": "4"}, "nodeInfo": {"osImage": os_image}},
        }

    def plugin(tolerations=(), image="nvcr.io/nvidia/k8s-device-plugin:v0.19.3"):
        return {
            "metadata": {"name": "p", "namespace": "kube-system"},
            "spec": {"template": {"spec": {"tolerations": list(tolerations), "containers": [{"image": image}]}}},
        }

    class View:
        def __init__(self, daemonsets):
            self.daemonsets = daemonsets

        def list(self, group, kind, namespace=None):
            assert (group, kind, namespace) == ("apps", "DaemonSet", "kube-system")
            return self.daemonsets

    taint = {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}
    tolerating = plugin([{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}])
    status = k8s_gpu.nvidia_device_plugin(node("g5.12xlarge", [taint]), View([tolerating]))
    assert status["allocatable"] == {"cpu": "4", "nvidia.com/gpu": "4"} and status["capacity"]["nvidia.com/gpu"] == "4"
    assert k8s_gpu.nvidia_device_plugin(node("g5.12xlarge", [taint]), View([plugin()])) is None
    assert k8s_gpu.nvidia_device_plugin(node("g5.12xlarge"), View([plugin(image="busybox")])) is None
    assert k8s_gpu.nvidia_device_plugin(node("m5.large"), View([tolerating])) is None
    assert (
        k8s_gpu.nvidia_device_plugin(node("p3.8xlarge", [taint], "Bottlerocket OS 1.49.0"), View([]))["allocatable"][
            "nvidia.com/gpu"
        ]
        == "4"
    )
    done = node("g4dn.xlarge")
    done["status"]["allocatable"]["nvidia.com/gpu"] = "1"
    assert k8s_gpu.nvidia_device_plugin(done, View([tolerating])) is None


def test_existing_vpc_is_used_and_kept(sim):
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = {
        az: ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=az)["Subnet"]["SubnetId"]
        for az, cidr in (("us-west-2a", "10.0.0.0/20"), ("us-west-2b", "10.0.16.0/20"))
    }
    private = {az: {"id": subnet} for az, subnet in subnets.items()}
    doc = cluster_doc(
        unmanaged=[{"name": "ng", "instanceType": "m5.large", "desiredCapacity": 1, "privateNetworking": True}],
        vpc={"id": vpc, "subnets": {"private": private}},
    )
    conflict = dict(doc, availabilityZones=["us-west-2a", "us-west-2b"])
    assert sim("create", "cluster", "-f", sim.config(conflict), ok=False).stderr == (
        "Error: vpc.subnets and availabilityZones cannot be set at the same time\n"
    )
    out = sim("create", "cluster", "-f", sim.config(doc))
    assert f"using existing VPC ({vpc})" in out.stdout
    (item,) = json.loads(sim("get", "cluster", "kf", "-o", "json").stdout)
    assert item["ResourcesVpcConfig"]["VpcId"] == vpc and sorted(item["ResourcesVpcConfig"]["SubnetIds"]) == sorted(
        subnets.values()
    )
    resources = client("cloudformation").list_stack_resources(StackName="eksctl-kf-cluster")["StackResourceSummaries"]
    assert "AWS::EC2::VPC" not in {r["ResourceType"] for r in resources}
    (asg,) = client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"]
    assert set(asg["VPCZoneIdentifier"].split(",")) == set(subnets.values())
    sim("delete", "cluster", "kf", "--wait")
    assert [v["VpcId"] for v in ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"]] == [vpc]
