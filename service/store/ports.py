"""The store's role ports: what the service needs from a system of record, cut by role.

Each port is a `typing.Protocol` a few methods wide; a service function asks for the
narrowest one it uses (`add_link` needs a `LinkStore` and a `CompanyStore`, not the
webhook outbox), and a unit test hands it a dict-backed fake (`api_tests/fakes.py`).
`CascadeStore` is the union both adapters implement and the composition root holds.

Coarse, atomic methods that take and return `graph_models` objects (or the values of
`service.store.records`). Each write method runs in one transaction: it either applies
every item or none. Every call that changes data bumps the store `revision` by one;
calls that change nothing leave it alone, so a cache keyed by revision stays valid across
retried writes. API keys, the audit trail, idempotency records and webhooks are not data:
they never bump the revision.

Callers validate references first (`existing_company_ids`, `existing_links`); adapters trust
that, except where a uniqueness rule decides (create of an existing id).

The coverage engine reads columns, not models: `load_network` and `request_events` return
plain tuples with timestamps as integer microseconds since the epoch, `load_snapshot` the
same as numpy columns, and `changes_since` lets a cache follow writes without reloading.
Change log: every write stamps the rows it changes with the revision it commits as, and
records deletions as tombstones; `changes_since(r)` reads both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from graph_models.incidents import Incident
from graph_models.models import (
    Acknowledgement,
    CascadeEvent,
    Company,
    PolicyRequest,
    SupplyLink,
)
from service.store.records import (
    ApiKey,
    AuditEntry,
    ChangeSet,
    CompanyLocations,
    Delivery,
    DeliveryAttempt,
    IdempotencyRecord,
    Network,
    NetworkRows,
    RequestEvents,
    Snapshot,
    Webhook,
    WebhookEvent,
    WriteOutcome,
)

__all__ = [
    "AdminStore",
    "ApiKeyStore",
    "AuditTrail",
    "BulkLoad",
    "CausalReads",
    "CascadeStore",
    "ChangeLog",
    "CompanyStore",
    "DeliveryOutbox",
    "GraphStore",
    "IdempotencyStore",
    "IncidentStore",
    "LedgerStore",
    "LinkStore",
    "RequestStore",
    "UnitOfWork",
    "WebhookStore",
]

_T = TypeVar("_T")


class AdminStore(Protocol):
    """Lifecycle and maintenance: schema, health, emptying (tests and `--replace`)."""

    def init_schema(self) -> None:
        """Create what is missing and run every pending migration step, in order
        (`schema_version` tells how far a database got); idempotent."""

    def schema_version(self) -> int:
        """The number of the last migration step this database has run (0: none)."""

    def clear_all(self) -> None:
        """Delete every record and reset the revision; the schema stays usable."""

    def ping(self) -> bool:
        """Whether the database answers; False (never an error) when it does not."""

    def close(self) -> None: ...


class CompanyStore(Protocol):
    """The companies of the supplier graph."""

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
        ids: Sequence[str] | None = None,
    ) -> list[Company]:
        """Companies ordered by id, starting after the id `after`; `q` matches id or name;
        `ids` keeps only those companies."""

    def existing_company_ids(self, ids: Iterable[str]) -> set[str]: ...
    def delete_company(self, company_id: str, *, force: bool = False) -> bool:
        """Delete a company; without `force`, raise `InUse` while links or events reference
        it. With `force` its links, cascade events and acknowledgements go too. A company
        that issued requests is always `InUse`. Return False if it did not exist."""


class LinkStore(Protocol):
    """The supply links of the supplier graph (buyer -> supplier)."""

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


class GraphStore(CompanyStore, LinkStore, Protocol):
    """The supplier graph: companies and links."""


class RequestStore(Protocol):
    """Policy requests."""

    def create_request(self, request: PolicyRequest) -> None:
        """Insert a request; raise `AlreadyExists` if the id is taken."""

    def get_request(self, request_id: str) -> PolicyRequest | None: ...
    def list_requests(self) -> list[PolicyRequest]:
        """Every request, ordered by id."""


class LedgerStore(Protocol):
    """The ledger: cascade events and acknowledgements (append only)."""

    def add_cascades(self, events: Sequence[CascadeEvent]) -> list[WriteOutcome]:
        """Record cascade events; of forwards of one link (same request, from, to) the
        earliest `sent_at` is kept (`planning.earliest_sent`): one with an earlier
        `sent_at` than the stored one is `updated` (and stamped in the change log), any
        other `unchanged`."""

    def list_cascades(
        self,
        *,
        request_id: str | None = None,
        from_id: str | None = None,
        to_id: str | None = None,
        limit: int = 1000,
    ) -> list[CascadeEvent]:
        """Cascade events in sending order (ties by request, from, to)."""

    def add_acknowledgements(
        self, acks: Sequence[Acknowledgement]
    ) -> list[tuple[WriteOutcome, Acknowledgement]]:
        """Append answers, assigning `seq` and `recorded_at`. An answer identical to one
        stored (same request, company, status and `at`) is `unchanged` and the stored one
        is returned, so a retry never double-counts (`planning.plan_answers`)."""

    def list_acknowledgements(
        self,
        *,
        request_id: str | None = None,
        company_id: str | None = None,
        limit: int = 1000,
        before: tuple[datetime, int] | None = None,
    ) -> list[Acknowledgement]:
        """History, newest first (by `at`, then by recording order); with `before` (`at`,
        `seq` of an answer), only the answers after it in that order: the next page."""


class ChangeLog(Protocol):
    """The revision and the columnar reads the coverage engine builds its snapshot from.
    Reads only: none of these ever writes (an older database is upgraded by
    `AdminStore.init_schema`, never on read)."""

    def revision(self) -> int: ...
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
        >>> from graph_models.models import Company
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


class CausalReads(Protocol):
    """Read-your-writes across replicas of the service on a database cluster: the reads of
    one process follow its own writes; another process catches up to a client's tokens."""

    def bookmarks(self) -> tuple[str, ...]:
        """Opaque tokens of what this process has written and read (on SQLite, one copy,
        a token with nothing to wait for)."""

    def catch_up(self, bookmarks: Sequence[str]) -> None:
        """Return once this process's reads see at least what `bookmarks` saw; raise
        `InvalidBookmark` for a token the database refuses."""


class BulkLoad(Protocol):
    """A whole network into an empty store, as fast as the store writes (`cascade
    generate`, the demo network)."""

    def load_new(self, network: NetworkRows, *,
                 progress: Callable[[int], None] | None = None) -> None:
        """Write every row of `network` as new into a store that holds no company,
        request, cascade event or answer (else `NotEmpty`, nothing written), without
        reading first: every row given once and links only between its companies (the
        caller's promise, which generated networks and checked files keep). `progress(n)`
        follows each n rows written. Readers may see part of it before it returns; when it
        fails, nothing of it stays. No webhook event is sent for its answers."""


class UnitOfWork(Protocol):
    """Several store calls committed together."""

    def atomic(self, work: Callable[[], _T]) -> _T:
        """Run `work` in ONE write transaction: every store call it makes (reads too) joins
        it, so its writes commit together or not at all. On Neo4j `work` may be run again
        after a transient error, so it must only act through the store; a unit larger than
        the server's transaction memory raises `TransactionTooLarge`."""


class IdempotencyStore(Protocol):
    """Idempotency keys: a retried write replays the first response."""

    def claim_idempotency_key(
        self, scope: str, key: str, *, fingerprint: str, token: str, now_us: int,
        lease_until_us: int,
    ) -> IdempotencyRecord | None:
        """Claim `key` within `scope` for a request about to run; None when claimed.

        A live record (finished and within its retention, or in flight within its lease)
        is returned instead, untouched: the caller replays it, or refuses. An expired one
        is taken over. Expired records of any key are pruned on the way."""

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


class ApiKeyStore(Protocol):
    """Stored API keys (their secrets' hashes only)."""

    def add_api_key(self, key: ApiKey) -> None: ...
    def get_api_key(self, key_id: str) -> ApiKey | None: ...
    def list_api_keys(self) -> list[ApiKey]:
        """Every key, oldest first."""

    def revoke_api_key(self, key_id: str, *, at_us: int) -> bool:
        """Mark a key revoked (the first revocation time stays); False if unknown."""


class AuditTrail(Protocol):
    """Who wrote what, when."""

    def record_audit(self, entry: AuditEntry) -> None:
        """Append an entry; inside an `atomic` unit it commits with the write it records."""

    def list_audit(
        self, *, key_id: str | None = None, since_us: int | None = None,
        until_us: int | None = None, before_seq: int | None = None, limit: int = 100,
    ) -> list[AuditEntry]:
        """Entries newest first, filtered; `before_seq` pages backwards."""


class WebhookStore(Protocol):
    """Webhook subscriptions."""

    def add_webhook(self, hook: Webhook) -> None: ...
    def list_webhooks(self) -> list[Webhook]: ...
    def get_webhook(self, webhook_id: str) -> Webhook | None: ...
    def delete_webhook(self, webhook_id: str) -> bool:
        """Delete a webhook with its deliveries; False if unknown."""


class DeliveryOutbox(Protocol):
    """The outbox of webhook deliveries."""

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


class IncidentStore(Protocol):
    def create_incident(self, incident: Incident) -> None:
        """Insert an incident; raise `AlreadyExists` if the id is taken."""

    def get_incident(self, incident_id: str) -> Incident | None: ...

    def list_incidents(self, *, limit: int = 100, after: str | None = None) -> list[Incident]:
        """Incidents ordered by id, starting after the id `after`."""

    def replace_incident(self, incident: Incident) -> bool:
        """Overwrite a stored incident (closing it, adding a survey); False if unknown."""

    def company_locations(self, ids: Sequence[str] | None = None) -> CompanyLocations:
        """Where the companies `ids` are (None: every company); unknown ids are left out."""

    def request_creation(self, request_ids: Sequence[str]) -> dict[str, int]:
        """The revision each request was created at (its creation order; 0 when the store
        predates the change log); unknown ids are left out."""


class CascadeStore(
    AdminStore,
    GraphStore,
    RequestStore,
    LedgerStore,
    ChangeLog,
    CausalReads,
    UnitOfWork,
    BulkLoad,
    IdempotencyStore,
    ApiKeyStore,
    AuditTrail,
    WebhookStore,
    DeliveryOutbox,
    IncidentStore,
    Protocol,
):
    """Every role port: what an adapter implements and the composition root holds."""
