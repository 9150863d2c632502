"""`make bench-compare`: this tree's site.yml against an older revision's, side by side in one run.

    python -m tests.sandbox.tools.bench_compare --against 59fba54 --rounds 2

The older revision is checked out in a temporary git worktree that uses this tree's .venv (the same Python and
ansible-core for both). Each round runs the `site` scenario of `make bench` (a fresh sandbox: site.yml first
converge, then the no-op re-run) with the older code and with this code, in alternating order so that neither
always runs on the busier machine. Figures on a shared 2-core machine are noisy: compare the two columns of one
run, not figures of different runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
PYTHON = sys.executable
FIGURES = ("first_converge_s", "first_converge_changed", "noop_rerun_s", "noop_rerun_changed", "noop_rerun_tasks")


def bench_module(tree: Path) -> str:
    """Where `make bench` lives in a tree (it moved to tests/sandbox/tools/ in issue 9)."""
    return "tests.sandbox.tools.bench" if (tree / "tests/sandbox/tools/bench.py").is_file() else "tests.sandbox.bench"


def run_site(tree: Path, era: str, label: str) -> dict:
    scenario = "site" if era == "v1.7" else "site-v1.0"
    with tempfile.NamedTemporaryFile(prefix="kfops-bench-", suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    started = time.monotonic()
    proc = subprocess.run(
        [PYTHON, "-m", bench_module(tree), "--scenarios", scenario, "--json", str(out)],
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
    )
    figures = json.loads(out.read_text()) if out.stat().st_size else {}
    out.unlink()
    site = figures.get(f"site_{era}")
    if proc.returncode != 0 or not site:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit(f"bench_compare: the {label} run failed (exit {proc.returncode})")
    print(
        f"  {label:>8}: first {site['first_converge_s']:6.1f} s (changed={site['first_converge_changed']}), "
        f"no-op {site['noop_rerun_s']:6.1f} s (changed={site['noop_rerun_changed']}, "
        f"{site['noop_rerun_tasks']} tasks) [{time.monotonic() - started:.0f} s]",
        flush=True,
    )
    return {key: site[key] for key in FIGURES}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--against", required=True, help="the older git revision (e.g. 59fba54)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each side (default 2)")
    parser.add_argument("--era", default="v1.7", choices=["v1.7", "v1.0"])
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    revision = subprocess.run(
        ["git", "rev-parse", "--short", args.against], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout.strip()
    current = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain"], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout.strip()
    label_new = f"{current}{'+' if dirty else ''}"
    results = {revision: [], label_new: []}
    # Beside this checkout, so that the older tree finds ../shared the same way.
    with tempfile.TemporaryDirectory(prefix=".kfops-compare-", dir=REPO.parent) as tmp:
        old = Path(tmp) / "old"
        subprocess.run(["git", "worktree", "add", "-q", "--detach", str(old), revision], cwd=REPO, check=True)
        try:
            (old / ".venv").symlink_to(REPO / ".venv")
            print(f"bench_compare: site.yml ({args.era}) of {revision} and of {label_new}, {args.rounds} rounds")
            for index in range(args.rounds):
                print(f"round {index + 1}:", flush=True)
                sides = [(old, revision), (REPO, label_new)]
                for tree, label in sides if index % 2 == 0 else reversed(sides):
                    results[label].append(run_site(tree, args.era, label))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=REPO, check=False)
    print("median no-op re-run of site.yml:")
    for label, runs in results.items():
        noop = statistics.median(r["noop_rerun_s"] for r in runs)
        tasks = statistics.median(r["noop_rerun_tasks"] for r in runs)
        changed = max(r["noop_rerun_changed"] for r in runs)
        print(f"  {label:>8}: {noop:6.1f} s, {tasks:.0f} tasks, changed={changed}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
