"""`make demo`: build the platform on the local sandbox twice; the second run must change nothing.

Starts the sandbox (moto for AWS, the Kubernetes API stand-in, the eksctl simulator at 1/60 of
AWS's provisioning times), creates the root zone a real user would already own, runs
`ansible-playbook site.yml -i inventories/sandbox` twice, checks the second PLAY RECAP shows
changed=0, prints what was created, tears the platform down (`--keep` skips that) and stops the
sandbox.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from tests.sandbox.harness.playbook import playbook_env, run_playbook  # noqa: E402
from tests.sandbox.harness.scenario import fresh_platform, inventory_of_auth, predictor_requests  # noqa: E402
from tests.sandbox.standins.k8s import KubeSandbox  # noqa: E402

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


DASHBOARD_RE = re.compile(r"Kubeflow dashboard: (https://\S+)")
SMOKE_RE = re.compile(r"msg: '?([a-z0-9-]+/[a-z0-9-]+) \((https://[^) ]+)\): (\[[^\]]*\])")


def summarize_kubeflow(kube: KubeSandbox, output: str, requests: list) -> bool:
    """The dashboard URL, each model's URL and its smoke prediction, as the playbook printed them, with what
    the sandbox saw (the Ingresses' load balancers, the InferenceServices, the requests the predictor got).
    False when a model has no successful smoke prediction."""
    text = " ".join(output.split())
    banner("Kubeflow and the models")
    dashboard = DASHBOARD_RE.search(text)
    print(f"dashboard     {dashboard.group(1) if dashboard else '(not printed by the playbook)'}")
    for ingress in kube.objects(kind="Ingress"):
        lb = ((ingress.get("status") or {}).get("loadBalancer") or {}).get("ingress") or [{}]
        meta = ingress["metadata"]
        print(f"  ingress     {meta['namespace']}/{meta['name']} -> ALB {lb[0].get('hostname', '(none yet)')}")
    for obj in kube.objects(kind="InferenceService"):
        ready = {c["type"]: c["status"] for c in (obj.get("status") or {}).get("conditions") or []}.get("Ready")
        meta = obj["metadata"]
        print(f"  model       {meta['namespace']}/{meta['name']} ({obj['apiVersion']}), Ready={ready}")
    smoke = SMOKE_RE.findall(text)
    for model, url, answer in smoke:
        print(f"model URL     {model}: {url}")
        print(f"  smoke prediction (through the API ingress, with the header token): {answer}")
    served = [r for r in requests if r["status"] == 200 and r["token_sent"]]
    print(f"predictor     {len(served)} successful request(s) with a token, {len(requests) - len(served)} other(s)")
    return bool(smoke) and bool(served)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--acm-wait", type=int, default=3, help="seconds a sandbox certificate stays PENDING_VALIDATION"
    )
    parser.add_argument(
        "--time-scale", type=float, default=1 / 60, help="simulated eksctl provisioning time (1 = as long as on AWS)"
    )
    parser.add_argument("--keep", action="store_true", help="do not run playbooks/teardown.yml at the end")
    parser.add_argument(
        "--era", choices=["v1.7", "v1.0"], default="v1.7", help="v1.7: kustomize + KServe; v1.0: kfctl + KFServing 0.2"
    )
    args = parser.parse_args()

    with fresh_platform(args.acm_wait, args.time_scale, prefix="kfops-demo-") as (sandbox, kube, sandbox_env):
        print(f"sandbox AWS (moto) on {sandbox.url}, Kubernetes stand-in on {kube.url}", flush=True)
        env = playbook_env(sandbox_env, {"KUBEFLOW_OPS_SANDBOX_ERA": args.era})
        print(f"Kubeflow era {args.era} (inventories/sandbox reads KUBEFLOW_OPS_SANDBOX_ERA)", flush=True)

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
        if not summarize_kubeflow(kube, first.output, predictor_requests(sandbox_env)):
            print("demo: FAILED: no successful smoke prediction", file=sys.stderr)
            return 1
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
