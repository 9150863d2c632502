#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubeflow_ops.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kfctl
short_description: Build, apply or delete a Kubeflow v1.0-v1.2 deployment with kfctl from a KfDef
version_added: 0.1.0
description:
  - Writes a C(KfDef) (C(kfdef.apps.kubeflow.org/v1) or C(v1beta1)) with one C(KfAwsPlugin) into a kfctl
    app directory and runs C(kfctl apply -V -f FILE) (O(state=present)), C(kfctl build -V -f FILE)
    (O(state=built)) or C(kfctl delete -V -f FILE) (O(state=absent)).
  - "kfctl keeps the deployed state in the app directory: build and apply write the KfDef back over the file,
    with the defaulted name and the parameters kfctl injects, and apply records the cluster of the current
    kubeconfig context in C(metadata.clusterName). The module compares the desired KfDef, rendered the way kfctl
    renders it, with that file; nothing runs when they match, the recorded cluster is the current context's and
    the Kubeflow namespace exists in that cluster."
  - kfctl re-uses C(<app_dir>/kustomize/) and C(<app_dir>/aws_config/) when they exist, so a changed KfDef would
    not be rendered again. When the desired KfDef differs from the one in the app directory, the module removes
    both directories before kfctl runs (the C(.cache/) of downloaded manifests is kept).
  - The C(KfAwsPlugin) is checked before kfctl runs, with a message that names the field - the four Cognito
    values (certificate and user pool ARNs, app client id, pool domain; the certificate must be in the cluster
    region, C(spec.region)), the node instance role names in C(spec.roles), the region, the C(auth) block,
    the C(apiVersion), the applications and the C(manifests) repo.
  - In check mode nothing is written and kfctl does not run; RV(commands) lists the kfctl commands that would
    run and the diff shows the KfDef before and after.
author:
  - kubeflow_ops maintainers (!UNKNOWN)
options:
  state:
    description:
      - V(present) builds and applies the KfDef (C(kfctl apply), which also builds).
      - V(built) only builds the app directory (C(kfctl build)), for review before applying.
      - V(absent) deletes the deployment (C(kfctl delete)) when its namespace still exists in the cluster.
    type: str
    choices: [present, built, absent]
    default: present
  config:
    description:
      - The KfDef as a dictionary. Required with O(state=present) and O(state=built) unless O(config_file) is
        given. With O(state=absent) the KfDef in O(app_dir) is used when neither is given.
    type: dict
  config_file:
    description:
      - Path of a KfDef YAML file, instead of O(config). It is read, never written; it must not be the file in
        O(app_dir) that kfctl rewrites.
    type: path
  app_dir:
    description:
      - The kfctl app directory (created when missing). kfctl keeps its state here (the rewritten KfDef,
        C(.cache/), C(kustomize/), C(aws_config/)); keep it between runs.
      - When C(metadata.name) of the KfDef is empty, kfctl names the deployment, and for AWS the EKS cluster,
        after the base name of this directory.
    type: path
    required: true
  kfdef_filename:
    description: Name of the KfDef file inside O(app_dir) that kfctl reads and rewrites.
    type: str
    default: kfctl.yaml
  force_deletion:
    description:
      - Pass C(--force-deletion) to C(kfctl delete), which then deletes even when C(metadata.clusterName) in the
        KfDef is missing or is not the cluster of the current kubeconfig context.
      - Without it the module fails before kfctl runs in that case.
    type: bool
    default: false
  delete_storage:
    description: Pass C(--delete_storage) to C(kfctl delete) (also delete storage kfctl created).
    type: bool
    default: false
  kubeconfig:
    description:
      - Kubeconfig kfctl applies to (its current context), passed to kfctl as E(KUBECONFIG).
        Defaults to E(KUBECONFIG), then C(~/.kube/config), like kfctl.
    type: path
  profile:
    description: AWS profile kfctl (and the aws and eksctl commands it runs) should use; sets E(AWS_PROFILE).
    type: str
    aliases: [aws_profile]
  kfctl_path:
    description: Path to the kfctl binary. Looked up on E(PATH) when not given.
    type: path
requirements:
  - kfctl v1.0.x to v1.2 and, for the C(KfAwsPlugin), the C(aws), C(aws-iam-authenticator) and C(eksctl)
    commands on E(PATH) (kfctl checks them).
  - The Python C(kubernetes) library on the managed node (the module reads the Kubeflow namespace).
notes:
  - kfctl is no longer maintained upstream; Kubeflow 1.3 and later install with kustomize.
  - kfctl retries each application for up to 10 minutes; run the module with C(async) for long installs.
  - Arguments are passed to kfctl as a list, never through a shell. On failure the result has RV(cmd), RV(rc),
    RV(stdout) and RV(stderr) of the failing command.
"""

EXAMPLES = r"""
- name: Kubeflow 1.0 with Cognito on an existing EKS cluster
  kubeflow_ops.aws.kfctl:
    app_dir: "{{ playbook_dir }}/kf-prod"
    kubeconfig: "{{ playbook_dir }}/.kube/kf-prod"
    config:
      apiVersion: kfdef.apps.kubeflow.org/v1
      kind: KfDef
      metadata: {name: kf-prod, namespace: kubeflow}
      spec:
        version: v1.0.2
        repos:
          - name: manifests
            uri: https://github.com/kubeflow/manifests/archive/v1.0.2.tar.gz
        applications: "{{ kubeflow_applications }}"
        plugins:
          - kind: KfAwsPlugin
            metadata: {name: aws}
            spec:
              region: us-west-2
              roles: [eksctl-kf-prod-nodegroup-ng-NodeInstanceRole-1ABCDEFGHIJKL]
              auth:
                cognito:
                  certArn: arn:aws:acm:us-west-2:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0
                  cognitoAppClientId: 5example1clientid2abcdefgh
                  cognitoUserPoolArn: arn:aws:cognito-idp:us-west-2:123456789012:userpool/us-west-2_AbCdEfGhI
                  cognitoUserPoolDomain: auth.platform.example.com

- name: Render the app directory only, to review it
  kubeflow_ops.aws.kfctl:
    app_dir: /srv/kubeflow/kf-prod
    config_file: files/kfctl_aws_cognito.yaml
    state: built

- name: Remove Kubeflow from the cluster
  kubeflow_ops.aws.kfctl:
    app_dir: /srv/kubeflow/kf-prod
    state: absent
"""

RETURN = r"""
kfdef:
  description: The KfDef in the app directory after the run (as kfctl rewrote it), or that would be written.
  returned: success, when there is a KfDef
  type: dict
kfdef_file:
  description: Path of the KfDef file kfctl reads and rewrites.
  returned: always
  type: str
  sample: /srv/kubeflow/kf-prod/kfctl.yaml
name:
  description: The deployment name kfctl uses (for AWS the EKS cluster name).
  returned: success
  type: str
  sample: kf-prod
cluster_name:
  description: Cluster of the current kubeconfig context (what C(kfctl apply) records in C(metadata.clusterName)).
  returned: success
  type: str
commands:
  description: The kfctl commands that ran (or, in check mode, would run), as argument lists.
  returned: always
  type: list
  elements: list
  sample: [["kfctl", "apply", "-V", "-f", "/srv/kubeflow/kf-prod/kfctl.yaml"]]
removed:
  description: Stale rendered directories of the app directory removed (or that would be) so kfctl renders again.
  returned: success
  type: list
  elements: str
log:
  description: kfctl's log lines (from C(-V)) of the commands that ran.
  returned: success
  type: list
  elements: dict
  contains:
    level: {description: logrus level., type: str, sample: info}
    message: {description: The message., type: str, sample: Applied the configuration Successfully!}
    filename: {description: Source location kfctl logged., type: str}
cmd:
  description: The failing command.
  returned: failure of a kfctl command
  type: list
  elements: str
rc:
  description: Exit code of the failing command.
  returned: failure of a kfctl command
  type: int
stdout:
  description: Standard output of the failing command.
  returned: failure of a kfctl command
  type: str
stderr:
  description: Standard error of the failing command.
  returned: failure of a kfctl command
  type: str
"""

import os
import shutil
import traceback

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    yaml = None

try:
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    from kubernetes.client.rest import ApiException

    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError:
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = traceback.format_exc()

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kubeflow_ops.aws.plugins.module_utils._cli import CliError
from ansible_collections.kubeflow_ops.aws.plugins.module_utils._kfctl import (
    KFCTL_COMMON_ARGS,
    KfctlRunner,
    current_cluster_name,
    dump,
    kfdef_name,
    kubeconfig_path,
    load_file,
    render,
    validate,
)

RENDERED_DIRS = ("kustomize", "aws_config")


def load_desired(module, target):
    config, path = module.params["config"], module.params["config_file"]
    if path:
        if os.path.abspath(path) == os.path.abspath(target):
            module.fail_json(
                msg=f"config_file {path} is the file kfctl rewrites in app_dir; keep the source KfDef elsewhere"
            )
        try:
            config = load_file(path)
        except (OSError, yaml.YAMLError) as exc:
            module.fail_json(msg=f"cannot read config_file {path}: {exc}")
    return config


def load_deployed(module, target):
    if not os.path.exists(target):
        return None
    try:
        data = load_file(target)
    except (OSError, yaml.YAMLError) as exc:
        module.fail_json(msg=f"cannot read the KfDef kfctl wrote in the app directory ({target}): {exc}")
    return data if isinstance(data, dict) else None


class Cluster:
    """The one read the module makes in the cluster: does a namespace exist (kfctl keeps no other state there)."""

    def __init__(self, module, path, name=None):
        self.module, self.path, self.name, self._core = module, path, name, None

    def namespace_exists(self, name):
        if not HAS_KUBERNETES:
            self.module.fail_json(msg=missing_required_lib("kubernetes"), exception=KUBERNETES_IMPORT_ERROR)
        if not os.path.exists(self.path):
            self.module.fail_json(
                msg=f"kubeconfig {self.path} does not exist; kfctl applies to the current context of the kubeconfig "
                "(set kubeconfig, or KUBECONFIG)"
            )
        try:
            if self._core is None:
                self._core = k8s_client.CoreV1Api(k8s_config.new_client_from_config(config_file=self.path))
            self._core.read_namespace(name)
            return True
        except ApiException as exc:
            if exc.status == 404:
                return False
            self.module.fail_json(msg=f"cannot read namespace {name} through kubeconfig {self.path}: {exc.reason}")
        except Exception as exc:  # pylint: disable=broad-exception-caught
            self.module.fail_json(msg=f"cannot reach the cluster of kubeconfig {self.path}: {exc}")
        return False  # pragma: no cover


def view(kfdef, app_dir, cluster_name=None):
    """What the diff shows: the KfDef as kfctl renders it, with the cluster it is (or will be) applied to."""
    if kfdef is None:
        return ""
    out = render(kfdef, app_dir)
    if cluster_name:
        out["metadata"]["clusterName"] = cluster_name
    return dump(out)


def write_kfdef(module, target, desired, deployed):
    """Write the user's KfDef for kfctl; keep kfctl's status (repos cache) when the repos did not change."""
    data = dict(desired)
    data.pop("status", None)
    if deployed and (deployed.get("spec") or {}).get("repos") == (desired.get("spec") or {}).get("repos"):
        if deployed.get("status"):
            data["status"] = deployed["status"]
    os.makedirs(os.path.dirname(target), exist_ok=True)
    tmp = target + ".tmp"
    with open(tmp, "w") as stream:
        stream.write(dump(data))
    os.replace(tmp, target)


def stale_dirs(app_dir):
    return [os.path.join(app_dir, d) for d in RENDERED_DIRS if os.path.isdir(os.path.join(app_dir, d))]


def ensure_present(module, runner, desired, deployed, app_dir, target, cluster):
    """state=present/built: returns (changed, removed)."""
    build_only = module.params["state"] == "built"
    same = deployed is not None and render(deployed, app_dir) == render(desired, app_dir)
    if build_only:
        if same and os.path.isdir(os.path.join(app_dir, "kustomize")):
            return False, []
        args = ["build", "-V", "-f", target]
    else:
        namespace = (desired.get("metadata") or {}).get("namespace") or "kubeflow"
        applied = same and (deployed.get("metadata") or {}).get("clusterName") == cluster.name
        if applied and cluster.namespace_exists(namespace):
            return False, []
        args = ["apply", "-V", "-f", target]
    removed = [] if same else stale_dirs(app_dir)
    if module.check_mode:
        runner.plan(args)
        return True, removed
    for path in removed:
        shutil.rmtree(path)
    if not same:
        write_kfdef(module, target, desired, deployed)
    runner.run(args, cwd=app_dir)
    return True, removed


def ensure_absent(module, runner, desired, deployed, app_dir, target, cluster):
    source = deployed or desired
    namespace = ((source or {}).get("metadata") or {}).get("namespace") or "kubeflow"
    if not any(cluster.namespace_exists(ns) for ns in (namespace, "istio-system")):
        return False, []
    if source is None:
        module.fail_json(
            msg=f"namespace {namespace} exists but there is no KfDef in {target} to delete it from; give config or "
            "config_file (and force_deletion, since it was not applied from this app directory)"
        )
    recorded = (source.get("metadata") or {}).get("clusterName")
    if recorded != cluster.name and not module.params["force_deletion"]:
        if not recorded:
            why = "the KfDef has no metadata.clusterName (it was not applied from this app directory)"
        else:
            why = f"the KfDef was applied to cluster {recorded} but the current kubeconfig context is {cluster.name}"
        module.fail_json(
            msg=f"kfctl delete would refuse: {why}; set force_deletion to delete anyway", commands=runner.commands
        )
    args = ["delete", "-V", "-f", target]
    if module.params["force_deletion"]:
        args.append("--force-deletion")
    if module.params["delete_storage"]:
        args.append("--delete_storage")
    if module.check_mode:
        runner.plan(args)
        return True, []
    if deployed is None:
        write_kfdef(module, target, desired, None)
    runner.run(args, cwd=app_dir)
    return True, []


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", default="present", choices=["present", "built", "absent"]),
            config=dict(type="dict"),
            config_file=dict(type="path"),
            app_dir=dict(type="path", required=True),
            kfdef_filename=dict(type="str", default="kfctl.yaml"),
            force_deletion=dict(type="bool", default=False),
            delete_storage=dict(type="bool", default=False),
            **KFCTL_COMMON_ARGS,
        ),
        mutually_exclusive=[["config", "config_file"]],
        required_if=[
            ["state", "present", ["config", "config_file"], True],
            ["state", "built", ["config", "config_file"], True],
        ],
        supports_check_mode=True,
    )
    if yaml is None:  # pragma: no cover
        module.fail_json(msg=missing_required_lib("PyYAML"))
    state = module.params["state"]
    app_dir = os.path.abspath(module.params["app_dir"])
    filename = module.params["kfdef_filename"]
    if not filename or os.sep in filename or filename in (".", ".."):
        module.fail_json(msg=f"kfdef_filename {filename!r} must be a plain file name inside app_dir")
    target = os.path.join(app_dir, filename)

    desired = load_desired(module, target)
    if desired is None and state != "absent":
        module.fail_json(msg=f"config or config_file (a KfDef) is required with state={state}")
    if desired is not None:
        errors = validate(desired, app_dir)
        if errors:
            module.fail_json(msg="invalid KfDef: " + "; ".join(errors), errors=errors, commands=[])
    deployed = load_deployed(module, target)

    runner = KfctlRunner(module)
    path = kubeconfig_path(module.params["kubeconfig"])
    cluster = Cluster(module, path, current_cluster_name(path) if state != "built" else None)
    before = view(deployed, app_dir, (deployed or {}).get("metadata", {}).get("clusterName"))
    try:
        if state == "absent":
            changed, removed = ensure_absent(module, runner, desired, deployed, app_dir, target, cluster)
        else:
            changed, removed = ensure_present(module, runner, desired, deployed, app_dir, target, cluster)
    except CliError as exc:
        runner.fail(exc, msg=f"kfctl failed for {target}")
    for entry in runner.log:
        if entry["level"] == "warning":
            module.warn(f"kfctl: {entry['message']}")

    after_kfdef = load_deployed(module, target) if not module.check_mode else None
    if module.check_mode:
        after_kfdef = desired if (state != "absent" and changed) else deployed
    result = dict(
        changed=changed,
        commands=runner.commands,
        kfdef_file=target,
        removed=removed,
        log=runner.log,
        cluster_name=cluster.name,
    )
    if after_kfdef is not None:
        result["kfdef"] = after_kfdef
        result["name"] = kfdef_name(after_kfdef, app_dir)
    if module._diff:
        if state == "absent":
            after = "" if changed else before
        elif module.check_mode and changed:
            after = view(desired, app_dir, cluster.name if state == "present" else None)
        else:
            after = view(after_kfdef, app_dir, (after_kfdef or {}).get("metadata", {}).get("clusterName"))
        result["diff"] = dict(before=before, after=after, before_header=target, after_header=target)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
