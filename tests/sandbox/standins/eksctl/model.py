"""The AWS side of the simulator: stacks, EKS objects, IAM roles, and simulated progress.

Everything lives in the sandbox AWS (moto). What moto cannot represent is recorded where eksctl
would look anyway, and documented in README.md:

* In-progress states (CREATING, UPDATING, DELETING): moto makes clusters and node groups ACTIVE and
  stacks *_COMPLETE at once. The simulator creates the real objects first and puts a marker tag on
  the EKS cluster, `eksctl.sim/cluster` or `eksctl.sim/nodegroup/<name>` = `<STATE> <deadline> [arg]`.
  eksctl's own reads (get cluster, get nodegroup) report the marker's state until the deadline (wall
  clock). Whoever next touches the cluster after the deadline finishes the operation ("settles" it),
  the way AWS keeps going when the eksctl process is killed.
* Kubernetes version upgrades: moto has no UpdateClusterVersion, so the control plane (and its
  managed node groups) are re-created with the same settings and the new version.
"""

from __future__ import annotations

import json
import random
import re
import string
import time

from . import EKSCTL_VERSION, catalog, kube
from .common import EksctlError, api_error, cluster_lock, error_code, sdk_error

MARKER_PREFIX = "eksctl.sim/"
CLUSTER_MARKER = MARKER_PREFIX + "cluster"
NG_MARKER_PREFIX = MARKER_PREFIX + "nodegroup/"

TAG_CLUSTER = "alpha.eksctl.io/cluster-name"
TAG_CLUSTER_OLD = "eksctl.cluster.k8s.io/v1alpha1/cluster-name"
TAG_VERSION = "alpha.eksctl.io/eksctl-version"
TAG_NODEGROUP = "alpha.eksctl.io/nodegroup-name"
TAG_NODEGROUP_OLD = "eksctl.io/v1alpha2/nodegroup-name"
TAG_NODEGROUP_TYPE = "alpha.eksctl.io/nodegroup-type"
TAG_IRSA = "alpha.eksctl.io/iamserviceaccount-name"
TAG_OIDC = "alpha.eksctl.io/cluster-oidc-enabled"

NODE_POLICIES = (
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
)
CLUSTER_POLICIES = (
    "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
    "arn:aws:iam::aws:policy/AmazonEKSVPCResourceController",
)
LINUX_AMI = "ami-ekslinux"  # moto's bundled "amazon-eks-node-linux" image
WINDOWS_AMI = "ami-ekswin"
OIDC_THUMBPRINT = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"


def cluster_stack_name(cluster):
    return f"eksctl-{cluster}-cluster"


def nodegroup_stack_name(cluster, nodegroup):
    return f"eksctl-{cluster}-nodegroup-{nodegroup}"


def irsa_stack_name(cluster, namespace, name):
    return f"eksctl-{cluster}-addon-iamserviceaccount-{namespace}-{name}"


def cfn_physical_name(stack, logical, limit=64):
    """A name the way CloudFormation generates one: `<stack>-<logical>-<RANDOM>`, stack part cut to fit."""
    suffix = "".join(random.choices(string.ascii_uppercase + string.digits, k=13))
    room = limit - len(logical) - len(suffix) - 2
    return f"{stack[:room]}-{logical}-{suffix}"


def shared_tags(cluster, extra=None):
    tags = [
        {"Key": TAG_CLUSTER, "Value": cluster},
        {"Key": TAG_CLUSTER_OLD, "Value": cluster},
        {"Key": TAG_VERSION, "Value": EKSCTL_VERSION},
    ]
    for key, value in (extra or {}).items():
        tags.append({"Key": key, "Value": str(value)})
    return tags


def tag_dict(tags):
    return {t["Key"]: t["Value"] for t in tags or []}


class Marker:
    def __init__(self, raw):
        parts = str(raw).split()
        self.state = parts[0] if parts else ""
        try:
            self.deadline = float(parts[1])
        except (IndexError, ValueError):
            self.deadline = 0.0
        self.arg = parts[2] if len(parts) > 2 else ""

    @property
    def pending(self) -> bool:
        return self.deadline > time.time()

    @staticmethod
    def render(state, deadline, arg=""):
        return f"{state} {deadline:.3f}" + (f" {arg}" if arg else "")


def cluster_marker(cluster):
    raw = (cluster.get("tags") or {}).get(CLUSTER_MARKER)
    return Marker(raw) if raw else None


def nodegroup_marker(cluster, nodegroup):
    raw = (cluster.get("tags") or {}).get(NG_MARKER_PREFIX + nodegroup)
    return Marker(raw) if raw else None


def cluster_status(cluster) -> str:
    marker = cluster_marker(cluster)
    if marker and marker.pending:
        return marker.state
    return cluster.get("status", "ACTIVE")


def public_tags(tags):
    return {k: v for k, v in (tags or {}).items() if not k.startswith(MARKER_PREFIX)}


def _inject_vpc_fields(fields):
    """botocore drops members EKS only returns; add them to the CreateCluster body so moto echoes them."""

    def handler(request, **_):
        body = json.loads(request.data)
        body.setdefault("resourcesVpcConfig", {}).update(fields)
        request.data = json.dumps(body).encode()

    return handler


class Model:
    def __init__(self, aws, log, clock):
        self.aws = aws
        self.log = log
        self.clock = clock
        self.kube = kube.client()

    # ------------------------------------------------------------------------------------------
    # Lookups

    def find_cluster(self, name):
        try:
            return self.aws.eks.describe_cluster(name=name)["cluster"]
        except Exception as exc:  # botocore.exceptions.ClientError
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise

    def require_cluster(self, name, prefix="unable to describe cluster control plane"):
        """Settle finished operations, then DescribeCluster or the error eksctl prints."""
        self.settle(name)
        try:
            return self.aws.eks.describe_cluster(name=name)["cluster"]
        except Exception as exc:
            if error_code(exc):
                raise EksctlError(f"{prefix}: {sdk_error(exc, 'eks', 'DescribeCluster')}") from None
            raise

    def stack(self, name):
        try:
            stacks = self.aws.cfn.describe_stacks(StackName=name)["Stacks"]
        except Exception as exc:
            if error_code(exc) == "ValidationError":
                return None
            raise
        return stacks[0] if stacks and stacks[0]["StackStatus"] != "DELETE_COMPLETE" else None

    def stacks(self):
        result = []
        paginator = self.aws.cfn.get_paginator("describe_stacks")
        for page in paginator.paginate():
            result.extend(s for s in page["Stacks"] if s["StackStatus"] != "DELETE_COMPLETE")
        return result

    def cluster_stacks(self, cluster, kind):
        """Stacks of one cluster: kind 'nodegroup' -> {ng: stack}, 'irsa' -> {ns/name: stack}."""
        found = {}
        for stack in self.stacks():
            tags = tag_dict(stack.get("Tags"))
            if tags.get(TAG_CLUSTER, tags.get(TAG_CLUSTER_OLD)) != cluster:
                continue
            if kind == "nodegroup" and TAG_NODEGROUP in tags:
                found[tags[TAG_NODEGROUP]] = stack
            elif kind == "irsa" and TAG_IRSA in tags:
                found[tags[TAG_IRSA]] = stack
        return found

    def template(self, stack_name):
        body = self.aws.cfn.get_template(StackName=stack_name)["TemplateBody"]
        return json.loads(body) if isinstance(body, str) else json.loads(json.dumps(body))

    def stack_resources(self, stack_name):
        resources = []
        paginator = self.aws.cfn.get_paginator("list_stack_resources")
        for page in paginator.paginate(StackName=stack_name):
            resources.extend(r for r in page["StackResourceSummaries"] if r.get("LogicalResourceId"))
        return resources

    @staticmethod
    def outputs(stack):
        return {o["OutputKey"]: o["OutputValue"] for o in (stack or {}).get("Outputs") or []}

    def managed_nodegroups(self, cluster):
        names = []
        paginator = self.aws.eks.get_paginator("list_nodegroups")
        for page in paginator.paginate(clusterName=cluster):
            names.extend(page["nodegroups"])
        return names

    def nodegroup(self, cluster, name):
        try:
            return self.aws.eks.describe_nodegroup(clusterName=cluster, nodegroupName=name)["nodegroup"]
        except Exception as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise

    # ------------------------------------------------------------------------------------------
    # Markers and settling

    def set_marker(self, cluster_arn, key, state, deadline, arg=""):
        self.aws.eks.tag_resource(resourceArn=cluster_arn, tags={key: Marker.render(state, deadline, arg)})

    def clear_marker(self, cluster_arn, key):
        self.aws.eks.untag_resource(resourceArn=cluster_arn, tagKeys=[key])

    def settle(self, name):
        """Finish every operation of this cluster whose simulated time is up."""
        with cluster_lock(self.aws, name):
            cluster = self.find_cluster(name)
            if cluster is None:
                return None
            tags = cluster.get("tags") or {}
            for key in sorted(tags):
                if key.startswith(NG_MARKER_PREFIX):
                    marker = Marker(tags[key])
                    if not marker.pending:
                        self._finish_nodegroup(cluster, key[len(NG_MARKER_PREFIX) :], marker)
            marker = cluster_marker(cluster)
            if marker and not marker.pending:
                self._finish_cluster(cluster, marker)
            return self.find_cluster(name)

    def _finish_nodegroup(self, cluster, name, marker):
        if marker.state == "CREATING":
            self.sync_nodes(cluster, name, announce=False)
        elif marker.state == "DELETING":
            self._delete_nodegroup_now(cluster, name)
        self.clear_marker(cluster["arn"], NG_MARKER_PREFIX + name)

    def _finish_cluster(self, cluster, marker):
        if marker.state == "DELETING":
            self._delete_cluster_now(cluster)
            return
        if marker.state == "UPDATING" and marker.arg:
            self._recreate_with_version(cluster, marker.arg)
            return
        self.clear_marker(cluster["arn"], CLUSTER_MARKER)

    def wait(self, stacks, deadline, what="CloudFormation stack"):
        """Log eksctl's waiter lines for `stacks` until the simulated operation is over."""

        def poll():
            for stack in stacks:
                self.log.info('waiting for %s "%s"', what, stack)

        self.clock.wait_until(deadline, poll)

    # ------------------------------------------------------------------------------------------
    # Stacks

    def create_stack(self, name, template, tags, capabilities=("CAPABILITY_IAM",)):
        try:
            self.aws.cfn.create_stack(
                StackName=name,
                TemplateBody=json.dumps(template),
                Tags=tags,
                Capabilities=list(capabilities),
                EnableTerminationProtection=True,
            )
        except Exception as exc:
            if error_code(exc) == "AlreadyExistsException":
                raise EksctlError(
                    f'creating CloudFormation stack "{name}": '
                    + api_error(
                        "cloudformation", "CreateStack", 400, "AlreadyExistsException", f"Stack [{name}] already exists"
                    )
                ) from None
            if error_code(exc):
                raise EksctlError(
                    f'creating CloudFormation stack "{name}": {sdk_error(exc, "cloudformation", "CreateStack")}'
                ) from None
            raise
        return self.stack(name)

    def delete_stack(self, name):
        """Delete a stack; the managed policies CloudFormation would detach are detached first (moto does not)."""
        if self.stack(name) is None:
            return False
        for resource in self.stack_resources(name):
            if resource["ResourceType"] == "AWS::IAM::Role":
                self._detach_all(resource["PhysicalResourceId"])
        try:
            self.aws.cfn.update_termination_protection(StackName=name, EnableTerminationProtection=False)
        except Exception:  # pylint: disable=broad-except  # moto may not implement it
            pass
        self.aws.cfn.delete_stack(StackName=name)
        return True

    def _detach_all(self, role_name):
        try:
            attached = self.aws.iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]
        except Exception as exc:
            if error_code(exc) == "NoSuchEntity":
                return
            raise
        for policy in attached:
            self.aws.iam.detach_role_policy(RoleName=role_name, PolicyArn=policy["PolicyArn"])

    def attach_policies(self, role_name, arns, required=True):
        """Attach managed policies (moto's CloudFormation ignores ManagedPolicyArns on AWS::IAM::Role)."""
        for arn in arns:
            try:
                self.aws.iam.attach_role_policy(RoleName=role_name, PolicyArn=arn)
            except Exception as exc:
                if error_code(exc) != "NoSuchEntity":
                    raise
                if arn.startswith("arn:aws:iam::aws:policy/") and not required:
                    continue  # AWS managed policy that this moto server did not load
                if arn.startswith("arn:aws:iam::aws:policy/"):
                    raise EksctlError(
                        f"eksctl simulator: the sandbox IAM has no AWS managed policy {arn}; start moto with "
                        "MOTO_IAM_LOAD_MANAGED_POLICIES=true to have them"
                    ) from None
                raise EksctlError(sdk_error(exc, "iam", "AttachRolePolicy")) from None

    # ------------------------------------------------------------------------------------------
    # Cluster

    def cluster_template(self, name, vpc_plan, cfg):
        region = self.aws.region
        resources, outputs = {}, {}
        if vpc_plan["create"]:
            resources["VPC"] = {
                "Type": "AWS::EC2::VPC",
                "Properties": {
                    "CidrBlock": vpc_plan["cidr"],
                    "EnableDnsHostnames": True,
                    "EnableDnsSupport": True,
                    "Tags": [{"Key": "Name", "Value": {"Fn::Sub": "${AWS::StackName}/VPC"}}],
                },
            }
            vpc_ref = {"Ref": "VPC"}
            for topology in ("Public", "Private"):
                for az, cidr in vpc_plan[topology.lower()]:
                    logical = f"Subnet{topology}{az.replace('-', '').upper()}"
                    role = "kubernetes.io/role/elb" if topology == "Public" else "kubernetes.io/role/internal-elb"
                    resources[logical] = {
                        "Type": "AWS::EC2::Subnet",
                        "Properties": {
                            "AvailabilityZone": az,
                            "CidrBlock": cidr,
                            "MapPublicIpOnLaunch": topology == "Public",
                            "VpcId": vpc_ref,
                            "Tags": [
                                {"Key": role, "Value": "1"},
                                {"Key": "Name", "Value": {"Fn::Sub": f"${{AWS::StackName}}/{logical}"}},
                            ],
                        },
                    }
            public = [{"Ref": f"SubnetPublic{az.replace('-', '').upper()}"} for az, _cidr in vpc_plan["public"]]
            private = [{"Ref": f"SubnetPrivate{az.replace('-', '').upper()}"} for az, _cidr in vpc_plan["private"]]
        else:
            vpc_ref = vpc_plan["vpc_id"]
            public = [subnet for _az, subnet in vpc_plan["public"]]
            private = [subnet for _az, subnet in vpc_plan["private"]]
        resources["ControlPlaneSecurityGroup"] = {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupDescription": "Communication between the control plane and worker nodegroups",
                "VpcId": vpc_ref,
                "Tags": [{"Key": "Name", "Value": {"Fn::Sub": "${AWS::StackName}/ControlPlaneSecurityGroup"}}],
            },
        }
        resources["ClusterSharedNodeSecurityGroup"] = {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupDescription": "Communication between all nodes in the cluster",
                "VpcId": vpc_ref,
                "Tags": [{"Key": "Name", "Value": {"Fn::Sub": "${AWS::StackName}/ClusterSharedNodeSecurityGroup"}}],
            },
        }
        service_role = (cfg.get("iam") or {}).get("serviceRoleARN")
        if not service_role:
            resources["ServiceRole"] = {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": cfn_physical_name(cluster_stack_name(name), "ServiceRole"),
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": ["eks.amazonaws.com"]},
                                "Action": ["sts:AssumeRole", "sts:TagSession"],
                            }
                        ],
                    },
                    "ManagedPolicyArns": list(CLUSTER_POLICIES),
                    "Tags": [{"Key": "Name", "Value": {"Fn::Sub": "${AWS::StackName}/ServiceRole"}}],
                },
            }
            outputs["ServiceRoleARN"] = {"Value": {"Fn::GetAtt": ["ServiceRole", "Arn"]}}
        else:
            outputs["ServiceRoleARN"] = {"Value": service_role}
        outputs.update(
            {
                "ARN": {
                    "Value": {"Fn::Sub": f"arn:${{AWS::Partition}}:eks:{region}:${{AWS::AccountId}}:cluster/{name}"},
                    "Export": {"Name": {"Fn::Sub": "${AWS::StackName}::ARN"}},
                },
                "ClusterStackName": {"Value": {"Ref": "AWS::StackName"}},
                "SecurityGroup": {
                    "Value": {"Ref": "ControlPlaneSecurityGroup"},
                    "Export": {"Name": {"Fn::Sub": "${AWS::StackName}::SecurityGroup"}},
                },
                "SharedNodeSecurityGroup": {
                    "Value": {"Ref": "ClusterSharedNodeSecurityGroup"},
                    "Export": {"Name": {"Fn::Sub": "${AWS::StackName}::SharedNodeSecurityGroup"}},
                },
                "VPC": {"Value": vpc_ref, "Export": {"Name": {"Fn::Sub": "${AWS::StackName}::VPC"}}},
                "SubnetsPublic": {
                    "Value": {"Fn::Join": [",", public]} if public else "",
                    "Export": {"Name": {"Fn::Sub": "${AWS::StackName}::SubnetsPublic"}},
                },
                "SubnetsPrivate": {
                    "Value": {"Fn::Join": [",", private]} if private else "",
                    "Export": {"Name": {"Fn::Sub": "${AWS::StackName}::SubnetsPrivate"}},
                },
                "FeatureNATMode": {"Value": ((cfg.get("vpc") or {}).get("nat") or {}).get("gateway", "Single")},
            }
        )
        return {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": "EKS cluster (dedicated VPC: %s, dedicated IAM: %s) [created and managed by eksctl]"
            % ("true" if vpc_plan["create"] else "false", "false" if service_role else "true"),
            "Resources": resources,
            "Outputs": outputs,
        }

    def create_control_plane(self, name, version, cfg, vpc_plan, creating_deadline):
        """Create the cluster stack and the EKS cluster (marked CREATING until the deadline)."""
        stack_name = cluster_stack_name(name)
        meta_tags = (cfg.get("metadata") or {}).get("tags") or {}
        stack = self.create_stack(stack_name, self.cluster_template(name, vpc_plan, cfg), shared_tags(name, meta_tags))
        out = self.outputs(stack)
        subnets = [s for s in (out.get("SubnetsPublic", "") + "," + out.get("SubnetsPrivate", "")).split(",") if s]
        cluster_sg = self.aws.ec2.create_security_group(
            GroupName=f"eks-cluster-sg-{name}-{random.randint(10**9, 10**10 - 1)}",
            Description="EKS created security group applied to ENI that is attached to EKS Control Plane master nodes, "
            "as well as any managed workloads.",
            VpcId=out["VPC"],
            TagSpecifications=[
                {
                    "ResourceType": "security-group",
                    "Tags": [
                        {"Key": f"kubernetes.io/cluster/{name}", "Value": "owned"},
                        {"Key": "Name", "Value": f"eks-cluster-sg-{name}"},
                    ],
                }
            ],
        )["GroupId"]
        endpoints = (cfg.get("vpc") or {}).get("clusterEndpoints") or {}
        vpc_config = {
            "subnetIds": subnets,
            "securityGroupIds": [out["SecurityGroup"]],
            "endpointPublicAccess": endpoints.get("publicAccess", True) is not False,
            "endpointPrivateAccess": bool(endpoints.get("privateAccess", False)),
            "publicAccessCidrs": (cfg.get("vpc") or {}).get("publicAccessCIDRs") or ["0.0.0.0/0"],
        }
        logging_types = ((cfg.get("cloudWatch") or {}).get("clusterLogging") or {}).get("enableTypes") or []
        if "all" in logging_types or "*" in logging_types:
            logging_types = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
        eks_tags = {
            **tag_dict(shared_tags(name, meta_tags)),
            "Name": f"{stack_name}/ControlPlane",
            CLUSTER_MARKER: Marker.render("CREATING", creating_deadline),
        }
        self._create_eks_cluster(
            dict(
                name=name,
                version=version,
                roleArn=out["ServiceRoleARN"],
                resourcesVpcConfig=vpc_config,
                kubernetesNetworkConfig={"serviceIpv4Cidr": "10.100.0.0/16", "ipFamily": "ipv4"},
                logging={
                    "clusterLogging": (
                        [{"types": logging_types, "enabled": True}]
                        if logging_types
                        else [
                            {
                                "types": ["api", "audit", "authenticator", "controllerManager", "scheduler"],
                                "enabled": False,
                            }
                        ]
                    )
                },
                tags=eks_tags,
                accessConfig={
                    "authenticationMode": (
                        (cfg.get("accessConfig") or {}).get("authenticationMode") or "API_AND_CONFIG_MAP"
                    )
                },
            ),
            {"vpcId": out["VPC"], "clusterSecurityGroupId": cluster_sg},
        )
        return stack

    def _create_eks_cluster(self, params, extra_vpc_fields):
        handler = _inject_vpc_fields(extra_vpc_fields)
        self.aws.eks.meta.events.register("before-sign.eks.CreateCluster", handler)
        try:
            return self.aws.eks.create_cluster(**params)["cluster"]
        finally:
            self.aws.eks.meta.events.unregister("before-sign.eks.CreateCluster", handler)

    def _recreate_with_version(self, cluster, version):
        """moto has no UpdateClusterVersion: rebuild the control plane (and its managed node groups)."""
        name = cluster["name"]
        groups = [self.nodegroup(name, ng) for ng in self.managed_nodegroups(name)]
        for group in groups:
            self.aws.eks.delete_nodegroup(clusterName=name, nodegroupName=group["nodegroupName"])
        self.aws.eks.delete_cluster(name=name)
        vpc = dict(cluster.get("resourcesVpcConfig") or {})
        extra = {k: vpc.pop(k) for k in ("vpcId", "clusterSecurityGroupId") if k in vpc}
        params = dict(
            name=name,
            version=version,
            roleArn=cluster["roleArn"],
            resourcesVpcConfig=vpc,
            tags={k: v for k, v in (cluster.get("tags") or {}).items() if k != CLUSTER_MARKER},
        )
        for key in ("kubernetesNetworkConfig", "logging", "encryptionConfig"):
            if cluster.get(key):
                params[key] = cluster[key]
        self._create_eks_cluster(params, extra)
        for group in groups:
            spec = {
                k: group[k]
                for k in (
                    "nodegroupName",
                    "scalingConfig",
                    "subnets",
                    "instanceTypes",
                    "amiType",
                    "nodeRole",
                    "labels",
                    "taints",
                    "tags",
                    "capacityType",
                    "version",
                    "releaseVersion",
                )
                if group.get(k) is not None
            }
            if group.get("launchTemplate"):
                spec["launchTemplate"] = {
                    "id": group["launchTemplate"]["id"],
                    "version": group["launchTemplate"].get("version", "1"),
                }
            else:
                spec["diskSize"] = group.get("diskSize")
            self.aws.eks.create_nodegroup(clusterName=name, **spec)

    def delete_control_plane_now(self, cluster):
        self._delete_cluster_now(cluster)

    def _delete_cluster_now(self, cluster):
        name = cluster["name"]
        for ng in sorted(set(self.cluster_stacks(name, "nodegroup")) | set(self.managed_nodegroups(name))):
            self._delete_nodegroup_now(cluster, ng)
        for key in list(self.cluster_stacks(name, "irsa")):
            namespace, sa = key.split("/", 1)
            self.delete_irsa_now(name, namespace, sa)
        self.delete_oidc_provider(cluster)
        try:
            self.aws.eks.delete_cluster(name=name)
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
        sg = (cluster.get("resourcesVpcConfig") or {}).get("clusterSecurityGroupId")
        if sg:
            try:
                self.aws.ec2.delete_security_group(GroupId=sg)
            except Exception:  # pylint: disable=broad-except  # already gone
                pass
        self.delete_stack(cluster_stack_name(name))

    # ------------------------------------------------------------------------------------------
    # Nodegroups

    def subnets_for(self, cluster, private):
        stack = self.stack(cluster_stack_name(cluster["name"]))
        if stack:
            out = self.outputs(stack)
            key = "SubnetsPrivate" if private else "SubnetsPublic"
            subnets = [s for s in out.get(key, "").split(",") if s]
            if subnets:
                return subnets
            if private:
                raise EksctlError("none or too few private subnets to use with --node-private-networking")
        return list((cluster.get("resourcesVpcConfig") or {}).get("subnetIds") or [])

    def subnet_details(self, subnet_ids):
        if not subnet_ids:
            return [], []
        subnets = self.aws.ec2.describe_subnets(SubnetIds=subnet_ids)["Subnets"]
        return sorted({s["AvailabilityZone"] for s in subnets}), [s["CidrBlock"] for s in subnets]

    def nodegroup_template(self, cluster, ng, subnets):
        stack = nodegroup_stack_name(cluster["name"], ng.name)
        resources, outputs = {}, {}
        policies = ng.extra_policies or list(NODE_POLICIES)
        if not ng.role_arn:
            resources["NodeInstanceRole"] = {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": ng.role_name or cfn_physical_name(stack, "NodeInstanceRole"),
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": ["ec2.amazonaws.com"]},
                                "Action": ["sts:AssumeRole"],
                            }
                        ],
                    },
                    "ManagedPolicyArns": policies,
                    "Path": "/",
                    "Tags": [{"Key": "Name", "Value": {"Fn::Sub": "${AWS::StackName}/NodeInstanceRole"}}],
                },
            }
            role_arn = {"Fn::GetAtt": ["NodeInstanceRole", "Arn"]}
        else:
            role_arn = ng.role_arn
        block_devices = [
            {
                "DeviceName": "/dev/xvda",
                "Ebs": {
                    "Encrypted": False,
                    "Iops": 3000,
                    "Throughput": 125,
                    "VolumeSize": ng.volume_size,
                    "VolumeType": ng.volume_type,
                },
            }
        ]
        metadata_options = {"HttpPutResponseHopLimit": 2, "HttpTokens": "required"}
        if ng.managed:
            resources["LaunchTemplate"] = {
                "Type": "AWS::EC2::LaunchTemplate",
                "Properties": {
                    "LaunchTemplateName": {"Fn::Sub": "${AWS::StackName}"},
                    "LaunchTemplateData": {"BlockDeviceMappings": block_devices, "MetadataOptions": metadata_options},
                },
            }
            outputs["InstanceRoleARN"] = {"Value": role_arn}
            description = "EKS Managed Nodes (SSH access: false) [created by eksctl]"
        else:
            cluster_name = cluster["name"]
            image = (
                ng.spec.get("ami")
                if str(ng.spec.get("ami", "")).startswith("ami-")
                else (WINDOWS_AMI if ng.ami_family.startswith("Windows") else LINUX_AMI)
            )
            resources["NodeInstanceProfile"] = {
                "Type": "AWS::IAM::InstanceProfile",
                "Properties": (
                    {"Path": "/", "Roles": [{"Ref": "NodeInstanceRole"}]}
                    if not ng.role_arn
                    else {"Path": "/", "Roles": [ng.role_arn.rsplit("/", 1)[-1]]}
                ),
            }
            resources["SG"] = {
                "Type": "AWS::EC2::SecurityGroup",
                "Properties": {
                    "GroupDescription": f"Communication between the control plane and worker nodes in group {ng.name}",
                    "VpcId": (cluster.get("resourcesVpcConfig") or {}).get("vpcId"),
                    "Tags": [
                        {"Key": f"kubernetes.io/cluster/{cluster_name}", "Value": "owned"},
                        {"Key": "Name", "Value": {"Fn::Sub": "${AWS::StackName}/SG"}},
                    ],
                },
            }
            resources["NodeGroupLaunchTemplate"] = {
                "Type": "AWS::EC2::LaunchTemplate",
                "Properties": {
                    "LaunchTemplateName": {"Fn::Sub": "${AWS::StackName}"},
                    "LaunchTemplateData": {
                        "BlockDeviceMappings": block_devices,
                        "IamInstanceProfile": {"Arn": {"Fn::GetAtt": ["NodeInstanceProfile", "Arn"]}},
                        "ImageId": image,
                        "InstanceType": ng.instance_type,
                        "MetadataOptions": metadata_options,
                    },
                },
            }
            asg_tags = [
                {"Key": "Name", "Value": f"{cluster_name}-{ng.name}-Node", "PropagateAtLaunch": "true"},
                {"Key": f"kubernetes.io/cluster/{cluster_name}", "Value": "owned", "PropagateAtLaunch": "true"},
            ]
            for key, value in sorted(ng.labels.items()):
                asg_tags.append(
                    {
                        "Key": f"k8s.io/cluster-autoscaler/node-template/label/{key}",
                        "Value": value,
                        "PropagateAtLaunch": "false",
                    }
                )
            for taint in ng.taints:
                asg_tags.append(
                    {
                        "Key": f"k8s.io/cluster-autoscaler/node-template/taint/{taint['key']}",
                        "Value": f"{taint.get('value', '')}:{taint['effect']}",
                        "PropagateAtLaunch": "false",
                    }
                )
            for key, value in sorted(ng.tags.items()):
                asg_tags.append({"Key": key, "Value": str(value), "PropagateAtLaunch": "true"})
            resources["NodeGroup"] = {
                "Type": "AWS::AutoScaling::AutoScalingGroup",
                "Properties": {
                    "LaunchTemplate": {
                        "LaunchTemplateName": {"Fn::Sub": "${AWS::StackName}"},
                        "Version": {"Fn::GetAtt": ["NodeGroupLaunchTemplate", "LatestVersionNumber"]},
                    },
                    "MinSize": str(ng.min_size),
                    "MaxSize": str(ng.max_size),
                    "DesiredCapacity": str(ng.desired),
                    "VPCZoneIdentifier": subnets,
                    "Tags": asg_tags,
                },
            }
            outputs.update(
                {
                    "InstanceRoleARN": {"Value": role_arn},
                    "InstanceProfileARN": {"Value": {"Fn::GetAtt": ["NodeInstanceProfile", "Arn"]}},
                    "FeatureLocalSecurityGroup": {"Value": "true"},
                    "FeaturePrivateNetworking": {"Value": "true" if ng.private else "false"},
                    "FeatureSharedSecurityGroup": {"Value": "true"},
                }
            )
            description = (
                f"EKS nodes (AMI family: {ng.ami_family}, SSH access: false, private networking: "
                f"{'true' if ng.private else 'false'}) [created and managed by eksctl]"
            )
        return {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": description,
            "Resources": resources,
            "Outputs": outputs,
        }

    def create_nodegroup(self, cluster, ng, meta_tags, deadline):
        """Create the nodegroup stack (and the EKS nodegroup for managed ones), marked CREATING."""
        name = cluster["name"]
        stack_name = nodegroup_stack_name(name, ng.name)
        subnets = self.subnets_for(cluster, ng.private)
        tags = shared_tags(name, meta_tags) + [
            {"Key": TAG_NODEGROUP, "Value": ng.name},
            {"Key": TAG_NODEGROUP_OLD, "Value": ng.name},
            {"Key": TAG_NODEGROUP_TYPE, "Value": ng.kind},
        ]
        self.set_marker(cluster["arn"], NG_MARKER_PREFIX + ng.name, "CREATING", deadline)
        stack = self.create_stack(stack_name, self.nodegroup_template(cluster, ng, subnets), tags)
        out = self.outputs(stack)
        resources = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in self.stack_resources(stack_name)}
        role_name = resources.get("NodeInstanceRole")
        if role_name:
            self.attach_policies(role_name, ng.extra_policies or list(NODE_POLICIES), required=bool(ng.extra_policies))
        if ng.managed:
            labels = {**ng.labels, TAG_CLUSTER: name, TAG_NODEGROUP: ng.name}
            params = dict(
                clusterName=name,
                nodegroupName=ng.name,
                scalingConfig={"minSize": ng.min_size, "maxSize": ng.max_size, "desiredSize": ng.desired},
                subnets=subnets,
                instanceTypes=ng.instance_types,
                amiType=ng.ami_type,
                nodeRole=out["InstanceRoleARN"],
                labels=labels,
                tags={
                    **{k: str(v) for k, v in meta_tags.items()},
                    **{k: str(v) for k, v in ng.tags.items()},
                    TAG_NODEGROUP: ng.name,
                    TAG_NODEGROUP_TYPE: "managed",
                },
                capacityType="SPOT" if ng.spot else "ON_DEMAND",
                version=ng.version,
                releaseVersion=catalog.release_version(ng.version),
                launchTemplate={"id": resources["LaunchTemplate"], "version": "1"},
            )
            if ng.taints:
                params["taints"] = ng.eks_taints()
            try:
                self.aws.eks.create_nodegroup(**params)
            except Exception as exc:
                if error_code(exc):
                    raise EksctlError(sdk_error(exc, "eks", "CreateNodegroup")) from None
                raise
        return stack

    def nodegroup_info(self, cluster, name):
        """What a node of this group looks like (for the Kubernetes side), or None if there is no such group."""
        stack = self.stack(nodegroup_stack_name(cluster["name"], name))
        group = self.nodegroup(cluster["name"], name)
        if group is not None:
            subnets = group.get("subnets") or []
            zones, cidrs = self.subnet_details(subnets) if subnets and subnets[0].startswith("subnet-") else ([], [])
            family = _family_from_ami_type(group.get("amiType", ""))
            return {
                "name": name,
                "managed": True,
                "instance_type": (group.get("instanceTypes") or ["m5.large"])[0],
                "ami_family": family,
                "labels": group.get("labels") or {},
                "taints": group.get("taints") or [],
                "version": group.get("version") or cluster.get("version"),
                "zones": zones,
                "cidrs": cidrs,
                "capacity_type": group.get("capacityType", "ON_DEMAND"),
                "image": LINUX_AMI,
                "desired": (group.get("scalingConfig") or {}).get("desiredSize", 0),
            }
        if stack is None:
            return None
        template = self.template(stack["StackName"])
        data = (
            template.get("Resources", {})
            .get("NodeGroupLaunchTemplate", {})
            .get("Properties", {})
            .get("LaunchTemplateData", {})
        )
        asg = self.asg_of(stack["StackName"])
        labels, taints = {TAG_CLUSTER: cluster["name"], TAG_NODEGROUP: name}, []
        for tag in (asg or {}).get("Tags") or []:
            key = tag["Key"]
            if key.startswith("k8s.io/cluster-autoscaler/node-template/label/"):
                labels[key.rsplit("/label/", 1)[1]] = tag["Value"]
            elif key.startswith("k8s.io/cluster-autoscaler/node-template/taint/"):
                value, _sep, effect = tag["Value"].rpartition(":")
                taints.append({"key": key.rsplit("/taint/", 1)[1], "value": value, "effect": effect})
        description = template.get("Description", "")
        family = (
            description.split("AMI family: ", 1)[1].split(",", 1)[0]
            if "AMI family: " in description
            else catalog.DEFAULT_AMI_FAMILY
        )
        return {
            "name": name,
            "managed": False,
            "instance_type": data.get("InstanceType", "m5.large"),
            "ami_family": family,
            "labels": labels,
            "taints": taints,
            "version": cluster.get("version"),
            "desired": (asg or {}).get("DesiredCapacity", 0),
            "asg": asg,
        }

    def asg_of(self, stack_name):
        for resource in self.stack_resources(stack_name):
            if resource["LogicalResourceId"] == "NodeGroup":
                groups = self.aws.asg.describe_auto_scaling_groups(
                    AutoScalingGroupNames=[resource["PhysicalResourceId"]]
                )
                return (groups.get("AutoScalingGroups") or [None])[0]
        return None

    def asg_instances(self, asg):
        ids = [i["InstanceId"] for i in (asg or {}).get("Instances") or [] if i.get("LifecycleState") != "Terminating"]
        if not ids:
            return []
        found = []
        for reservation in self.aws.ec2.describe_instances(InstanceIds=ids)["Reservations"]:
            for inst in reservation["Instances"]:
                if inst.get("State", {}).get("Name") in ("terminated", "shutting-down"):
                    continue
                found.append(
                    {
                        "id": inst["InstanceId"],
                        "ip": inst.get("PrivateIpAddress") or "192.168.0.10",
                        "zone": inst.get("Placement", {}).get("AvailabilityZone", self.aws.region + "a"),
                    }
                )
        return found

    def sync_nodes(self, cluster, name, announce=True):
        """Make the Kubernetes Nodes of a nodegroup match its size (no-op without the stand-in)."""
        if not self.kube:
            return []
        info = self.nodegroup_info(cluster, name)
        if info is None:
            return []
        instances = self.asg_instances(info["asg"]) if not info["managed"] else None
        nodes = kube.reconcile_nodes(
            self.kube,
            self.log if announce else None,
            cluster["name"],
            self.aws.region,
            info,
            info["desired"],
            instances=instances,
            announce=announce,
        )
        if catalog.is_nvidia(info["instance_type"]):
            # A device plugin applied since the nodes joined makes them advertise their GPUs now.
            kube.refresh_gpu_capacity(self.kube, cluster["name"])
        return nodes

    def _delete_nodegroup_now(self, cluster, name):
        if self.kube:
            kube.delete_nodes(self.kube, cluster["name"], name)
        try:
            self.aws.eks.delete_nodegroup(clusterName=cluster["name"], nodegroupName=name)
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
        self.delete_stack(nodegroup_stack_name(cluster["name"], name))

    # ------------------------------------------------------------------------------------------
    # OIDC and IRSA

    def oidc_provider_arn(self, cluster):
        issuer = ((cluster.get("identity") or {}).get("oidc") or {}).get("issuer", "")
        return f"arn:aws:iam::{self.aws.account}:oidc-provider/{issuer.split('://', 1)[-1]}", issuer

    def oidc_provider_exists(self, cluster) -> bool:
        arn = self.oidc_provider_arn(cluster)[0]
        providers = self.aws.iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
        return any(p["Arn"] == arn for p in providers)

    def oidc_associated(self, cluster) -> bool:
        # moto gives every cluster of a region the same issuer URL, so the provider alone would make a
        # second cluster look associated: require the cluster's own eksctl tag as well.
        return self.oidc_provider_exists(cluster) and (cluster.get("tags") or {}).get(TAG_OIDC) == "true"

    def create_oidc_provider(self, cluster):
        issuer = self.oidc_provider_arn(cluster)[1]
        if not self.oidc_provider_exists(cluster):
            self.aws.iam.create_open_id_connect_provider(
                Url=issuer,
                ClientIDList=["sts.amazonaws.com"],
                ThumbprintList=[OIDC_THUMBPRINT],
                Tags=[{"Key": TAG_CLUSTER, "Value": cluster["name"]}, {"Key": TAG_VERSION, "Value": EKSCTL_VERSION}],
            )
        self.aws.eks.tag_resource(resourceArn=cluster["arn"], tags={TAG_OIDC: "true"})
        stack = self.stack(cluster_stack_name(cluster["name"]))
        if stack and tag_dict(stack.get("Tags")).get(TAG_OIDC) != "true":
            tags = [t for t in stack.get("Tags") or [] if t["Key"] != TAG_OIDC] + [{"Key": TAG_OIDC, "Value": "true"}]
            self.aws.cfn.update_stack(
                StackName=stack["StackName"],
                UsePreviousTemplate=True,
                Tags=tags,
                Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
            )

    def delete_oidc_provider(self, cluster):
        if (cluster.get("tags") or {}).get(TAG_OIDC) != "true" or not self.oidc_provider_exists(cluster):
            return
        arn, issuer = self.oidc_provider_arn(cluster)
        for other_name in self.aws.eks.list_clusters()["clusters"]:
            if other_name == cluster["name"]:
                continue
            other = self.find_cluster(other_name) or {}
            if (other.get("tags") or {}).get(TAG_OIDC) == "true" and (
                (other.get("identity") or {}).get("oidc") or {}
            ).get("issuer") == issuer:
                return  # moto shares the issuer between clusters: keep it for the other one
        self.aws.iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)

    def irsa_template(self, cluster, namespace, name, policies, role_name, tags):
        stack = irsa_stack_name(cluster["name"], namespace, name)
        provider_arn, issuer = self.oidc_provider_arn(cluster)
        host = issuer.split("://", 1)[-1]
        properties = {
            "RoleName": role_name or cfn_physical_name(stack, "Role1"),
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Federated": provider_arn},
                        "Action": ["sts:AssumeRoleWithWebIdentity"],
                        "Condition": {
                            "StringEquals": {
                                f"{host}:aud": "sts.amazonaws.com",
                                f"{host}:sub": f"system:serviceaccount:{namespace}:{name}",
                            }
                        },
                    }
                ],
            },
            "ManagedPolicyArns": list(policies),
        }
        if tags:
            properties["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
        return {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": f'IAM role for serviceaccount "{namespace}/{name}" [created and managed by eksctl]',
            "Resources": {"Role1": {"Type": "AWS::IAM::Role", "Properties": properties}},
            "Outputs": {"Role1": {"Value": {"Fn::GetAtt": ["Role1", "Arn"]}}},
        }

    def create_irsa(self, cluster, namespace, name, policies, role_name, role_tags, meta_tags):
        stack_name = irsa_stack_name(cluster["name"], namespace, name)
        template = self.irsa_template(cluster, namespace, name, policies, role_name, role_tags)
        tags = shared_tags(cluster["name"], meta_tags) + [{"Key": TAG_IRSA, "Value": f"{namespace}/{name}"}]
        capabilities = ("CAPABILITY_NAMED_IAM",) if role_name else ("CAPABILITY_IAM",)
        self.check_policies(policies)
        stack = self.create_stack(stack_name, template, tags, capabilities)
        role = template["Resources"]["Role1"]["Properties"]["RoleName"]
        self.attach_policies(role, policies)
        return self.outputs(stack).get("Role1")

    def irsa_capabilities(self, stack):
        """moto does not keep a stack's Capabilities: a CloudFormation-generated role name needed only
        CAPABILITY_IAM, a chosen one (--role-name) CAPABILITY_NAMED_IAM."""
        template = self.template(stack["StackName"])
        role = template.get("Resources", {}).get("Role1", {}).get("Properties", {}).get("RoleName", "")
        generated = re.fullmatch(r".+-Role1-[A-Z0-9]{13}", role) and stack["StackName"].startswith(
            role.rsplit("-Role1-", 1)[0]
        )
        return ["CAPABILITY_IAM"] if generated else ["CAPABILITY_NAMED_IAM"]

    def check_policies(self, policies):
        """CloudFormation would fail the stack on a policy that does not exist: check before creating it."""
        for arn in policies:
            try:
                self.aws.iam.get_policy(PolicyArn=arn)
            except Exception as exc:
                if error_code(exc) != "NoSuchEntity":
                    raise
                if arn.startswith("arn:aws:iam::aws:policy/"):
                    raise EksctlError(
                        f"eksctl simulator: the sandbox IAM has no AWS managed policy {arn}; start moto with "
                        "MOTO_IAM_LOAD_MANAGED_POLICIES=true to have them"
                    ) from None
                raise EksctlError(
                    f"Policy {arn} does not exist or is not attachable. (Service: Iam, Status Code: 404, "
                    "HandlerErrorCode: NotFound)"
                ) from None

    def update_irsa(self, cluster, namespace, name, policies):
        stack_name = irsa_stack_name(cluster["name"], namespace, name)
        stack = self.stack(stack_name)
        template = self.template(stack_name)
        role_props = template["Resources"]["Role1"]["Properties"]
        role = role_props["RoleName"]
        current = sorted(
            p["PolicyArn"] for p in self.aws.iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
        )
        if current == sorted(policies):
            return False
        self.check_policies(policies)
        role_props["ManagedPolicyArns"] = list(policies)
        self.aws.cfn.update_stack(
            StackName=stack_name,
            TemplateBody=json.dumps(template),
            Tags=stack.get("Tags") or [],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
        )
        for arn in current:
            if arn not in policies:
                self.aws.iam.detach_role_policy(RoleName=role, PolicyArn=arn)
        self.attach_policies(role, [p for p in policies if p not in current])
        return True

    def delete_irsa_now(self, cluster_name, namespace, name):
        deleted = self.delete_stack(irsa_stack_name(cluster_name, namespace, name))
        if self.kube:
            self.kube.delete(f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}")
        return deleted


def _family_from_ami_type(ami_type):
    if ami_type.startswith("AL2023"):
        return "AmazonLinux2023"
    if ami_type.startswith("AL2_"):
        return "AmazonLinux2"
    if ami_type.startswith("BOTTLEROCKET"):
        return "Bottlerocket"
    if ami_type.startswith("WINDOWS"):
        return "WindowsServer2022CoreContainer"
    if ami_type == "CUSTOM":
        return "Ubuntu2404"
    return catalog.DEFAULT_AMI_FAMILY
