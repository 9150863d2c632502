# -*- coding: utf-8 -*-
# Copyright: kubeflow_ops.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared, collection-private helpers for kubeflow_ops.aws modules (may change without notice)."""

from __future__ import annotations

import time

from ansible_collections.amazon.aws.plugins.module_utils.common import set_collection_info
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

COLLECTION_NAME = "kubeflow_ops.aws"
COLLECTION_VERSION = "0.1.0"


class KubeflowOpsAWSModule(AnsibleAWSModule):
    """AnsibleAWSModule that identifies this collection in the AWS user agent."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        set_collection_info(collection_name=COLLECTION_NAME, collection_version=COLLECTION_VERSION)


class WaitTimeout(Exception):
    """Raised by poll_until when the condition did not hold in time."""

    def __init__(self, what, timeout, last):
        super().__init__(f"timed out after {timeout}s waiting for {what} (last seen: {last})")
        self.what = what
        self.timeout = timeout
        self.last = last


def poll_until(
    probe, done, what, timeout, initial=1.0, factor=1.5, maximum=15.0, sleep=time.sleep, clock=time.monotonic
):
    """Call probe() until done(value) holds, sleeping initial, initial*factor, ... capped at maximum.

    Short first intervals keep fast operations fast; the growing interval keeps slow ones
    (a Cognito domain can take 15 minutes) from hammering the API. Returns the last value,
    raises WaitTimeout naming `what` when timeout seconds pass.
    """
    deadline = clock() + timeout
    interval = initial
    while True:
        value = probe()
        if done(value):
            return value
        remaining = deadline - clock()
        if remaining <= 0:
            raise WaitTimeout(what, timeout, value)
        sleep(min(interval, remaining))
        interval = min(interval * factor, maximum)


def dict_diff(before, after):
    """Return the {before, after} pair Ansible prints with --diff, dropping keys equal on both sides."""
    before = before or {}
    after = after or {}
    keys = set(before) | set(after)
    changed = {k for k in keys if before.get(k) != after.get(k)}
    return {
        "before": {k: before[k] for k in sorted(changed) if k in before},
        "after": {k: after[k] for k in sorted(changed) if k in after},
    }
