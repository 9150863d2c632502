"""A test-only eksctl simulator (sandbox stand-in for eksctl v0.230.0).

It speaks the CLI contract in shared/reference/eksctl-cli-contract.md and keeps its state where a
real eksctl does: in AWS (here the moto server), as EKS clusters and node groups, CloudFormation
stacks, IAM roles and OIDC providers, Auto Scaling groups. Product code reaches it only through the
binary path (tests/sandbox/standins/bin/eksctl). When EKSCTL_SIM_KUBE_URL names the Kubernetes stand-in, node
groups also appear there as Node objects. See README.md next to this file for the behaviour and
the places where moto cannot represent what AWS does.
"""

EKSCTL_VERSION = "0.230.0"
GIT_COMMIT = "6ee3b761771c4ae78c76c82bbf2ea168afd61a9e"
BUILD_DATE = "2026-08-13T09:12:44Z"
