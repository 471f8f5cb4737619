"""Who is calling, and may they: authentication (before anything reads the body), the
rate limit, and the route's rule from `POLICY`.

`AuthenticateFirst` (ASGI middleware) settles the caller of every route that needs a key
before the route parses its body, so a stranger gets 401, never a 422 telling them how
the payload should look. `authorize` (the app-wide dependency) then applies the rate
limit and the rule; an integration key's rule looks into the payload only once the
payload is valid (the route's own model, so both see the same thing).
"""

from __future__ import annotations

import json
from typing import Any, get_args, get_origin

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from pydantic import TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from graph_models.models import Identifier
from service.access.keys import (
    Forbidden,
    KeyRing,
    Principal,
    Role,
    Unauthenticated,
    check_key,
    claimed_key_id,
    split_key,
)
from service.access.policy import OPEN, POLICY, cost_of, rule_for
from service.access.rate_limit import RateLimited
from service.composition.deps import services_in, services_of
from service.http.errors import InvalidField, on_store_unavailable, problem_response
from service.store.errors import StoreUnavailable

__all__ = ["AuthenticateFirst", "authenticate", "authorize"]

PRINCIPAL, CLAIMED = "principal", "claimed_key_id"


async def authenticate(scope: Scope) -> Principal:
    """The principal of the bearer key in `scope`'s headers, or 401. A malformed key is
    refused before any lookup (nothing of it is cached or fetched)."""
    header = _authorization(scope).decode("latin-1")
    scheme, _, token = header.partition(" ")
    parts = split_key(token.strip()) if scheme.lower() == "bearer" else None
    if parts is None:
        raise Unauthenticated("send an API key as 'Authorization: Bearer <key>'")
    ring: KeyRing = services_in(scope).keys
    known = ring.cached(parts[0])
    if known is None:
        known = await run_in_threadpool(ring.fetch, parts[0])
    return check_key(known, parts[1])


def _authorization(scope: Scope) -> bytes:
    """The Authorization header (the last, if sent twice), b"" without one."""
    found = b""
    for name, value in scope["headers"]:
        if name == b"authorization":
            found = value
    return found


def _needs_key(scope: Scope) -> bool:
    """Whether `scope` is for the API (every path under /v1/, and /metrics) and not open.
    Told from the path alone, before routing: an unknown API path or method gets 401 too,
    so a stranger learns nothing of which exist. Docs and pages are not the API."""
    path = scope["path"]
    if path == "/metrics":
        return not services_in(scope).settings.metrics_public
    return path.startswith(API_PREFIX) and (scope["method"], path) not in OPEN_ROUTES


API_PREFIX = "/v1/"
OPEN_ROUTES = frozenset(key for key, rule in POLICY.items() if rule is OPEN)


class AuthenticateFirst:
    """401 before the route reads a byte of the body; the principal (or, refused, the key
    id it claimed, for the audit trail) is left in the scope's state."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _needs_key(scope):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        try:
            state[PRINCIPAL] = await authenticate(scope)
        except Unauthenticated as refused:
            state[CLAIMED] = claimed_key_id(_authorization(scope))
            response = problem_response(401, refused.slug, refused.title, refused.detail)
            response.headers["WWW-Authenticate"] = "Bearer"
            await response(scope, receive, send)
            return
        except StoreUnavailable as exc:  # the key could not be checked: 503, retry soon
            await (await on_store_unavailable(Request(scope), exc))(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def authorize(request: Request) -> None:
    """The app-wide dependency: rate-limit, apply the route's rule."""
    template = getattr(request.scope.get("route"), "path", None) or request.url.path
    rule = rule_for(request.method, template)
    services = services_of(request)
    settings = services.settings
    if rule is OPEN or (template == "/metrics" and settings.metrics_public):
        return
    who = request.scope.get("state", {}).get(PRINCIPAL) or await authenticate(request.scope)
    request.state.principal = who
    request.state.caller = who.key_id
    wait = services.rate_limiter.take(who.key_id, cost_of(rule, request.query_params))
    if wait > 0:
        error = RateLimited(f"more than {settings.rate_limit_per_minute} requests a minute")
        error.retry_after = max(1, round(wait + 0.5))
        raise error
    if who.role not in rule.roles:
        raise Forbidden(f"a {who.role} key may not {request.method} {template}")
    _check_path_ids(request.path_params)
    if who.role == Role.integration and rule.integration is not None:
        body = await _validated_body(request)
        if body is _INVALID:
            return  # the route refuses it with the same validation, naming the field
        await run_in_threadpool(rule.integration, services_of(request).store, who,
                                {**_query_params(request), **request.path_params}, body)


def _query_params(request: Request) -> dict[str, Any]:
    """The query as the route binds it: a list parameter with every value given, any
    other with its last (so a rule checks each id a listing names, not just one)."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    lists = {field.alias for field in getattr(dependant, "query_params", [])
             if _is_list(field.field_info.annotation)}
    query = request.query_params
    return {name: query.getlist(name) if name in lists else value
            for name, value in query.items()}


def _is_list(annotation: Any) -> bool:
    return get_origin(annotation) is list or any(
        get_origin(arg) is list for arg in get_args(annotation))


_INVALID = object()
_IDENTIFIER: TypeAdapter[str] = TypeAdapter(Identifier)


def _check_path_ids(params: dict[str, Any]) -> None:
    """An id in the path follows the rule of ids in bodies (422 naming it), so a forged
    one never reaches a log line or a lookup."""
    for name, value in params.items():
        try:
            _IDENTIFIER.validate_python(value)
        except ValidationError as exc:
            raise InvalidField(str(exc.errors()[0]["msg"]).removeprefix("Value error, "),
                               field=name) from None


async def _validated_body(request: Request) -> Any:
    """The body as the route's model reads it (JSON-able), None without one, `_INVALID`
    when the route will refuse it: the rule never sees a field the route would refuse."""
    field = getattr(request.scope.get("route"), "body_field", None)
    if request.method in {"GET", "HEAD", "DELETE"} or field is None:
        return None
    try:
        raw = json.loads(await request.body() or b"null")
    except (ValueError, RecursionError):
        return _INVALID
    value, errors = field.validate(raw, {}, loc=("body",))
    return _INVALID if errors else jsonable_encoder(value)
