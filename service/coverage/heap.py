"""Room in the C heap while a snapshot is built (glibc only; elsewhere a no-op).

glibc hands every freed block above its mmap threshold (at most 32 MB) back to the
kernel, and the next such array is faulted in again page by page. A snapshot of ten
million links builds hundreds of temporary arrays of 40 to 80 MB each, so without room
the cold read spends seconds in page faults (docs/benchmarks.md, "Ten million links").
While `roomy_heap` is open the allocator keeps `PAD_BYTES` of freed memory at the top of
its heap for the next array; on leaving, the pad returns to glibc's default and the
free memory is handed back (`malloc_trim`), so a worker's resident memory after the build
is what its snapshot holds. The first build also fixes glibc's mmap and trim thresholds
at 32 and 64 MB, where its own sliding ones end: setting the pad stops the slide, which
would leave every later array above 128 KiB mapped and faulted in afresh.
"""

from __future__ import annotations

import ctypes
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["PAD_BYTES", "roomy_heap"]

PAD_BYTES = 512 * 2**20
# mallopt's parameter numbers (malloc.h), and glibc's values
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
_DEFAULT_TOP_PAD = 128 * 2**10
_MMAP_THRESHOLD = 32 * 2**20  # the most glibc's own sliding threshold reaches


def _glibc() -> Any | None:
    """The process's C library, if it is glibc (the one whose allocator this tunes)."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None)
    wanted = ("gnu_get_libc_version", "mallopt", "malloc_trim")
    return libc if all(hasattr(libc, name) for name in wanted) else None


_LIBC = _glibc()
_lock = threading.Lock()
_open = 0  # builds in progress (the pad is process-wide)
_fixed = False  # thresholds set (once set, glibc no longer slides them)


@contextmanager
def roomy_heap() -> Iterator[None]:
    """Keep `PAD_BYTES` of freed memory for reuse until the last open build ends."""
    global _open, _fixed
    if _LIBC is None:
        yield
        return
    with _lock:
        if not _fixed:
            # Setting the pad stops glibc sliding its mmap threshold up as large blocks
            # are freed; fix it where the slide ends, or every later array above the
            # starting 128 KiB would be mapped and faulted in afresh.
            _LIBC.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
            _LIBC.mallopt(_M_TRIM_THRESHOLD, 2 * _MMAP_THRESHOLD)
            _fixed = True
        _open += 1
        if _open == 1:
            _LIBC.mallopt(_M_TOP_PAD, PAD_BYTES)
    try:
        yield
    finally:
        with _lock:
            _open -= 1
            if _open == 0:
                _LIBC.mallopt(_M_TOP_PAD, _DEFAULT_TOP_PAD)
                _LIBC.malloc_trim(0)
