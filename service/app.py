"""The composition root: `create_app` builds the store in the lifespan and wires routers."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph_models.models import to_epoch_us, utc_now
from service.api import (
    access,
    batches,
    companies,
    coverage,
    events,
    exports,
    health,
    imports,
    links,
    requests,
    webhooks,
)
from service.api.deps import ERRORS_ACCESS
from service.auth import KeyRing, RateLimiter, authorize
from service.coverage import CoverageService
from service.errors import install_problem_handlers, problem_response
from service.metrics import HttpMetrics, Metrics
from service.settings import Settings
from service.store import build_store
from service.store.port import AuditEntry, CascadeStore, CommitOutcomeUnknown, StoreUnavailable
from service.webhooks import Dispatcher

__all__ = ["create_app"]

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

DESCRIPTION = (
    "Tracks how far each policy request (business continuity, responsible minerals, REACH, "
    "climate, construction safety, modern slavery, CSR guideline) travelled up a supply "
    "chain, who acknowledged it, and where the chain breaks."
)


def create_app(settings: Settings | None = None, store: CascadeStore | None = None) -> FastAPI:
    """Build the app; the store is created (or the given one adopted) at startup."""
    settings = settings or Settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = store is None
        active = store if store is not None else build_store(settings)
        if owned:
            active.init_schema()
        if settings.demo:
            from loaders.demo import load_demo_if_empty

            load_demo_if_empty(active)
        app.state.settings = settings
        app.state.store = active
        app.state.keys = KeyRing(active, ttl=settings.auth_cache_s)
        app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute)
        app.state.coverage = CoverageService(active)
        collector = metrics.watch_coverage(app.state.coverage, active)
        if settings.revision_watch_ms > 0:
            app.state.coverage.watch(settings.revision_watch_ms / 1000)
        dispatcher = Dispatcher(active, app.state.coverage, poll_s=settings.webhook_poll_s,
                                retry_base_s=settings.webhook_retry_base_s,
                                max_attempts=settings.webhook_max_attempts,
                                timeout_s=settings.webhook_timeout_s)
        dispatcher.start()
        app.state.webhooks = dispatcher
        try:
            yield
        finally:
            dispatcher.stop()
            app.state.coverage.stop_watch()
            metrics.registry.unregister(collector)
            if owned:
                active.close()

    app = FastAPI(
        title="Supply-chain cascade service",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(authorize)],
    )
    install_problem_handlers(app)

    app.add_middleware(WritesMarkTheSnapshotDirty)
    app.add_middleware(AuditWrites)
    app.add_middleware(LimitBodySize, max_bytes=settings.max_body_bytes)
    app.add_middleware(HttpMetrics, metrics=metrics)
    app.state.metrics = metrics

    app.add_exception_handler(StoreUnavailable, _on_store_unavailable)
    # batches first: /v1/companies/batch must not be taken for a company id
    # exports before coverage: /v1/requests/{id}/gaps.csv is a file, not a gaps page
    app.include_router(health.router)
    for module in (batches, imports, companies, links, requests, events, exports, coverage,
                   access, webhooks):
        app.include_router(module.router, responses=ERRORS_ACCESS)
    return app


class WritesMarkTheSnapshotDirty:
    """A poll right after this worker's own write must not get the cached answer: every
    write request marks the coverage snapshot dirty (plain ASGI, nothing on reads)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        coverage = scope["app"].state.coverage
        coverage.mark_dirty()
        try:
            await self.app(scope, receive, send)
        finally:
            coverage.mark_dirty()


class AuditWrites:
    """Every write an API key makes is recorded: key id, when, method, path, status
    (refused ones too: an audit trail shows attempts). Plain ASGI, nothing on reads."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        status = 500

        async def remember_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, remember_status)
        finally:
            principal = scope.get("state", {}).get("principal")
            if principal is not None:
                entry = AuditEntry(
                    at_us=to_epoch_us(utc_now()),
                    key_id=principal.key_id,
                    method=scope["method"],
                    path=scope["path"],
                    status=status,
                )
                try:
                    await run_in_threadpool(scope["app"].state.store.record_audit, entry)
                except StoreUnavailable:  # the answer is already sent: logged, not raised
                    logger.warning("audit entry lost, store unavailable: %s", entry)


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


async def _on_store_unavailable(_: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, CommitOutcomeUnknown):  # the database may well be up: retry soon
        response = problem_response(503, "commit-outcome-unknown", "Write outcome unknown",
                                    str(exc))
        response.headers["Retry-After"] = "1"
        return response
    response = problem_response(503, "store-unavailable", "Store unavailable", str(exc))
    response.headers["Retry-After"] = "5"
    return response
