# -*- coding: utf-8 -*-
# Copyright: kubeflow_ops.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Collection-private base for modules that drive a command-line tool (may change without notice).

The eksctl and kfctl runners share it: the binary comes from a module option or PATH, arguments
are lists (never a shell string), `commands` records what ran (or would run, in check mode), and
every failure reports rc, stdout, stderr and the command. Each tool only says how to read its own
error text (`error_message`) and which environment it needs (`environ`).
"""

from __future__ import annotations

import os

from ansible.module_utils.common.text.converters import to_native


class CliError(Exception):
    """A tool exited non-zero: its own message plus everything needed to debug the call."""

    def __init__(self, msg, cmd=None, rc=None, stdout="", stderr=""):
        super().__init__(msg)
        self.msg = msg
        self.cmd = cmd
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr


class CliRunner:
    """Find and run one tool for a module. Subclasses set `tool`, `path_option` and `install_hint`."""

    tool = ""
    path_option = ""
    install_hint = ""

    def __init__(self, module):
        self.module = module
        path = module.params.get(self.path_option)
        if path:
            if not (os.path.isfile(path) and os.access(path, os.X_OK)):
                module.fail_json(msg=f"{self.path_option} {path} is not an executable file")
            self.binary = path
        else:
            self.binary = module.get_bin_path(self.tool, required=False)
            if not self.binary:
                module.fail_json(
                    msg=f"{self.tool} was not found on PATH; {self.install_hint} or set {self.path_option}"
                )
        self.commands = []

    def environ(self):
        """Variables added to the tool's environment (the AWS profile by default)."""
        profile = self.module.params.get("profile")
        return {"AWS_PROFILE": profile} if profile else {}

    def error_message(self, stdout, stderr):
        """The tool's own explanation of a failure; default: the last non-empty line it printed."""
        lines = [line for line in (stderr or stdout or "").splitlines() if line.strip()]
        return lines[-1] if lines else f"{self.tool} failed without a message"

    def command(self, args):
        return [self.binary] + [to_native(a) for a in args]

    def plan(self, args):
        """Record a command that check mode would run."""
        self.commands.append(self.command(args))

    def execute(self, args, record=True, cwd=None):
        """Run the tool; return (stdout, stderr) or raise CliError with the tool's message."""
        cmd = self.command(args)
        if record:
            self.commands.append(cmd)
        rc, out, err = self.module.run_command(cmd, environ_update=self.environ(), check_rc=False, cwd=cwd)
        self.after_run(out, err)
        if rc != 0:
            raise CliError(self.error_message(out, err), cmd=cmd, rc=rc, stdout=out, stderr=err)
        return out, err

    def after_run(self, stdout, stderr):
        """Hook for tools whose output is worth keeping (kfctl's log lines)."""

    def fail(self, error, msg=None, **extra):
        self.module.fail_json(
            msg=(msg + ": " if msg else "") + error.msg,
            cmd=error.cmd,
            rc=error.rc,
            stdout=error.stdout,
            stderr=error.stderr,
            commands=self.commands,
            **extra,
        )
