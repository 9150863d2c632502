"""What a user already has before running the collection, made in the sandbox: the root zone."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

import boto3

ROOT_DOMAIN = "example.com"


def ensure_root_zone(env: dict, name: str = ROOT_DOMAIN) -> str:
    """Create (once) the user's own root zone and return its id, as on a real account."""
    r53 = boto3.client(
        "route53",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=env["AWS_SESSION_TOKEN"],
    )
    for zone in r53.list_hosted_zones_by_name(DNSName=name)["HostedZones"]:
        if zone["Name"] == name + ".":
            return zone["Id"].split("/")[-1]
    zone = r53.create_hosted_zone(Name=name, CallerReference=f"sandbox-root-{name}")
    return zone["HostedZone"]["Id"].split("/")[-1]


def sandbox_session(env: dict, region: str | None = None) -> boto3.session.Session:
    return boto3.session.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=env["AWS_SESSION_TOKEN"],
        region_name=region or env["AWS_DEFAULT_REGION"],
    )


def inventory_of_auth(env: dict, domain: str, region: str) -> dict:
    """Read back what the auth layer made, straight from the (sandbox) AWS APIs."""
    url = env["AWS_ENDPOINT_URL"]
    session = sandbox_session(env, region)
    r53 = session.client("route53", endpoint_url=url)
    zones = [z for z in r53.list_hosted_zones()["HostedZones"] if z["Name"] == domain + "."]
    records = []
    for zone in zones:
        records += r53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
    certs = {}
    for reg in sorted({region, "us-east-1"}):
        acm = session.client("acm", region_name=reg, endpoint_url=url)
        certs[reg] = [
            acm.describe_certificate(CertificateArn=c["CertificateArn"])["Certificate"]
            for c in acm.list_certificates()["CertificateSummaryList"]
        ]
    idp = session.client("cognito-idp", endpoint_url=url)
    pools = idp.list_user_pools(MaxResults=60)["UserPools"]
    clients, domains, users, groups = {}, {}, {}, {}
    for pool in pools:
        clients[pool["Id"]] = idp.list_user_pool_clients(UserPoolId=pool["Id"], MaxResults=60)["UserPoolClients"]
        desc = idp.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]
        domains[pool["Id"]] = desc.get("CustomDomain") or desc.get("Domain")
        users[pool["Id"]] = [u["Username"] for u in idp.list_users(UserPoolId=pool["Id"])["Users"]]
        groups[pool["Id"]] = [g["GroupName"] for g in idp.list_groups(UserPoolId=pool["Id"])["Groups"]]
    return {
        "zones": zones,
        "records": records,
        "certificates": certs,
        "pools": pools,
        "clients": clients,
        "domains": domains,
        "users": users,
        "groups": groups,
    }


SIMULATORS = Path(__file__).resolve().parents[1] / "standins" / "bin"
EKSCTL_SIMULATOR = SIMULATORS / "eksctl"
KFCTL_SIMULATOR = SIMULATORS / "kfctl"
# inventories/sandbox: the platform domain and the serving namespaces.
PLATFORM_DOMAIN = "platform.example.com"
SERVING_NAMESPACES = ("default", "staging")
TEST_MANIFESTS = Path(__file__).resolve().parents[2] / "integration" / "files" / "kubeflow-manifests"
# GPU nodes advertise nvidia.com/gpu once a device plugin DaemonSet fits them; ALB-class Ingresses get
# a load balancer in the sandbox AWS, Knative Services and InferenceServices become Ready.
KUBE_CONTROLLERS = ("tests.sandbox.standins.eksctl.k8s_gpu", "tests.sandbox.standins.k8s_platform")

# How long AWS takes, in seconds, for what the Kubernetes stand-in's platform controllers do.
ALB_PROVISION_SECONDS = 180
ALB_DELETE_SECONDS = 30
SERVING_READY_SECONDS = 60


def kube_env(aws_env: dict, time_scale: float = 0.0) -> dict:
    """The Kubernetes stand-in's environment: where the sandbox AWS is (for tests.sandbox.standins.k8s_platform)
    and how long load balancers and model servers take at this time scale (0 = at once)."""
    env = {
        name: aws_env[name]
        for name in (
            "AWS_ENDPOINT_URL",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_CONFIG_FILE",
            "AWS_SHARED_CREDENTIALS_FILE",
        )
        if name in aws_env
    }
    env.update(
        KUBE_SANDBOX_ALB_DELAY=str(ALB_PROVISION_SECONDS * time_scale),
        KUBE_SANDBOX_ALB_DELETE_DELAY=str(ALB_DELETE_SECONDS * time_scale),
        KUBE_SANDBOX_SERVING_DELAY=str(SERVING_READY_SECONDS * time_scale),
    )
    return env


def platform_env(aws_env: dict, kube_url: str, kubeconfig, time_scale: float = 0.0, workdir=None) -> dict:
    """What a harness exports so that site.yml runs on the sandbox: moto (with the user's root zone),
    the eksctl and kfctl simulators and their Kubernetes stand-in, where eksctl writes the kubeconfig and
    where kfctl keeps its app directory (under `workdir`, default: next to the kubeconfig)."""
    env = dict(aws_env)
    env["KUBEFLOW_OPS_SANDBOX_ROOT_ZONE_ID"] = ensure_root_zone(env)
    workdir = Path(workdir) if workdir else Path(kubeconfig).parent
    env.update(
        KUBEFLOW_OPS_EKSCTL=str(EKSCTL_SIMULATOR),
        KUBEFLOW_OPS_KFCTL=str(KFCTL_SIMULATOR),
        KUBEFLOW_OPS_KFCTL_APP_DIR=str(workdir / "kfctl-app"),
        KUBEFLOW_OPS_KUBECONFIG=str(kubeconfig),
        EKSCTL_SIM_KUBE_URL=kube_url,
        EKSCTL_SIM_TIME_SCALE=str(time_scale),
        KFCTL_SIM_TIME_SCALE=str(time_scale),
    )
    # The role writes the params.env files of its manifests checkout: a copy of the test tree.
    manifests = workdir / "kubeflow-manifests"
    if not manifests.is_dir():
        shutil.copytree(TEST_MANIFESTS, manifests)
    env["KUBEFLOW_OPS_SANDBOX_MANIFESTS"] = str(manifests)
    # kfctl (v1.0) only checks that aws and aws-iam-authenticator are on PATH, and reads `eksctl version`.
    tools = workdir / "tools"
    tools.mkdir(parents=True, exist_ok=True)
    for name in ("aws", "aws-iam-authenticator"):
        (tools / name).write_text("#!/bin/sh\nexit 0\n")
        (tools / name).chmod(0o755)
    env["PATH"] = os.pathsep.join([str(tools), str(SIMULATORS), env.get("PATH") or os.environ.get("PATH", os.defpath)])
    return env


def aws_client(env: dict, service: str, region: str | None = None):
    """A boto3 client for the sandbox account (tests read back what playbooks made)."""
    return sandbox_session(env, region).client(service, endpoint_url=env["AWS_ENDPOINT_URL"])


def live_stacks(env: dict, region: str | None = None) -> list:
    """Names of the CloudFormation stacks that exist (not DELETE_COMPLETE), sorted."""
    cfn = aws_client(env, "cloudformation", region)
    return sorted(
        s["StackName"]
        for page in cfn.get_paginator("list_stacks").paginate()
        for s in page["StackSummaries"]
        if s["StackStatus"] != "DELETE_COMPLETE"
    )


def existing_cluster(env: dict, workdir, name: str, region: str, version: str, node_groups=(), oidc=False):
    """A cluster someone made before with eksctl (the simulator, called directly): control plane first,
    then `node_groups` (ClusterConfig managedNodeGroups entries); the kubeconfig goes where the
    environment's KUBEFLOW_OPS_KUBECONFIG says when there are node groups, nowhere otherwise."""
    config = {
        "apiVersion": "eksctl.io/v1alpha5",
        "kind": "ClusterConfig",
        "metadata": {"name": name, "region": region, "version": version},
        "managedNodeGroups": list(node_groups),
    }
    if oidc:
        config["iam"] = {"withOIDC": True}
    path = Path(workdir) / f"existing-{name}.json"
    path.write_text(json.dumps(config))
    kubeconfig = ["--kubeconfig", env["KUBEFLOW_OPS_KUBECONFIG"]] if node_groups else ["--write-kubeconfig=false"]
    commands = [["create", "cluster", "-f", str(path), "--without-nodegroup", *kubeconfig]]
    if node_groups:
        commands.append(["create", "nodegroup", "-f", str(path)])
    for args in commands:
        subprocess.run([str(EKSCTL_SIMULATOR), *args], env=env, check=True, capture_output=True)


@contextmanager
def fresh_platform(acm_validation_wait: int, time_scale: float, record: bool = False, prefix: str = "kfops-"):
    """A fresh sandbox (moto, the Kubernetes stand-in with the platform controllers, the eksctl and kfctl
    simulators at `time_scale`, the model predictor behind its HTTPS proxy) for `make demo` and `make bench`:
    yields (moto, kube, environment)."""
    # pylint: disable=import-outside-toplevel  # the stand-ins import this module's constants
    from tests.sandbox.harness.aws import MotoSandbox
    from tests.sandbox.standins.k8s import KubeSandbox
    from tests.sandbox.standins.predictor import PredictorSandbox

    with MotoSandbox(acm_validation_wait=acm_validation_wait, record=record) as aws, KubeSandbox(
        controllers=KUBE_CONTROLLERS, env=kube_env(aws.env(), time_scale)
    ) as kube, PredictorSandbox(
        domain=PLATFORM_DOMAIN, namespaces=SERVING_NAMESPACES, kube_url=kube.url
    ) as predictor, tempfile.TemporaryDirectory(
        prefix=prefix
    ) as tmp:
        env = platform_env(aws.env(), kube.url, Path(tmp) / "kubeconfig", time_scale, workdir=tmp)
        env.update(predictor.env())
        # Where the predictor logs the requests it answered (never a token): see predictor_requests().
        env["KUBEFLOW_OPS_SANDBOX_REQUEST_LOG"] = str(predictor.request_log)
        yield aws, kube, env


def predictor_requests(env: dict) -> list:
    """The requests the sandbox predictor of `fresh_platform` answered, oldest first."""
    path = Path(env["KUBEFLOW_OPS_SANDBOX_REQUEST_LOG"])
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
