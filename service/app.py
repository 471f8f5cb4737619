"""The composition root: `create_app` builds the store and the services in the lifespan
and wires the domains' routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from service.access import routes as access
from service.access.audit import AuditWrites
from service.access.guard import AuthenticateFirst, authorize
from service.access.keys import KeyRing
from service.access.rate_limit import RateLimiter
from service.composition.container import Services
from service.config.settings import Settings
from service.coverage import routes as coverage
from service.coverage.dashboard import GapCountsDashboard
from service.coverage.freshness import ReadYourWrites, document_bookmarks
from service.coverage.snapshot import CoverageSnapshot
from service.coverage.warmup import Warmup
from service.http.errors import install_problem_handlers
from service.http.middleware import HeadAsGet, LimitBodySize, SecurityHeaders
from service.http.openapi import ERRORS_ACCESS
from service.incidents import routes as incidents
from service.incidents.atlas import IncidentAtlas
from service.ingest import routes as ingest
from service.integrations import health
from service.integrations import routes as integrations
from service.integrations.metrics import HttpMetrics, Metrics
from service.integrations.webhooks import Dispatcher
from service.ledger import routes as ledger
from service.minerals import routes as minerals
from service.registry import routes as registry
from service.store import build_store
from service.store.port import CascadeStore
from service.ui.routes import mount_ui

__all__ = ["create_app"]

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
        services = _services(settings, active, metrics)
        app.state.services = services
        collector = metrics.watch_coverage(services.dashboard, active)
        if settings.revision_watch_ms > 0:
            services.dashboard.watch(settings.revision_watch_ms / 1000)
        services.warmup.start()
        services.webhooks.start()
        try:
            yield
        finally:
            services.webhooks.stop()
            services.warmup.stop()
            services.dashboard.stop_watch()
            metrics.registry.unregister(collector)
            if owned:
                active.close()

    app = FastAPI(
        title="Supply-chain cascade service",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served offline by service.ui
        redoc_url=None,
        dependencies=[Depends(authorize)],
    )
    install_problem_handlers(app)
    document_bookmarks(app)
    # innermost first: a write is authenticated before its body is read, and the audit
    # trail sees the 401s; HEAD becomes GET before anything looks at the method
    app.add_middleware(ReadYourWrites)
    app.add_middleware(AuthenticateFirst)
    app.add_middleware(AuditWrites, refused_per_minute=settings.audit_refused_per_minute,
                       metrics=metrics)
    app.add_middleware(LimitBodySize, max_bytes=settings.max_body_bytes)
    app.add_middleware(HttpMetrics, metrics=metrics)
    app.add_middleware(HeadAsGet)
    app.add_middleware(SecurityHeaders)
    # batches first: /v1/companies/batch must not be taken for a company id
    # exports before coverage: /v1/requests/{id}/gaps.csv is a file, not a gaps page
    # the dashboards' poll first: a path is matched route by route, and a poll comes
    # thousands of times a second where a health probe comes every few seconds
    app.include_router(coverage.dashboard_router, responses=ERRORS_ACCESS)
    app.include_router(health.router)
    for router in (ledger.batches_router, ingest.router, registry.companies_router,
                   registry.links_router, registry.requests_router, ledger.events_router,
                   coverage.exports_router, coverage.router, minerals.router,
                   access.router, integrations.router, incidents.router):
        app.include_router(router, responses=ERRORS_ACCESS)
    mount_ui(app)
    return app


def _services(settings: Settings, store: CascadeStore, metrics: Metrics) -> Services:
    snapshot = CoverageSnapshot(store)
    dashboard = GapCountsDashboard(snapshot)
    atlas = IncidentAtlas(store, snapshot)
    dispatcher = Dispatcher(store, dashboard, poll_s=settings.webhook_poll_s,
                            retry_base_s=settings.webhook_retry_base_s,
                            max_attempts=settings.webhook_max_attempts,
                            timeout_s=settings.webhook_timeout_s,
                            allow_private=settings.allow_private_webhooks)
    return Services(settings=settings, store=store, metrics=metrics,
                    keys=KeyRing(store, ttl=settings.auth_cache_s),
                    rate_limiter=RateLimiter(settings.rate_limit_per_minute),
                    coverage=snapshot, dashboard=dashboard,
                    warmup=Warmup(dashboard, then=atlas.warm), webhooks=dispatcher,
                    incidents=atlas)
