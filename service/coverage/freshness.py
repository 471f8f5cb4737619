"""Read-your-writes: a write through this worker is seen by its next read at once, and a
client that wrote through another replica sees its write here by sending back the
`Cascade-Bookmark` that write answered with (docs/scaling.md)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.composition.deps import services_in
from service.http.errors import problem_response, store_unavailable_response
from service.http.middleware import SAFE_METHODS
from service.http.openapi import PROBLEM
from service.store.port import InvalidBookmark, StoreUnavailable

__all__ = ["BOOKMARK_HEADER", "ReadYourWrites", "document_bookmarks", "parse_bookmarks"]

BOOKMARK_HEADER = "Cascade-Bookmark"
_RAW_HEADER = BOOKMARK_HEADER.lower().encode()
MAX_BOOKMARKS = 16
MAX_BOOKMARK_CHARS = 256
# printable ASCII but space and comma; the header is a comma-separated list of them
_TOKEN = rf"[!-+\--~]{{1,{MAX_BOOKMARK_CHARS}}}"
BOOKMARKS_PATTERN = rf"^ *{_TOKEN}(?: *, *{_TOKEN}){{0,{MAX_BOOKMARKS - 1}}} *$"
_BOOKMARKS = re.compile(BOOKMARKS_PATTERN)


def parse_bookmarks(raw: str) -> list[str]:
    """The comma-separated tokens of a `Cascade-Bookmark` header; ValueError saying what
    is wrong with it.

    >>> parse_bookmarks("FB:kcwQ46jm2BsZ, FB:kcwQ46jm2Bs")
    ['FB:kcwQ46jm2BsZ', 'FB:kcwQ46jm2Bs']
    """
    if not _BOOKMARKS.fullmatch(raw):
        raise ValueError(f"1-{MAX_BOOKMARKS} comma-separated bookmarks, each 1-"
                         f"{MAX_BOOKMARK_CHARS} printable ASCII characters, as a write's "
                         "Cascade-Bookmark header gave them")
    return [token.strip() for token in raw.split(",")]


def document_bookmarks(app: FastAPI) -> None:
    """Declare the header in the app's OpenAPI document: any operation may send it, and
    every write answers with it."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _declare(generate())
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def _declare(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {})
    described = {"description": (
        "Read-your-writes across replicas: the bookmarks a write answered with; the read "
        "waits until this replica's store has seen them (docs/scaling.md)"),
        "schema": {"type": "string", "pattern": BOOKMARKS_PATTERN}}
    components.setdefault("parameters", {})["CascadeBookmark"] = {
        "name": BOOKMARK_HEADER, "in": "header", "required": False, **described}
    components.setdefault("headers", {})["CascadeBookmark"] = {
        "description": "The store's bookmarks once this write committed: send them back "
                       "to another replica to read this write there",
        "schema": described["schema"]}
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            operation.setdefault("parameters", []).append(
                {"$ref": "#/components/parameters/CascadeBookmark"})
            operation.setdefault("responses", {}).setdefault(
                "422", {"description": "Invalid parameter (a malformed Cascade-Bookmark)",
                        **PROBLEM})
            if method.upper() in SAFE_METHODS:
                continue
            for status, response in operation.get("responses", {}).items():
                if status.startswith("2"):
                    response.setdefault("headers", {})[BOOKMARK_HEADER] = {
                        "$ref": "#/components/headers/CascadeBookmark"}


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
