"""Append-only event columns that successive ledgers share without copying.

A request ledger is immutable to its readers, yet each write gives a new ledger with a few
more events. Concatenating every column on every write copies all events each time: O(n)
per write, and freed buffers that grow by a few bytes each time, which the C allocator
can rarely reuse (the server's memory grows as fragmentation). Here a ledger holds a
read-only view of the first `size` values of a buffer with spare capacity; the ledger that
holds the last value appends in place (amortised O(new values)), any other copies its
prefix first, so the values a view shows never change.
"""

from __future__ import annotations

import threading

import numpy as np

__all__ = ["Column"]

SPARE = 0.25  # capacity added when a buffer fills, as a share of its values
MIN_CAPACITY = 64


class Column:
    """One buffer of an append-only column, shared by the views taken of it.

    Examples
    --------
    >>> first = Column.of(np.array([1, 2], dtype=np.int64))
    >>> grown, a = first.extended(2, np.array([3]))  # a new buffer with spare capacity
    >>> same, b = grown.extended(3, np.array([4]))  # in place: no copy of 1, 2, 3
    >>> other, c = grown.extended(3, np.array([9]))  # from the same prefix again: a copy
    >>> a.tolist(), b.tolist(), c.tolist(), same is grown, other is grown
    ([1, 2, 3], [1, 2, 3, 4], [1, 2, 3, 9], True, False)
    >>> b.flags.writeable
    False
    """

    __slots__ = ("data", "filled", "lock")

    def __init__(self, data: np.ndarray, filled: int) -> None:
        self.data, self.filled = data, filled
        self.lock = threading.Lock()  # two writers extending the same prefix: one copies

    @classmethod
    def of(cls, values: np.ndarray) -> Column:
        """A column holding exactly `values` (no spare capacity until it is extended)."""
        return cls(np.array(values), values.size)

    def prefix(self, size: int) -> np.ndarray:
        """The first `size` values, read-only (they never change)."""
        view = self.data[:size]
        view.flags.writeable = False
        return view

    def extended(self, size: int, values: np.ndarray) -> tuple[Column, np.ndarray]:
        """(column, view) of the first `size` values followed by `values`: in place when
        nothing was appended after `size` yet and capacity lasts, else in a new buffer."""
        end = size + values.size
        with self.lock:
            if self.filled == size and end <= self.data.size:
                self.data[size:end] = values
                self.filled = end
                return self, self.prefix(end)
        capacity = max(end + int(end * SPARE), MIN_CAPACITY)
        data = np.empty(capacity, dtype=self.data.dtype)
        data[:size] = self.data[:size]
        data[size:end] = values
        grown = Column(data, end)
        return grown, grown.prefix(end)
