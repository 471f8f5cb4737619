"""The values the store's role ports take and return, besides `graph_models` objects:
stored API keys, audit entries, webhooks and their deliveries, idempotency records, write
outcomes, the column shapes the coverage engine reads (`Network`, `RequestEvents`,
`Snapshot`, `ChangeSet`), where companies are (`CompanyLocations`) and a whole network to
load (`NetworkRows`).

Timestamps in the column shapes are integer microseconds since the epoch.

Examples
--------
>>> from datetime import UTC, datetime
>>> to_epoch_us(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
1767603600000000
>>> from_epoch_us(1767603600000001)
datetime.datetime(2026, 1, 5, 9, 0, 0, 1, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import numpy as np

from graph_models.models import (
    Acknowledgement,
    AckStatus,
    CascadeEvent,
    Company,
    PolicyRequest,
    Site,
    SupplyLink,
    from_epoch_us,
    to_epoch_us,
)

__all__ = [
    "ACK_STATUSES",
    "AckRow",
    "ApiKey",
    "AuditEntry",
    "CascadeRow",
    "ChangeSet",
    "CompanyLocations",
    "Delivery",
    "DeliveryAttempt",
    "IdempotencyRecord",
    "Network",
    "NetworkRows",
    "RequestEvents",
    "Snapshot",
    "SnapshotEvents",
    "Webhook",
    "WebhookEvent",
    "WriteOutcome",
    "from_epoch_us",
    "to_epoch_us",
]

CascadeRow = tuple[str, str, int]
"""(from_id, to_id, sent_at in epoch microseconds): one cascade event of a known request."""
AckRow = tuple[str, str, int, int]
"""(company_id, status, at in epoch microseconds, seq): one answer to a known request."""
ACK_STATUSES: tuple[str, ...] = tuple(status.value for status in AckStatus)
"""The answer statuses in the order of their codes in `SnapshotEvents.ack_status`."""


@dataclass(frozen=True)
class ApiKey:
    """A stored API key: never the secret itself, only its SHA-256 (`secret_hash`)."""

    id: str
    secret_hash: str
    role: str
    company_id: str | None
    name: str
    created_at_us: int
    expires_at_us: int | None = None
    revoked_at_us: int | None = None


@dataclass(frozen=True)
class AuditEntry:
    """One write through the API: who (key id), when, what; `seq` is assigned on record."""

    at_us: int
    key_id: str
    method: str
    path: str
    status: int
    seq: int = 0


@dataclass(frozen=True)
class Webhook:
    """A subscriber: where to POST which events, and the secret that signs them."""

    id: str
    url: str
    events: tuple[str, ...]
    secret: str
    description: str
    created_at_us: int


@dataclass(frozen=True)
class WebhookEvent:
    """Something that happened; `id` is deterministic, so two workers noticing the same
    thing enqueue it once."""

    id: str
    type: str
    payload: bytes  # the JSON body every subscriber receives
    created_at_us: int


@dataclass(frozen=True)
class DeliveryAttempt:
    at_us: int
    status_code: int | None  # None: no HTTP answer (see `error`)
    error: str | None
    duration_ms: float


@dataclass(frozen=True)
class Delivery:
    """One event for one webhook, and how its delivery went."""

    id: str
    webhook_id: str
    event_id: str
    event_type: str
    payload: bytes
    state: str  # pending | delivered | failed
    attempts: tuple[DeliveryAttempt, ...]
    next_attempt_at_us: int | None
    created_at_us: int


class WriteOutcome(StrEnum):
    created = "created"
    updated = "updated"
    unchanged = "unchanged"


@dataclass(frozen=True)
class IdempotencyRecord:
    """What is stored under an idempotency key (see `IdempotencyStore.claim_idempotency_key`)."""

    fingerprint: str  # hash of the request payload the key was first used with
    status: int | None  # the stored response status; None while the first request runs
    body: bytes = b""
    content_type: str = "application/json"


@dataclass(frozen=True)
class Network:
    """The whole supplier graph, as the coverage engine needs it."""

    kinds: dict[str, str]  # company id -> kind
    links: list[tuple[str, str, str]]  # (buyer_id, supplier_id, category) by (buyer, supplier)
    revision: int = 0


@dataclass(frozen=True)
class RequestEvents:
    """Everything recorded for one request, as columns of plain tuples."""

    cascades: list[CascadeRow]  # in sending order (sent_at, from_id, to_id)
    acknowledgements: list[AckRow]  # in recording order (seq)


@dataclass(frozen=True, eq=False)
class SnapshotEvents:
    """One request's cascade events and answers as columns over the companies of a
    `Snapshot` (company = position in `Snapshot.ids`), in no particular order.

    The same events as `RequestEvents`, read without a Python object per event. Statuses
    are codes into `ACK_STATUSES`; times are epoch microseconds.
    """

    cascade_from: np.ndarray  # int64 company positions
    cascade_to: np.ndarray
    cascade_sent: np.ndarray  # int64 µs
    ack_company: np.ndarray  # int64 company positions
    ack_status: np.ndarray  # int64 code into ACK_STATUSES
    ack_at: np.ndarray  # int64 µs
    ack_seq: np.ndarray  # int64


@dataclass(frozen=True, eq=False)
class Snapshot:
    """The whole supplier graph and the events of some requests, as columns: what the
    coverage engine loads on a cold start (`ChangeLog.load_snapshot`).

    Company i is `ids[i]` of kind `kinds[i]`; link j runs from company `buyer[j]` to
    company `supplier[j]` (positions in `ids`) with category `categories[category[j]]`,
    links in no particular order. The network is the one at `revision`; the events are
    those at `revision` or a little later (they may be read after it), minus events of
    companies `ids` lacks: `changes_since(revision)` delivers every event written after
    `revision` again, so apply it idempotently as always.
    """

    ids: list[str]
    kinds: list[str]
    buyer: np.ndarray  # int64 company positions
    supplier: np.ndarray
    category: np.ndarray  # int64 code into `categories`
    categories: tuple[str, ...]
    revision: int
    events: Mapping[str, SnapshotEvents]  # request id -> its events, for the requests asked
    index: dict[str, int] | None = None  # id -> position in `ids`, if read alongside


@dataclass(frozen=True)
class ChangeSet:
    """What changed after a revision, as current values (see `ChangeLog.changes_since`)."""

    revision: int  # read at the start of the call; every change up to it is included
    companies: dict[str, str | None]  # company id -> current kind; None = deleted
    links: dict[tuple[str, str], str | None]  # (buyer, supplier) -> category; None = deleted
    requests: set[str]  # requests created since
    cascades: dict[str, list[CascadeRow]]  # request id -> events recorded since
    acknowledgements: dict[str, list[AckRow]]  # request id -> answers since, in seq order
    events_removed: set[str]  # requests that lost events or answers (force delete): reload


@dataclass(frozen=True)
class CompanyLocations:
    """Where companies are, as columns: each company's own country, and the sites of the
    companies that have any (most have none, so a country-wide read stays flat)."""

    countries: dict[str, str | None]
    sites: dict[str, list[Site]]


class NetworkRows(Protocol):
    """A whole network to write at once: sequences that may build their models as they
    are sliced, so only a batch of them need exist at a time."""

    @property
    def companies(self) -> Sequence[Company]: ...
    @property
    def links(self) -> Sequence[SupplyLink]: ...
    @property
    def requests(self) -> Sequence[PolicyRequest]: ...
    @property
    def cascades(self) -> Sequence[CascadeEvent]: ...
    @property
    def acknowledgements(self) -> Sequence[Acknowledgement]: ...
