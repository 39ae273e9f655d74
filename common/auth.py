"""API keys: how they look, how they are stored, how a call's key is checked.

    key = generate()                               # NewKey(key_id, token="sv_<key_id>_<secret>")
    await KeyStore(pool).create(key, "demo", ["ingest", "read"])
    principal = await Authenticator(store, settings).authorize(method, metadata)

A token is `sv_<key id>_<secret>`; the secret is 32 random bytes and only its SHA-256
is stored, so the table is useless to whoever reads it. Callers send the token as
`x-api-key: <token>` or `authorization: Bearer <token>` (HTTP headers at the gateway,
gRPC metadata at the services). With SV_AUTH=open (the laptop default) nothing is
checked and every call is "anonymous"; production sets SV_AUTH=required.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import asyncpg

from common.errors import PermissionDenied, Unauthenticated
from common.scopes import SCOPES, scope_of
from common.settings import Settings

TOKEN_PREFIX = "sv_"
_TOKEN = re.compile(r"sv_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
_CACHE_LIMIT = 10_000


@dataclass(frozen=True)
class NewKey:
    key_id: str
    token: str


@dataclass(frozen=True)
class Principal:
    """Who is calling: a key id (or "anonymous") and its scopes."""

    key_id: str
    scopes: frozenset[str]


ANONYMOUS = Principal("anonymous", frozenset(SCOPES))
# The principal of the call being served (set by the service guard), e.g. for audit logs.
current_principal: contextvars.ContextVar[Principal] = contextvars.ContextVar(
    "current_principal", default=ANONYMOUS
)


AUTH_MODES = ("open", "required")


def auth_required(settings: Settings) -> bool:
    """True for SV_AUTH=required. Anything but the two modes stops start-up: a typo must
    not leave production open."""
    if settings.auth not in AUTH_MODES:
        raise ValueError(f"SV_AUTH={settings.auth!r}: expected one of {', '.join(AUTH_MODES)}")
    return settings.auth == "required"


def generate() -> NewKey:
    key_id = secrets.token_hex(6)
    return NewKey(key_id, f"{TOKEN_PREFIX}{key_id}_{secrets.token_urlsafe(32)}")


def secret_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_from(headers: Iterable[tuple[str, str]]) -> str | None:
    """The API key of a request: `x-api-key`, else `authorization: Bearer`."""
    found: dict[str, str] = {}
    for name, value in headers:
        if isinstance(value, str):
            found.setdefault(name.lower(), value)
    if "x-api-key" in found:
        return found["x-api-key"].strip()
    scheme, _, credentials = found.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return None


class KeyStore:
    """The api_keys table (common/sql/0001_api_keys.sql)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def create(self, key: NewKey, name: str, scopes: Sequence[str]) -> None:
        unknown = set(scopes) - set(SCOPES)
        if unknown or not scopes:
            raise ValueError(f"scopes must be some of {', '.join(SCOPES)}; got {', '.join(scopes)}")
        await self.pool.execute(
            "INSERT INTO api_keys (key_id, name, scopes, secret_sha256) VALUES ($1, $2, $3, $4)",
            key.key_id,
            name,
            sorted(set(scopes)),
            secret_digest(key.token),
        )

    async def list(self) -> list[asyncpg.Record]:
        return await self.pool.fetch(
            "SELECT key_id, name, scopes, created_at, revoked_at FROM api_keys ORDER BY created_at"
        )

    async def revoke(self, key_id: str) -> bool:
        status = await self.pool.execute(
            "UPDATE api_keys SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL", key_id
        )
        return status.endswith(" 1")

    async def lookup(self, token: str) -> Principal | None:
        """The key's principal when the token is genuine and not revoked."""
        match = _TOKEN.fullmatch(token)
        if match is None:
            return None
        row = await self.pool.fetchrow(
            "SELECT scopes, secret_sha256 FROM api_keys WHERE key_id = $1 AND revoked_at IS NULL",
            match.group(1),
        )
        # Compare digests in constant time; hash even when the key id is unknown so that
        # timing does not tell which key ids exist.
        expected = row["secret_sha256"] if row else "0" * 64
        if not hmac.compare_digest(secret_digest(token), expected) or row is None:
            return None
        return Principal(match.group(1), frozenset(row["scopes"]))


class Authenticator:
    """Checks a call's key against the RPC's scope; remembers verified keys for a few seconds."""

    def __init__(self, store: KeyStore, settings: Settings) -> None:
        self.store = store
        self.required = auth_required(settings)
        self.cache_seconds = settings.auth_cache_seconds
        # digest of token -> (principal or None, expiry); the token itself is never kept.
        self._cache: dict[str, tuple[Principal | None, float]] = {}

    async def authorize(self, method: str, headers: Iterable[tuple[str, str]]) -> Principal:
        if not self.required:
            return ANONYMOUS
        token = token_from(headers)
        if token is None:
            raise Unauthenticated("an API key is required: send x-api-key or authorization: Bearer")
        principal = await self._verify(token)
        if principal is None:
            raise Unauthenticated("the API key is not valid or was revoked")
        needed = scope_of(method)
        if needed not in principal.scopes:
            raise PermissionDenied(f"the API key lacks the {needed!r} scope this call needs")
        return principal

    async def _verify(self, token: str) -> Principal | None:
        digest = secret_digest(token)
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and cached[1] > now:
            return cached[0]
        principal = await self.store.lookup(token)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()  # rare; a full cache must not grow memory
        self._cache[digest] = (principal, now + self.cache_seconds)
        return principal
