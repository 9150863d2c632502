#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubeflow_ops.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: eksctl_nodegroup
short_description: Keep the node groups of an EKS cluster in line with a ClusterConfig, through eksctl
version_added: 0.1.0
description:
  - Reads the cluster's node groups with C(eksctl get nodegroup -o json) and compares them with the
    C(nodeGroups) (self-managed) and C(managedNodeGroups) of a C(ClusterConfig).
  - Creates the missing ones in one C(eksctl create nodegroup -f FILE --include=...) call, so eksctl
    creates them in parallel.
  - Scales groups whose C(minSize), C(maxSize) or C(desiredCapacity) differ (C(eksctl scale nodegroup)),
    one command per group that changed.
  - Node groups that exist in the cluster but not in the config are only reported (a warning) unless
    O(prune=true); then they are drained and deleted (C(eksctl delete nodegroup --drain --wait)).
  - Changing a group's instance type or kind (managed / self-managed) cannot happen in place; the module
    fails before running anything and says to add a new group and prune the old one.
  - In check mode nothing runs that changes anything; RV(commands) lists the eksctl commands that would run.
author:
  - kubeflow_ops maintainers (!UNKNOWN)
options:
  cluster:
    description: Cluster name. Taken from C(metadata.name) of the config when not given.
    type: str
  config:
    description: The C(ClusterConfig) as a dictionary (node groups are read from it).
    type: dict
  config_file:
    description: Path to a C(ClusterConfig) YAML or JSON file, instead of O(config).
    type: path
  prune:
    description: Delete node groups that exist in the cluster but are not in the config.
    type: bool
    default: false
  drain:
    description: Drain nodes before deleting a node group (evicting their pods first).
    type: bool
    default: true
  include:
    description:
      - Globs of node group names this task manages (like eksctl's C(--include)). Groups of the cluster
        that do not match are ignored (never scaled, reported or pruned). Lets two roles share a cluster.
    type: list
    elements: str
    default: ["*"]
  exclude:
    description: Globs of node group names this task leaves alone, applied after O(include).
    type: list
    elements: str
    default: []
  install_nvidia_plugin:
    description:
      - Let eksctl install the NVIDIA device plugin DaemonSet when it creates a GPU node group.
      - Defaults to C(false) because the C(gpu_nodes) role owns the device plugin; running both would create
        a second DaemonSet.
    type: bool
    default: false
extends_documentation_fragment:
  - kubeflow_ops.aws.eksctl
"""

EXAMPLES = r"""
- name: Node groups from the inventory's ClusterConfig
  kubeflow_ops.aws.eksctl_nodegroup:
    config: "{{ cluster_config }}"
    prune: "{{ cluster_prune_nodegroups }}"
"""

RETURN = r"""
nodegroups:
  description: The cluster's node groups after the changes, as eksctl summarizes them (snake_case keys).
  returned: always
  type: list
  elements: dict
  sample: [{"name": "cpu", "type": "managed", "min_size": 1, "max_size": 4, "desired_capacity": 2, "instance_type": "m5.xlarge"}]
created:
  description: Names of the node groups created (or that would be).
  returned: always
  type: list
  elements: str
scaled:
  description: Names of the node groups scaled (or that would be).
  returned: always
  type: list
  elements: str
deleted:
  description: Names of the node groups deleted (or that would be).
  returned: always
  type: list
  elements: str
unlisted:
  description: Node groups in the cluster that the config does not list (kept unless O(prune=true)).
  returned: always
  type: list
  elements: str
commands:
  description: The eksctl commands that ran (or, in check mode, would run), as argument lists.
  returned: always
  type: list
  elements: list
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

import fnmatch

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    yaml = None

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubeflow_ops.aws.plugins.module_utils._cli import CliError
from ansible_collections.kubeflow_ops.aws.plugins.module_utils._eksctl.nodegroups import config_groups, config_problems
from ansible_collections.kubeflow_ops.aws.plugins.module_utils._eksctl.runner import EKSCTL_COMMON_ARGS, EksctlRunner


def validate_groups(module, config):
    """All the node groups of the config, checked; fails before eksctl runs."""
    problems = config_problems(config)
    if problems:
        module.fail_json(msg="; ".join(problems))
    return config_groups(config)


def in_scope(module, name):
    include = module.params["include"] or ["*"]
    exclude = module.params["exclude"] or []
    return any(fnmatch.fnmatchcase(name, g) for g in include) and not any(fnmatch.fnmatchcase(name, g) for g in exclude)


def snake(summary):
    return {
        "name": summary.get("Name"),
        "type": summary.get("Type"),
        "status": summary.get("Status"),
        "min_size": summary.get("MinSize"),
        "max_size": summary.get("MaxSize"),
        "desired_capacity": summary.get("DesiredCapacity"),
        "instance_type": summary.get("InstanceType"),
        "image_id": summary.get("ImageID"),
        "node_instance_role_arn": summary.get("NodeInstanceRoleARN"),
        "stack_name": summary.get("StackName"),
        "version": summary.get("Version"),
    }


def main():
    module = AnsibleModule(
        argument_spec=dict(
            cluster=dict(type="str"),
            config=dict(type="dict"),
            config_file=dict(type="path"),
            prune=dict(type="bool", default=False),
            drain=dict(type="bool", default=True),
            include=dict(type="list", elements="str", default=["*"]),
            exclude=dict(type="list", elements="str", default=[]),
            install_nvidia_plugin=dict(type="bool", default=False),
            **EKSCTL_COMMON_ARGS,
        ),
        mutually_exclusive=[["config", "config_file"]],
        required_one_of=[["config", "config_file"]],
        supports_check_mode=True,
    )
    config = module.params["config"]
    if module.params["config_file"]:
        try:
            with open(module.params["config_file"]) as stream:
                config = yaml.safe_load(stream)
        except (OSError, yaml.YAMLError) as exc:
            module.fail_json(msg=f"cannot read config_file {module.params['config_file']}: {exc}")
    if not isinstance(config, dict):
        module.fail_json(msg="the ClusterConfig must be a mapping")
    meta = config.get("metadata") or {}
    cluster = module.params["cluster"] or meta.get("name")
    region = module.params["region"] or meta.get("region")
    if not cluster:
        module.fail_json(msg="cluster (or metadata.name in the config) is required")
    if meta.get("name") and meta["name"] != cluster:
        module.fail_json(msg=f"cluster {cluster} does not match metadata.name {meta['name']} of the config")
    if meta.get("region") and region != meta["region"]:
        module.fail_json(msg=f"region {region} does not match metadata.region {meta['region']} of the config")
    wanted = validate_groups(module, config)
    outside = sorted(name for name in wanted if not in_scope(module, name))
    if outside:
        module.fail_json(msg=f"node groups {', '.join(outside)} are outside include/exclude of this task")

    runner = EksctlRunner(module, region=region)
    timeout = ["--timeout", module.params["eksctl_timeout"]]
    try:
        existing = {g["Name"]: g for g in runner.get_nodegroups(cluster) if in_scope(module, g["Name"])}
        missing = [name for name in wanted if name not in existing]
        scale, problems = [], []
        for name, want in wanted.items():
            have = existing.get(name)
            if not have:
                continue
            if have.get("Type") and have["Type"] != want["type"]:
                problems.append(f"node group {name} is {have['Type']} in the cluster but {want['type']} in the config")
            have_type = have.get("InstanceType")
            if want["instance_type"] and have_type not in (None, "", "-") and have_type != want["instance_type"]:
                problems.append(
                    f"node group {name} runs {have_type}; instance type {want['instance_type']} cannot be set in place"
                )
            sizes = (have.get("MinSize"), have.get("MaxSize"), have.get("DesiredCapacity"))
            if sizes != (want["min_size"], want["max_size"], want["desired_capacity"]):
                scale.append(name)
        if problems:
            module.fail_json(
                msg="; ".join(problems) + ". Add a node group with a new name and prune the old one.",
                commands=runner.commands,
            )
        unlisted = sorted(name for name in existing if name not in wanted)
        plan = []
        if missing:
            args = ["create", "nodegroup", "-f", runner.config_file(config), "--include=" + ",".join(missing)]
            args += ["--install-nvidia-plugin=" + ("true" if module.params["install_nvidia_plugin"] else "false")]
            plan.append(args + timeout)
        for name in scale:
            want = wanted[name]
            plan.append(
                [
                    "scale",
                    "nodegroup",
                    "--cluster",
                    cluster,
                    "--region",
                    region,
                    "--name",
                    name,
                    "--nodes",
                    str(want["desired_capacity"]),
                    "--nodes-min",
                    str(want["min_size"]),
                    "--nodes-max",
                    str(want["max_size"]),
                ]
            )
        deleted = []
        if module.params["prune"]:
            for name in unlisted:
                args = ["delete", "nodegroup", "--cluster", cluster, "--region", region, "--name", name]
                args += ["--drain" if module.params["drain"] else "--drain=false", "--wait"] + timeout
                plan.append(args)
                deleted.append(name)
        elif unlisted:
            module.warn(
                f"node groups {', '.join(unlisted)} of cluster {cluster} are not in the config; "
                "they are kept (set prune: true to drain and delete them)"
            )
        for args in plan:
            if module.check_mode:
                runner.commands.append([runner.binary] + args)
            else:
                runner.run(args)
        after = existing
        if plan and not module.check_mode:
            after = {g["Name"]: g for g in runner.get_nodegroups(cluster) if in_scope(module, g["Name"])}
    except CliError as exc:
        runner.fail(exc, msg=f"eksctl failed for the node groups of cluster {cluster}")

    result = dict(
        changed=bool(plan),
        commands=runner.commands,
        nodegroups=[snake(after[name]) for name in sorted(after)],
        created=missing,
        scaled=scale,
        deleted=deleted,
        unlisted=unlisted,
    )
    if module._diff:
        before_sizes = {
            n: {k: snake(g)[k] for k in ("min_size", "max_size", "desired_capacity")} for n, g in existing.items()
        }
        after_sizes = dict(before_sizes)
        for name in missing + scale:
            after_sizes[name] = {k: wanted[name][k] for k in ("min_size", "max_size", "desired_capacity")}
        for name in deleted:
            after_sizes.pop(name, None)
        result["diff"] = dict(before=before_sizes, after=after_sizes)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
