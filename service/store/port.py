"""The store port: what the service needs from a system of record.

Coarse, atomic methods that take and return `graph_models` objects. Each write method runs
in one transaction: it either applies every item or none. Every call that changes data bumps
the store `revision` by one; calls that change nothing leave it alone, so a cache keyed by
revision stays valid across retried writes.

Callers validate references first (`existing_company_ids`, `existing_links`); adapters trust
that, except where a uniqueness rule decides (create of an existing id).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from graph_models.models import (
    Acknowledgement,
    CascadeEvent,
    Company,
    PolicyRequest,
    SupplyLink,
)

__all__ = [
    "AlreadyExists",
    "CascadeStore",
    "InUse",
    "Network",
    "RequestEvents",
    "StoreError",
    "StoreUnavailable",
    "WriteOutcome",
]


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


@dataclass(frozen=True)
class Network:
    """The whole supplier graph, as the coverage engine needs it."""

    kinds: dict[str, str]  # company id -> kind
    links: list[SupplyLink]
    revision: int = 0


@dataclass(frozen=True)
class RequestEvents:
    """Everything recorded for one request: cascade events and acknowledgement history."""

    cascades: list[CascadeEvent] = field(default_factory=list)
    acknowledgements: list[Acknowledgement] = field(default_factory=list)


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
    def load_network(self) -> Network: ...
    def request_events(self, request_id: str) -> RequestEvents: ...
