"""Events of erased users that were still on their way: dropped before they are stored.

    kept, dropped = without_erased(prepared, tombstones, "ingestion")   # before writing

An event goes when its user was erased at or after the time it happened or was received
(common/privacy/tombstones.py): it was in a Kafka topic, a batch or an offline device while
the user's data was being removed. A rejected event whose payload names an erased user is
not kept either (failed_events would hold it), though the caller is still told it was invalid.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

from analytics_svc.ingestion.prepare import COLUMNS, Prepared, Rejection
from common import metrics
from common.privacy.tombstones import Tombstones

_USER, _TS, _RECEIVED = (COLUMNS.index(name) for name in ("user_id", "ts", "received_at"))


def without_erased(prepared: Prepared, tombstones: Tombstones | None, where: str) -> tuple[Prepared, int]:
    """The prepared events without those of erased users (rows and rejections), and how many
    rows went."""
    if not tombstones:  # none live: the common case costs nothing
        return prepared, 0
    erased_at: dict[str, datetime | None] = {}

    def covered(user_id: str, *times: datetime) -> bool:
        if user_id not in erased_at:
            erased_at[user_id] = tombstones.erased_at(user_id)
        at = erased_at[user_id]
        return at is not None and min(times) <= at

    keep = [i for i, row in enumerate(prepared.rows) if not covered(row[_USER], row[_TS], row[_RECEIVED])]
    rejections = [r for r in prepared.rejections if not _names_erased(r, tombstones)]
    rows_dropped = len(prepared.rows) - len(keep)
    dropped = rows_dropped + len(prepared.rejections) - len(rejections)
    if not dropped:
        return prepared, 0
    metrics.ERASURE_DROPPED.add(dropped, {"where": where})
    rows, positions = prepared.rows, prepared.positions
    kept = replace(
        prepared, rows=[rows[i] for i in keep], positions=[positions[i] for i in keep], rejections=rejections
    )
    return kept, rows_dropped


def _names_erased(rejection: Rejection, tombstones: Tombstones) -> bool:
    try:
        user_id = json.loads(rejection.payload).get("user_id")
    except (ValueError, AttributeError):
        return False
    return isinstance(user_id, str) and tombstones.covers(user_id)
