"""The composition root: `create_app` builds the store in the lifespan and wires routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from service.api import batches, companies, coverage, events, health, links, requests
from service.coverage import CoverageService
from service.errors import install_problem_handlers, problem_response
from service.settings import Settings
from service.store import build_store
from service.store.port import CascadeStore, StoreUnavailable

__all__ = ["create_app"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

DESCRIPTION = (
    "Tracks how far each policy request (business continuity, responsible minerals, REACH, "
    "climate, construction safety, modern slavery, CSR guideline) travelled up a supply "
    "chain, who acknowledged it, and where the chain breaks."
)


def create_app(settings: Settings | None = None, store: CascadeStore | None = None) -> FastAPI:
    """Build the app; the store is created (or the given one adopted) at startup."""
    settings = settings or Settings()

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
        app.state.coverage = CoverageService(active)
        if settings.revision_watch_ms > 0:
            app.state.coverage.watch(settings.revision_watch_ms / 1000)
        try:
            yield
        finally:
            app.state.coverage.stop_watch()
            if owned:
                active.close()

    app = FastAPI(
        title="Supply-chain cascade service", version="1.0.0", description=DESCRIPTION,
        lifespan=lifespan,
    )
    install_problem_handlers(app)

    app.add_middleware(WritesMarkTheSnapshotDirty)

    app.add_exception_handler(StoreUnavailable, _on_store_unavailable)
    # batches first: /v1/companies/batch must not be taken for a company id
    for module in (health, batches, companies, links, requests, events, coverage):
        app.include_router(module.router)
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


async def _on_store_unavailable(_: Request, exc: Exception) -> JSONResponse:
    response = problem_response(503, "store-unavailable", "Store unavailable", str(exc))
    response.headers["Retry-After"] = "5"
    return response
