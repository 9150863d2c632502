"""What the platform controllers share: their settings, sandbox AWS clients, the Knative domain."""

from __future__ import annotations

import os
import threading

import yaml

DEFAULT_REGION = "us-west-2"
DEFAULT_DOMAIN = "example.com"
CLUSTER_LOCAL = "svc.cluster.local"

_CLIENTS: dict = {}
_CLIENTS_LOCK = threading.Lock()


def seconds(settings, name: str, default: float = 0.0) -> float:
    """A duration setting in seconds (`settings` is a mapping: the server environment)."""
    value = (settings or {}).get(name)
    if value in (None, ""):
        return default
    try:
        return max(float(value), 0.0)
    except ValueError as exc:
        raise ValueError(f"{name}={value!r} is not a number of seconds") from exc


def import_seconds(name: str, default: float = 0.0) -> float:
    """A delay fixed when the module is imported in the server process (same environment as view.settings)."""
    return seconds(os.environ, name, default)


def flag(settings, name: str, default: bool) -> bool:
    value = (settings or {}).get(name)
    if value in (None, ""):
        return default
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def aws_region(settings) -> str:
    return settings.get("AWS_REGION") or settings.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def aws_enabled(settings) -> bool:
    """The controllers that touch AWS act only when the server was told where the (sandbox) AWS is."""
    return bool(settings.get("AWS_ENDPOINT_URL"))


def aws_client(settings, service: str, region: str | None = None):
    """A boto3 client for the sandbox AWS named by the settings (one per service, region and endpoint)."""
    import boto3  # pylint: disable=import-outside-toplevel
    from botocore.config import Config  # pylint: disable=import-outside-toplevel

    region = region or aws_region(settings)
    endpoint = settings["AWS_ENDPOINT_URL"]
    key = (service, region, endpoint, settings.get("AWS_ACCESS_KEY_ID"))
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(key)
        if client is None:
            # Sandbox credentials come from the settings; a developer's profile must not be looked up.
            for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
                os.environ.pop(name, None)
            session = boto3.session.Session(
                aws_access_key_id=settings.get("AWS_ACCESS_KEY_ID"),
                aws_secret_access_key=settings.get("AWS_SECRET_ACCESS_KEY"),
                aws_session_token=settings.get("AWS_SESSION_TOKEN"),
                region_name=region,
            )
            config = Config(
                connect_timeout=2,
                read_timeout=20,
                retries={"max_attempts": 2, "mode": "standard"},
                s3={"addressing_style": "path"},
            )
            client = _CLIENTS[key] = session.client(service, endpoint_url=endpoint, config=config)
        return client


def _selector(value) -> dict | None:
    """The label selector of one config-domain entry: {} for the default domain, None when unreadable."""
    if value in (None, ""):
        return {}
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        return None
    if not parsed:
        return {}
    if not isinstance(parsed, dict) or not isinstance(parsed.get("selector") or {}, dict):
        return None
    return {str(k): str(v) for k, v in (parsed.get("selector") or {}).items()}


def knative_domain(view, labels: dict | None = None) -> str:
    """The domain Knative gives routes with these labels, from `knative-serving/config-domain`.

    An entry whose value is empty is the default domain (the first one, in the ConfigMap's order);
    an entry `selector: {app: x}` applies to routes with those labels, the most specific first; the
    `_example` key is documentation. Without the ConfigMap or any usable entry: example.com.
    """
    config = view.get("", "ConfigMap", "config-domain", "knative-serving") or {}
    labels = labels or {}
    best, best_size = None, -1
    for domain, value in (config.get("data") or {}).items():
        if domain == "_example":
            continue
        selector = _selector(value)
        if selector is None or any(labels.get(k) != v for k, v in selector.items()):
            continue
        if len(selector) > best_size:
            best, best_size = domain, len(selector)
    return best or DEFAULT_DOMAIN


CLUSTER_LOCAL_LABELS = (
    "networking.knative.dev/visibility",
    "serving.knative.dev/visibility",
    "networking.kserve.io/visibility",
)


def cluster_local(labels: dict | None) -> bool:
    """Routes labelled `visibility: cluster-local` get no public domain."""
    return any((labels or {}).get(label) == "cluster-local" for label in CLUSTER_LOCAL_LABELS)


def warm_up(settings) -> threading.Thread | None:
    """Make the AWS clients (and let the sandbox AWS load its EC2 data) in the background, so that the
    first reconcile, which holds the stand-in's lock, does not wait seconds for them."""
    if not aws_enabled(settings):
        return None

    def run():
        try:
            aws_client(settings, "ec2").describe_subnets(MaxResults=5)
            aws_client(settings, "elbv2").describe_load_balancers(PageSize=1)
            for service in ("acm", "eks", "s3"):
                aws_client(settings, service)
        except Exception:  # pylint: disable=broad-except  # only a head start; reconciles report errors
            pass

    thread = threading.Thread(target=run, name="aws-warm-up", daemon=True)
    thread.start()
    return thread
