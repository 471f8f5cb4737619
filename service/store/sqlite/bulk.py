"""A whole network into an empty SQLite store: a part of `SqliteStore` (see
`ports.BulkLoad`). One writer at a time is all SQLite has, so the load is the port's
batched writes in one transaction: nothing of a load that fails stays."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from graph_models.models import PolicyRequest
from service.store.errors import NotEmpty
from service.store.planning import chunks
from service.store.ports import GraphStore, LedgerStore, RequestStore
from service.store.records import NetworkRows
from service.store.sqlite.connection import Transactions

__all__ = ["SqliteBulkLoad"]

BATCH = 1000  # rows per port call
_T = TypeVar("_T")

HOLDS_DATA = ("SELECT EXISTS (SELECT 1 FROM companies) OR EXISTS (SELECT 1 FROM requests)"
              " OR EXISTS (SELECT 1 FROM cascades) OR EXISTS (SELECT 1 FROM acknowledgements)")


class _Writer(Transactions, GraphStore, RequestStore, LedgerStore, Protocol):
    def atomic(self, work: Callable[[], _T]) -> _T: ...


class SqliteBulkLoad:
    """The port's `load_new`."""

    def load_new(self: _Writer, network: NetworkRows, *,
                 progress: Callable[[int], None] | None = None) -> None:
        tick = progress or (lambda _: None)

        def create_requests(requests: Sequence[PolicyRequest]) -> None:
            for request in requests:
                self.create_request(request)

        writes: list[tuple[Callable[[Any], object], Sequence[Any]]] = [
            (self.upsert_companies, network.companies), (self.add_links, network.links),
            (create_requests, network.requests), (self.add_cascades, network.cascades),
            (self.add_acknowledgements, network.acknowledgements)]

        def work() -> None:
            with self._write() as conn:  # joins the unit: checked under its write lock
                if conn.execute(HOLDS_DATA).fetchone()[0]:
                    raise NotEmpty("a bulk load needs an empty store; this one holds "
                                   "companies, requests, cascade events or answers")
            for write, rows in writes:
                for chunk in chunks(rows, BATCH):
                    write(chunk)
                    tick(len(chunk))

        self.atomic(work)

