"""What the recommendation engine erases of a user: its erasure steps and what each replica forgets.

Steps (common/privacy/steps.py, run by one replica, retried until they succeed):
- catalog_items: the items the user created. A child's own stories are removed from the
  catalog, not kept with the creator cleared: what a child made is the child's data, and it
  must stop being recommended to others (docs/security.md);
- reco_features: the user's live recent list and cached history. With Redis (SV_REDIS_URL)
  the replicas share them and Redis must confirm the DEL: a paused or unreachable Redis
  fails the step, which is retried (the in-process fallback never stands in for an
  erasure). Without Redis the step empties the memory of the replica that runs it. The
  step exists either way: the registry must not depend on configuration, or a job created
  under one would wait for a step nobody runs under the other.
- reco_interactions, reco_user_age_groups: the engine's own copies of the user's interaction
  events, ratings and age group (from the bus); what is still in flight is dropped on arrival
  (the tombstones, live.py).
Each replica forgets at once what it holds itself: features kept in process (or in Redis's
fallback during an outage) and the user's stories in its catalog snapshot.
"""

from __future__ import annotations

import asyncpg

from common.privacy.participant import Forget
from common.privacy.steps import ErasureStep, table_step
from reco_svc.catalog_state import CatalogState
from reco_svc.features.shared import SharedFeatures

REDIS_STORE = "Redis sv:f:recent:reco:<user>, sv:f:cache:reco:history:<user>"
MEMORY_STORE = "the engine replicas' in-process features"


def erasure_steps(pool: asyncpg.Pool, features: SharedFeatures, shared_features: bool) -> list[ErasureStep]:
    return [
        table_step(pool, "catalog_items", "creator_id = $1"),
        table_step(pool, "reco_interactions", "user_id = $1"),
        table_step(pool, "reco_user_age_groups", "user_id = $1"),
        ErasureStep("reco_features", REDIS_STORE if shared_features else MEMORY_STORE, features.erase),
    ]


def forgetters(features: SharedFeatures, catalog: CatalogState) -> list[Forget]:
    return [features.forget_local, catalog.forget_creator]
