# -*- coding: utf-8 -*-
# Copyright: kubeflow_ops.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Collection-private eksctl runner shared by the eksctl_* modules (may change without notice).

One place knows how to call eksctl: the binary comes from an option or PATH, arguments are
lists (never a shell string), state is read from eksctl's JSON output, and every failure
reports rc, stdout, stderr and the command. Facts about the CLI follow eksctl v0.230.
"""

from __future__ import annotations

import json
import os
import re
import tempfile

from ansible.module_utils.common.text.converters import to_native

# Kubernetes versions EKS offers (standard + extended support) as known to eksctl 0.230.
SUPPORTED_KUBERNETES_VERSIONS = ("1.28", "1.29", "1.30", "1.31", "1.32", "1.33", "1.34")

NOT_FOUND_RE = re.compile(r"ResourceNotFoundException|No cluster found for name|No node group found for name")
ALREADY_ASSOCIATED_RE = re.compile(r"IAM Open ID Connect provider is already associated")

# Options every eksctl module takes.
EKSCTL_COMMON_ARGS = dict(
    eksctl_path=dict(type="path"),
    region=dict(type="str", aliases=["aws_region"]),
    profile=dict(type="str", aliases=["aws_profile"]),
    eksctl_timeout=dict(type="str", default="40m"),
)


class EksctlError(Exception):
    def __init__(self, msg, cmd=None, rc=None, stdout="", stderr=""):
        super().__init__(msg)
        self.msg = msg
        self.cmd = cmd
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr


def parse_version(version):
    """'1.30' -> (1, 30); raises ValueError for anything else."""
    match = re.match(r"^(\d+)\.(\d+)$", str(version).strip())
    if not match:
        raise ValueError(f"'{version}' is not a Kubernetes minor version such as 1.30")
    return int(match.group(1)), int(match.group(2))


def upgrade_steps(current, desired):
    """Versions to pass through from current to desired, one minor step each (EKS allows no more)."""
    cur, want = parse_version(current), parse_version(desired)
    if want <= cur:
        return []
    return [f"{cur[0]}.{minor}" for minor in range(cur[1] + 1, want[1] + 1)]


class EksctlRunner:
    """Run eksctl for a module; `commands` records what ran (or would run, in check mode)."""

    def __init__(self, module, region=None):
        self.module = module
        self.region = (
            region
            or module.params.get("region")
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
        )
        path = module.params.get("eksctl_path")
        if path:
            if not (os.path.isfile(path) and os.access(path, os.X_OK)):
                module.fail_json(msg=f"eksctl_path {path} is not an executable file")
            self.binary = path
        else:
            self.binary = module.get_bin_path("eksctl", required=False)
            if not self.binary:
                module.fail_json(
                    msg="eksctl was not found on PATH; install it (https://eksctl.io) or set eksctl_path",
                )
        self.commands = []
        self._tmpfiles = []

    # -- environment -----------------------------------------------------------------------
    def environ(self):
        env = {}
        profile = self.module.params.get("profile")
        if profile:
            env["AWS_PROFILE"] = profile
        if self.region:
            env["AWS_REGION"] = self.region
        return env

    def config_file(self, config):
        """Write a ClusterConfig dict to a private temporary file and return its path."""
        handle, path = tempfile.mkstemp(prefix="eksctl-", suffix=".json")
        with os.fdopen(handle, "w") as stream:
            json.dump(config, stream, indent=2, sort_keys=True)
        self._tmpfiles.append(path)
        self.module.add_cleanup_file(path)
        return path

    # -- running ---------------------------------------------------------------------------
    def run(self, args, record=True, expect_json=False):
        cmd = [self.binary] + [to_native(a) for a in args]
        if record:
            self.commands.append(cmd)
        rc, out, err = self.module.run_command(cmd, environ_update=self.environ(), check_rc=False)
        if rc != 0:
            raise EksctlError(self.error_message(err, out), cmd=cmd, rc=rc, stdout=out, stderr=err)
        if expect_json:
            try:
                return json.loads(out) if out.strip() else []
            except ValueError as exc:
                raise EksctlError(
                    f"eksctl printed output that is not JSON: {exc}", cmd=cmd, rc=rc, stdout=out, stderr=err
                )
        return out

    @staticmethod
    def error_message(stderr, stdout):
        for line in reversed((stderr or "").splitlines()):
            if line.startswith("Error: "):
                return line[len("Error: ") :]
        lines = [line for line in (stderr or stdout or "").splitlines() if line.strip()]
        return lines[-1] if lines else "eksctl failed without a message"

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

    def region_args(self):
        return ["--region", self.region] if self.region else []

    # -- reads -----------------------------------------------------------------------------
    def get_cluster(self, name):
        """The EKS cluster (PascalCase keys, as eksctl prints it) or None when there is none."""
        try:
            items = self.run(
                ["get", "cluster", "--name", name] + self.region_args() + ["-o", "json"], record=False, expect_json=True
            )
        except EksctlError as exc:
            if NOT_FOUND_RE.search(exc.stderr or "") or NOT_FOUND_RE.search(exc.msg):
                return None
            raise
        return items[0] if items else None

    def list_clusters_all_regions(self):
        return self.run(["get", "cluster", "--all-regions", "-o", "json"], record=False, expect_json=True) or []

    def get_nodegroups(self, cluster):
        return (
            self.run(
                ["get", "nodegroup", "--cluster", cluster] + self.region_args() + ["-o", "json"],
                record=False,
                expect_json=True,
            )
            or []
        )

    def get_iamserviceaccounts(self, cluster, namespace=None):
        args = ["get", "iamserviceaccount", "--cluster", cluster] + self.region_args()
        if namespace:
            args += ["--namespace", namespace]
        return self.run(args + ["-o", "json"], record=False, expect_json=True) or []
