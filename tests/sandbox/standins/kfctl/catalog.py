"""The Kubernetes objects the simulator renders for each KfDef application (tests only).

Small stand-ins written for the sandbox from the facts in shared/reference: the shape is real (kinds,
names, namespaces, the ALB and Cognito annotations of the istio-ingress Ingress), the content is minimal.
Applications not listed here render one Deployment named after the application, so any KfDef applies.
"""

from __future__ import annotations

import json

ISTIO_NS = "istio-system"


def namespace(name, labels=None):
    meta = {"name": name}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}


def crd(group, plural, kind, versions=("v1",), scope="Namespaced", short=()):
    names = {"plural": plural, "singular": kind.lower(), "kind": kind, "listKind": kind + "List"}
    if short:
        names["shortNames"] = list(short)
    schema = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "names": names,
            "scope": scope,
            "versions": [
                {"name": v, "served": True, "storage": i == 0, "schema": schema} for i, v in enumerate(versions)
            ],
        },
    }


def deployment(name, ns, image, args=None, labels=None, replicas=1):
    labels = labels or {"app": name}
    container = {"name": name, "image": image}
    if args:
        container["args"] = list(args)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": dict(labels)},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(labels)},
            "template": {"metadata": {"labels": dict(labels)}, "spec": {"containers": [container]}},
        },
    }


def service(name, ns, port, selector, kind="ClusterIP"):
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"type": kind, "selector": dict(selector), "ports": [{"name": "http", "port": port}]},
    }


def cluster_role(name, rules=None):
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": name},
        "rules": rules or [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}],
    }


def cluster_role_binding(name, role, sa, ns):
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": ns}],
    }


def service_account(name, ns):
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": ns}}


# -- applications ---------------------------------------------------------------------------------------
def istio_crds(p, kf_ns):
    return [
        crd("networking.istio.io", "gateways", "Gateway", ("v1alpha3",), short=("gw",)),
        crd("networking.istio.io", "virtualservices", "VirtualService", ("v1alpha3",), short=("vs",)),
        crd("networking.istio.io", "destinationrules", "DestinationRule", ("v1alpha3",), short=("dr",)),
        crd("rbac.istio.io", "serviceroles", "ServiceRole", ("v1alpha1",)),
        crd("rbac.istio.io", "servicerolebindings", "ServiceRoleBinding", ("v1alpha1",)),
        crd("rbac.istio.io", "clusterrbacconfigs", "ClusterRbacConfig", ("v1alpha1",), scope="Cluster"),
    ]


def istio_install(p, kf_ns):
    ns = p.get("namespace", ISTIO_NS)
    gateway = {"app": "istio-ingressgateway", "istio": "ingressgateway"}
    return [
        namespace(ns, {"istio-injection": "disabled"}),
        deployment("istio-pilot", ns, "docker.io/istio/pilot:1.1.6", labels={"app": "pilot", "istio": "pilot"}),
        deployment("istio-ingressgateway", ns, "docker.io/istio/proxyv2:1.1.6", labels=gateway),
        service("istio-ingressgateway", ns, 80, gateway, kind="NodePort"),
        cluster_role(
            "istio-pilot-istio-system", [{"apiGroups": ["networking.istio.io"], "resources": ["*"], "verbs": ["*"]}]
        ),
    ]


def istio(p, kf_ns):
    return [
        {
            "apiVersion": "rbac.istio.io/v1alpha1",
            "kind": "ClusterRbacConfig",
            "metadata": {"name": "default"},
            "spec": {"mode": p.get("clusterRbacConfig", "OFF")},
        },
        {
            "apiVersion": "networking.istio.io/v1alpha3",
            "kind": "Gateway",
            "metadata": {"name": "kubeflow-gateway", "namespace": kf_ns},
            "spec": {
                "selector": {"istio": "ingressgateway"},
                "servers": [{"hosts": ["*"], "port": {"name": "http", "number": 80, "protocol": "HTTP"}}],
            },
        },
    ]


def istio_ingress(p, kf_ns):
    """The ALB in front of Kubeflow: Cognito login on HTTPS, certificate from the cluster region."""
    ns = p.get("namespace", ISTIO_NS)
    cognito = {
        "UserPoolArn": p.get("CognitoUserPoolArn", ""),
        "UserPoolClientId": p.get("CognitoAppClientId", ""),
        "UserPoolDomain": p.get("CognitoUserPoolDomain", ""),
    }
    annotations = {
        "kubernetes.io/ingress.class": "alb",
        "alb.ingress.kubernetes.io/scheme": p.get("loadBalancerScheme", "internet-facing"),
        "alb.ingress.kubernetes.io/listen-ports": '[{"HTTPS":443}]',
        "alb.ingress.kubernetes.io/certificate-arn": p.get("certArn", ""),
        "alb.ingress.kubernetes.io/auth-type": "cognito",
        "alb.ingress.kubernetes.io/auth-idp-cognito": json.dumps(cognito, separators=(",", ":")),
        "alb.ingress.kubernetes.io/auth-scope": "openid email profile aws.cognito.signin.user.admin",
    }
    backend = {"service": {"name": "istio-ingressgateway", "port": {"number": 80}}}
    return [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": "istio-ingress", "namespace": ns, "annotations": annotations},
            "spec": {
                "rules": [
                    {"http": {"paths": [{"path": "/*", "pathType": "ImplementationSpecific", "backend": backend}]}}
                ]
            },
        }
    ]


def alb_controller(p, kf_ns):
    name = "alb-ingress-controller"
    return [
        service_account(name, kf_ns),
        cluster_role(
            name, [{"apiGroups": ["", "extensions", "networking.k8s.io"], "resources": ["*"], "verbs": ["*"]}]
        ),
        cluster_role_binding(name, name, name, kf_ns),
        deployment(
            name,
            kf_ns,
            "docker.io/amazon/aws-alb-ingress-controller:v1.1.5",
            args=["--ingress-class=alb", f"--cluster-name={p.get('clusterName', '')}"],
        ),
    ]


def authz_adaptor(p, kf_ns):
    ns = p.get("namespace", ISTIO_NS)
    return [
        deployment(
            "aws-istio-authz-adaptor",
            ns,
            "docker.io/kubeflow/aws-istio-authz-adaptor:v0.1",
            args=[f"--origin-header={p.get('origin-header', '')}", f"--custom-header={p.get('custom-header', '')}"],
        )
    ]


def profiles(p, kf_ns):
    return [
        crd("kubeflow.org", "profiles", "Profile", ("v1", "v1beta1"), scope="Cluster"),
        service_account("profiles-controller-service-account", kf_ns),
        cluster_role_binding(
            "profiles-cluster-role-binding", "cluster-admin", "profiles-controller-service-account", kf_ns
        ),
        deployment(
            "profiles-deployment",
            kf_ns,
            "gcr.io/kubeflow-images-public/profile-controller:v1.0.0",
            args=[f"-userid-header={p.get('userid-header', 'kubeflow-userid')}", "-userid-prefix="],
            labels={"kustomize.component": "profiles"},
        ),
    ]


def kubeflow_roles(p, kf_ns):
    return [cluster_role(f"kubeflow-{r}") for r in ("admin", "edit", "view")]


def cert_manager_crds(p, kf_ns):
    return [
        crd("cert-manager.io", "certificates", "Certificate", ("v1alpha2",)),
        crd("cert-manager.io", "issuers", "Issuer", ("v1alpha2",)),
        crd("cert-manager.io", "clusterissuers", "ClusterIssuer", ("v1alpha2",), scope="Cluster"),
    ]


def cert_manager(p, kf_ns):
    ns = p.get("namespace", "cert-manager")
    return [
        namespace(ns),
        deployment("cert-manager", ns, "quay.io/jetstack/cert-manager-controller:v0.11.0"),
        deployment("cert-manager-webhook", ns, "quay.io/jetstack/cert-manager-webhook:v0.11.0"),
    ]


def knative_install(p, kf_ns):
    ns = p.get("namespace", "knative-serving")
    # Knative ships config-domain with only an `_example` key (its documentation block); the default
    # domain is example.com until someone sets one.
    config_domain = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "config-domain", "namespace": ns, "labels": {"serving.knative.dev/release": "v0.11.1"}},
        "data": {"_example": "################################\n# (Knative's documentation of this ConfigMap)\n"},
    }
    return [namespace(ns, {"istio-injection": "enabled"}), config_domain] + [
        deployment(n, ns, f"gcr.io/knative-releases/serving/{n}:v0.11.1")
        for n in ("activator", "autoscaler", "controller", "webhook", "networking-istio")
    ]


def kfserving_crds(p, kf_ns):
    return [
        crd("serving.kubeflow.org", "inferenceservices", "InferenceService", ("v1alpha2",), short=("inferenceservice",))
    ]


def kfserving_install(p, kf_ns):
    ns = "kfserving-system"
    return [
        namespace(ns),
        deployment("kfserving-controller-manager", ns, "gcr.io/kfserving/kfserving-controller:0.2.2"),
    ]


def application_crds(p, kf_ns):
    return [crd("app.k8s.io", "applications", "Application", ("v1beta1",))]


def nvidia_device_plugin(p, kf_ns):
    labels = {"name": "nvidia-device-plugin-ds"}
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "nvidia-device-plugin-daemonset", "namespace": "kube-system"},
            "spec": {
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
                        "containers": [
                            {"name": "nvidia-device-plugin-ctr", "image": "nvidia/k8s-device-plugin:1.0.0-beta4"}
                        ],
                    },
                },
            },
        }
    ]


APPS = {
    "istio-crds": istio_crds,
    "istio-install": istio_install,
    "istio": istio,
    "istio-ingress": istio_ingress,
    "aws-alb-ingress-controller": alb_controller,
    "aws-istio-authz-adaptor": authz_adaptor,
    "profiles": profiles,
    "kubeflow-roles": kubeflow_roles,
    "cert-manager-crds": cert_manager_crds,
    "cert-manager": cert_manager,
    "knative-install": knative_install,
    "kfserving-crds": kfserving_crds,
    "kfserving-install": kfserving_install,
    "application-crds": application_crds,
    "nvidia-device-plugin": nvidia_device_plugin,
}


def render(app_name, params, kf_ns):
    """Objects of one application; `params` are the merged kustomize parameters (name -> value)."""
    func = APPS.get(app_name)
    if func is not None:
        return func(params, kf_ns)
    if app_name.endswith("-crds"):
        return []
    ns = params.get("namespace", kf_ns)
    return [deployment(app_name, ns, f"gcr.io/kubeflow-images-public/{app_name}:v1.0.0")]
