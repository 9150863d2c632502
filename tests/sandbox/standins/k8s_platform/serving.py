"""Knative Serving and KFServing / KServe controllers of the sandbox: services become Ready with their URL.

Knative Service (`serving.knative.dev/v1`): Ready (ConfigurationsReady, RoutesReady), `url`
`http://<name>.<namespace>.<domain>`, `address.url` `http://<name>.<namespace>.svc.cluster.local`,
revision `<name>-<generation, 5 digits>` (or `spec.template.metadata.name`) with 100% of the traffic
(or `spec.traffic` resolved).

InferenceService, both eras:

- `serving.kubeflow.org/v1alpha2` (KFServing 0.2.x): conditions DefaultPredictorReady, Ready,
  RoutesReady (plus Default/Canary Transformer/Explainer and Canary Predictor when those are in
  the spec); `url` `http://<name>.<namespace>.<domain>/v1/models/<name>` (0.2.x puts the predict
  prefix into the URL: take the host from it); `traffic` (100 - `spec.canaryTrafficPercent`),
  `canaryTraffic`; `default` / `canary`: per component `{name: <revision>, host:
  <name>-<component>-default.<namespace>.<domain>}`; `observedGeneration`.
- `serving.kserve.io/v1beta1` (KServe 0.11): conditions IngressReady, LatestDeploymentReady,
  PredictorConfigurationReady, PredictorReady, PredictorRouteReady, Ready, RoutesReady (and the
  Transformer/Explainer ones when present); `url` `http://<name>.<namespace>.<domain>`,
  `address.url` `http://<name>.<namespace>.svc.cluster.local`; `components.<component>` with
  revisions `<name>-<component>-<generation, 5 digits>`, url, address and traffic; `modelStatus`.
  With the annotation `serving.kserve.io/deploymentMode: RawDeployment` the domain is the
  `ingressDomain` of `kserve/inferenceservice-config` (key `ingress`) instead of Knative's.

The domain is Knative's: `knative-serving/config-domain` (see common.knative_domain); routes
labelled `visibility: cluster-local` get `<name>.<namespace>.svc.cluster.local`. Both controllers
watch ConfigMaps, so changing config-domain moves the URLs.

Models: when the server's environment names a sandbox AWS (`AWS_ENDPOINT_URL`) and
KUBE_SANDBOX_CHECK_MODELS is not 0, every `storageUri` starting with `s3://` must be a bucket with
at least one object under the key prefix; until it is, the InferenceService is Ready=False with
reason RevisionFailed and the storage initializer's complaint as message (KServe also fills
`modelStatus.lastFailureInfo`), and it is checked again every KUBE_SANDBOX_MODEL_RETRY seconds
(default 1), as the crash-looping storage initializer would. A component already Ready at the
object's generation is not checked again (a running predictor does not read S3 again).

Timing: KUBE_SANDBOX_SERVING_DELAY seconds after a change (default 0; read when the server starts).
"""

from __future__ import annotations

import hashlib
import json

from tests.sandbox.standins.k8s.controllers import controller, set_condition

from .common import (
    CLUSTER_LOCAL,
    DEFAULT_DOMAIN,
    aws_client,
    aws_enabled,
    cluster_local,
    flag,
    import_seconds,
    knative_domain,
    seconds,
)

SERVING_DELAY = import_seconds("KUBE_SANDBOX_SERVING_DELAY")
COMPONENTS = ("predictor", "transformer", "explainer")
# Keys of a v1alpha2 component spec that are not the framework.
V1ALPHA2_COMMON = {
    "serviceAccountName",
    "minReplicas",
    "maxReplicas",
    "parallelism",
    "logger",
    "batcher",
    "containerConcurrency",
}
SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def _conditions(previous, wanted: list, info=()) -> list:
    """The conditions `wanted` ([(type, status, reason, message)]), timestamps kept, sorted by type as
    Knative sorts them; types not wanted are dropped; `info` types get severity Info."""
    conditions = [c for c in previous or [] if c.get("type") in {w[0] for w in wanted}]
    for type_, status, reason, message in wanted:
        conditions = set_condition(conditions, type_, status, reason, message)
    for condition in conditions:
        condition.pop("severity", None)
        if condition["type"] in info:
            condition["severity"] = "Info"
    return sorted(conditions, key=lambda c: c["type"])


def _host(name: str, namespace: str, domain: str, labels: dict) -> str:
    if cluster_local(labels):
        return f"{name}.{namespace}.{CLUSTER_LOCAL}"
    return f"{name}.{namespace}.{domain}"


def _generation(obj) -> int:
    return int(obj["metadata"].get("generation") or 1)


# --------------------------------------------------------------------------- model storage


def storage_uris(component: dict) -> list:
    """storageUri values of one component spec (`<framework>.storageUri`, `model.storageUri`, or direct)."""
    uris = []
    if isinstance(component.get("storageUri"), str):
        uris.append(component["storageUri"])
    for value in component.values():
        if isinstance(value, dict) and isinstance(value.get("storageUri"), str):
            uris.append(value["storageUri"])
    return uris


def missing_model(view, uris) -> str | None:
    """Why the storage initializer would fail for these URIs (only s3:// ones are checked), or None."""
    if not aws_enabled(view.settings) or not flag(view.settings, "KUBE_SANDBOX_CHECK_MODELS", True):
        return None
    import botocore.exceptions  # pylint: disable=import-outside-toplevel

    s3 = None
    for uri in uris:
        if not uri.startswith("s3://"):
            continue
        bucket, prefix = (uri[len("s3://") :].split("/", 1) + [""])[:2]
        s3 = s3 or aws_client(view.settings, "s3")
        try:
            s3.head_bucket(Bucket=bucket)
            listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix.rstrip("/"), MaxKeys=1)
        except botocore.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("404", "NoSuchBucket", "NotFound"):
                return f"storage initializer: bucket {bucket} does not exist ({uri})"
            return f"storage initializer: cannot read {uri}: {code or exc}"
        except botocore.exceptions.BotoCoreError as exc:
            return f"storage initializer: cannot reach S3 for {uri}: {exc}"
        if not listed.get("KeyCount"):
            return f"storage initializer: failed to fetch model, no model found in {uri}"
    return None


def model_failures(view, obj, components: dict, condition_of) -> dict:
    """{component key: why its storage initializer fails} for the components whose model is missing.

    A component already Ready at this generation keeps its model (a running predictor does not read
    S3 again), so only new revisions are checked; `condition_of(key)` names its Ready condition.
    """
    status = obj.get("status") or {}
    current = status.get("observedGeneration") == _generation(obj)
    ready = {c.get("type") for c in status.get("conditions") or [] if c.get("status") == "True"}
    failures = {}
    for key, spec in components.items():
        if current and condition_of(key) in ready:
            continue
        failure = missing_model(view, storage_uris(spec))
        if failure:
            failures[key] = failure
    if failures:
        view.requeue(after=seconds(view.settings, "KUBE_SANDBOX_MODEL_RETRY", 1.0) or 1.0)
    return failures


# --------------------------------------------------------------------------- Knative Service


@controller("serving.knative.dev", "Service", delay=SERVING_DELAY, watches=[("", "ConfigMap")], name="knative-serving")
def knative_service(obj, view):
    meta = obj["metadata"]
    name, namespace = meta["name"], meta.get("namespace", "")
    labels = meta.get("labels") or {}
    spec = obj.get("spec") or {}
    revision = ((spec.get("template") or {}).get("metadata") or {}).get("name") or f"{name}-{_generation(obj):05d}"
    domain = knative_domain(view, labels)
    traffic = []
    for entry in spec.get("traffic") or [{"latestRevision": True, "percent": 100}]:
        entry = dict(entry)
        if entry.get("latestRevision", not entry.get("revisionName")):
            entry["latestRevision"] = True
            entry["revisionName"] = revision
        if entry.get("tag"):
            entry["url"] = f"http://{_host(entry['tag'] + '-' + name, namespace, domain, labels)}"
        traffic.append(entry)
    status = dict(obj.get("status") or {})
    status.update(
        observedGeneration=_generation(obj),
        conditions=_conditions(
            status.get("conditions"),
            [("ConfigurationsReady", "True", "", ""), ("Ready", "True", "", ""), ("RoutesReady", "True", "", "")],
        ),
        latestCreatedRevisionName=revision,
        latestReadyRevisionName=revision,
        url=f"http://{_host(name, namespace, domain, labels)}",
        address={"url": f"http://{name}.{namespace}.{CLUSTER_LOCAL}"},
        traffic=traffic,
    )
    return status


# --------------------------------------------------------------------------- KFServing 0.2.x (v1alpha2)


def _v1alpha2_framework_set(component: dict) -> bool:
    return any(k not in V1ALPHA2_COMMON for k in component)


def _v1alpha2_revision(obj, endpoint: str, component: str) -> str:
    """Knative 0.8 revisions: `<service>-<5 random letters>`, here derived from uid and generation."""
    seed = f"{obj['metadata'].get('uid')}/{_generation(obj)}/{endpoint}/{component}".encode()
    digest = hashlib.sha256(seed).digest()
    suffix = "".join(SUFFIX_ALPHABET[b % len(SUFFIX_ALPHABET)] for b in digest[:5])
    return f"{obj['metadata']['name']}-{component}-{endpoint}-{suffix}"


@controller(
    "serving.kubeflow.org",
    "InferenceService",
    delay=SERVING_DELAY,
    watches=[("", "ConfigMap")],
    name="kfserving-controller-manager",
)
def kfserving_inference_service(obj, view):
    meta = obj["metadata"]
    name, namespace = meta["name"], meta.get("namespace", "")
    labels = meta.get("labels") or {}
    spec = obj.get("spec") or {}
    domain = knative_domain(view, labels)
    endpoints = {"default": spec.get("default") or {}}
    if spec.get("canary"):
        endpoints["canary"] = spec["canary"]
    canary_percent = int(spec.get("canaryTrafficPercent") or 0) if "canary" in endpoints else 0
    components = {
        (endpoint, component): endpoints[endpoint][component]
        for endpoint in endpoints
        for component in COMPONENTS
        if isinstance(endpoints[endpoint].get(component), dict)
        and _v1alpha2_framework_set(endpoints[endpoint][component])
    }
    failures = model_failures(view, obj, components, lambda k: f"{k[0].capitalize()}{k[1].capitalize()}Ready")
    status = dict(obj.get("status") or {})
    for key in ("url", "traffic", "canaryTraffic", "default", "canary"):
        status.pop(key, None)
    wanted = []
    for endpoint, component in components:
        revision = _v1alpha2_revision(obj, endpoint, component)
        condition = f"{endpoint.capitalize()}{component.capitalize()}Ready"
        entry = {"name": revision}
        if (endpoint, component) in failures:
            message = f'Revision "{revision}" failed with message: {failures[(endpoint, component)]}.'
            wanted.append((condition, "False", "RevisionFailed", message))
        else:
            entry["host"] = _host(f"{name}-{component}-{endpoint}", namespace, domain, labels)
            wanted.append((condition, "True", "", ""))
        status.setdefault(endpoint, {})[component] = entry
    predictor = next((w for w in wanted if w[0] == "DefaultPredictorReady"), None)
    if predictor is None:
        wanted.append(("Ready", "False", "PredictorMissing", "spec.default.predictor names no framework"))
    elif predictor[1] != "True":
        wanted.append(("Ready", *predictor[1:]))
    else:
        wanted += [("Ready", "True", "", ""), ("RoutesReady", "True", "", "")]
        status["url"] = f"http://{_host(name, namespace, domain, labels)}/v1/models/{name}"
        status["traffic"] = 100 - canary_percent
        if canary_percent:
            status["canaryTraffic"] = canary_percent
    status["conditions"] = _conditions(status.get("conditions"), wanted)
    status["observedGeneration"] = _generation(obj)
    return status


# --------------------------------------------------------------------------- KServe (v1beta1)


def _kserve_domain(view, obj) -> str:
    annotations = obj["metadata"].get("annotations") or {}
    if annotations.get("serving.kserve.io/deploymentMode") == "RawDeployment":
        config = view.get("", "ConfigMap", "inferenceservice-config", "kserve") or {}
        try:
            ingress = json.loads((config.get("data") or {}).get("ingress") or "{}")
        except ValueError:
            ingress = {}
        return ingress.get("ingressDomain") or DEFAULT_DOMAIN
    return knative_domain(view, obj["metadata"].get("labels") or {})


@controller(
    "serving.kserve.io",
    "InferenceService",
    delay=SERVING_DELAY,
    watches=[("", "ConfigMap")],
    name="kserve-controller-manager",
)
def kserve_inference_service(obj, view):
    meta = obj["metadata"]
    name, namespace = meta["name"], meta.get("namespace", "")
    labels = meta.get("labels") or {}
    spec = obj.get("spec") or {}
    domain = _kserve_domain(view, obj)
    generation = _generation(obj)
    components = {c: spec[c] for c in COMPONENTS if isinstance(spec.get(c), dict)}
    failures = model_failures(view, obj, components, lambda k: f"{k.capitalize()}Ready")
    status = dict(obj.get("status") or {})
    for key in ("url", "address", "components", "modelStatus"):
        status.pop(key, None)
    wanted, info = [], ["LatestDeploymentReady", "RoutesReady"]
    for component in components:
        revision = f"{name}-{component}-{generation:05d}"
        title = component.capitalize()
        info += [f"{title}ConfigurationReady", f"{title}RouteReady"]
        state = {"latestCreatedRevision": revision}
        if component in failures:
            message = f'Revision "{revision}" failed with message: {failures[component]}.'
            wanted += [
                (f"{title}ConfigurationReady", "False", "RevisionFailed", message),
                (f"{title}Ready", "False", "RevisionFailed", message),
            ]
        else:
            state.update(
                latestReadyRevision=revision,
                latestRolledoutRevision=revision,
                url=f"http://{_host(f'{name}-{component}', namespace, domain, labels)}",
                address={"url": f"http://{name}-{component}.{namespace}.{CLUSTER_LOCAL}"},
                traffic=[{"latestRevision": True, "percent": 100, "revisionName": revision}],
            )
            wanted += [
                (f"{title}ConfigurationReady", "True", "", ""),
                (f"{title}Ready", "True", "", ""),
                (f"{title}RouteReady", "True", "", ""),
            ]
        status.setdefault("components", {})[component] = state
    failed = next((w for w in wanted if w[0].endswith("Ready") and w[1] != "True"), None)
    if "predictor" not in components:
        wanted.append(("Ready", "False", "PredictorMissing", "spec.predictor is required"))
    elif failed is not None:
        wanted += [("LatestDeploymentReady", *failed[1:]), ("Ready", *failed[1:])]
        status["modelStatus"] = {
            "transitionStatus": "BlockedByFailedLoad",
            "states": {"activeModelState": "FailedToLoad", "targetModelState": "FailedToLoad"},
            "copies": {"failedCopies": 1, "totalCopies": 0},
            "lastFailureInfo": {
                "reason": "ModelLoadFailed",
                "message": next(iter(failures.values())),
                "modelRevisionName": f"{name}-predictor-{generation:05d}",
            },
        }
    else:
        wanted += [
            ("IngressReady", "True", "", ""),
            ("LatestDeploymentReady", "True", "", ""),
            ("Ready", "True", "", ""),
            ("RoutesReady", "True", "", ""),
        ]
        status["url"] = f"http://{_host(name, namespace, domain, labels)}"
        status["address"] = {"url": f"http://{name}.{namespace}.{CLUSTER_LOCAL}"}
        status["modelStatus"] = {
            "transitionStatus": "UpToDate",
            "states": {"activeModelState": "Loaded", "targetModelState": "Loaded"},
            "copies": {"failedCopies": 0, "totalCopies": 1},
        }
    status["conditions"] = _conditions(status.get("conditions"), wanted, info)
    status["observedGeneration"] = generation
    return status
