"""Schema versions, the same way on both stores: a database records the number of the last
migration step it ran (a row in SQLite, a node in Neo4j), and `init_schema` runs the steps
after it, in order. Each step is idempotent (it checks what is there before it adds), so
two workers starting at once, or a step interrupted before its number was recorded, only
redo what is missing. Read paths never migrate: a database is upgraded at start or by
`cascade init-schema`, nowhere else.

Examples
--------
>>> steps = (Step(1, "tables", print), Step(2, "change log", print))
>>> [step.name for step in pending(steps, 1)]
['change log']
>>> pending(steps, 2)
[]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["Step", "pending"]

_C = TypeVar("_C")


@dataclass(frozen=True)
class Step(Generic[_C]):
    """Migration step `number`: what `run` does to a database reached through a `_C`
    (a connection, a store)."""

    number: int
    name: str
    run: Callable[[_C], None]


def pending(steps: Sequence[Step[_C]], version: int, *, until: int | None = None
            ) -> list[Step[_C]]:
    """The steps after `version` (up to `until`, if given), in order; the steps must be
    numbered 1, 2, ... without a gap."""
    if [step.number for step in steps] != list(range(1, len(steps) + 1)):
        raise ValueError("migration steps must be numbered 1, 2, ... in order")
    last = len(steps) if until is None else until
    return [step for step in steps if version < step.number <= last]
