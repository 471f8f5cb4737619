"""The app-wide dependency: authenticate, rate-limit, apply the route's rule."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from service.access.keys import (
    Forbidden,
    KeyRing,
    Principal,
    Role,
    Unauthenticated,
    check_key,
    split_key,
)
from service.access.policy import OPEN, cost_of, rule_for
from service.access.rate_limit import RateLimited
from service.composition.deps import services_of


async def authenticate(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    parts = split_key(token.strip()) if scheme.lower() == "bearer" else None
    if parts is None:
        raise Unauthenticated("send an API key as 'Authorization: Bearer <key>'")
    ring: KeyRing = services_of(request).keys
    known, key = ring.cached(parts[0])
    if not known:
        key = await run_in_threadpool(ring.fetch, parts[0])
    return check_key(key, parts[1])


async def authorize(request: Request) -> None:
    """The app-wide dependency: authenticate, rate-limit, apply the route's rule."""
    route = request.scope.get("route")
    template = getattr(route, "path", request.url.path)
    rule = rule_for(request.method, template)
    settings = services_of(request).settings
    if rule is OPEN or (template == "/metrics" and settings.metrics_public):
        return
    who = await authenticate(request)
    request.state.principal = who
    request.state.caller = who.key_id
    wait = services_of(request).rate_limiter.take(
        who.key_id, cost_of(rule, dict(request.query_params)))
    if wait > 0:
        error = RateLimited(f"more than {settings.rate_limit_per_minute} requests a minute")
        error.retry_after = max(1, round(wait + 0.5))
        raise error
    if who.role not in rule.roles:
        raise Forbidden(f"a {who.role} key may not {request.method} {template}")
    if who.role == Role.integration and rule.integration is not None:
        body = await _json_body(request)
        await run_in_threadpool(rule.integration, services_of(request).store, who,
                                {**request.query_params, **request.path_params}, body)


async def _json_body(request: Request) -> Any:
    if request.method in {"GET", "HEAD", "DELETE"}:
        return None
    try:
        return json.loads(await request.body() or b"null")
    except ValueError:
        return None  # the route's own validation names the problem

