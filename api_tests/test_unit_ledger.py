"""The ledger's service functions against the in-memory fakes (no database)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api_tests.fakes import FakeStore
from graph_models.models import Company, PolicyRequest, SupplyLink
from service.http.errors import InvalidField
from service.ledger import service
from service.ledger.schemas import AcknowledgementCreate, CascadeCreate
from service.store.records import Webhook

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
MINERALS = "minerals-2026"


@pytest.fixture
def store() -> FakeStore:
    store = FakeStore()
    store.upsert_companies([Company(id="focal-jp", name="Focal"),
                            Company(id="acme-tier1", name="ACME")])
    store.add_links([SupplyLink(buyer_id="focal-jp", supplier_id="acme-tier1")])
    store.create_request(PolicyRequest(id=MINERALS, topic="conflict_minerals", title="Minerals",
                                       version="2026", issuer_id="focal-jp", issued_at=T0))
    return store


def forward(at: datetime = T0, to_id: str = "acme-tier1") -> CascadeCreate:
    return CascadeCreate(request_id=MINERALS, from_id="focal-jp", to_id=to_id, sent_at=at)


def test_a_later_forward_of_a_link_answers_the_earlier_one_that_holds(store: FakeStore) -> None:
    first = service.record_cascade(store=store, body=forward())
    again = service.record_cascade(store=store, body=forward(T0.replace(hour=12)))
    assert (first.outcome, again.outcome) == ("created", "unchanged")
    assert again.sent_at == first.sent_at == T0


def test_an_earlier_forward_of_a_link_replaces_the_later_one(store: FakeStore) -> None:
    service.record_cascade(store=store, body=forward(T0.replace(hour=12)))
    backfill = service.record_cascade(store=store, body=forward(T0))
    assert (backfill.outcome, backfill.sent_at) == ("updated", T0)
    assert [e.sent_at for e in store.list_cascades()] == [T0]


def test_a_forward_off_the_supply_links_names_to_id(store: FakeStore) -> None:
    store.upsert_companies([Company(id="beta-tier2", name="Beta")])
    with pytest.raises(InvalidField) as refused:
        service.record_cascade(store=store, body=forward(to_id="beta-tier2"))
    assert refused.value.field == "to_id"
    assert store.list_cascades() == []


def test_an_answer_to_an_unknown_request_names_request_id(store: FakeStore) -> None:
    body = AcknowledgementCreate(request_id="reach-2026", company_id="acme-tier1",
                                 status="accepted", at=T0)
    with pytest.raises(InvalidField) as refused:
        service.record_acknowledgement(store=store, body=body)
    assert refused.value.field == "request_id"


def test_a_retried_answer_is_stored_and_announced_once(store: FakeStore) -> None:
    store.add_webhook(Webhook("hook-1", "https://portal.example/hook",
                              ("acknowledgement.recorded",), "s3cret", "portal", 0))
    body = AcknowledgementCreate(request_id=MINERALS, company_id="acme-tier1",
                                 status="accepted", at=T0)
    first, created = service.record_acknowledgement(store=store, body=body, posted_by="key-1")
    again, created_again = service.record_acknowledgement(store=store, body=body)
    assert (created, created_again) == (True, False)
    assert again == first and first.seq == 1 and first.posted_by == "key-1"
    assert len(store.list_deliveries("hook-1")) == 1
    history = service.acknowledgement_page(store=store, request_id=MINERALS, company_id=None,
                                           limit=10, cursor=None, max_bytes=1 << 20)
    assert history == ([first], None)
