"""A scripted command-line tool for unit tests (the fake eksctl and kfctl): logs each call, answers from a script.

Run as `fake_cli.py <tool> <argv...>` (the fixture writes a /bin/sh wrapper named after the tool).
FAKE_<TOOL>_SCRIPT: JSON list of {"match": [argv prefix...], "stdout": "...", "stderr": "...", "rc": 0,
"once": false, "update": {...}, "mkdirs": [...]}; the first entry whose prefix matches answers (entries with
"once": true are used a single time). On success, "update" is merged into the YAML file named by -f (as kfctl
writes its KfDef back) and "mkdirs" are created beside it (the app directory).
FAKE_<TOOL>_LOG: file that gets one JSON line {"argv", "cwd", "kubeconfig"} per call.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import yaml

FAKE = Path(__file__)


def merge(into, update):
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            merge(into[key], value)
        else:
            into[key] = value


def rewrite(argv, entry):
    path = argv[argv.index("-f") + 1]
    with open(path) as stream:
        data = yaml.safe_load(stream)
    merge(data, entry.get("update") or {})
    with open(path, "w") as stream:
        yaml.safe_dump(data, stream)
    for name in entry.get("mkdirs") or []:
        os.makedirs(os.path.join(os.path.dirname(path), name), exist_ok=True)


def main():
    tool, argv = sys.argv[1], sys.argv[2:]
    prefix = f"FAKE_{tool.upper()}_"
    with open(os.environ[prefix + "LOG"], "a") as log:
        log.write(json.dumps({"argv": argv, "cwd": os.getcwd(), "kubeconfig": os.environ.get("KUBECONFIG")}) + "\n")
    path = os.environ[prefix + "SCRIPT"]
    with open(path) as stream:
        script = json.load(stream)
    for index, entry in enumerate(script):
        if argv[: len(entry["match"])] == entry["match"]:
            if entry.get("once"):
                script.pop(index)
                with open(path, "w") as stream:
                    json.dump(script, stream)
            if entry.get("rc", 0) == 0 and (entry.get("update") or entry.get("mkdirs")):
                rewrite(argv, entry)
            sys.stdout.write(entry.get("stdout", ""))
            sys.stderr.write(entry.get("stderr", ""))
            return entry.get("rc", 0)
    sys.stderr.write(f"Error: fake {tool} has no answer for " + " ".join(argv) + "\n")
    return 1


class FakeCli:
    """Installs the fake as `<tmp_path>/<tool>`; `path` is what a module gets as the binary."""

    def __init__(self, tool, tmp_path, monkeypatch):
        self.tool = tool
        self.script = tmp_path / f"{tool}-script.json"
        self.log = tmp_path / f"{tool}-argv.log"
        self.entries = []
        # A wrapper, so the fake runs under this interpreter and needs no shebang of its own.
        wrapper = tmp_path / tool
        wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" {tool} "$@"\n')
        wrapper.chmod(0o755)
        self.path = str(wrapper)
        monkeypatch.setenv(f"FAKE_{tool.upper()}_SCRIPT", str(self.script))
        monkeypatch.setenv(f"FAKE_{tool.upper()}_LOG", str(self.log))
        self.save()

    def answer(self, match, stdout="", stderr="", rc=0, once=False, update=None, mkdirs=None):
        self.entries.append(
            dict(match=match, stdout=stdout, stderr=stderr, rc=rc, once=once, update=update, mkdirs=mkdirs)
        )
        self.save()

    def save(self):
        self.script.write_text(json.dumps(self.entries))

    @property
    def invocations(self):
        """Every call as {"argv", "cwd", "kubeconfig"}."""
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    @property
    def calls(self):
        """Every call's argument list."""
        return [i["argv"] for i in self.invocations]


if __name__ == "__main__":
    sys.exit(main())
