"""Requests, cascade events and answers on SQLite: a part of `SqliteStore` (see
`ports.RequestStore` and `ports.LedgerStore`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from graph_models.models import Acknowledgement, CascadeEvent, PolicyRequest, utc_now
from service.store.errors import AlreadyExists
from service.store.planning import earliest_sent, plan_answers, plan_writes
from service.store.records import WriteOutcome
from service.store.sqlite import codecs
from service.store.sqlite import statements as sql
from service.store.sqlite.connection import (
    Transactions,
    exists,
    matching,
    next_revision,
    where,
)

__all__ = ["SqliteLedger"]


class SqliteLedger:
    """The port's request, cascade-event and answer methods."""

    def create_request(self: Transactions, request: PolicyRequest) -> None:
        with self._write() as conn:
            if exists(conn, "requests", "id", request.id):
                raise AlreadyExists(f"request {request.id!r} already exists")
            row = (*codecs.request_row(request), next_revision(conn))
            conn.execute(sql.INSERT_REQUEST, row)
            conn.execute(sql.BUMP_REVISION)

    def get_request(self: Transactions, request_id: str) -> PolicyRequest | None:
        rows = self._select(f"{sql.SELECT_REQUESTS} WHERE id = ?", (request_id,))
        return codecs.request_from_row(rows[0]) if rows else None

    def list_requests(self: Transactions) -> list[PolicyRequest]:
        """Every request, ordered by id."""
        rows = self._select(f"{sql.SELECT_REQUESTS} ORDER BY id")
        return [codecs.request_from_row(row) for row in rows]

    def add_cascades(self: Transactions, events: Sequence[CascadeEvent]) -> list[WriteOutcome]:
        keyed = [(event.key, event) for event in events]
        with self._write() as conn:
            key_columns = "request_id, from_id, to_id"
            found = matching(conn, "cascades", key_columns, list(dict.fromkeys(
                key for key, _ in keyed)), sql.CASCADE_COLUMNS)
            stored = {event.key: event for event in map(codecs.cascade_from_row, found)}
            outcomes, fresh = plan_writes(stored, keyed, keep=earliest_sent)
            if fresh:
                revision = next_revision(conn)
                rows = sorted(codecs.cascade_row(event) for event in fresh.values())
                conn.executemany(sql.UPSERT_CASCADE, [(*row, revision) for row in rows])
                conn.execute(sql.BUMP_REVISION)
        return outcomes

    def list_cascades(
        self: Transactions,
        *,
        request_id: str | None = None,
        from_id: str | None = None,
        to_id: str | None = None,
        limit: int = 1000,
    ) -> list[CascadeEvent]:
        """Cascade events in sending order (ties by request, from, to)."""
        clause, params = where(
            {"request_id = ?": request_id, "from_id = ?": from_id, "to_id = ?": to_id}
        )
        order = sql.CASCADES_IN_SENDING_ORDER
        query = f"{sql.SELECT_CASCADES}{clause} ORDER BY {order} LIMIT ?"
        return [codecs.cascade_from_row(row) for row in self._select(query, [*params, limit])]

    def add_acknowledgements(
        self: Transactions, acks: Sequence[Acknowledgement]
    ) -> list[tuple[WriteOutcome, Acknowledgement]]:
        recorded_at = utc_now()
        keys = list(dict.fromkeys(codecs.ack_row(ack, recorded_at)[:4] for ack in acks))
        with self._write() as conn:
            found = matching(conn, "acknowledgements", sql.ACK_IDENTITY, keys, sql.ACK_COLUMNS)
            stored = [codecs.ack_from_row(row) for row in found]
            last_seq = int(conn.execute(sql.LAST_ACK_SEQ).fetchone()[0])
            plan = plan_answers(acks, {ack.identity: ack for ack in stored},
                                last_seq=last_seq, recorded_at=recorded_at)
            if plan.fresh:
                revision = next_revision(conn)
                conn.executemany(sql.INSERT_ACK, [
                    (*codecs.ack_row(ack, recorded_at), ack.seq, revision) for ack in plan.fresh
                ])
                conn.execute(sql.BUMP_REVISION)
        return plan.results

    def list_acknowledgements(
        self: Transactions,
        *,
        request_id: str | None = None,
        company_id: str | None = None,
        limit: int = 1000,
        before: tuple[datetime, int] | None = None,
    ) -> list[Acknowledgement]:
        after = None if before is None else (codecs.to_text(before[0]),) * 2 + (before[1],)
        clause, params = where({"request_id = ?": request_id, "company_id = ?": company_id,
                                sql.ACKS_AFTER: after})
        query = f"{sql.SELECT_ACKS}{clause} ORDER BY {sql.ACKS_NEWEST_FIRST} LIMIT ?"
        return [codecs.ack_from_row(row) for row in self._select(query, [*params, limit])]
