"""Static facts the simulator needs about EC2 instance types, AMI types and Kubernetes versions.

Kept as plain tables (no AWS calls) so that every command, and the Kubernetes stand-in's status
hook (`k8s_gpu.py`), agree on what a node of a given type looks like.
"""

from __future__ import annotations

import re

# Kubernetes versions this eksctl release offers (v0.230.0 asks EKS DescribeClusterVersions, which
# moto does not implement; the list matches the collection's SUPPORTED_KUBERNETES_VERSIONS).
# Override with EKSCTL_SIM_SUPPORTED_VERSIONS="1.29,1.30,...".
SUPPORTED_VERSIONS = ("1.28", "1.29", "1.30", "1.31", "1.32", "1.33", "1.34")
DEFAULT_VERSION = "1.34"

# kubelet patch level and EKS build suffix reported by nodes of each minor version.
KUBELET_PATCH = {
    "1.28": "1.28.15-eks-3abbec1",
    "1.29": "1.29.15-eks-473151a",
    "1.30": "1.30.14-eks-b707fbb",
    "1.31": "1.31.13-eks-113cf36",
    "1.32": "1.32.9-eks-113cf36",
    "1.33": "1.33.5-eks-113cf36",
    "1.34": "1.34.1-eks-113cf36",
}

# NVIDIA GPUs per instance (AWS instance type documentation). Families not listed by size fall
# back to FAMILY_DEFAULT_GPUS.
# fmt: off
NVIDIA_GPUS = {
    "p2.xlarge": 1, "p2.8xlarge": 8, "p2.16xlarge": 16,
    "p3.2xlarge": 1, "p3.8xlarge": 4, "p3.16xlarge": 8, "p3dn.24xlarge": 8,
    "p4d.24xlarge": 8, "p4de.24xlarge": 8,
    "p5.48xlarge": 8, "p5e.48xlarge": 8, "p5en.48xlarge": 8, "p6-b200.48xlarge": 8,
    "g3s.xlarge": 1, "g3.4xlarge": 1, "g3.8xlarge": 2, "g3.16xlarge": 4,
    "g4dn.xlarge": 1, "g4dn.2xlarge": 1, "g4dn.4xlarge": 1, "g4dn.8xlarge": 1, "g4dn.16xlarge": 1,
    "g4dn.12xlarge": 4, "g4dn.metal": 8,
    "g5.xlarge": 1, "g5.2xlarge": 1, "g5.4xlarge": 1, "g5.8xlarge": 1, "g5.16xlarge": 1,
    "g5.12xlarge": 4, "g5.24xlarge": 4, "g5.48xlarge": 8,
    "g5g.xlarge": 1, "g5g.2xlarge": 1, "g5g.4xlarge": 1, "g5g.8xlarge": 1, "g5g.16xlarge": 2, "g5g.metal": 2,
    "g6.xlarge": 1, "g6.2xlarge": 1, "g6.4xlarge": 1, "g6.8xlarge": 1, "g6.16xlarge": 1,
    "g6.12xlarge": 4, "g6.24xlarge": 4, "g6.48xlarge": 8,
    "g6e.xlarge": 1, "g6e.2xlarge": 1, "g6e.4xlarge": 1, "g6e.8xlarge": 1, "g6e.16xlarge": 1,
    "g6e.12xlarge": 4, "g6e.24xlarge": 4, "g6e.48xlarge": 8,
    "gr6.4xlarge": 1, "gr6.8xlarge": 1,
}
NVIDIA_FAMILIES = ("p2", "p3", "p3dn", "p4d", "p4de", "p5", "p5e", "p5en", "p6-b200", "g3", "g3s", "g4dn", "g5", "g5g",
                   "g6", "g6e", "gr6")
FAMILY_DEFAULT_GPUS = 1
NEURON_FAMILIES = ("inf1", "inf2", "trn1", "trn1n", "trn2")
# Graviton and other arm64 families (for AMI type selection and node labels).
ARM_FAMILY = re.compile(r"^(a1|[a-z]+\d+g[a-z]*|g5g)$")

# vCPUs and memory (GiB) for the types tests and examples use; others get a size-based guess.
SHAPES = {
    "t3.medium": (2, 4), "t3.large": (2, 8), "t3.xlarge": (4, 16), "t3.2xlarge": (8, 32),
    "m5.large": (2, 8), "m5.xlarge": (4, 16), "m5.2xlarge": (8, 32), "m5.4xlarge": (16, 64),
    "m6i.large": (2, 8), "m6i.xlarge": (4, 16), "m7i.large": (2, 8), "m6g.large": (2, 8), "m7g.large": (2, 8),
    "c5.large": (2, 4), "c5.xlarge": (4, 8), "r5.large": (2, 16), "r5.xlarge": (4, 32),
    "p3.2xlarge": (8, 61), "p3.8xlarge": (32, 244), "p3.16xlarge": (64, 488), "p4d.24xlarge": (96, 1152),
    "g4dn.xlarge": (4, 16), "g4dn.2xlarge": (8, 32), "g4dn.4xlarge": (16, 64), "g4dn.8xlarge": (32, 128),
    "g4dn.12xlarge": (48, 192), "g4dn.16xlarge": (64, 256),
    "g5.xlarge": (4, 16), "g5.2xlarge": (8, 32), "g5.4xlarge": (16, 64), "g5.12xlarge": (48, 192),
    "g5.48xlarge": (192, 768), "g6.xlarge": (4, 16), "g6.2xlarge": (8, 32), "g6.12xlarge": (48, 192),
}
SIZE_VCPUS = {"medium": 2, "large": 2, "xlarge": 4, "2xlarge": 8, "4xlarge": 16, "8xlarge": 32, "12xlarge": 48,
              "16xlarge": 64, "24xlarge": 96, "48xlarge": 192, "metal": 96}

DEVICE_PLUGIN_IMAGE_REPO = "nvcr.io/nvidia/k8s-device-plugin"
DEVICE_PLUGIN_IMAGE = DEVICE_PLUGIN_IMAGE_REPO + ":v0.19.3"
DEVICE_PLUGIN_NAME = "nvidia-device-plugin-daemonset"

AMI_FAMILIES = (
    "AmazonLinux2023", "AmazonLinux2", "Bottlerocket", "BottlerocketFips", "Ubuntu2004", "Ubuntu2204", "Ubuntu2404",
    "Ubuntu2604", "UbuntuPro2004", "UbuntuPro2204", "UbuntuPro2404", "UbuntuPro2604", "WindowsServer2019CoreContainer",
    "WindowsServer2019FullContainer", "WindowsServer2022CoreContainer", "WindowsServer2022FullContainer",
    "WindowsServer2025CoreContainer", "WindowsServer2025FullContainer",
)
# fmt: on
DEFAULT_AMI_FAMILY = "AmazonLinux2023"


def family(instance_type: str) -> str:
    return (instance_type or "").split(".", 1)[0]


def is_nvidia(instance_type: str) -> bool:
    return instance_type in NVIDIA_GPUS or family(instance_type) in NVIDIA_FAMILIES


def is_neuron(instance_type: str) -> bool:
    return family(instance_type) in NEURON_FAMILIES


def nvidia_gpus(instance_type: str) -> int:
    """GPUs per node for an NVIDIA instance type, 0 for anything else."""
    if instance_type in NVIDIA_GPUS:
        return NVIDIA_GPUS[instance_type]
    return FAMILY_DEFAULT_GPUS if is_nvidia(instance_type) else 0


def is_arm(instance_type: str) -> bool:
    return bool(ARM_FAMILY.match(family(instance_type)))


def shape(instance_type: str) -> tuple[int, int]:
    """(vCPUs, memory GiB) of an instance type."""
    if instance_type in SHAPES:
        return SHAPES[instance_type]
    size = (instance_type or "").split(".", 1)[-1]
    cpus = SIZE_VCPUS.get(size, 2)
    return cpus, cpus * 4


def max_pods(instance_type: str) -> int:
    cpus = shape(instance_type)[0]
    return {2: 29, 4: 58}.get(cpus, 110 if cpus < 96 else 737)


def ami_type(ami_family: str, instance_type: str) -> str:
    """The EKS managed nodegroup AMI type eksctl picks (pkg/apis/eksctl.io/v1alpha5/amitype.go)."""
    arm = is_arm(instance_type)
    nvidia = is_nvidia(instance_type)
    neuron = is_neuron(instance_type)
    if ami_family == "AmazonLinux2023":
        if nvidia:
            return "AL2023_ARM_64_NVIDIA" if arm else "AL2023_x86_64_NVIDIA"
        if neuron:
            return "AL2023_x86_64_NEURON"
        return "AL2023_ARM_64_STANDARD" if arm else "AL2023_x86_64_STANDARD"
    if ami_family == "AmazonLinux2":
        if nvidia or neuron:
            return "AL2_x86_64_GPU"
        return "AL2_ARM_64" if arm else "AL2_x86_64"
    if ami_family in ("Bottlerocket", "BottlerocketFips"):
        fips = "_FIPS" if ami_family == "BottlerocketFips" else ""
        if nvidia:
            return ("BOTTLEROCKET_ARM_64_NVIDIA" if arm else "BOTTLEROCKET_x86_64_NVIDIA") + fips
        return ("BOTTLEROCKET_ARM_64" if arm else "BOTTLEROCKET_x86_64") + fips
    if ami_family.startswith("Windows"):
        year = re.search(r"20\d\d", ami_family).group(0)
        kind = "FULL" if "Full" in ami_family else "CORE"
        return f"WINDOWS_{kind}_{year}_x86_64"
    return "CUSTOM"  # Ubuntu: eksctl gives managed nodegroups a launch template with the AMI


def device_plugin_expected(ami_family: str, instance_type: str) -> bool:
    """eksctl installs the NVIDIA device plugin only for AL2/AL2023 GPU node groups."""
    return is_nvidia(instance_type) and ami_family in ("AmazonLinux2", "AmazonLinux2023")


def os_image(ami_family: str) -> str:
    if ami_family == "AmazonLinux2":
        return "Amazon Linux 2"
    if ami_family.startswith("Bottlerocket"):
        return "Bottlerocket OS 1.49.0 (aws-k8s)"
    if ami_family.startswith("Ubuntu"):
        return "Ubuntu 24.04.3 LTS"
    if ami_family.startswith("Windows"):
        return "Windows Server 2022 Datacenter"
    return "Amazon Linux 2023.9.20251110"


def kubelet_version(version: str) -> str:
    return "v" + KUBELET_PATCH.get(version, f"{version}.0-eks-0000000")


def release_version(version: str) -> str:
    patch = KUBELET_PATCH.get(version, f"{version}.0").split("-", 1)[0]
    return f"{patch}-20251112"
