# -*- coding: utf-8 -*-
# Copyright: kubeflow_ops.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The eksctl runner shared by the eksctl_* modules (collection-private, may change without notice).

One place knows how to call eksctl: the binary comes from an option or PATH, arguments are
lists (never a shell string), state is read from eksctl's JSON output, and every failure
reports rc, stdout, stderr and the command. Facts about the CLI follow eksctl v0.230.
"""

from __future__ import annotations

import json
import os
import re
import tempfile

from ansible_collections.kubeflow_ops.aws.plugins.module_utils._cli import CliError, CliRunner

NOT_FOUND_RE = re.compile(r"ResourceNotFoundException|No cluster found for name|No node group found for name")
ALREADY_ASSOCIATED_RE = re.compile(r"IAM Open ID Connect provider is already associated")

# Options every eksctl module takes.
EKSCTL_COMMON_ARGS = dict(
    eksctl_path=dict(type="path"),
    region=dict(type="str", aliases=["aws_region"]),
    profile=dict(type="str", aliases=["aws_profile"]),
    eksctl_timeout=dict(type="str", default="40m"),
)


class EksctlRunner(CliRunner):
    """Run eksctl for a module; `commands` records what ran (or would run, in check mode)."""

    tool = "eksctl"
    path_option = "eksctl_path"
    install_hint = "install it (https://eksctl.io)"

    def __init__(self, module, region=None):
        super().__init__(module)
        self.region = (
            region
            or module.params.get("region")
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
        )

    # -- environment -----------------------------------------------------------------------
    def environ(self):
        env = super().environ()
        if self.region:
            env["AWS_REGION"] = self.region
        return env

    def config_file(self, config):
        """Write a ClusterConfig dict to a private temporary file and return its path."""
        handle, path = tempfile.mkstemp(prefix="eksctl-", suffix=".json")
        with os.fdopen(handle, "w") as stream:
            json.dump(config, stream, indent=2, sort_keys=True)
        self.module.add_cleanup_file(path)
        return path

    # -- running ---------------------------------------------------------------------------
    def run(self, args, record=True, expect_json=False):
        out, err = self.execute(args, record=record)
        if expect_json:
            try:
                return json.loads(out) if out.strip() else []
            except ValueError as exc:
                raise CliError(
                    f"eksctl printed output that is not JSON: {exc}",
                    cmd=self.command(args),
                    rc=0,
                    stdout=out,
                    stderr=err,
                )
        return out

    def error_message(self, stdout, stderr):
        """eksctl's cobra `Error: ` line, else the last line it printed."""
        for line in reversed((stderr or "").splitlines()):
            if line.startswith("Error: "):
                return line[len("Error: ") :]
        return super().error_message(stdout, stderr)

    def region_args(self):
        return ["--region", self.region] if self.region else []

    # -- reads -----------------------------------------------------------------------------
    def get_cluster(self, name):
        """The EKS cluster (PascalCase keys, as eksctl prints it) or None when there is none."""
        try:
            items = self.run(
                ["get", "cluster", "--name", name] + self.region_args() + ["-o", "json"], record=False, expect_json=True
            )
        except CliError as exc:
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
