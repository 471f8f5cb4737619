"""The errors a store raises on purpose; the HTTP layer maps them to problem responses
(`StoreUnavailable` to a 503 with Retry-After, `AlreadyExists` and `InUse` to 409s by the
service functions that catch them)."""

from __future__ import annotations

__all__ = [
    "AlreadyExists",
    "ClaimLost",
    "CommitOutcomeUnknown",
    "InUse",
    "InvalidBookmark",
    "NotEmpty",
    "StoreError",
    "StoreMissing",
    "StoreUnavailable",
    "TransactionTooLarge",
]


class StoreError(Exception):
    """Base of the errors a store raises on purpose."""


class AlreadyExists(StoreError):
    """A create hit an id that is taken."""


class InUse(StoreError):
    """A delete was refused because other records reference the object."""


class NotEmpty(StoreError):
    """A whole-network load (`BulkLoad.load_new`) found the store holding data; nothing
    was written."""


class InvalidBookmark(StoreError):
    """A bookmark handed to `CausalReads.catch_up` that the database does not accept."""


class StoreUnavailable(StoreError):
    """The database cannot be reached."""


class StoreMissing(StoreUnavailable):
    """The store named does not exist (a Neo4j database; a SQLite file is checked before
    it is opened): the message says how to create it, in one line."""


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
