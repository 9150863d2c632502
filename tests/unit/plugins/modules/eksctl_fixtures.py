"""Real-shaped eksctl output (v0.230 contract) and a fixture that installs the scripted fake eksctl."""

from __future__ import annotations

import json

from tests.unit.plugins.modules.fake_cli import FakeCli

CLUSTER_KEYS = [
    "AccessConfig", "Arn", "CertificateAuthority", "ClientRequestToken", "ComputeConfig", "ConnectorConfig",
    "ControlPlaneScalingConfig", "CreatedAt", "DeletionProtection", "EncryptionConfig", "Endpoint", "Health", "Id",
    "Identity", "KubeApiServerConfig", "KubeControllerManagerConfig", "KubeSchedulerConfig", "KubernetesNetworkConfig",
    "Logging", "Name", "OutpostConfig", "PlatformVersion", "RemoteNetworkConfig", "ResourcesVpcConfig", "RoleArn",
    "Status", "StorageConfig", "Tags", "Version", "UpgradePolicy", "ZonalShiftConfig",
]  # fmt: skip


def cluster_json(name="kf", region="us-west-2", version="1.30", status="ACTIVE", vpc="vpc-0abc"):
    item = {key: None for key in CLUSTER_KEYS}
    item.update(
        Arn=f"arn:aws:eks:{region}:123456789012:cluster/{name}",
        CreatedAt="2026-11-22T10:00:00.123Z",
        Endpoint=f"https://ABC.gr7.{region}.eks.amazonaws.com",
        Identity={"Oidc": {"Issuer": f"https://oidc.eks.{region}.amazonaws.com/id/ABC"}},
        Name=name,
        ResourcesVpcConfig={"VpcId": vpc, "SubnetIds": ["subnet-1"], "EndpointPublicAccess": True},
        Status=status,
        Tags={},
        Version=version,
    )
    return json.dumps([item], indent=4)


def nodegroup_json(*groups):
    keys = ["StackName", "Cluster", "Name", "Status", "MaxSize", "MinSize", "DesiredCapacity", "InstanceType",
            "ImageID", "CreationTime", "NodeInstanceRoleARN", "AutoScalingGroupName", "Version", "Type"]  # fmt: skip
    items = []
    for g in groups:
        item = {k: "" for k in keys}
        item.update(
            StackName=f"eksctl-kf-nodegroup-{g['name']}",
            Cluster="kf",
            Name=g["name"],
            Status="ACTIVE" if g.get("type", "managed") == "managed" else "CREATE_COMPLETE",
            MaxSize=g["max"],
            MinSize=g["min"],
            DesiredCapacity=g["desired"],
            InstanceType=g.get("instance_type", "m5.xlarge"),
            ImageID="AL2023_x86_64_STANDARD",
            CreationTime="2026-11-22T10:00:00Z",
            NodeInstanceRoleARN=f"arn:aws:iam::123456789012:role/eksctl-kf-nodegroup-{g['name']}-NodeInstanceRole-X",
            Version="1.30",
            Type=g.get("type", "managed"),
        )
        items.append({k: item[k] for k in keys})
    return json.dumps(items, indent=4) if items else "[]"


NOT_FOUND = (
    'Error: unable to describe control plane "{name}": operation error EKS: DescribeCluster, https response error '
    "StatusCode: 404, RequestID: 0f0e, ResourceNotFoundException: No cluster found for name: {name}.\n"
)


class FakeEksctl(FakeCli):
    def __init__(self, tmp_path, monkeypatch):
        super().__init__("eksctl", tmp_path, monkeypatch)

    def mutating_calls(self):
        return [
            c
            for c in self.calls
            if c[:2] not in (["get", "cluster"], ["get", "nodegroup"], ["get", "iamserviceaccount"])
        ]
