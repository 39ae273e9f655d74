"""The production hardening of the manifests (issue 16): probes, read-only roots, no service
account tokens, preStop, CronJobs that do not overlap, the seed's resources, and
NetworkPolicies that allow exactly the flows of docs/architecture.md."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest

from tests.k8s.test_manifests import kubectl, render

pytestmark = pytest.mark.skipif(kubectl is None, reason="kubectl (with kustomize) is not installed")
OVERLAYS = ["dev", "prod"]
# The seed's figures (requests; limits are double).
SEED_RESOURCES = {
    "usage-analytics-service": ({"cpu": "500m", "memory": "1Gi"}, {"cpu": "1", "memory": "2Gi"}),
    "recommendation-engine": ({"cpu": "1", "memory": "2Gi"}, {"cpu": "2", "memory": "4Gi"}),
    "feedback-processing-service": ({"cpu": "500m", "memory": "1Gi"}, {"cpu": "1", "memory": "2Gi"}),
}


def pod_specs(documents: list[dict]) -> dict[str, dict]:
    found = {}
    for d in documents:
        if d["kind"] == "Deployment":
            found[d["metadata"]["name"]] = d["spec"]["template"]["spec"]
        elif d["kind"] == "CronJob":
            found[d["metadata"]["name"]] = d["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_workload_runs_read_only_without_a_service_account_token(overlay):
    pods = pod_specs(render(overlay))
    assert len(pods) == 8
    for name, pod in pods.items():
        assert pod.get("automountServiceAccountToken") is False, name
        for container in pod["containers"]:
            assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
        mounts = {m["mountPath"] for c in pod["containers"] for m in c.get("volumeMounts", [])}
        assert "/var/lib/storyverse" not in mounts, f"{name}: models live in the artifact store"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_processor_has_grpc_probes_on_its_health_port(overlay):
    pod = pod_specs(render(overlay))["analytics-processor"]
    container = pod["containers"][0]
    port = next(p["containerPort"] for p in container["ports"] if p["name"] == "health")
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["SV_PROCESSOR_HEALTH_PORT"] == str(port)
    assert container["readinessProbe"]["grpc"] == {"port": port}  # "": SERVING while PostgreSQL answers
    assert container["livenessProbe"]["grpc"] == {"port": port, "service": "storyverse.liveness"}
    assert container["startupProbe"]["grpc"]["service"] == "storyverse.liveness"


def test_cronjobs_start_at_least_an_hour_apart():
    jobs = {d["metadata"]["name"]: d["spec"]["schedule"] for d in render("prod") if d["kind"] == "CronJob"}
    assert set(jobs) == {"nightly-aggregation", "model-training", "data-retention"}
    minutes = {}
    for name, schedule in jobs.items():
        minute, hour, *rest = schedule.split()
        assert rest == ["*", "*", "*"], schedule
        minutes[name] = int(hour) * 60 + int(minute)
    for (a, x), (b, y) in itertools.combinations(minutes.items(), 2):
        gap = abs(x - y)
        assert min(gap, 1440 - gap) >= 60, (a, b, jobs[a], jobs[b])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_behind_a_service_wait_in_prestop_within_their_grace_period(overlay):
    documents = render(overlay)
    config = next(
        d for d in documents if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "storyverse-config"
    )
    drain = float(config["data"]["SV_SHUTDOWN_GRACE_SECONDS"])
    services = {d["metadata"]["name"] for d in documents if d["kind"] == "Service"}
    pods = pod_specs(documents)
    assert services == {
        "usage-analytics-service",
        "recommendation-engine",
        "feedback-processing-service",
        "gateway",
    }
    for name in services:
        pause = pods[name]["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"]
        assert pause > 0 and pause + drain < pods[name]["terminationGracePeriodSeconds"], name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_requests_and_limits_are_the_seeds(overlay):
    pods = pod_specs(render(overlay))
    for name, (requests, limits) in SEED_RESOURCES.items():
        resources = pods[name]["containers"][0]["resources"]
        assert (resources["requests"], resources["limits"]) == (requests, limits), name


# --- NetworkPolicy semantics, enough of them to check our policies --------------------------

NAMESPACE = "storyverse"


@dataclass(frozen=True)
class Pod:
    labels: dict = field(default_factory=dict)
    namespace: dict | None = None  # its namespace's labels; None: outside the cluster

    def __hash__(self) -> int:
        return hash(repr(self))


def ours(name: str) -> Pod:
    return Pod({"app.kubernetes.io/name": name}, {"kubernetes.io/metadata.name": NAMESPACE})


OUTSIDE = Pod()
DNS = Pod({"k8s-app": "kube-dns"}, {"kubernetes.io/metadata.name": "kube-system"})
PROMETHEUS = Pod({"app": "prometheus"}, {"kubernetes.io/metadata.name": "monitoring"})
STORYVERSE_APP = Pod(
    {"app": "story-builder"},
    {"kubernetes.io/metadata.name": "stories", "storyverse.io/recommendation-client": "true"},
)
OTHER_APP = Pod({"app": "story-builder"}, {"kubernetes.io/metadata.name": "elsewhere"})


def selects(selector: dict | None, labels: dict) -> bool:
    if selector is None:
        return False
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        present = expression["key"] in labels
        value = labels.get(expression["key"])
        if expression["operator"] == "In" and value not in expression["values"]:
            return False
        if expression["operator"] == "NotIn" and value in expression["values"]:
            return False
        if expression["operator"] == "Exists" and not present:
            return False
    return True


def in_namespace(pod: Pod) -> bool:
    return pod.namespace is not None and pod.namespace.get("kubernetes.io/metadata.name") == NAMESPACE


def peer_matches(peer: dict, pod: Pod) -> bool:
    if "ipBlock" in peer:
        return pod.namespace is None
    if pod.namespace is None:
        return False
    if "namespaceSelector" in peer:
        return selects(peer["namespaceSelector"], pod.namespace) and (
            "podSelector" not in peer or selects(peer["podSelector"], pod.labels)
        )
    return in_namespace(pod) and selects(peer["podSelector"], pod.labels)


def rule_allows(rule: dict, peers_key: str, other: Pod, port: int) -> bool:
    peers = rule.get(peers_key)
    if peers is not None and not any(peer_matches(p, other) for p in peers):
        return False
    ports = rule.get("ports")
    return ports is None or any(p["port"] == port for p in ports)


def side_allows(policies: list[dict], pod: Pod, kind: str, other: Pod, port: int) -> bool:
    if not in_namespace(pod):
        return True  # not ours to restrict
    applying = [
        p
        for p in policies
        if kind in p["spec"]["policyTypes"] and selects(p["spec"]["podSelector"], pod.labels)
    ]
    if not applying:
        return True
    key, peers = ("egress", "to") if kind == "Egress" else ("ingress", "from")
    return any(rule_allows(r, peers, other, port) for p in applying for r in p["spec"].get(key, []))


def allowed(policies: list[dict], source: Pod, target: Pod, port: int) -> bool:
    return side_allows(policies, source, "Egress", target, port) and side_allows(
        policies, target, "Ingress", source, port
    )


SERVICES = {
    "usage-analytics-service": 50051,
    "recommendation-engine": 50052,
    "feedback-processing-service": 50053,
}
BACKENDS = [*SERVICES, "analytics-processor"]
FLOWS = [
    (OUTSIDE, ours("gateway"), 8080),
    *[(ours("gateway"), ours(name), port) for name, port in SERVICES.items()],
    (ours("gateway"), OUTSIDE, 5432),
    (STORYVERSE_APP, ours("recommendation-engine"), 50052),
    (ours("recommendation-engine"), ours("usage-analytics-service"), 50051),  # experiment assignments
    *[(PROMETHEUS, ours(name), 9464) for name in BACKENDS],
    *[(ours(name), OUTSIDE, port) for name in BACKENDS for port in (5432, 9092, 6379)],
    *[(ours(name), OUTSIDE, 5432) for name in ("nightly-aggregation", "model-training", "data-retention")],
    (ours("recommendation-engine"), OUTSIDE, 443),
    (ours("model-training"), OUTSIDE, 443),
    *[(ours(name), DNS, 53) for name in [*BACKENDS, "gateway", "model-training"]],
]
NOT_FLOWS = [
    *[(OUTSIDE, ours(name), port) for name, port in SERVICES.items()],
    (OUTSIDE, ours("analytics-processor"), 50054),
    (OTHER_APP, ours("recommendation-engine"), 50052),
    (STORYVERSE_APP, ours("usage-analytics-service"), 50051),
    (ours("usage-analytics-service"), ours("recommendation-engine"), 50052),  # services talk through the bus
    (ours("recommendation-engine"), ours("usage-analytics-service"), 50053),  # only the gRPC port
    (ours("feedback-processing-service"), ours("usage-analytics-service"), 50051),
    (ours("gateway"), ours("analytics-processor"), 9464),
    (ours("feedback-processing-service"), OUTSIDE, 443),
    (ours("analytics-processor"), OUTSIDE, 443),
    (ours("data-retention"), OUTSIDE, 9092),
    (ours("gateway"), OUTSIDE, 9092),
    (OUTSIDE, ours("recommendation-engine"), 9464),
]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_allow_the_documented_flows_and_nothing_else(overlay):
    policies = [d for d in render(overlay) if d["kind"] == "NetworkPolicy"]
    deny = next(p for p in policies if p["metadata"]["name"] == "default-deny")
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    for source, target, port in FLOWS:
        assert allowed(policies, source, target, port), (source, target, port)
    for source, target, port in NOT_FLOWS:
        assert not allowed(policies, source, target, port), (source, target, port)
