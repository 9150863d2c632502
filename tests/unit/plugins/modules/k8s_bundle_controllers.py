"""Stand-in controllers for the k8s_bundle tests (loaded into the API stand-in's process).

CustomResourceDefinitions become Established only KFOPS_TEST_CRD_DELAY seconds after they are
written, as on a busy real API server, so the tests see the module wait for them.
"""

from __future__ import annotations

import os

from tests.sandbox.standins.k8s.controllers import controller, crd_established

DELAY = float(os.environ.get("KFOPS_TEST_CRD_DELAY", "1.5"))


@controller("apiextensions.k8s.io", "CustomResourceDefinition", delay=DELAY, name="apiextensions-controller")
def slow_crd_established(obj, view):
    return crd_established(obj, view)
