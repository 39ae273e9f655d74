"""One typed settings object, read from environment variables (prefix SV_).

    settings = Settings.from_env()
    settings.database_url   # None: start the embedded PostgreSQL in settings.data_dir

Every variable is listed in docs/configuration.md.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str | None) -> str | None:
    value = os.environ.get(f"SV_{name.upper()}")
    return value if value not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    # PostgreSQL URL; None starts the embedded PostgreSQL with its data in data_dir.
    database_url: str | None = None
    data_dir: Path = REPO_ROOT / ".data"
    db_pool_min: int = 2
    db_pool_max: int = 10
    # Fail fast when PostgreSQL hangs (common/database.py): the longest wait for a connection
    # (opening one included), for one command, and for a command known to be long (reports
    # over raw events, erasure); batch jobs run unbounded commands.
    db_acquire_timeout_seconds: float = 2.0
    db_statement_timeout_seconds: float = 2.0
    db_long_statement_timeout_seconds: float = 20.0
    # PostgreSQL's backend_flush_after for our sessions (common/database.py): a backend that
    # wrote this much asks the kernel to write it out; "0" leaves the kernel to decide.
    db_backend_flush_after: str = "256kB"
    # Kafka bootstrap servers; None runs the event bus in process.
    kafka_bootstrap: str | None = None
    kafka_topic_prefix: str = "storyverse."
    # Redis URL for the cluster profile; None keeps features in process.
    redis_url: str | None = None
    host: str = "127.0.0.1"
    analytics_port: int = 50051
    # Processes of `python -m analytics_svc` sharing its port (common/workers.py); 0: one per core.
    analytics_workers: int = 1
    reco_port: int = 50052
    # Processes of `python -m reco_svc` sharing its port, as replicas would (reco_svc/__main__.py).
    reco_workers: int = 1
    feedback_port: int = 50053
    gateway_port: int = 8080
    # Processes of `python -m gateway` sharing its port (gateway/__main__.py); 0: one per core.
    gateway_workers: int = 1
    # Events (single, or batches of up to 250) arriving while others are on their way go to
    # analytics as one batch call (gateway/merged_events.py); off: one call per request.
    gateway_merge_events: bool = True
    # Where the gateway (and other clients) find the services.
    analytics_target: str = "127.0.0.1:50051"
    reco_target: str = "127.0.0.1:50052"
    feedback_target: str = "127.0.0.1:50053"
    # Seconds in-flight calls get to finish after SIGTERM.
    shutdown_grace_seconds: float = 10.0
    # Largest HTTP request body the gateway reads, in bytes.
    max_request_bytes: int = 4 * 1024 * 1024
    # Deadline the gateway sets on its gRPC calls, in seconds.
    gateway_deadline_seconds: float = 30.0
    # Slow clients (gateway/slow_clients.py): a request's headers must arrive within this of
    # its first byte, its body within the other of its headers; else the connection closes.
    gateway_header_timeout_seconds: float = 10.0
    gateway_body_timeout_seconds: float = 20.0
    # Ingestion: largest group of events written in one database transaction.
    ingest_max_group: int = 5000
    # Access control (common/auth.py): "open" (laptop default: no key needed) or "required".
    auth: str = "open"
    # Seconds a verified API key is remembered; a revoked key stops working within this.
    auth_cache_seconds: float = 10.0
    # Per-key rate limit (common/limits.py): tokens per second and burst; 0 turns it off.
    rate_limit_per_second: float = 200.0
    rate_limit_burst: int = 400
    # Calls one service handles at once; more answer RESOURCE_EXHAUSTED with a retry hint.
    max_concurrent_calls: int = 256
    # Server-side ceiling on one unary call, in seconds (streams are exempt).
    max_call_seconds: float = 60.0
    # Events waiting for the ingestion group commit; beyond it calls answer RESOURCE_EXHAUSTED.
    ingest_max_pending_rows: int = 50_000
    # Optional TLS between services: server cert/key, and the CA that signs peers (mutual TLS).
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    tls_ca_file: Path | None = None
    log_level: str = "INFO"
    log_format: str = "json"
    # Telemetry (common/telemetry.py): OTLP/gRPC collector for traces and metrics; None exports nothing.
    otlp_endpoint: str | None = None
    # Share of new traces recorded (parents' decisions are followed).
    trace_sample_ratio: float = 1.0
    # Port of a per-service Prometheus /metrics endpoint; 0 serves none (the gateway has /metrics).
    metrics_port: int = 0
    # Port of the analytics processor's gRPC health service (Kubernetes probes); 0 serves none.
    processor_health_port: int = 0
    # How often the analytics service samples its tables' on-disk size, in seconds.
    storage_sample_seconds: float = 60.0
    # Redis (reco_svc/features, common/ratelimit): per-call timeout, and how long to stay on the
    # fallback after a failure before trying Redis again.
    redis_timeout_seconds: float = 0.25
    redis_retry_seconds: float = 5.0
    # Topic bootstrap (common/bus/topics.py): replication factor of every topic, and a partition
    # count that overrides each topic's default when > 0 (small test clusters).
    kafka_replication: int = 3
    kafka_partitions: int = 0
    # Recommendation engine (reco_svc/config.py). Demo catalog upserted at start: a path
    # (relative to the repository), or "none".
    reco_catalog: str = "simulator/catalog.json"
    reco_model_poll_seconds: float = 5.0
    reco_catalog_poll_seconds: float = 2.0
    # Recommendation experiments (reco_svc/experiments.py): how often the engine asks analytics
    # for the running experiment, how long it keeps a child's variant, how long it waits for one
    # (then the child gets control), and the API key it sends
    # (scopes ingest and read) when SV_AUTH=required.
    reco_experiment_poll_seconds: float = 5.0
    reco_assignment_ttl_seconds: float = 60.0
    reco_assignment_timeout_seconds: float = 1.0
    reco_experiments_api_key: str | None = None
    # Budget of the in-process feature store without Redis, in MiB (an estimate of what it
    # holds; least recently used users go first). 512 fits the engine's 4 GiB pod limit
    # with room for the models, the catalog and the allocator's slack (docs/recommendations.md).
    reco_feature_memory_mb: int = 512
    # Consumer group of the engine's live follow; per replica ("<group>-<random>") when
    # features are in process, shared by the replicas when they are in Redis.
    reco_bus_group: str = "recommendation"
    # Erasure (common/privacy): how often each process looks for due erasure steps and new
    # tombstones; the pause before each verifying pass (longer than any write in flight takes);
    # how long a tombstone drops an erased user's late data (the bus topics' retention); how
    # long DeleteUserData waits for the first pass before answering with the job's state.
    erasure_poll_seconds: float = 2.0
    erasure_verify_seconds: float = 10.0
    erasure_tombstone_days: float = 7.0
    erasure_wait_seconds: float = 5.0
    # `./storyverse run` trains the recommendation model when the newest version is this old
    # (reco_svc/schedule.py; Kubernetes runs the CronJob instead); 0 turns that off.
    reco_train_every_hours: float = 24.0
    # Predicted retention (analytics_svc/churn/job.py): the analytics service retrains the model
    # and rescores the active children when the newest model is this old; 0 turns that off.
    churn_train_every_hours: float = 24.0
    # Seconds every recommendation training may spend choosing its model (reco_svc/offline/tuning.py).
    reco_tuning_budget_seconds: float = 60.0
    # Where trained models are written (common/artifacts): s3://bucket/prefix, postgresql, a
    # folder; unset: PostgreSQL with SV_DATABASE_URL, else <data_dir>/artifacts.
    artifact_store: str | None = None
    # An S3-compatible server (MinIO, Ceph...) instead of AWS for s3:// artifacts.
    artifact_s3_endpoint: str | None = None
    # Where analytics keeps raw events (analytics_svc/eventstore): "postgres" (its database) or
    # "clickhouse": SV_CLICKHOUSE_URL (a server or cluster, http(s)://user:pass@host:8123), or
    # unset: the embedded chDB engine with its data in <data_dir>/clickhouse (one process).
    analytics_store: str = "postgres"
    clickhouse_url: str | None = None
    clickhouse_database: str = "storyverse"
    # The cluster of clickhouse_cluster.sql, when SV_CLICKHOUSE_URL is one (erasure and
    # retention then mutate the shards' local tables ON CLUSTER).
    clickhouse_cluster: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        values: dict[str, object] = {}
        for f in fields(cls):
            if f.name == "extra":
                continue
            raw = _env(f.name, None)
            if raw is not None:
                values[f.name] = _convert(f.type, raw, f.name)
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    def grpc_address(self, service: str) -> str:
        port = {"analytics": self.analytics_port, "reco": self.reco_port, "feedback": self.feedback_port}[
            service
        ]
        return f"{self.host}:{port}"


_BOOLEANS = {
    "1": True,
    "true": True,
    "yes": True,
    "on": True,
    "0": False,
    "false": False,
    "no": False,
    "off": False,
}


def _convert(kind: object, raw: str, name: str) -> object:
    kind = str(kind)
    try:
        if kind == "bool":
            if raw.lower() not in _BOOLEANS:
                raise ValueError(raw)
            return _BOOLEANS[raw.lower()]
        if "int" in kind and "str" not in kind:
            return int(raw)
        if "float" in kind:
            return float(raw)
        if "Path" in kind:
            return Path(raw)
        return raw
    except ValueError as exc:
        raise ValueError(f"SV_{name.upper()}={raw!r} is not a valid {kind}") from exc
