"""Read-your-writes: a write through this worker is seen by its next read at once, and a
client that wrote through another replica sees its write here by sending back the
`Cascade-Bookmark` that write answered with (docs/scaling.md)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.composition.deps import services_in
from service.http.errors import problem_response, store_unavailable_response
from service.http.middleware import SAFE_METHODS
from service.store.port import InvalidBookmark, StoreUnavailable

__all__ = ["BOOKMARK_HEADER", "ReadYourWrites", "parse_bookmarks"]

BOOKMARK_HEADER = "Cascade-Bookmark"
_RAW_HEADER = BOOKMARK_HEADER.lower().encode()
MAX_BOOKMARKS = 16
MAX_BOOKMARK_CHARS = 256


def parse_bookmarks(raw: str) -> list[str]:
    """The comma-separated tokens of a `Cascade-Bookmark` header; ValueError saying what
    is wrong with it.

    >>> parse_bookmarks("FB:kcwQ46jm2BsZ, FB:kcwQ46jm2Bs")
    ['FB:kcwQ46jm2BsZ', 'FB:kcwQ46jm2Bs']
    """
    tokens = [token.strip() for token in raw.split(",")]
    if not 0 < len(tokens) <= MAX_BOOKMARKS:
        raise ValueError(f"at most {MAX_BOOKMARKS} comma-separated bookmarks")
    for token in tokens:
        if not (0 < len(token) <= MAX_BOOKMARK_CHARS and token.isascii()
                and token.isprintable() and " " not in token):
            raise ValueError(f"each bookmark is 1-{MAX_BOOKMARK_CHARS} printable ASCII "
                             "characters, as a write's Cascade-Bookmark header gave it")
    return tokens


class ReadYourWrites:
    """Plain ASGI, nothing but a header scan on a read without a bookmark:

    - every write marks the coverage snapshot dirty (so a poll right after it is not
      answered from the cache) and answers with this worker's `Cascade-Bookmark`, the
      store's bookmarks once the write committed;
    - a request carrying `Cascade-Bookmark` first waits until this worker's store reads
      see what the bookmark saw (`CausalReads.catch_up`), then runs on a dirty snapshot.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((value for name, value in scope["headers"] if name == _RAW_HEADER), None)
        if given is not None and (refused := await _catch_up(scope, given)) is not None:
            await refused(scope, receive, send)
            return
        if scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        services = services_in(scope)
        services.dashboard.mark_dirty()

        async def with_bookmark(message: Message) -> None:
            if message["type"] == "http.response.start":
                if bookmarks := services.store.bookmarks():
                    MutableHeaders(scope=message)[BOOKMARK_HEADER] = ",".join(bookmarks)
            await send(message)

        try:
            await self.app(scope, receive, with_bookmark)
        finally:
            services.dashboard.mark_dirty()


async def _catch_up(scope: Scope, given: bytes) -> Response | None:
    """Wait for the client's bookmarks; the problem response if they cannot be waited for."""
    services = services_in(scope)
    try:
        bookmarks = parse_bookmarks(given.decode("latin-1"))
        await run_in_threadpool(services.store.catch_up, bookmarks)
    except (ValueError, InvalidBookmark) as exc:
        return problem_response(
            422, "invalid-field", "Invalid field", f"{BOOKMARK_HEADER}: {exc}",
            [{"field": BOOKMARK_HEADER, "message": str(exc), "in": "header"}])
    except StoreUnavailable as exc:
        return store_unavailable_response(exc)
    services.dashboard.mark_dirty()
    return None
