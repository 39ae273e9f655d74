"""Opaque page tokens for keyset pagination.

A token is the sort key of the last row of a page plus what the listing was for,
as URL-safe base64 JSON: opaque to clients, and a token from another listing (or
a tampered one) is refused instead of silently returning the wrong page.
"""

from __future__ import annotations

import base64
import binascii
import json

from common.errors import FieldViolation, InvalidArgument


def encode(kind: str, scope: str, position: list) -> str:
    raw = json.dumps({"k": kind, "s": scope, "p": position}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, kind: str, scope: str) -> list | None:
    """The position in a token, or None for an empty token (first page)."""
    if not token:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if data["k"] == kind and data["s"] == scope and isinstance(data["p"], list):
            return data["p"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        pass
    raise InvalidArgument.of([FieldViolation("page_token", "is not a token from this listing")])
