# -*- coding: utf-8 -*-
# Copyright: kubeflow_ops.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Collection-private kfctl helpers (may change without notice).

What the kfctl module needs to know about kfctl v1.0.x - v1.2: how to call it (binary from an option or PATH,
arguments as lists), how to read its logrus output and error texts, how it rewrites the KfDef (so a desired
KfDef can be compared with the one kfctl left in the app directory), and what a valid KfAwsPlugin looks like.
"""

from __future__ import annotations

import copy
import os
import re

from ansible_collections.kubeflow_ops.aws.plugins.module_utils._cli import CliRunner

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    yaml = None

KFDEF_GROUP = "kfdef.apps.kubeflow.org"
KFDEF_VERSIONS = ("v1", "v1beta1")
AWS_PLUGIN_KIND = "KfAwsPlugin"
MANIFESTS_REPO = "manifests"
# Written by `kfctl delete` before it deletes anything.
FORCE_DELETE_ANNOTATION = "kfctl.kubeflow.io/force-delete"

# logrus text lines as kfctl prints them with -V: `INFO[0003] message   filename="kfapp/apply.go:71"`.
LOG_LINE_RE = re.compile(r"^(?P<level>PANI|FATA|ERRO|WARN|INFO|DEBU|TRAC)\[(?P<secs>\d+)\]\s(?P<text>.*)$")
LOG_FIELDS_RE = re.compile(r"\s+filename=\"?(?P<filename>[^\"\s]*)\"?\s*$")
LEVELS = {"PANI": "panic", "FATA": "fatal", "ERRO": "error", "WARN": "warning", "INFO": "info", "DEBU": "debug"}
LEVELS["TRAC"] = "trace"
APPLIED_RE = re.compile(r"Applied the configuration Successfully")
V12_PREFIX = "kfctl exited with error: "

ACCOUNT = r"\d{12}"
REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
CERT_ARN_RE = re.compile(
    r"^arn:(?P<partition>aws|aws-cn|aws-us-gov):acm:(?P<region>[a-z0-9-]+):(?P<account>[^:]*):certificate/(?P<id>.+)$"
)
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
POOL_ARN_RE = re.compile(
    r"^arn:(?P<partition>aws|aws-cn|aws-us-gov):cognito-idp:(?P<region>[a-z0-9-]+):(?P<account>[^:]*):"
    r"userpool/(?P<pool>.+)$"
)
POOL_ID_RE = re.compile(r"^(?P<region>[a-z0-9-]+)_[0-9A-Za-z]+$")
CLIENT_ID_RE = re.compile(r"^[0-9a-z]{1,128}$")
DOMAIN_PREFIX_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
FQDN_RE = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
ROLE_NAME_RE = re.compile(r"^[\w+=,.@-]{1,64}$")
CLUSTER_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,99}$")

KFCTL_COMMON_ARGS = dict(
    kfctl_path=dict(type="path"),
    kubeconfig=dict(type="path", no_log=False),
    profile=dict(type="str", aliases=["aws_profile"]),
)


# -- output ------------------------------------------------------------------------------------------
def parse_log(text):
    """logrus lines of kfctl's stderr as [{level, message, filename}]; other lines are left out."""
    entries = []
    for line in (text or "").splitlines():
        match = LOG_LINE_RE.match(line.rstrip())
        if not match:
            continue
        body = match.group("text")
        fields = LOG_FIELDS_RE.search(body)
        filename = None
        if fields:
            filename = fields.group("filename")
            body = body[: fields.start()]
        entries.append({"level": LEVELS[match.group("level")], "message": body.strip(), "filename": filename})
    return entries


def error_message(stdout, stderr):
    """kfctl's own error text: cobra's `Error: ` line on stderr, else what kfctl printed on stdout (v1.0 plain,
    v1.2 with the `kfctl exited with error: ` prefix and no newline), else the last error log line."""
    for line in (stderr or "").splitlines():
        if line.startswith("Error: "):
            return line[len("Error: ") :].strip()
    out = (stdout or "").strip()
    if out:
        last = out.splitlines()[-1]
        return last[len(V12_PREFIX) :] if last.startswith(V12_PREFIX) else last
    errors = [e["message"] for e in parse_log(stderr) if e["level"] in ("error", "fatal", "panic")]
    if errors:
        return errors[-1]
    lines = [line for line in (stderr or "").splitlines() if line.strip()]
    return lines[-1] if lines else "kfctl failed without a message"


# -- KfDef --------------------------------------------------------------------------------------------
def aws_plugin(kfdef):
    plugins = [p for p in ((kfdef.get("spec") or {}).get("plugins") or []) if (p or {}).get("kind") == AWS_PLUGIN_KIND]
    return plugins[0] if plugins else None


def kfdef_name(kfdef, app_dir):
    """The name kfctl uses (metadata.name, else the base name of the app directory); for AWS the EKS cluster."""
    return (kfdef.get("metadata") or {}).get("name") or os.path.basename(os.path.normpath(app_dir))


def _set_parameter(app, name, value):
    config = app.setdefault("kustomizeConfig", {})
    params = config.get("parameters")
    if params is None:
        params = config["parameters"] = []
    for param in params:
        if param.get("name") == name:
            param["value"] = value
            return
    params.append({"name": name, "value": value})


def render(kfdef, app_dir):
    """The KfDef as kfctl build writes it back (contract section 2): name defaulted, AWS parameters injected.

    status and metadata.clusterName are kfctl's bookkeeping, not configuration, and are left out.
    """
    out = copy.deepcopy(kfdef)
    meta = out.setdefault("metadata", {})
    meta["name"] = kfdef_name(out, app_dir)
    meta.pop("clusterName", None)
    annotations = meta.get("annotations") or {}
    annotations.pop(FORCE_DELETE_ANNOTATION, None)
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    out.pop("status", None)
    plugin = aws_plugin(out)
    if plugin:
        apps = {a.get("name"): a for a in ((out.get("spec") or {}).get("applications") or [])}
        injected = [
            ("aws-alb-ingress-controller", "clusterName", meta["name"]),
            ("istio-ingress", "namespace", "istio-system"),
        ]
        cognito = ((plugin.get("spec") or {}).get("auth") or {}).get("cognito")
        if cognito:
            injected += [
                ("istio-ingress", "CognitoUserPoolArn", cognito.get("cognitoUserPoolArn")),
                ("istio-ingress", "CognitoUserPoolDomain", cognito.get("cognitoUserPoolDomain")),
                ("istio-ingress", "CognitoAppClientId", cognito.get("cognitoAppClientId")),
                ("istio-ingress", "certArn", cognito.get("certArn")),
                ("istio", "clusterRbacConfig", "ON"),
            ]
        for app_name, key, value in injected:
            if app_name in apps:
                _set_parameter(apps[app_name], key, value)
    return out


def dump(kfdef):
    return yaml.safe_dump(kfdef, default_flow_style=False, sort_keys=False)


def load_file(path):
    with open(path) as stream:
        return yaml.safe_load(stream)


# -- validation ---------------------------------------------------------------------------------------
def _cognito_errors(cognito, region):
    errors = []
    for key in ("certArn", "cognitoAppClientId", "cognitoUserPoolArn", "cognitoUserPoolDomain"):
        value = cognito.get(key)
        if not isinstance(value, str) or not value.strip():
            errors.append(f"auth.cognito.{key} is required (a non-empty string)")
    if errors:
        return errors
    cert = CERT_ARN_RE.match(cognito["certArn"])
    if not cert or not re.match(ACCOUNT + "$", cert.group("account")) or not UUID_RE.match(cert.group("id")):
        errors.append(
            f"auth.cognito.certArn {cognito['certArn']!r} is not an ACM certificate ARN "
            "(arn:aws:acm:<region>:<12-digit account>:certificate/<uuid>)"
        )
    elif region and cert.group("region") != region:
        errors.append(
            f"auth.cognito.certArn is in region {cert.group('region')} but the cluster (plugin spec.region) is in "
            f"{region}: the ALB needs a certificate from the cluster region (the us-east-1 certificate is only for "
            "the Cognito custom domain)"
        )
    pool = POOL_ARN_RE.match(cognito["cognitoUserPoolArn"])
    pool_id = POOL_ID_RE.match(pool.group("pool")) if pool else None
    if not pool or not re.match(ACCOUNT + "$", pool.group("account")) or not pool_id:
        errors.append(
            f"auth.cognito.cognitoUserPoolArn {cognito['cognitoUserPoolArn']!r} is not a Cognito user pool ARN "
            "(arn:aws:cognito-idp:<region>:<12-digit account>:userpool/<region>_<id>)"
        )
    elif pool_id.group("region") != pool.group("region"):
        errors.append(
            f"auth.cognito.cognitoUserPoolArn names pool {pool.group('pool')} of region {pool_id.group('region')} "
            f"in region {pool.group('region')}"
        )
    if not CLIENT_ID_RE.match(cognito["cognitoAppClientId"]):
        errors.append(
            f"auth.cognito.cognitoAppClientId {cognito['cognitoAppClientId']!r} is not a Cognito app client id "
            "(lower-case letters and digits)"
        )
    domain = cognito["cognitoUserPoolDomain"]
    if "://" in domain or "/" in domain:
        errors.append(
            f"auth.cognito.cognitoUserPoolDomain {domain!r} must be a domain name (auth.example.com) or a Cognito "
            "domain prefix, not a URL"
        )
    elif not (FQDN_RE.match(domain) or DOMAIN_PREFIX_RE.match(domain)):
        errors.append(
            f"auth.cognito.cognitoUserPoolDomain {domain!r} is neither a domain name nor a Cognito domain prefix"
        )
    return errors


def validate(kfdef, app_dir, require_roles=True):
    """Every problem with a KfDef that kfctl or AWS would only find late (or never); [] when fine."""
    if not isinstance(kfdef, dict):
        return ["the KfDef must be a mapping"]
    errors = []
    api_version = kfdef.get("apiVersion") or ""
    group, _sep, version = str(api_version).partition("/")
    if group != KFDEF_GROUP or version not in KFDEF_VERSIONS:
        hint = " (v1alpha1 is the Kubeflow 0.6/0.7 format kfctl refuses)" if version == "v1alpha1" else ""
        errors.append(
            f"apiVersion {api_version!r} is not one kfctl loads: use {KFDEF_GROUP}/v1 or {KFDEF_GROUP}/v1beta1{hint}"
        )
    if kfdef.get("kind") != "KfDef":
        errors.append(f"kind must be KfDef, not {kfdef.get('kind')!r}")
    meta = kfdef.get("metadata") or {}
    name = kfdef_name(kfdef, app_dir)
    if not CLUSTER_NAME_RE.match(name or ""):
        source = "metadata.name" if meta.get("name") else "the app directory name (metadata.name is empty)"
        errors.append(
            f"{source} {name!r} is not a valid EKS cluster name (kfctl uses it as the cluster name): a letter, then "
            "letters, digits and hyphens, at most 100 characters"
        )
    spec = kfdef.get("spec")
    if not isinstance(spec, dict):
        return errors + ["spec is missing"]
    apps = spec.get("applications") or []
    names = [a.get("name") if isinstance(a, dict) else None for a in apps]
    if not apps:
        errors.append("spec.applications is empty")
    if any(not n for n in names):
        errors.append("every entry of spec.applications needs a name")
    dupes = sorted({n for n in names if n and names.count(n) > 1})
    if dupes:
        errors.append(f"spec.applications has duplicate names: {', '.join(dupes)}")
    repos = [r.get("name") for r in (spec.get("repos") or []) if isinstance(r, dict)]
    if MANIFESTS_REPO not in repos:
        errors.append(f"spec.repos must have an entry named {MANIFESTS_REPO!r} (kfctl looks the manifests up by it)")
    plugins = [p for p in (spec.get("plugins") or []) if isinstance(p, dict) and p.get("kind") == AWS_PLUGIN_KIND]
    if len(plugins) != 1:
        errors.append(f"spec.plugins must have exactly one {AWS_PLUGIN_KIND} (found {len(plugins)})")
        return errors
    pspec = plugins[0].get("spec")
    if not isinstance(pspec, dict):
        return errors + [f"the {AWS_PLUGIN_KIND} has no spec"]
    region = pspec.get("region")
    if not isinstance(region, str) or not REGION_RE.match(region):
        errors.append(f"{AWS_PLUGIN_KIND} spec.region {region!r} is not an AWS region such as us-west-2")
        region = None
    auth = pspec.get("auth")
    blocks = [b for b in ("basicAuth", "oidc", "cognito") if isinstance(auth, dict) and auth.get(b)]
    if not blocks:
        errors.append(
            f"{AWS_PLUGIN_KIND} spec.auth needs one of cognito, oidc or basicAuth (kfctl crashes without spec.auth)"
        )
    elif len(blocks) > 1:
        errors.append(
            f"{AWS_PLUGIN_KIND} spec.auth has {' and '.join(blocks)}: give only one (kfctl would validate only "
            f"{blocks[0]} and ignore the rest)"
        )
    elif blocks[0] == "cognito":
        errors += _cognito_errors(auth["cognito"], region)
    elif blocks[0] == "oidc":
        for key in ("oidcAuthorizationEndpoint", "oidcIssuer", "oidcTokenEndpoint", "oidcUserInfoEndpoint", "certArn"):
            if not auth["oidc"].get(key):
                errors.append(f"auth.oidc.{key} is required")
    roles = pspec.get("roles")
    if roles is not None and not isinstance(roles, list):
        errors.append(f"{AWS_PLUGIN_KIND} spec.roles must be a list of IAM role names")
    elif require_roles and not roles and not pspec.get("enablePodIamPolicy"):
        errors.append(
            f"{AWS_PLUGIN_KIND} spec.roles is empty: kfctl puts the ALB ingress and profile controller policies on "
            "these node instance roles (the IAM roles named eksctl-<cluster>-nodegroup-...-NodeInstanceRole-...); "
            "without them the ALB is never created"
        )
    for role in roles if isinstance(roles, list) else []:
        if isinstance(role, str) and role.startswith("arn:"):
            errors.append(f"spec.roles entry {role!r} is an ARN: kfctl wants the role name (the part after role/)")
        elif not isinstance(role, str) or not ROLE_NAME_RE.match(role):
            errors.append(f"spec.roles entry {role!r} is not an IAM role name")
    for flag in ("enablePodIamPolicy", "enableNodeGroupLog", "managedCluster"):
        if flag in pspec and not isinstance(pspec[flag], bool):
            errors.append(f"{AWS_PLUGIN_KIND} spec.{flag} must be true or false, not {pspec[flag]!r}")
    return errors


# -- kubeconfig ---------------------------------------------------------------------------------------
def kubeconfig_path(explicit=None):
    if explicit:
        return explicit
    env = os.environ.get("KUBECONFIG")
    if env:
        return env.split(os.pathsep)[0]
    return os.path.expanduser("~/.kube/config")


def current_cluster_name(path):
    """Cluster name of the kubeconfig's current context (what kfctl apply records in metadata.clusterName)."""
    try:
        with open(path) as stream:
            config = yaml.safe_load(stream) or {}
    except (OSError, yaml.YAMLError):
        return None
    current = config.get("current-context")
    for ctx in config.get("contexts") or []:
        if ctx.get("name") == current:
            return (ctx.get("context") or {}).get("cluster")
    return None


# -- runner -------------------------------------------------------------------------------------------
class KfctlRunner(CliRunner):
    """Runs kfctl for a module; `commands` records what ran (or would run), `log` what kfctl logged."""

    tool = "kfctl"
    path_option = "kfctl_path"
    install_hint = "install kfctl v1.0.x-v1.2"

    def __init__(self, module):
        super().__init__(module)
        self.log = []

    def environ(self):
        env = super().environ()
        if self.module.params.get("kubeconfig"):
            env["KUBECONFIG"] = self.module.params["kubeconfig"]
        return env

    def error_message(self, stdout, stderr):
        return error_message(stdout, stderr)

    def after_run(self, stdout, stderr):
        self.log += parse_log(stderr)

    def run(self, args, cwd=None):
        return self.execute(args, cwd=cwd)
