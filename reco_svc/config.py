"""Settings of the recommendation engine that common.Settings does not carry (yet), from SV_RECO_*.

| variable                    | default                        | meaning                                   |
|-----------------------------|--------------------------------|-------------------------------------------|
| SV_RECO_CATALOG             | simulator/catalog.json         | demo catalog upserted at start ("" = none) |
| SV_RECO_MODEL_POLL_SECONDS  | 5                              | registry poll (NOTIFY makes it immediate)  |
| SV_RECO_CATALOG_POLL_SECONDS| 2                              | catalog/moderation refresh from PostgreSQL |
| SV_RECO_FEATURE_USERS       | 100000                         | users kept in the in-memory feature store  |
| SV_RECO_BUS_GROUP           | recommendation                 | consumer group on analytics.events (*)     |

(*) With the in-memory feature store every replica must see every event: give each replica
its own group in the cluster profile (the Redis feature store will lift this).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from common.settings import REPO_ROOT, Settings


@dataclass(frozen=True)
class RecoConfig:
    catalog_path: Path | None
    models_dir: Path
    model_poll_seconds: float
    catalog_poll_seconds: float
    feature_users: int
    bus_group: str

    @classmethod
    def from_settings(cls, settings: Settings) -> RecoConfig:
        catalog = os.environ.get("SV_RECO_CATALOG", str(REPO_ROOT / "simulator" / "catalog.json"))
        return cls(
            catalog_path=Path(catalog) if catalog else None,
            models_dir=models_dir(settings),
            model_poll_seconds=float(os.environ.get("SV_RECO_MODEL_POLL_SECONDS", "5")),
            catalog_poll_seconds=float(os.environ.get("SV_RECO_CATALOG_POLL_SECONDS", "2")),
            feature_users=int(os.environ.get("SV_RECO_FEATURE_USERS", "100000")),
            bus_group=os.environ.get("SV_RECO_BUS_GROUP", "recommendation"),
        )


def models_dir(settings: Settings) -> Path:
    return Path(settings.data_dir) / "models"
