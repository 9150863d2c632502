"""Run a filter test's playbook with ansible-playbook, as roles call the filters.

(A playbook, not an import: importing controller code into the unit test process would change how the module
tests collect warnings.) The play writes what it computed as JSON to the path in the variable `out`.
"""

from __future__ import annotations

import json
import textwrap

from tests.sandbox.harness.playbook import playbook_env, run_playbook


def run_filter_play(tmp_path, play):
    """(run, result): the ansible-playbook run of `play` on localhost and the JSON the play wrote to `out`."""
    book = tmp_path / "play.yml"
    book.write_text(textwrap.dedent(play))
    inventory = tmp_path / "hosts"
    inventory.write_text("localhost\n")
    out = tmp_path / "out.json"
    env = playbook_env({}, {"ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp")})
    run = run_playbook(str(book), env, inventory=str(inventory), args=["-e", f"out={out}"], timeout=120)
    return run, json.loads(out.read_text())
