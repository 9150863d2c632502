"""`make demo`: build the platform on the local sandbox twice; the second run must change nothing.

Starts the sandbox (moto for AWS, the Kubernetes API stand-in, the eksctl simulator at 1/60 of
AWS's provisioning times), creates the root zone a real user would already own, runs
`ansible-playbook site.yml -i inventories/sandbox` twice, checks the second PLAY RECAP shows
changed=0, prints what was created, tears the platform down (`--keep` skips that) and stops the
sandbox.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.sandbox.k8s import KubeSandbox  # noqa: E402
from tests.sandbox.playbook import playbook_env, run_playbook  # noqa: E402
from tests.sandbox.scenario import fresh_platform, inventory_of_auth  # noqa: E402

DOMAIN = "platform.example.com"
REGION = "us-west-2"


def banner(text: str) -> None:
    print(f"\n{'=' * 78}\n== {text}\n{'=' * 78}", flush=True)


def summarize_cluster(env: dict, kube: KubeSandbox) -> None:
    import boto3  # pylint: disable=import-outside-toplevel

    eks = boto3.client(
        "eks",
        region_name=REGION,
        endpoint_url=env["AWS_ENDPOINT_URL"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=env["AWS_SESSION_TOKEN"],
    )
    for name in eks.list_clusters()["clusters"]:
        cluster = eks.describe_cluster(name=name)["cluster"]
        print(f"EKS cluster   {name}: Kubernetes {cluster['version']}, {cluster['status']}")
        for group in eks.list_nodegroups(clusterName=name)["nodegroups"]:
            info = eks.describe_nodegroup(clusterName=name, nodegroupName=group)["nodegroup"]
            scaling = info.get("scalingConfig", {})
            print(
                f"  node group  {group}: {', '.join(info.get('instanceTypes', []))} "
                f"min={scaling.get('minSize')} desired={scaling.get('desiredSize')} max={scaling.get('maxSize')}"
            )
    for node in kube.objects("v1", "Node"):
        gpus = node.get("status", {}).get("allocatable", {}).get("nvidia.com/gpu")
        print(f"  node        {node['metadata']['name']}" + (f" (nvidia.com/gpu: {gpus})" if gpus else ""))


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
    parser.add_argument(
        "--time-scale", type=float, default=1 / 60, help="simulated eksctl provisioning time (1 = as long as on AWS)"
    )
    parser.add_argument("--keep", action="store_true", help="do not run playbooks/teardown.yml at the end")
    args = parser.parse_args()

    with fresh_platform(args.acm_wait, args.time_scale, prefix="kfops-demo-") as (sandbox, kube, sandbox_env):
        print(f"sandbox AWS (moto) on {sandbox.url}, Kubernetes stand-in on {kube.url}", flush=True)
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
        summarize_cluster(sandbox_env, kube)
        print(f"\nfirst run: {first.seconds:.1f}s, changed={first.changed}")
        print(f"second run: {second.seconds:.1f}s, changed={second.changed}")
        if second.changed != 0 or not second.recap:
            print("demo: FAILED: the second run changed something (see its PLAY RECAP)", file=sys.stderr)
            return 1
        if not args.keep:
            banner("Teardown: ansible-playbook playbooks/teardown.yml -i inventories/sandbox")
            down = run_playbook("playbooks/teardown.yml", env, stream=True)
            if down.rc != 0:
                print(f"demo: teardown failed (exit {down.rc})", file=sys.stderr)
                return 1
            print(f"teardown: {down.seconds:.1f}s, changed={down.changed}")
        print("demo: OK (second run changed=0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
