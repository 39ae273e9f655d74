"""Settings of the recommendation engine, from common.Settings (SV_RECO_*, docs/configuration.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from common.settings import REPO_ROOT, Settings


@dataclass(frozen=True)
class RecoConfig:
    catalog_path: Path | None
    model_poll_seconds: float
    catalog_poll_seconds: float
    feature_memory_bytes: int
    bus_group: str
    analytics_target: str
    experiment_poll_seconds: float
    assignment_ttl_seconds: float
    assignment_timeout_seconds: float
    experiments_api_key: str | None

    @classmethod
    def from_settings(cls, settings: Settings) -> RecoConfig:
        catalog = settings.reco_catalog
        return cls(
            catalog_path=None if catalog.lower() == "none" else REPO_ROOT / catalog,
            model_poll_seconds=settings.reco_model_poll_seconds,
            catalog_poll_seconds=settings.reco_catalog_poll_seconds,
            feature_memory_bytes=settings.reco_feature_memory_mb * 2**20,
            bus_group=settings.reco_bus_group,
            analytics_target=settings.analytics_target,
            experiment_poll_seconds=settings.reco_experiment_poll_seconds,
            assignment_ttl_seconds=settings.reco_assignment_ttl_seconds,
            assignment_timeout_seconds=settings.reco_assignment_timeout_seconds,
            experiments_api_key=settings.reco_experiments_api_key,
        )
