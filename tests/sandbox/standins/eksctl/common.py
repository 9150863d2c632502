"""Pieces every command shares: errors, the eksctl logger, printers, simulated time, AWS clients."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone

from . import EKSCTL_VERSION

ICONS = {"info": "ℹ", "success": "✔", "warning": "!", "critical": "✖", "debug": "▶"}
LEVELS = {"critical": 1, "warning": 2, "info": 3, "debug": 4}


class EksctlError(Exception):
    """An error eksctl returns from a command: printed as `Error: <message>` on stderr, exit 1."""


class Logger:
    """kris-nova/logger as eksctl configures it: `YYYY-MM-DD HH:MM:SS [<icon>]  <text>`."""

    def __init__(self, stream=None, verbosity=3):
        self.stream = stream or sys.stdout
        self.verbosity = verbosity
        self.silent = False

    def _emit(self, level, text, *args):
        if self.silent:
            return
        if level != "success" and LEVELS.get(level, 3) > self.verbosity:
            return
        if args:
            text = text % args
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        self.stream.write(f"{stamp} [{ICONS[level]}]  {text}\n")
        self.stream.flush()

    def info(self, text, *args):
        self._emit("info", text, *args)

    def success(self, text, *args):
        self._emit("success", text, *args)

    def warning(self, text, *args):
        self._emit("warning", text, *args)

    def critical(self, text, *args):
        self._emit("critical", text, *args)

    def debug(self, text, *args):
        self._emit("debug", text, *args)


# ---------------------------------------------------------------------------------------------
# Printers (pkg/printers): JSON like Go's json.MarshalIndent (4 spaces, HTML-safe escaping, no
# trailing newline), YAML like sigs.k8s.io/yaml (sorted keys), tables like text/tabwriter.


def go_json(obj) -> str:
    text = json.dumps(obj, indent=4, ensure_ascii=False)
    for char, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escaped)
    return text


def go_yaml(obj) -> str:
    import yaml  # pylint: disable=import-outside-toplevel

    return yaml.safe_dump(obj, sort_keys=True, default_flow_style=False, allow_unicode=True, width=1 << 20)


def tabwriter(rows) -> str:
    """Go text/tabwriter with tab padding (minwidth 0, tabwidth 8, padding 1), the last cell unpadded."""
    widths = {}
    for row in rows:
        for i, cell in enumerate(row[:-1]):
            widths[i] = max(widths.get(i, 0), len(str(cell)) + 1)
    lines = []
    for row in rows:
        out = []
        for i, cell in enumerate(row):
            cell = str(cell)
            if i == len(row) - 1:
                out.append(cell)
                continue
            width = -(-widths[i] // 8) * 8
            tabs = -(-(width - len(cell)) // 8)
            out.append(cell + "\t" * max(tabs, 1))
        lines.append("".join(out))
    return "\n".join(lines) + "\n"


def print_document(obj, output: str) -> None:
    if output == "json":
        sys.stdout.write(go_json(obj))
    else:
        sys.stdout.write(go_yaml(obj))
    sys.stdout.flush()


def rfc3339(value) -> str | None:
    """A time as Go marshals time.Time (RFC 3339 with trimmed fractional seconds), UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    value = value.astimezone(timezone.utc)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += ("." + f"{value.microsecond:06d}").rstrip("0")
    return text + "Z"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# ---------------------------------------------------------------------------------------------
# Simulated time


class Clock:
    """AWS durations in seconds, multiplied by EKSCTL_SIM_TIME_SCALE (default 0: instant)."""

    CLUSTER_CREATE = 15 * 60
    NODEGROUP_CREATE = 4 * 60
    NODEGROUP_DELETE = 3 * 60
    CLUSTER_DELETE = 10 * 60
    CLUSTER_UPGRADE = 10 * 60
    POLL = 30  # eksctl's CloudFormation waiter polls about every 30 s

    def __init__(self):
        try:
            self.scale = max(0.0, float(os.environ.get("EKSCTL_SIM_TIME_SCALE", "0") or 0))
        except ValueError:
            self.scale = 0.0

    def deadline(self, seconds: float) -> float:
        return time.time() + seconds * self.scale

    def wait_until(self, deadline: float, on_poll) -> None:
        """Sleep until `deadline` (wall clock), calling on_poll() once per simulated poll interval."""
        on_poll()
        interval = max(self.POLL * self.scale, 0.05)
        while True:
            left = deadline - time.time()
            if left <= 0:
                return
            time.sleep(min(interval, left))
            if deadline - time.time() > 0:
                on_poll()


def parse_duration(text: str) -> float:
    """Go time.ParseDuration for the units eksctl users write (h, m, s, ms)."""
    import re  # pylint: disable=import-outside-toplevel

    if text in ("0", ""):
        return 0.0
    parts = re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", text)
    if not parts or "".join(a + b for a, b in parts) != text:
        raise ValueError(f'time: invalid duration "{text}"')
    units = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    return sum(float(a) * units[b] for a, b in parts)


# ---------------------------------------------------------------------------------------------
# AWS

SERVICE_IDS = {
    "eks": "EKS",
    "cloudformation": "CloudFormation",
    "iam": "IAM",
    "ec2": "EC2",
    "autoscaling": "Auto Scaling",
    "sts": "STS",
}


def sdk_error(exc, service: str, operation: str) -> str:
    """A botocore ClientError rendered the way aws-sdk-go-v2 renders API errors."""
    response = getattr(exc, "response", {}) or {}
    error = response.get("Error", {})
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
    code = error.get("Code", "UnknownError")
    message = error.get("Message", str(exc))
    return api_error(service, operation, status, code, message)


def api_error(service: str, operation: str, status: int, code: str, message: str) -> str:
    return (
        f"operation error {SERVICE_IDS.get(service, service)}: {operation}, https response error "
        f"StatusCode: {status}, RequestID: {uuid.uuid4()}, {code}: {message}"
    )


def error_code(exc) -> str:
    return (getattr(exc, "response", {}) or {}).get("Error", {}).get("Code", "")


class Aws:
    """botocore clients for one region; the endpoint comes from AWS_ENDPOINT_URL like any SDK."""

    def __init__(self, region: str, profile: str | None = None, session=None):
        # botocore directly: boto3's import (s3transfer) costs a tenth of a second per command.
        import botocore.session  # pylint: disable=import-outside-toplevel

        self.region = region
        self.session = session or botocore.session.get_session()
        if profile and session is None:
            self.session.set_config_variable("profile", profile)
        self._clients = {}
        self._account = None
        self._caller_arn = None

    def client(self, service: str):
        if service not in self._clients:
            from botocore.config import Config  # pylint: disable=import-outside-toplevel

            try:
                self._clients[service] = self.session.create_client(
                    service, region_name=self.region, config=Config(retries={"max_attempts": 3, "mode": "standard"})
                )
            except Exception as exc:  # botocore ProfileNotFound, NoCredentialsError and friends
                raise EksctlError(f"checking AWS STS access – cannot get role ARN for current session: {exc}") from exc
        return self._clients[service]

    @property
    def eks(self):
        return self.client("eks")

    @property
    def cfn(self):
        return self.client("cloudformation")

    @property
    def iam(self):
        return self.client("iam")

    @property
    def ec2(self):
        return self.client("ec2")

    @property
    def asg(self):
        return self.client("autoscaling")

    def caller(self) -> tuple[str, str]:
        if self._account is None:
            identity = self.client("sts").get_caller_identity()
            self._account, self._caller_arn = identity["Account"], identity["Arn"]
        return self._account, self._caller_arn

    @property
    def account(self) -> str:
        return self.caller()[0]

    def username(self) -> str:
        """The IAM user (or role session) name eksctl puts in kubeconfig context names."""
        return self.caller()[1].rsplit("/", 1)[-1]

    def endpoint_key(self) -> str:
        return os.environ.get("AWS_ENDPOINT_URL", "") or "aws"


def resolve_region(flag_region: str | None, profile: str | None = None) -> str:
    if flag_region:
        return flag_region
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if os.environ.get(name):
            return os.environ[name]
    try:
        import botocore.session  # pylint: disable=import-outside-toplevel

        session = botocore.session.get_session()
        if profile:
            session.set_config_variable("profile", profile)
        region = session.get_config_variable("region")
    except Exception:  # pylint: disable=broad-except
        region = None
    if not region:
        raise EksctlError(
            "AWS Region must be set, please set the AWS Region in AWS config file or as environment variable"
        )
    return region


@contextlib.contextmanager
def cluster_lock(aws: Aws, cluster: str):
    """Serialise state changes of one cluster across simulator processes (a lock, not state)."""
    import fcntl  # pylint: disable=import-outside-toplevel

    key = hashlib.sha1(f"{aws.endpoint_key()}|{aws.region}|{cluster}".encode()).hexdigest()[:20]
    directory = os.path.join(tempfile.gettempdir(), "eksctl-sim-locks")
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, key + ".lock"), "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def version_banner(log: Logger, region: str) -> None:
    log.info("eksctl version %s", EKSCTL_VERSION)
    log.info("using region %s", region)
