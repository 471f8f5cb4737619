"""Writes through this worker are seen by its next read at once."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from service.composition.deps import services_in
from service.http.middleware import SAFE_METHODS

__all__ = ["WritesMarkTheSnapshotDirty"]


class WritesMarkTheSnapshotDirty:
    """A poll right after this worker's own write must not get the cached answer: every
    write request marks the coverage snapshot dirty (plain ASGI, nothing on reads)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        coverage = services_in(scope).dashboard
        coverage.mark_dirty()
        try:
            await self.app(scope, receive, send)
        finally:
            coverage.mark_dirty()
