"""One process's part in erasure: its service's steps, the tombstones, forgetting from memory.

    participant = ErasureParticipant(pool, bus, settings, "analytics")
    participant.tombstones.covers(user_id, ts, received_at)   # before writing a user's data
    participant.add(steps=erasure_steps(pool), forget=[counters.forget])
    await participant.start()      # registers the steps, reads the tombstones, follows the topic
    await participant.aclose()

Steps (steps.py) remove the user from the shared stores the service owns (its tables, its
Redis keys): the job tracks each one (jobs.py), one replica runs it (leased), and a failure
is retried after a backoff until it succeeds. `forget` callbacks drop what this very process
holds in memory (rows not yet flushed, features kept in process): every replica runs them
when the erasure is announced on the bus and, had it missed that, when the tombstone
reaches it at the next poll (SV_ERASURE_POLL_SECONDS). The announcement also wakes the
step runner, so steps start at once rather than at the next poll.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence

import asyncpg

from common import metrics
from common.bus.base import BusMessage, EventBus
from common.bus.inprocess import InProcessBus
from common.periodic import Periodic
from common.privacy import jobs, peers
from common.privacy.erasure import ERASURE_TOPIC, adopt, read_announcements
from common.privacy.steps import ErasureStep
from common.privacy.tombstones import Tombstones
from common.settings import Settings

log = logging.getLogger(__name__)
# A claimed step is not handed to another replica for this long (a runner that died).
LEASE_SECONDS = 300.0
RETRY_MAX_SECONDS = 30.0
Forget = Callable[[str], Awaitable[None]]


class ErasureParticipant:
    def __init__(
        self,
        pool: asyncpg.Pool,
        bus: EventBus,
        settings: Settings,
        service: str,
    ) -> None:
        self.pool = pool
        self.bus = bus
        self.service = service
        self.steps: dict[str, ErasureStep] = {}
        self.forget: list[Forget] = []
        self.poll_seconds = settings.erasure_poll_seconds
        self.verify_after = settings.erasure_verify_seconds
        self.tombstones = Tombstones(settings.erasure_tombstone_days * 86400)
        # Every replica needs every announcement (its own memory), hence a group of its own.
        self.group = f"{service}-erasure-{uuid.uuid4().hex[:10]}"
        self.jobs_group = f"{service}-erasure-jobs"
        self.peers_group = f"{service}-erasure-peers"
        self._reported: dict[int, peers.Signature] = {}  # what this process last said of each job
        self._steps_reported = False
        # At once, then every poll; an announcement wakes it (steps start at once).
        self._poll = Periodic(f"erasure poll ({service})", self._poll_once, self.poll_seconds, first_after=0)

    def add(self, steps: Sequence[ErasureStep] = (), forget: Sequence[Forget] = ()) -> None:
        """Before start: the service's steps, and what forgets a user from this process's memory."""
        self.steps.update((step.name, step) for step in steps)
        self.forget.extend(forget)

    async def start(self) -> None:
        if self.steps:
            await jobs.register_steps(
                self.pool, self.service, [(s.name, s.store) for s in self.steps.values()]
            )
        await self.refresh()
        if self.steps:
            # The other services' progress, so that a job's status here covers them (peers.py).
            # A process without steps (the analytics processor) shares a database with one that
            # has them, which keeps the reports: no consumer of its own.
            self.bus.subscribe(peers.PROGRESS_TOPIC, self.peers_group, self._on_progress)
        self.bus.subscribe(ERASURE_TOPIC, self.group, self._on_announced, from_end=True)
        if not isinstance(self.bus, InProcessBus):
            # A database of the service's own learns of erasures only from the topic: one group
            # for the service, from the start, so that no announcement is missed while no
            # replica runs (in process every subscriber gets every message anyway).
            self.bus.subscribe(ERASURE_TOPIC, self.jobs_group, self._on_adopt)
        self._poll.start()

    async def refresh(self) -> None:
        """New tombstones from PostgreSQL; users among them whose job still runs are forgotten."""
        for erased in await self.tombstones.refresh(self.pool):
            if erased.user_id is not None:
                await self._forget(erased.user_id)

    async def run_due(self) -> int:
        """Run this service's due steps once; the number of steps run."""
        claims = await jobs.claim_due(self.pool, list(self.steps), LEASE_SECONDS)
        for claim in claims:
            try:
                removed = await self.steps[claim.step].run(claim.user_id)
            except Exception as exc:  # noqa: BLE001 - any failure: retried later
                retry = min(RETRY_MAX_SECONDS, self.poll_seconds * 2 ** (claim.attempts - 1))
                fields = {
                    "step": claim.step,
                    "audit_id": claim.audit_id,
                    "retry_in": retry,
                    "error": repr(exc),
                }
                log.warning("erasure step failed", extra={"fields": fields})
                metrics.ERASURE_STEPS.add(1, {"step": claim.step, "outcome": "failed"})
                await jobs.fail(self.pool, claim, f"{type(exc).__name__}: {exc}", retry)
                continue
            metrics.ERASURE_STEPS.add(1, {"step": claim.step, "outcome": "done"})
            await jobs.finish(self.pool, claim, removed, self.verify_after)
        return len(claims)

    async def _poll_once(self) -> None:
        """Tombstones, then this service's due steps; PostgreSQL away: logged, polled again."""
        await self.refresh()
        if self.steps:
            while await self.run_due():
                pass
            await jobs.advance_stalled(self.pool, self.verify_after)
            await self._report()

    async def _report(self) -> None:
        """This service's steps (once) and the jobs' changes, to the other services (peers.py).
        From the poll: the bus may start after this participant does."""
        try:
            if not self._steps_reported:
                registered = [(s.name, s.store) for s in self.steps.values()]
                await peers.publish_steps(self.bus, self.service, registered)
                self._steps_reported = True
            await peers.publish_changes(self.pool, self.bus, self.service, self._reported)
        except Exception as exc:  # noqa: BLE001 - reported again at the next poll
            log.info(
                "erasure progress not reported yet: %r", exc, extra={"fields": {"service": self.service}}
            )

    async def _on_announced(self, messages: list[BusMessage]) -> None:
        for announced in read_announcements(messages):
            self.tombstones.learn(self.tombstones.hash(announced.user_id), announced.erased_at)
            await self._forget(announced.user_id)
            if self.steps:
                await adopt(self.pool, announced)
        self._poll.wake()

    async def _on_adopt(self, messages: list[BusMessage]) -> None:
        """The service's group: the job in this service's database, if it is not there yet."""
        for announced in read_announcements(messages):
            if self.steps:
                await adopt(self.pool, announced)
        self._poll.wake()

    async def _on_progress(self, messages: list[BusMessage]) -> None:
        await peers.record(self.pool, messages, self.service)

    async def _forget(self, user_id: str) -> None:
        for forget in self.forget:
            try:
                await forget(user_id)
            except Exception:  # noqa: BLE001 - one store's failure must not keep the others
                log.exception("forgetting an erased user failed", extra={"fields": {"service": self.service}})

    async def aclose(self) -> None:
        if self.steps:
            self.bus.unsubscribe(peers.PROGRESS_TOPIC, self.peers_group)
        self.bus.unsubscribe(ERASURE_TOPIC, self.group)
        if not isinstance(self.bus, InProcessBus):
            self.bus.unsubscribe(ERASURE_TOPIC, self.jobs_group)
        await self._poll.stop()
