"""Requests, cascade events and answers on Neo4j: a part of `Neo4jStore` (see
`ports.RequestStore` and `ports.LedgerStore`), with its transaction functions. Cypher:
`queries.ledger`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from neo4j import ManagedTransaction

from graph_models.models import (
    Acknowledgement,
    CascadeEvent,
    PolicyRequest,
    from_epoch_us,
    utc_now,
)
from service.store.errors import AlreadyExists
from service.store.neo4j import queries as cypher
from service.store.neo4j.codecs import (
    ACK_BATCH,
    ack_columns,
    ack_from,
    ack_identity,
    cascade_from,
    cascade_key,
    cascade_row,
    chunks,
    request_from,
    request_row,
    stored_ack,
)
from service.store.neo4j.tx import (
    Transactions,
    bump_revision,
    fetch,
    lock_next_revision,
    put_and_bump,
    read_records,
)
from service.store.planning import earliest_sent, plan_answers, plan_writes
from service.store.records import WriteOutcome

__all__ = ["Neo4jLedger"]


def create_request_tx(tx: ManagedTransaction, request: PolicyRequest) -> None:
    revision = lock_next_revision(tx)
    if tx.run(cypher.GET_REQUEST, id=request.id).single() is not None:
        raise AlreadyExists(f"request {request.id!r} already exists")
    tx.run(cypher.CREATE_REQUEST, row=request_row(request), revision=revision).consume()
    bump_revision(tx)


def add_cascades_tx(tx: ManagedTransaction, events: Sequence[CascadeEvent]) -> list[WriteOutcome]:
    revision = lock_next_revision(tx)
    keyed = [(cascade_key(event), event) for event in events]
    keys = list(dict.fromkeys(key for key, _ in keyed))
    sent = {r["key"]: r["sent_at"] for r in fetch(tx, cypher.STORED_CASCADES, "keys", keys)}
    held = {key: event.model_copy(update={"sent_at": from_epoch_us(sent[key])})
            for key, event in keyed if key in sent}
    outcomes, fresh = plan_writes(held, keyed, keep=earliest_sent)
    if fresh:
        new: list[dict[str, Any]] = []
        earlier: list[dict[str, Any]] = []
        for key, event in fresh.items():
            (earlier if key in held else new).append(cascade_row(key, event))
        put_and_bump(tx, [(cypher.ANTEDATE_CASCADES, earlier), (cypher.ADD_CASCADES, new)],
                     revision=revision)
    return outcomes


def add_acks_tx(
    tx: ManagedTransaction, acks: Sequence[Acknowledgement]
) -> list[tuple[WriteOutcome, Acknowledgement]]:
    identities = [ack_identity(ack) for ack in acks]
    locked, stored = locked_acks(tx, acks, identities)
    plan = plan_answers(acks, {ack.identity: ack for ack in stored.values()},
                        last_seq=int(locked["ack_seq"] or 0), recorded_at=utc_now())
    if plan.fresh:
        revision = int(locked["value"]) + 1
        fresh = list(chunks([(ack_identity(ack), ack) for ack in plan.fresh], ACK_BATCH))
        for number, chunk in enumerate(fresh, start=1):
            if number < len(fresh):
                tx.run(cypher.ADD_ACKNOWLEDGEMENTS, ack_columns(chunk), revision=revision
                       ).consume()
            else:  # the last one also advances the revision and records the last seq
                tx.run(cypher.bumping(cypher.ADD_ACKNOWLEDGEMENTS), ack_columns(chunk),
                       revision=revision, last_seq=plan.last_seq, last_key=None).consume()
    return plan.results


def locked_acks(
    tx: ManagedTransaction, acks: Sequence[Acknowledgement], identities: Sequence[str]
) -> tuple[Any, dict[str, Acknowledgement]]:
    """Take the write lock (its record: revision, last seq) and read the stored answers
    among `acks`, the first ACK_BATCH in the same round trip."""
    first, *rest = chunks(list(dict.fromkeys(identities)), ACK_BATCH)
    locked = tx.run(cypher.LOCKED_ACKS_WITH_IDENTITY, keys=list(first)).single(strict=True)
    records = [locked, *(tx.run(cypher.ACKS_WITH_IDENTITY, keys=list(chunk)).single(strict=True)
                         for chunk in rest)]
    return locked, stored_acks(acks, identities, records)


def stored_acks(
    acks: Sequence[Acknowledgement], identities: Sequence[str], records: Sequence[Any]
) -> dict[str, Acknowledgement]:
    """The stored answers among `acks`, by identity, from ACKS_WITH_IDENTITY `records`:
    what the store holds beyond the identity (seq, evidence, poster, recording time) on
    top of the asked answer."""
    asked = dict(zip(identities, acks, strict=True))
    return {identity: stored_ack(asked[identity], *fields)
            for record in records for identity, *fields in record["rows"]}


class Neo4jLedger:
    """The port's request, cascade-event and answer methods."""

    # -- requests -----------------------------------------------------------------------

    def create_request(self: Transactions, request: PolicyRequest) -> None:
        self._write(create_request_tx, request)

    def get_request(self: Transactions, request_id: str) -> PolicyRequest | None:
        records = self._read(read_records, cypher.GET_REQUEST, {"id": request_id})
        return request_from(records[0]) if records else None

    def list_requests(self: Transactions) -> list[PolicyRequest]:
        """Every request, ordered by id."""
        return [request_from(r) for r in self._read(read_records, cypher.LIST_REQUESTS, {})]

    # -- events -------------------------------------------------------------------------

    def add_cascades(self: Transactions, events: Sequence[CascadeEvent]) -> list[WriteOutcome]:
        return self._write(add_cascades_tx, events) if events else []

    def list_cascades(
        self: Transactions,
        *,
        request_id: str | None = None,
        from_id: str | None = None,
        to_id: str | None = None,
        limit: int = 1000,
    ) -> list[CascadeEvent]:
        """Cascade events in the order they were sent (then by request, from, to)."""
        if request_id is not None:
            query = cypher.LIST_CASCADES_OF_REQUEST
        elif from_id is not None:
            query = cypher.LIST_CASCADES_FROM
        elif to_id is not None:
            query = cypher.LIST_CASCADES_TO
        else:
            query = cypher.LIST_CASCADES
        params = {"request_id": request_id, "from_id": from_id, "to_id": to_id, "limit": limit}
        return [cascade_from(r) for r in self._read(read_records, query, params)]

    def add_acknowledgements(
        self: Transactions, acks: Sequence[Acknowledgement]
    ) -> list[tuple[WriteOutcome, Acknowledgement]]:
        return self._write(add_acks_tx, acks) if acks else []

    def list_acknowledgements(
        self: Transactions,
        *,
        request_id: str | None = None,
        company_id: str | None = None,
        limit: int = 1000,
        before: tuple[datetime, int] | None = None,
    ) -> list[Acknowledgement]:
        """History, newest first (by `at`, then by recording order), after `before`."""
        if request_id is not None:
            query = cypher.LIST_ACKS_OF_REQUEST
        elif company_id is not None:
            query = cypher.LIST_ACKS_OF_COMPANY
        else:
            query = cypher.LIST_ACKS
        before_at, before_seq = before or (None, None)
        params = {"request_id": request_id, "company_id": company_id, "limit": limit,
                  "before_at": before_at, "before_seq": before_seq}
        return [ack_from(r) for r in self._read(read_records, query, params)]
