"""The AWS Load Balancer Controller (v2) of the sandbox: ALB-class Ingresses get an ALB in the sandbox AWS.

What it does, for every Ingress of class `alb` (annotation `kubernetes.io/ingress.class: alb`, which
wins over `spec.ingressClassName`; or `spec.ingressClassName: alb`; or an IngressClass whose
`spec.controller` is `ingress.k8s.aws/alb`, named by the Ingress or marked the default class), when
the server's environment names a sandbox AWS (`AWS_ENDPOINT_URL`, region `AWS_REGION` /
`AWS_DEFAULT_REGION`, credentials `AWS_ACCESS_KEY_ID` ...):

- finds its load balancer by the tags the real controller puts on it: `elbv2.k8s.aws/cluster=<cluster>`
  and `ingress.k8s.aws/stack=<namespace>/<name>` (also `ingress.k8s.aws/resource=LoadBalancer` and
  the annotation `alb.ingress.kubernetes.io/tags`), or creates it: an `application` load balancer
  named `k8s-<namespace>-<name>-<hash>` (at most 32 characters), scheme from
  `alb.ingress.kubernetes.io/scheme` (default `internal`, as upstream), IP address type from
  `alb.ingress.kubernetes.io/ip-address-type`, in the subnets of `alb.ingress.kubernetes.io/subnets`
  (IDs or Name tags) or else the subnets tagged `kubernetes.io/role/elb` (internet-facing) or
  `kubernetes.io/role/internal-elb` (internal) in the cluster's VPC, one per zone, at least two zones;
  without such subnets the default VPC's subnets are used, unless KUBE_SANDBOX_ALB_STRICT_SUBNETS=1
  (then, as on AWS, no load balancer and a retry every KUBE_SANDBOX_ALB_RETRY seconds);
- a scheme change replaces the load balancer (a new one, then the old one deleted), as upstream;
- certificates named by `alb.ingress.kubernetes.io/certificate-arn` must exist in ACM and be ISSUED
  before the load balancer is made (retried every KUBE_SANDBOX_ALB_RETRY seconds until they are);
- writes `status.loadBalancer.ingress[0].hostname` = the load balancer's DNSName, so that
  `elbv2.describe_load_balancers()` finds it by that name with its CanonicalHostedZoneId;
- holds the Ingress with the finalizer `ingress.k8s.aws/resources`; deleting the Ingress deletes
  its load balancer(s), then the finalizer is removed and the Ingress is gone.

The cluster name comes from KUBE_SANDBOX_CLUSTER_NAME, else the `--cluster-name` argument of the
`aws-load-balancer-controller` Deployment (with `$(VAR)` taken from the container's env or its
ConfigMap), else the `alpha.eksctl.io/cluster-name` label of a Node, else `sandbox`.

Timing: KUBE_SANDBOX_ALB_DELAY seconds after an Ingress changes (AWS: 2-5 minutes to provision),
KUBE_SANDBOX_ALB_DELETE_DELAY seconds after a DELETE (both default 0; read when the server starts).

Not modelled: listeners, rules, target groups, security groups, Cognito authentication, IngressGroups
(`alb.ingress.kubernetes.io/group.name`: each Ingress gets its own load balancer), Events.
"""

from __future__ import annotations

import hashlib
import re
import sys

from tests.sandbox.standins.k8s.controllers import controller

from .common import aws_client, aws_enabled, flag, import_seconds, seconds

ALB_CONTROLLER = "ingress.k8s.aws/alb"
FINALIZER = "ingress.k8s.aws/resources"
TAG_CLUSTER = "elbv2.k8s.aws/cluster"
TAG_STACK = "ingress.k8s.aws/stack"
TAG_RESOURCE = "ingress.k8s.aws/resource"
ANNOTATION = "alb.ingress.kubernetes.io/"
SCHEMES = ("internal", "internet-facing")
CONTROLLER_DEPLOYMENT = "aws-load-balancer-controller"
EKSCTL_CLUSTER_LABEL = "alpha.eksctl.io/cluster-name"

ALB_DELAY = import_seconds("KUBE_SANDBOX_ALB_DELAY")
ALB_DELETE_DELAY = import_seconds("KUBE_SANDBOX_ALB_DELETE_DELAY")


class NotYet(Exception):
    """The load balancer cannot be made yet (the reason is logged, the Ingress retried)."""


def _log(text: str) -> None:
    print(f"aws-load-balancer-controller: {text}", file=sys.stderr, flush=True)


def _retry(view) -> None:
    view.requeue(after=seconds(view.settings, "KUBE_SANDBOX_ALB_RETRY", 1.0) or 1.0)


# --------------------------------------------------------------------------- which Ingresses, which cluster


def is_alb_ingress(obj: dict, view) -> bool:
    annotations = obj["metadata"].get("annotations") or {}
    if "kubernetes.io/ingress.class" in annotations:
        return annotations["kubernetes.io/ingress.class"] == "alb"
    class_name = (obj.get("spec") or {}).get("ingressClassName")
    classes = view.list("networking.k8s.io", "IngressClass")
    if class_name:
        if class_name == "alb":
            return True
        return any(
            c["metadata"]["name"] == class_name and (c.get("spec") or {}).get("controller") == ALB_CONTROLLER
            for c in classes
        )
    return any(
        (c["metadata"].get("annotations") or {}).get("ingressclass.kubernetes.io/is-default-class") == "true"
        and (c.get("spec") or {}).get("controller") == ALB_CONTROLLER
        for c in classes
    )


def _container_env(view, container: dict, namespace: str) -> dict:
    env = {}
    for item in container.get("env") or []:
        if "value" in item:
            env[item["name"]] = str(item["value"])
            continue
        ref = (item.get("valueFrom") or {}).get("configMapKeyRef") or {}
        config = view.get("", "ConfigMap", ref.get("name", ""), namespace) if ref else None
        if config is not None and ref.get("key") in (config.get("data") or {}):
            env[item["name"]] = config["data"][ref["key"]]
    return env


def controller_args(view) -> dict:
    """`--flag=value` arguments of the aws-load-balancer-controller Deployment, `$(VAR)` expanded."""
    for deployment in view.list("apps", "Deployment"):
        if deployment["metadata"]["name"] != CONTROLLER_DEPLOYMENT:
            continue
        pod = ((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}
        for container in pod.get("containers") or []:
            env = _container_env(view, container, deployment["metadata"].get("namespace", ""))
            args = {}
            for arg in container.get("args") or []:
                if not str(arg).startswith("--") or "=" not in str(arg):
                    continue
                key, value = str(arg)[2:].split("=", 1)
                args[key] = re.sub(r"\$\((\w+)\)", lambda m, env=env: env.get(m.group(1), m.group(0)), value)
            if "cluster-name" in args:
                return args
    return {}


def cluster_name(view) -> str:
    if view.settings.get("KUBE_SANDBOX_CLUSTER_NAME"):
        return view.settings["KUBE_SANDBOX_CLUSTER_NAME"]
    name = controller_args(view).get("cluster-name", "")
    if name and "$(" not in name:
        return name
    for node in view.list("", "Node"):
        label = (node["metadata"].get("labels") or {}).get(EKSCTL_CLUSTER_LABEL)
        if label:
            return label
    return "sandbox"


def load_balancer_name(cluster: str, namespace: str, name: str, scheme: str) -> str:
    """`k8s-<namespace>-<name>-<hash>`: 8 letters or digits of each, 10 hex digits of a hash (32 at most)."""
    digest = hashlib.sha256(f"{cluster}/{namespace}/{name}/{scheme}".encode()).hexdigest()[:10]

    def short(text):
        return re.sub(r"[^A-Za-z0-9]", "", text)[:8]

    return f"k8s-{short(namespace)}-{short(name)}-{digest}"


def _tags_annotation(annotations: dict) -> dict:
    tags = {}
    for item in (annotations.get(ANNOTATION + "tags") or "").split(","):
        if "=" in item:
            key, value = item.split("=", 1)
            tags[key.strip()] = value.strip()
    return tags


# --------------------------------------------------------------------------- AWS side


def owned_load_balancers(elb, cluster: str, stack: str) -> list:
    """Load balancers tagged for this cluster and stack, with their tags under "Tags"."""
    balancers = []
    for page in elb.get_paginator("describe_load_balancers").paginate():
        balancers += page["LoadBalancers"]
    found = []
    for start in range(0, len(balancers), 20):
        chunk = balancers[start : start + 20]
        descriptions = elb.describe_tags(ResourceArns=[b["LoadBalancerArn"] for b in chunk])["TagDescriptions"]
        tags = {d["ResourceArn"]: {t["Key"]: t.get("Value", "") for t in d.get("Tags") or []} for d in descriptions}
        for balancer in chunk:
            mine = tags.get(balancer["LoadBalancerArn"], {})
            if mine.get(TAG_CLUSTER) == cluster and mine.get(TAG_STACK) == stack:
                found.append({**balancer, "Tags": mine})
    return found


def _subnets_by_zone(subnets: list) -> list:
    by_zone = {}
    for subnet in sorted(subnets, key=lambda s: s["SubnetId"]):
        by_zone.setdefault(subnet["AvailabilityZone"], subnet["SubnetId"])
    return [by_zone[zone] for zone in sorted(by_zone)]


def _cluster_vpc(view, cluster: str) -> str | None:
    vpc = controller_args(view).get("aws-vpc-id")
    if vpc and "$(" not in vpc:
        return vpc
    eks = aws_client(view.settings, "eks")
    try:
        return eks.describe_cluster(name=cluster)["cluster"].get("resourcesVpcConfig", {}).get("vpcId")
    except eks.exceptions.ResourceNotFoundException:
        return None


def choose_subnets(view, ec2, cluster: str, scheme: str, annotations: dict) -> list:
    named = [s.strip() for s in (annotations.get(ANNOTATION + "subnets") or "").split(",") if s.strip()]
    if named:
        ids = [s for s in named if s.startswith("subnet-")]
        names = [s for s in named if not s.startswith("subnet-")]
        subnets = []
        if ids:
            subnets += ec2.describe_subnets(SubnetIds=ids)["Subnets"]
        if names:
            subnets += ec2.describe_subnets(Filters=[{"Name": "tag:Name", "Values": names}])["Subnets"]
        if len(subnets) != len(named):
            raise NotYet(f"subnets {', '.join(named)}: found {len(subnets)} of {len(named)}")
        return _subnets_by_zone(subnets)
    role = "kubernetes.io/role/elb" if scheme == "internet-facing" else "kubernetes.io/role/internal-elb"
    filters = [{"Name": "tag-key", "Values": [role]}]
    vpc = _cluster_vpc(view, cluster)
    if vpc:
        filters.append({"Name": "vpc-id", "Values": [vpc]})
    tagged = []
    for subnet in ec2.describe_subnets(Filters=filters)["Subnets"]:
        tags = {t["Key"]: t.get("Value", "") for t in subnet.get("Tags") or []}
        if tags.get(role) not in ("", "1"):
            continue
        clusters = {k for k in tags if k.startswith("kubernetes.io/cluster/")}
        if clusters and f"kubernetes.io/cluster/{cluster}" not in clusters:
            continue
        tagged.append(subnet)
    chosen = _subnets_by_zone(tagged)
    if len(chosen) >= 2:
        return chosen
    if flag(view.settings, "KUBE_SANDBOX_ALB_STRICT_SUBNETS", False):
        raise NotYet(
            f"couldn't auto-discover subnets: {len(chosen)} zone(s) with subnets tagged {role} "
            f"for cluster {cluster}, an ALB needs two"
        )
    defaults = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    chosen = _subnets_by_zone(defaults)
    if len(chosen) < 2:
        raise NotYet("no subnets tagged for load balancers and no default VPC")
    return chosen


def check_certificates(view, annotations: dict) -> None:
    for arn in [a.strip() for a in (annotations.get(ANNOTATION + "certificate-arn") or "").split(",") if a.strip()]:
        parts = arn.split(":")
        if len(parts) < 6 or parts[2] != "acm":
            raise NotYet(f"certificate-arn {arn} is not an ACM certificate ARN")
        acm = aws_client(view.settings, "acm", region=parts[3])
        try:
            status = acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"]
        except acm.exceptions.ResourceNotFoundException as exc:
            raise NotYet(f"CertificateNotFound: {arn}") from exc
        if status != "ISSUED":
            raise NotYet(f"certificate {arn} is {status}, not ISSUED")


def sync_tags(elb, balancer: dict, wanted: dict) -> None:
    current = balancer["Tags"]
    missing = {k: v for k, v in wanted.items() if current.get(k) != v}
    if missing:
        elb.add_tags(
            ResourceArns=[balancer["LoadBalancerArn"]], Tags=[{"Key": k, "Value": v} for k, v in missing.items()]
        )
    stale = [k for k in current if k not in wanted]
    if stale:
        elb.remove_tags(ResourceArns=[balancer["LoadBalancerArn"]], TagKeys=stale)


# --------------------------------------------------------------------------- the controller


def delete_load_balancers(obj, view):
    """finalize: delete what this Ingress owns in AWS; False (and a retry) while AWS does not answer."""
    if not aws_enabled(view.settings):
        return True
    import botocore.exceptions  # pylint: disable=import-outside-toplevel

    meta = obj["metadata"]
    stack = f"{meta.get('namespace', '')}/{meta['name']}"
    elb = aws_client(view.settings, "elbv2")
    try:
        for balancer in owned_load_balancers(elb, cluster_name(view), stack):
            elb.delete_load_balancer(LoadBalancerArn=balancer["LoadBalancerArn"])
            _log(f"deleted {balancer['LoadBalancerName']} ({stack})")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        _log(f"{stack}: could not delete its load balancer: {exc}")
        _retry(view)
        return False
    return True


@controller(
    "networking.k8s.io",
    "Ingress",
    delay=ALB_DELAY,
    watches=[("networking.k8s.io", "IngressClass")],
    name="aws-load-balancer-controller",
    finalizer=FINALIZER,
    finalize=delete_load_balancers,
    finalize_delay=ALB_DELETE_DELAY,
)
def aws_load_balancer_controller(obj, view):
    """reconcile: the Ingress's ALB, and its DNS name as the Ingress's load balancer hostname."""
    if not aws_enabled(view.settings) or not is_alb_ingress(obj, view):
        return None
    import botocore.exceptions  # pylint: disable=import-outside-toplevel

    meta = obj["metadata"]
    annotations = meta.get("annotations") or {}
    namespace, name = meta.get("namespace", ""), meta["name"]
    stack = f"{namespace}/{name}"
    scheme = annotations.get(ANNOTATION + "scheme") or "internal"
    if scheme not in SCHEMES:
        _log(f"{stack}: unknown scheme {scheme!r} (internal or internet-facing)")
        return None
    cluster = cluster_name(view)
    wanted_tags = {
        **_tags_annotation(annotations),
        TAG_CLUSTER: cluster,
        TAG_STACK: stack,
        TAG_RESOURCE: "LoadBalancer",
    }
    elb = aws_client(view.settings, "elbv2")
    current = None
    try:
        owned = owned_load_balancers(elb, cluster, stack)
        current = next((b for b in owned if b["Scheme"] == scheme), None)
        if current is None:
            check_certificates(view, annotations)
            subnets = choose_subnets(view, aws_client(view.settings, "ec2"), cluster, scheme, annotations)
            created = elb.create_load_balancer(
                Name=load_balancer_name(cluster, namespace, name, scheme),
                Subnets=subnets,
                Scheme=scheme,
                Type="application",
                IpAddressType=annotations.get(ANNOTATION + "ip-address-type") or "ipv4",
                Tags=[{"Key": k, "Value": v} for k, v in wanted_tags.items()],
            )["LoadBalancers"][0]
            current = {**created, "Tags": dict(wanted_tags)}
            _log(f"created {created['LoadBalancerName']} ({scheme}) for {stack}: {created['DNSName']}")
        else:
            sync_tags(elb, current, wanted_tags)
        for old in owned:
            if old["LoadBalancerArn"] != current["LoadBalancerArn"]:
                elb.delete_load_balancer(LoadBalancerArn=old["LoadBalancerArn"])
                _log(f"deleted {old['LoadBalancerName']} ({old['Scheme']}), replaced for {stack}")
    except NotYet as exc:
        _log(f"{stack}: {exc}; retrying")
        _retry(view)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        _log(f"{stack}: {exc}; retrying")
        _retry(view)
    if current is None:
        return None
    return {"loadBalancer": {"ingress": [{"hostname": current["DNSName"]}]}}
