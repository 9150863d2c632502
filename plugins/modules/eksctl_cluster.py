#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubeflow_ops.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: eksctl_cluster
short_description: Manage an EKS control plane with eksctl from a ClusterConfig
version_added: 0.1.0
description:
  - Creates an EKS cluster with C(eksctl create cluster) from a C(ClusterConfig) (always without node groups;
    M(kubeflow_ops.aws.eksctl_nodegroup) manages those), when no cluster of that name exists in the region.
  - When the cluster exists, compares it with the config; upgrades the control plane one minor version
    (C(eksctl upgrade cluster)), associates the IAM OIDC provider when C(iam.withOIDC) is set, and
    writes or refreshes a kubeconfig.
  - Fields that EKS cannot change in place (the region of an existing cluster, its VPC) and version jumps
    of more than one minor version fail with a clear message before eksctl changes anything.
  - A cluster that is still C(CREATING) or C(UPDATING) (for example after an interrupted run) is waited for.
  - In check mode nothing runs that changes anything; RV(commands) lists the eksctl commands that would run.
  - With O(state=absent), deletes the cluster and its node group stacks (C(eksctl delete cluster --wait)).
author:
  - kubeflow_ops maintainers (!UNKNOWN)
options:
  name:
    description:
      - Cluster name. Taken from C(metadata.name) of the config when not given; must match it when both are set.
    type: str
  state:
    description: Whether the cluster should exist.
    type: str
    choices: [present, absent]
    default: present
  config:
    description:
      - The C(ClusterConfig) (C(apiVersion) C(eksctl.io/v1alpha5)) as a dictionary.
      - Required with O(state=present) unless O(config_file) is given.
    type: dict
  config_file:
    description: Path to a C(ClusterConfig) YAML or JSON file, instead of O(config).
    type: path
  region:
    description:
      - AWS region. Taken from C(metadata.region) of the config when not given; must match it when both are set.
    type: str
    aliases: [aws_region]
  kubeconfig:
    description:
      - Path of a kubeconfig to write (create) or refresh with this cluster's context
        (C(eksctl utils write-kubeconfig)). Not written when unset.
    type: path
  wait_timeout:
    description:
      - Seconds to wait for a cluster that is C(CREATING) or C(UPDATING) before acting on it.
    type: int
    default: 1800
extends_documentation_fragment:
  - kubeflow_ops.aws.eksctl
notes:
  - On AWS a control plane takes 15 to 20 minutes to create and about 10 to upgrade; run the module with
    C(async) and poll it with M(ansible.builtin.async_status) to see progress and overlap other work
    (the C(cluster) role does).
"""

EXAMPLES = r"""
- name: Control plane from the inventory
  kubeflow_ops.aws.eksctl_cluster:
    config:
      apiVersion: eksctl.io/v1alpha5
      kind: ClusterConfig
      metadata: {name: kf-prod, region: us-west-2, version: "1.30"}
      iam: {withOIDC: true}
    kubeconfig: "{{ playbook_dir }}/.kube/kf-prod"

- name: Delete it
  kubeflow_ops.aws.eksctl_cluster:
    name: kf-prod
    region: us-west-2
    state: absent
"""

RETURN = r"""
cluster:
  description: The cluster as EKS describes it (selected fields), after the changes.
  returned: when the cluster exists (or would, in check mode)
  type: dict
  contains:
    name: {description: Cluster name., type: str, returned: always}
    region: {description: Region., type: str, returned: always}
    arn: {description: Cluster ARN., type: str, returned: when it exists}
    version: {description: Kubernetes version., type: str, returned: always, sample: "1.30"}
    status: {description: EKS status., type: str, returned: when it exists, sample: ACTIVE}
    endpoint: {description: API server URL., type: str, returned: when it exists}
    vpc_id: {description: VPC id., type: str, returned: when it exists}
    oidc_issuer: {description: OIDC issuer URL for IRSA., type: str, returned: when it exists}
commands:
  description: The eksctl commands that ran (or, in check mode, would run), as argument lists.
  returned: always
  type: list
  elements: list
  sample: [["eksctl", "upgrade", "cluster", "--name", "kf-prod", "--region", "us-west-2", "--version", "1.31", "--approve"]]
cmd:
  description: The failing command.
  returned: failure of an eksctl command
  type: list
  elements: str
rc:
  description: Exit code of the failing command.
  returned: failure of an eksctl command
  type: int
stdout:
  description: Standard output of the failing command.
  returned: failure of an eksctl command
  type: str
stderr:
  description: Standard error of the failing command.
  returned: failure of an eksctl command
  type: str
"""

import os
import time

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    yaml = None

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubeflow_ops.aws.plugins.module_utils._cli import CliError
from ansible_collections.kubeflow_ops.aws.plugins.module_utils._eksctl.config import (
    SUPPORTED_KUBERNETES_VERSIONS,
    parse_version,
    upgrade_steps,
)
from ansible_collections.kubeflow_ops.aws.plugins.module_utils._eksctl.runner import EKSCTL_COMMON_ARGS, EksctlRunner

BUSY = ("CREATING", "UPDATING", "PENDING")


def load_config(module):
    config = module.params["config"]
    path = module.params["config_file"]
    if path:
        try:
            with open(path) as stream:
                config = yaml.safe_load(stream)
        except (OSError, yaml.YAMLError) as exc:
            module.fail_json(msg=f"cannot read config_file {path}: {exc}")
    return config


def validate(module, config):
    """Check the config and options; returns (name, region, version). Fails before any eksctl call."""
    name, region = module.params["name"], module.params["region"]
    if config is None:
        if module.params["state"] == "present":
            module.fail_json(msg="config or config_file is required with state=present")
        if not name or not region:
            module.fail_json(msg="name and region are required with state=absent when no config is given")
        return name, region, None
    if not isinstance(config, dict):
        module.fail_json(msg="the ClusterConfig must be a mapping")
    if config.get("apiVersion") != "eksctl.io/v1alpha5" or config.get("kind") != "ClusterConfig":
        module.fail_json(msg="the config must have apiVersion eksctl.io/v1alpha5 and kind ClusterConfig")
    meta = config.get("metadata") or {}
    if not meta.get("name"):
        module.fail_json(msg="metadata.name must be set in the ClusterConfig")
    if not meta.get("region"):
        module.fail_json(msg="metadata.region must be set in the ClusterConfig")
    if name and name != meta["name"]:
        module.fail_json(msg=f"name {name} does not match metadata.name {meta['name']} of the ClusterConfig")
    if region and region != meta["region"]:
        module.fail_json(msg=f"region {region} does not match metadata.region {meta['region']} of the ClusterConfig")
    version = meta.get("version")
    if version is not None:
        version = str(version)
        try:
            parse_version(version)
        except ValueError as exc:
            module.fail_json(msg=f"metadata.version: {exc}")
        if version not in SUPPORTED_KUBERNETES_VERSIONS:
            module.fail_json(
                msg=f"metadata.version {version} is not a Kubernetes version EKS supports "
                f"({', '.join(SUPPORTED_KUBERNETES_VERSIONS)})"
            )
    return meta["name"], meta["region"], version


def summarize(cluster, name, region, version=None):
    if not cluster:
        return {"name": name, "region": region, "version": version}
    vpc = cluster.get("ResourcesVpcConfig") or {}
    oidc = ((cluster.get("Identity") or {}).get("Oidc") or {}).get("Issuer")
    return {
        "name": cluster.get("Name", name),
        "region": region,
        "arn": cluster.get("Arn"),
        "version": cluster.get("Version"),
        "status": cluster.get("Status"),
        "endpoint": cluster.get("Endpoint"),
        "vpc_id": vpc.get("VpcId"),
        "oidc_issuer": oidc,
    }


def wait_until_settled(module, runner, name, cluster):
    """A run interrupted during create or upgrade finds the cluster busy: wait instead of failing."""
    deadline = time.monotonic() + module.params["wait_timeout"]
    interval = 5.0
    while cluster and cluster.get("Status") in BUSY:
        if module.check_mode:
            return cluster
        if time.monotonic() > deadline:
            module.fail_json(
                msg=f"timed out after {module.params['wait_timeout']}s waiting for cluster {name} "
                f"to leave status {cluster.get('Status')}",
                commands=runner.commands,
            )
        time.sleep(interval)
        interval = min(interval * 1.5, 30.0)
        cluster = runner.get_cluster(name)
    if cluster and cluster.get("Status") == "FAILED":
        module.fail_json(
            msg=f"cluster {name} is in status FAILED; delete it (state=absent) and create it again",
            commands=runner.commands,
        )
    return cluster


def kubeconfig_has_cluster(path, name, region):
    if not path or not os.path.exists(path):
        return False
    try:
        with open(path) as stream:
            data = yaml.safe_load(stream) or {}
    except (OSError, yaml.YAMLError):
        return False
    wanted = f"{name}.{region}.eksctl.io"
    return any(c.get("name") == wanted for c in data.get("clusters") or [])


def read_file(path):
    try:
        with open(path, "rb") as stream:
            return stream.read()
    except OSError:
        return None


def ensure_present(module, runner, config, name, region, version):
    cluster = runner.get_cluster(name)
    changed = False
    before = summarize(cluster, name, region)
    kubeconfig = module.params["kubeconfig"]
    timeout = ["--timeout", module.params["eksctl_timeout"]]

    if cluster is None:
        # A cluster is found by name within one region. One with the same name elsewhere means the
        # region of an existing cluster changed, which EKS cannot do: stop rather than create a twin.
        for other in runner.list_clusters_all_regions():
            if other.get("Name") == name and other.get("Region") != region:
                module.fail_json(
                    msg=f"cluster {name} already exists in region {other.get('Region')}; the region of a cluster "
                    f"cannot change (asked for {region}). Delete it there first or use another name.",
                    commands=runner.commands,
                )
        args = ["create", "cluster", "-f", runner.config_file(config), "--without-nodegroup"] + timeout
        if kubeconfig:
            args += ["--kubeconfig", kubeconfig]
        else:
            args += ["--write-kubeconfig=false"]
        if module.check_mode:
            runner.commands.append([runner.binary] + args)
            after = summarize(None, name, region, version)
            return True, after, before
        runner.run(args)
        cluster = runner.get_cluster(name)
        return True, summarize(cluster, name, region), before

    cluster = wait_until_settled(module, runner, name, cluster)

    # Fields that cannot change in place.
    wanted_vpc = (config.get("vpc") or {}).get("id")
    current_vpc = (cluster.get("ResourcesVpcConfig") or {}).get("VpcId")
    if wanted_vpc and current_vpc and wanted_vpc != current_vpc:
        module.fail_json(
            msg=f"cluster {name} runs in VPC {current_vpc}; vpc.id {wanted_vpc} cannot be applied in place "
            "(a new cluster is needed)",
            commands=runner.commands,
        )

    actions = []
    current = cluster.get("Version")
    if version and current and version != current:
        if parse_version(version) < parse_version(current):
            module.fail_json(
                msg=f"cluster {name} runs Kubernetes {current}; downgrading to {version} is not supported",
                commands=runner.commands,
            )
        steps = upgrade_steps(current, version)
        if len(steps) > 1:
            module.fail_json(
                msg=f"cluster {name} runs Kubernetes {current}; EKS upgrades one minor version at a time, so "
                f"{version} needs the steps {' -> '.join([current] + steps)}: set metadata.version to {steps[0]} first",
                commands=runner.commands,
            )
        actions.append(
            ["upgrade", "cluster", "--name", name, "--region", region, "--version", version, "--approve"] + timeout
        )

    if (config.get("iam") or {}).get("withOIDC"):
        plan = runner.run(["utils", "associate-iam-oidc-provider", "--cluster", name, "--region", region], record=False)
        if "already associated" not in plan:
            actions.append(["utils", "associate-iam-oidc-provider", "--cluster", name, "--region", region, "--approve"])

    for args in actions:
        changed = True
        if module.check_mode:
            runner.commands.append([runner.binary] + args)
        else:
            runner.run(args)

    if kubeconfig:
        args = ["utils", "write-kubeconfig", "--cluster", name, "--region", region, "--kubeconfig", kubeconfig]
        if module.check_mode:
            if not kubeconfig_has_cluster(kubeconfig, name, region):
                changed = True
                runner.commands.append([runner.binary] + args)
        else:
            old = read_file(kubeconfig)
            runner.run(args)
            if read_file(kubeconfig) != old:
                changed = True

    if changed and not module.check_mode:
        cluster = runner.get_cluster(name)
    after = summarize(cluster, name, region)
    if module.check_mode and version and actions and actions[0][0] == "upgrade":
        after["version"] = version
    return changed, after, before


def ensure_absent(module, runner, name, region):
    cluster = runner.get_cluster(name)
    if cluster is None:
        return False, None, None
    before = summarize(cluster, name, region)
    args = [
        "delete",
        "cluster",
        "--name",
        name,
        "--region",
        region,
        "--wait",
        "--timeout",
        module.params["eksctl_timeout"],
    ]
    if module.check_mode:
        runner.commands.append([runner.binary] + args)
        return True, None, before
    try:
        runner.run(args)
    except CliError as exc:
        # Deleted by someone else meanwhile: the goal is reached.
        if "No cluster found" not in exc.msg:
            raise
    return True, None, before


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            config=dict(type="dict"),
            config_file=dict(type="path"),
            kubeconfig=dict(type="path"),
            wait_timeout=dict(type="int", default=1800),
            **EKSCTL_COMMON_ARGS,
        ),
        mutually_exclusive=[["config", "config_file"]],
        supports_check_mode=True,
    )
    if yaml is None:  # pragma: no cover
        module.fail_json(msg="PyYAML is required")
    config = load_config(module)
    name, region, version = validate(module, config)
    runner = EksctlRunner(module, region=region)
    try:
        if module.params["state"] == "present":
            changed, after, before = ensure_present(module, runner, config, name, region, version)
        else:
            changed, after, before = ensure_absent(module, runner, name, region)
    except CliError as exc:
        runner.fail(exc, msg=f"eksctl failed for cluster {name}")
    result = dict(changed=changed, commands=runner.commands)
    if after:
        result["cluster"] = after
    if module._diff:
        result["diff"] = dict(before=before or {}, after=after or {})
    module.exit_json(**result)


if __name__ == "__main__":
    main()
