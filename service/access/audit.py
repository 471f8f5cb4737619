"""The audit trail of writes: every write an API key makes, refused ones too; writes
refused 401 (no valid key) at a bounded rate, so a flood of strangers cannot grow it
without bound (the rest are counted in `cascade_audit_unrecorded_total`)."""

from __future__ import annotations

import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph_models.models import to_epoch_us, utc_now
from service.access.rate_limit import RateLimiter
from service.composition.deps import services_in
from service.http.middleware import SAFE_METHODS
from service.integrations.metrics import Metrics
from service.store.port import AuditEntry, StoreUnavailable

__all__ = ["AuditWrites"]

logger = logging.getLogger(__name__)


def _caller(state: dict[str, Any]) -> str | None:
    """The key id of the caller; of a write refused 401, the id its key claimed (bounded,
    '' when it sent none); None for a route that needs no key."""
    principal = state.get("principal")
    return principal.key_id if principal is not None else state.get("claimed_key_id")


class AuditWrites:
    """Every write an API key makes is recorded: key id, when, method, path, status
    (refused ones too, 401 included: an audit trail shows attempts, up to
    `refused_per_minute` of them in bursts of a tenth). Plain ASGI, nothing on reads."""

    def __init__(self, app: ASGIApp, *, refused_per_minute: int, metrics: Metrics) -> None:
        self.app = app
        self.strangers = RateLimiter(refused_per_minute)  # one bucket: their key ids vary
        self.metrics = metrics

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
            key_id = _caller(scope.get("state", {}))
            if key_id is not None and status == 401 and self.strangers.take("401") > 0:
                self.metrics.unaudited.inc()
            elif key_id is not None:
                entry = AuditEntry(
                    at_us=to_epoch_us(utc_now()),
                    key_id=key_id,
                    method=scope["method"],
                    path=scope["path"][:1000],  # a 401 stranger chooses it
                    status=status,
                )
                try:
                    await run_in_threadpool(services_in(scope).store.record_audit, entry)
                except StoreUnavailable:  # the answer is already sent: logged, not raised
                    logger.warning("audit entry lost, store unavailable: %s", entry)
