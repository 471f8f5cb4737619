"""Service settings, read from the environment with the prefix `CASCADE_`."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]

DEFAULT_STORE = "sqlite:///cascade.db"
DEV_PSEUDONYM_SECRET = "development-only-pseudonym-secret"
NEO4J_SCHEMES = ("neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc")
ANSWER_FIELDS_BYTES = 4096  # an answer as JSON besides its evidence: ids, times, poster


def check_store_url(url: str) -> None:
    """Refuse a store URL that cannot mean what its writer meant, naming the fix.

    >>> check_store_url("sqlite://typo.db")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: store: 'sqlite://typo.db' names a host, not a file: write sqlite:///typo.db ...
    """
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("sqlite", *NEO4J_SCHEMES):
        raise ValueError(f"store: unsupported URL {url!r}: use sqlite:///PATH or "
                         "neo4j://HOST:PORT (bolt://, neo4j+s:// ...)")
    if scheme == "sqlite":
        if not rest.startswith("/"):
            raise ValueError(f"store: {url!r} names a host, not a file: write "
                             f"sqlite:///{rest} (relative) or sqlite:////abs/path.db")
        if not rest.removeprefix("/"):
            raise ValueError("store: sqlite:/// needs a file path, e.g. sqlite:///cascade.db")
    elif not urlsplit(url).hostname:
        raise ValueError(f"store: {url!r} names no host, e.g. {scheme}://127.0.0.1:7687")


class Settings(BaseSettings):
    """`store` is a URL: `sqlite:///PATH` (the embedded default) or `neo4j://HOST:PORT`
    (`bolt://`, `neo4j+s://` and friends work too)."""

    model_config = SettingsConfigDict(env_prefix="CASCADE_", extra="ignore")

    store: str = DEFAULT_STORE
    neo4j_user: str | None = None
    neo4j_password: SecretStr | None = None
    neo4j_database: str = "neo4j"
    neo4j_connect_timeout: float = 30.0
    # How long a Neo4j transaction is retried on transient errors before the request
    # gets a 503 with Retry-After (a web request should not hang for the driver's 30 s).
    neo4j_retry_s: float = Field(default=5.0, ge=0, le=60)
    environment: Literal["development", "production"] = "development"
    demo: bool = False
    # How often a worker asks the store whether someone else wrote; between checks a
    # gap-counts poll is answered from memory. 0: ask on every read. Writes through this
    # worker are seen at once either way.
    revision_watch_ms: int = Field(default=50, ge=0, le=60_000)
    # Idempotency-Key records: how long a finished one is replayed, and how long a claim
    # may run before a retry may take it over (longer than any write takes).
    idempotency_ttl_s: float = Field(default=24 * 3600, gt=0)
    idempotency_lease_s: float = Field(default=30, gt=0)
    # Access: a valid key is remembered this long (a revocation through another worker
    # takes effect within it); limits per request and per key.
    auth_cache_s: float = Field(default=5.0, ge=0)
    metrics_public: bool = False  # /metrics without a key (a scraper inside the network)
    max_body_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    # Writes refused 401 (no valid key) recorded in the audit trail, a minute per worker:
    # strangers must not grow it without bound; the rest are only counted (metrics).
    audit_refused_per_minute: int = Field(default=60, ge=1)
    # An answer's evidence (a reference and a note, not the document), as compact JSON.
    max_evidence_bytes: int = Field(default=64 * 1024, ge=256)
    # The evidence a CMRT / EMRT import builds itself: the declaration with its whole
    # smelter list, whose template holds up to 10,000 smelter rows (about 80 bytes each
    # as JSON with the RMI's smelter names; 100 allowed).
    max_declaration_bytes: int = Field(default=1_000_000, ge=256)
    # A page of answers stops before its body would exceed this (its cursor continues):
    # `limit` alone would let a page of answers with large evidence grow to megabytes.
    # It holds the largest answer either evidence bound allows (checked below).
    max_page_bytes: int = Field(default=1024 * 1024, ge=4096)
    max_batch_items: int = Field(default=10_000, ge=1, le=10_000)
    rate_limit_per_minute: int = Field(default=6000, ge=1)
    # Webhooks: how often the dispatcher looks for due deliveries and coverage changes,
    # the first retry delay (then x3 each time, at most an hour), attempts before failing.
    webhook_poll_s: float = Field(default=0.5, gt=0)
    webhook_retry_base_s: float = Field(default=10.0, gt=0)
    webhook_max_attempts: int = Field(default=8, ge=1)
    webhook_timeout_s: float = Field(default=5.0, gt=0)
    # Webhooks to loopback, private, link-local ... addresses: refused unless allowed
    # (a receiver on this machine while developing; the tests' listeners).
    allow_private_webhooks: bool = False
    # On SIGTERM requests in flight may finish for this long before the rest are cut off
    # (each write is one transaction, so a cut one leaves nothing half-written).
    shutdown_grace_s: int = Field(default=30, ge=1)
    # Keys the per-viewer pseudonyms of a supplier's cascade view (HMAC-SHA256): whoever
    # holds it can test a guessed id against a pseudonym, so production sets its own.
    pseudonym_secret: SecretStr = SecretStr(DEV_PSEUDONYM_SECRET)

    @property
    def store_kind(self) -> Literal["sqlite", "neo4j"]:
        return "sqlite" if self.store.startswith("sqlite:") else "neo4j"

    @property
    def sqlite_path(self) -> str:
        # sqlite:///cascade.db -> cascade.db, sqlite:////tmp/x.db -> /tmp/x.db
        path = self.store.removeprefix("sqlite://").removeprefix("/")
        return path or ":memory:"

    @model_validator(mode="after")
    def _check_store(self) -> Settings:
        check_store_url(self.store)
        if self.store_kind == "neo4j" and self.environment == "production":
            if not self.neo4j_user or not self.neo4j_password:
                raise ValueError("neo4j_user and neo4j_password are required in production")
            if self.neo4j_password.get_secret_value() in {"neo4j", "password", "change-me-please"}:
                raise ValueError("neo4j_password: a default password is refused in production")
        if (self.environment == "production"
                and self.pseudonym_secret.get_secret_value() == DEV_PSEUDONYM_SECRET):
            raise ValueError("pseudonym_secret: the default secret is refused in production")
        return self

    @model_validator(mode="after")
    def _check_page_bytes(self) -> Settings:
        """A page of answers always holds one: the page bound must fit the largest."""
        largest = max(self.max_evidence_bytes, self.max_declaration_bytes)
        if self.max_page_bytes < largest + ANSWER_FIELDS_BYTES:
            raise ValueError(
                f"max_page_bytes ({self.max_page_bytes}) must hold the largest answer: "
                f"max_evidence_bytes and max_declaration_bytes (the larger is {largest}) "
                f"plus {ANSWER_FIELDS_BYTES}")
        return self
