#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubeflow_ops.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: wait
short_description: Wait for an async job or a resource state, printing progress instead of retries
version_added: 0.1.0
description:
  - Waits in one task for a background job started with C(async) / C(poll=0) (O(job)), or until a read-only
    module's result reaches a state (O(module), O(args), O(ready)).
  - "While it waits it prints what it waits for, the state it sees and the time spent against the limit, when the
    wait starts, whenever the state changes and every O(progress_interval) seconds, for example
    C(Still waiting for EKS control plane prod: CREATE_IN_PROGRESS [12m30s elapsed of 40m]). No poll is reported
    as a failure, unlike an C(until) loop's C(FAILED - RETRYING) lines."
  - On timeout it fails naming the resource, its last state and the setting that raises the limit
    (O(timeout_setting)).
  - The module of O(module) gets the task's C(module_defaults), groups included, like the task's own action.
  - Runs on the controller (an action plugin).
author:
  - kubeflow_ops maintainers (!UNKNOWN)
options:
  what:
    description: What is waited for, as the progress lines and errors name it (for example C(ALB of Ingress kubeflow/istio-ingress)).
    type: str
    required: true
  job:
    description:
      - Id of an async job (the C(ansible_job_id) a task with C(async) and C(poll=0) registered). The wait ends when
        the job has finished; the task's result is the job's result, and it fails when the job failed. The job's
        file is removed afterwards.
      - With O(module), that module is called only to show the state of what the job works on, once per progress line.
    type: str
  module:
    description:
      - A read-only module called on every poll (every O(interval) seconds), for example M(kubernetes.core.k8s_info).
      - A failed call ends the wait with its error.
    type: str
  args:
    description: Arguments of O(module).
    type: dict
    default: {}
  state:
    description:
      - A JMESPath expression over O(module)'s result that gives the state to show (for example
        C(resources[0].status.loadBalancer.ingress[0].hostname)). Without O(ready) the wait ends when it is true
        (not empty, not null, not false).
    type: str
  ready:
    description:
      - A JMESPath expression over O(module)'s result that is true when the wait is over (for example
        C(length(resources[?status.conditions[?type=='Ready' && status=='True']]) == length(resources))).
    type: str
  failed:
    description:
      - A JMESPath expression over O(module)'s result that is true when the state can no longer become ready (for
        example C(certificates[0].status == 'FAILED')); the wait then fails at once.
    type: str
  timeout:
    description: Seconds to wait at most.
    type: int
    required: true
  timeout_setting:
    description: Name of the variable that sets O(timeout), named in the timeout error so the user knows what to raise.
    type: str
  interval:
    description: Seconds between polls.
    type: float
    default: 10
  progress_interval:
    description: Seconds between progress lines while the state stays the same.
    type: float
    default: 30
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: partial
    details: In check mode O(module) is called once and the task returns without waiting (what would be waited for is not there yet in a plan).
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
notes:
  - With C(no_log) on the task the states are not printed.
requirements:
  - jmespath (Python library on the controller) for O(state), O(ready) and O(failed).
"""

EXAMPLES = r"""
- name: Start eksctl in the background
  kubeflow_ops.aws.eksctl_cluster:
    config: "{{ cluster_config }}"
  async: 2460
  poll: 0
  register: control_plane_job

- name: Wait for the control plane, showing the CloudFormation stack's status
  kubeflow_ops.aws.wait:
    what: EKS control plane {{ cluster_name }}
    job: "{{ control_plane_job.ansible_job_id }}"
    module: amazon.aws.cloudformation_info
    args:
      stack_name: eksctl-{{ cluster_name }}-cluster
    state: "cloudformation.*.stack_description.stack_status | [0]"
    timeout: 2400
    timeout_setting: cluster_create_timeout
    interval: 15

- name: Wait for the ALB of an Ingress
  kubeflow_ops.aws.wait:
    what: ALB of Ingress kubeflow/istio-ingress
    module: kubernetes.core.k8s_info
    args:
      api_version: networking.k8s.io/v1
      kind: Ingress
      namespace: istio-system
      name: istio-ingress
    state: "resources[0].status.loadBalancer.ingress[0].hostname"
    timeout: 600
    timeout_setting: kubeflow_alb_timeout
  register: ingress
"""

RETURN = r"""
state:
  description: The last state seen (the result of O(state)); with O(job), the job's result is returned instead.
  returned: with O(module) and without O(job)
  type: raw
  sample: k8s-istiosys-istioing-0123456789-1234567890.eu-west-1.elb.amazonaws.com
attempts:
  description: How many times O(module) was called.
  returned: with O(module) and without O(job)
  type: int
  sample: 4
elapsed:
  description: Seconds waited.
  returned: always
  type: float
  sample: 181.5
"""
