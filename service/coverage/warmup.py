"""A worker reads its snapshot before it says it is ready: the cold read (seconds at a
million links) happens at start, not in the first user's request."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from service.coverage.dashboard import GapCountsDashboard
from service.store.port import StoreUnavailable

__all__ = ["Warmup"]

logger = logging.getLogger(__name__)


class Warmup:
    """Loads every request's snapshot and gap counts in a thread; `ready` once done.

    A store that does not answer yet is tried again every `retry_s` until it does or the
    app stops."""

    def __init__(self, dashboard: GapCountsDashboard, *, retry_s: float = 1.0,
                 then: Callable[[], object] | None = None) -> None:
        self.dashboard = dashboard
        self.then = then  # more warming once ready (e.g. open incidents' exposure)
        self.retry_s = retry_s
        self._done = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def ready(self) -> bool:
        return self._done.is_set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="snapshot-warmup", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def wait(self, timeout_s: float | None = None) -> bool:
        return self._done.wait(timeout_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.dashboard.body()
            except StoreUnavailable as exc:
                logger.warning("snapshot warm-up waits for the store: %s", exc)
                self._stop.wait(self.retry_s)
                continue
            self._done.set()
            self._then()
            return

    def _then(self) -> None:
        if self.then is None:
            return
        try:
            self.then()
        except Exception:  # a warm-up that fails only means a slower first answer
            logger.exception("warm-up after readiness failed")
