"""API keys: who may do what.

A key reads `csk_<id>_<secret>`: the id is public (it names the key in listings and the
audit trail), the secret is 192 random bits stored only as its SHA-256 (a slow password
hash buys nothing for a secret this long). Keys have a role:

- `admin`: everything, including keys, webhooks and the audit trail;
- `procurement`: reads everything; writes companies, links, requests, cascades, answers;
- `integration`, bound to one company: records cascades from its company and answers of
  its company; reads its company, its direct suppliers and the requests addressed to it
  (a cascade event of the request reached it); anything else it may not know is a 404;
- `viewer`: gap counts, coverage and metrics only.

Every route names its rule in `POLICY` (keyed by method and path template); a route
without one is admin-only, and a test checks that none is missing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from graph_models.models import to_epoch_us, utc_now
from service.errors import NotFound, ServiceError
from service.store.port import ApiKey, CascadeStore

__all__ = ["Principal", "Role", "authorize", "issue_key", "KeyRing"]

KEY_PREFIX = "csk"


class Role(StrEnum):
    admin = "admin"
    procurement = "procurement"
    integration = "integration"
    viewer = "viewer"


class Unauthenticated(ServiceError):
    status, slug, title = 401, "unauthenticated", "API key required"


class Forbidden(ServiceError):
    status, slug, title = 403, "forbidden", "Not allowed for this key"


class RateLimited(ServiceError):
    status, slug, title = 429, "rate-limited", "Too many requests"


@dataclass(frozen=True)
class Principal:
    key_id: str
    role: Role
    company_id: str | None = None

    @property
    def own(self) -> str:
        """The company an integration key speaks for."""
        assert self.company_id is not None, "only integration keys have a company"
        return self.company_id


# -- keys ----------------------------------------------------------------------------------


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_key(
    store: CascadeStore, *, role: Role, company_id: str | None = None, name: str = "",
    expires_days: float | None = None,
) -> tuple[ApiKey, str]:
    """Create and store a key; returns it and the full key text (shown once)."""
    if (role == Role.integration) != (company_id is not None):
        raise ValueError("an integration key needs a company; other roles take none")
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(24)
    now = utc_now()
    expires = None if expires_days is None else to_epoch_us(now + timedelta(days=expires_days))
    key = ApiKey(id=key_id, secret_hash=hash_secret(secret), role=str(role),
                 company_id=company_id, name=name, created_at_us=to_epoch_us(now),
                 expires_at_us=expires)
    store.add_api_key(key)
    return key, f"{KEY_PREFIX}_{key_id}_{secret}"


def split_key(text: str) -> tuple[str, str] | None:
    prefix, _, rest = text.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != KEY_PREFIX or not key_id or not secret:
        return None
    return key_id, secret


@dataclass
class KeyRing:
    """Verifies bearer keys against the store, remembering stored keys for `ttl` seconds
    so a dashboard's polls cost no store read (a revocation made through another worker
    takes effect within `ttl`; through this one, at once)."""

    store: CascadeStore
    ttl: float = 5.0
    _seen: dict[str, tuple[float, ApiKey | None]] = field(default_factory=dict)

    def cached(self, key_id: str) -> tuple[bool, ApiKey | None]:
        hit = self._seen.get(key_id)
        if hit is None or time.monotonic() - hit[0] > self.ttl:
            return False, None
        return True, hit[1]

    def fetch(self, key_id: str) -> ApiKey | None:
        key = self.store.get_api_key(key_id)
        if len(self._seen) > 10_000:
            self._seen.clear()  # guessed ids must not grow memory without bound
        self._seen[key_id] = (time.monotonic(), key)
        return key

    def forget(self, key_id: str) -> None:
        self._seen.pop(key_id, None)


def check_key(key: ApiKey | None, secret: str) -> Principal:
    """The principal of a valid key, or 401 (one message for every failure: no oracle)."""
    now = to_epoch_us(utc_now())
    if (
        key is None
        or not hmac.compare_digest(key.secret_hash, hash_secret(secret))
        or key.revoked_at_us is not None
        or (key.expires_at_us is not None and key.expires_at_us <= now)
    ):
        raise Unauthenticated("the API key is unknown, expired or revoked")
    return Principal(key_id=key.id, role=Role(key.role), company_id=key.company_id)


async def authenticate(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    parts = split_key(token.strip()) if scheme.lower() == "bearer" else None
    if parts is None:
        raise Unauthenticated("send an API key as 'Authorization: Bearer <key>'")
    ring: KeyRing = request.app.state.keys
    known, key = ring.cached(parts[0])
    if not known:
        key = await run_in_threadpool(ring.fetch, parts[0])
    return check_key(key, parts[1])


# -- rate limit ----------------------------------------------------------------------------


@dataclass
class RateLimiter:
    """A token bucket per key: `per_minute` requests a minute, bursts up to a tenth of it."""

    per_minute: int
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def take(self, key_id: str) -> float:
        """0 when allowed, else the seconds until a request would be."""
        rate = self.per_minute / 60
        burst = max(1.0, self.per_minute / 10)
        now = time.monotonic()
        tokens, last = self._buckets.get(key_id, (burst, now))
        tokens = min(burst, tokens + (now - last) * rate)
        if tokens < 1:
            self._buckets[key_id] = (tokens, now)
            return (1 - tokens) / rate
        self._buckets[key_id] = (tokens - 1, now)
        return 0.0


# -- the rules -----------------------------------------------------------------------------

IntegrationCheck = Callable[[CascadeStore, Principal, dict[str, Any], Any], None]


@dataclass(frozen=True)
class Rule:
    roles: frozenset[Role]
    integration: IntegrationCheck | None = None  # required when integration is allowed


def _hidden(what: str) -> NotFound:
    return NotFound(f"{what} not found")


def own_company(store: CascadeStore, who: Principal, params: dict[str, Any], _: Any) -> None:
    if params.get("company_id") != who.company_id:
        raise Forbidden("an integration key reads and writes only its own company")


def own_or_supplier(store: CascadeStore, who: Principal, params: dict[str, Any],
                    _: Any) -> None:
    company = str(params.get("company_id"))
    if company != who.company_id and not store.existing_links([(who.own, company)]):
        raise _hidden(f"company {company!r}")


def own_links(store: CascadeStore, who: Principal, params: dict[str, Any], _: Any) -> None:
    if params.get("buyer_id") != who.company_id:
        raise Forbidden("an integration key lists only its own suppliers: buyer_id=<own id>")


def addressed(store: CascadeStore, who: Principal, params: dict[str, Any], _: Any) -> None:
    request_id = params.get("request_id")
    if not store.list_cascades(request_id=request_id, to_id=who.company_id, limit=1):
        raise _hidden(f"request {request_id!r}")


def addressed_own_standing(store: CascadeStore, who: Principal, params: dict[str, Any],
                           body: Any) -> None:
    addressed(store, who, params, body)
    own_company(store, who, params, body)


def list_addressed(store: CascadeStore, who: Principal, params: dict[str, Any],
                   body: Any) -> None:
    """Allowed: the route lists only the requests addressed to the key's company."""


def _items(body: Any) -> tuple[list[Any], str]:
    """The payload's items (a batch's, or the one object) and how to name one."""
    if isinstance(body, dict) and isinstance(body.get("items"), list):
        return body["items"], "items[{index}].{name}"
    return [body], "{name}"


def speaks_for(company_field: str, *, forwards: bool = False) -> IntegrationCheck:
    """The payload (every batch item) must speak for the key's company in
    `company_field`, about a request addressed to it, and a cascade (`forwards`) must go
    to one of its direct suppliers; ids it may not know get the same 404 as unknown ones."""

    def check(store: CascadeStore, who: Principal, params: dict[str, Any], body: Any) -> None:
        items, naming = _items(body)
        rows = [(i, item) for i, item in enumerate(items) if isinstance(item, dict)]
        for index, item in rows:
            if item.get(company_field, who.company_id) != who.company_id:
                raise Forbidden(
                    f"an integration key may only send {company_field} = its own company",
                    field=naming.format(index=index, name=company_field),
                )
        for request_id in {item.get("request_id") for _, item in rows} - {None}:
            addressed(store, who, {"request_id": request_id}, None)
        if forwards:
            to_ids = {str(item["to_id"]) for _, item in rows if item.get("to_id") is not None}
            known = store.existing_links([(who.own, to_id) for to_id in to_ids])
            for to_id in sorted(to_ids - {supplier for _, supplier in known}):
                raise _hidden(f"supplier {to_id!r}")

    return check


ALL = frozenset(Role)
ADMIN = frozenset({Role.admin})
STAFF = frozenset({Role.admin, Role.procurement})
DASHBOARD = frozenset({Role.admin, Role.procurement, Role.viewer})
OPEN = Rule(frozenset())
WITH_INTEGRATION = STAFF | {Role.integration}


def staff() -> Rule:
    return Rule(STAFF)


def integration(check: IntegrationCheck) -> Rule:
    return Rule(WITH_INTEGRATION, check)


POLICY: dict[tuple[str, str], Rule] = {
    ("GET", "/healthz"): OPEN,
    ("GET", "/readyz"): OPEN,
    ("GET", "/metrics"): Rule(DASHBOARD),
    ("GET", "/v1/catalog"): staff(),
    ("POST", "/v1/requests"): staff(),
    ("GET", "/v1/requests"): integration(list_addressed),
    ("GET", "/v1/requests/{request_id}"): integration(addressed),
    ("POST", "/v1/companies"): staff(),
    ("GET", "/v1/companies"): staff(),
    ("GET", "/v1/companies/{company_id}"): integration(own_or_supplier),
    ("PUT", "/v1/companies/{company_id}"): staff(),
    ("PATCH", "/v1/companies/{company_id}"): staff(),
    ("DELETE", "/v1/companies/{company_id}"): staff(),
    ("GET", "/v1/companies/{company_id}/upstream"): staff(),
    ("POST", "/v1/links"): staff(),
    ("GET", "/v1/links"): integration(own_links),
    ("DELETE", "/v1/links/{buyer_id}/{supplier_id}"): staff(),
    ("POST", "/v1/cascades"): integration(speaks_for("from_id", forwards=True)),
    ("GET", "/v1/cascades"): staff(),
    ("POST", "/v1/acknowledgements"): integration(speaks_for("company_id")),
    ("GET", "/v1/acknowledgements"): staff(),
    ("POST", "/v1/companies/batch"): staff(),
    ("POST", "/v1/links/batch"): staff(),
    ("POST", "/v1/cascades/batch"): integration(speaks_for("from_id", forwards=True)),
    ("POST", "/v1/acknowledgements/batch"): integration(speaks_for("company_id")),
    ("GET", "/v1/gap-counts"): Rule(DASHBOARD),
    ("GET", "/v1/requests/{request_id}/coverage"): Rule(DASHBOARD),
    ("GET", "/v1/requests/{request_id}/gaps"): Rule(DASHBOARD),
    ("GET", "/v1/requests/{request_id}/uncovered-paths"): Rule(DASHBOARD),
    ("GET", "/v1/requests/{request_id}/coverage/history"): Rule(DASHBOARD),
    ("GET", "/v1/requests/{request_id}/companies/{company_id}"): Rule(
        DASHBOARD | {Role.integration}, addressed_own_standing
    ),
    ("POST", "/v1/imports"): staff(),
    ("GET", "/v1/requests/{request_id}/gaps.csv"): Rule(DASHBOARD),
    ("GET", "/v1/requests/{request_id}/gaps.xlsx"): Rule(DASHBOARD),
    ("POST", "/v1/keys"): Rule(ADMIN),
    ("GET", "/v1/keys"): Rule(ADMIN),
    ("DELETE", "/v1/keys/{key_id}"): Rule(ADMIN),
    ("GET", "/v1/audit"): Rule(ADMIN),
    ("POST", "/v1/webhooks"): Rule(ADMIN),
    ("GET", "/v1/webhooks"): Rule(ADMIN),
    ("GET", "/v1/webhooks/{webhook_id}"): Rule(ADMIN),
    ("DELETE", "/v1/webhooks/{webhook_id}"): Rule(ADMIN),
    ("GET", "/v1/webhooks/{webhook_id}/deliveries"): Rule(ADMIN),
}
"""(method, path template) -> who may call it. Missing: admin only."""


def rule_for(method: str, template: str) -> Rule:
    return POLICY.get((method, template), Rule(ADMIN))


async def authorize(request: Request) -> None:
    """The app-wide dependency: authenticate, rate-limit, apply the route's rule."""
    route = request.scope.get("route")
    template = getattr(route, "path", request.url.path)
    rule = rule_for(request.method, template)
    settings = request.app.state.settings
    if rule is OPEN or (template == "/metrics" and settings.metrics_public):
        return
    who = await authenticate(request)
    request.state.principal = who
    request.state.caller = who.key_id
    wait = request.app.state.rate_limiter.take(who.key_id)
    if wait > 0:
        error = RateLimited(f"more than {settings.rate_limit_per_minute} requests a minute")
        error.retry_after = max(1, round(wait + 0.5))
        raise error
    if who.role not in rule.roles:
        raise Forbidden(f"a {who.role} key may not {request.method} {template}")
    if who.role == Role.integration and rule.integration is not None:
        body = await _json_body(request)
        await run_in_threadpool(rule.integration, request.app.state.store, who,
                                {**request.query_params, **request.path_params}, body)


async def _json_body(request: Request) -> Any:
    if request.method in {"GET", "HEAD", "DELETE"}:
        return None
    try:
        return json.loads(await request.body() or b"null")
    except ValueError:
        return None  # the route's own validation names the problem
