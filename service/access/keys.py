"""API keys: who may do what.

A key reads `csk_<id>_<secret>`: the id is public (it names the key in listings and the
audit trail), the secret is 192 random bits stored only as its SHA-256 (a slow password
hash buys nothing for a secret this long). Keys have a role:

- `admin`: everything, including keys, webhooks and the audit trail;
- `procurement`: reads everything; writes companies, links, requests, cascades, answers;
- `integration`, bound to one company: records cascades from its company and answers of
  its company; reads its company, its direct suppliers and the requests addressed to it
  (a cascade event of the request reached it); anything else it may not know is a 404;
- `viewer`: gap counts, coverage and metrics only.

Every route names its rule in `POLICY` (keyed by method and path template); a route
without one is admin-only, and a test checks that none is missing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from graph_models.models import to_epoch_us, utc_now
from service.http.errors import InvalidField, ServiceError
from service.store.port import ApiKey, CascadeStore

KEY_PREFIX = "csk"
# What issue_key writes: 12 hex digits of id, 32 url-safe characters of secret. Anything
# else is refused before a lookup, so a stranger's guesses cost no store read or memory.
KEY_FORMAT = re.compile(r"csk_([0-9a-f]{12})_([A-Za-z0-9_-]{32})")
CLAIMED_ID_CHARS = 64  # of a refused key's id, kept in the audit trail
CACHE_MAX_KEYS = 10_000  # each entry a 12-character id and one ApiKey: ~2 MB at most


class Role(StrEnum):
    admin = "admin"
    procurement = "procurement"
    integration = "integration"
    viewer = "viewer"


class Unauthenticated(ServiceError):
    status, slug, title = 401, "unauthenticated", "API key required"


class Forbidden(ServiceError):
    status, slug, title = 403, "forbidden", "Not allowed for this key"


@dataclass(frozen=True)
class Principal:
    key_id: str
    role: Role
    company_id: str | None = None

    @property
    def own(self) -> str:
        """The company an integration key speaks for."""
        assert self.company_id is not None, "only integration keys have a company"
        return self.company_id


# -- keys ----------------------------------------------------------------------------------


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class KeyScopeInvalid(InvalidField, ValueError):
    """The one rule of a key's scope: an integration key speaks for one company, every
    other role for none."""


def issue_key(
    store: CascadeStore, *, role: Role, company_id: str | None = None, name: str = "",
    expires_days: float | None = None,
) -> tuple[ApiKey, str]:
    """Create and store a key; returns it and the full key text (shown once)."""
    if (role == Role.integration) != (company_id is not None):
        raise KeyScopeInvalid("an integration key needs company_id; other roles take none",
                              field="company_id")
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(24)
    now = utc_now()
    expires = None if expires_days is None else to_epoch_us(now + timedelta(days=expires_days))
    key = ApiKey(id=key_id, secret_hash=hash_secret(secret), role=str(role),
                 company_id=company_id, name=name, created_at_us=to_epoch_us(now),
                 expires_at_us=expires)
    store.add_api_key(key)
    return key, f"{KEY_PREFIX}_{key_id}_{secret}"


def split_key(text: str) -> tuple[str, str] | None:
    """(id, secret) of a well-formed key, None for anything else.

    >>> split_key("csk_0123456789ab_" + "s" * 32)[0]
    '0123456789ab'
    >>> split_key("csk_" + "x" * 60000 + "_secret") is None
    True
    """
    found = KEY_FORMAT.fullmatch(text)
    return None if found is None else (found.group(1), found.group(2))


def claimed_key_id(authorization: bytes) -> str:
    """The key id a refused Authorization header claimed, cut to `CLAIMED_ID_CHARS`
    printable characters ('' when it names none)."""
    token = authorization.decode("latin-1").partition(" ")[2].strip()
    claimed = token.split("_")[1] if token.count("_") >= 2 else ""
    return "".join(c for c in claimed[:CLAIMED_ID_CHARS] if c.isprintable())


@dataclass(frozen=True)
class KnownKey:
    """A stored key (None: no such key) as this worker read it at `seen_at` (monotonic),
    with the principal it stands for, made once rather than on every request."""

    key: ApiKey | None
    seen_at: float
    principal: Principal | None = None

    @classmethod
    def read(cls, key: ApiKey | None) -> KnownKey:
        principal = None if key is None else Principal(
            key_id=key.id, role=Role(key.role), company_id=key.company_id)
        return cls(key, time.monotonic(), principal)


@dataclass
class KeyRing:
    """Verifies bearer keys against the store, remembering stored keys for `ttl` seconds
    so a dashboard's polls cost no store read (a revocation made through another worker
    takes effect within `ttl`; through this one, at once)."""

    store: CascadeStore
    ttl: float = 5.0
    _seen: dict[str, KnownKey] = field(default_factory=dict)

    def cached(self, key_id: str) -> KnownKey | None:
        hit = self._seen.get(key_id)
        if hit is None or time.monotonic() - hit.seen_at > self.ttl:
            return None
        return hit

    def fetch(self, key_id: str) -> KnownKey:
        known = KnownKey.read(self.store.get_api_key(key_id))
        if len(self._seen) >= CACHE_MAX_KEYS:
            # ids are well-formed (12 characters) by now, so entries are small; a flood of
            # guesses empties the cache rather than growing it
            self._seen.clear()
        self._seen[key_id] = known
        return known

    def forget(self, key_id: str) -> None:
        self._seen.pop(key_id, None)


def check_key(known: KnownKey, secret: str) -> Principal:
    """The principal of a valid key, or 401 (one message for every failure: no oracle).
    The secret is hashed and compared on every call; nothing of it is remembered."""
    key = known.key
    if (
        key is None
        or known.principal is None
        or not hmac.compare_digest(key.secret_hash, hash_secret(secret))
        or key.revoked_at_us is not None
        or (key.expires_at_us is not None and key.expires_at_us <= time.time_ns() // 1000)
    ):
        raise Unauthenticated("the API key is unknown, expired or revoked")
    return known.principal
