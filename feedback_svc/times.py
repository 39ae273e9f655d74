"""Timestamps as the contract writes them: RFC 3339 in UTC with a Z."""

from __future__ import annotations

from datetime import UTC, datetime


def rfc3339(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
