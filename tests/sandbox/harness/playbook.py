"""Run ansible-playbook against the sandbox and read its PLAY RECAP (tests, demo, bench)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
RECAP_RE = re.compile(
    r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)\s+"
    r"failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)\s+rescued=(?P<rescued>\d+)\s+ignored=(?P<ignored>\d+)",
    re.M,
)


@dataclass
class PlaybookRun:
    rc: int
    output: str
    seconds: float
    recap: dict = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return sum(host["changed"] for host in self.recap.values())

    @property
    def failed(self) -> int:
        return sum(host["failed"] + host["unreachable"] for host in self.recap.values())


def parse_recap(output: str) -> dict:
    recap = {}
    tail = output.rsplit("PLAY RECAP", 1)[-1] if "PLAY RECAP" in output else ""
    for match in RECAP_RE.finditer(tail):
        recap[match.group("host")] = {k: int(v) for k, v in match.groupdict().items() if k != "host"}
    return recap


def playbook_env(sandbox_env: dict, extra: dict | None = None) -> dict:
    env = dict(os.environ)
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CA_BUNDLE"):
        env.pop(name, None)
    env.update(sandbox_env)
    env["ANSIBLE_CONFIG"] = str(REPO / "ansible.cfg")
    env["ANSIBLE_FORCE_COLOR"] = "0"
    env["ANSIBLE_NOCOLOR"] = "1"
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("ANSIBLE_LOCAL_TEMP", str(REPO / "tests" / "output" / "tmp"))
    if extra:
        env.update(extra)
    return env


def run_playbook(
    playbook, env: dict, inventory="inventories/sandbox", args=(), stream=False, timeout=1800
) -> PlaybookRun:
    cmd = [str(BIN / "ansible-playbook"), "-i", str(REPO / inventory), str(REPO / playbook), *args]
    start = time.monotonic()
    proc = subprocess.Popen(  # pylint: disable=consider-using-with
        cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if stream:
            sys.stdout.write(line)
            sys.stdout.flush()
    rc = proc.wait(timeout=timeout)
    output = "".join(lines)
    return PlaybookRun(rc=rc, output=output, seconds=time.monotonic() - start, recap=parse_recap(output))


def run_failure_cases(cases: dict, env: dict, workdir: Path, args=()) -> dict:
    """Run each case {name: (role, role_vars)} in one playbook run, each in block/rescue, and return
    {name: failure message} ('NO FAILURE' when the role passed). One ansible-playbook start for all
    the cases keeps bad-input tests fast; a rescued failure does not stop the next case."""
    out = Path(workdir) / "failure_results.json"
    lines = ["- hosts: kubeflow_ops", "  gather_facts: false", "  vars:", "    results: {}", "  tasks:"]
    for index, (name, (role, role_vars)) in enumerate(cases.items()):
        assert "'" not in name and '"' not in name, f"case names are quoted in Jinja: {name}"
        lines += [
            f"    - name: case {index}",
            "      block:",
            "        - ansible.builtin.include_role:",
            f"            name: {role}",
            f"          vars: {json.dumps(role_vars)}",
            "        - ansible.builtin.set_fact:",
            f"            results: \"{{{{ results | combine({{'{name}': 'NO FAILURE'}}) }}}}\"",
            "      rescue:",
            "        - ansible.builtin.set_fact:",
            f"            results: \"{{{{ results | combine({{'{name}': failure}}) }}}}\"",
            "          vars:",
            # a failed loop item carries its own message; the task's is then "One or more items failed"
            "            failure: >-",
            "              {{ ansible_failed_result.msg | default('') | string }}",
            "              {{ ansible_failed_result.results | default([]) | selectattr('failed', 'defined')",
            "                 | selectattr('failed') | map(attribute='msg') | map('string') | join(' | ') }}",
        ]
    lines += [
        "    - ansible.builtin.copy:",
        '        content: "{{ results | to_json }}"',
        f"        dest: {out}",
        '        mode: "0600"',
    ]
    playbook = Path(workdir) / "failure_cases.yml"
    playbook.write_text("\n".join(lines) + "\n")
    run = run_playbook(str(playbook), env, args=args)
    assert run.rc == 0, run.output[-4000:]
    # The whole output, for callers that check what it must not show (secrets).
    (Path(workdir) / "failure_cases.log").write_text(run.output)
    return json.loads(out.read_text())


def unmet_expectations(results: dict, expected: dict) -> list[str]:
    """Cases whose failure message lacks the expected piece, as readable lines."""
    return [
        f"{name}: expected {piece!r} in {results.get(name, '<not run>')!r}"
        for name, piece in expected.items()
        if piece not in results.get(name, "<not run>")
    ]
