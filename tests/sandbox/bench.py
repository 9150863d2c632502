"""`make bench`: how fast the platform converges on a fresh sandbox, against the time it must wait.

Everything runs at one time scale (default 1/60: an EKS control plane that takes 15 min on AWS
takes 15 s, a node group 4 min -> 4 s, ACM DNS validation 3 min -> 3 s). Scenarios, each on a
fresh sandbox (moto, the Kubernetes stand-in, the eksctl simulator):

- `site`: `site.yml` (auth + cluster + GPU nodes, overlapped), then the same command again
  (the no-op re-run, which must report changed=0);
- `sequential`: the same layers one after another (`playbooks/auth.yml`, `cluster.yml`,
  `gpu_nodes.yml`), which is what the upstream guides do;
- `auth`: `playbooks/auth.yml` twice, with the AWS API calls it made (moto's request recorder).

The critical-path lower bound is the longest chain of simulated waits when everything that can
overlap does: max(ACM validation, control plane + the slowest node group), node groups created
concurrently. A converge can never be faster than that; the ratio first-converge / lower bound
says how much our orchestration adds. Targets: ratio <= 1.2, no-op re-run <= 30 s.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.sandbox.aws import MotoSandbox  # noqa: E402
from tests.sandbox.eksctl.common import Clock  # noqa: E402
from tests.sandbox.playbook import playbook_env, run_playbook  # noqa: E402
from tests.sandbox.scenario import fresh_platform  # noqa: E402

TARGETS = {"ratio": 1.2, "noop_s": 30.0}
ACM_VALIDATION_ON_AWS = 3 * 60  # seconds, typical DNS validation of a new certificate
SEQUENTIAL = ("playbooks/auth.yml", "playbooks/cluster.yml", "playbooks/gpu_nodes.yml")


def lower_bound(time_scale: float) -> dict:
    """The longest chain of simulated waits of a first converge, with every overlap taken."""
    acm = max(1, round(ACM_VALIDATION_ON_AWS * time_scale))  # moto counts whole seconds
    control_plane = Clock.CLUSTER_CREATE * time_scale
    node_group = Clock.NODEGROUP_CREATE * time_scale  # CPU and GPU groups are created concurrently
    return {
        "acm_validation_s": acm,
        "control_plane_s": control_plane,
        "node_group_s": node_group,
        "critical_path_s": max(acm, control_plane + node_group),
        "all_in_a_row_s": acm + control_plane + 2 * node_group,
    }


@contextmanager
def fresh_sandbox(time_scale: float, record: bool = False):
    """A fresh sandbox at `time_scale` (ACM validation scaled too) and the playbook environment for it."""
    acm = lower_bound(time_scale)["acm_validation_s"]
    with fresh_platform(acm, time_scale, record=record, prefix="kfops-bench-") as (aws, _kube, env):
        yield aws, playbook_env(env)


def run(playbook: str, env: dict):
    result = run_playbook(playbook, env)
    if result.rc != 0:
        print(result.output[-5000:], file=sys.stderr)
        raise SystemExit(f"bench: {playbook} failed (exit {result.rc})")
    return result


def tasks_run(result) -> int:
    """Tasks that ran (ok + changed, skipped ones excluded) as the PLAY RECAP counts them."""
    return sum(host["ok"] for host in result.recap.values())


def bench_site(time_scale: float) -> dict:
    with fresh_sandbox(time_scale) as (_aws, env):
        first = run("site.yml", env)
        noop = run("site.yml", env)
    return {
        "first_converge_s": round(first.seconds, 1),
        "first_converge_changed": first.changed,
        "first_converge_tasks": tasks_run(first),
        "noop_rerun_s": round(noop.seconds, 1),
        "noop_rerun_changed": noop.changed,
        "noop_rerun_tasks": tasks_run(noop),
    }


def bench_sequential(time_scale: float) -> dict:
    with fresh_sandbox(time_scale) as (_aws, env):
        runs = [run(playbook, env) for playbook in SEQUENTIAL]
    return {
        "sequential_first_converge_s": round(sum(r.seconds for r in runs), 1),
        "sequential_per_playbook_s": {p: round(r.seconds, 1) for p, r in zip(SEQUENTIAL, runs)},
    }


def bench_auth(time_scale: float) -> dict:
    with fresh_sandbox(time_scale, record=True) as (aws, env):
        figures = {}
        for label in ("auth_first", "auth_noop"):
            aws.start_recording()
            result = run("playbooks/auth.yml", env)
            calls = MotoSandbox.api_calls(aws.stop_recording())
            figures[f"{label}_s"] = round(result.seconds, 1)
            figures[f"{label}_changed"] = result.changed
            figures[f"{label}_api_calls"] = sum(calls.values())
    return figures


def report(figures: dict) -> list[str]:
    bound = figures["lower_bound"]
    lines = [
        f"time scale 1/{round(1 / figures['time_scale'])}: control plane {bound['control_plane_s']:.0f} s, "
        f"node group {bound['node_group_s']:.0f} s, ACM validation {bound['acm_validation_s']} s",
        f"  critical-path lower bound        : {bound['critical_path_s']:6.1f} s"
        f"   (every wait one after another: {bound['all_in_a_row_s']:.1f} s)",
    ]
    if "first_converge_s" in figures:
        ratio = figures["first_converge_s"] / bound["critical_path_s"]
        figures["ratio"] = round(ratio, 2)
        lines += [
            f"  site.yml first converge          : {figures['first_converge_s']:6.1f} s  "
            f"changed={figures['first_converge_changed']:<3} tasks={figures['first_converge_tasks']}",
            f"  ratio first converge / bound     : {ratio:6.2f}     (target <= {TARGETS['ratio']})",
            f"  site.yml no-op re-run            : {figures['noop_rerun_s']:6.1f} s  "
            f"changed={figures['noop_rerun_changed']:<3} tasks={figures['noop_rerun_tasks']}"
            f"   (target <= {TARGETS['noop_s']:.0f} s)",
        ]
    if "sequential_first_converge_s" in figures:
        seq = figures["sequential_first_converge_s"]
        figures["sequential_ratio"] = round(seq / bound["critical_path_s"], 2)
        lines.append(
            f"  layers one after another (no overlap): {seq:6.1f} s  ratio {figures['sequential_ratio']:.2f}  "
            + ", ".join(f"{Path(p).name} {s} s" for p, s in figures["sequential_per_playbook_s"].items())
        )
    if "auth_first_s" in figures:
        lines.append(
            f"  auth layer alone: first {figures['auth_first_s']} s ({figures['auth_first_api_calls']} AWS calls), "
            f"no-op {figures['auth_noop_s']} s ({figures['auth_noop_api_calls']} AWS calls, "
            f"changed={figures['auth_noop_changed']})"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--time-scale", type=float, default=1 / 60, help="simulated AWS time (default 1/60)")
    parser.add_argument(
        "--scenarios",
        default="site,sequential,auth",
        help="comma-separated: site (overlapped + no-op), sequential (no overlap), auth (auth layer alone)",
    )
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    chosen = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    runners = {"site": bench_site, "sequential": bench_sequential, "auth": bench_auth}
    unknown = [s for s in chosen if s not in runners]
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(unknown)} (choose from {', '.join(runners)})")

    figures = {"time_scale": args.time_scale, "lower_bound": lower_bound(args.time_scale)}
    for name in chosen:
        print(f"bench: {name} ...", flush=True)
        figures.update(runners[name](args.time_scale))
    print("\n".join(report(figures)))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    changed = [k for k in ("noop_rerun_changed", "auth_noop_changed") if figures.get(k, 0) != 0]
    if changed:
        print(f"bench: the re-run changed something ({', '.join(changed)})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
