"""Recommendation experiments: which variant a child is in, and what the engine serves it with.

Analytics owns experiments and assignments (analytics_svc/experiments, docs/experiments.md);
the engine asks it over gRPC and keeps what it learns:

- every SV_RECO_EXPERIMENT_POLL_SECONDS, the running experiment on the surface
  "recommendations" (ListExperiments; the earliest started if ever several run) with its
  variants' options: a model version of the registry ("" the active one) and diversity on
  or off. The versions it names are loaded next to the active one (VariantModels) before the
  experiment applies: until they are, or when one cannot be loaded, nobody enters it
  (everyone gets the active model as "control", and no exposure is logged);
- per child, the variant (GetAssignments with that surface: the first call persists the
  assignment and logs the exposure event), kept for SV_RECO_ASSIGNMENT_TTL_SECONDS per
  (user, age group, device type), so a child costs one call per TTL, not one per request.
  When analytics does not answer within SV_RECO_ASSIGNMENT_TIMEOUT_SECONDS the child gets
  control, and the engine tries again for that child after FAILURE_TTL_SECONDS.

    choice = await assigner.choose("user-1", "6-8", "tablet")
    choice.experiment_key, choice.variant, choice.model, choice.diversity
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import asyncpg
import grpc
from storyverse.analytics.v1 import experiments_pb2 as pb
from storyverse.analytics.v1 import experiments_pb2_grpc as pb_grpc

from common import metrics
from common.periodic import Periodic
from reco_svc import store
from reco_svc.artifact import LoadedModel
from reco_svc.model_watch import ModelHolder

log = logging.getLogger(__name__)
CONTROL = "control"  # the variant of a child outside any experiment
SURFACE = "recommendations"
FAILURE_TTL_SECONDS = 5.0
MAX_CACHED = 100_000  # (user, age group, device) entries; the least recently used go first


@dataclass(frozen=True)
class Arm:
    """A variant as the engine serves it."""

    key: str
    model_version: str = ""  # "" the registry's active version
    diversity: bool = True


@dataclass(frozen=True)
class Running:
    """The running recommendation experiment: its key and its variants by key."""

    key: str
    arms: tuple[Arm, ...]

    def arm(self, variant: str) -> Arm | None:
        return next((a for a in self.arms if a.key == variant), None)

    @property
    def versions(self) -> set[str]:
        return {a.model_version for a in self.arms if a.model_version}


@dataclass(frozen=True)
class Choice:
    """What one request is served with. model None: the active model."""

    experiment_key: str = ""
    variant: str = CONTROL
    model: LoadedModel | None = None
    diversity: bool = True


OUTSIDE = Choice()


class VariantAssigner(Protocol):
    async def choose(self, user_id: str, age_group: str, device_type: str) -> Choice: ...


class ControlOnly:
    """No experiments (benchmarks, tools): everyone is served the active model as control."""

    async def choose(self, user_id: str, age_group: str, device_type: str) -> Choice:
        return OUTSIDE


def running_from(found: Sequence[pb.Experiment]) -> Running | None:
    """The experiment that applies among the running ones: on the surface, earliest started."""
    ours = sorted((e for e in found if e.surface == SURFACE), key=lambda e: (e.started_at, e.key))
    if not ours:
        return None
    e = ours[0]
    arms = tuple(
        Arm(
            v.key,
            v.recommendation.model_version,
            v.recommendation.diversity if v.recommendation.HasField("diversity") else True,
        )
        for v in e.variants
    )
    return Running(e.key, arms)


class AnalyticsExperiments:
    """The analytics service's ExperimentService, as the engine calls it."""

    def __init__(self, channel: grpc.aio.Channel, api_key: str | None = None, timeout: float = 1.0) -> None:
        self.stub = pb_grpc.ExperimentServiceStub(channel)
        self.metadata = (("x-api-key", api_key),) if api_key else None
        self.timeout = timeout

    async def running(self) -> Running | None:
        reply = await self.stub.ListExperiments(
            pb.ListExperimentsRequest(status="running"), timeout=5.0, metadata=self.metadata
        )
        return running_from(reply.experiments)

    async def assignments(self, user_id: str, age_group: str, device_type: str) -> dict[str, str]:
        reply = await self.stub.GetAssignments(
            pb.GetAssignmentsRequest(
                user_id=user_id,
                context=pb.AssignmentContext(age_group=age_group, device_type=device_type),
                surface=SURFACE,
            ),
            timeout=self.timeout,
            metadata=self.metadata,
        )
        return {a.experiment_key: a.variant for a in reply.assignments}


class VariantModels:
    """The model versions the running experiment names, held next to the serving one."""

    def __init__(self, pool: asyncpg.Pool, holder: ModelHolder) -> None:
        self.pool = pool
        self.holder = holder
        self.loaded: dict[str, LoadedModel] = {}

    async def hold(self, versions: set[str]) -> None:
        """Load the versions not held yet and let go of the others; LookupError for a version
        the registry does not have, the loader's errors for one that cannot be loaded."""
        for version in sorted(versions - set(self.loaded)):
            current = self.holder.current
            if current is not None and current.version == version:
                self.loaded[version] = current  # the same object: no second copy
                continue
            row = await store.get_version(self.pool, version)
            if row is None:
                raise LookupError(f"no model version {version!r} in the registry")
            self.loaded[version] = await self.holder.load(row)
        for version in set(self.loaded) - versions:
            del self.loaded[version]


class ExperimentAssigner:
    def __init__(
        self,
        source: AnalyticsExperiments,
        models: VariantModels,
        ttl_seconds: float = 60.0,
        poll_seconds: float = 5.0,
    ) -> None:
        self.source = source
        self.models = models
        self.ttl = ttl_seconds
        self.running: Running | None = None
        self._failed_key = ""  # the experiment whose versions would not load (logged once)
        self._unreachable = False  # analytics did not answer the last poll (logged once)
        self.calls = 0  # GetAssignments calls made (the hot path's network calls)
        self._cache: OrderedDict[tuple[str, str, str], tuple[float, dict[str, str]]] = OrderedDict()
        self._pending: dict[tuple[str, str, str], asyncio.Future] = {}
        self._poll = Periodic("experiment check", self.refresh, poll_seconds, first_after=0)

    def start(self) -> None:
        self._poll.start()

    async def aclose(self) -> None:
        await self._poll.stop()

    async def refresh(self) -> None:
        """Learn the running experiment; it applies once its model versions are held. While
        analytics cannot be asked the last answer stands (children get control anyway, their
        assignments cannot be fetched either)."""
        try:
            found = await self.source.running()
        except grpc.aio.AioRpcError as exc:
            if not self._unreachable:
                log.warning(
                    "cannot ask analytics for experiments",
                    extra={"fields": {"code": exc.code().name, "error": exc.details()}},
                )
            self._unreachable = True
            return
        self._unreachable = False
        if found is None:
            if self.running is not None:
                ended = {"experiment": self.running.key}
                log.info("recommendation experiment ended", extra={"fields": ended})
            self.running = None
            await self.models.hold(set())
            return
        try:
            await self.models.hold(found.versions)
        except Exception as exc:  # noqa: BLE001 - nobody enters an experiment the engine cannot serve
            if found.key != self._failed_key:
                log.error(
                    "recommendation experiment not applied: a model version cannot be loaded",
                    extra={"fields": {"experiment": found.key, "error": repr(exc)}},
                )
            self._failed_key = found.key
            self.running = None
            return
        if self.running != found:
            # Cached assignments were asked for another experiment (or none): ask again.
            self._cache.clear()
            log.info(
                "recommendation experiment applies",
                extra={"fields": {"experiment": found.key, "variants": [a.key for a in found.arms]}},
            )
        self.running, self._failed_key = found, ""

    async def choose(self, user_id: str, age_group: str, device_type: str) -> Choice:
        running = self.running
        if running is None:
            return OUTSIDE
        variants = await self._assignments((user_id, age_group, device_type))
        arm = running.arm(variants.get(running.key, ""))
        if arm is None:  # not targeted, outside the traffic share, or analytics unreachable
            return OUTSIDE
        model = self.models.loaded.get(arm.model_version) if arm.model_version else None
        if arm.model_version and model is None:  # the experiment changed since `running` was read
            return OUTSIDE
        return Choice(running.key, arm.key, model, arm.diversity)

    async def forget(self, user_id: str) -> None:
        """Erasure: drop what this process keeps of the user."""
        for key in [k for k in self._cache if k[0] == user_id]:
            del self._cache[key]

    async def _assignments(self, key: tuple[str, str, str]) -> dict[str, str]:
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            self._cache.move_to_end(key)
            metrics.ASSIGNMENT_LOOKUPS.add(1, {"source": "cache"})
            return cached[1]
        pending = self._pending.get(key)
        if pending is not None:  # another request of the same child is asking already
            return await asyncio.shield(pending)
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        self.calls += 1
        try:
            found = await self.source.assignments(*key)
            ttl, source = self.ttl, "analytics"
            future.set_result(found)
        except grpc.aio.AioRpcError as exc:
            log.warning(
                "experiment assignments unavailable, serving control",
                extra={"fields": {"code": exc.code().name, "retry_in_s": FAILURE_TTL_SECONDS}},
            )
            found, ttl, source = {}, min(self.ttl, FAILURE_TTL_SECONDS), "failed"
            future.set_result(found)
        finally:
            del self._pending[key]
            if not future.done():  # cancelled or failed otherwise: the others get control
                future.set_result({})
        metrics.ASSIGNMENT_LOOKUPS.add(1, {"source": source})
        self._cache[key] = (time.monotonic() + ttl, found)
        if len(self._cache) > MAX_CACHED:
            self._cache.popitem(last=False)
        return found
