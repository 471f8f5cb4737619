"""The store port: what the service needs from a system of record.

Coarse, atomic methods that take and return `graph_models` objects. Each write method runs
in one transaction: it either applies every item or none. Every call that changes data bumps
the store `revision` by one; calls that change nothing leave it alone, so a cache keyed by
revision stays valid across retried writes.

Callers validate references first (`existing_company_ids`, `existing_links`); adapters trust
that, except where a uniqueness rule decides (create of an existing id).

The coverage engine reads columns, not models: `load_network` and `request_events` return
plain tuples with timestamps as integer microseconds since the epoch (`to_epoch_us`,
`from_epoch_us`), `load_snapshot` the same as numpy columns (companies as positions, no
Python object per row: a cold start at a million links), and `changes_since` lets a cache
follow writes without reloading.

Change log: every write stamps the rows it changes with the revision it commits as, and
records deletions as tombstones; `changes_since(r)` reads both. A write that changes
nothing stamps nothing.

Examples
--------
>>> from datetime import UTC, datetime
>>> to_epoch_us(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
1767603600000000
>>> from_epoch_us(1767603600000001)
datetime.datetime(2026, 1, 5, 9, 0, 0, 1, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, TypeVar

import numpy as np

from graph_models.models import (
    Acknowledgement,
    AckStatus,
    CascadeEvent,
    Company,
    PolicyRequest,
    SupplyLink,
    from_epoch_us,
    to_epoch_us,
)

__all__ = [
    "ACK_STATUSES",
    "AckRow",
    "AlreadyExists",
    "ApiKey",
    "AuditEntry",
    "Delivery",
    "DeliveryAttempt",
    "Webhook",
    "WebhookEvent",
    "CascadeRow",
    "CascadeStore",
    "ChangeSet",
    "ClaimLost",
    "CommitOutcomeUnknown",
    "IdempotencyRecord",
    "InUse",
    "Network",
    "RequestEvents",
    "Snapshot",
    "SnapshotEvents",
    "StoreError",
    "StoreUnavailable",
    "TransactionTooLarge",
    "WriteOutcome",
    "assemble_changes",
    "from_epoch_us",
    "to_epoch_us",
]

CascadeRow = tuple[str, str, int]
"""(from_id, to_id, sent_at in epoch microseconds): one cascade event of a known request."""
AckRow = tuple[str, str, int, int]
"""(company_id, status, at in epoch microseconds, seq): one answer to a known request."""
ACK_STATUSES: tuple[str, ...] = tuple(status.value for status in AckStatus)
"""The answer statuses in the order of their codes in `SnapshotEvents.ack_status`."""

_K = TypeVar("_K")
_V = TypeVar("_V")
_T = TypeVar("_T")

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


class StoreError(Exception):
    """Base of the errors a store raises on purpose."""


class AlreadyExists(StoreError):
    """A create hit an id that is taken."""


class InUse(StoreError):
    """A delete was refused because other records reference the object."""


class StoreUnavailable(StoreError):
    """The database cannot be reached."""


class CommitOutcomeUnknown(StoreUnavailable):
    """The connection dropped while a write committed: it may or may not be stored. A
    retry with the same idempotency key settles it (replayed if stored, run if not)."""


class TransactionTooLarge(StoreError):
    """The database refused a unit of work for the memory it would take (Neo4j's
    `db.memory.transaction.max`); nothing of it was written, and running it again would
    fail the same way."""


class ClaimLost(StoreError):
    """An idempotency claim was taken over (its lease ran out) before the effect
    committed; the effect is rolled back and the other request carries it out."""


@dataclass(frozen=True)
class IdempotencyRecord:
    """What is stored under an idempotency key (see `CascadeStore.claim_idempotency_key`)."""

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
    coverage engine loads on a cold start (`CascadeStore.load_snapshot`).

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


@dataclass(frozen=True)
class ChangeSet:
    """What changed after a revision, as current values (see `CascadeStore.changes_since`)."""

    revision: int  # read at the start of the call; every change up to it is included
    companies: dict[str, str | None]  # company id -> current kind; None = deleted
    links: dict[tuple[str, str], str | None]  # (buyer, supplier) -> category; None = deleted
    requests: set[str]  # requests created since
    cascades: dict[str, list[CascadeRow]]  # request id -> events recorded since
    acknowledgements: dict[str, list[AckRow]]  # request id -> answers since, in seq order
    events_removed: set[str]  # requests that lost events or answers (force delete): reload


def assemble_changes(
    revision: int,
    companies: Iterable[Sequence[Any]],
    links: Iterable[Sequence[Any]],
    requests: Iterable[Sequence[Any]],
    cascades: Iterable[Sequence[Any]],
    acknowledgements: Iterable[Sequence[Any]],
    tombstones: Iterable[Sequence[Any]],
) -> ChangeSet:
    """The `ChangeSet` of an adapter's change-log rows (rows stamped after the revision
    asked for, at most `revision` or a little later; see `CascadeStore.changes_since`).

    Rows: companies (id, kind, revision), links (buyer, supplier, category, revision),
    requests (id,), cascades (request, from, to, sent_at µs), acknowledgements (request,
    company, status, at µs, seq) in seq order, tombstones (entity, id, id2, revision) with
    entity 'company', 'link' (id2 = supplier) or 'events'. Per company or link, the later
    of its row and its tombstone wins: deleted, then created again, is present.

    Examples
    --------
    >>> changes = assemble_changes(
    ...     7, [("acme", "smelter", 6)], [], [], [], [],
    ...     [("company", "acme", "", 5), ("link", "focal", "acme", 5), ("events", "r1", "", 5)],
    ... )
    >>> changes.companies, changes.links, changes.events_removed
    ({'acme': 'smelter'}, {('focal', 'acme'): None}, {'r1'})
    """
    tombstones = list(tombstones)
    kinds = _latest(
        [(cid, rev, kind) for cid, kind, rev in companies]
        + [(key, rev, None) for entity, key, _, rev in tombstones if entity == "company"]
    )
    categories = _latest(
        [((buyer, supplier), rev, category) for buyer, supplier, category, rev in links]
        + [((key, key2), rev, None) for entity, key, key2, rev in tombstones if entity == "link"]
    )
    events: defaultdict[str, list[CascadeRow]] = defaultdict(list)
    for request_id, from_id, to_id, sent_at in cascades:
        events[request_id].append((from_id, to_id, sent_at))
    answers: defaultdict[str, list[AckRow]] = defaultdict(list)
    for request_id, company_id, status, at, seq in acknowledgements:
        answers[request_id].append((company_id, status, at, seq))
    return ChangeSet(
        revision=revision,
        companies=kinds,
        links=categories,
        requests={request_id for (request_id,) in requests},
        cascades=dict(events),
        acknowledgements=dict(answers),
        events_removed={key for entity, key, _, _ in tombstones if entity == "events"},
    )


def _latest(versions: Iterable[tuple[_K, int, _V]]) -> dict[_K, _V]:
    """Per key, the value of the highest revision."""
    best: dict[_K, tuple[int, _V]] = {}
    for key, revision, value in versions:
        if key not in best or best[key][0] < revision:
            best[key] = (revision, value)
    return {key: value for key, (_, value) in best.items()}


class CascadeStore(Protocol):
    # lifecycle
    def init_schema(self) -> None: ...
    def close(self) -> None: ...
    def ping(self) -> bool: ...
    def revision(self) -> int: ...

    # companies
    def create_company(self, company: Company) -> None:
        """Insert a new company; raise `AlreadyExists` if the id is taken."""

    def upsert_companies(self, companies: Sequence[Company]) -> list[WriteOutcome]: ...
    def get_company(self, company_id: str) -> Company | None: ...
    def list_companies(
        self,
        *,
        kind: str | None = None,
        country: str | None = None,
        q: str | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> list[Company]:
        """Companies ordered by id, starting after the id `after`; `q` matches id or name."""

    def existing_company_ids(self, ids: Iterable[str]) -> set[str]: ...
    def delete_company(self, company_id: str, *, force: bool = False) -> bool:
        """Delete a company; without `force`, raise `InUse` while links or events reference
        it. With `force` its links, cascade events and acknowledgements go too. A company
        that issued requests is always `InUse`. Return False if it did not exist."""

    # supply links
    def add_links(self, links: Sequence[SupplyLink]) -> list[WriteOutcome]:
        """Insert links; an existing link with another category is `updated`."""

    def list_links(
        self,
        *,
        buyer_id: str | None = None,
        supplier_id: str | None = None,
        limit: int = 1000,
        after: tuple[str, str] | None = None,
    ) -> list[SupplyLink]: ...
    def existing_links(self, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]: ...
    def delete_link(self, buyer_id: str, supplier_id: str) -> bool: ...

    # requests
    def create_request(self, request: PolicyRequest) -> None:
        """Insert a request; raise `AlreadyExists` if the id is taken."""

    def get_request(self, request_id: str) -> PolicyRequest | None: ...
    def list_requests(self) -> list[PolicyRequest]: ...

    # events
    def add_cascades(self, events: Sequence[CascadeEvent]) -> list[WriteOutcome]:
        """Record cascade events; one already recorded (same request, from, to) is
        `unchanged` and keeps its first `sent_at`."""

    def list_cascades(
        self,
        *,
        request_id: str | None = None,
        from_id: str | None = None,
        to_id: str | None = None,
        limit: int = 1000,
    ) -> list[CascadeEvent]: ...

    def add_acknowledgements(
        self, acks: Sequence[Acknowledgement]
    ) -> list[tuple[WriteOutcome, Acknowledgement]]:
        """Append answers, assigning `seq` and `recorded_at`. An answer identical to one
        stored (same request, company, status and `at`) is `unchanged` and the stored one
        is returned, so a retry never double-counts."""

    def list_acknowledgements(
        self,
        *,
        request_id: str | None = None,
        company_id: str | None = None,
        limit: int = 1000,
    ) -> list[Acknowledgement]:
        """History, newest first (by `at`, then by recording order)."""

    # reads for the coverage engine
    def load_network(self) -> Network:
        """Every company's kind and every link, with the revision they were read at."""

    def request_events(self, request_id: str) -> RequestEvents:
        """The cascade events and answers of one request (empty if it has none)."""

    def load_snapshot(self, request_ids: Sequence[str]) -> Snapshot:
        """The network and the events of `request_ids` (unknown ones: none) as columns,
        for a cold start of the coverage engine: the same data as `load_network` and
        `request_events`, read faster (see `Snapshot` for what "at the revision" means)."""

    def changes_since(self, revision: int, *, limit: int = 50_000) -> ChangeSet | None:
        """Everything changed after `revision`; None when more than `limit` rows changed (a
        full reload is cheaper) or the log cannot answer (`revision` is ahead of the store,
        or older than the log: a database upgraded from a version without one).

        The store revision is read first, then the changed rows. Every change up to
        `ChangeSet.revision` is included; a write committing meanwhile may show up too
        (Neo4j reads are read-committed), and will show up again next time. So apply a
        change set idempotently: companies and links are current values (None = deleted),
        answers are keyed by seq, cascade events by (request, from, to) keeping the
        earliest `sent_at`; for `events_removed` requests reload `request_events`.

        Examples
        --------
        >>> from service.store.sqlite import SqliteStore
        >>> store = SqliteStore(":memory:")
        >>> store.init_schema()
        >>> seen = store.revision()
        >>> _ = store.upsert_companies([Company(id="acme-tier1", name="ACME")])
        >>> changes = store.changes_since(seen)
        >>> changes.revision, changes.companies
        (1, {'acme-tier1': 'manufacturer'})
        >>> store.changes_since(changes.revision).companies
        {}
        >>> store.close()
        """

    # units of work and idempotency keys
    def atomic(self, work: Callable[[], _T]) -> _T:
        """Run `work` in ONE write transaction: every store call it makes (reads too) joins
        it, so its writes commit together or not at all. On Neo4j `work` may be run again
        after a transient error, so it must only act through the store; a unit larger than
        the server's transaction memory raises `TransactionTooLarge`."""

    def claim_idempotency_key(
        self, scope: str, key: str, *, fingerprint: str, token: str, now_us: int,
        lease_until_us: int,
    ) -> IdempotencyRecord | None:
        """Claim `key` within `scope` for a request about to run; None when claimed.

        A live record (finished and within its retention, or in flight within its lease)
        is returned instead, untouched: the caller replays it, or refuses. An expired one
        is taken over. Expired records of any key are pruned on the way. Never bumps the
        revision (idempotency records are not data)."""

    def complete_idempotency_key(
        self, scope: str, key: str, *, token: str, status: int, body: bytes,
        content_type: str, expires_at_us: int,
    ) -> None:
        """Store the response of the claimed request; call it inside the `atomic` unit of
        the effect so both commit together. Raise `ClaimLost` if `token` no longer holds
        the claim."""

    def release_idempotency_key(self, scope: str, key: str, *, token: str) -> None:
        """Drop an unfinished claim (the request failed without effect); a record another
        token holds, or a finished one, is left alone."""

    # access: API keys and the audit trail (not data: they never bump the revision)
    def add_api_key(self, key: ApiKey) -> None: ...
    def get_api_key(self, key_id: str) -> ApiKey | None: ...
    def list_api_keys(self) -> list[ApiKey]:
        """Every key, oldest first."""

    def revoke_api_key(self, key_id: str, *, at_us: int) -> bool:
        """Mark a key revoked (the first revocation time stays); False if unknown."""

    def record_audit(self, entry: AuditEntry) -> None:
        """Append an entry; inside an `atomic` unit it commits with the write it records."""

    def list_audit(
        self, *, key_id: str | None = None, since_us: int | None = None,
        until_us: int | None = None, before_seq: int | None = None, limit: int = 100,
    ) -> list[AuditEntry]:
        """Entries newest first, filtered; `before_seq` pages backwards."""

    # webhooks: subscriptions and an outbox of deliveries (not data: no revision bump)
    def add_webhook(self, hook: Webhook) -> None: ...
    def list_webhooks(self) -> list[Webhook]: ...
    def get_webhook(self, webhook_id: str) -> Webhook | None: ...
    def delete_webhook(self, webhook_id: str) -> bool:
        """Delete a webhook with its deliveries; False if unknown."""

    def enqueue_events(self, events: Sequence[WebhookEvent]) -> int:
        """A pending delivery per event and webhook subscribed to its type; an event id
        already enqueued is skipped. Returns the deliveries created. Inside an `atomic`
        unit, they commit with the write that caused them."""

    def claim_deliveries(self, *, now_us: int, lease_until_us: int,
                         limit: int) -> list[tuple[Delivery, Webhook]]:
        """Pending deliveries due by `now_us` and not leased, leased until `lease_until_us`
        so no other worker sends them meanwhile; oldest first."""

    def finish_attempt(self, delivery_id: str, attempt: DeliveryAttempt, *, state: str,
                       next_attempt_at_us: int | None) -> None:
        """Record an attempt, set the state (pending again with the next time, delivered or
        failed) and release the lease."""

    def list_deliveries(self, webhook_id: str, *, limit: int = 100) -> list[Delivery]:
        """A webhook's deliveries, newest first, with their attempts."""
