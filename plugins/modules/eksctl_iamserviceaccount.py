#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubeflow_ops.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: eksctl_iamserviceaccount
short_description: Manage an IAM role for a Kubernetes service account (IRSA) through eksctl
version_added: 0.1.0
description:
  - Creates a Kubernetes service account bound to a new IAM role with the given managed policies
    (C(eksctl create iamserviceaccount --approve)), when eksctl's stack for it does not exist.
  - When it exists, compares the policies attached to its role (read from IAM) with O(attach_policy_arns)
    and runs C(eksctl update iamserviceaccount --approve) when they differ.
  - With O(state=absent), deletes it (C(eksctl delete iamserviceaccount --wait)).
  - The cluster needs an IAM OIDC provider (see M(kubeflow_ops.aws.eksctl_cluster) and C(iam.withOIDC));
    without one the module fails before eksctl changes anything.
  - In check mode nothing runs that changes anything; RV(commands) lists the eksctl commands that would run.
author:
  - kubeflow_ops maintainers (!UNKNOWN)
options:
  cluster:
    description: Cluster name.
    type: str
    required: true
  namespace:
    description: Kubernetes namespace of the service account.
    type: str
    default: default
  name:
    description: Name of the service account.
    type: str
    required: true
  attach_policy_arns:
    description: ARNs of the IAM managed policies to attach to the role. Required with O(state=present).
    type: list
    elements: str
  role_name:
    description: Name of the IAM role to create (eksctl generates one when unset). Cannot change later.
    type: str
  override_existing:
    description:
      - Annotate a Kubernetes service account that already exists without an eksctl stack
        (C(--override-existing-serviceaccounts)).
    type: bool
    default: true
  state:
    description: Whether the service account and its role should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - kubeflow_ops.aws.eksctl
requirements:
  - boto3 (to read the role's attached policies)
"""

EXAMPLES = r"""
- name: IRSA for the AWS Load Balancer Controller
  kubeflow_ops.aws.eksctl_iamserviceaccount:
    cluster: kf-prod
    region: us-west-2
    namespace: kube-system
    name: aws-load-balancer-controller
    attach_policy_arns:
      - arn:aws:iam::123456789012:policy/kf-prod-AWSLoadBalancerControllerIAMPolicy
"""

RETURN = r"""
service_account:
  description: The IRSA service account.
  returned: when it exists (or would, in check mode)
  type: dict
  contains:
    namespace: {description: Namespace., type: str, returned: always}
    name: {description: Name., type: str, returned: always}
    role_arn: {description: ARN of its IAM role., type: str, returned: when it exists}
    stack_name: {description: eksctl's CloudFormation stack., type: str, returned: when it exists}
    attach_policy_arns: {description: Policies attached to the role., type: list, elements: str, returned: always}
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

import re

try:
    import boto3
    import botocore
except ImportError:  # pragma: no cover
    boto3 = None

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubeflow_ops.aws.plugins.module_utils._cli import CliError
from ansible_collections.kubeflow_ops.aws.plugins.module_utils._eksctl.runner import EKSCTL_COMMON_ARGS, EksctlRunner

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
POLICY_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(aws|\d{12}):policy/[\w+=,.@/-]+$")


def attached_policies(module, role_arn):
    if boto3 is None:
        module.fail_json(msg="boto3 is required to read the role's policies")
    session = boto3.session.Session(profile_name=module.params.get("profile") or None)
    iam = session.client("iam", region_name=module.params.get("region"))
    role_name = role_arn.split("/")[-1]
    arns = []
    try:
        paginator = iam.get_paginator("list_attached_role_policies")
        for page in paginator.paginate(RoleName=role_name):
            arns += [p["PolicyArn"] for p in page["AttachedPolicies"]]
    except botocore.exceptions.ClientError as exc:
        module.fail_json(msg=f"cannot read the policies of role {role_name}: {exc}")
    return sorted(arns)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            cluster=dict(type="str", required=True),
            namespace=dict(type="str", default="default"),
            name=dict(type="str", required=True),
            attach_policy_arns=dict(type="list", elements="str"),
            role_name=dict(type="str"),
            override_existing=dict(type="bool", default=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            **EKSCTL_COMMON_ARGS,
        ),
        required_if=[["state", "present", ["attach_policy_arns"]]],
        supports_check_mode=True,
    )
    p = module.params
    for field in ("namespace", "name"):
        if not DNS_LABEL.match(p[field]):
            module.fail_json(msg=f"{field} {p[field]!r} is not a valid Kubernetes name (lowercase DNS label)")
    policies = sorted(set(p["attach_policy_arns"] or []))
    if p["state"] == "present":
        if not policies:
            module.fail_json(msg="attach_policy_arns must name at least one policy")
        bad = [arn for arn in policies if not POLICY_ARN.match(arn)]
        if bad:
            module.fail_json(msg=f"not IAM policy ARNs: {', '.join(bad)}")

    runner = EksctlRunner(module)
    cluster, ns, name = p["cluster"], p["namespace"], p["name"]
    base = ["--cluster", cluster] + runner.region_args() + ["--namespace", ns, "--name", name]
    changed = False
    result = {}
    try:
        if runner.get_cluster(cluster) is None:
            if p["state"] == "absent":
                module.exit_json(changed=False, commands=[])
            module.fail_json(msg=f"cluster {cluster} does not exist in region {runner.region}")
        items = runner.get_iamserviceaccounts(cluster, namespace=ns)
        current = next((i for i in items if (i.get("metadata") or {}).get("name") == name), None)
        status = (current or {}).get("status") or {}
        if p["state"] == "absent":
            if current:
                changed = True
                args = ["delete", "iamserviceaccount"] + base + ["--wait"]
                if module.check_mode:
                    runner.commands.append([runner.binary] + args)
                else:
                    runner.run(args)
            module.exit_json(changed=changed, commands=runner.commands)

        attach = []
        for arn in policies:
            attach += ["--attach-policy-arn", arn]
        if current is None:
            args = ["create", "iamserviceaccount"] + base + attach
            if p["role_name"]:
                args += ["--role-name", p["role_name"]]
            if p["override_existing"]:
                args += ["--override-existing-serviceaccounts"]
            args += ["--approve"]
            changed = True
            if module.check_mode:
                runner.commands.append([runner.binary] + args)
            else:
                runner.run(args)
        else:
            role_arn = status.get("roleARN")
            if p["role_name"] and role_arn and role_arn.split("/")[-1] != p["role_name"]:
                module.fail_json(
                    msg=f"service account {ns}/{name} uses role {role_arn.split('/')[-1]}; role_name cannot change "
                    "in place (delete it first)",
                )
            have = attached_policies(module, role_arn) if role_arn else []
            if have != policies:
                changed = True
                args = ["update", "iamserviceaccount"] + base + attach + ["--approve"]
                if module.check_mode:
                    runner.commands.append([runner.binary] + args)
                else:
                    runner.run(args)
        if changed and not module.check_mode:
            items = runner.get_iamserviceaccounts(cluster, namespace=ns)
            current = next((i for i in items if (i.get("metadata") or {}).get("name") == name), None)
            status = (current or {}).get("status") or {}
        result = {
            "namespace": ns,
            "name": name,
            "role_arn": status.get("roleARN"),
            "stack_name": status.get("stackName"),
            "attach_policy_arns": policies,
        }
    except CliError as exc:
        runner.fail(exc, msg=f"eksctl failed for service account {ns}/{name}")
    module.exit_json(changed=changed, commands=runner.commands, service_account=result)


if __name__ == "__main__":
    main()
