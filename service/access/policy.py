"""Who may call which route (`POLICY`), what an integration key may touch, and what a
route costs in rate-limit tokens."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from service.access.keys import Forbidden, Principal, Role
from service.http.errors import NotFound
from service.store.port import CascadeStore

# -- the rules -----------------------------------------------------------------------------

IntegrationCheck = Callable[[CascadeStore, Principal, dict[str, Any], Any], None]


@dataclass(frozen=True)
class Rule:
    roles: frozenset[Role]
    integration: IntegrationCheck | None = None  # required when integration is allowed
    cost: int = 1  # rate-limit tokens: reads that analyse more cost more


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


def addressed_own_view(store: CascadeStore, who: Principal, params: dict[str, Any],
                       body: Any) -> None:
    """Its own company's cascade view of a request addressed to it; any other is a 404."""
    addressed(store, who, params, body)
    if params.get("company_id") != who.company_id:
        raise _hidden(f"company {params.get('company_id')!r}")


def listed_own_or_suppliers(store: CascadeStore, who: Principal, params: dict[str, Any],
                            _: Any) -> None:
    """A listing naming (`ids`) only its own company and its direct suppliers: the names
    its cascade view shows by id, in one call; any other id is a 404."""
    named = params.get("ids")
    if not isinstance(named, list) or not named:
        raise Forbidden("an integration key lists only its own company and direct "
                        "suppliers, named with ids=", field="ids")
    others = {str(company) for company in named} - {who.own}
    known = {supplier for _, supplier in store.existing_links([(who.own, c) for c in others])}
    for company in sorted(others - known):
        raise _hidden(f"company {company!r}")


def own_key(store: CascadeStore, who: Principal, params: dict[str, Any], body: Any) -> None:
    """Allowed: the route answers about the calling key alone."""


def list_addressed(store: CascadeStore, who: Principal, params: dict[str, Any],
                   body: Any) -> None:
    """Allowed: the route lists only the requests addressed to the key's company."""


def _items(body: Any) -> tuple[list[Any], str]:
    """The payload's items (a batch's, or the one object) and how to name one."""
    if isinstance(body, dict) and isinstance(body.get("items"), list):
        return body["items"], "items[{index}].{name}"
    return [body], "{name}"


def _text(item: dict[str, Any], name: str) -> str | None:
    value = item.get(name)
    return value if isinstance(value, str) else None


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
        # a batch's items are still raw here: one whose ids are not text is refused by
        # the batch itself (per item), so only text ids are looked up
        request_ids = {r for _, item in rows if (r := _text(item, "request_id")) is not None}
        for request_id in sorted(request_ids):
            addressed(store, who, {"request_id": request_id}, None)
        if forwards:
            to_ids = {to_id for _, item in rows if (to_id := _text(item, "to_id")) is not None}
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


# What a read costs, in tokens of the per-key bucket (`RateLimiter`, a burst of a tenth of
# the minute's budget: 600 by default). A 1,000-point history is up to ~0.3 s of CPU on the
# demo: at 30 tokens a burst buys about 20 of them, ~6 s; an `as_of` read analyses once.
HISTORY_COST = 30
EXPORT_COST = 10
ROUNDS_COST = 10  # an analysis per round (and a minerals round's files read)
AS_OF_COST = 3


def cost_of(rule: Rule, query: Mapping[str, str]) -> int:
    """The tokens a call costs: the rule's, or an `as_of` read's when that is more."""
    return max(rule.cost, AS_OF_COST) if "as_of" in query else rule.cost


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
    ("GET", "/v1/companies"): Rule(STAFF | {Role.integration}, listed_own_or_suppliers),
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
    ("GET", "/v1/requests/{request_id}/coverage/history"): Rule(DASHBOARD, cost=HISTORY_COST),
    ("GET", "/v1/requests/{request_id}/companies/{company_id}"): Rule(
        DASHBOARD | {Role.integration}, addressed_own_standing
    ),
    **{("GET", f"/v1/requests/{{request_id}}/companies/{{company_id}}/cascade{tail}"): Rule(
        DASHBOARD | {Role.integration}, addressed_own_view)
       for tail in ("", "/gaps", "/uncovered-paths", "/gaps.csv", "/gaps.xlsx")},
    ("POST", "/v1/imports"): staff(),
    ("GET", "/v1/requests/{request_id}/gaps.csv"): Rule(DASHBOARD, cost=EXPORT_COST),
    ("GET", "/v1/requests/{request_id}/gaps.xlsx"): Rule(DASHBOARD, cost=EXPORT_COST),
    ("GET", "/v1/requests/{request_id}/minerals/smelters"): Rule(DASHBOARD),
    ("GET", "/v1/requests/{request_id}/minerals/declaration"): Rule(DASHBOARD),
    ("GET", "/v1/requests/{request_id}/minerals/reconciliation"): Rule(DASHBOARD),
    ("GET", "/v1/requests/{request_id}/minerals/reconciliation.csv"): Rule(
        DASHBOARD, cost=EXPORT_COST),
    ("GET", "/v1/requests/{request_id}/minerals/reconciliation.xlsx"): Rule(
        DASHBOARD, cost=EXPORT_COST),
    ("POST", "/v1/requests/{request_id}/reissue"): staff(),
    ("GET", "/v1/requests/{request_id}/rounds"): Rule(DASHBOARD, cost=ROUNDS_COST),
    ("POST", "/v1/keys"): Rule(ADMIN),
    ("GET", "/v1/keys"): Rule(ADMIN),
    ("GET", "/v1/keys/me"): Rule(ALL, own_key),
    ("DELETE", "/v1/keys/{key_id}"): Rule(ADMIN),
    ("GET", "/v1/audit"): Rule(ADMIN),
    ("POST", "/v1/webhooks"): Rule(ADMIN),
    ("GET", "/v1/webhooks"): Rule(ADMIN),
    ("GET", "/v1/webhooks/{webhook_id}"): Rule(ADMIN),
    ("DELETE", "/v1/webhooks/{webhook_id}"): Rule(ADMIN),
    ("GET", "/v1/webhooks/{webhook_id}/deliveries"): Rule(ADMIN),
    ("POST", "/v1/incidents"): staff(),
    ("PATCH", "/v1/incidents/{incident_id}"): staff(),
    ("POST", "/v1/incidents/{incident_id}/survey"): staff(),
    ("GET", "/v1/incidents"): Rule(DASHBOARD),
    ("GET", "/v1/incidents/{incident_id}"): Rule(DASHBOARD),
    ("GET", "/v1/incidents/{incident_id}/exposure"): Rule(DASHBOARD),
    ("GET", "/v1/incidents/{incident_id}/exposure/companies"): Rule(DASHBOARD),
}
"""(method, path template) -> who may call it. Missing: admin only."""


def rule_for(method: str, template: str) -> Rule:
    return POLICY.get((method, template), Rule(ADMIN))

