"""Wiring of the recommendation engine: catalog, model watcher, features, live follow, servicer."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import grpc
from storyverse.recommendation.v1 import recommendation_service_pb2, recommendation_service_pb2_grpc

from common import metrics
from common.artifacts import Locations
from common.grpc_server import Runtime, ServiceSpec
from common.interceptors import CallObserver
from common.notifications import Notifications
from common.periodic import Periodic
from common.privacy.participant import ErasureParticipant
from common.telemetry_grpc import client_interceptors
from common.tls import open_channel
from reco_svc.admin import CatalogAdmin, RegistryAdmin
from reco_svc.bootstrap import BOOTSTRAP_POLLS, BootstrapRefresher
from reco_svc.catalog_state import CatalogState
from reco_svc.config import RecoConfig
from reco_svc.erasure import erasure_steps, forgetters
from reco_svc.experiments import AnalyticsExperiments, ExperimentAssigner, VariantModels
from reco_svc.families import FamilyBoard
from reco_svc.families import erasure_steps as family_erasure_steps
from reco_svc.features import create_feature_store
from reco_svc.features.memory import MemoryFeatureStore
from reco_svc.features.shared import SharedFeatures, limits
from reco_svc.goals import GoalBook
from reco_svc.goals import erasure_step as goals_erasure_step
from reco_svc.live import LiveFollower
from reco_svc.model_watch import ModelHolder
from reco_svc.server import RecommendationServicer
from reco_svc.serving import Recommender

MIGRATIONS = Path(__file__).parent / "migrations"
FEATURE_SAMPLE_SECONDS = 10.0
SERVICE_NAME = recommendation_service_pb2.DESCRIPTOR.services_by_name["RecommendationService"].full_name


@dataclass
class RecoComponent:
    catalog: CatalogState
    models: ModelHolder
    features: SharedFeatures
    recommender: Recommender
    live: LiveFollower
    privacy: ErasureParticipant
    experiments: ExperimentAssigner
    analytics: grpc.aio.Channel
    service_names: list[str] = field(default_factory=lambda: [SERVICE_NAME])
    observers: tuple[CallObserver, ...] = ()
    sampler: Periodic | None = None
    bootstrap: BootstrapRefresher | None = None
    families: FamilyBoard | None = None
    goals: GoalBook | None = None
    notifications: Notifications | None = None

    async def aclose(self) -> None:
        if self.notifications is not None:
            await self.notifications.aclose()
        if self.families is not None:
            self.families.close()
        if self.sampler is not None:
            await self.sampler.stop()
        if self.bootstrap is not None:
            await self.bootstrap.aclose()
        self.live.close()
        await self.experiments.aclose()
        await self.analytics.close()
        await self.privacy.aclose()
        await self.models.aclose()
        await self.models.locations.aclose()
        await self.catalog.aclose()
        await self.features.aclose()


async def build(server: grpc.aio.Server, runtime: Runtime) -> RecoComponent:
    config = RecoConfig.from_settings(runtime.settings)
    catalog = CatalogState(runtime.pool, config.catalog_poll_seconds)
    # Models come from the artifact store each registry row names (common/artifacts).
    models = ModelHolder(runtime.pool, Locations(runtime.settings, runtime.pool), config.model_poll_seconds)
    # Educational goals (goals.py): cached per replica, cleared by every replica's change.
    goals = GoalBook(runtime.pool, lambda: catalog.snapshot)
    # One LISTEN connection for the catalog's, the registry's and the goals' changes; listening
    # before the catalog's first read, so no change committed after that read goes unnoticed.
    notifications = Notifications(runtime.pool)
    catalog.listen(notifications)
    models.listen(notifications)
    goals.listen(notifications)
    await notifications.start()
    await catalog.start(config.catalog_path)
    await models.start(catalog.snapshot)
    # Redis (SV_REDIS_URL): replicas share each user's features; otherwise they stay in process.
    shared = bool(runtime.settings.redis_url)
    store = (
        create_feature_store(runtime.settings, limits())
        if shared
        else MemoryFeatureStore(limits(), max_bytes=config.feature_memory_bytes)
    )
    # Right to erasure (docs/security.md): the stories users created, shared features, memory.
    privacy = ErasureParticipant(runtime.pool, runtime.bus, runtime.settings, "recommendation")
    features = SharedFeatures(store, privacy.tombstones)
    # Recommendation experiments: the running one and each child's variant, asked of analytics.
    # As the gateway's: trace context carried, calls spread over several addresses when given.
    target = config.analytics_target
    analytics = open_channel(
        target,
        runtime.settings,
        options=[("grpc.lb_policy_name", "round_robin")] if "," in target else [],
        interceptors=client_interceptors(),
    )
    experiments = ExperimentAssigner(
        AnalyticsExperiments(analytics, config.experiments_api_key, config.assignment_timeout_seconds),
        VariantModels(runtime.pool, models),
        config.assignment_ttl_seconds,
        config.experiment_poll_seconds,
    )
    privacy.add(
        steps=erasure_steps(runtime.pool, features, shared),
        forget=[*forgetters(features, catalog), experiments.forget],
    )
    # Recommendations between families (families.py).
    families = FamilyBoard(runtime.pool, catalog, privacy.tombstones)
    families.subscribe(runtime.bus, config.bus_group)
    privacy.add(
        steps=[goals_erasure_step(runtime.pool), *family_erasure_steps(runtime.pool)],
        forget=[goals.forget_local],
    )
    recommender = Recommender(runtime.pool, catalog, models, features, experiments, goals=goals)
    live = LiveFollower(runtime.pool, features, catalog, privacy.tombstones)
    live.subscribe(runtime.bus, config.bus_group, shared_features=shared)
    await privacy.start()
    recommendation_service_pb2_grpc.add_RecommendationServiceServicer_to_server(
        RecommendationServicer(
            recommender,
            CatalogAdmin(runtime.pool, catalog, runtime.bus),
            RegistryAdmin(runtime.pool, models),
            goals,
            families,
        ),
        server,
    )
    sampler = None
    if not shared:
        sampler = Periodic(
            "feature size sample", lambda: _sample_size(store), FEATURE_SAMPLE_SECONDS, first_after=0
        )
        sampler.start()
    # Until a model is trained: the age groups' live popularity and trending (bootstrap.py).
    every = BOOTSTRAP_POLLS * config.model_poll_seconds  # 30 s by default: a rebuild reads all it holds
    bootstrap = BootstrapRefresher(runtime.pool, catalog, models, live, every)
    bootstrap.start()
    experiments.start()
    return RecoComponent(
        catalog,
        models,
        features,
        recommender,
        live,
        privacy,
        experiments,
        analytics,
        sampler=sampler,
        bootstrap=bootstrap,
        families=families,
        goals=goals,
        notifications=notifications,
    )


async def _sample_size(store: MemoryFeatureStore) -> None:
    """The in-process store's estimated size as gauges: what SV_RECO_FEATURE_MEMORY_MB bounds."""
    metrics.RECO_FEATURE_BYTES.set(store.bytes)
    metrics.RECO_FEATURE_ENTRIES.set(len(store))


SPEC = ServiceSpec("recommendation", build, migrations=[("reco", MIGRATIONS)])
