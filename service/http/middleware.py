"""Middleware that knows nothing of the domains: the body size limit, security headers,
HEAD answered as GET."""

from __future__ import annotations

from collections import deque

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.http.errors import problem_response

__all__ = ["API_POLICY", "SAFE_METHODS", "HeadAsGet", "LimitBodySize", "SecurityHeaders"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
API_POLICY = "default-src 'none'; frame-ancestors 'none'"


class LimitBodySize:
    """413 for a body over `max_bytes`, by its Content-Length or, sent without one
    (chunked), once that much has come in: such a body is read up to the limit before the
    app runs, then replayed to it, so the app never meets a body cut short."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit():  # the server holds the body to it
            if int(declared) > self.max_bytes:
                await self._refuse(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        messages = await self._read_up_to_limit(receive)
        if messages is None:
            await self._refuse(scope, receive, send)
            return
        await self.app(scope, _replaying(messages, receive), send)

    async def _read_up_to_limit(self, receive: Receive) -> list[Message] | None:
        """The body's messages to its end (or a disconnect); None past `max_bytes`."""
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                return None
            if not message.get("more_body", False):
                return messages

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            413,
            "body-too-large",
            "Request body too large",
            f"the body may be at most {self.max_bytes} bytes",
            [{"field": "body", "message": "too large"}],
        )
        await response(scope, receive, send)


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    """`receive` that first hands out `messages` again, then waits on the real one (a
    disconnect, say)."""
    pending = deque(messages)

    async def replayed() -> Message:
        return pending.popleft() if pending else await receive()

    return replayed


class SecurityHeaders:
    """`X-Content-Type-Options: nosniff` on every answer, and on the API's answers (all
    but HTML, which the pages and /docs serve with a policy of their own) a Content-
    Security-Policy that allows nothing, so no answer can be framed or run as a page. A
    policy a route set itself is kept."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                page = headers.get("content-type", "").startswith("text/html")
                if not page and "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = API_POLICY
            await send(message)

        await self.app(scope, receive, with_headers)


class HeadAsGet:
    """HEAD is answered wherever GET is: the GET runs (same rules, same headers, same
    Content-Length) and its body is dropped."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)
