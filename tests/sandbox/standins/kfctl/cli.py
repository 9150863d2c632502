"""Commands, flags and the process contract of kfctl v1.0.2 (or v1.2.0 with KFCTL_SIM_VERSION=v1.2.0).

logrus on stderr (warn level, info with -V), cobra's `Error: <message>` plus usage on stderr, then the
message again on stdout (v1.0: plain with a newline; v1.2: `kfctl exited with error: ` and no newline), exit 1.
"""

from __future__ import annotations

import os
import sys
import time

from .app import Clock, KfApp, KfError, Panic

VERSIONS = {"v1.0.2": "v1.0.2-0-ga476281", "v1.2.0": "v1.2.0-0-gbc038f9"}
LEVELS = ("panic", "fatal", "error", "warning", "info", "debug")
TAGS = {"warning": "WARN", "info": "INFO", "error": "ERRO", "debug": "DEBU"}


class Log:
    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.level = "warning"
        self.start = time.monotonic()

    def emit(self, level, message, filename):
        if LEVELS.index(level) > LEVELS.index(self.level):
            return
        secs = int(time.monotonic() - self.start)
        self.stream.write(f'{TAGS[level]}[{secs:04d}] {message:<44} filename="{filename}"\n')

    def info(self, message, filename):
        self.emit("info", message, filename)

    def warn(self, message, filename):
        self.emit("warning", message, filename)


def version():
    return os.environ.get("KFCTL_SIM_VERSION", "v1.0.2")


# name -> (shorthand, takes a value, help)
def flags_for(command):
    flags = {"file": ("f", True, "Static config file to use. Can be either a local path or a URL."),
             "verbose": ("V", False, "verbose output default is false"),
             "help": ("h", False, f"help for {command}")}  # fmt: skip
    if command == "delete":
        flags["force-deletion"] = (None, False, "force deletion; ignore any errors")
        flags["delete_storage"] = (None, False, "Set if you want to delete app's storage cluster used for mlpipeline.")
    if version() >= "v1.2" and command == "build":
        flags["dump"] = ("d", False, "dump manifests to stdout, default is false")
    if version() >= "v1.2" and command == "apply":
        flags["context"] = (None, True, "Optional kubernetes context to use; not used for KfDef")
    return flags


def usage(command):
    lines = [
        "Usage:",
        f"  kfctl {command} -f ${{CONFIG}} [flags]" if command != "version" else "  kfctl version [flags]",
    ]
    lines += ["", "Flags:"]
    for name, (short, value, text) in flags_for(command).items():
        spec = (f"-{short}, " if short else "    ") + f"--{name}" + (" string" if value else "")
        lines.append(f"  {spec:<24} {text}")
    return "\n".join(lines) + "\n"


def parse(command, args):
    """pflag rules: -f X, -f=X, -fX, --file X, --file=X; bool flags take no value."""
    flags = flags_for(command)
    shorts = {s: n for n, (s, _v, _t) in flags.items() if s}
    values, rest = {}, list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "--":
            break
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            if name not in flags:
                raise KfError(f"unknown flag: --{name}")
            if flags[name][1]:
                if not eq:
                    if not rest:
                        raise KfError(f"flag needs an argument: --{name}")
                    value = rest.pop(0)
                values[name] = value
            else:
                values[name] = value.lower() not in ("false", "0") if eq else True
        elif arg.startswith("-") and len(arg) > 1:
            short, tail = arg[1], arg[2:]
            if short not in shorts:
                raise KfError(f"unknown shorthand flag: '{short}' in {arg}")
            name = shorts[short]
            if flags[name][1]:
                value = tail[1:] if tail.startswith("=") else tail
                if not value:
                    if not rest:
                        raise KfError(f"flag needs an argument: '{short}' in -{short}")
                    value = rest.pop(0)
                values[name] = value
            else:
                values[name] = True
        # positional arguments are accepted and ignored, as cobra does without an Args check
    return values


def run(command, values, log):
    if values.get("verbose"):
        log.level = "info"
    path = values.get("file")
    if not path:
        raise KfError("Must pass in -f configFile")
    clock = Clock()
    if command == "build":
        KfApp(log, clock, path).build()
    elif command == "apply":
        KfApp(log, clock, path).apply()
    else:
        KfApp(log, clock, path, for_delete=True).delete(
            bool(values.get("force-deletion")), bool(values.get("delete_storage"))
        )


def fail(command, message):
    sys.stderr.write(f"Error: {message}\n")
    if command:
        sys.stderr.write(usage(command) + "\n")
    else:
        sys.stderr.write("Run 'kfctl --help' for usage.\n")
    if version() >= "v1.2":
        sys.stdout.write(f"kfctl exited with error: {message}")
    else:
        sys.stdout.write(message + "\n")
    return 1


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    words = [a for a in argv if not a.startswith("-")]
    if not words:
        sys.stdout.write("A client CLI to create kubeflow applications (sandbox simulator).\n\n"
                         "Usage:\n  kfctl [command]\n\nAvailable Commands:\n  apply\n  build\n  delete\n  version\n")  # fmt: skip
        return 0
    command = words[0]
    if command not in ("build", "apply", "delete", "version"):
        return fail(None, f'unknown command "{command}" for "kfctl"')
    args = list(argv)
    args.remove(command)
    if command == "version":
        sys.stdout.write(f"kfctl {VERSIONS.get(version(), version())}\n")
        return 0
    try:
        values = parse(command, args)
    except KfError as exc:
        return fail(command, str(exc))
    if values.get("help"):
        sys.stdout.write(usage(command))
        return 0
    log = Log()
    try:
        run(command, values, log)
    except KfError as exc:
        return fail(command, str(exc))
    except Panic as exc:
        sys.stderr.write(
            f"panic: {exc}\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x2a4b1c3]\n\n"
            "goroutine 1 [running]:\ngithub.com/kubeflow/kfctl/v3/pkg/kfconfig/awsplugin.(*AwsPluginSpec).IsValid(...)\n"
        )
        return 2
    return 0
