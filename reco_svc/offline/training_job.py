"""The training job (python -m reco_svc.train): train, export to ONNX, register and activate.

    python -m reco_svc.train                 # every step printed with its duration
    python -m reco_svc.train --no-activate   # register only; activate later (registry.py)

Reads the catalog and up to 180 days of interaction events from PostgreSQL (SV_DATABASE_URL
or the embedded server), derives stories from story_creation events, builds the model
(reco_svc.model_assembly with the learned parts of learned_parts.py), writes its archive to
the artifact store (SV_ARTIFACT_STORE, common/artifacts) and only then its registry row, and
activates it: running services fetch it within a second (NOTIFY) without restart. Nothing is
written to the local disk.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta

import asyncpg

from common.artifacts import ArtifactStore, configured_store, put
from common.database import create_pool, database_url
from common.migrations import apply_migrations
from common.settings import Settings
from reco_svc import store
from reco_svc.artifact import ModelArtifact
from reco_svc.catalog import CatalogSnapshot, demo_entries
from reco_svc.config import RecoConfig
from reco_svc.interactions import HISTORY_DAYS, EventFacts, Interaction, created_story, interactions_of
from reco_svc.model_assembly import build_artifact
from reco_svc.offline.learned_parts import Learned


class Progress:
    """One line per step with its duration; a live counter while reading events."""

    def __init__(self, total: int, stream=sys.stderr) -> None:
        self.total, self.done, self.stream = total, 0, stream
        self.started = self.last = time.perf_counter()
        self.live = stream.isatty()

    def step(self, message: str) -> None:
        now = time.perf_counter()
        self.done += 1
        self.stream.write(f"\r[{self.done:>2}/{self.total}] {message}  ({now - self.last:.2f} s)\n")
        self.stream.flush()
        self.last = now

    def counter(self, message: str) -> None:
        if self.live:
            self.stream.write(f"\r        {message}")
            self.stream.flush()

    def finish(self, message: str) -> None:
        self.stream.write(f"{message} in {time.perf_counter() - self.started:.1f} s\n")
        self.stream.flush()


def new_version(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"v{now:%Y%m%dT%H%M%S}-{secrets.token_hex(2)}"


async def read_training_data(
    pool: asyncpg.Pool, progress: Progress | None = None
) -> tuple[list, list[Interaction], dict[str, str], dict[str, str], datetime]:
    """Catalog entries (stories derived first), interactions, users' age groups and devices, now."""
    wall = datetime.now(UTC)
    since = wall - timedelta(days=HISTORY_DAYS)
    interactions: list[Interaction] = []
    age_groups: dict[str, str] = {}
    devices: dict[str, str] = {}
    latest = None
    snapshot = CatalogSnapshot.from_entries(await store.all_items(pool))
    stories = {}
    async for rows in store.interaction_events(pool, since):
        for row in rows:
            facts = EventFacts.from_row(row)
            interactions += interactions_of(facts)
            if facts.age_group:
                age_groups[facts.user_id] = facts.age_group
            if facts.device_type:
                devices[facts.user_id] = facts.device_type
            latest = facts.ts if latest is None or facts.ts > latest else latest
            if (story := created_story(facts, snapshot)) is not None:
                stories[story.id] = story
        if progress:
            progress.counter(f"{len(interactions)} interactions read")
    await store.upsert_stories(pool, list(stories.values()))
    age_groups.update({u: g for u, g in (await store.latest_age_groups(pool, since)).items() if g})
    entries = await store.all_items(pool)
    now = min(latest, wall) if latest else wall
    return entries, interactions, age_groups, devices, now


async def train(
    pool: asyncpg.Pool,
    settings: Settings,
    activate: bool = True,
    model_name: str | None = None,
    progress: Progress | None = None,
    artifacts: ArtifactStore | None = None,
    budget: float | None = None,
) -> ModelArtifact:
    """Train, store the archive, then register (and activate) the version that points at it.

    `artifacts`: where the archive goes; default configured_store(settings, pool). `model_name`
    None or "auto": tuned within `budget` seconds (default SV_RECO_TUNING_BUDGET_SECONDS)."""
    progress = progress or Progress(10, stream=open("/dev/null", "w"))  # noqa: SIM115 - quiet by default
    entries, interactions, age_groups, devices, now = await read_training_data(pool, progress)
    progress.step(f"read {len(entries)} catalog items and {len(interactions)} interactions")
    artifact = await asyncio.to_thread(
        build_artifact,
        entries,
        interactions,
        age_groups,
        devices,
        now,
        new_version(),
        Learned(model_name, budget if budget is not None else settings.reco_tuning_budget_seconds),
        progress.step,
    )
    archive = await asyncio.to_thread(artifact.to_bytes)
    target = artifacts or configured_store(settings, pool)
    stored = await put(target, artifact.key(), archive)
    progress.step(f"exported to ONNX and stored: {stored.location} ({stored.size / 2**20:.1f} MiB)")
    await store.register_version(
        pool,
        artifact.version,
        stored.location,
        artifact.metrics,
        artifact.description,
        activate,
        sha256=stored.sha256,
        size_bytes=stored.size,
        tuning=artifact.tuning,
    )
    progress.step(f"registered {artifact.version}" + (" and activated it" if activate else ""))
    return artifact


async def _main(args: argparse.Namespace) -> None:
    settings = Settings.from_env()
    pool = await create_pool(settings, database_url(settings), bounded=False)  # a batch job
    try:
        from reco_svc.service import MIGRATIONS

        await apply_migrations(pool, "reco", MIGRATIONS)
        config = RecoConfig.from_settings(settings)
        if config.catalog_path and config.catalog_path.is_file():
            await store.load_demo(pool, demo_entries(config.catalog_path))
        progress = Progress(10)
        artifact = await train(pool, settings, not args.no_activate, args.model, progress, budget=args.budget)
        progress.finish(f"model {artifact.version} ready")
        print(artifact.version)
    finally:
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Train and register a recommendation model.")
    parser.add_argument("--no-activate", action="store_true", help="register without serving it")
    parser.add_argument(
        "--model",
        default=None,
        help="a fixed collaborative model (reco_svc.offline.models.MODELS); default auto: tuned",
    )
    parser.add_argument(
        "--budget", type=float, default=None, help="tuning seconds (default SV_RECO_TUNING_BUDGET_SECONDS)"
    )
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
