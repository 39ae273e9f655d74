"""The production profile turns access control on and schedules the retention job."""

from __future__ import annotations

import pytest

from tests.k8s.test_manifests import kubectl, render

pytestmark = pytest.mark.skipif(kubectl is None, reason="kubectl (with kustomize) is not installed")


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_auth_is_required_and_retention_runs(overlay):
    documents = render(overlay)
    config = next(
        d for d in documents if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "storyverse-config"
    )
    assert config["data"]["SV_AUTH"] == "required"
    jobs = {d["metadata"]["name"]: d for d in documents if d["kind"] == "CronJob"}
    args = jobs["data-retention"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[:3] == ["python", "-m", "analytics_svc.data_retention"]
