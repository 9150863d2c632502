"""Every manifest the knative, kfserving and models roles render, validated the way an API server with strict field
validation would: built-in kinds against the Kubernetes schemas (kubernetes-validate), InferenceService (v1alpha2 and
v1beta1) and AuthorizationPolicy against the reference CRDs (skipped when ../shared/reference/schemas is absent).

The templates are rendered in-process with Ansible's own templating, from the roles' defaults and vars, the sandbox
inventory and the same set_fact expressions the roles run (tasks/facts.yml, the first task of validate.yml), so the
objects are the ones a playbook run would apply.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.sandbox.harness.validate import assert_valid, require_schemas, validate_objects

REPO = Path(__file__).resolve().parents[3]
ROLES = REPO / "roles"
INVENTORY = REPO / "inventories" / "sandbox" / "group_vars" / "all.yml"
TOKENS = ["unit-test-token-0123456789", "unit-test-token-abcdefghij"]
S3_KEYS = {"access_key_id": "AKIAUNITTEST", "secret_access_key": "unit-test-secret-key"}
ARN = "arn:aws:acm:us-west-2:123456789012:certificate/0c6a7d0e-7c8f-4c8e-9a39-4bb1a7e3c2f5"


def _ansible():
    # pylint: disable=import-outside-toplevel
    import ansible.plugins.loader as plugin_loader
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template
    from ansible.utils.collection_loader import AnsibleCollectionConfig

    if AnsibleCollectionConfig.collection_finder is None:  # another test may have set it up already
        plugin_loader.init_plugin_loader()
    return DataLoader(), Templar, trust_as_template


def _trusted(value, trust):
    """Role files are trusted templates for Ansible; values loaded here are marked the same way."""
    if isinstance(value, str):
        return trust(value) if ("{{" in value or "{%" in value) else value
    if isinstance(value, dict):
        return {k: _trusted(v, trust) for k, v in value.items()}
    if isinstance(value, list):
        return [_trusted(v, trust) for v in value]
    return value


class Role:
    """A role's variables as a play would see them, its set_fact steps run, its templates rendered."""

    def __init__(self, name: str, overrides: dict):
        self.loader, templar_class, self.trust = _ansible()
        self.dir = ROLES / name
        variables = {"inventory_dir": str(INVENTORY.parents[1]), "ansible_check_mode": False}
        for path in (INVENTORY, self.dir / "defaults" / "main.yml", self.dir / "vars" / "main.yml"):
            variables.update(_trusted(yaml.safe_load(path.read_text()), self.trust))
        variables.update(overrides)
        self.variables = variables
        self.templar_class = templar_class

    def template(self, value, extra=None):
        templar = self.templar_class(loader=self.loader, variables={**self.variables, **(extra or {})})
        return templar.template(_trusted(value, self.trust))

    def set_facts(self, tasks_file: str, first_only: bool = False):
        for task in yaml.safe_load((self.dir / "tasks" / tasks_file).read_text()):
            facts = task.get("ansible.builtin.set_fact")
            if facts is None:
                continue
            task_vars = _trusted(task.get("vars") or {}, self.trust)
            self.variables.update({k: self.template(v, task_vars) for k, v in facts.items()})
            if first_only:
                return

    def failed_checks(self, tasks_file: str = "validate.yml") -> list:
        """The messages of the failing checks of the role's settings assert (the `__checks` of its first assert)."""
        for task in yaml.safe_load((self.dir / "tasks" / tasks_file).read_text()):
            if "ansible.builtin.assert" in task and "__checks" in (task.get("vars") or {}):
                checks = self.template(task["vars"]["__checks"])
                return [" ".join(str(c["msg"]).split()) for c in checks if not c["that"]]
        raise AssertionError(f"no settings assert in {tasks_file}")

    def render(self, template_name: str) -> list:
        text = self.template((self.dir / "templates" / template_name).read_text())
        return [obj for obj in yaml.safe_load_all(text) if obj]


def kfserving(era: str, **overrides) -> Role:
    role = Role(
        "kfserving",
        {
            "kfserving_kubeflow_era": era,
            "kfserving_api_tokens": TOKENS,
            "__kfserving_certificate_arn": ARN,
            **overrides,
        },
    )
    role.set_facts("validate.yml", first_only=True)
    assert role.variables["__kfserving_token_problems"] == []
    return role


MODELS = {
    "v1.7": [
        {
            "name": "sklearn-iris",
            "storage_uri": "s3://models/default/sklearn-iris",
            "runtime_version": "1.3.0",
            "min_replicas": 1,
            "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
        },
        {"name": "iris-v2", "namespace": "staging", "bucket": "models", "protocol": "v2", "model_format": True},
        {
            "name": "xgb",
            "storage_uri": "s3://models/xgb",
            "framework": "xgboost",
            "protocol": "v2",
            "s3_access": "secret",
            "service_account": "xgb-reader",
        },
        {"name": "flowers", "storage_uri": "s3://models/flowers", "framework": "tensorflow", "min_replicas": 0},
    ],
    "v1.0": [
        {"name": "sklearn-iris", "storage_uri": "s3://models/default/sklearn-iris"},
        {"name": "flowers", "namespace": "staging", "storage_uri": "s3://models/flowers", "framework": "tensorflow"},
        {
            "name": "onnx-model",
            "storage_uri": "s3://models/onnx",
            "framework": "onnx",
            "service_account": "shared-reader",
        },
    ],
}


def models(era: str) -> Role:
    role = Role(
        "models",
        {"models_kubeflow_era": era, "models_list": MODELS[era], "models_s3_credentials": S3_KEYS},
    )
    role.set_facts("facts.yml")
    assert role.variables["__models_problems"] == []
    return role


def rendered() -> dict:
    """name -> objects, for every template and the interesting settings."""
    out = {}
    for era in ("v1.7", "v1.0"):
        out[f"kfserving {era} ingress"] = kfserving(era).render("api-ingress.yml.j2")
        role = models(era)
        out[f"models {era} inferenceservices"] = role.render("inferenceservices.yml.j2")
        out[f"models {era} s3 secrets"] = role.render("s3-secrets.yml.j2")
    out["kfserving v1.7 policies"] = kfserving("v1.7").render("authorization-policies.yml.j2")
    out["kfserving internal ingress, extra annotations"] = kfserving(
        "v1.7",
        kfserving_ingress_scheme="internal",
        kfserving_ingress_annotations={
            "alb.ingress.kubernetes.io/wafv2-acl-arn": "arn:aws:wafv2:us-west-2:1:regional/x"
        },
    ).render("api-ingress.yml.j2")
    return out


@pytest.fixture(scope="module")
def manifests() -> dict:
    return rendered()


BUILTIN = ("Ingress", "Secret", "ServiceAccount")


def test_builtin_kinds_are_valid_kubernetes_objects(manifests):
    objects = [o for objs in manifests.values() for o in objs if o["kind"] in BUILTIN]
    assert {o["kind"] for o in objects} == set(BUILTIN)
    findings = assert_valid(objects)
    assert all(f.schema.startswith("Kubernetes 1.33") for f in findings)


def test_custom_kinds_are_valid_against_the_reference_crds(manifests):
    require_schemas()
    objects = [o for objs in manifests.values() for o in objs if o["kind"] not in BUILTIN]
    assert {(o["apiVersion"], o["kind"]) for o in objects} == {
        ("serving.kserve.io/v1beta1", "InferenceService"),
        ("serving.kubeflow.org/v1alpha2", "InferenceService"),
        ("security.istio.io/v1beta1", "AuthorizationPolicy"),
    }
    assert_valid(objects)


def test_an_invalid_object_is_reported(manifests):
    """The check has teeth: a misspelt field fails."""
    require_schemas()
    isvc = json.loads(json.dumps(manifests["models v1.7 inferenceservices"][0]))
    isvc["spec"]["predictor"]["sklearn"]["storageURI"] = isvc["spec"]["predictor"]["sklearn"].pop("storageUri")
    (finding,) = validate_objects([isvc])
    assert not finding.ok and any("storageURI" in e for e in finding.errors)


def test_api_ingress_shape(manifests):
    (ingress,) = manifests["kfserving v1.7 ingress"]
    notes = ingress["metadata"]["annotations"]
    assert json.loads(notes["alb.ingress.kubernetes.io/conditions.istio-ingressgateway"]) == [
        {"field": "http-header", "httpHeaderConfig": {"httpHeaderName": "x-api-key", "values": TOKENS}}
    ]
    assert notes["alb.ingress.kubernetes.io/certificate-arn"] == ARN
    assert notes["alb.ingress.kubernetes.io/tags"] == "kubeflow_ops:environment=sandbox,kubeflow_ops:role=kfserving"
    assert [r["host"] for r in ingress["spec"]["rules"]] == [
        "*.default.platform.example.com",
        "*.staging.platform.example.com",
    ]
    (internal,) = manifests["kfserving internal ingress, extra annotations"]
    assert internal["metadata"]["annotations"]["alb.ingress.kubernetes.io/scheme"] == "internal"
    assert "alb.ingress.kubernetes.io/wafv2-acl-arn" in internal["metadata"]["annotations"]


def test_inference_services_follow_the_era(manifests):
    v1beta1 = {o["metadata"]["name"]: o for o in manifests["models v1.7 inferenceservices"]}
    assert v1beta1["sklearn-iris"]["spec"]["predictor"] == {
        "serviceAccountName": "models-s3-reader",
        "minReplicas": 1,
        "sklearn": {
            "storageUri": "s3://models/default/sklearn-iris",
            "runtimeVersion": "1.3.0",
            "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
        },
    }
    assert v1beta1["iris-v2"]["metadata"]["namespace"] == "staging"
    assert v1beta1["iris-v2"]["spec"]["predictor"]["model"] == {
        "modelFormat": {"name": "sklearn"},
        "protocolVersion": "v2",
        "storageUri": "s3://models/staging/iris-v2",
    }
    assert v1beta1["flowers"]["spec"]["predictor"]["minReplicas"] == 0
    v1alpha2 = {o["metadata"]["name"]: o for o in manifests["models v1.0 inferenceservices"]}
    assert v1alpha2["flowers"]["spec"] == {
        "default": {
            "predictor": {
                "serviceAccountName": "models-s3-reader",
                "tensorflow": {"storageUri": "s3://models/flowers"},
            }
        }
    }


def test_s3_secrets_carry_the_era_annotations(manifests):
    secrets = [o for o in manifests["models v1.0 s3 secrets"] if o["kind"] == "Secret"]
    # One Secret per namespace and service account, shared by the models that use it.
    assert sorted((s["metadata"]["namespace"], s["metadata"]["name"]) for s in secrets) == [
        ("default", "models-s3-reader-s3"),
        ("default", "shared-reader-s3"),
        ("staging", "models-s3-reader-s3"),
    ]
    assert secrets[0]["metadata"]["annotations"]["serving.kubeflow.org/s3-region"] == "us-west-2"
    kserve_secret, kserve_account = manifests["models v1.7 s3 secrets"]
    assert kserve_secret["metadata"]["annotations"]["serving.kserve.io/s3-endpoint"] == "s3.us-west-2.amazonaws.com"
    assert kserve_account["secrets"] == [{"name": "xgb-reader-s3"}]


def live(objects, last_applied=True) -> list:
    """The objects as the API server returns them after an apply: the last-applied annotation, added fields."""
    out = json.loads(json.dumps(objects))
    for obj in out:
        if last_applied:
            obj["metadata"]["annotations"] = {
                **obj["metadata"].get("annotations", {}),
                "kubectl.kubernetes.io/last-applied-configuration": json.dumps(obj, sort_keys=True),
            }
        obj["metadata"].update(uid="0f0c", resourceVersion="42", generation=1)
        obj["status"] = {"conditions": [{"type": "Ready", "status": "True"}]}
    return out


@pytest.mark.parametrize("role_name", ["kfserving", "models"])
def test_unchanged_means_an_apply_would_change_nothing(role_name):
    """The roles skip the apply module when unchanged.j2 says so; it must say "false" for every kind of change."""
    role = kfserving("v1.7") if role_name == "kfserving" else models("v1.7")
    want = role.render("authorization-policies.yml.j2" if role_name == "kfserving" else "inferenceservices.yml.j2")
    template = (role.dir / "templates" / "unchanged.j2").read_text()

    def unchanged(have) -> str:
        return role.template(template, {"want": want, "have": have}).strip()

    assert unchanged(live(want)) == "true"
    assert unchanged([]) == "false"  # missing
    assert unchanged(live(want)[:-1]) == "false"  # one missing
    assert unchanged(live(want, last_applied=False)) == "false"  # applied by someone else
    edited = live(want)
    edited[-1]["metadata"]["labels"] = {"app.kubernetes.io/managed-by": "someone"}  # a live field changed
    assert unchanged(edited) == "false"
    shorter = live(want)
    first = shorter[0]["spec"]
    key = next(iter(first))
    first[key] = None  # a live subtree gone
    assert unchanged(shorter) == "false"
    moved = live(want)
    moved[0]["metadata"]["namespace"] = "elsewhere"
    assert unchanged(moved) == "false"


# More bad input, checked in-process (tests/integration/test_serving_roles.py runs a representative set through
# ansible-playbook and shows that nothing changes): setting -> a piece of the message.
BAD_TOKENS = {
    "no token": ([], "needs at least one token"),
    "too short": (["short-secret-tk"], "token 1 has 15 characters"),
    "a space": (["spaced token 0123456789"], "token 1 has a character"),
    "a quote": (['quoted"token-0123456789'], "token 1 has a character"),
    "four": ([f"unit-test-token-{i}-0123456789" for i in range(4)], "at most 3"),
    "twice": (["unit-test-token-0123456789"] * 2, "lists a token twice"),
}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_bad_tokens_are_named_by_position_only(case):
    tokens, expected = BAD_TOKENS[case]
    role = Role("kfserving", {"kfserving_api_tokens": tokens})
    role.set_facts("validate.yml", first_only=True)
    failed = role.failed_checks()
    assert any(expected in msg for msg in failed), failed
    for token in tokens:
        assert all(token not in msg for msg in failed)


BAD_KFSERVING = {
    "header name": ({"kfserving_api_header_name": "x api key"}, "is not an HTTP header name"),
    "era": ({"kfserving_kubeflow_era": "v0.9"}, "is not one of v1.0, v1.7"),
    "record type": ({"kfserving_dns_record_type": "TXT"}, "kfserving_dns_record_type must be one of alias, CNAME"),
    "namespace": ({"kfserving_serving_namespaces": ["default", "Team_A"]}, "['Team_A']"),
    "certificate ARN": ({"kfserving_certificate_arn": "not-an-arn"}, "is not an ACM certificate ARN"),
    "owned annotation": (
        {"kfserving_ingress_annotations": {"alb.ingress.kubernetes.io/scheme": "internal"}},
        "may not set certificate-arn, scheme",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_KFSERVING))
def test_bad_kfserving_settings(case):
    overrides, expected = BAD_KFSERVING[case]
    role = Role("kfserving", {"kfserving_api_tokens": TOKENS, **overrides})
    role.set_facts("validate.yml", first_only=True)
    assert any(expected in msg for msg in role.failed_checks()), role.failed_checks()


GOOD = {"name": "iris", "storage_uri": "s3://models/iris"}
BAD_MODELS = {
    "name too long": ("v1.7", [{**GOOD, "name": "i" * 46}], "is not DNS-safe"),
    "name with a dot": ("v1.7", [{**GOOD, "name": "iris.v1"}], "is not DNS-safe"),
    "framework and protocol": ("v1.7", [{**GOOD, "framework": "triton"}], "framework triton speaks v2, not v1"),
    "bucket and URI disagree": ("v1.7", [{**GOOD, "bucket": "other"}], "name different buckets"),
    "no storage": ("v1.7", [{"name": "iris"}], "needs storage_uri (s3://bucket/prefix) or bucket"),
    "http storage": ("v1.7", [{**GOOD, "storage_uri": "https://example.com/iris"}], "(not https://)"),
    "pvc storage": ("v1.7", [{**GOOD, "storage_uri": "pvc://models/iris"}], "(not pvc://)"),
    "bucket like an IP": ("v1.7", [{**GOOD, "storage_uri": "s3://10.0.0.1/iris"}], "is not a valid S3 bucket name"),
    "missing artefact": ("v1.7", [{**GOOD, "source": "/nonexistent/model.joblib"}], "is not a file on the controller"),
    "unknown setting": ("v1.7", [{**GOOD, "replicas": 2}], "unknown settings replicas"),
    "IRSA in v1.0": ("v1.0", [{**GOOD, "s3_access": "irsa"}], "KFServing 0.2 reads S3 with access keys only"),
    "tensorrt in v1.7": ("v1.7", [{**GOOD, "framework": "tensorrt"}], "unknown framework tensorrt for the v1.7 era"),
    "lightgbm in v1.0": ("v1.0", [{**GOOD, "framework": "lightgbm"}], "unknown framework lightgbm for the v1.0 era"),
    "service account shared across access methods": (
        "v1.7",
        [GOOD, {**GOOD, "name": "iris2", "s3_access": "secret"}],
        "is shared by models with different s3_access",
    ),
    "bad smoke rows": ("v1.7", [{**GOOD, "smoke_instances": [[1, 2], [3]]}], "rows of the same length"),
}


@pytest.mark.parametrize("case", sorted(BAD_MODELS))
def test_bad_models(case):
    era, models_list, expected = BAD_MODELS[case]
    role = Role("models", {"models_kubeflow_era": era, "models_list": models_list, "models_s3_credentials": S3_KEYS})
    role.set_facts("facts.yml")
    problems = role.variables["__models_problems"]
    assert any(expected in " ".join(p.split()) for p in problems), problems


def test_s3_secret_without_keys_and_empty_token_are_refused():
    # The sandbox inventory has keys (for the v1.0 era): a setup without any.
    role = Role(
        "models",
        {"models_list": [GOOD], "models_s3_access": "secret", "models_api_token": "", "models_s3_credentials": {}},
    )
    role.set_facts("facts.yml")
    failed = role.failed_checks()
    assert any("need models_s3_credentials with access_key_id and secret_access_key" in msg for msg in failed)
    assert any("models_api_token is empty" in msg for msg in failed)


def test_good_settings_pass_every_check():
    for era in ("v1.7", "v1.0"):
        role = models(era)
        assert role.failed_checks() == []
        assert kfserving(era, kfserving_authorization_policy=era == "v1.7").failed_checks() == []


def test_a_teardown_needs_no_secrets_and_no_artefacts():
    """Tokens, S3 keys and the model artefact serve `present` only: a teardown runs without them."""
    role = Role("kfserving", {"kfserving_api_tokens": [], "kfserving_state": "absent"})
    role.set_facts("validate.yml", first_only=True)
    assert role.failed_checks() == []
    models_list = [{**GOOD, "s3_access": "secret", "source": "/nonexistent/model.joblib"}]
    role = Role(
        "models",
        {"models_list": models_list, "models_state": "absent", "models_api_token": "", "models_s3_credentials": {}},
    )
    role.set_facts("facts.yml")
    assert role.variables["__models_problems"] == [] and role.failed_checks() == []
    assert [o["kind"] for o in role.render("s3-secrets.yml.j2")] == ["Secret", "ServiceAccount"]
