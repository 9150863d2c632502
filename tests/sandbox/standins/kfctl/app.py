"""What kfctl build / apply / delete do with a KfDef (contract sections 2 and 3), against the sandbox."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tarfile
import time
import urllib.request

import yaml

from . import catalog
from .kube import Kube, KubeError

SUPPORTED_VERSIONS = ("v1", "v1beta1")
GROUP = "kfdef.apps.kubeflow.org"
FORCE_DELETE = "kfctl.kubeflow.io/force-delete"
APPLY_BUDGET = 600.0  # seconds kfctl retries one application
POLICIES = ("iam_alb_ingress_policy", "iam_profile_controller_policy")
# Short stand-ins for the policy files of manifests aws/infra_configs (the real ones list many more actions).
POLICY_ACTIONS = {
    "iam_alb_ingress_policy": [
        "elasticloadbalancing:*",
        "ec2:Describe*",
        "acm:DescribeCertificate",
        "cognito-idp:DescribeUserPoolClient",
    ],
    "iam_profile_controller_policy": ["iam:GetRole", "iam:UpdateAssumeRolePolicy"],
    "iam_cloudwatch_policy": ["logs:CreateLogStream", "logs:PutLogEvents"],
    "iam_csi_fsx_policy": ["fsx:CreateFileSystem", "fsx:DescribeFileSystems"],
}


class KfError(Exception):
    """An error kfctl returns (printed by cobra and by kfctl's main)."""


class Panic(Exception):
    """A Go runtime panic (kfctl dereferences a nil auth block)."""


class Clock:
    """Simulated seconds: KFCTL_SIM_TIME_SCALE (default 0 = instant) says how many real seconds one is worth."""

    def __init__(self):
        self.scale = float(os.environ.get("KFCTL_SIM_TIME_SCALE", "0") or 0)
        self.elapsed = 0.0

    def now(self):
        return self.elapsed

    def sleep(self, seconds):
        if self.scale > 0:
            time.sleep(seconds * self.scale)
        self.elapsed += seconds


_CLIENTS = {}


def _boto(service, region):
    """One client per service and process (creating boto3 clients is the slow part of a kfctl run)."""
    if (service, region) not in _CLIENTS:
        import boto3  # pylint: disable=import-outside-toplevel

        _CLIENTS[service, region] = boto3.client(service, region_name=region)
    return _CLIENTS[service, region]


class KfApp:
    def __init__(self, log, clock, path, for_delete=False):
        self.log, self.clock, self.uri = log, clock, path
        self.prefix = "couldn't delete KfApp: " if for_delete else f"failed to build kfApp from URI {path}: "
        self.path = self._localize(path)
        self.app_dir = os.path.dirname(os.path.abspath(self.path))
        self.kfdef = self._load()
        meta = self.kfdef.setdefault("metadata", {})
        if not meta.get("name"):
            meta["name"] = os.path.basename(self.app_dir)
            log.info(
                f"No name specified in KfDef.Metadata.Name; defaulting to {meta['name']}",
                "kfconfig/loaders/loaders.go:176",
            )
        self.name = meta["name"]
        self.namespace = meta.get("namespace") or "kubeflow"
        self.plugin = next(
            (p for p in (self.kfdef.get("spec") or {}).get("plugins") or [] if (p or {}).get("kind") == "KfAwsPlugin"),
            None,
        )
        self.aws = (self.plugin or {}).get("spec") or {} if self.plugin else None

    # -- load --------------------------------------------------------------------------------------------
    def _localize(self, path):
        if re.match(r"^https?://", path):
            cwd = os.getcwd()
            if os.listdir(cwd):
                raise KfError(self.prefix + f"current directory {cwd} not empty, please switch directories")
            dest = os.path.join(cwd, os.path.basename(path))
            try:
                with urllib.request.urlopen(path, timeout=20) as response, open(dest, "wb") as out:
                    out.write(response.read())
            except OSError as exc:
                raise KfError(self.prefix + f"couldn't download {path}: {exc}") from None
            return dest
        return path

    def _load(self):
        try:
            with open(self.path) as stream:
                data = yaml.safe_load(stream)
        except OSError as exc:
            raise KfError(self.prefix + f"open {self.path}: {exc.strerror.lower()}") from None
        except yaml.YAMLError as exc:
            raise KfError(f"Cannot determine the object kind: {exc}") from None
        if not isinstance(data, dict) or not data.get("kind"):
            raise KfError("Cannot determine the object kind: Object 'Kind' is missing")
        if data["kind"] != "KfDef":
            raise KfError(f"Unsupported object kind: {data['kind']}")
        group, _sep, version = str(data.get("apiVersion", "")).partition("/")
        if version == "v1alpha1":
            raise KfError(
                self.prefix + "config version v1alpha1 is no longer supported by this kfctl; "
                "use the kfctl of Kubeflow 0.6/0.7 for it, or a v1 KfDef"
            )
        if group != GROUP or version not in SUPPORTED_VERSIONS:
            raise KfError(self.prefix + f"unsupported API version {data.get('apiVersion')}")
        return data

    def write(self):
        with open(self.path, "w") as stream:
            yaml.safe_dump(self.kfdef, stream, default_flow_style=False, sort_keys=False)

    # -- AWS plugin ------------------------------------------------------------------------------------
    def validate_plugin(self):
        spec = self.aws
        if "auth" not in spec or spec["auth"] is None:
            raise Panic("runtime error: invalid memory address or nil pointer dereference")
        auth = spec["auth"] or {}
        blocks = [
            ("basicAuth", auth.get("basicAuth"), ("username", "password")),
            (
                "oidc",
                auth.get("oidc"),
                (
                    "oidcAuthorizationEndpoint",
                    "oidcIssuer",
                    "oidcTokenEndpoint",
                    "oidcUserInfoEndpoint",
                    "certArn",
                    "oAuthClientId",
                    "oAuthClientSecret",
                ),
            ),
            (
                "cognito",
                auth.get("cognito"),
                ("certArn", "cognitoAppClientId", "cognitoUserPoolArn", "cognitoUserPoolDomain"),
            ),
            ("managedRelationDatabase", spec.get("managedRelationDatabase"), ("host", "username", "password")),
            ("managedObjectStorage", spec.get("managedObjectStorage"), ("endpoint", "bucket")),
        ]
        for _block, value, fields in blocks:
            if not value:
                continue
            for field in fields:
                if not value.get(field):
                    raise KfError(self.prefix + f"{field[0].upper() + field[1:]} is required")
            return  # only the first block present is checked

    def init_aws(self):
        for command in ("aws", "aws-iam-authenticator", "eksctl"):
            if shutil.which(command) is None:
                raise KfError(self.prefix + f"Could not find command {command} in PATH")
        out = subprocess.run(["eksctl", "version"], capture_output=True, text=True, check=False).stdout
        match = re.search(r"[0-9]+\.[0-9]+\.[0-9]+", out)
        if not match or tuple(int(x) for x in match.group(0).split(".")) <= (0, 1, 32):
            raise KfError(self.prefix + f"eksctl version has to be great than 0.1.32, current version {out.strip()}")

    def sts_check(self):
        try:
            _boto("sts", self.aws.get("region")).get_caller_identity()
        except Exception as exc:  # pylint: disable=broad-except
            raise KfError(self.prefix + f"Could not authenticate aws client: {exc}") from None

    # -- build -------------------------------------------------------------------------------------------
    def sync_cache(self):
        status = self.kfdef.setdefault("status", {})
        cache = {c.get("name"): c for c in status.get("reposCache") or []}
        entries = []
        for repo in (self.kfdef.get("spec") or {}).get("repos") or []:
            name, uri = repo.get("name"), repo.get("uri", "")
            base = os.path.join(self.app_dir, ".cache", name)
            known = cache.get(name)
            if known and os.path.isdir(base) and os.path.isdir(known.get("localPath", "")):
                entries.append(known)
                continue
            if not os.path.isdir(base):
                self.log.info(f"Creating directory {os.path.relpath(base, self.app_dir)}", "kfconfig/types.go:450")
            self.log.info(f"Fetching {uri} to {base}", "kfconfig/types.go:498")
            local = self._fetch(name, uri, base)
            entries.append({"name": name, "localPath": local})
        status["reposCache"] = entries

    def _fetch(self, name, uri, base):
        os.makedirs(base, exist_ok=True)
        match = re.match(r"^https?://[^/]+/[^/]+/(?P<repo>[^/]+)/archive/(?P<ref>.+?)\.tar\.gz$", uri)
        if match:  # the sandbox has no internet: an archive download is simulated by its top directory
            top = os.path.join(base, f"{match.group('repo')}-{match.group('ref').lstrip('v')}")
            os.makedirs(top, exist_ok=True)
            return top
        local = uri[len("file:") :] if uri.startswith("file:") else uri
        if os.path.isdir(local):
            dest = os.path.join(base, os.path.basename(os.path.normpath(local)))
            if not os.path.isdir(dest):
                shutil.copytree(local, dest)
            return dest
        if os.path.isfile(local):
            with tarfile.open(local) as archive:
                archive.extractall(base, filter="data")
            subdirs = [d for d in os.listdir(base) if os.path.isdir(os.path.join(base, d))]
            return os.path.join(base, subdirs[0]) if len(subdirs) == 1 else base
        raise KfError(self.prefix + f"couldn't sync cache for repo {name}: couldn't download URI {uri}")

    def set_parameter(self, app_name, key, value):
        for app in (self.kfdef.get("spec") or {}).get("applications") or []:
            if app.get("name") != app_name:
                continue
            params = app.setdefault("kustomizeConfig", {}).setdefault("parameters", [])
            for param in params:
                if param.get("name") == key:
                    param["value"] = value
                    return
            params.append({"name": key, "value": value})

    def generate_aws(self):
        target = os.path.join(self.app_dir, "aws_config")
        if os.path.isdir(target):
            self.log.info(f"folder {target} exists, skip aws.Generate", "aws/aws.go:513")
            return
        self.sts_check()
        os.makedirs(target)
        region = self.aws.get("region")
        cluster = {
            "apiVersion": "eksctl.io/v1alpha5",
            "kind": "ClusterConfig",
            "metadata": {"name": self.name, "region": region, "version": "1.15"},
            "nodeGroups": [{"name": "cpu-nodegroup", "instanceType": "m5.2xlarge", "desiredCapacity": 2}],
        }
        files = {
            "cluster_config.yaml": yaml.safe_dump(cluster, sort_keys=False),
            "cluster_features.yaml": "managedNodeGroups: false\n",
            "README.md": "Infrastructure configs written by kfctl (sandbox simulator).\n",
        }
        for policy, actions in POLICY_ACTIONS.items():
            document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
            files[policy + ".json"] = json.dumps(document, indent=2) + "\n"
        for name, text in files.items():
            with open(os.path.join(target, name), "w") as stream:
                stream.write(text)
        self.set_parameter("aws-alb-ingress-controller", "clusterName", self.name)
        self.set_parameter("istio-ingress", "namespace", "istio-system")
        cognito = (self.aws.get("auth") or {}).get("cognito")
        if cognito:
            self.set_parameter("istio-ingress", "CognitoUserPoolArn", cognito["cognitoUserPoolArn"])
            self.set_parameter("istio-ingress", "CognitoUserPoolDomain", cognito["cognitoUserPoolDomain"])
            self.set_parameter("istio-ingress", "CognitoAppClientId", cognito["cognitoAppClientId"])
            self.set_parameter("istio-ingress", "certArn", cognito["certArn"])
            self.set_parameter("istio", "clusterRbacConfig", "ON")

    def generate_kustomize(self):
        target = os.path.join(self.app_dir, "kustomize")
        if os.path.isdir(target):
            self.log.info(f"folder {target} exists, skip kustomize.Generate", "kustomize/kustomize.go:350")
            return
        for app in (self.kfdef.get("spec") or {}).get("applications") or []:
            params = {p.get("name"): p.get("value") for p in (app.get("kustomizeConfig") or {}).get("parameters") or []}
            objects = catalog.render(app["name"], params, self.namespace)
            folder = os.path.join(target, app["name"])
            os.makedirs(folder)
            with open(os.path.join(folder, "kustomization.yaml"), "w") as stream:
                yaml.safe_dump(
                    {
                        "apiVersion": "kustomize.config.k8s.io/v1beta1",
                        "kind": "Kustomization",
                        "resources": ["objects.yaml"],
                    },
                    stream,
                )
            with open(os.path.join(folder, "objects.yaml"), "w") as stream:
                yaml.safe_dump_all(objects, stream, sort_keys=False)

    def build(self):
        if self.plugin:
            self.validate_plugin()
            self.init_aws()
        self.sync_cache()
        if self.plugin:
            self.generate_aws()
        self.generate_kustomize()
        self.write()

    # -- apply -------------------------------------------------------------------------------------------
    def app_objects(self, app_name):
        path = os.path.join(self.app_dir, "kustomize", app_name, "objects.yaml")
        if not os.path.exists(path):
            return None
        with open(path) as stream:
            return [o for o in yaml.safe_load_all(stream) if o]

    def apply(self):
        self.build()
        prefix = "failed to apply: "
        try:
            kube = Kube()
        except KubeError as exc:
            raise KfError(prefix + str(exc)) from None
        if self.plugin:
            self.apply_aws(kube, prefix)
        for app in (self.kfdef.get("spec") or {}).get("applications") or []:
            self.apply_application(kube, app["name"], prefix)
        self.kfdef["metadata"]["clusterName"] = kube.cluster_name
        self.write()
        self.wait_default_namespace(kube)
        self.log.info("Applied the configuration Successfully!", "cmd/apply.go:75")

    def apply_aws(self, kube, prefix):
        try:
            self.sts_check()
        except KfError as exc:
            raise KfError(prefix + str(exc).replace(self.prefix, "")) from None
        roles = list(self.aws.get("roles") or [])
        if self.aws.get("managedCluster"):
            config = os.path.join(self.app_dir, "aws_config", "cluster_config.yaml")
            done = subprocess.run(
                ["eksctl", "create", "cluster", f"--config-file={config}"], capture_output=True, text=True, check=False
            )
            if done.returncode != 0:
                raise KfError(
                    prefix + f"Call 'eksctl create cluster --config-file={config}' with errors: {done.stderr.strip()}"
                )
            iam = _boto("iam", self.aws.get("region"))
            for page in iam.get_paginator("list_roles").paginate():
                roles += [
                    r["RoleName"]
                    for r in page["Roles"]
                    if r["RoleName"].startswith(f"eksctl-{self.name}-") and "NodeInstanceRole" in r["RoleName"]
                ]
        else:
            self.log.info("You already have cluster setup. Skip creating new eks cluster.", "aws/aws.go:1258")
        for ns in (self.namespace, "istio-system"):
            try:
                if kube.ensure_namespace(ns):
                    self.log.info(f"Creating namespace: {ns}", "aws/aws.go:1281")
            except KubeError as exc:
                raise KfError(prefix + str(exc)) from None
        policies = list(POLICIES) + (["iam_cloudwatch_policy"] if self.aws.get("enableNodeGroupLog") else [])
        iam = _boto("iam", self.aws.get("region"))
        for role in roles:
            for policy in policies:
                try:
                    iam.put_role_policy(
                        RoleName=role,
                        PolicyName=policy,
                        PolicyDocument=open(os.path.join(self.app_dir, "aws_config", policy + ".json")).read(),
                    )
                except Exception as exc:  # pylint: disable=broad-except
                    self.log.warn(f"Failed to attach inline policy {policy} to role {role}: {exc}", "aws/aws.go:743")

    def apply_application(self, kube, name, prefix):
        objects = self.app_objects(name)
        if objects is None:
            raise KfError(prefix + f"couldn't find kustomize folder for application {name}")
        self.log.info(f"Deploying application {name}", "kustomize/kustomize.go:233")
        started, delay = self.clock.now(), 1.0
        while True:
            try:
                for obj in objects:
                    kube.apply(obj)
                return
            except KubeError as exc:
                if self.clock.now() - started + delay > APPLY_BUDGET:
                    raise KfError(prefix + f"(kubeflow.error): Code 500 with message: Apply.Run : {exc}") from None
                self.log.warn(
                    f"Encountered error applying application {name}:  (kubeflow.error): {exc}",
                    "kustomize/kustomize.go:268",
                )
                self.log.warn(f"Will retry in {int(delay)} seconds.", "kustomize/kustomize.go:269")
                self.clock.sleep(delay)
                delay = min(delay * 2, 60.0)

    def wait_default_namespace(self, kube):
        deadline = self.clock.now() + 60
        while self.clock.now() < deadline:
            try:
                if kube.get("/api/v1/namespaces/anonymous") is not None:
                    return
            except KubeError:
                pass
            self.clock.sleep(10)
        self.log.warn("Default namespace creation skipped", "kfapp/coordinator.go:574")

    # -- delete ------------------------------------------------------------------------------------------
    def delete(self, force, delete_storage):
        meta = self.kfdef["metadata"]
        meta.setdefault("annotations", {})[FORCE_DELETE] = "true" if force else "false"
        self.write()
        try:
            kube = Kube()
        except KubeError as exc:
            raise KfError(self.prefix + str(exc)) from None
        recorded = meta.get("clusterName")
        if not recorded:
            if not force:
                raise KfError(
                    self.prefix + "cannot find ClusterName within KfDef, this may cause error deletion to clusters."
                )
            self.log.warn(
                "cannot find ClusterName within KfDef, this may cause error deletion to clusters.",
                "kustomize/kustomize.go:400",
            )
        elif recorded != kube.cluster_name:
            message = f"cluster name doesn't match: KfDef({recorded}) v.s. current-context({kube.cluster_name})"
            if not force:
                raise KfError(self.prefix + message)
            self.log.warn(message, "kustomize/kustomize.go:406")
        try:
            self.delete_kubernetes(kube, delete_storage)
            if self.plugin:
                self.delete_aws(kube)
        except KubeError as exc:
            raise KfError(self.prefix + str(exc)) from None

    def delete_kubernetes(self, kube, delete_storage):
        cluster_kinds = ("CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding")
        for app in reversed((self.kfdef.get("spec") or {}).get("applications") or []):
            objects = self.app_objects(app["name"])
            if objects is None:
                params = {
                    p.get("name"): p.get("value") for p in (app.get("kustomizeConfig") or {}).get("parameters") or []
                }
                objects = catalog.render(app["name"], params, self.namespace)
            for obj in objects:
                if obj["kind"] in cluster_kinds and kube.delete_object(obj):
                    self.log.info(f"Deleted {obj['kind']} {obj['metadata']['name']}", "kustomize/kustomize.go:433")
        if delete_storage:
            self.log.info("Deleting storage with --delete_storage", "kustomize/kustomize.go:440")
        if kube.delete(f"/api/v1/namespaces/{self.namespace}"):
            self.log.info(f"Deleting namespace {self.namespace}", "kustomize/kustomize.go:445")
        else:
            self.log.info(f"Namespace {self.namespace} already deleted", "kustomize/kustomize.go:448")

    def delete_aws(self, kube):
        kube.delete("/apis/networking.k8s.io/v1/namespaces/istio-system/ingresses/istio-ingress")
        for ns in ("istio-system", "cert-manager"):
            if kube.delete(f"/api/v1/namespaces/{ns}"):
                self.log.info(f"Deleting namespace {ns}", "aws/aws.go:1010")
        iam = _boto("iam", self.aws.get("region"))
        for role in self.aws.get("roles") or []:
            for policy in POLICIES + ("iam_cloudwatch_policy",):
                try:
                    iam.delete_role_policy(RoleName=role, PolicyName=policy)
                except Exception:  # pylint: disable=broad-except
                    pass
        if self.aws.get("managedCluster"):
            config = os.path.join(self.app_dir, "aws_config", "cluster_config.yaml")
            done = subprocess.run(
                ["eksctl", "delete", "cluster", f"--config-file={config}"], capture_output=True, text=True, check=False
            )
            if done.returncode != 0:
                raise KfError(
                    self.prefix
                    + f"Call 'eksctl delete cluster --config-file={config}' with errors: {done.stderr.strip()}"
                )
