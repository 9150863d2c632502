"""Command tree, flags and the process contract (stdout/stderr split, `Error: ...`, exit codes)."""

from __future__ import annotations

import os
import sys
import traceback

from . import commands
from .common import EksctlError, Logger, sdk_error
from .flags import Flag, aws_flags, parse, root_flags

F = Flag


def _common_create_ng_flags():
    return [
        F("node-type", "t", "string"),
        F("nodes", "N", "int", 2),
        F("nodes-min", "m", "int", 2),
        F("nodes-max", "M", "int", 2),
        F("node-volume-size", None, "int", 80),
        F("node-volume-type", None, "string", "gp3"),
        F("node-ami-family", None, "string", "AmazonLinux2023"),
        F("node-labels", None, "map"),
        F("node-private-networking", "P", "bool"),
        F("managed", None, "bool", True),
        F("spot", None, "bool"),
        F("instance-types", None, "strings"),
        F("install-nvidia-plugin", None, "bool", True),
        F("install-neuron-plugin", None, "bool", True),
        F("nodegroup-parallelism", None, "int", 8),
        F("dry-run", None, "bool"),
        F("include", None, "strings"),
        F("exclude", None, "strings"),
    ]


def _kubeconfig_flags():
    return [
        F("kubeconfig", None, "string"),
        F("set-kubeconfig-context", None, "bool", True),
        F("auto-kubeconfig", None, "bool"),
        F("authenticator-role-arn", None, "string"),
    ]


COMMANDS = {
    ("version",): (commands.cmd_version, lambda: [F("output", "o", "string")]),
    ("utils", "schema"): (commands.cmd_utils_schema, lambda: []),
    ("get", "cluster"): (
        commands.cmd_get_cluster,
        lambda: [
            F("name", "n", "string"),
            F("region", "r", "string"),
            F("all-regions", "A", "bool"),
            F("output", "o", "string", "table"),
            F("chunk-size", None, "int", 100),
            F("config-file", "f", "string"),
        ]
        + aws_flags(cfn=False),
    ),
    ("get", "nodegroup"): (
        commands.cmd_get_nodegroup,
        lambda: [
            F("cluster", "c", "string"),
            F("name", "n", "string"),
            F("region", "r", "string"),
            F("output", "o", "string", "table"),
            F("config-file", "f", "string"),
        ]
        + aws_flags(cfn=False),
    ),
    ("get", "iamserviceaccount"): (
        commands.cmd_get_iamserviceaccount,
        lambda: [
            F("cluster", "c", "string"),
            F("name", None, "string"),
            F("namespace", None, "string"),
            F("region", "r", "string"),
            F("output", "o", "string", "table"),
            F("config-file", "f", "string"),
        ]
        + aws_flags(cfn=False),
    ),
    ("create", "cluster"): (
        commands.cmd_create_cluster,
        lambda: [
            F("name", "n", "string"),
            F("tags", None, "map"),
            F("region", "r", "string"),
            F("zones", None, "strings"),
            F("version", None, "string"),
            F("config-file", "f", "string"),
            F("fargate", None, "bool"),
            F("install-vpc-controllers", None, "bool"),
            F("nodegroup-name", None, "string"),
            F("without-nodegroup", None, "bool"),
            F("with-oidc", None, "bool"),
            F("vpc-cidr", None, "string"),
            F("vpc-private-subnets", None, "strings"),
            F("vpc-public-subnets", None, "strings"),
            F("vpc-nat-mode", None, "string", "Single"),
            F("write-kubeconfig", None, "bool", True),
        ]
        + _common_create_ng_flags()
        + _kubeconfig_flags()
        + aws_flags(),
    ),
    ("create", "nodegroup"): (
        commands.cmd_create_nodegroup,
        lambda: [
            F("cluster", "c", "string"),
            F("name", "n", "string"),
            F("region", "r", "string"),
            F("version", None, "string", "auto"),
            F("config-file", "f", "string"),
            F("only-missing", None, "bool"),
            F("skip-outdated-addons-check", None, "bool"),
            F("update-auth-configmap", None, "bool", True),
        ]
        + _common_create_ng_flags()
        + aws_flags(),
    ),
    ("create", "iamserviceaccount"): (
        commands.cmd_create_iamserviceaccount,
        lambda: [
            F("cluster", "c", "string"),
            F("name", None, "string"),
            F("namespace", None, "string", "default"),
            F("attach-policy-arn", None, "strings"),
            F("attach-role-arn", None, "string"),
            F("role-name", None, "string"),
            F("role-only", None, "bool"),
            F("tags", None, "map"),
            F("permissions-boundary", None, "string"),
            F("override-existing-serviceaccounts", None, "bool"),
            F("approve", None, "bool"),
            F("region", "r", "string"),
            F("config-file", "f", "string"),
            F("include", None, "strings"),
            F("exclude", None, "strings"),
        ]
        + aws_flags(),
    ),
    ("update", "iamserviceaccount"): (
        commands.cmd_update_iamserviceaccount,
        lambda: [
            F("cluster", "c", "string"),
            F("name", None, "string"),
            F("namespace", None, "string", "default"),
            F("attach-policy-arn", None, "strings"),
            F("approve", None, "bool"),
            F("region", "r", "string"),
            F("config-file", "f", "string"),
            F("include", None, "strings"),
            F("exclude", None, "strings"),
        ]
        + aws_flags(),
    ),
    ("delete", "iamserviceaccount"): (
        commands.cmd_delete_iamserviceaccount,
        lambda: [
            F("cluster", "c", "string"),
            F("name", None, "string"),
            F("namespace", None, "string", "default"),
            F("approve", None, "bool"),
            F("wait", "w", "bool"),
            F("region", "r", "string"),
            F("config-file", "f", "string"),
            F("include", None, "strings"),
            F("exclude", None, "strings"),
            F("only-missing", None, "bool"),
        ]
        + aws_flags(),
    ),
    ("scale", "nodegroup"): (
        commands.cmd_scale_nodegroup,
        lambda: [
            F("cluster", "c", "string"),
            F("name", "n", "string"),
            F("config-file", "f", "string"),
            F("nodes", "N", "int", -1),
            F("nodes-max", "M", "int", -1),
            F("nodes-min", "m", "int", -1),
            F("wait", "w", "bool"),
            F("region", "r", "string"),
        ]
        + aws_flags(),
    ),
    ("delete", "nodegroup"): (
        commands.cmd_delete_nodegroup,
        lambda: [
            F("cluster", "c", "string"),
            F("name", "n", "string"),
            F("region", "r", "string"),
            F("config-file", "f", "string"),
            F("include", None, "strings"),
            F("exclude", None, "strings"),
            F("only-missing", None, "bool"),
            F("approve", None, "bool"),
            F("drain", None, "bool", True),
            F("wait", "w", "bool"),
            F("update-auth-configmap", None, "bool", True),
            F("max-grace-period", None, "duration", "10m0s"),
            F("pod-eviction-wait-period", None, "duration", "10s"),
            F("disable-eviction", None, "bool"),
            F("parallel", None, "int", 1),
        ]
        + aws_flags(),
    ),
    ("delete", "cluster"): (
        commands.cmd_delete_cluster,
        lambda: [
            F("name", "n", "string"),
            F("region", "r", "string"),
            F("config-file", "f", "string"),
            F("wait", "w", "bool"),
            F("force", None, "bool"),
            F("disable-nodegroup-eviction", None, "bool"),
            F("parallel", None, "int", 1),
            F("pod-eviction-wait-period", None, "duration", "10s"),
        ]
        + aws_flags(),
    ),
    ("upgrade", "cluster"): (
        commands.cmd_upgrade_cluster,
        lambda: [
            F("name", "n", "string"),
            F("region", "r", "string"),
            F("version", None, "string"),
            F("config-file", "f", "string"),
            F("approve", None, "bool"),
        ]
        + aws_flags(),
    ),
    ("utils", "associate-iam-oidc-provider"): (
        commands.cmd_associate_oidc,
        lambda: [
            F("cluster", "c", "string"),
            F("name", None, "string"),
            F("region", "r", "string"),
            F("config-file", "f", "string"),
            F("approve", None, "bool"),
        ]
        + aws_flags(),
    ),
    ("utils", "write-kubeconfig"): (
        commands.cmd_write_kubeconfig,
        lambda: [
            F("cluster", "c", "string"),
            F("name", None, "string"),
            F("region", "r", "string"),
            F("config-file", "f", "string"),
        ]
        + _kubeconfig_flags()
        + aws_flags(cfn=False),
    ),
}

ALIASES = {
    "clusters": "cluster",
    "cl": "cluster",
    "nodegroups": "nodegroup",
    "ng": "nodegroup",
    "iamserviceaccounts": "iamserviceaccount",
    "iamsa": "iamserviceaccount",
}
GROUPS = {"get", "create", "delete", "scale", "upgrade", "update", "utils"}
# Commands whose JSON/YAML output owns stdout: their logs go to stderr (pkg/ctl/get).
GET_COMMANDS = {("get", "cluster"), ("get", "nodegroup"), ("get", "iamserviceaccount")}


def _usage(path) -> str:
    flags = COMMANDS[path][1]() + root_flags()
    lines = [f"Usage: eksctl {' '.join(path)} [flags]", "", "Flags:"]
    for flag in flags:
        lines.append(f"  {flag.spec():<32} ({flag.kind})")
    return "\n".join(lines) + "\n"


def resolve(argv):
    """Split argv into (command path, remaining args) following cobra's lookup (flags may come first)."""
    words = [a for a in argv if not a.startswith("-")]
    if not words:
        return None, argv
    first = words[0]
    if first == "version":
        path = ("version",)
    elif first in GROUPS:
        if len(words) < 2:
            return (first,), argv
        second = ALIASES.get(words[1], words[1])
        path = (first, second)
        if path not in COMMANDS:
            raise EksctlError(f'unknown command "{words[1]}" for "eksctl {first}"')
    else:
        raise EksctlError(f'unknown command "{first}" for "eksctl"')
    rest = list(argv)
    for word in path if path == ("version",) else (first, words[1]):
        rest.remove(word)
    return path, rest


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        path, rest = resolve(argv)
    except EksctlError as exc:
        sys.stderr.write(f"Error: {exc}\nRun 'eksctl --help' for usage.\n")
        return 1
    if path is None or path not in COMMANDS:
        sys.stdout.write(
            "The official CLI for Amazon EKS (simulator)\n\nUsage: eksctl [command] [flags]\n\nCommands:\n"
            + "".join(f"  eksctl {' '.join(p)}\n" for p in COMMANDS)
        )
        return 0
    func, flag_factory = COMMANDS[path]
    log = Logger(stream=sys.stdout)
    try:
        parsed = parse(rest, flag_factory() + root_flags())
        if parsed.get("help"):
            sys.stdout.write(_usage(path))
            return 0
        log.verbosity = parsed.get("verbose", 3)
        if path in GET_COMMANDS and parsed.get("output") in ("json", "yaml"):
            log.stream = sys.stderr
        func(commands.Ctx(parsed, log))
        return 0
    except EksctlError as exc:
        sys.stdout.flush()
        sys.stderr.write(f"Error: {exc}\n")
        return 1
    except KeyboardInterrupt:
        return 1
    except Exception as exc:  # pylint: disable=broad-except
        sys.stdout.flush()
        if os.environ.get("EKSCTL_SIM_DEBUG"):
            traceback.print_exc()
        operation = getattr(exc, "operation_name", None)
        if operation and hasattr(exc, "response"):
            sys.stderr.write(f"Error: {sdk_error(exc, 'AWS', operation)}\n")
        else:
            sys.stderr.write(f"Error: {exc}\n")
        return 1
