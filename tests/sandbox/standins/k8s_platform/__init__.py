"""Controllers of the platform layer for the Kubernetes stand-in: what AWS, Knative and KServe would write.

Load them into the stand-in's server process (tests and `make demo` do, via
tests.sandbox.harness.scenario.KUBE_CONTROLLERS and kube_env()):

    KubeSandbox(controllers=["tests.sandbox.standins.k8s_platform"], env=kube_env(moto.env(), time_scale))

- alb.py: the AWS Load Balancer Controller: ALB-class Ingresses get a load balancer in the sandbox
  AWS (moto ELBv2) and its DNS name as `status.loadBalancer.ingress[0].hostname`; deleting the
  Ingress deletes the load balancer (finalizer `ingress.k8s.aws/resources`).
- profiles.py: the Kubeflow profile controller: a Profile makes its namespace (owner annotation,
  Kubeflow's labels) and takes it along when it is deleted.
- serving.py: Knative Services and InferenceServices (`serving.kubeflow.org/v1alpha2` and
  `serving.kserve.io/v1beta1`) become Ready with the URL of Knative's `config-domain`; models on
  `s3://` must exist in the sandbox S3.

Settings, read from the server's environment (`KubeSandbox(env=...)`):

| name | default | meaning |
|---|---|---|
| AWS_ENDPOINT_URL | (unset) | the sandbox AWS; without it nothing touches AWS (no ALB, no model check) |
| AWS_REGION / AWS_DEFAULT_REGION | us-west-2 | region of the load balancers |
| AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN | | sandbox credentials |
| KUBE_SANDBOX_CLUSTER_NAME | (discovered) | `elbv2.k8s.aws/cluster` tag value (see alb.py) |
| KUBE_SANDBOX_ALB_DELAY | 0 | seconds from an Ingress change to its load balancer and hostname |
| KUBE_SANDBOX_ALB_DELETE_DELAY | 0 | seconds from deleting an Ingress to its load balancer and the Ingress being gone |
| KUBE_SANDBOX_ALB_RETRY | 1 | retry period while a load balancer cannot be made (certificate not issued, no subnets) |
| KUBE_SANDBOX_ALB_STRICT_SUBNETS | 0 | 1: no fallback to the default VPC when no subnet is tagged for load balancers |
| KUBE_SANDBOX_SERVING_DELAY | 0 | seconds from a Knative Service / InferenceService change to its status |
| KUBE_SANDBOX_CHECK_MODELS | 1 | 0: do not check that s3:// models exist |
| KUBE_SANDBOX_MODEL_RETRY | 1 | re-check period while a model is missing |

The delays are fixed when the server starts; the other settings are read at each reconcile.
"""

import os

from . import alb, profiles, serving  # noqa: F401  pylint: disable=unused-import  # registering is importing
from .common import warm_up

warm_up(dict(os.environ))
