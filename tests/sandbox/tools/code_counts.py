"""The code counts of issue 9 ("Thin roles on a Python core"), for this tree or any git revision.

    python -m tests.sandbox.tools.code_counts            # the working tree
    python -m tests.sandbox.tools.code_counts 59fba54    # a revision (read with git, nothing checked out)

Prints: lines of role task files; lines holding '{%' in roles/*/tasks and roles/*/vars; the largest module
and its line count; copies of templates/unchanged.j2; lines mentioning moto in plugins/ and roles/.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def files(revision):
    """{path: text} of the tracked files (or, without a revision, of the working tree's tracked and new files)."""
    if revision:
        names = subprocess.run(
            ["git", "ls-tree", "-r", "--name-only", revision], cwd=REPO, check=True, capture_output=True, text=True
        ).stdout.split()

        def read(name):
            shown = subprocess.run(["git", "show", f"{revision}:{name}"], cwd=REPO, check=True, capture_output=True)
            return shown.stdout.decode("utf-8", "replace")

    else:
        names = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
            cwd=REPO,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        names = [n for n in names if (REPO / n).is_file()]

        def read(name):
            return (REPO / name).read_text(encoding="utf-8", errors="replace")

    wanted = [n for n in names if n.startswith(("roles/", "plugins/")) and not n.startswith("collections/")]
    return {name: read(name) for name in wanted}


def counts(revision=None):
    tree = files(revision)

    def match(*patterns):
        return {n: t for n, t in tree.items() if any(fnmatch.fnmatch(n, p) for p in patterns)}

    tasks = match("roles/*/tasks/*.yml", "roles/*/tasks/*.yaml")
    jinja = match("roles/*/tasks/*.yml", "roles/*/vars/*.yml")
    modules = {n: t.count("\n") for n, t in match("plugins/modules/*.py").items()}
    largest = max(modules, key=modules.get)
    return {
        "revision": revision or "working tree",
        "role_task_lines": sum(t.count("\n") for t in tasks.values()),
        "jinja_block_lines_in_tasks_and_vars": sum(
            1 for t in jinja.values() for line in t.splitlines() if "{%" in line
        ),
        "largest_module": largest.rsplit("/", 1)[-1],
        "largest_module_lines": modules[largest],
        "unchanged_j2_copies": len(match("roles/*/templates/unchanged.j2")),
        "moto_mentions_in_plugins_and_roles": sum(
            1 for t in match("plugins/*", "roles/*").values() for line in t.splitlines() if "moto" in line.lower()
        ),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("revisions", nargs="*", help="git revisions (default: the working tree)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    rows = [counts(r) for r in args.revisions] if args.revisions else [counts()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        print(f"{row['revision']}:")
        for key, value in row.items():
            if key != "revision":
                print(f"  {key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
