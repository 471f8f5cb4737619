"""The services a running app holds: built once by the composition root, in its lifespan."""

from __future__ import annotations

from dataclasses import dataclass

from service.access.keys import KeyRing
from service.access.rate_limit import RateLimiter
from service.config.settings import Settings
from service.coverage.dashboard import GapCountsDashboard
from service.coverage.snapshot import CoverageSnapshot
from service.coverage.warmup import Warmup
from service.incidents.atlas import IncidentAtlas
from service.integrations.metrics import Metrics
from service.integrations.webhooks import Dispatcher
from service.store.port import CascadeStore

__all__ = ["Services"]


@dataclass(frozen=True)
class Services:
    """What routes and middleware depend on, typed (see `service.composition.deps`)."""

    settings: Settings
    store: CascadeStore
    metrics: Metrics
    keys: KeyRing
    rate_limiter: RateLimiter
    coverage: CoverageSnapshot
    dashboard: GapCountsDashboard
    warmup: Warmup
    webhooks: Dispatcher
    incidents: IncidentAtlas
