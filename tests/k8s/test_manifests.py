"""The Kubernetes manifests render with kustomize and validate against the Kubernetes schemas."""

from __future__ import annotations

import shutil
import subprocess

import kubernetes_validate
import pytest
import yaml

from common.settings import REPO_ROOT

KUBERNETES_VERSION = "1.32.0"  # EKS's supported range; bump with the cluster
SEED_DEPLOYMENTS = {"usage-analytics-service", "recommendation-engine", "feedback-processing-service"}

kubectl = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(kubectl is None, reason="kubectl (with kustomize) is not installed")


def render(overlay: str) -> list[dict]:
    out = subprocess.run(
        [kubectl, "kustomize", str(REPO_ROOT / "k8s" / "overlays" / overlay)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_every_manifest_is_valid(overlay):
    documents = render(overlay)
    assert len(documents) > 20
    for document in documents:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_services_have_grpc_probes_resources_and_zone_spread(overlay):
    documents = render(overlay)
    deployments = {d["metadata"]["name"]: d for d in documents if d["kind"] == "Deployment"}
    assert set(deployments) >= SEED_DEPLOYMENTS
    for name in SEED_DEPLOYMENTS:
        pod = deployments[name]["spec"]["template"]["spec"]
        container = pod["containers"][0]
        assert container["readinessProbe"]["grpc"]["service"].startswith("storyverse.")
        assert container["livenessProbe"]["grpc"]["service"] == "storyverse.liveness"
        assert {"requests", "limits"} <= set(container["resources"])
        zones = [c["topologyKey"] for c in pod["topologySpreadConstraints"]]
        assert "topology.kubernetes.io/zone" in zones
        assert pod["securityContext"]["runAsNonRoot"] is True
    kinds = {(d["kind"], d["metadata"]["name"]) for d in documents}
    for name in SEED_DEPLOYMENTS:
        assert {("Service", name), ("HorizontalPodAutoscaler", name), ("PodDisruptionBudget", name)} <= kinds
    assert {("CronJob", "nightly-aggregation"), ("CronJob", "model-training")} <= kinds


def test_prod_requires_zone_spread_and_three_replicas():
    deployments = {d["metadata"]["name"]: d for d in render("prod") if d["kind"] == "Deployment"}
    for name in SEED_DEPLOYMENTS:
        spec = deployments[name]["spec"]
        assert spec["replicas"] == 3
        assert (
            spec["template"]["spec"]["topologySpreadConstraints"][0]["whenUnsatisfiable"] == "DoNotSchedule"
        )
