"""The eksctl commands the simulator implements (see README.md for the list and the differences)."""

from __future__ import annotations

import ipaddress
import json
import random
import sys
import time

from . import BUILD_DATE, EKSCTL_VERSION, GIT_COMMIT, catalog, config, kube, model
from .common import (
    Aws,
    Clock,
    EksctlError,
    Logger,
    api_error,
    error_code,
    parse_duration,
    print_document,
    resolve_region,
    rfc3339,
    sdk_error,
    tabwriter,
    version_banner,
)

PLAN_WARNING = "no changes were applied, run again with '--approve' to apply the changes"
CONFIG_FLAG = "--config-file/-f"


# ---------------------------------------------------------------------------------------------
# Shared helpers


class Ctx:
    """What a command gets: parsed flags, a logger, simulated time, and AWS for a region."""

    def __init__(self, parsed, log: Logger):
        self.p = parsed
        self.log = log
        self.clock = Clock()
        self.timeout = parse_duration(parsed.get("timeout") or "25m0s") if "timeout" in parsed.values else 25 * 60
        self.spent = 0.0

    def aws(self, region):
        return Aws(region, self.p.get("profile"))

    def model(self, region):
        return model.Model(self.aws(region), self.log, self.clock)

    def budget(self, seconds, stack, waiter="StackCreateComplete"):
        """Charge a simulated wait against --timeout; past it eksctl's waiter gives up."""
        if self.timeout and self.spent + seconds > self.timeout:
            left = max(0.0, self.timeout - self.spent)
            time.sleep(left * self.clock.scale)
            raise EksctlError(f'waiting for CloudFormation stack "{stack}": exceeded max wait time for {waiter} waiter')
        self.spent += seconds


def incompatible_with_config(p, names):
    if not p.get("config-file"):
        return
    for name in names:
        if p.set(name):
            raise EksctlError(f"cannot use --{name} when {CONFIG_FLAG} is set")


def need_config(p, names):
    if p.get("config-file"):
        return
    for name in names:
        if p.set(name):
            raise EksctlError(f"cannot use --{name} unless a config file is specified via {CONFIG_FLAG}")


def name_arg(p, flag="name", value=None):
    """The one positional name eksctl commands accept, reconciled with the --name/--cluster flag."""
    args = p.args
    if len(args) > 1:
        raise EksctlError("only one argument is allowed to be used as a name")
    value = p.get(flag) if value is None else value
    if args:
        if value:
            raise EksctlError(f"--{flag}={value} and argument {args[0]} cannot be used at the same time")
        return args[0]
    return value or None


def can_operate(cluster, region):
    status = model.cluster_status(cluster)
    if status in ("CREATING", "DELETING", "FAILED"):
        raise EksctlError(
            f'cannot perform Kubernetes API operations on cluster "{cluster["name"]}" in "{region}" region due to '
            f'status "{status}"'
        )


def check_output(output, allowed=("table", "json", "yaml")):
    if output not in allowed:
        raise EksctlError(f"unknown output printer type: {output}")


def validate_version(version):
    supported = catalog_versions()
    if version in supported:
        return
    try:
        minor = tuple(int(x) for x in version.split("."))
    except ValueError:
        minor = (9, 9)
    if minor < tuple(int(x) for x in supported[0].split(".")):
        raise EksctlError(
            f"invalid version, {version} is no longer supported, supported values: {', '.join(supported)}\n"
            "see also: https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html"
        )
    raise EksctlError(f"invalid version, supported values: {', '.join(supported)}")


def catalog_versions():
    import os  # pylint: disable=import-outside-toplevel

    env = os.environ.get("EKSCTL_SIM_SUPPORTED_VERSIONS")
    if env:
        return [v.strip() for v in env.split(",") if v.strip()]
    return list(catalog.SUPPORTED_VERSIONS)


def random_hex(length):
    return "%0*x" % (length, random.getrandbits(4 * length))


def vkey(version):
    return tuple(int(x) for x in version.split("."))


# ---------------------------------------------------------------------------------------------
# version / utils schema


def cmd_version(ctx):
    output = ctx.p.get("output")
    if output == "json":
        sys.stdout.write(
            json.dumps(
                {
                    "Version": EKSCTL_VERSION,
                    "PreReleaseID": "",
                    "Metadata": {"BuildDate": BUILD_DATE, "GitCommit": GIT_COMMIT},
                },
                separators=(",", ":"),
            )
            + "\n"
        )
    elif output:
        raise EksctlError(f"unknown output: {output}")
    else:
        sys.stdout.write(EKSCTL_VERSION + "\n")


def cmd_utils_schema(ctx):
    del ctx
    path = config.schema_path()
    if path is None:
        raise EksctlError(
            "eksctl simulator: no ClusterConfig schema found (set EKSCTL_SIM_SCHEMA to "
            "shared/reference/schemas/eksctl-clusterconfig.schema.json)"
        )
    sys.stdout.write(path.read_text())


# ---------------------------------------------------------------------------------------------
# get cluster


def cluster_json(cluster):
    """types.Cluster of aws-sdk-go-v2 (service/eks) as encoding/json prints it: Go field names, all present."""
    vpc = cluster.get("resourcesVpcConfig") or {}
    network = cluster.get("kubernetesNetworkConfig") or {}
    logging = (cluster.get("logging") or {}).get("clusterLogging")
    access = cluster.get("accessConfig") or {}
    tags = model.public_tags(cluster.get("tags"))
    return {
        "AccessConfig": {
            "AuthenticationMode": access.get("authenticationMode", "API_AND_CONFIG_MAP"),
            "BootstrapClusterCreatorAdminPermissions": access.get("bootstrapClusterCreatorAdminPermissions"),
        },
        "Arn": cluster.get("arn"),
        "CertificateAuthority": {"Data": (cluster.get("certificateAuthority") or {}).get("data")},
        "ClientRequestToken": cluster.get("clientRequestToken"),
        "ComputeConfig": None,
        "ConnectorConfig": None,
        "ControlPlaneScalingConfig": None,
        "CreatedAt": rfc3339(cluster.get("createdAt")),
        "DeletionProtection": None,
        "EncryptionConfig": [
            {"Provider": {"KeyArn": (e.get("provider") or {}).get("keyArn")}, "Resources": e.get("resources")}
            for e in cluster.get("encryptionConfig") or []
        ]
        or None,
        "Endpoint": (cluster.get("endpoint") or "").rstrip("/") or None,
        "Health": {"Issues": []},
        "Id": cluster.get("id"),
        "Identity": {"Oidc": {"Issuer": ((cluster.get("identity") or {}).get("oidc") or {}).get("issuer")}},
        "KubeApiServerConfig": None,
        "KubeControllerManagerConfig": None,
        "KubeSchedulerConfig": None,
        "KubernetesNetworkConfig": {
            "ElasticLoadBalancing": None,
            "IpFamily": network.get("ipFamily", "ipv4"),
            "ServiceIpv4Cidr": network.get("serviceIpv4Cidr"),
            "ServiceIpv6Cidr": network.get("serviceIpv6Cidr"),
        },
        "Logging": (
            {"ClusterLogging": [{"Enabled": e.get("enabled"), "Types": e.get("types")} for e in logging or []]}
            if logging is not None
            else None
        ),
        "Name": cluster.get("name"),
        "OutpostConfig": None,
        "PlatformVersion": cluster.get("platformVersion"),
        "RemoteNetworkConfig": None,
        "ResourcesVpcConfig": {
            "ClusterSecurityGroupId": vpc.get("clusterSecurityGroupId"),
            "EndpointPrivateAccess": bool(vpc.get("endpointPrivateAccess", False)),
            "EndpointPublicAccess": bool(vpc.get("endpointPublicAccess", True)),
            "PublicAccessCidrs": vpc.get("publicAccessCidrs", ["0.0.0.0/0"]),
            "SecurityGroupIds": vpc.get("securityGroupIds", []),
            "SubnetIds": vpc.get("subnetIds", []),
            "VpcId": vpc.get("vpcId"),
            "ControlPlaneEgressMode": "",
        },
        "RoleArn": cluster.get("roleArn"),
        "Status": model.cluster_status(cluster),
        "StorageConfig": None,
        "Tags": dict(sorted(tags.items())) if tags else None,
        "Version": cluster.get("version"),
        "UpgradePolicy": {"SupportType": "EXTENDED"},
        "ZonalShiftConfig": None,
    }


def cmd_get_cluster(ctx):
    p = ctx.p
    output = p.get("output")
    check_output(output)
    name = name_arg(p)
    if p.get("config-file"):
        cfg = config.load(p["config-file"])
        config.require_metadata(cfg)
        name, region = cfg["metadata"]["name"], cfg["metadata"]["region"]
    else:
        region = None if p.get("all-regions") else resolve_region(p.get("region"), p.get("profile"))
    if name and p.get("all-regions"):
        raise EksctlError("--all-regions and --name cannot be used at the same time")
    if name:
        sim = ctx.model(region)
        cluster = sim.require_cluster(name, prefix=f'unable to describe control plane "{name}"')
        if output == "table":
            vpc = cluster.get("resourcesVpcConfig") or {}
            rows = [
                ["NAME", "VERSION", "STATUS", "CREATED", "VPC", "SUBNETS", "SECURITYGROUPS", "PROVIDER"],
                [
                    name,
                    cluster.get("version"),
                    model.cluster_status(cluster),
                    rfc3339(cluster.get("createdAt")),
                    vpc.get("vpcId", ""),
                    ",".join(vpc.get("subnetIds") or []),
                    ",".join(vpc.get("securityGroupIds") or []),
                    "EKS",
                ],
            ]
            sys.stdout.write(tabwriter(rows))
        else:
            print_document([cluster_json(cluster)], output)
        return
    if p.get("all-regions"):
        base = Aws(
            resolve_region(p.get("region"), p.get("profile")) if _has_region(p) else "us-east-1", p.get("profile")
        )
        regions = sorted(r["RegionName"] for r in base.ec2.describe_regions()["Regions"])
        session = base.session
    else:
        regions, session = [region], None
    items = []
    for reg in regions:
        sim = model.Model(Aws(reg, p.get("profile"), session=session), ctx.log, ctx.clock)
        names = []
        for page in sim.aws.eks.get_paginator("list_clusters").paginate(
            maxResults=min(max(p.get("chunk-size") or 100, 1), 100)
        ):
            names.extend(page["clusters"])
        if not names:
            continue
        owned = set()
        try:
            for stack in sim.stacks():
                tags = model.tag_dict(stack.get("Tags"))
                cluster_tag = tags.get(model.TAG_CLUSTER, tags.get(model.TAG_CLUSTER_OLD))
                if cluster_tag and stack["StackName"] == model.cluster_stack_name(cluster_tag):
                    owned.add(cluster_tag)
        except Exception:  # pylint: disable=broad-except  # eksctl reports "Unknown" when the check fails
            owned = None
        for cluster_name in names:
            sim.settle(cluster_name)
            if sim.find_cluster(cluster_name) is None:
                continue
            state = "Unknown" if owned is None else str(cluster_name in owned)
            items.append({"Name": cluster_name, "Region": reg, "Owned": state})
    if output == "table":
        if not items:
            ctx.log.info("No clusters found")
            return
        rows = [["NAME", "REGION", "EKSCTL CREATED"]] + [[i["Name"], i["Region"], i["Owned"]] for i in items]
        sys.stdout.write(tabwriter(rows))
    else:
        print_document(items, output)


def _has_region(p):
    import os  # pylint: disable=import-outside-toplevel

    return bool(p.get("region") or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))


# ---------------------------------------------------------------------------------------------
# get nodegroup


def nodegroup_summaries(sim, cluster, only=None):
    name = cluster["name"]
    stacks = sim.cluster_stacks(name, "nodegroup")
    summaries = []
    if only is not None:
        stack = stacks.get(only)
        stacks = {only: stack} if stack else {}
    for ng_name, stack in stacks.items():
        tags = model.tag_dict(stack.get("Tags"))
        if tags.get(model.TAG_NODEGROUP_TYPE) == "managed":
            continue
        template = sim.template(stack["StackName"])
        data = (
            template.get("Resources", {})
            .get("NodeGroupLaunchTemplate", {})
            .get("Properties", {})
            .get("LaunchTemplateData", {})
        )
        asg = sim.asg_of(stack["StackName"]) or {}
        status = stack["StackStatus"]
        marker = model.nodegroup_marker(cluster, ng_name)
        if marker and marker.pending:
            status = {"CREATING": "CREATE_IN_PROGRESS", "DELETING": "DELETE_IN_PROGRESS"}.get(marker.state, status)
        version = ""
        if asg.get("DesiredCapacity"):
            version = catalog.kubelet_version(cluster.get("version"))
            if sim.kube:
                nodes = sim.kube.nodes(name, ng_name)
                if nodes:
                    version = nodes[0].get("status", {}).get("nodeInfo", {}).get("kubeletVersion", version)
        summaries.append(
            {
                "StackName": stack["StackName"],
                "Cluster": name,
                "Name": ng_name,
                "Status": status,
                "MaxSize": asg.get("MaxSize", 0),
                "MinSize": asg.get("MinSize", 0),
                "DesiredCapacity": asg.get("DesiredCapacity", 0),
                "InstanceType": data.get("InstanceType", ""),
                "ImageID": data.get("ImageId", ""),
                "CreationTime": rfc3339(stack.get("CreationTime")),
                "NodeInstanceRoleARN": sim.outputs(stack).get("InstanceRoleARN", ""),
                "AutoScalingGroupName": asg.get("AutoScalingGroupName", ""),
                "Version": version,
                "Type": "unmanaged",
            }
        )
    managed = sim.managed_nodegroups(name) if only is None else [only]
    for ng_name in managed:
        if (
            only is not None
            and only in stacks
            and model.tag_dict(stacks[only].get("Tags")).get(model.TAG_NODEGROUP_TYPE) != "managed"
        ):
            break
        try:
            group = sim.aws.eks.describe_nodegroup(clusterName=name, nodegroupName=ng_name)["nodegroup"]
        except Exception as exc:
            if error_code(exc):
                raise EksctlError(sdk_error(exc, "eks", "DescribeNodegroup")) from None
            raise
        scaling = group.get("scalingConfig") or {}
        stack = sim.stack(model.nodegroup_stack_name(name, ng_name))
        status = group.get("status")
        marker = model.nodegroup_marker(cluster, ng_name)
        if marker and marker.pending:
            status = marker.state
        ami_type = group.get("amiType") or ""
        summaries.append(
            {
                "StackName": stack["StackName"] if stack else "",
                "Cluster": name,
                "Name": ng_name,
                "Status": status,
                "MaxSize": scaling.get("maxSize", 0),
                "MinSize": scaling.get("minSize", 0),
                "DesiredCapacity": scaling.get("desiredSize", 0),
                "InstanceType": ",".join(group.get("instanceTypes") or []) or "-",
                "ImageID": group.get("releaseVersion", "") if ami_type == "CUSTOM" else ami_type,
                "CreationTime": rfc3339(group.get("createdAt")),
                "NodeInstanceRoleARN": group.get("nodeRole", ""),
                "AutoScalingGroupName": ",".join(
                    a["name"] for a in (group.get("resources") or {}).get("autoScalingGroups") or []
                ),
                "Version": group.get("version") or "-",
                "Type": "managed",
            }
        )
    return summaries


def cmd_get_nodegroup(ctx):
    p = ctx.p
    output = p.get("output")
    check_output(output)
    only = name_arg(p)
    cluster_name, region = p.get("cluster"), None
    if p.get("config-file"):
        incompatible_with_config(p, ["cluster", "region"])
        cfg = config.load(p["config-file"])
        config.require_metadata(cfg)
        cluster_name, region = cfg["metadata"]["name"], cfg["metadata"]["region"]
    if not cluster_name:
        raise EksctlError("--cluster must be set")
    region = region or resolve_region(p.get("region"), p.get("profile"))
    sim = ctx.model(region)
    cluster = sim.require_cluster(cluster_name)
    can_operate(cluster, region)
    summaries = nodegroup_summaries(sim, cluster, only)
    if output == "table":
        if not summaries:
            raise EksctlError("No nodegroups found")
        rows = [
            [
                "CLUSTER",
                "NODEGROUP",
                "STATUS",
                "CREATED",
                "MIN SIZE",
                "MAX SIZE",
                "DESIRED CAPACITY",
                "INSTANCE TYPE",
                "IMAGE ID",
                "ASG NAME",
                "TYPE",
            ]
        ]
        for s in summaries:
            rows.append(
                [
                    s["Cluster"],
                    s["Name"],
                    s["Status"],
                    s["CreationTime"],
                    s["MinSize"],
                    s["MaxSize"],
                    s["DesiredCapacity"],
                    s["InstanceType"],
                    s["ImageID"],
                    s["AutoScalingGroupName"],
                    s["Type"],
                ]
            )
        sys.stdout.write(tabwriter(rows))
    else:
        print_document(summaries, output)


# ---------------------------------------------------------------------------------------------
# create cluster

CREATE_CLUSTER_SHAPE_FLAGS = [
    "name",
    "region",
    "version",
    "tags",
    "zones",
    "nodegroup-name",
    "node-type",
    "nodes",
    "nodes-min",
    "nodes-max",
    "node-volume-size",
    "node-volume-type",
    "node-ami-family",
    "node-labels",
    "node-private-networking",
    "managed",
    "vpc-cidr",
    "vpc-nat-mode",
    "vpc-private-subnets",
    "vpc-public-subnets",
    "with-oidc",
    "fargate",
]
DRY_RUN_REJECTED = [
    "install-nvidia-plugin",
    "install-neuron-plugin",
    "kubeconfig",
    "write-kubeconfig",
    "set-kubeconfig-context",
    "auto-kubeconfig",
    "authenticator-role-arn",
    "profile",
    "timeout",
    "cfn-role-arn",
    "cfn-disable-rollback",
]
ADJECTIVES = ("attractive", "beautiful", "exciting", "floral", "hilarious", "ridiculous", "scrumptious", "wonderful")
NOUNS = ("badger", "creature", "gopher", "mushroom", "party", "sculpture", "unicorn", "wardrobe")


def cluster_config_from_flags(p, region, nodegroup=True):
    name = name_arg(p) or f"{random.choice(ADJECTIVES)}-{random.choice(NOUNS)}-{int(time.time())}"
    cfg = {"apiVersion": config.API_VERSION, "kind": "ClusterConfig", "metadata": {"name": name, "region": region}}
    if p.get("version") and p.get("version") != "auto":
        cfg["metadata"]["version"] = p["version"]
    if p.get("tags"):
        cfg["metadata"]["tags"] = dict(p["tags"])
    if p.get("zones"):
        cfg["availabilityZones"] = list(p["zones"])
    if p.get("with-oidc"):
        cfg["iam"] = {"withOIDC": True}
    if p.get("vpc-cidr"):
        cfg["vpc"] = {"cidr": p["vpc-cidr"]}
    if nodegroup and not p.get("without-nodegroup"):
        ng = {"name": p.get("nodegroup-name") or "ng-" + random_hex(8)}
        ng["instanceType"] = p.get("node-type") or "m5.large"
        for flag, key in (
            ("nodes", "desiredCapacity"),
            ("nodes-min", "minSize"),
            ("nodes-max", "maxSize"),
            ("node-volume-size", "volumeSize"),
        ):
            if p.set(flag):
                ng[key] = p[flag]
        if p.get("node-ami-family"):
            ng["amiFamily"] = p["node-ami-family"]
        if p.get("node-labels"):
            ng["labels"] = dict(p["node-labels"])
        if p.get("node-private-networking"):
            ng["privateNetworking"] = True
        cfg["managedNodeGroups" if p.get("managed") else "nodeGroups"] = [ng]
    return cfg


def pick_zones(aws, cfg):
    zones = cfg.get("availabilityZones") or []
    if zones and ((cfg.get("vpc") or {}).get("subnets")):
        raise EksctlError("vpc.subnets and availabilityZones cannot be set at the same time")
    if zones:
        if len(zones) < 2:
            raise EksctlError(
                f"only {len(zones)} zone(s) specified [{' '.join(zones)}], 2 are required (can be non-unique)"
            )
        return list(zones)
    found = aws.ec2.describe_availability_zones(
        Filters=[{"Name": "region-name", "Values": [aws.region]}, {"Name": "state", "Values": ["available"]}]
    )["AvailabilityZones"]
    names = sorted(z["ZoneName"] for z in found if z.get("ZoneType", "availability-zone") == "availability-zone")
    if aws.region == "us-east-1":
        names = [n for n in names if n != "us-east-1e"]
    return names[:3]


def vpc_plan(aws, log, cfg, zones):
    vpc = cfg.get("vpc") or {}
    subnets = vpc.get("subnets") or {}
    if subnets:
        public = [(az, spec.get("id")) for az, spec in sorted((subnets.get("public") or {}).items())]
        private = [(az, spec.get("id")) for az, spec in sorted((subnets.get("private") or {}).items())]
        ids = [subnet for _az, subnet in public + private if subnet]
        if not ids:
            raise EksctlError("vpc.subnets must be given by id when an existing VPC is used")
        try:
            described = aws.ec2.describe_subnets(SubnetIds=ids)["Subnets"]
        except Exception as exc:
            if error_code(exc):
                raise EksctlError(sdk_error(exc, "ec2", "DescribeSubnets")) from None
            raise
        vpc_ids = {s["VpcId"] for s in described}
        if vpc.get("id") and vpc_ids != {vpc["id"]}:
            raise EksctlError(f'given subnets are not in VPC "{vpc["id"]}"')
        vpc_id = vpc.get("id") or sorted(vpc_ids)[0]
        log.success(
            "using existing VPC (%s) and subnets (private:map[%s] public:map[%s])",
            vpc_id,
            " ".join(f"{az}:{{{s}}}" for az, s in private),
            " ".join(f"{az}:{{{s}}}" for az, s in public),
        )
        log.warning(
            "custom VPC/subnets will be used; if resulting cluster doesn't function as expected, make sure to "
            "review the configuration of VPC/subnets"
        )
        return {"create": False, "vpc_id": vpc_id, "public": public, "private": private}
    if vpc.get("id"):
        raise EksctlError("vpc.subnets must be set when vpc.id is set")
    cidr = ipaddress.ip_network(vpc.get("cidr") or "192.168.0.0/16", strict=False)
    parts = list(cidr.subnets(new_prefix=min(cidr.prefixlen + 3, 28)))
    log.info("setting availability zones to [%s]", " ".join(zones))
    plan = {"create": True, "cidr": str(cidr), "public": [], "private": []}
    for i, az in enumerate(zones):
        public, private = str(parts[i]), str(parts[len(zones) + i])
        plan["public"].append((az, public))
        plan["private"].append((az, private))
        log.info("subnets for %s - public:%s private:%s", az, public, private)
    return plan


def cmd_create_cluster(ctx):
    p = ctx.p
    log = ctx.log
    file = p.get("config-file")
    if file:
        incompatible_with_config(p, CREATE_CLUSTER_SHAPE_FLAGS)
        if p.args:
            raise EksctlError(f'cannot use name argument "{p.args[0]}" when {CONFIG_FLAG} is set')
        cfg = config.load(file)
        config.require_metadata(cfg)
    else:
        need_config(p, ["include", "exclude"])
        cfg = cluster_config_from_flags(p, resolve_region(p.get("region"), p.get("profile")))
    if p.get("dry-run"):
        for flag in DRY_RUN_REJECTED:
            if p.set(flag):
                raise EksctlError(f"cannot use --{flag} with --dry-run")
    meta = cfg["metadata"]
    name, region = meta["name"], meta["region"]
    version = meta.get("version") or catalog.DEFAULT_VERSION
    if version in ("auto", "default"):
        version = catalog.DEFAULT_VERSION
    elif version == "latest":
        version = catalog_versions()[-1]
    validate_version(version)
    groups = config.nodegroups(cfg, version)
    filt = config.Filter(p.get("include"), p.get("exclude"))
    filt.validate([g.name for g in groups])
    sim = ctx.model(region)
    zones = (
        pick_zones(sim.aws, cfg) if not (cfg.get("vpc") or {}).get("subnets") or cfg.get("availabilityZones") else []
    )
    if p.get("dry-run"):
        log.silent = True
        out = config.defaulted(cfg, zones, version)
        sys.stdout.write(_dry_run_yaml(out))
        return
    selected = [g for g in groups if filt.match(g.name)] if not p.get("without-nodegroup") else []
    skipped = [g.name for g in groups if g not in selected]

    version_banner(log, region)
    plan = vpc_plan(sim.aws, log, cfg, zones)
    for group in selected:
        for message in group.auto_messages:
            log.info(message)
        log.info(
            'nodegroup "%s" will use "%s" [%s/%s]',
            group.name,
            "" if group.managed else model.LINUX_AMI,
            group.ami_family,
            version,
        )
    log.info("using Kubernetes version %s", version)
    kinds = sorted({g.kind for g in selected})
    with_what = {
        ("managed",): " with managed nodes",
        ("unmanaged",): " with un-managed nodes",
        ("managed", "unmanaged"): " with managed and un-managed nodes",
    }.get(tuple(kinds), "")
    log.info('creating EKS cluster "%s" in "%s" region%s', name, region, with_what)
    config.log_filter(log, [], skipped)
    log.info(
        "will create a CloudFormation stack for cluster itself and %d nodegroup stack(s)",
        sum(1 for g in selected if not g.managed),
    )
    log.info(
        "will create a CloudFormation stack for cluster itself and %d managed nodegroup stack(s)",
        sum(1 for g in selected if g.managed),
    )
    log.info(
        "if you encounter any issues, check CloudFormation console or try "
        "'eksctl utils describe-stacks --region=%s --cluster=%s'",
        region,
        name,
    )
    endpoints = (cfg.get("vpc") or {}).get("clusterEndpoints") or {}
    log.info(
        "Kubernetes API endpoint access will use default of {publicAccess=%s, privateAccess=%s} for cluster "
        '"%s" in "%s"',
        str(endpoints.get("publicAccess", True) is not False).lower(),
        str(bool(endpoints.get("privateAccess"))).lower(),
        name,
        region,
    )
    log.info('CloudWatch logging will not be enabled for cluster "%s" in "%s"', name, region)
    sub = ["wait for control plane to become ready"] + [
        f'create {"managed " if g.managed else ""}nodegroup "{g.name}"' for g in selected
    ]
    log.info(
        '\n2 sequential tasks: { create cluster control plane "%s", \n    %d sequential sub-tasks: { \n        %s,\n    } \n}',
        name,
        len(sub),
        ",\n        ".join(sub),
    )

    stack_name = model.cluster_stack_name(name)
    log.info('building cluster stack "%s"', stack_name)

    def fail(errors):
        log.warning(
            "%d error(s) occurred and cluster hasn't been created properly, you may wish to check "
            "CloudFormation console",
            len(errors),
        )
        log.info("to cleanup resources, run 'eksctl delete cluster --region=%s --name=%s'", region, name)
        for error in errors:
            log.critical("%s\n", error)
        raise EksctlError(f'failed to create cluster "{name}"')

    if sim.stack(stack_name) is not None:
        fail(
            [
                f'creating CloudFormation stack "{stack_name}": '
                + api_error(
                    "cloudformation",
                    "CreateStack",
                    400,
                    "AlreadyExistsException",
                    f"Stack [{stack_name}] already exists",
                )
            ]
        )
    log.info('deploying stack "%s"', stack_name)
    deadline = ctx.clock.deadline(Clock.CLUSTER_CREATE)
    try:
        with model.cluster_lock(sim.aws, name):
            sim.create_control_plane(name, version, cfg, plan, deadline)
    except EksctlError as exc:
        fail([str(exc)])
    except Exception as exc:  # pylint: disable=broad-except
        if error_code(exc) != "ResourceInUseException":
            raise
        sim.delete_stack(stack_name)
        log.critical(
            'waiting for CloudFormation stack "%s": ResourceNotReady: failed waiting for successful resource state',
            stack_name,
        )
        log.info("fetching stack events in attempt to troubleshoot the root cause of the failure")
        log.critical(
            'AWS::EKS::Cluster/ControlPlane: CREATE_FAILED – "Resource handler returned message: \\"Cluster '
            'already exists with name: %s\\""',
            name,
        )
        fail(
            [
                f'waiting for CloudFormation stack "{stack_name}": ResourceNotReady: failed waiting for successful resource state'
            ]
        )
    try:
        ctx.budget(Clock.CLUSTER_CREATE, stack_name)
    except EksctlError as exc:
        fail([str(exc)])
    sim.wait([stack_name], deadline)
    cluster = sim.settle(name)
    iam = cfg.get("iam") or {}
    if iam.get("withOIDC"):
        with model.cluster_lock(sim.aws, name):
            sim.create_oidc_provider(cluster)
        log.success('created IAM Open ID Connect provider for cluster "%s" in "%s"', name, region)
        cluster = sim.find_cluster(name)
        for sa in iam.get("serviceAccounts") or []:
            sa_meta = sa.get("metadata") or {}
            namespace, sa_name = sa_meta.get("namespace") or "default", sa_meta.get("name")
            log.info('building iamserviceaccount stack "%s"', model.irsa_stack_name(name, namespace, sa_name))
            with model.cluster_lock(sim.aws, name):
                role = sim.create_irsa(
                    cluster,
                    namespace,
                    sa_name,
                    sa.get("attachPolicyARNs") or [],
                    sa.get("roleName"),
                    sa.get("tags") or {},
                    meta.get("tags") or {},
                )
            if sim.kube and not sa.get("roleOnly"):
                kube.annotate_service_account(sim.kube, namespace, sa_name, role, sa_meta.get("labels"))
                log.info('created serviceaccount "%s/%s"', namespace, sa_name)

    if selected:
        create_nodegroups(ctx, sim, cluster, selected, meta.get("tags") or {}, on_error=fail)
        cluster = sim.find_cluster(name)
    log.info("waiting for the control plane to become ready")

    kubeconfig_path = None
    if p.get("write-kubeconfig"):
        kubeconfig_path = (
            kube.auto_kubeconfig_path(name)
            if p.get("auto-kubeconfig")
            else (p.get("kubeconfig") or kube.default_kubeconfig_path())
        )
        kube.write_kubeconfig(
            kubeconfig_path,
            name,
            region,
            sim.aws.username(),
            cluster["endpoint"],
            cluster["certificateAuthority"]["data"],
            p.get("set-kubeconfig-context"),
        )
        log.success('saved kubeconfig as "%s"', kubeconfig_path)
    install_plugin(ctx, sim, cluster, selected)
    log.success('all EKS cluster resources for "%s" have been created', name)
    announce_nodes(ctx, sim, cluster, selected)
    if kubeconfig_path:
        log.info("kubectl command should work with \"%s\", try 'kubectl get nodes'", kubeconfig_path)
    log.success('EKS cluster "%s" in "%s" region is ready', name, region)


def _dry_run_yaml(doc):
    import yaml  # pylint: disable=import-outside-toplevel

    return yaml.safe_dump(doc, sort_keys=True, default_flow_style=False, width=1 << 20)


def create_nodegroups(ctx, sim, cluster, groups, meta_tags, on_error=None):
    """Create the stacks of `groups` in parallel (like --nodegroup-parallelism) and wait for them."""
    log = ctx.log
    deadline = ctx.clock.deadline(Clock.NODEGROUP_CREATE)
    names = []
    try:
        with model.cluster_lock(sim.aws, cluster["name"]):
            for group in groups:
                stack_name = model.nodegroup_stack_name(cluster["name"], group.name)
                log.info('building %snodegroup stack "%s"', "managed " if group.managed else "", stack_name)
                log.info('deploying stack "%s"', stack_name)
                sim.create_nodegroup(cluster, group, meta_tags, deadline)
                names.append(stack_name)
        ctx.budget(Clock.NODEGROUP_CREATE, names[0] if names else "")
    except EksctlError as exc:
        if on_error:
            on_error([str(exc)])
        raise
    sim.wait(names, deadline)
    sim.settle(cluster["name"])


def install_plugin(ctx, sim, cluster, groups):
    """The NVIDIA device plugin task eksctl runs once the node groups exist (pkg/eks/tasks.go)."""
    log = ctx.log
    gpu_groups = [g for g in groups if catalog.device_plugin_expected(g.ami_family, g.instance_type)]
    if gpu_groups and ctx.p.get("install-nvidia-plugin"):
        log.info("1 task: { install Nvidia device plugin }")
        if sim.kube:
            kube.install_device_plugin(sim.kube)
            kube.refresh_gpu_capacity(sim.kube, cluster["name"])
        log.info(
            "as you are using the EKS-Optimized Accelerated AMI with a GPU-enabled instance type, the Nvidia "
            "Kubernetes device plugin was automatically installed."
        )
        log.info("\tto skip installing it, use --install-nvidia-plugin=false.")
        return
    log.info("no tasks")
    if gpu_groups:
        log.info(
            "as you are using the EKS-Optimized Accelerated AMI with a GPU-enabled instance type, you will need to "
            "install the Nvidia Kubernetes device plugin."
        )
        log.info("\t see the following page for instructions: https://github.com/NVIDIA/k8s-device-plugin")


def announce_nodes(ctx, sim, cluster, groups):
    log = ctx.log
    for group in groups:
        if sim.kube:
            nodes = sim.kube.nodes(cluster["name"], group.name)
            log.info('nodegroup "%s" has %d node(s)', group.name, len(nodes))
            for node in nodes:
                log.info('node "%s" is ready', node["metadata"]["name"])
        else:
            log.info('nodegroup "%s" has %d node(s)', group.name, group.desired)
        if group.desired:
            log.info(
                'waiting for at least %d node(s) to become ready in "%s"', group.min_size or group.desired, group.name
            )


# ---------------------------------------------------------------------------------------------
# create nodegroup

CREATE_NG_SHAPE_FLAGS = [
    "cluster",
    "region",
    "version",
    "name",
    "node-type",
    "nodes",
    "nodes-min",
    "nodes-max",
    "node-volume-size",
    "node-ami-family",
    "node-labels",
    "node-private-networking",
    "managed",
]


def cmd_create_nodegroup(ctx):
    p = ctx.p
    log = ctx.log
    if p.get("config-file"):
        incompatible_with_config(p, CREATE_NG_SHAPE_FLAGS)
        cfg = config.load(p["config-file"])
        config.require_metadata(cfg)
    else:
        need_config(p, ["include", "exclude", "only-missing"])
        if not p.get("cluster"):
            raise EksctlError("--cluster must be set")
        region = resolve_region(p.get("region"), p.get("profile"))
        cfg = cluster_config_from_flags(p, region)
        cfg["metadata"]["name"] = p["cluster"]
        ng_key = "managedNodeGroups" if p.get("managed") else "nodeGroups"
        name = name_arg(p)
        if name:
            cfg[ng_key][0]["name"] = name
    if p.get("dry-run"):
        for flag in ("install-nvidia-plugin", "install-neuron-plugin", "profile", "timeout", "cfn-role-arn"):
            if p.set(flag):
                raise EksctlError(f"cannot use --{flag} with --dry-run")
    meta = cfg["metadata"]
    name, region = meta["name"], meta["region"]
    sim = ctx.model(region)
    cluster = sim.require_cluster(
        name, prefix="could not create cluster provider from options: unable to describe cluster control plane"
    )
    can_operate(cluster, region)
    version = cluster.get("version")
    groups = config.nodegroups(cfg, version)
    filt = config.Filter(p.get("include"), p.get("exclude"))
    filt.validate([g.name for g in groups])
    if p.get("dry-run"):
        log.silent = True
        sys.stdout.write(_dry_run_yaml(config.defaulted(cfg, [], version)))
        return
    for group in groups:
        for message in group.auto_messages:
            log.info(message)
        log.info(
            'nodegroup "%s" will use "%s" [%s/%s]',
            group.name,
            "" if group.managed else model.LINUX_AMI,
            group.ami_family,
            version,
        )
    existing = set(sim.cluster_stacks(name, "nodegroup")) | set(sim.managed_nodegroups(name))
    already = [g.name for g in groups if g.name in existing and filt.match(g.name)]
    if already:
        log.info("%d existing nodegroup(s) (%s) will be excluded", len(already), ",".join(already))
    selected = [g for g in groups if filt.match(g.name) and g.name not in existing]
    excluded = [g.name for g in groups if g not in selected]
    config.log_filter(log, [g.name for g in selected], excluded)
    unmanaged = [g for g in selected if not g.managed]
    managed = [g for g in selected if g.managed]
    if unmanaged:
        log.info('will create a CloudFormation stack for each of %d nodegroups in cluster "%s"', len(unmanaged), name)
    if managed:
        log.info(
            'will create a CloudFormation stack for each of %d managed nodegroups in cluster "%s"', len(managed), name
        )
    tasks = [f'create {"managed " if g.managed else ""}nodegroup "{g.name}"' for g in selected]
    if len(tasks) > 1:
        log.info("1 task: { %d parallel sub-tasks: { %s } }", len(tasks), ", ".join(tasks))
    elif tasks:
        log.info("1 task: { 1 task: { %s } }", tasks[0])
    else:
        log.info("no tasks")
    if selected:
        try:
            create_nodegroups(ctx, sim, cluster, selected, meta.get("tags") or {})
        except EksctlError as exc:
            log.critical("%s\n", exc)
            raise EksctlError(f'failed to create nodegroups for cluster "{name}"') from None
        cluster = sim.find_cluster(name)
    if selected:
        install_plugin(ctx, sim, cluster, selected)
    log.success('created %d nodegroup(s) in cluster "%s"', len(unmanaged), name)
    announce_nodes(ctx, sim, cluster, selected)
    log.success('created %d managed nodegroup(s) in cluster "%s"', len(managed), name)
    log.info("checking security group configuration for all nodegroups")
    log.info("all nodegroups have up-to-date cloudformation templates")


# ---------------------------------------------------------------------------------------------
# scale nodegroup


def cmd_scale_nodegroup(ctx):
    p = ctx.p
    log = ctx.log
    sizes = {
        "desired": p["nodes"] if p.set("nodes") else None,
        "min": p["nodes-min"] if p.set("nodes-min") else None,
        "max": p["nodes-max"] if p.set("nodes-max") else None,
    }
    if p.get("config-file"):
        incompatible_with_config(p, ["cluster", "region", "nodes", "nodes-min", "nodes-max"])
        cfg = config.load(p["config-file"])
        config.require_metadata(cfg)
        cluster_name, region = cfg["metadata"]["name"], cfg["metadata"]["region"]
        ng_name = name_arg(p)
        specs = (cfg.get("nodeGroups") or []) + (cfg.get("managedNodeGroups") or [])
        spec = next((s for s in specs if s.get("name") == ng_name), None)
        if spec is None:
            raise EksctlError(f"node group {ng_name} not found")
        sizes = {"desired": spec.get("desiredCapacity"), "min": spec.get("minSize"), "max": spec.get("maxSize")}
        if sizes["desired"] is None or sizes["desired"] < 0:
            raise EksctlError("number of nodes must be 0 or greater")
    else:
        cluster_name = p.get("cluster")
        if not cluster_name:
            raise EksctlError("--cluster must be set")
        ng_name = name_arg(p)
        if not ng_name:
            raise EksctlError("a config file is required when --name is not set or when scaling multiple nodegroups")
        validate_scale(sizes)
        region = resolve_region(p.get("region"), p.get("profile"))
    sim = ctx.model(region)
    cluster = sim.require_cluster(cluster_name)
    log.info('scaling nodegroup "%s" in cluster %s', ng_name, cluster_name)
    stack = sim.stack(model.nodegroup_stack_name(cluster_name, ng_name))
    unmanaged = stack is not None and model.tag_dict(stack.get("Tags")).get(model.TAG_NODEGROUP_TYPE) == "unmanaged"
    prefix = f'failed to scale nodegroup "{ng_name}" for cluster "{cluster_name}", error: '
    with model.cluster_lock(sim.aws, cluster_name):
        if unmanaged:
            asg = sim.asg_of(stack["StackName"])
            if asg is None:
                raise EksctlError(prefix + "failed to find NodeGroup auto scaling group")
            params = {"AutoScalingGroupName": asg["AutoScalingGroupName"]}
            for key, arg in (("desired", "DesiredCapacity"), ("min", "MinSize"), ("max", "MaxSize")):
                if sizes[key] is not None:
                    params[arg] = sizes[key]
            merged = {
                "min": asg["MinSize"],
                "max": asg["MaxSize"],
                "desired": asg["DesiredCapacity"],
                **{k: v for k, v in sizes.items() if v is not None},
            }
            if not merged["min"] <= merged["desired"] <= merged["max"]:
                raise EksctlError(
                    prefix
                    + api_error(
                        "autoscaling",
                        "UpdateAutoScalingGroup",
                        400,
                        "ValidationError",
                        f"Desired capacity:{merged['desired']} must be between the specified min size:{merged['min']} "
                        f"and max size:{merged['max']}",
                    )
                )
            try:
                sim.aws.asg.update_auto_scaling_group(**params)
            except Exception as exc:
                if error_code(exc):
                    raise EksctlError(prefix + sdk_error(exc, "autoscaling", "UpdateAutoScalingGroup")) from None
                raise
        else:
            group = sim.nodegroup(cluster_name, ng_name)
            scaling = {
                k2: sizes[k1]
                for k1, k2 in (("desired", "desiredSize"), ("min", "minSize"), ("max", "maxSize"))
                if sizes[k1] is not None
            }
            if group is not None:
                current = group.get("scalingConfig") or {}
                merged = {**current, **scaling}
                problem = None
                if merged.get("maxSize", 1) < 1:
                    problem = "Maximum capacity should be greater than or equal to 1."
                elif merged.get("minSize", 0) > merged.get("maxSize", 0):
                    problem = "Minimum capacity %d can't be greater than max size %d" % (
                        merged["minSize"],
                        merged["maxSize"],
                    )
                elif merged.get("desiredSize", 0) > merged.get("maxSize", 0):
                    problem = "Desired capacity %d can't be greater than max size %d" % (
                        merged["desiredSize"],
                        merged["maxSize"],
                    )
                elif merged.get("desiredSize", 0) < merged.get("minSize", 0):
                    problem = "Minimum capacity %d can't be greater than desired size %d" % (
                        merged["minSize"],
                        merged["desiredSize"],
                    )
                if problem:
                    raise EksctlError(
                        prefix + api_error("eks", "UpdateNodegroupConfig", 400, "InvalidParameterException", problem)
                    )
            try:
                sim.aws.eks.update_nodegroup_config(
                    clusterName=cluster_name, nodegroupName=ng_name, scalingConfig=scaling
                )
            except Exception as exc:
                if error_code(exc):
                    raise EksctlError(prefix + sdk_error(exc, "eks", "UpdateNodegroupConfig")) from None
                raise
        sim.sync_nodes(cluster, ng_name, announce=False)
    log.info("initiated scaling of nodegroup")
    if p.get("wait"):
        log.info('waiting for scaling of nodegroup "%s" to complete', ng_name)
        log.info("nodegroup successfully scaled")
    else:
        log.info(
            "to see the status of the scaling run `eksctl get nodegroup --cluster %s --region %s --name %s`",
            cluster_name,
            region,
            ng_name,
        )


def validate_scale(sizes):
    desired, minimum, maximum = sizes["desired"], sizes["min"], sizes["max"]
    if desired is None and minimum is None and maximum is None:
        raise EksctlError("at least one of minimum, maximum and desired nodes must be set")
    if desired is not None and desired < 0:
        raise EksctlError("number of nodes must be 0 or greater")
    if minimum is not None and minimum < 0:
        raise EksctlError("minimum of nodes must be 0 or greater")
    if maximum is not None and maximum < 0:
        raise EksctlError("maximum of nodes must be 0 or greater")
    if maximum is not None and minimum is not None and maximum < minimum:
        raise EksctlError("maximum number of nodes must be greater than minimum number of nodes")
    if maximum is not None and desired is not None and maximum < desired:
        raise EksctlError("maximum number of nodes must be greater than or equal to number of nodes")
    if minimum is not None and desired is not None and minimum > desired:
        raise EksctlError("minimum number of nodes must be fewer than or equal to number of nodes")


# ---------------------------------------------------------------------------------------------
# delete nodegroup


def cmd_delete_nodegroup(ctx):
    p = ctx.p
    log = ctx.log
    if p.get("config-file"):
        incompatible_with_config(p, ["cluster", "region", "name"])
        cfg = config.load(p["config-file"])
        config.require_metadata(cfg)
        cluster_name, region = cfg["metadata"]["name"], cfg["metadata"]["region"]
        plan_mode = not p.get("approve")
    else:
        need_config(p, ["include", "exclude", "only-missing"])
        if p.get("approve"):
            raise EksctlError(f"cannot use --approve unless a config file is specified via {CONFIG_FLAG}")
        cluster_name = p.get("cluster")
        if not cluster_name:
            raise EksctlError("--cluster must be set")
        region = resolve_region(p.get("region"), p.get("profile"))
        plan_mode = False
        cfg = None
    sim = ctx.model(region)
    cluster = sim.require_cluster(cluster_name)
    stacks = sim.cluster_stacks(cluster_name, "nodegroup")
    if cfg is not None:
        filt = config.Filter(p.get("include"), p.get("exclude"))
        local = [g.get("name") for g in (cfg.get("nodeGroups") or []) + (cfg.get("managedNodeGroups") or [])]
        remote = sorted(set(stacks) | set(sim.managed_nodegroups(cluster_name)))
        if p.get("only-missing"):
            names = [n for n in remote if n not in local and filt.match(n)]
        else:
            filt.validate(local)
            names = [n for n in local if filt.match(n) and n in remote]
    else:
        ng_name = name_arg(p)
        if not ng_name:
            raise EksctlError("--name must be set")
        if ng_name not in stacks and sim.nodegroup(cluster_name, ng_name) is None:
            try:
                sim.aws.eks.describe_nodegroup(clusterName=cluster_name, nodegroupName=ng_name)
            except Exception as exc:
                if error_code(exc):
                    raise EksctlError(sdk_error(exc, "eks", "DescribeNodegroup")) from None
                raise
        names = [ng_name]
    config.log_filter(log, names, [])
    if p.get("drain") and names:
        can_operate(cluster, region)
        log.info('will drain %d nodegroup(s) in cluster "%s"', len(names), cluster_name)
        log.info("starting parallel draining, max in-flight of %d", p.get("parallel") or 1)
        if not plan_mode and sim.kube:
            for ng_name in names:
                nodes = [n["metadata"]["name"] for n in sim.kube.nodes(cluster_name, ng_name)]
                kube.drain(sim.kube, log, nodes)
    log.info('will delete %d nodegroups from cluster "%s"', len(names), cluster_name)
    suffix = "" if p.get("wait") else " [async]"
    inner = ", ".join(f'delete nodegroup "{n}"{suffix}' for n in names)
    if len(names) > 1:
        log.info("1 task: { %d parallel sub-tasks: { %s } }", len(names), inner)
    elif names:
        log.info("1 task: { 1 task: { %s } }", inner)
    else:
        log.info("no tasks")
    if plan_mode:
        log.warning(PLAN_WARNING)
        return
    deadline = ctx.clock.deadline(Clock.NODEGROUP_DELETE)
    stack_names = []
    with model.cluster_lock(sim.aws, cluster_name):
        for ng_name in names:
            stack_name = model.nodegroup_stack_name(cluster_name, ng_name)
            if ng_name in stacks:
                log.info('will delete stack "%s"', stack_name)
                stack_names.append(stack_name)
            sim.set_marker(cluster["arn"], model.NG_MARKER_PREFIX + ng_name, "DELETING", deadline)
    if p.get("wait"):
        ctx.budget(Clock.NODEGROUP_DELETE, stack_names[0] if stack_names else cluster_name, "StackDeleteComplete")
        for stack_name in stack_names:
            log.info('waiting for stack "%s" to get deleted', stack_name)
        sim.wait(stack_names, deadline)
    sim.settle(cluster_name)
    log.info('will delete 0 nodegroups from auth ConfigMap in cluster "%s"', cluster_name)
    log.success('deleted %d nodegroup(s) from cluster "%s"', len(names), cluster_name)


# ---------------------------------------------------------------------------------------------
# delete cluster


def cmd_delete_cluster(ctx):
    p = ctx.p
    log = ctx.log
    if p.get("config-file"):
        incompatible_with_config(p, ["name", "region"])
        cfg = config.load(p["config-file"])
        config.require_metadata(cfg)
        name, region = cfg["metadata"]["name"], cfg["metadata"]["region"]
    else:
        name = name_arg(p)
        if not name:
            raise EksctlError("--name must be set")
        region = resolve_region(p.get("region"), p.get("profile"))
    sim = ctx.model(region)
    cluster = sim.require_cluster(name)
    log.info('deleting EKS cluster "%s"', name)
    stack_name = model.cluster_stack_name(name)
    owned = sim.stack(stack_name) is not None
    ng_stacks = sim.cluster_stacks(name, "nodegroup")
    unmanaged = [
        n for n, s in ng_stacks.items() if model.tag_dict(s.get("Tags")).get(model.TAG_NODEGROUP_TYPE) != "managed"
    ]
    groups = sorted(set(ng_stacks) | set(sim.managed_nodegroups(name)))
    log.info('will drain %d unmanaged nodegroup(s) in cluster "%s"', len(unmanaged), name)
    log.info("starting parallel draining, max in-flight of %d", p.get("parallel") or 1)
    if sim.kube and not p.get("disable-nodegroup-eviction"):
        for ng_name in unmanaged:
            kube.drain(sim.kube, log, [n["metadata"]["name"] for n in sim.kube.nodes(name, ng_name)])
    log.info("deleted 0 Fargate profile(s)")
    if kube.remove_from_kubeconfig(kube.default_kubeconfig_path(), name, region):
        log.success("kubeconfig has been updated")
    log.info("cleaning up AWS load balancers created by Kubernetes objects of Kind Service or Ingress")
    tasks = [f'delete nodegroup "{n}"' for n in groups]
    irsa = sorted(sim.cluster_stacks(name, "irsa"))
    if irsa:
        tasks.append(
            f"{len(irsa)} parallel sub-tasks: {{ "
            + ", ".join(f'delete IAM role for serviceaccount "{k}"' for k in irsa)
            + " }"
        )
    if (cluster.get("tags") or {}).get(model.TAG_OIDC) == "true":
        tasks.append("delete IAM OIDC provider")
    tasks.append(f'delete cluster control plane "{name}"' + ("" if p.get("wait") else " [async]"))
    log.info("\n%d sequential tasks: { %s \n}", len(tasks), ", ".join(tasks))
    if groups:
        deadline = ctx.clock.deadline(Clock.NODEGROUP_DELETE)
        with model.cluster_lock(sim.aws, name):
            for ng_name in groups:
                sim.set_marker(cluster["arn"], model.NG_MARKER_PREFIX + ng_name, "DELETING", deadline)
        waiting = [model.nodegroup_stack_name(name, n) for n in groups if n in ng_stacks]
        ctx.budget(Clock.NODEGROUP_DELETE, waiting[0] if waiting else name, "StackDeleteComplete")
        for stack in waiting:
            log.info('will delete stack "%s"', stack)
            log.info('waiting for stack "%s" to get deleted', stack)
        sim.wait(waiting, deadline)
        sim.settle(name)
    for key in irsa:
        log.info('will delete stack "%s"', model.irsa_stack_name(name, *key.split("/", 1)))
    deadline = ctx.clock.deadline(Clock.CLUSTER_DELETE)
    with model.cluster_lock(sim.aws, name):
        cluster = sim.find_cluster(name)
        sim.set_marker(cluster["arn"], model.CLUSTER_MARKER, "DELETING", deadline)
    if owned:
        log.info('will delete stack "%s"', stack_name)
    if p.get("wait"):
        ctx.budget(Clock.CLUSTER_DELETE, stack_name, "StackDeleteComplete")
        log.info('waiting for stack "%s" to get deleted', stack_name)
        sim.wait([stack_name], deadline)
    sim.settle(name)
    log.success("all cluster resources were deleted")


# ---------------------------------------------------------------------------------------------
# upgrade cluster


def cmd_upgrade_cluster(ctx):
    p = ctx.p
    log = ctx.log
    if p.get("config-file"):
        incompatible_with_config(p, ["name", "region", "version"])
        cfg = config.load(p["config-file"])
        config.require_metadata(cfg)
        name, region = cfg["metadata"]["name"], cfg["metadata"]["region"]
        desired = cfg["metadata"].get("version") or ""
    else:
        name = name_arg(p)
        if not name:
            raise EksctlError("--name must be set")
        region = resolve_region(p.get("region"), p.get("profile"))
        desired = p.get("version") or ""
    sim = ctx.model(region)
    cluster = sim.require_cluster(name)
    status = model.cluster_status(cluster)
    if status != "ACTIVE":
        raise EksctlError(f'cannot update cluster "{name}" in "{region}" region due to status "{status}"')
    current = cluster["version"]
    target = resolve_upgrade(log, desired, current)
    if target:
        verb = "roll back" if vkey(target) < vkey(current) else "upgrade"
        if not p.get("approve"):
            log.info(
                '(plan) would %s cluster "%s" control plane from current version "%s" to "%s"',
                verb,
                name,
                current,
                target,
            )
        else:
            log.info(
                'will %s cluster "%s" control plane from current version "%s" to "%s"', verb, name, current, target
            )
            deadline = ctx.clock.deadline(Clock.CLUSTER_UPGRADE)
            with model.cluster_lock(sim.aws, name):
                sim.set_marker(cluster["arn"], model.CLUSTER_MARKER, "UPDATING", deadline, target)
            ctx.budget(Clock.CLUSTER_UPGRADE, model.cluster_stack_name(name), "ClusterActive")

            def poll():
                log.info('waiting for requested "VersionUpdate" in cluster "%s" to succeed', name)

            ctx.clock.wait_until(deadline, poll)
            sim.settle(name)
            log.success('cluster "%s" control plane has been upgraded to version "%s"', name, target)
            log.info("you will need to follow the upgrade procedure for all of nodegroups and add-ons")
    else:
        log.info("no cluster version update required")
    stack = model.cluster_stack_name(name)
    if sim.stack(stack):
        log.info('re-building cluster stack "%s"', stack)
        log.success('all resources in cluster stack "%s" are up-to-date', stack)
    log.info("checking security group configuration for all nodegroups")
    log.info("all nodegroups have up-to-date cloudformation templates")
    if target and not p.get("approve"):
        log.warning(PLAN_WARNING)


def resolve_upgrade(log, desired, current):
    """ClusterVersionsManager.ResolveUpgradeVersion of v0.230.0 (with its one-step roll back)."""
    supported = catalog_versions()
    if vkey(current) < vkey(supported[0]):
        raise EksctlError(f'control plane version "{current}" has been deprecated')
    if current not in supported:
        raise EksctlError(f'control plane version "{current}" is not supported')
    index = supported.index(current)
    next_version = supported[index + 1] if index + 1 < len(supported) else ""
    if desired in ("", "auto"):
        if not next_version:
            log.info('control plane is already on latest version "%s"', current)
        return next_version
    try:
        wanted = vkey(desired)
    except ValueError:
        raise EksctlError(f"couldn't compare versions for upgrade: invalid version {desired!r}") from None
    if wanted < vkey(current):
        previous = supported[index - 1] if index > 0 else ""
        if desired == previous:
            return desired
        raise EksctlError(
            f'cannot upgrade to a lower version. Found given target version "{desired}", current cluster version "{current}"'
        )
    if wanted < vkey(supported[0]):
        raise EksctlError(f'control plane version "{desired}" has been deprecated')
    if desired not in supported:
        raise EksctlError(f'control plane version "{desired}" is not supported')
    if desired == current:
        return ""
    if desired == next_version:
        return desired
    raise EksctlError(
        f'upgrading more than one version at a time is not supported. Found upgrade from "{current}" to "{desired}". '
        f'Please upgrade to "{next_version}" first'
    )


# ---------------------------------------------------------------------------------------------
# utils associate-iam-oidc-provider / write-kubeconfig


def _cluster_and_region(p, flag="cluster"):
    if p.get("config-file"):
        incompatible_with_config(p, [flag, "region", "name"])
        cfg = config.load(p["config-file"])
        config.require_metadata(cfg)
        return cfg, cfg["metadata"]["name"], cfg["metadata"]["region"]
    name = p.get(flag) or p.get("name")
    if p.args:
        if name:
            raise EksctlError(f"--{flag}={name} and argument {p.args[0]} cannot be used at the same time")
        name = p.args[0]
    if not name:
        raise EksctlError(f"--{flag} must be set")
    return None, name, resolve_region(p.get("region"), p.get("profile"))


def cmd_associate_oidc(ctx):
    p = ctx.p
    log = ctx.log
    cfg, name, region = _cluster_and_region(p)
    if cfg is not None and not (cfg.get("iam") or {}).get("withOIDC"):
        raise EksctlError(f"'iam.withOIDC' is not enabled in \"{p['config-file']}\"")
    sim = ctx.model(region)
    cluster = sim.require_cluster(name)
    if sim.oidc_associated(cluster):
        log.info('IAM Open ID Connect provider is already associated with cluster "%s" in "%s"', name, region)
        return
    if not p.get("approve"):
        log.info('(plan) would create IAM Open ID Connect provider for cluster "%s" in "%s"', name, region)
        log.warning(PLAN_WARNING)
        return
    log.info('will create IAM Open ID Connect provider for cluster "%s" in "%s"', name, region)
    with model.cluster_lock(sim.aws, name):
        sim.create_oidc_provider(cluster)
    log.success('created IAM Open ID Connect provider for cluster "%s" in "%s"', name, region)


def cmd_write_kubeconfig(ctx):
    p = ctx.p
    log = ctx.log
    name, region = _cluster_and_region(p)[1:]
    sim = ctx.model(region)
    cluster = sim.require_cluster(name)
    if p.get("auto-kubeconfig"):
        if p.set("kubeconfig"):
            raise EksctlError("--kubeconfig and --auto-kubeconfig cannot be used at the same time")
        path = kube.auto_kubeconfig_path(name)
    else:
        path = p.get("kubeconfig") or kube.default_kubeconfig_path()
    kube.write_kubeconfig(
        path,
        name,
        region,
        sim.aws.username(),
        cluster.get("endpoint") or "",
        (cluster.get("certificateAuthority") or {}).get("data") or "",
        p.get("set-kubeconfig-context"),
    )
    log.success('saved kubeconfig as "%s"', path)


# ---------------------------------------------------------------------------------------------
# iamserviceaccount


def _irsa_target(p):
    cluster = p.get("cluster")
    if p.get("config-file"):
        raise EksctlError("eksctl simulator: iamserviceaccount commands take flags only (no --config-file)")
    if not cluster:
        raise EksctlError("--cluster must be set")
    name = name_arg(p)
    if not name:
        raise EksctlError("--name must be set")
    return cluster, p.get("namespace") or "default", name, resolve_region(p.get("region"), p.get("profile"))


def cmd_create_iamserviceaccount(ctx):
    p = ctx.p
    log = ctx.log
    cluster_name, namespace, name, region = _irsa_target(p)
    policies = list(dict.fromkeys(p.get("attach-policy-arn") or []))
    role_arn = p.get("attach-role-arn")
    if not policies and not role_arn:
        raise EksctlError("--attach-policy-arn or --attach-role-arn must be set")
    if role_arn and (policies or p.get("role-name")):
        raise EksctlError("--attach-role-arn cannot be used with --attach-policy-arn or --role-name")
    sim = ctx.model(region)
    cluster = sim.require_cluster(cluster_name)
    can_operate(cluster, region)
    if not sim.oidc_associated(cluster):
        log.warning(
            "no IAM OIDC provider associated with cluster, try 'eksctl utils associate-iam-oidc-provider "
            "--region=%s --cluster=%s'",
            region,
            cluster_name,
        )
        raise EksctlError("unable to create iamserviceaccount(s) without IAM OIDC provider enabled")
    key = f"{namespace}/{name}"
    existing = key in sim.cluster_stacks(cluster_name, "irsa")
    if existing:
        log.info("1 existing iamserviceaccount(s) (%s) will be excluded", key)
        config.log_filter(log, [], [key], "iamserviceaccount")
    else:
        config.log_filter(log, [key], [], "iamserviceaccount")
    override = p.get("override-existing-serviceaccounts")
    if p.get("role-only"):
        log.warning(
            "serviceaccounts in Kubernetes will not be created or modified, since the option --role-only is used"
        )
    elif override:
        log.warning(
            "metadata of serviceaccounts that exist in Kubernetes will be updated, as "
            "--override-existing-serviceaccounts was set"
        )
    else:
        log.warning(
            "serviceaccounts that exist in Kubernetes will be excluded, use --override-existing-serviceaccounts "
            "to override"
        )
    if existing:
        log.info("no tasks")
        return
    sub = [] if role_arn else [f'create IAM role for serviceaccount "{key}"']
    if not p.get("role-only"):
        sub.append(f'create serviceaccount "{key}"')
    log.info("1 task: { \n    %d sequential sub-tasks: { \n        %s,\n    } }", len(sub), ",\n        ".join(sub))
    if not p.get("approve"):
        log.warning(PLAN_WARNING)
        return
    created_role = role_arn
    if not role_arn:
        stack_name = model.irsa_stack_name(cluster_name, namespace, name)
        log.info('building iamserviceaccount stack "%s"', stack_name)
        log.info('deploying stack "%s"', stack_name)
        log.info('waiting for CloudFormation stack "%s"', stack_name)
        with model.cluster_lock(sim.aws, cluster_name):
            created_role = sim.create_irsa(
                cluster, namespace, name, policies, p.get("role-name"), dict(p.get("tags") or {}), {}
            )
    if not p.get("role-only") and sim.kube:
        current = kube.service_account(sim.kube, namespace, name)
        if current is not None and not override:
            log.info('serviceaccount "%s" already exists', key)
        else:
            kube.annotate_service_account(sim.kube, namespace, name, created_role)
            log.info('%s serviceaccount "%s"', "updated" if current is not None else "created", key)
    elif not p.get("role-only"):
        log.info('created serviceaccount "%s"', key)


def cmd_update_iamserviceaccount(ctx):
    p = ctx.p
    log = ctx.log
    cluster_name, namespace, name, region = _irsa_target(p)
    policies = list(dict.fromkeys(p.get("attach-policy-arn") or []))
    if not policies:
        raise EksctlError("--attach-policy-arn must be set")
    sim = ctx.model(region)
    cluster = sim.require_cluster(cluster_name)
    can_operate(cluster, region)
    key = f"{namespace}/{name}"
    if key not in sim.cluster_stacks(cluster_name, "irsa"):
        log.info("no iamserviceaccounts found")
        raise EksctlError(
            f'failed to find iamserviceaccount "{key}" stack; use "eksctl create iamserviceaccount" first'
        )
    config.log_filter(log, [key], [], "iamserviceaccount")
    stack_name = model.irsa_stack_name(cluster_name, namespace, name)
    log.info(
        '1 task: { \n    2 sequential sub-tasks: { \n        update IAM role for serviceaccount "%s",\n        '
        'create serviceaccount "%s",\n    } }',
        key,
        key,
    )
    if not p.get("approve"):
        log.warning(PLAN_WARNING)
        return
    log.info('updating IAM role stack "%s"', stack_name)
    with model.cluster_lock(sim.aws, cluster_name):
        changed = sim.update_irsa(cluster, namespace, name, policies)
    if changed:
        log.info('waiting for CloudFormation stack "%s"', stack_name)
    else:
        log.info('nothing to update in stack "%s"', stack_name)


def cmd_delete_iamserviceaccount(ctx):
    p = ctx.p
    log = ctx.log
    cluster_name, namespace, name, region = _irsa_target(p)
    sim = ctx.model(region)
    cluster = sim.require_cluster(cluster_name)
    can_operate(cluster, region)
    if not sim.oidc_provider_exists(cluster):
        raise EksctlError("unable to delete iamserviceaccount(s) without IAM OIDC provider enabled")
    key = f"{namespace}/{name}"
    config.log_filter(log, [key], [], "iamserviceaccount")
    stack_name = model.irsa_stack_name(cluster_name, namespace, name)
    exists = sim.stack(stack_name) is not None
    sub = (
        [f'delete IAM role for serviceaccount "{key}"' + ("" if p.get("wait") else " [async]")] if exists else []
    ) + [f'delete serviceaccount "{key}"']
    log.info("1 task: { \n    %d sequential sub-tasks: { \n        %s,\n    } }", len(sub), ",\n        ".join(sub))
    with model.cluster_lock(sim.aws, cluster_name):
        if exists:
            log.info('will delete stack "%s"', stack_name)
            if p.get("wait"):
                log.info('waiting for stack "%s" to get deleted', stack_name)
        sim.delete_irsa_now(cluster_name, namespace, name)
    log.info('deleted serviceaccount "%s"', key)


def cmd_get_iamserviceaccount(ctx):
    p = ctx.p
    output = p.get("output")
    check_output(output)
    cluster_name = p.get("cluster")
    if not cluster_name:
        raise EksctlError("--cluster must be set")
    only = name_arg(p)
    namespace = p.get("namespace")
    region = resolve_region(p.get("region"), p.get("profile"))
    sim = ctx.model(region)
    sim.require_cluster(cluster_name)
    items = []
    for key, stack in sorted(sim.cluster_stacks(cluster_name, "irsa").items()):
        ns, name = key.split("/", 1)
        if (namespace and ns != namespace) or (only and name != only):
            continue
        status = {"roleARN": sim.outputs(stack).get("Role1"), "stackName": stack["StackName"]}
        # eksctl re-creates the map/list inside its loop, so only the last tag and capability survive.
        tags = stack.get("Tags") or []
        if tags:
            status["tags"] = {tags[-1]["Key"]: tags[-1]["Value"]}
        capabilities = stack.get("Capabilities") or sim.irsa_capabilities(stack)
        if capabilities:
            status["capabilities"] = [capabilities[-1]]
        items.append(
            {
                "metadata": {"name": name, "namespace": ns},
                "wellKnownPolicies": {
                    k: False
                    for k in (
                        "imageBuilder",
                        "autoScaler",
                        "awsLoadBalancerController",
                        "externalDNS",
                        "certManager",
                        "ebsCSIController",
                        "efsCSIController",
                    )
                },
                "status": status,
            }
        )
    if output == "table":
        rows = [["NAMESPACE", "NAME", "ROLE ARN"]] + [
            [i["metadata"]["namespace"], i["metadata"]["name"], i["status"]["roleARN"]] for i in items
        ]
        sys.stdout.write(tabwriter(rows))
    else:
        print_document(items, output)
