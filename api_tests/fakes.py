"""Dict-backed fakes of the store's role ports (`service.store.ports`), for unit tests of
service functions without a database (cosmicpython's `tests/unit/fakes.py`).

Each fake keeps what the real stores keep in plain dicts and honours the port's contract
where a service function can notice it: outcomes (created / updated / unchanged, through
the same `planning` the adapters use), `AlreadyExists` and `InUse`, orders of reads, the
revision bumped once per changing write. It does not persist, lock or keep a change log
(`changes_since` answers None: reload). The contract suite checks the real stores; these
only stand in for them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TypeVar

from graph_models.models import (
    Acknowledgement,
    CascadeEvent,
    Company,
    PolicyRequest,
    SupplyLink,
    to_epoch_us,
    utc_now,
)
from service.store.errors import AlreadyExists, ClaimLost, InUse
from service.store.planning import earliest_sent, plan_answers, plan_writes
from service.store.records import (
    ApiKey,
    AuditEntry,
    ChangeSet,
    Delivery,
    DeliveryAttempt,
    IdempotencyRecord,
    Network,
    RequestEvents,
    Snapshot,
    Webhook,
    WebhookEvent,
    WriteOutcome,
)
from service.store.snapshots import snapshot_of

__all__ = ["FakeAccess", "FakeGraph", "FakeLedger", "FakeStore", "FakeWebhooks"]

_T = TypeVar("_T")


class _Revision:
    def __init__(self) -> None:
        self._revision = 0

    def _bump(self, changed: bool = True) -> None:
        self._revision += changed

    def revision(self) -> int:
        return self._revision


class FakeGraph(_Revision):
    """`CompanyStore` and `LinkStore`."""

    def __init__(self) -> None:
        super().__init__()
        self.companies: dict[str, Company] = {}
        self.links: dict[tuple[str, str], SupplyLink] = {}

    def _referenced(self, company_id: str) -> bool:
        return any(company_id in key for key in self.links)

    def create_company(self, company: Company) -> None:
        if company.id in self.companies:
            raise AlreadyExists(f"company {company.id!r} already exists")
        self.companies[company.id] = company
        self._bump()

    def upsert_companies(self, companies: Sequence[Company]) -> list[WriteOutcome]:
        outcomes, changed = plan_writes(self.companies, ((c.id, c) for c in companies))
        self.companies.update(changed)
        self._bump(bool(changed))
        return outcomes

    def get_company(self, company_id: str) -> Company | None:
        return self.companies.get(company_id)

    def list_companies(self, *, kind: str | None = None, country: str | None = None,
                       q: str | None = None, limit: int = 100, after: str | None = None,
                       ids: Sequence[str] | None = None) -> list[Company]:
        def matches(c: Company) -> bool:
            return ((kind is None or c.kind == kind) and (country is None or c.country == country)
                    and (after is None or c.id > after) and (ids is None or c.id in ids)
                    and (not q or q.lower() in c.id.lower() or q.lower() in c.name.lower()))
        return [c for _, c in sorted(self.companies.items()) if matches(c)][:limit]

    def existing_company_ids(self, ids: Iterable[str]) -> set[str]:
        return set(ids) & self.companies.keys()

    def delete_company(self, company_id: str, *, force: bool = False) -> bool:
        if company_id not in self.companies:
            return False
        if not force and self._referenced(company_id):
            raise InUse(f"company {company_id!r} has links, cascade events or answers")
        self.links = {key: link for key, link in self.links.items() if company_id not in key}
        del self.companies[company_id]
        self._bump()
        return True

    def add_links(self, links: Sequence[SupplyLink]) -> list[WriteOutcome]:
        outcomes, changed = plan_writes(self.links, ((link.key, link) for link in links))
        self.links.update(changed)
        self._bump(bool(changed))
        return outcomes

    def list_links(self, *, buyer_id: str | None = None, supplier_id: str | None = None,
                   limit: int = 1000, after: tuple[str, str] | None = None) -> list[SupplyLink]:
        return [link for key, link in sorted(self.links.items())
                if (buyer_id is None or link.buyer_id == buyer_id)
                and (supplier_id is None or link.supplier_id == supplier_id)
                and (after is None or key > tuple(after))][:limit]

    def existing_links(self, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        return {(buyer, supplier) for buyer, supplier in pairs} & self.links.keys()

    def delete_link(self, buyer_id: str, supplier_id: str) -> bool:
        deleted = self.links.pop((buyer_id, supplier_id), None) is not None
        self._bump(deleted)
        return deleted


class FakeLedger(FakeGraph):
    """`RequestStore` and `LedgerStore` (over the graph, for the delete rule)."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: dict[str, PolicyRequest] = {}
        self.cascades: dict[tuple[str, str, str], CascadeEvent] = {}
        self.answers: list[Acknowledgement] = []

    def _referenced(self, company_id: str) -> bool:
        return (super()._referenced(company_id)
                or any(company_id in key[1:] for key in self.cascades)
                or any(a.company_id == company_id for a in self.answers))

    def delete_company(self, company_id: str, *, force: bool = False) -> bool:
        if any(r.issuer_id == company_id for r in self.requests.values()):
            raise InUse(f"company {company_id!r} issued requests")
        deleted = super().delete_company(company_id, force=force)
        if deleted and force:
            self.cascades = {k: e for k, e in self.cascades.items() if company_id not in k[1:]}
            self.answers = [a for a in self.answers if a.company_id != company_id]
        return deleted

    def create_request(self, request: PolicyRequest) -> None:
        if request.id in self.requests:
            raise AlreadyExists(f"request {request.id!r} already exists")
        self.requests[request.id] = request
        self._bump()

    def get_request(self, request_id: str) -> PolicyRequest | None:
        return self.requests.get(request_id)

    def list_requests(self) -> list[PolicyRequest]:
        return [request for _, request in sorted(self.requests.items())]

    def add_cascades(self, events: Sequence[CascadeEvent]) -> list[WriteOutcome]:
        keyed = [((e.request_id, e.from_id, e.to_id), e) for e in events]
        outcomes, fresh = plan_writes(self.cascades, keyed, keep=earliest_sent)
        self.cascades.update(fresh)
        self._bump(bool(fresh))
        return outcomes

    def list_cascades(self, *, request_id: str | None = None, from_id: str | None = None,
                      to_id: str | None = None, limit: int = 1000) -> list[CascadeEvent]:
        found = [e for e in self.cascades.values()
                 if (request_id is None or e.request_id == request_id)
                 and (from_id is None or e.from_id == from_id)
                 and (to_id is None or e.to_id == to_id)]
        found.sort(key=lambda e: (e.sent_at, e.request_id, e.from_id, e.to_id))
        return found[:limit]

    def add_acknowledgements(self, acks: Sequence[Acknowledgement]
                             ) -> list[tuple[WriteOutcome, Acknowledgement]]:
        plan = plan_answers(acks, {a.identity: a for a in self.answers},
                            last_seq=len(self.answers), recorded_at=utc_now())
        self.answers += plan.fresh
        self._bump(bool(plan.fresh))
        return plan.results

    def list_acknowledgements(self, *, request_id: str | None = None,
                              company_id: str | None = None, limit: int = 1000,
                              before: tuple[datetime, int] | None = None
                              ) -> list[Acknowledgement]:
        found = [a for a in self.answers if (request_id is None or a.request_id == request_id)
                 and (company_id is None or a.company_id == company_id)
                 and (before is None or (a.at, a.seq or 0) < before)]
        found.sort(key=lambda a: (a.at, a.seq or 0), reverse=True)
        return found[:limit]

    # `ChangeLog`: the engine's reads, from the same dicts.
    def load_network(self) -> Network:
        return Network(kinds={cid: str(c.kind) for cid, c in self.companies.items()},
                       links=[(b, s, link.category) for (b, s), link
                              in sorted(self.links.items())],
                       revision=self.revision())

    def request_events(self, request_id: str) -> RequestEvents:
        return RequestEvents(
            cascades=[(e.from_id, e.to_id, to_epoch_us(e.sent_at))
                      for e in self.list_cascades(request_id=request_id, limit=10**9)],
            acknowledgements=[(a.company_id, str(a.status), to_epoch_us(a.at), a.seq or 0)
                              for a in self.answers if a.request_id == request_id])

    def load_snapshot(self, request_ids: Sequence[str]) -> Snapshot:
        return snapshot_of(self.load_network(),
                           {rid: self.request_events(rid) for rid in request_ids})

    def changes_since(self, revision: int, *, limit: int = 50_000) -> ChangeSet | None:
        return None  # no change log: the caller reloads


class FakeAccess:
    """`ApiKeyStore`, `AuditTrail` and `IdempotencyStore`."""

    def __init__(self) -> None:
        self.api_keys: dict[str, ApiKey] = {}
        self.audit: list[AuditEntry] = []
        self.idempotency: dict[tuple[str, str], tuple[IdempotencyRecord, str | None, int]] = {}

    def add_api_key(self, key: ApiKey) -> None:
        if key.id in self.api_keys:
            raise AlreadyExists(f"api key {key.id!r} already exists")
        self.api_keys[key.id] = key

    def get_api_key(self, key_id: str) -> ApiKey | None:
        return self.api_keys.get(key_id)

    def list_api_keys(self) -> list[ApiKey]:
        return sorted(self.api_keys.values(), key=lambda k: (k.created_at_us, k.id))

    def revoke_api_key(self, key_id: str, *, at_us: int) -> bool:
        if (key := self.api_keys.get(key_id)) is None:
            return False
        self.api_keys[key_id] = dataclasses.replace(key, revoked_at_us=key.revoked_at_us or at_us)
        return True

    def record_audit(self, entry: AuditEntry) -> None:
        self.audit.append(dataclasses.replace(entry, seq=len(self.audit) + 1))

    def list_audit(self, *, key_id: str | None = None, since_us: int | None = None,
                   until_us: int | None = None, before_seq: int | None = None,
                   limit: int = 100) -> list[AuditEntry]:
        return [e for e in reversed(self.audit)
                if (key_id is None or e.key_id == key_id)
                and (since_us is None or e.at_us >= since_us)
                and (until_us is None or e.at_us < until_us)
                and (before_seq is None or e.seq < before_seq)][:limit]

    def claim_idempotency_key(self, scope: str, key: str, *, fingerprint: str, token: str,
                              now_us: int, lease_until_us: int) -> IdempotencyRecord | None:
        held = self.idempotency.get((scope, key))
        if held is not None and held[2] >= now_us:
            return held[0]
        self.idempotency[(scope, key)] = (IdempotencyRecord(fingerprint, None), token,
                                          lease_until_us)
        return None

    def complete_idempotency_key(self, scope: str, key: str, *, token: str, status: int,
                                 body: bytes, content_type: str, expires_at_us: int) -> None:
        held = self.idempotency.get((scope, key))
        if held is None or held[1] != token:
            raise ClaimLost(f"idempotency key {key!r} was claimed by another request")
        record = IdempotencyRecord(held[0].fingerprint, status, body, content_type)
        self.idempotency[(scope, key)] = (record, None, expires_at_us)

    def release_idempotency_key(self, scope: str, key: str, *, token: str) -> None:
        held = self.idempotency.get((scope, key))
        if held is not None and held[1] == token and held[0].status is None:
            del self.idempotency[(scope, key)]


class FakeWebhooks:
    """`WebhookStore` and `DeliveryOutbox` (deliveries are enqueued, never sent)."""

    def __init__(self) -> None:
        self.webhooks: dict[str, Webhook] = {}
        self.deliveries: dict[str, Delivery] = {}

    def add_webhook(self, hook: Webhook) -> None:
        self.webhooks[hook.id] = hook

    def list_webhooks(self) -> list[Webhook]:
        return sorted(self.webhooks.values(), key=lambda h: (h.created_at_us, h.id))

    def get_webhook(self, webhook_id: str) -> Webhook | None:
        return self.webhooks.get(webhook_id)

    def delete_webhook(self, webhook_id: str) -> bool:
        self.deliveries = {k: d for k, d in self.deliveries.items()
                           if d.webhook_id != webhook_id}
        return self.webhooks.pop(webhook_id, None) is not None

    def enqueue_events(self, events: Sequence[WebhookEvent]) -> int:
        before = len(self.deliveries)
        for event in events:
            for hook in self.webhooks.values():
                if event.type in hook.events:
                    self.deliveries.setdefault(f"{event.id}@{hook.id}", Delivery(
                        f"{event.id}@{hook.id}", hook.id, event.id, event.type, event.payload,
                        "pending", (), event.created_at_us, event.created_at_us))
        return len(self.deliveries) - before

    def claim_deliveries(self, *, now_us: int, lease_until_us: int, limit: int
                         ) -> list[tuple[Delivery, Webhook]]:
        due = sorted((d for d in self.deliveries.values() if d.state == "pending"
                      and (d.next_attempt_at_us or 0) <= now_us),
                     key=lambda d: (d.next_attempt_at_us or 0, d.id))
        return [(d, self.webhooks[d.webhook_id]) for d in due[:limit]]

    def finish_attempt(self, delivery_id: str, attempt: DeliveryAttempt, *, state: str,
                       next_attempt_at_us: int | None) -> None:
        if (d := self.deliveries.get(delivery_id)) is not None:
            self.deliveries[delivery_id] = dataclasses.replace(
                d, attempts=(*d.attempts, attempt), state=state,
                next_attempt_at_us=next_attempt_at_us)

    def list_deliveries(self, webhook_id: str, *, limit: int = 100) -> list[Delivery]:
        found = [d for d in self.deliveries.values() if d.webhook_id == webhook_id]
        return sorted(found, key=lambda d: (d.created_at_us, d.id), reverse=True)[:limit]


class FakeStore(FakeLedger, FakeAccess, FakeWebhooks):
    """Every role port in memory: where a service function takes the whole `CascadeStore`."""

    def __init__(self) -> None:
        FakeLedger.__init__(self)
        FakeAccess.__init__(self)
        FakeWebhooks.__init__(self)

    def atomic(self, work: Callable[[], _T]) -> _T:
        return work()  # one thread, no failure mid-way to roll back

    def init_schema(self) -> None: ...
    def schema_version(self) -> int:
        return 0

    def clear_all(self) -> None:
        self.__init__()  # type: ignore[misc]

    def ping(self) -> bool:
        return True

    def close(self) -> None: ...
