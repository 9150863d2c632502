"""The platform controllers of the Kubernetes stand-in (tests/sandbox/standins/k8s_platform), driven with the
official Kubernetes client against a stand-in started as the harness starts it, and boto3 against moto."""

from __future__ import annotations

import copy
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from kubernetes import client

from tests.sandbox.harness.scenario import KUBE_CONTROLLERS, kube_env, sandbox_session
from tests.sandbox.standins.k8s import KubeSandbox
from tests.sandbox.standins.k8s_platform.alb import load_balancer_name

SCHEMAS = Path(__file__).resolve().parents[4] / "shared" / "reference" / "schemas"
# Short delays, so that the tests see the "not yet" side of each wait too.
SETTINGS = {
    "KUBE_SANDBOX_ALB_DELAY": "0.2",
    "KUBE_SANDBOX_ALB_DELETE_DELAY": "0.6",
    "KUBE_SANDBOX_ALB_RETRY": "0.2",
    "KUBE_SANDBOX_SERVING_DELAY": "0.1",
    "KUBE_SANDBOX_MODEL_RETRY": "0.2",
}

# pylint: disable=redefined-outer-name


@pytest.fixture(scope="module")
def platform_server(moto_server):
    """The stand-in with the harness's controllers and settings (tests.sandbox.harness.scenario), short delays."""
    env = {**kube_env(moto_server.env()), **SETTINGS}
    with KubeSandbox(controllers=KUBE_CONTROLLERS, env=env) as server:
        yield server


@pytest.fixture(scope="module")
def clients(platform_server, moto_server):
    """Kubernetes and boto3 clients (made once: boto3 clients take a while to make)."""
    api = platform_server.api_client()
    session = sandbox_session(moto_server.env())
    aws = {
        name: session.client(name, endpoint_url=moto_server.url) for name in ("elbv2", "ec2", "acm", "route53", "s3")
    }
    return SimpleNamespace(
        core=client.CoreV1Api(api),
        net=client.NetworkingV1Api(api),
        custom=client.CustomObjectsApi(api),
        elb=aws["elbv2"],
        ec2=aws["ec2"],
        acm=aws["acm"],
        r53=aws["route53"],
        s3=aws["s3"],
    )


@pytest.fixture
def platform(platform_server, clients, aws):
    """A clean stand-in and sandbox account (the `aws` fixture resets moto), with clients for both."""
    del aws
    platform_server.reset()
    return SimpleNamespace(kube=platform_server, dyn=platform_server.dynamic_client(), **vars(clients))


def wait_for(predicate, timeout=15.0, what="a condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def ingress(name="istio-ingress", annotations=None, class_name=None) -> dict:
    backend = {"service": {"name": "istio-ingressgateway", "port": {"number": 80}}}
    spec = {"rules": [{"http": {"paths": [{"path": "/*", "pathType": "ImplementationSpecific", "backend": backend}]}}]}
    if class_name:
        spec["ingressClassName"] = class_name
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name, "annotations": dict(annotations or {})},
        "spec": spec,
    }


ALB = {"kubernetes.io/ingress.class": "alb", "alb.ingress.kubernetes.io/scheme": "internet-facing"}


def hostname(platform, name, namespace="istio-system"):
    ingress_status = platform.net.read_namespaced_ingress_status(name, namespace).status
    hosts = ingress_status.load_balancer.ingress if ingress_status and ingress_status.load_balancer else None
    return hosts[0].hostname if hosts else None


def balancers(platform) -> list:
    found = platform.elb.describe_load_balancers()["LoadBalancers"]
    for balancer in found:
        tags = platform.elb.describe_tags(ResourceArns=[balancer["LoadBalancerArn"]])["TagDescriptions"][0]["Tags"]
        balancer["Tags"] = {t["Key"]: t["Value"] for t in tags}
    return found


def make_namespace(platform, name):
    platform.core.create_namespace({"metadata": {"name": name}})


# --------------------------------------------------------------------------- ALB


def test_alb_ingress_gets_a_load_balancer_found_by_its_dns_name(platform):
    platform.core.create_node({"metadata": {"name": "ip-10-0-0-1", "labels": {"alpha.eksctl.io/cluster-name": "ml"}}})
    make_namespace(platform, "istio-system")
    annotations = {**ALB, "alb.ingress.kubernetes.io/tags": "team=ml,env=test"}
    created = platform.net.create_namespaced_ingress("istio-system", ingress(annotations=annotations))
    assert not created.status.load_balancer.ingress  # AWS takes a while (KUBE_SANDBOX_ALB_DELAY)
    platform.net.create_namespaced_ingress("istio-system", ingress("by-class", class_name="alb"))
    platform.net.create_namespaced_ingress("istio-system", ingress("nginx", {"kubernetes.io/ingress.class": "nginx"}))

    host = wait_for(lambda: hostname(platform, "istio-ingress"), what="the ALB hostname")
    wait_for(lambda: hostname(platform, "by-class"), what="the second ALB")
    found = {b["DNSName"]: b for b in balancers(platform)}
    assert len(found) == 2
    alb = found[host]
    assert (alb["Type"], alb["Scheme"], alb["State"]["Code"]) == ("application", "internet-facing", "active")
    assert alb["LoadBalancerName"] == load_balancer_name("ml", "istio-system", "istio-ingress", "internet-facing")
    assert alb["LoadBalancerName"].startswith("k8s-istiosys-istioing-") and len(alb["LoadBalancerName"]) == 32
    assert alb["Tags"] == {
        "elbv2.k8s.aws/cluster": "ml",
        "ingress.k8s.aws/stack": "istio-system/istio-ingress",
        "ingress.k8s.aws/resource": "LoadBalancer",
        "team": "ml",
        "env": "test",
    }
    assert found[hostname(platform, "by-class")]["Scheme"] == "internal"  # the upstream default
    assert len({z["ZoneName"] for z in alb["AvailabilityZones"]}) >= 2

    # What the kubeflow role does with it: find the ALB by DNS name, alias the apex to it.
    by_dns = [b for b in platform.elb.describe_load_balancers()["LoadBalancers"] if b["DNSName"] == host]
    zone_id = by_dns[0]["CanonicalHostedZoneId"]
    assert zone_id
    zone = platform.r53.create_hosted_zone(Name="platform.example.com", CallerReference="alias-test")["HostedZone"]
    alias = {"HostedZoneId": zone_id, "DNSName": f"dualstack.{host}", "EvaluateTargetHealth": False}
    change = {
        "Action": "UPSERT",
        "ResourceRecordSet": {"Name": "platform.example.com", "Type": "A", "AliasTarget": alias},
    }
    platform.r53.change_resource_record_sets(HostedZoneId=zone["Id"], ChangeBatch={"Changes": [change]})

    stored = {i["metadata"]["name"]: i for i in platform.kube.objects(kind="Ingress")}
    assert stored["istio-ingress"]["metadata"]["finalizers"] == ["ingress.k8s.aws/resources"]
    assert "finalizers" not in stored["nginx"]["metadata"] and not hostname(platform, "nginx")
    managers = {m["manager"] for m in stored["istio-ingress"]["metadata"]["managedFields"]}
    assert "aws-load-balancer-controller" in managers


def test_reapplying_an_unchanged_ingress_changes_nothing(platform):
    make_namespace(platform, "istio-system")
    ingresses = platform.dyn.resources.get(api_version="networking.k8s.io/v1", kind="Ingress")
    body = ingress(annotations=ALB)
    ingresses.server_side_apply(body=body, namespace="istio-system", field_manager="kubeflow-ops")
    host = wait_for(lambda: hostname(platform, "istio-ingress"), what="the ALB hostname")
    time.sleep(0.3)
    version = ingresses.get(name="istio-ingress", namespace="istio-system").metadata.resourceVersion
    again = ingresses.server_side_apply(body=body, namespace="istio-system", field_manager="kubeflow-ops")
    time.sleep(0.5)
    assert again.metadata.resourceVersion == version
    assert ingresses.get(name="istio-ingress", namespace="istio-system").metadata.resourceVersion == version

    # A change the controller reconciles (new tags) keeps the load balancer and the hostname.
    body["metadata"]["annotations"]["alb.ingress.kubernetes.io/tags"] = "owner=platform"
    ingresses.server_side_apply(body=body, namespace="istio-system", field_manager="kubeflow-ops")
    wait_for(lambda: balancers(platform)[0]["Tags"].get("owner") == "platform", what="the new tag")
    assert [b["DNSName"] for b in balancers(platform)] == [host] and hostname(platform, "istio-ingress") == host


def test_deleting_the_ingress_deletes_its_load_balancer_after_the_delay(platform):
    make_namespace(platform, "istio-system")
    platform.net.create_namespaced_ingress("istio-system", ingress(annotations=ALB))
    wait_for(lambda: hostname(platform, "istio-ingress"), what="the ALB hostname")
    assert len(balancers(platform)) == 1

    ingresses = platform.dyn.resources.get(api_version="networking.k8s.io/v1", kind="Ingress")
    started = time.monotonic()
    held = ingresses.delete(name="istio-ingress", namespace="istio-system")
    assert held.metadata.deletionTimestamp and held.metadata.finalizers == ["ingress.k8s.aws/resources"]
    if time.monotonic() - started < 0.4:
        assert len(balancers(platform)) == 1
    wait_for(lambda: not balancers(platform), what="the ALB to be gone")
    assert time.monotonic() - started >= 0.6  # KUBE_SANDBOX_ALB_DELETE_DELAY
    wait_for(lambda: not platform.kube.objects(kind="Ingress"), what="the Ingress to be gone")

    # Deleting its namespace (the stand-in removes the Ingress at once) still deletes the ALB.
    platform.net.create_namespaced_ingress("istio-system", ingress(annotations=ALB))
    wait_for(lambda: hostname(platform, "istio-ingress"), what="the ALB hostname")
    platform.core.delete_namespace("istio-system")
    wait_for(lambda: not balancers(platform), what="the ALB of the deleted namespace to be gone")


def test_scheme_change_replaces_the_load_balancer(platform):
    make_namespace(platform, "istio-system")
    platform.net.create_namespaced_ingress("istio-system", ingress(annotations=ALB))
    first = wait_for(lambda: hostname(platform, "istio-ingress"), what="the ALB hostname")
    patch = {"metadata": {"annotations": {"alb.ingress.kubernetes.io/scheme": "internal"}}}
    platform.net.patch_namespaced_ingress("istio-ingress", "istio-system", patch)
    second = wait_for(
        lambda: (h := hostname(platform, "istio-ingress")) != first and h, what="the internal ALB's hostname"
    )
    assert [(b["DNSName"], b["Scheme"]) for b in balancers(platform)] == [(second, "internal")]


def test_load_balancer_waits_for_an_issued_certificate(platform):
    make_namespace(platform, "istio-system")
    arn = platform.acm.request_certificate(DomainName="*.platform.example.com", ValidationMethod="DNS")[
        "CertificateArn"
    ]
    assert platform.acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == "PENDING_VALIDATION"
    annotations = {**ALB, "alb.ingress.kubernetes.io/certificate-arn": arn}
    platform.net.create_namespaced_ingress("istio-system", ingress(annotations=annotations))
    time.sleep(0.6)
    if platform.acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] != "ISSUED":
        assert hostname(platform, "istio-ingress") is None and not balancers(platform)
    wait_for(lambda: hostname(platform, "istio-ingress"), what="the ALB once the certificate is issued")
    assert platform.acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == "ISSUED"


def test_subnets_tagged_for_the_cluster_are_used(platform):
    vpc = platform.ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    zones = [z["ZoneName"] for z in platform.ec2.describe_availability_zones()["AvailabilityZones"]][:3]
    public = []
    for index, zone in enumerate(zones):
        subnet = platform.ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{index}.0/24", AvailabilityZone=zone)
        public.append(subnet["Subnet"]["SubnetId"])
    platform.ec2.create_tags(
        Resources=public,
        Tags=[{"Key": "kubernetes.io/role/elb", "Value": "1"}, {"Key": "kubernetes.io/cluster/ml", "Value": "shared"}],
    )
    platform.core.create_namespace({"metadata": {"name": "kube-flow"}})
    platform.core.create_namespaced_config_map(
        "kube-system", {"metadata": {"name": "lbc"}, "data": {"clusterName": "ml"}}
    )
    container = {
        "name": "controller",
        "image": "public.ecr.aws/eks/aws-load-balancer-controller:v2.4.7",
        "args": ["--cluster-name=$(CLUSTER_NAME)", "--ingress-class=alb"],
        "env": [{"name": "CLUSTER_NAME", "valueFrom": {"configMapKeyRef": {"name": "lbc", "key": "clusterName"}}}],
    }
    labels = {"app": "lbc"}
    deployment = {
        "metadata": {"name": "aws-load-balancer-controller"},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }
    client.AppsV1Api(platform.kube.api_client()).create_namespaced_deployment("kube-system", deployment)
    platform.net.create_namespaced_ingress("kube-flow", ingress("api", annotations=ALB))
    host = wait_for(lambda: hostname(platform, "api", "kube-flow"), what="the ALB hostname")
    alb = next(b for b in balancers(platform) if b["DNSName"] == host)
    assert sorted(z["SubnetId"] for z in alb["AvailabilityZones"]) == sorted(public)
    assert alb["VpcId"] == vpc and alb["Tags"]["elbv2.k8s.aws/cluster"] == "ml"


# --------------------------------------------------------------------------- Knative and InferenceServices


def v1_crd(v1beta1: dict) -> dict:
    """An apiextensions.k8s.io/v1beta1 CRD (KFServing 0.2.2 ships one) as v1, which Kubernetes >= 1.22 serves."""
    spec = v1beta1["spec"]
    version = {
        "name": spec["version"],
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": spec["validation"]["openAPIV3Schema"]},
        "additionalPrinterColumns": [
            {"name": c["name"], "type": c["type"], "jsonPath": c["JSONPath"]}
            for c in spec.get("additionalPrinterColumns") or []
        ],
    }
    if spec.get("subresources"):
        version["subresources"] = spec["subresources"]
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": v1beta1["metadata"]["name"]},
        "spec": {"group": spec["group"], "names": spec["names"], "scope": spec["scope"], "versions": [version]},
    }


def minimal_crd(group, version, kind, plural, status=True) -> dict:
    served = {
        "name": version,
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
    }
    if status:
        served["subresources"] = {"status": {}}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": plural, "singular": kind.lower(), "kind": kind},
            "versions": [served],
        },
    }


def inference_service_crd(era: str) -> dict:
    """The reference CRD when ../shared has it (v1alpha2 converted to apiextensions v1), else a minimal one."""
    name = {"v1alpha2": "kfserving-v1alpha2-inferenceservice-crd.yaml", "v1beta1": "kserve-inferenceservice-crd.yaml"}
    path = SCHEMAS / name[era]
    if path.exists():
        loaded = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        return v1_crd(loaded) if era == "v1alpha2" else loaded
    if era == "v1alpha2":
        return minimal_crd("serving.kubeflow.org", "v1alpha2", "InferenceService", "inferenceservices", status=False)
    return minimal_crd("serving.kserve.io", "v1beta1", "InferenceService", "inferenceservices")


def check_status_schema(crd: dict, obj: dict) -> None:
    """The status stays within the CRD's schema (types, enums, required fields)."""
    import jsonschema  # pylint: disable=import-outside-toplevel

    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    status_schema = (schema.get("properties") or {}).get("status")
    if status_schema:
        jsonschema.validate(obj["status"], status_schema)


def set_domain(platform, domain):
    config = {"metadata": {"name": "config-domain"}, "data": {"_example": "# docs", domain: ""}}
    try:
        platform.core.replace_namespaced_config_map("config-domain", "knative-serving", config)
    except client.ApiException as exc:
        if exc.status != 404:
            raise
        platform.core.create_namespaced_config_map("knative-serving", config)


def put_model(platform, bucket, key):
    platform.s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    platform.s3.put_object(Bucket=bucket, Key=key, Body=b"model")


def condition_map(obj) -> dict:
    return {c["type"]: c["status"] for c in obj["status"].get("conditions") or []}


def ready(obj) -> bool:
    return condition_map(obj).get("Ready") == "True" if obj.get("status") else False


def test_kfserving_v1alpha2_inference_service_ready_with_its_url(platform):
    crd = inference_service_crd("v1alpha2")
    platform.dyn.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition").create(body=crd)
    for namespace in ("knative-serving", "team"):
        make_namespace(platform, namespace)
    set_domain(platform, "platform.example.com")
    isvc = {
        "apiVersion": "serving.kubeflow.org/v1alpha2",
        "kind": "InferenceService",
        "metadata": {"name": "sklearn-iris", "namespace": "team"},
        "spec": {"default": {"predictor": {"sklearn": {"storageUri": "s3://models/sklearn/iris"}}}},
    }
    services = platform.dyn.resources.get(api_version="serving.kubeflow.org/v1alpha2", kind="InferenceService")
    services.server_side_apply(body=isvc, namespace="team", field_manager="kubeflow-ops")

    # The model is not in S3 yet: the predictor's revision fails, as the storage initializer would.
    failed = wait_for(lambda: (o := services.get(name="sklearn-iris", namespace="team").to_dict()).get("status") and o)
    assert condition_map(failed) == {"DefaultPredictorReady": "False", "Ready": "False"}
    reason = {c["type"]: c for c in failed["status"]["conditions"]}["Ready"]
    assert reason["reason"] == "RevisionFailed" and "bucket models does not exist" in reason["message"]
    assert "url" not in failed["status"]
    check_status_schema(crd, failed)

    put_model(platform, "models", "sklearn/iris/model.joblib")
    served = wait_for(lambda: ready(o := services.get(name="sklearn-iris", namespace="team").to_dict()) and o)
    status = served["status"]
    assert status["url"] == "http://sklearn-iris.team.platform.example.com/v1/models/sklearn-iris"
    assert condition_map(served) == {"DefaultPredictorReady": "True", "Ready": "True", "RoutesReady": "True"}
    assert [c["type"] for c in status["conditions"]] == ["DefaultPredictorReady", "Ready", "RoutesReady"]
    assert status["traffic"] == 100 and "canaryTraffic" not in status
    predictor = status["default"]["predictor"]
    assert predictor["host"] == "sklearn-iris-predictor-default.team.platform.example.com"
    assert predictor["name"].startswith("sklearn-iris-predictor-default-") and len(predictor["name"]) == 36
    assert status["observedGeneration"] == 1
    check_status_schema(crd, served)

    # Re-applying the same object changes nothing, also not the status.
    version = served["metadata"]["resourceVersion"]
    services.server_side_apply(body=isvc, namespace="team", field_manager="kubeflow-ops")
    time.sleep(0.5)
    assert services.get(name="sklearn-iris", namespace="team").metadata.resourceVersion == version

    # A canary splits the traffic.
    canary = copy.deepcopy(isvc)
    canary["spec"]["canaryTrafficPercent"] = 10
    canary["spec"]["canary"] = {"predictor": {"sklearn": {"storageUri": "s3://models/sklearn/iris"}}}
    services.server_side_apply(body=canary, namespace="team", field_manager="kubeflow-ops")
    split = wait_for(
        lambda: (o := services.get(name="sklearn-iris", namespace="team").to_dict())["status"].get("canary") and o
    )
    assert (split["status"]["traffic"], split["status"]["canaryTraffic"]) == (90, 10)
    assert condition_map(split)["CanaryPredictorReady"] == "True"
    assert split["status"]["default"]["predictor"]["name"] != predictor["name"]  # a new revision
    check_status_schema(crd, split)


def test_kserve_v1beta1_inference_service_ready_with_its_url(platform):
    crd = inference_service_crd("v1beta1")
    platform.dyn.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition").create(body=crd)
    for namespace in ("knative-serving", "team"):
        make_namespace(platform, namespace)
    set_domain(platform, "ml.example.org")
    put_model(platform, "models", "sklearn/iris/model.joblib")
    isvc = {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "sklearn-iris", "namespace": "team"},
        "spec": {
            "predictor": {
                "serviceAccountName": "models-s3",
                "model": {"modelFormat": {"name": "sklearn"}, "storageUri": "s3://models/sklearn/iris"},
            }
        },
    }
    platform.custom.create_namespaced_custom_object("serving.kserve.io", "v1beta1", "team", "inferenceservices", isvc)

    def read():
        return platform.custom.get_namespaced_custom_object(
            "serving.kserve.io", "v1beta1", "team", "inferenceservices", "sklearn-iris"
        )

    served = wait_for(lambda: ready(o := read()) and o, what="Ready")
    status = served["status"]
    assert status["url"] == "http://sklearn-iris.team.ml.example.org"
    assert status["address"] == {"url": "http://sklearn-iris.team.svc.cluster.local"}
    assert {"PredictorReady", "IngressReady", "Ready"} <= {t for t, s in condition_map(served).items() if s == "True"}
    assert all(s == "True" for s in condition_map(served).values())
    predictor = status["components"]["predictor"]
    assert predictor["url"] == "http://sklearn-iris-predictor.team.ml.example.org"
    assert predictor["latestReadyRevision"] == "sklearn-iris-predictor-00001"
    assert predictor["traffic"] == [
        {"latestRevision": True, "percent": 100, "revisionName": predictor["latestReadyRevision"]}
    ]
    assert status["modelStatus"]["states"]["activeModelState"] == "Loaded"
    check_status_schema(crd, served)

    # Re-applying (a replace with the same content) changes nothing.
    version = served["metadata"]["resourceVersion"]
    platform.custom.replace_namespaced_custom_object(
        "serving.kserve.io",
        "v1beta1",
        "team",
        "inferenceservices",
        "sklearn-iris",
        {**isvc, "metadata": served["metadata"]},
    )
    time.sleep(0.5)
    assert read()["metadata"]["resourceVersion"] == version

    # The knative role sets the platform domain later: the URLs follow config-domain.
    set_domain(platform, "platform.example.com")
    moved = wait_for(lambda: (o := read())["status"]["url"].endswith("platform.example.com") and o, what="new URL")
    assert moved["status"]["url"] == "http://sklearn-iris.team.platform.example.com"
    assert [c["lastTransitionTime"] for c in moved["status"]["conditions"]] == [
        c["lastTransitionTime"] for c in served["status"]["conditions"]
    ]

    # A model that is not there: not Ready, with the reason in the status.
    missing = copy.deepcopy(isvc)
    missing["metadata"]["name"] = "missing"
    missing["spec"]["predictor"]["model"]["storageUri"] = "s3://models/nothing/here"
    platform.custom.create_namespaced_custom_object(
        "serving.kserve.io", "v1beta1", "team", "inferenceservices", missing
    )
    failed = wait_for(
        lambda: (
            o := platform.custom.get_namespaced_custom_object(
                "serving.kserve.io", "v1beta1", "team", "inferenceservices", "missing"
            )
        ).get("status")
        and o,
        what="a status",
    )
    assert condition_map(failed)["Ready"] == "False" and "url" not in failed["status"]
    assert "no model found in s3://models/nothing/here" in failed["status"]["modelStatus"]["lastFailureInfo"]["message"]
    check_status_schema(crd, failed)


def test_knative_service_ready_with_its_url(platform):
    crd = minimal_crd("serving.knative.dev", "v1", "Service", "services")
    platform.dyn.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition").create(body=crd)
    for namespace in ("knative-serving", "team"):
        make_namespace(platform, namespace)
    set_domain(platform, "platform.example.com")
    services = platform.dyn.resources.get(api_version="serving.knative.dev/v1", kind="Service")
    body = {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": "hello", "namespace": "team"},
        "spec": {"template": {"spec": {"containers": [{"image": "gcr.io/knative-samples/helloworld-go"}]}}},
    }
    services.server_side_apply(body=body, namespace="team", field_manager="kubeflow-ops")
    served = wait_for(lambda: ready(o := services.get(name="hello", namespace="team").to_dict()) and o)
    status = served["status"]
    assert status["url"] == "http://hello.team.platform.example.com"
    assert status["address"]["url"] == "http://hello.team.svc.cluster.local"
    assert status["latestReadyRevisionName"] == "hello-00001"
    assert status["traffic"] == [{"latestRevision": True, "percent": 100, "revisionName": "hello-00001"}]
    assert condition_map(served) == {"ConfigurationsReady": "True", "Ready": "True", "RoutesReady": "True"}
    version = served["metadata"]["resourceVersion"]
    services.server_side_apply(body=body, namespace="team", field_manager="kubeflow-ops")
    time.sleep(0.3)
    assert services.get(name="hello", namespace="team").metadata.resourceVersion == version


def test_without_aws_settings_no_load_balancer_and_no_model_check(monkeypatch):
    """A stand-in not told where AWS is leaves Ingresses alone; serving still works (no S3 check)."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with KubeSandbox(controllers=KUBE_CONTROLLERS) as server:
        api = server.api_client()
        core, net = client.CoreV1Api(api), client.NetworkingV1Api(api)
        dyn = server.dynamic_client()
        core.create_namespace({"metadata": {"name": "istio-system"}})
        net.create_namespaced_ingress("istio-system", ingress(annotations=ALB))
        crd = minimal_crd("serving.kserve.io", "v1beta1", "InferenceService", "inferenceservices")
        dyn.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition").create(body=crd)
        isvc = {
            "apiVersion": "serving.kserve.io/v1beta1",
            "kind": "InferenceService",
            "metadata": {"name": "iris", "namespace": "istio-system"},
            "spec": {"predictor": {"sklearn": {"storageUri": "s3://nowhere/model"}}},
        }
        served = dyn.resources.get(api_version="serving.kserve.io/v1beta1", kind="InferenceService").create(
            body=isvc, namespace="istio-system"
        )
        assert served.status.url == "http://iris.istio-system.example.com"
        stored = server.objects(kind="Ingress")[0]
        assert "finalizers" not in stored["metadata"] and not stored["status"].get("loadBalancer", {}).get("ingress")
