# -*- coding: utf-8 -*-
# Copyright: kubeflow_ops.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of kubeflow_ops.aws.wait (documented in plugins/modules/wait.py).

A long wait is one task that prints progress lines ("Still waiting for ...: <state> [2m10s elapsed of
20m]") instead of an `until:` loop whose every poll prints a FAILED - RETRYING line. It waits for an
async job (`job`) or for a read-only module whose result reaches a state (`module`, `args`, `ready`).
"""

from __future__ import annotations

import json
import time

try:
    import jmespath
except ImportError:  # pragma: no cover - checked in run()
    jmespath = None

from ansible.errors import AnsibleActionFail
from ansible.executor.module_common import _apply_action_arg_defaults
from ansible.plugins.action import ActionBase

ARGUMENT_SPEC = dict(
    what=dict(type="str", required=True),
    job=dict(type="str"),
    module=dict(type="str"),
    args=dict(type="dict", default={}),
    state=dict(type="str"),
    ready=dict(type="str"),
    failed=dict(type="str"),
    timeout=dict(type="int", required=True),
    timeout_setting=dict(type="str"),
    interval=dict(type="float", default=10.0),
    progress_interval=dict(type="float", default=30.0),
)
MAX_STATE = 240
HIDDEN = "(hidden: no_log)"


def duration(seconds):
    """3725 -> '1h2m5s', 130 -> '2m10s', 42 -> '42s'."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s" if secs else f"{hours}h{minutes}m"
    if minutes:
        return f"{minutes}m{secs}s" if secs else f"{minutes}m"
    return f"{secs}s"


def shown(value):
    """A state as one short line."""
    if value is None:
        text = "none yet"
    elif isinstance(value, str):
        text = value or "none yet"
    else:
        text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= MAX_STATE else text[: MAX_STATE - 3] + "..."


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        _validation, args = self.validate_argument_spec(
            argument_spec=ARGUMENT_SPEC,
            mutually_exclusive=[("job", "ready")],
            required_one_of=[("job", "module")],
            required_by={"ready": "module", "failed": "module", "state": "module"},
        )
        if args["module"] is None and args["job"] is None:  # pragma: no cover - required_one_of
            raise AnsibleActionFail("one of job or module is required")
        if args["job"] is None and not (args["ready"] or args["state"]):
            raise AnsibleActionFail("waiting for a module needs ready (or state, which is then also the condition)")
        if (args["state"] or args["ready"] or args["failed"]) and jmespath is None:
            raise AnsibleActionFail("kubeflow_ops.aws.wait needs the jmespath Python library on the controller")
        if args["timeout"] < 1 or args["interval"] <= 0 or args["progress_interval"] <= 0:
            raise AnsibleActionFail("timeout, interval and progress_interval must be positive")
        self._args = args
        self._vars = task_vars or {}
        self._host = self._vars.get("inventory_hostname", "")
        self._hidden = bool(self._task.no_log)
        self._expressions = {}
        for name in ("state", "ready", "failed"):
            if args[name]:
                try:
                    self._expressions[name] = jmespath.compile(args[name])
                except jmespath.exceptions.ParseError as exc:
                    raise AnsibleActionFail(f"{name}: {args[name]!r} is not a JMESPath expression: {exc}") from exc
        if args["job"]:
            result.update(self._wait_job())
        else:
            result.update(self._wait_module())
        return result

    # ------------------------------------------------------------------ progress

    def _say(self, text):
        self._display.display(f"[{self._host}] {text}" if self._host else text)

    def _limit(self):
        return duration(self._args["timeout"])

    def _timed_out(self, elapsed, state):
        setting = self._args["timeout_setting"]
        raise_it = f"; raise {setting} (now {self._args['timeout']}) to wait longer" if setting else ""
        last = HIDDEN if self._hidden else shown(state)
        raise AnsibleActionFail(
            f"Timed out after {duration(elapsed)} waiting for {self._args['what']} (last state: {last}){raise_it}"
        )

    def _progress(self, started, state, last):
        """Print a line when the wait starts, when the state changes, and every progress_interval.

        `last` is (time of the last line, state text it showed) or None before the first line; returns the new one.
        """
        now = time.monotonic()
        text = HIDDEN if self._hidden else shown(state)
        if last is None:
            self._say(f"Waiting for {self._args['what']} (up to {self._limit()}): {text}")
            return now, text
        if text != last[1] or now - last[0] >= self._args["progress_interval"]:
            self._say(
                f"Still waiting for {self._args['what']}: {text} [{duration(now - started)} elapsed of {self._limit()}]"
            )
            return now, text
        return last

    # ------------------------------------------------------------------ modules

    def _call(self, name, module_args):
        """Run a module with the task's module_defaults (groups included), as if it were the task's action."""
        found = self._shared_loader_obj.module_loader.find_plugin_with_context(
            name, collection_list=self._task.collections
        )
        if not found.resolved:
            raise AnsibleActionFail(f"module {name} was not found")
        module_args = _apply_action_arg_defaults(found.resolved_fqcn, self._task, dict(module_args), self._templar)
        return self._execute_module(module_name=found.resolved_fqcn, module_args=module_args, task_vars=self._vars)

    def _search(self, name, data):
        expression = self._expressions.get(name)
        return expression.search(data) if expression is not None else None

    def _wait_module(self):
        args = self._args
        started = time.monotonic()
        deadline = started + args["timeout"]
        last, attempts = None, 0
        while True:
            attempts += 1
            answer = self._call(args["module"], args["args"])
            if answer.get("failed"):
                answer.setdefault("msg", f"{args['module']} failed")
                answer["msg"] = f"while waiting for {args['what']}: {answer['msg']}"
                return answer
            data = {k: v for k, v in answer.items() if not k.startswith("_ansible") and k != "invocation"}
            state = self._search("state", data) if "state" in self._expressions else None
            done = self._search("ready", data) if "ready" in self._expressions else state
            elapsed = time.monotonic() - started
            out = dict(data, changed=False, state=state, attempts=attempts, elapsed=round(elapsed, 1))
            if done:
                if attempts > 1:
                    self._say(f"{args['what']}: done after {duration(elapsed)}")
                return out
            if self._search("failed", data):
                text = HIDDEN if self._hidden else shown(state)
                return dict(out, failed=True, msg=f"{args['what']} cannot finish: {text}")
            if self._task.check_mode:
                # A plan does not wait: what it would wait for is not there yet.
                return dict(out, msg=f"not waiting for {args['what']} in check mode")
            if time.monotonic() >= deadline:
                self._timed_out(elapsed, state)
            last = self._progress(started, state, last)
            time.sleep(max(0.0, min(args["interval"], deadline - time.monotonic())))

    # ------------------------------------------------------------------ async jobs

    def _async_dir(self):
        return self._remote_expand_user(self.get_shell_option("async_dir", default="~/.ansible_async"))

    def _job(self, mode):
        return self._execute_module(
            module_name="ansible.legacy.async_status",
            module_args=dict(jid=self._args["job"], mode=mode, _async_dir=self._async_dir()),
            task_vars=self._vars,
        )

    def _probe(self):
        """What the optional probe module says of the job's resource (shown in the progress lines)."""
        if not self._args["module"]:
            return "running"
        answer = self._call(self._args["module"], self._args["args"])
        if answer.get("failed"):
            return "running (state unknown: " + shown(answer.get("msg", "probe failed")) + ")"
        data = {k: v for k, v in answer.items() if not k.startswith("_ansible") and k != "invocation"}
        state = self._search("state", data)
        return "running" if state is None else state

    def _wait_job(self):
        args = self._args
        started = time.monotonic()
        deadline = started + args["timeout"]
        last, state, polls = None, "running", 0
        while True:
            polls += 1
            status = self._job("status")
            if status.get("finished"):
                break
            if status.get("failed"):  # the job file is gone or unreadable
                status["msg"] = f"while waiting for {args['what']}: {status.get('msg', 'async_status failed')}"
                return status
            elapsed = time.monotonic() - started
            due = last is None or time.monotonic() - last[0] >= args["progress_interval"]
            if due or time.monotonic() >= deadline:
                state = self._probe()
            if time.monotonic() >= deadline:
                self._timed_out(elapsed, state)
            last = self._progress(started, state, last)
            time.sleep(max(0.0, min(args["interval"], deadline - time.monotonic())))
        elapsed = time.monotonic() - started
        self._job("cleanup")
        if polls > 1:
            outcome = "failed" if status.get("failed") else "done"
            self._say(f"{args['what']}: {outcome} after {duration(elapsed)}")
        out = {k: v for k, v in status.items() if k not in ("ansible_job_id", "results_file", "started", "finished")}
        out["elapsed"] = round(elapsed, 1)
        if out.get("failed") and out.get("msg"):
            out["msg"] = f"{args['what']}: {out['msg']}"
        return out
