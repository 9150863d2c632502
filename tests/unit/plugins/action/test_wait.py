"""kubeflow_ops.aws.wait, run by ansible-playbook on localhost as the roles run it.

The checks a user would care about: a long wait prints what it waits for, the state and the elapsed time
(never a FAILED - RETRYING line), ends as soon as the state is ready, returns the module's or the job's
result, passes module_defaults on to the module it polls, hides states under no_log, does not wait in
check mode, and on timeout names the resource, its last state and the setting that raises the limit.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tests.sandbox.harness.playbook import playbook_env, run_playbook

HEAD = """\
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
"""


def play(tmp_path: Path, tasks: str, args=()):
    book = tmp_path / "play.yml"
    book.write_text(HEAD + textwrap.indent(textwrap.dedent(tasks), "    "))
    inventory = tmp_path / "hosts"
    inventory.write_text("localhost\n")
    env = playbook_env({}, {"ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp")})
    return run_playbook(str(book), env, inventory=str(inventory), args=args, timeout=120)


def results(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "out.json").read_text())


def test_module_wait_prints_progress_and_returns_when_ready(tmp_path):
    flag = tmp_path / "flag"
    run = play(
        tmp_path,
        f"""
        - name: Make the file appear after 2 s
          ansible.builtin.shell: sleep 2 && touch {flag}
          async: 30
          poll: 0
        - name: Wait for the file
          kubeflow_ops.aws.wait:
            what: the flag file
            module: ansible.builtin.stat
            args: {{path: {flag}}}
            state: stat.exists
            timeout: 30
            interval: 0.3
            progress_interval: 1
          register: waited
        - ansible.builtin.copy:
            content: "{{{{ waited | to_json }}}}"
            dest: {tmp_path}/out.json
            mode: "0600"
        """,
    )
    assert run.rc == 0, run.output
    assert "FAILED" not in run.output and "RETRYING" not in run.output
    assert "[localhost] Waiting for the flag file (up to 30s): false" in run.output
    assert "[localhost] Still waiting for the flag file: false [" in run.output and "elapsed of 30s]" in run.output
    assert "[localhost] the flag file: done after" in run.output
    out = results(tmp_path)
    assert out["state"] is True and out["stat"]["exists"] is True
    assert out["attempts"] >= 3 and not out["changed"]


def test_job_wait_returns_the_job_result_and_removes_the_job(tmp_path):
    run = play(
        tmp_path,
        f"""
        - name: A job
          ansible.builtin.shell: sleep 1 && echo made it
          async: 30
          poll: 0
          register: job
        - name: Wait for it
          kubeflow_ops.aws.wait:
            what: the job
            job: "{{{{ job.ansible_job_id }}}}"
            timeout: 30
            interval: 0.3
          register: waited
        - name: The job file is gone
          ansible.builtin.async_status:
            jid: "{{{{ job.ansible_job_id }}}}"
          register: gone
          failed_when: false
        - ansible.builtin.copy:
            content: "{{{{ {{'waited': waited, 'gone': gone}} | to_json }}}}"
            dest: {tmp_path}/out.json
            mode: "0600"
        """,
    )
    assert run.rc == 0, run.output
    out = results(tmp_path)
    assert out["waited"]["stdout"] == "made it" and out["waited"]["changed"] is True
    assert "could not find job" in out["gone"].get("msg", "")


def test_failed_job_fails_the_wait_with_its_message(tmp_path):
    run = play(
        tmp_path,
        """
        - name: A job that fails
          ansible.builtin.command: /bin/false
          async: 30
          poll: 0
          register: job
        - name: Wait for it
          kubeflow_ops.aws.wait:
            what: the failing job
            job: "{{ job.ansible_job_id }}"
            timeout: 30
            interval: 0.3
        """,
    )
    assert run.rc == 2 and run.failed == 1
    # the job's own message (its wording differs between ansible-core releases), named after what was awaited
    assert "msg: 'the failing job: " in run.output and "non-zero return code" in run.output and "rc: 1" in run.output


def test_timeout_names_what_its_last_state_and_the_setting(tmp_path):
    run = play(
        tmp_path,
        f"""
        - name: Wait for a file that never comes
          kubeflow_ops.aws.wait:
            what: a file that never comes
            module: ansible.builtin.stat
            args: {{path: {tmp_path}/never}}
            state: stat.exists
            timeout: 2
            timeout_setting: my_wait_timeout
            interval: 0.5
        """,
    )
    assert run.rc == 2
    assert (
        "Timed out after 2s waiting for a file that never comes (last state: false); raise my_wait_timeout "
        "(now 2) to wait longer" in " ".join(run.output.split())
    )
    assert "RETRYING" not in run.output


def test_failed_condition_ends_the_wait_at_once(tmp_path):
    (tmp_path / "bad").write_text("x")
    run = play(
        tmp_path,
        f"""
        - name: Wait for a state that cannot come
          kubeflow_ops.aws.wait:
            what: the file to become a directory
            module: ansible.builtin.stat
            args: {{path: {tmp_path}/bad}}
            state: stat.isdir
            failed: stat.isreg
            timeout: 60
        """,
    )
    assert run.rc == 2 and run.seconds < 30
    assert "the file to become a directory cannot finish: false" in run.output


def test_module_defaults_reach_the_polled_module(tmp_path):
    run = play(
        tmp_path,
        f"""
        - name: Defaults
          module_defaults:
            ansible.builtin.stat:
              path: {tmp_path}
          block:
            - name: Wait with the path from module_defaults
              kubeflow_ops.aws.wait:
                what: the directory
                module: ansible.builtin.stat
                ready: stat.isdir
                timeout: 5
        """,
    )
    assert run.rc == 0, run.output


def test_no_log_hides_the_states(tmp_path):
    secret = "s3cr3t-value-in-a-path"
    run = play(
        tmp_path,
        f"""
        - name: Wait without showing states
          kubeflow_ops.aws.wait:
            what: a secret path
            module: ansible.builtin.stat
            args: {{path: {tmp_path}/{secret}}}
            state: stat.path || '{secret}'
            ready: stat.exists
            timeout: 1
            interval: 0.3
          no_log: true
        """,
        args=["-vvv"],
    )
    assert run.rc == 2
    assert "Waiting for a secret path (up to 1s): (hidden: no_log)" in run.output
    assert "Timed out after" in run.output or "censored" in run.output
    assert secret not in run.output


def test_check_mode_does_not_wait(tmp_path):
    run = play(
        tmp_path,
        f"""
        - name: Wait for a file that is not there
          kubeflow_ops.aws.wait:
            what: a missing file
            module: ansible.builtin.stat
            args: {{path: {tmp_path}/missing}}
            state: stat.exists
            timeout: 60
          register: waited
        - ansible.builtin.copy:
            content: "{{{{ waited | to_json }}}}"
            dest: {tmp_path}/out.json
            mode: "0600"
          check_mode: false
        """,
        args=["--check"],
    )
    assert run.rc == 0, run.output
    assert run.seconds < 30
    assert results(tmp_path)["msg"] == "not waiting for a missing file in check mode"


@pytest.mark.parametrize(
    "args, message",
    [
        ("module: ansible.builtin.stat", "needs ready (or state"),
        ("module: ansible.builtin.stat\n  state: 'stat..exists'", "is not a JMESPath expression"),
        ("job: '1'\n  ready: x", "mutually exclusive"),
    ],
)
def test_bad_arguments_fail_clearly(tmp_path, args, message):
    run = play(
        tmp_path,
        f"- kubeflow_ops.aws.wait:\n    what: x\n    timeout: 5\n    {args.replace(chr(10), chr(10) + '  ')}\n",
    )
    assert run.rc == 2
    assert message in " ".join(run.output.split())
