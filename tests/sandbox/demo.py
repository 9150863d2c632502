"""`make demo`: build the platform on the local sandbox twice; the second run must change nothing.

Starts the sandbox (moto for AWS), creates the root zone a real user would already own,
runs `ansible-playbook site.yml -i inventories/sandbox` twice, checks the second PLAY RECAP
shows changed=0, prints what was created, and stops the sandbox.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.sandbox.aws import MotoSandbox  # noqa: E402
from tests.sandbox.playbook import playbook_env, run_playbook  # noqa: E402
from tests.sandbox.scenario import ensure_root_zone, inventory_of_auth  # noqa: E402

DOMAIN = "platform.example.com"
REGION = "us-west-2"


def banner(text: str) -> None:
    print(f"\n{'=' * 78}\n== {text}\n{'=' * 78}", flush=True)


def summarize(env: dict) -> None:
    found = inventory_of_auth(env, DOMAIN, REGION)
    banner("What the platform has now")
    for zone in found["zones"]:
        print(f"hosted zone   {zone['Name']} ({zone['Id'].split('/')[-1]})")
    for record in found["records"]:
        target = record.get("AliasTarget", {}).get("DNSName") or ", ".join(
            r["Value"] for r in record.get("ResourceRecords", [])
        )
        print(f"  record      {record['Type']:5} {record['Name']} -> {target}")
    for region, certs in found["certificates"].items():
        for cert in certs:
            sans = ", ".join(cert.get("SubjectAlternativeNames", []))
            print(f"certificate   {region}: {cert['Status']} {sans}\n              {cert['CertificateArn']}")
    for pool in found["pools"]:
        print(f"user pool     {pool['Name']} ({pool['Id']})")
        for client in found["clients"][pool["Id"]]:
            print(f"  app client  {client['ClientName']} ({client['ClientId']})")
        print(f"  domain      {found['domains'][pool['Id']]}")
        print(f"  groups      {', '.join(found['groups'][pool['Id']])}")
        print(f"  users       {', '.join(found['users'][pool['Id']])}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--acm-wait", type=int, default=3, help="seconds a sandbox certificate stays PENDING_VALIDATION"
    )
    parser.add_argument("--teardown", action="store_true", help="run playbooks/teardown.yml at the end")
    args = parser.parse_args()

    with MotoSandbox(acm_validation_wait=args.acm_wait) as sandbox:
        print(f"sandbox AWS (moto) on {sandbox.url}", flush=True)
        sandbox_env = sandbox.env()
        sandbox_env["KUBEFLOW_OPS_SANDBOX_ROOT_ZONE_ID"] = ensure_root_zone(sandbox_env)
        env = playbook_env(sandbox_env)

        banner("First run: ansible-playbook site.yml -i inventories/sandbox")
        first = run_playbook("site.yml", env, stream=True)
        if first.rc != 0:
            print(f"demo: first run failed (exit {first.rc})", file=sys.stderr)
            return 1
        banner("Second run: the same command must change nothing")
        second = run_playbook("site.yml", env, stream=True)
        if second.rc != 0:
            print(f"demo: second run failed (exit {second.rc})", file=sys.stderr)
            return 1
        summarize(sandbox_env)
        print(f"\nfirst run: {first.seconds:.1f}s, changed={first.changed}")
        print(f"second run: {second.seconds:.1f}s, changed={second.changed}")
        if second.changed != 0 or not second.recap:
            print("demo: FAILED: the second run changed something (see its PLAY RECAP)", file=sys.stderr)
            return 1
        if args.teardown:
            banner("Teardown: ansible-playbook playbooks/teardown.yml -i inventories/sandbox")
            down = run_playbook("playbooks/teardown.yml", env, stream=True)
            if down.rc != 0:
                return 1
        print("demo: OK (second run changed=0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
