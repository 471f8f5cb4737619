"""What the Neo4j store's transaction functions share: the revision lock every writer
takes first (so writers are serialised and know the revision they commit as), batched
`UNWIND` writes and chunked reads, and the `Transactions` the store's parts run them in.
Each transaction function is idempotent (the driver retries it on transient errors) and
consumes its results."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

from neo4j import ManagedTransaction, Record, Result, Session, Transaction

from service.store.neo4j import queries as cypher
from service.store.neo4j.codecs import chunks

__all__ = ["ReadTransaction", "Transactions", "bump_revision", "fetch", "lock_next_revision",
           "lock_revision", "pipelined", "put", "put_and_bump", "read_records", "read_revision",
           "row_dicts"]

# The cold read uses both transaction kinds (`snapshot`); a single-query read may run as
# an auto-commit transaction of a session (`Neo4jStore._read_once`).
ReadTransaction = ManagedTransaction | Transaction | Session
_T = TypeVar("_T")


def lock_revision(tx: ManagedTransaction) -> Any:
    return tx.run(cypher.LOCK_REVISION).single(strict=True)


def lock_next_revision(tx: ManagedTransaction) -> int:
    """Take the write lock; the revision this transaction commits as if it changes data."""
    return int(lock_revision(tx)["value"]) + 1


def bump_revision(tx: ManagedTransaction) -> None:
    tx.run(cypher.BUMP_REVISION).consume()


def fetch(tx: ManagedTransaction, query: str, name: str, keys: Sequence[Any]) -> list[Any]:
    """Records of `query` for `keys`, passed as `$name` ~1,000 at a time."""
    return [record for chunk in chunks(keys) for record in tx.run(query, {name: list(chunk)})]


def put(
    tx: ManagedTransaction, query: str, rows: Sequence[dict[str, Any]], **params: Any
) -> int:
    """Run the `UNWIND $rows` write `query` ~1,000 rows at a time (with `params`); sum its
    `written`."""
    written = 0
    for chunk in chunks(rows):
        record = tx.run(query, params, rows=list(chunk)).single()
        written += int(record["written"]) if record is not None else 0
    return written


def put_and_bump(
    tx: ManagedTransaction, writes: Sequence[tuple[str, Sequence[dict[str, Any]]]], *,
    revision: int, last_key: int | None = None, last_seq: int | None = None,
) -> int:
    """Run each `(query, rows)` of `writes` as `put` does, stamped `revision`, then advance
    the store revision (and record `last_key` / `last_seq` where given) with the last
    chunk, in its round trip; sum their `written`. Only for a transaction that changes
    data: `writes` holds at least one row."""
    chunked = [(query, list(chunk)) for query, rows in writes for chunk in chunks(rows)]
    written = 0
    for number, (query, chunk) in enumerate(chunked, start=1):
        if number < len(chunked):
            record = tx.run(query, revision=revision, rows=chunk).single(strict=True)
        else:
            record = tx.run(cypher.bumping(query), revision=revision, rows=chunk,
                            last_key=last_key, last_seq=last_seq).single(strict=True)
        written += int(record["written"])
    return written


def read_revision(tx: ReadTransaction) -> int:
    record = tx.run(cypher.READ_REVISION).single()
    return 0 if record is None else int(record["value"])


def read_records(tx: ManagedTransaction, query: str, params: dict[str, Any]) -> list[Any]:
    """Every record of the read `query`."""
    return list(tx.run(query, params))


def row_dicts(tx: ManagedTransaction, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every record of `query` as a dict (read or write; results consumed)."""
    return [record.data() for record in tx.run(query, params)]


class Transactions(Protocol):
    """What the store mixins need of `Neo4jStore`: its transaction runners."""

    def _write(self, work: Callable[..., _T], *args: Any) -> _T: ...
    def _read(self, work: Callable[..., _T], *args: Any) -> _T: ...
    def _read_once(self, work: Callable[..., _T], *args: Any) -> _T: ...


def pipelined(tx: ReadTransaction, runs: Sequence[tuple[str, dict[str, Any]]]
              ) -> Iterator[Record]:
    """The one record of each query, in order, each handed over once the next query is
    sent: the server reads the next page while the caller converts this one."""
    pending: Result | None = None
    for query, parameters in runs:
        result = tx.run(query, parameters)  # returns once the previous record is in
        if pending is not None:
            yield pending.single(strict=True)
        pending = result
    if pending is not None:
        yield pending.single(strict=True)
