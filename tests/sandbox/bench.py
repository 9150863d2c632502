"""`make bench`: how fast the auth layer converges on a fresh sandbox, and how many AWS calls it makes.

Prints the wall time of a first converge and of the second (no-op) one, and the AWS API calls
each made, read from moto's request recorder. ACM validation is set to 1 s (the sandbox's
stand-in for DNS propagation), so the figures measure our orchestration, not AWS.
Targets on 2 cores: first converge <= 20 s, no-op <= 10 s.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.sandbox.aws import MotoSandbox  # noqa: E402
from tests.sandbox.playbook import playbook_env, run_playbook  # noqa: E402
from tests.sandbox.scenario import ensure_root_zone  # noqa: E402

TARGETS = {"first": 20.0, "noop": 10.0}


def measure(sandbox, env, playbook):
    sandbox.start_recording()
    run = run_playbook(playbook, env)
    calls = MotoSandbox.api_calls(sandbox.stop_recording())
    if run.rc != 0:
        print(run.output[-5000:], file=sys.stderr)
        raise SystemExit(f"bench: {playbook} failed (exit {run.rc})")
    return run, calls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--acm-wait", type=int, default=1)
    parser.add_argument("--playbook", default="playbooks/auth.yml")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--details", action="store_true", help="print the calls per API operation")
    args = parser.parse_args()

    with MotoSandbox(acm_validation_wait=args.acm_wait, record=True) as sandbox:
        sandbox_env = sandbox.env()
        sandbox_env["KUBEFLOW_OPS_SANDBOX_ROOT_ZONE_ID"] = ensure_root_zone(sandbox_env)
        env = playbook_env(sandbox_env)
        first, first_calls = measure(sandbox, env, args.playbook)
        noop, noop_calls = measure(sandbox, env, args.playbook)

    figures = {
        "playbook": args.playbook,
        "acm_validation_wait_s": args.acm_wait,
        "first_converge_s": round(first.seconds, 1),
        "first_converge_changed": first.changed,
        "first_converge_api_calls": sum(first_calls.values()),
        "noop_rerun_s": round(noop.seconds, 1),
        "noop_rerun_changed": noop.changed,
        "noop_rerun_api_calls": sum(noop_calls.values()),
    }
    print(f"auth layer on a fresh sandbox (ACM validation {args.acm_wait} s)")
    print(
        f"  first converge : {first.seconds:6.1f} s  changed={first.changed:<3} AWS API calls={sum(first_calls.values())}"
        f"   (target <= {TARGETS['first']:.0f} s)"
    )
    print(
        f"  no-op re-run   : {noop.seconds:6.1f} s  changed={noop.changed:<3} AWS API calls={sum(noop_calls.values())}"
        f"   (target <= {TARGETS['noop']:.0f} s)"
    )
    if args.details:
        for label, calls in (("first converge", first_calls), ("no-op re-run", noop_calls)):
            print(f"\n{label}: calls per operation")
            for name, count in sorted(calls.items()):
                print(f"  {count:4}  {name}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    ok = noop.changed == 0
    if not ok:
        print("bench: the re-run changed something", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
