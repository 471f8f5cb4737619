"""The store contract: one suite, run unchanged on SQLite and on a real Neo4j.

Every test goes through the `CascadeStore` port only (no SQL, no Cypher), on a fresh,
empty store from the `store` fixture, and asserts what a caller of the port would notice:
what reads return, which outcome each write reports, and when the revision moves.
"""

from __future__ import annotations

import random
import sqlite3
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from graph_models.models import (
    Acknowledgement,
    AckStatus,
    Applicability,
    CascadeEvent,
    Company,
    CompanyKind,
    PolicyRequest,
    SupplyLink,
    utc_now,
)
from service.store.port import (
    AlreadyExists,
    CascadeStore,
    ChangeSet,
    InUse,
    Network,
    RequestEvents,
    WriteOutcome,
    from_epoch_us,
    to_epoch_us,
)

CREATED, UPDATED, UNCHANGED = WriteOutcome.created, WriteOutcome.updated, WriteOutcome.unchanged
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # the day the 2026 minerals policy went out
MINERALS = "minerals-2026"

FOCAL = Company(
    id="focal-jp",
    name="Focal Electronics K.K.",
    country="JP",
    identifiers={"duns": "690123456", "lei": "5299000J2N45DDNE4Y28"},
    tags=["focal", "electronics"],
)
ACME = Company(id="acme-tier1", name="ACME Components Ltd.", country="CN", tags=["tier1"])
BETA = Company(id="beta-tier2", name="Beta Metal Works", country="MY", kind=CompanyKind.distributor)
SMELTER = Company(
    id="kanto-smelter",
    name="Kanto Refining",
    country="JP",
    kind=CompanyKind.smelter,
    identifiers={"rmi_cid": "CID001234"},
)
CHAIN = [FOCAL, ACME, BETA, SMELTER]
CHAIN_LINKS = [
    SupplyLink(buyer_id="focal-jp", supplier_id="acme-tier1", category="components"),
    SupplyLink(buyer_id="acme-tier1", supplier_id="beta-tier2", category="raw_materials"),
    SupplyLink(buyer_id="beta-tier2", supplier_id="kanto-smelter", category="raw_materials"),
]


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def policy(request_id: str = MINERALS, **fields: object) -> PolicyRequest:
    values: dict[str, object] = {
        "id": request_id,
        "topic": "conflict_minerals",
        "title": "Responsible mineral procurement policy 2026",
        "version": "2026",
        "issuer_id": "focal-jp",
        "issued_at": T0,
        "due_days": 30,
        "valid_days": 365,
        "applies_to": Applicability(categories=["components", "raw_materials"]),
        "catalog_id": "responsible-minerals-2026",
        "description": "3TG, cobalt and mica; evidence via CMRT/EMRT.",
    }
    return PolicyRequest.model_validate(values | fields)


def cascade(from_id: str, to_id: str, hours: float, request_id: str = MINERALS) -> CascadeEvent:
    return CascadeEvent(request_id=request_id, from_id=from_id, to_id=to_id, sent_at=at(hours))


def answer(
    company_id: str, status: str, hours: float, request_id: str = MINERALS, **fields: object
) -> Acknowledgement:
    return Acknowledgement.model_validate(
        {"request_id": request_id, "company_id": company_id, "status": status, "at": at(hours)}
        | fields
    )


def seed_chain(store: CascadeStore) -> None:
    """focal-jp -> acme-tier1 -> beta-tier2 -> kanto-smelter, and the minerals request."""
    store.upsert_companies(CHAIN)
    store.add_links(CHAIN_LINKS)
    store.create_request(policy())


def seed_events(store: CascadeStore) -> None:
    """The request travelled the whole chain; acme and beta answered."""
    store.add_cascades(
        [
            cascade("focal-jp", "acme-tier1", 1),
            cascade("acme-tier1", "beta-tier2", 26),
            cascade("beta-tier2", "kanto-smelter", 50),
        ]
    )
    store.add_acknowledgements(
        [answer("acme-tier1", "accepted", 3), answer("beta-tier2", "received", 30)]
    )


def ids(items: list[Company]) -> list[str]:
    return [company.id for company in items]


def in_key_order(links: list[SupplyLink]) -> list[SupplyLink]:
    """Links as `list_links` returns them: by buyer, then supplier."""
    return sorted(links, key=lambda link: link.key)


def link_rows(links: list[SupplyLink]) -> list[tuple[str, str, str]]:
    """Links as `load_network` returns them: (buyer, supplier, category) in key order."""
    return [(link.buyer_id, link.supplier_id, link.category) for link in in_key_order(links)]


# -- lifecycle ----------------------------------------------------------------------------


def test_a_fresh_store_is_empty_at_revision_zero(store: CascadeStore) -> None:
    assert store.ping() is True
    assert store.revision() == 0
    network = store.load_network()
    assert (network.kinds, network.links, network.revision) == ({}, [], 0)
    assert store.list_companies() == [] and store.list_links() == []
    assert store.list_requests() == [] and store.list_cascades() == []
    assert store.list_acknowledgements() == []
    assert store.get_company("focal-jp") is None and store.get_request(MINERALS) is None
    events = store.request_events(MINERALS)
    assert events.cascades == [] and events.acknowledgements == []


def test_init_schema_again_keeps_data_and_revision(store: CascadeStore) -> None:
    seed_chain(store)
    revision = store.revision()
    store.init_schema()
    assert store.revision() == revision
    assert store.get_company("focal-jp") == FOCAL
    assert store.list_links() == in_key_order(CHAIN_LINKS)


def test_clear_all_empties_the_store_and_resets_the_revision(store: CascadeStore) -> None:
    seed_chain(store)
    seed_events(store)
    store.clear_all()
    assert store.revision() == 0
    assert store.load_network().kinds == {}
    assert store.list_requests() == [] and store.list_acknowledgements() == []
    store.upsert_companies([FOCAL])  # and it stays usable
    assert store.get_company("focal-jp") == FOCAL


# -- companies ----------------------------------------------------------------------------


def test_a_created_company_reads_back_with_every_field(store: CascadeStore) -> None:
    store.create_company(FOCAL)
    store.create_company(SMELTER)
    assert store.get_company("focal-jp") == FOCAL
    assert store.get_company("kanto-smelter") == SMELTER
    assert store.revision() == 2


def test_creating_a_taken_id_raises_and_changes_nothing(store: CascadeStore) -> None:
    store.create_company(ACME)
    with pytest.raises(AlreadyExists):
        store.create_company(ACME.model_copy(update={"name": "Someone Else Ltd."}))
    assert store.get_company("acme-tier1") == ACME
    assert store.revision() == 1


def test_upsert_reports_created_updated_and_unchanged(store: CascadeStore) -> None:
    assert store.upsert_companies([FOCAL, ACME]) == [CREATED, CREATED]
    renamed = ACME.model_copy(update={"name": "ACME Components Holdings"})
    assert store.upsert_companies([FOCAL, renamed, BETA]) == [UNCHANGED, UPDATED, CREATED]
    assert store.get_company("acme-tier1") == renamed
    assert ids(store.list_companies()) == ["acme-tier1", "beta-tier2", "focal-jp"]


def test_upsert_bumps_the_revision_once_per_changing_call(store: CascadeStore) -> None:
    store.upsert_companies(CHAIN)
    assert store.revision() == 1
    store.upsert_companies(CHAIN)  # an import retried: nothing changed
    assert store.revision() == 1
    store.upsert_companies([FOCAL, SMELTER.model_copy(update={"country": "KR"})])
    assert store.revision() == 2
    store.upsert_companies([])
    assert store.revision() == 2


def test_upsert_compares_identifiers_as_a_mapping_and_tags_as_a_list(
    store: CascadeStore,
) -> None:
    store.upsert_companies([FOCAL])
    reordered_ids = FOCAL.model_copy(
        update={"identifiers": {"lei": "5299000J2N45DDNE4Y28", "duns": "690123456"}}
    )
    assert store.upsert_companies([reordered_ids]) == [UNCHANGED]
    reordered_tags = FOCAL.model_copy(update={"tags": ["electronics", "focal"]})
    assert store.upsert_companies([reordered_tags]) == [UPDATED]
    assert store.get_company("focal-jp") == reordered_tags
    assert store.revision() == 2


def test_upsert_applies_a_repeated_id_in_order(store: CascadeStore) -> None:
    renamed = ACME.model_copy(update={"name": "ACME Components Holdings"})
    assert store.upsert_companies([ACME, renamed, renamed]) == [CREATED, UPDATED, UNCHANGED]
    assert store.get_company("acme-tier1") == renamed
    assert store.revision() == 1


def test_companies_page_by_id_with_a_keyset_cursor(store: CascadeStore) -> None:
    names = ["zeta-tier3", "acme-tier1", "mu-tier2", "beta-tier2", "focal-jp", "eta-tier3", "c-1"]
    store.upsert_companies([Company(id=cid, name=cid.title()) for cid in names])
    first = store.list_companies(limit=3)
    second = store.list_companies(limit=3, after=first[-1].id)
    third = store.list_companies(limit=3, after=second[-1].id)
    assert ids(first + second + third) == sorted(names)
    assert store.list_companies(after="zeta-tier3") == []
    assert ids(store.list_companies(after="d")) == [
        "eta-tier3",
        "focal-jp",
        "mu-tier2",
        "zeta-tier3",
    ]


def test_companies_filter_by_kind_and_country(store: CascadeStore) -> None:
    store.upsert_companies(CHAIN)
    assert ids(store.list_companies(kind="smelter")) == ["kanto-smelter"]
    assert ids(store.list_companies(country="JP")) == ["focal-jp", "kanto-smelter"]
    assert ids(store.list_companies(kind="manufacturer", country="JP")) == ["focal-jp"]
    assert store.list_companies(kind="contractor") == []


def test_company_search_matches_id_or_name_ignoring_case(store: CascadeStore) -> None:
    austrian = Company(id="at-0042", name="Österreich Metall GmbH", country="AT")
    store.upsert_companies([*CHAIN, austrian])
    assert ids(store.list_companies(q="TIER")) == ["acme-tier1", "beta-tier2"]
    assert ids(store.list_companies(q="refining")) == ["kanto-smelter"]
    assert ids(store.list_companies(q="österreich")) == ["at-0042"]
    assert ids(store.list_companies(q="metal")) == ["at-0042", "beta-tier2"]
    assert ids(store.list_companies(q="metal", after="at-0042")) == ["beta-tier2"]
    assert ids(store.list_companies(q="metal", country="MY")) == ["beta-tier2"]
    assert store.list_companies(q="no such supplier") == []


def test_existing_company_ids_is_the_known_subset(store: CascadeStore) -> None:
    store.upsert_companies(CHAIN)
    asked = ["acme-tier1", "ghost-tier9", "acme-tier1", "kanto-smelter"]
    assert store.existing_company_ids(asked) == {"acme-tier1", "kanto-smelter"}
    assert store.existing_company_ids(iter(["focal-jp"])) == {"focal-jp"}
    assert store.existing_company_ids([]) == set()


# -- supply links -------------------------------------------------------------------------


def test_links_report_created_unchanged_and_category_updates(store: CascadeStore) -> None:
    store.upsert_companies(CHAIN)
    assert store.add_links(CHAIN_LINKS) == [CREATED, CREATED, CREATED]
    assert store.revision() == 2
    assert store.add_links(CHAIN_LINKS[:2]) == [UNCHANGED, UNCHANGED]
    assert store.revision() == 2  # re-adding the same links is a no-op
    logistics = CHAIN_LINKS[0].model_copy(update={"category": "logistics"})
    assert store.add_links([logistics, CHAIN_LINKS[1]]) == [UPDATED, UNCHANGED]
    assert store.revision() == 3
    assert store.list_links(buyer_id="focal-jp") == [logistics]


def test_links_in_both_directions_are_two_links(store: CascadeStore) -> None:
    store.upsert_companies([ACME, BETA])
    there = SupplyLink(buyer_id="acme-tier1", supplier_id="beta-tier2")
    back = SupplyLink(buyer_id="beta-tier2", supplier_id="acme-tier1", category="services")
    assert store.add_links([there, back]) == [CREATED, CREATED]
    assert store.list_links() == [there, back]


def test_links_page_by_buyer_then_supplier(store: CascadeStore) -> None:
    store.upsert_companies(CHAIN)
    extra = [
        SupplyLink(buyer_id="focal-jp", supplier_id="beta-tier2", category="raw_materials"),
        SupplyLink(buyer_id="acme-tier1", supplier_id="kanto-smelter", category="raw_materials"),
    ]
    store.add_links([*CHAIN_LINKS, *extra])
    everything = store.list_links()
    assert [link.key for link in everything] == sorted(link.key for link in everything)
    first = store.list_links(limit=2)
    rest = store.list_links(after=first[-1].key)
    assert first + rest == everything and len(everything) == 5
    assert [link.supplier_id for link in store.list_links(buyer_id="focal-jp")] == [
        "acme-tier1",
        "beta-tier2",
    ]
    assert [link.buyer_id for link in store.list_links(supplier_id="kanto-smelter")] == [
        "acme-tier1",
        "beta-tier2",
    ]
    assert store.list_links(buyer_id="focal-jp", after=("focal-jp", "acme-tier1")) == [extra[0]]


def test_existing_links_is_the_known_subset_by_direction(store: CascadeStore) -> None:
    seed_chain(store)
    asked = [
        ("focal-jp", "acme-tier1"),
        ("acme-tier1", "focal-jp"),
        ("beta-tier2", "kanto-smelter"),
    ]
    assert store.existing_links(asked) == {
        ("focal-jp", "acme-tier1"),
        ("beta-tier2", "kanto-smelter"),
    }
    assert store.existing_links([]) == set()


def test_delete_link_removes_it_once(store: CascadeStore) -> None:
    seed_chain(store)
    revision = store.revision()
    assert store.delete_link("acme-tier1", "beta-tier2") is True
    assert store.revision() == revision + 1
    assert store.existing_links([("acme-tier1", "beta-tier2")]) == set()
    assert store.load_network().links == link_rows([CHAIN_LINKS[0], CHAIN_LINKS[2]])
    assert store.delete_link("acme-tier1", "beta-tier2") is False
    assert store.revision() == revision + 1


# -- requests -----------------------------------------------------------------------------


def test_a_request_reads_back_with_every_field(store: CascadeStore) -> None:
    store.upsert_companies([FOCAL])
    minerals = policy()
    safety = policy(
        "construction-safety-2026",
        topic="construction_safety",
        title="Health and safety for hazardous construction work",
        version="2",
        valid_days=None,
        mandatory=False,
        applies_to=Applicability(categories=["construction"], kinds=[CompanyKind.contractor]),
        supersedes="construction-safety-2025",
        catalog_id=None,
        description=None,
    )
    store.create_request(minerals)
    store.create_request(safety)
    assert store.get_request(MINERALS) == minerals
    assert store.get_request("construction-safety-2026") == safety
    assert store.revision() == 3


def test_creating_a_taken_request_id_raises_and_keeps_the_first(store: CascadeStore) -> None:
    seed_chain(store)
    revision = store.revision()
    with pytest.raises(AlreadyExists):
        store.create_request(policy(title="Another title"))
    assert store.get_request(MINERALS) == policy()
    assert store.revision() == revision


def test_requests_list_in_id_order(store: CascadeStore) -> None:
    store.upsert_companies([FOCAL])
    for request_id in ["reach-2026", "bcp-2026", "minerals-2026"]:
        store.create_request(policy(request_id))
    assert [r.id for r in store.list_requests()] == ["bcp-2026", "minerals-2026", "reach-2026"]


# -- cascade events -----------------------------------------------------------------------


def test_a_cascade_is_recorded_once_and_keeps_its_earliest_sent_at(store: CascadeStore) -> None:
    seed_chain(store)
    revision = store.revision()
    assert store.add_cascades([cascade("focal-jp", "acme-tier1", 24)]) == [CREATED]
    assert store.revision() == revision + 1
    retry = [cascade("focal-jp", "acme-tier1", 48), cascade("acme-tier1", "beta-tier2", 50)]
    assert store.add_cascades(retry) == [UNCHANGED, CREATED]
    assert store.add_cascades([cascade("focal-jp", "acme-tier1", 24)]) == [UNCHANGED]
    assert store.revision() == revision + 2
    backfill = cascade("focal-jp", "acme-tier1", 1)
    assert store.add_cascades([backfill]) == [UPDATED]
    assert store.revision() == revision + 3
    assert store.list_cascades(to_id="acme-tier1") == [backfill]


def test_an_earlier_forward_reaches_the_change_log(store: CascadeStore) -> None:
    seed_chain(store)
    store.add_cascades([cascade("focal-jp", "acme-tier1", 24)])
    revision = store.revision()
    store.add_cascades([cascade("focal-jp", "acme-tier1", 1)])
    changes = store.changes_since(revision)
    assert changes is not None
    assert changes.cascades == {MINERALS: [("focal-jp", "acme-tier1", to_epoch_us(at(1)))]}


def test_a_cascade_repeated_in_one_batch_keeps_the_earliest(store: CascadeStore) -> None:
    seed_chain(store)
    batch = [cascade("focal-jp", "acme-tier1", 2), cascade("focal-jp", "acme-tier1", 1),
             cascade("focal-jp", "acme-tier1", 3)]
    assert store.add_cascades(batch) == [CREATED, UPDATED, UNCHANGED]
    assert store.list_cascades() == [batch[1]]


def test_the_same_forward_of_another_request_is_another_event(store: CascadeStore) -> None:
    seed_chain(store)
    store.create_request(policy("reach-2026", topic="reach", title="REACH information"))
    events = [
        cascade("focal-jp", "acme-tier1", 1),
        cascade("focal-jp", "acme-tier1", 1, "reach-2026"),
    ]
    assert store.add_cascades(events) == [CREATED, CREATED]
    assert store.list_cascades(request_id="reach-2026") == [events[1]]


def test_cascades_filter_by_request_sender_and_receiver(store: CascadeStore) -> None:
    seed_chain(store)
    seed_events(store)
    assert {e.to_id for e in store.list_cascades(request_id=MINERALS)} == {
        "acme-tier1",
        "beta-tier2",
        "kanto-smelter",
    }
    assert store.list_cascades(from_id="acme-tier1") == [cascade("acme-tier1", "beta-tier2", 26)]
    assert store.list_cascades(to_id="kanto-smelter", from_id="beta-tier2") == [
        cascade("beta-tier2", "kanto-smelter", 50)
    ]
    assert store.list_cascades(request_id="reach-2026") == []
    assert len(store.list_cascades(limit=2)) == 2


# -- acknowledgements ---------------------------------------------------------------------


def test_answers_get_increasing_seq_and_a_recorded_at(store: CascadeStore) -> None:
    seed_chain(store)
    before = utc_now()
    results = store.add_acknowledgements(
        [answer("acme-tier1", "received", 2), answer("acme-tier1", "accepted", 5)]
    )
    assert [outcome for outcome, _ in results] == [CREATED, CREATED]
    first, second = (stored for _, stored in results)
    assert 0 < first.seq < second.seq
    for stored in (first, second):
        assert stored.recorded_at is not None and stored.recorded_at.utcoffset() == timedelta(0)
        assert abs(stored.recorded_at - before) < timedelta(minutes=1)
    assert (second.status, second.at) == (AckStatus.accepted, at(5))


def test_an_identical_answer_is_a_retry_returning_the_stored_one(store: CascadeStore) -> None:
    seed_chain(store)
    original = answer("acme-tier1", "accepted", 5, evidence={"cmrt": "6.4"}, posted_by="portal")
    [(_, stored)] = store.add_acknowledgements([original])
    revision = store.revision()
    retry = answer("acme-tier1", "accepted", 5, evidence={"note": "resent"}, posted_by="edi")
    [(outcome, returned)] = store.add_acknowledgements([retry])
    assert outcome == UNCHANGED
    assert returned == stored  # same seq, evidence and poster as first recorded
    assert store.revision() == revision
    assert store.list_acknowledgements() == [stored]


def test_an_answer_repeated_in_one_batch_is_recorded_once(store: CascadeStore) -> None:
    seed_chain(store)
    twice = [answer("beta-tier2", "declined", 7), answer("beta-tier2", "declined", 7)]
    (first_outcome, first), (second_outcome, second) = store.add_acknowledgements(twice)
    assert (first_outcome, second_outcome) == (CREATED, UNCHANGED)
    assert first == second
    assert len(store.list_acknowledgements()) == 1


def test_another_status_or_time_is_a_new_answer(store: CascadeStore) -> None:
    seed_chain(store)
    store.add_acknowledgements([answer("acme-tier1", "received", 2)])
    later = [answer("acme-tier1", "accepted", 2), answer("acme-tier1", "received", 3)]
    assert [o for o, _ in store.add_acknowledgements(later)] == [CREATED, CREATED]
    assert len(store.list_acknowledgements(company_id="acme-tier1")) == 3


def test_history_is_newest_first_and_a_tie_goes_to_the_later_recorded(
    store: CascadeStore,
) -> None:
    seed_chain(store)
    store.add_acknowledgements([answer("acme-tier1", "received", 1)])
    store.add_acknowledgements([answer("acme-tier1", "accepted", 9)])
    store.add_acknowledgements([answer("acme-tier1", "declined", 9)])  # same `at`, later
    store.add_acknowledgements([answer("acme-tier1", "accepted", 4)])  # backdated
    history = store.list_acknowledgements(request_id=MINERALS, company_id="acme-tier1")
    assert [(a.status, a.at) for a in history] == [
        (AckStatus.declined, at(9)),
        (AckStatus.accepted, at(9)),
        (AckStatus.accepted, at(4)),
        (AckStatus.received, at(1)),
    ]
    assert history[0].seq > history[1].seq
    assert store.list_acknowledgements(company_id="acme-tier1", limit=1) == history[:1]


def test_answers_filter_by_request_and_company(store: CascadeStore) -> None:
    seed_chain(store)
    store.create_request(policy("reach-2026", topic="reach", title="REACH information"))
    store.add_acknowledgements(
        [
            answer("acme-tier1", "accepted", 3),
            answer("beta-tier2", "received", 4),
            answer("acme-tier1", "declined", 5, "reach-2026"),
        ]
    )
    assert [a.company_id for a in store.list_acknowledgements(request_id=MINERALS)] == [
        "beta-tier2",
        "acme-tier1",
    ]
    assert [a.request_id for a in store.list_acknowledgements(company_id="acme-tier1")] == [
        "reach-2026",
        MINERALS,
    ]
    assert store.list_acknowledgements(request_id="reach-2026", company_id="beta-tier2") == []


def test_evidence_round_trips_as_json(store: CascadeStore) -> None:
    seed_chain(store)
    evidence = {
        "document": "CMRT_ACME_2026.xlsx",
        "cmrt_version": "6.4",
        "smelters": [{"cid": "CID001234", "metal": "tin", "conformant": True}],
        "note": "Zinn/Wolfram geprüft — 確認済み",
        "coverage": 0.97,
        "open_items": None,
    }
    [(_, stored)] = store.add_acknowledgements(
        [answer("acme-tier1", "accepted", 3, evidence=evidence, posted_by="rmi-portal")]
    )
    [listed] = store.list_acknowledgements()
    assert listed.evidence == evidence == stored.evidence
    assert listed.posted_by == "rmi-portal"
    [(_, bare)] = store.add_acknowledgements([answer("beta-tier2", "received", 4)])
    assert bare.evidence is None and bare.posted_by is None


def test_timestamps_come_back_as_equal_aware_utc_instants(store: CascadeStore) -> None:
    tokyo = timezone(timedelta(hours=9))
    sent = datetime(2026, 1, 6, 8, 30, 15, 123456, tzinfo=tokyo)
    answered = datetime(2026, 1, 7, 23, 59, 59, 999999, tzinfo=UTC)
    store.upsert_companies(CHAIN)
    store.create_request(policy(issued_at=datetime(2026, 1, 5, 18, 0, tzinfo=tokyo)))
    store.add_cascades(
        [CascadeEvent(request_id=MINERALS, from_id="focal-jp", to_id="acme-tier1", sent_at=sent)]
    )
    store.add_acknowledgements(
        [
            Acknowledgement(
                request_id=MINERALS, company_id="acme-tier1", status="accepted", at=answered
            )
        ]
    )
    request = store.get_request(MINERALS)
    [event] = store.list_cascades()
    [ack] = store.list_acknowledgements()
    assert request is not None and request.issued_at == T0
    assert event.sent_at == sent and ack.at == answered
    for value in (request.issued_at, event.sent_at, ack.at, ack.recorded_at):
        assert value is not None and value.tzinfo is not None
        assert value.utcoffset() == timedelta(0)
    assert event.sent_at.microsecond == 123456


# -- deleting companies -------------------------------------------------------------------


def test_deleting_an_unknown_company_returns_false(store: CascadeStore) -> None:
    assert store.delete_company("ghost-tier9") is False
    assert store.delete_company("ghost-tier9", force=True) is False
    assert store.revision() == 0


def test_an_unreferenced_company_is_deleted(store: CascadeStore) -> None:
    store.upsert_companies([FOCAL, SMELTER])
    assert store.delete_company("kanto-smelter") is True
    assert store.get_company("kanto-smelter") is None
    assert store.load_network().kinds == {"focal-jp": "manufacturer"}
    assert store.revision() == 2


@pytest.mark.parametrize("company_id", ["acme-tier1", "kanto-smelter"])  # buyer+supplier, supplier
def test_a_linked_company_is_in_use_without_force(store: CascadeStore, company_id: str) -> None:
    seed_chain(store)
    revision = store.revision()
    with pytest.raises(InUse):
        store.delete_company(company_id)
    assert store.get_company(company_id) is not None
    assert store.list_links() == in_key_order(CHAIN_LINKS)
    assert store.revision() == revision


def test_a_company_still_named_by_a_cascade_is_in_use(store: CascadeStore) -> None:
    seed_chain(store)
    store.add_cascades([cascade("beta-tier2", "kanto-smelter", 50)])
    store.delete_link("beta-tier2", "kanto-smelter")  # no link left, the forward remains
    with pytest.raises(InUse):
        store.delete_company("kanto-smelter")
    assert store.get_company("kanto-smelter") == SMELTER


def test_a_company_with_its_own_answer_is_in_use(store: CascadeStore) -> None:
    seed_chain(store)
    store.add_acknowledgements([answer("kanto-smelter", "accepted", 61)])
    store.delete_link("beta-tier2", "kanto-smelter")  # no link, no cascade, one answer
    with pytest.raises(InUse):
        store.delete_company("kanto-smelter")
    assert len(store.list_acknowledgements(company_id="kanto-smelter")) == 1


def test_force_deletes_the_company_with_its_links_events_and_answers(
    store: CascadeStore,
) -> None:
    seed_chain(store)
    seed_events(store)
    revision = store.revision()
    assert store.delete_company("beta-tier2", force=True) is True
    assert store.revision() == revision + 1
    assert store.get_company("beta-tier2") is None
    assert store.list_links() == [CHAIN_LINKS[0]]
    assert store.list_cascades() == [cascade("focal-jp", "acme-tier1", 1)]
    assert [a.company_id for a in store.list_acknowledgements()] == ["acme-tier1"]
    events = store.request_events(MINERALS)
    assert len(events.cascades) == 1 and len(events.acknowledgements) == 1
    assert set(store.load_network().kinds) == {"focal-jp", "acme-tier1", "kanto-smelter"}


def test_the_issuer_of_a_request_is_always_in_use(store: CascadeStore) -> None:
    seed_chain(store)
    seed_events(store)
    revision = store.revision()
    for force in (False, True):
        with pytest.raises(InUse):
            store.delete_company("focal-jp", force=force)
    assert store.get_company("focal-jp") == FOCAL
    assert store.list_links(buyer_id="focal-jp") == [CHAIN_LINKS[0]]
    assert len(store.list_cascades()) == 3 and len(store.list_acknowledgements()) == 2
    assert store.revision() == revision


def test_an_issuer_without_links_is_still_in_use(store: CascadeStore) -> None:
    store.upsert_companies([FOCAL])
    store.create_request(policy())
    with pytest.raises(InUse):
        store.delete_company("focal-jp", force=True)


# -- reads for the coverage engine --------------------------------------------------------


def test_load_network_has_every_company_kind_every_link_and_the_revision(
    store: CascadeStore,
) -> None:
    seed_chain(store)
    isolated = Company(id="lone-contractor", name="Lone Contractor", kind=CompanyKind.contractor)
    store.upsert_companies([isolated])
    network = store.load_network()
    assert network.kinds == {
        "focal-jp": "manufacturer",
        "acme-tier1": "manufacturer",
        "beta-tier2": "distributor",
        "kanto-smelter": "smelter",
        "lone-contractor": "contractor",
    }
    assert network.links == link_rows(CHAIN_LINKS)
    assert network.revision == store.revision() == 4


def test_request_events_hold_everything_of_one_request_only(
    store: CascadeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import service.store.neo4j.changelog

    monkeypatch.setattr(service.store.neo4j.changelog, "EVENTS_PAGE", 7)  # Neo4j reads in pages
    suppliers = [Company(id=f"sup-{n:04d}", name=f"Supplier {n}") for n in range(1100)]
    store.upsert_companies([FOCAL, *suppliers])
    store.create_request(policy())
    store.create_request(policy("reach-2026", topic="reach", title="REACH information"))
    forwards = [
        cascade("focal-jp", s.id, 1 + (n * 7 % 1100) / 100) for n, s in enumerate(suppliers)
    ]
    answers = [answer(s.id, "accepted", 100 + n / 100) for n, s in enumerate(suppliers)]
    store.add_cascades([*forwards, cascade("focal-jp", "sup-0000", 2, "reach-2026")])
    store.add_acknowledgements(answers[:600])
    store.add_acknowledgements([answer("sup-0000", "declined", 3, "reach-2026")])
    store.add_acknowledgements(answers[600:])
    events = store.request_events(MINERALS)
    in_sending_order = sorted(forwards, key=lambda e: e.sent_at)
    assert events.cascades == [
        (e.from_id, e.to_id, to_epoch_us(e.sent_at)) for e in in_sending_order
    ]
    recorded = sorted(store.list_acknowledgements(request_id=MINERALS, limit=5000), key=seq_of)
    assert events.acknowledgements == [
        (a.company_id, str(a.status), to_epoch_us(a.at), a.seq) for a in recorded
    ]
    assert [company for company, *_ in events.acknowledgements] == [a.company_id for a in answers]
    other = store.request_events("reach-2026")
    assert other.cascades == [("focal-jp", "sup-0000", to_epoch_us(at(2)))]
    [(company, status, answered, seq)] = other.acknowledgements
    assert (company, status, answered) == ("sup-0000", "declined", to_epoch_us(at(3)))
    assert recorded[599].seq < seq < recorded[600].seq  # seq: recording order, across requests
    assert store.request_events("no-such-request") == RequestEvents(
        cascades=[], acknowledgements=[]
    )


def seq_of(ack: Acknowledgement) -> int:
    return ack.seq


@pytest.mark.parametrize(
    "instant",
    [
        datetime(2026, 1, 7, 23, 59, 59, 999999, tzinfo=UTC),  # must not round up a second
        datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),  # just before the epoch
        datetime(2026, 1, 6, 8, 30, 15, 123456, tzinfo=timezone(timedelta(hours=9))),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ],
)
def test_request_events_give_exact_epoch_microseconds(
    store: CascadeStore, instant: datetime
) -> None:
    seed_chain(store)
    sent = CascadeEvent(
        request_id=MINERALS, from_id="focal-jp", to_id="acme-tier1", sent_at=instant
    )
    store.add_cascades([sent])
    store.add_acknowledgements(
        [
            Acknowledgement(
                request_id=MINERALS, company_id="acme-tier1", status="received", at=instant
            )
        ]
    )
    events = store.request_events(MINERALS)
    [(_, _, sent_us)] = events.cascades
    [(_, _, answered_us, _)] = events.acknowledgements
    assert sent_us == answered_us == to_epoch_us(instant)
    assert from_epoch_us(sent_us) == instant


def test_big_batches_load_whole_and_page_back_completely(store: CascadeStore) -> None:
    suppliers = [
        Company(id=f"sup-{n:05d}", name=f"Supplier {n}", country="VN") for n in range(3000)
    ]
    links = [
        SupplyLink(buyer_id=f"sup-{n:05d}", supplier_id=f"sup-{(n * 7 + k) % 3000:05d}")
        for n in range(3000)
        for k in (1, 2)
    ]
    assert set(store.upsert_companies(suppliers)) == {CREATED}
    assert set(store.add_links(links)) == {CREATED}
    assert store.revision() == 2
    paged: list[SupplyLink] = []
    page = store.list_links(limit=1000)
    while page:
        paged += page
        page = store.list_links(limit=1000, after=page[-1].key)
    assert [link.key for link in paged] == sorted(link.key for link in links)
    assert store.load_network().links == link_rows(links)
    assert store.existing_company_ids(s.id for s in suppliers) == {s.id for s in suppliers}


def test_concurrent_writers_lose_nothing_and_count_every_change(store: CascadeStore) -> None:
    seed_chain(store)
    revision = store.revision()
    errors: list[BaseException] = []

    def post(worker: int) -> None:
        try:
            for n in range(10):
                store.add_acknowledgements([answer("acme-tier1", "received", worker * 100 + n)])
                store.load_network()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=post, args=(w,)) for w in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    history = store.list_acknowledgements()
    assert len(history) == 60 and len({a.seq for a in history}) == 60
    assert store.revision() == revision + 60


# -- the change log -----------------------------------------------------------------------


def changes(store: CascadeStore, since: int, **options: int) -> ChangeSet:
    change_set = store.changes_since(since, **options)
    assert change_set is not None
    return change_set


def is_empty(change_set: ChangeSet) -> bool:
    return not (
        change_set.companies
        or change_set.links
        or change_set.requests
        or change_set.cascades
        or change_set.acknowledgements
        or change_set.events_removed
    )


def test_nothing_changed_since_the_current_revision(store: CascadeStore) -> None:
    assert changes(store, 0) == ChangeSet(0, {}, {}, set(), {}, {}, set())
    seed_chain(store)
    seed_events(store)
    now = changes(store, store.revision())
    assert now.revision == store.revision() and is_empty(now)


def test_company_writes_show_up_once_as_current_kinds(store: CascadeStore) -> None:
    store.upsert_companies([FOCAL, ACME])
    seen = store.revision()
    store.create_company(SMELTER)
    renamed = FOCAL.model_copy(update={"name": "Focal Holdings"})
    store.upsert_companies([renamed, ACME.model_copy(update={"kind": "distributor"}), BETA])
    store.delete_company("kanto-smelter")  # created and deleted since: gone
    since = changes(store, seen)
    assert since.revision == store.revision() == seen + 3
    assert since.companies == {
        "focal-jp": "manufacturer",  # renamed: a current value, not a diff
        "acme-tier1": "distributor",
        "beta-tier2": "distributor",
        "kanto-smelter": None,
    }
    assert (since.links, since.requests, since.cascades) == ({}, set(), {})
    assert (since.acknowledgements, since.events_removed) == ({}, set())
    assert changes(store, seen + 2).companies == {"kanto-smelter": None}
    assert is_empty(changes(store, since.revision))


def test_a_company_deleted_and_created_again_is_present(store: CascadeStore) -> None:
    store.upsert_companies([FOCAL, SMELTER])
    seen = store.revision()
    store.delete_company("kanto-smelter")
    store.upsert_companies([SMELTER.model_copy(update={"kind": "other"})])
    assert changes(store, seen).companies == {"kanto-smelter": "other"}
    store.delete_company("kanto-smelter")
    assert changes(store, seen).companies == {"kanto-smelter": None}


def test_link_writes_show_up_once_as_current_categories(store: CascadeStore) -> None:
    seed_chain(store)
    seen = store.revision()
    store.add_links(
        [
            CHAIN_LINKS[0].model_copy(update={"category": "logistics"}),
            CHAIN_LINKS[1],  # unchanged: not a change
            SupplyLink(buyer_id="focal-jp", supplier_id="beta-tier2", category="services"),
        ]
    )
    store.delete_link("beta-tier2", "kanto-smelter")
    store.delete_link("acme-tier1", "beta-tier2")
    store.add_links([CHAIN_LINKS[1]])  # deleted, then added again
    since = changes(store, seen)
    assert since.links == {
        ("focal-jp", "acme-tier1"): "logistics",
        ("focal-jp", "beta-tier2"): "services",
        ("beta-tier2", "kanto-smelter"): None,
        ("acme-tier1", "beta-tier2"): "raw_materials",
    }
    assert since.companies == {} and since.revision == seen + 4
    assert is_empty(changes(store, since.revision))


def test_requests_and_events_show_up_once_after_the_revision_seen(store: CascadeStore) -> None:
    seed_chain(store)
    store.add_cascades([cascade("focal-jp", "acme-tier1", 1)])
    seen = store.revision()
    store.create_request(policy("reach-2026", topic="reach", title="REACH information"))
    store.add_cascades(
        [
            cascade("focal-jp", "acme-tier1", 5),  # recorded before: keeps hour 1, no change
            cascade("acme-tier1", "beta-tier2", 26),
            cascade("focal-jp", "acme-tier1", 2, "reach-2026"),
        ]
    )
    answered = store.add_acknowledgements(
        [answer("acme-tier1", "accepted", 3), answer("acme-tier1", "received", 4, "reach-2026")]
    )
    since = changes(store, seen)
    assert since.requests == {"reach-2026"}
    assert since.cascades == {
        MINERALS: [("acme-tier1", "beta-tier2", to_epoch_us(at(26)))],
        "reach-2026": [("focal-jp", "acme-tier1", to_epoch_us(at(2)))],
    }
    (_, accepted), (_, received) = answered
    assert since.acknowledgements == {
        MINERALS: [("acme-tier1", "accepted", to_epoch_us(at(3)), accepted.seq)],
        "reach-2026": [("acme-tier1", "received", to_epoch_us(at(4)), received.seq)],
    }
    store.add_acknowledgements([answer("beta-tier2", "declined", 30)])
    later = changes(store, since.revision)
    assert later.requests == set() and later.cascades == {}
    assert [row[:2] for row in later.acknowledgements[MINERALS]] == [("beta-tier2", "declined")]


def test_retried_and_refused_writes_change_nothing_in_the_log(store: CascadeStore) -> None:
    seed_chain(store)
    seed_events(store)
    seen = store.revision()
    store.upsert_companies(CHAIN)
    store.add_links(CHAIN_LINKS)
    store.add_cascades(
        [cascade("focal-jp", "acme-tier1", 1), cascade("acme-tier1", "beta-tier2", 30)]
    )
    store.add_acknowledgements([answer("acme-tier1", "accepted", 3)])
    store.delete_link("focal-jp", "kanto-smelter")  # no such link
    store.delete_company("ghost-tier9", force=True)
    with pytest.raises(AlreadyExists):
        store.create_company(ACME)
    with pytest.raises(InUse):
        store.delete_company("focal-jp", force=True)
    assert store.revision() == seen
    assert changes(store, seen) == ChangeSet(seen, {}, {}, set(), {}, {}, set())


def test_force_delete_reports_tombstones_and_requests_to_reload(store: CascadeStore) -> None:
    seed_chain(store)
    store.create_request(policy("reach-2026", topic="reach", title="REACH information"))
    seed_events(store)
    store.add_cascades([cascade("focal-jp", "acme-tier1", 1, "reach-2026")])  # not beta's
    seen = store.revision()
    store.delete_company("beta-tier2", force=True)
    since = changes(store, seen)
    assert since.companies == {"beta-tier2": None}
    assert since.links == {
        ("acme-tier1", "beta-tier2"): None,
        ("beta-tier2", "kanto-smelter"): None,
    }
    assert since.events_removed == {MINERALS}
    assert (since.requests, since.cascades, since.acknowledgements) == (set(), {}, {})


def test_more_changes_than_the_limit_or_an_unknown_revision_give_none(
    store: CascadeStore,
) -> None:
    seed_chain(store)  # 4 companies, 3 links, 1 request
    assert changes(store, 0, limit=8).revision == 3
    assert store.changes_since(0, limit=7) is None
    store.delete_link("focal-jp", "acme-tier1")  # a tombstone counts as a row too
    assert changes(store, 2, limit=2).requests == {MINERALS}  # the request and the tombstone
    assert store.changes_since(2, limit=1) is None
    assert store.changes_since(store.revision() + 1) is None  # ahead: a cleared store
    assert store.changes_since(-1) is None


def replay_network(network: Network, since: ChangeSet) -> Network:
    """A cached network brought forward by a change set, as a cache would do it."""
    kinds = dict(network.kinds)
    for company_id, kind in since.companies.items():
        kinds.pop(company_id, None) if kind is None else kinds.update({company_id: kind})
    links = {(buyer, supplier): category for buyer, supplier, category in network.links}
    for key, category in since.links.items():
        links.pop(key, None) if category is None else links.update({key: category})
    rows = sorted((buyer, supplier, category) for (buyer, supplier), category in links.items())
    return Network(kinds=kinds, links=rows, revision=since.revision)


def replay_events(events: RequestEvents, request_id: str, since: ChangeSet) -> RequestEvents:
    """Cached events of one request brought forward: cascades by key keep the earliest
    `sent_at`, answers by seq."""
    sent: dict[tuple[str, str], int] = {}
    for from_id, to_id, sent_at in [*events.cascades, *since.cascades.get(request_id, [])]:
        sent[(from_id, to_id)] = min(sent_at, sent.get((from_id, to_id), sent_at))
    answers = {
        row[3]: row
        for row in [*events.acknowledgements, *since.acknowledgements.get(request_id, [])]
    }
    return RequestEvents(
        cascades=sorted(
            ((f, t, s) for (f, t), s in sent.items()), key=lambda e: (e[2], e[0], e[1])
        ),
        acknowledgements=[answers[seq] for seq in sorted(answers)],
    )


def random_write(store: CascadeStore, rng: random.Random) -> None:
    """One write of a random kind over a small pool of companies (may change nothing)."""
    alive = sorted(store.load_network().kinds)
    pool = [f"sup-{n}" for n in range(6)]
    pick = rng.choice(["companies", "companies", "links", "links", "unlink", "drop", "events"])
    if pick == "companies":
        kinds = ["manufacturer", "smelter"]
        store.upsert_companies(
            [Company(id=cid, name=cid, kind=rng.choice(kinds)) for cid in rng.sample(pool, 3)]
        )
    elif pick == "links" and len(alive) > 1:
        pairs = [tuple(rng.sample(alive, 2)) for _ in range(3)]
        category = rng.choice(["components", "raw_materials"])
        store.add_links(
            [SupplyLink(buyer_id=b, supplier_id=s, category=category) for b, s in pairs]
        )
    elif pick == "unlink" and len(alive) > 1:
        store.delete_link(*rng.sample(alive, 2))
    elif pick == "drop" and len(alive) > 1:
        store.delete_company(rng.choice([cid for cid in alive if cid != "focal-jp"]), force=True)
    elif pick == "events" and len(alive) > 1:
        request_id = rng.choice([MINERALS, "reach-2026"])
        sender, receiver = rng.sample(alive, 2)
        hours = rng.randrange(100)
        store.add_cascades([cascade(sender, receiver, hours, request_id)])
        status = rng.choice(["received", "accepted"])
        store.add_acknowledgements([answer(receiver, status, hours, request_id)])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_replaying_changes_on_a_cached_copy_gives_the_current_state(
    store: CascadeStore, seed: int
) -> None:
    rng = random.Random(seed)
    store.upsert_companies([FOCAL])
    store.create_request(policy())
    cached = store.load_network()
    requests = [MINERALS, "reach-2026"]
    cached_events = {request_id: store.request_events(request_id) for request_id in requests}
    store.create_request(policy("reach-2026", topic="reach", title="REACH information"))
    for _ in range(6):
        for _ in range(rng.randint(1, 6)):
            random_write(store, rng)
        since = changes(store, cached.revision)
        cached = replay_network(cached, since)
        assert cached == store.load_network()
        for request_id in requests:
            if request_id in since.events_removed:
                cached_events[request_id] = store.request_events(request_id)
            else:
                cached_events[request_id] = replay_events(
                    cached_events[request_id], request_id, since
                )
            assert cached_events[request_id] == store.request_events(request_id)


# -- upgrading a database of an older version ---------------------------------------------
# The one place this suite writes SQL and Cypher: the port cannot write an old database.

OLD_SQLITE_SCHEMA = """
CREATE TABLE store_meta (id INTEGER PRIMARY KEY CHECK (id = 1), revision INTEGER NOT NULL);
CREATE TABLE companies (id TEXT PRIMARY KEY, name TEXT NOT NULL, country TEXT,
    kind TEXT NOT NULL, identifiers TEXT NOT NULL, tags TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE links (buyer_id TEXT NOT NULL REFERENCES companies (id),
    supplier_id TEXT NOT NULL REFERENCES companies (id), category TEXT NOT NULL,
    PRIMARY KEY (buyer_id, supplier_id), CHECK (buyer_id <> supplier_id)) WITHOUT ROWID;
CREATE TABLE requests (id TEXT PRIMARY KEY, topic TEXT NOT NULL, title TEXT NOT NULL,
    version TEXT NOT NULL, issuer_id TEXT NOT NULL REFERENCES companies (id),
    issued_at TEXT NOT NULL, due_days INTEGER NOT NULL, valid_days INTEGER,
    mandatory INTEGER NOT NULL, applies_to TEXT NOT NULL, supersedes TEXT, catalog_id TEXT,
    description TEXT) WITHOUT ROWID;
CREATE TABLE cascades (request_id TEXT NOT NULL REFERENCES requests (id),
    from_id TEXT NOT NULL REFERENCES companies (id), to_id TEXT NOT NULL REFERENCES companies (id),
    sent_at TEXT NOT NULL, PRIMARY KEY (request_id, from_id, to_id)) WITHOUT ROWID;
CREATE TABLE acknowledgements (seq INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL REFERENCES requests (id),
    company_id TEXT NOT NULL REFERENCES companies (id), status TEXT NOT NULL, at TEXT NOT NULL,
    evidence TEXT, recorded_at TEXT NOT NULL, posted_by TEXT);
CREATE UNIQUE INDEX acks_identity ON acknowledgements (request_id, company_id, status, at);
INSERT INTO store_meta VALUES (1, 4);
INSERT INTO companies VALUES
    ('focal-jp', 'Focal Electronics K.K.', 'JP', 'manufacturer', '{}', '[]'),
    ('acme-tier1', 'ACME Components Ltd.', 'CN', 'manufacturer', '{}', '[]');
INSERT INTO links VALUES ('focal-jp', 'acme-tier1', 'components');
INSERT INTO requests VALUES ('minerals-2026', 'conflict_minerals', 'Minerals', '2026',
    'focal-jp', '2026-01-05T09:00:00.000000Z', 30, NULL, 1, '{}', NULL, NULL, NULL);
INSERT INTO acknowledgements (request_id, company_id, status, at, recorded_at) VALUES
    ('minerals-2026', 'acme-tier1', 'accepted', '2026-01-05T12:00:00.000000Z',
     '2026-01-05T12:00:01.000000Z');
"""


def old_database(store: CascadeStore, store_kind: str, tmp_path: Path) -> CascadeStore:
    """A store on a database written before the change log, at revision 4: focal-jp buys
    from acme-tier1, which accepted the minerals request at hour 3. SQLite: a file made
    with the old DDL; Neo4j: the fresh `store` written, then stripped of the log."""
    if store_kind == "sqlite":
        from service.store.sqlite import SqliteStore

        path = tmp_path / "old.db"
        old = sqlite3.connect(path)
        with old:
            old.executescript(OLD_SQLITE_SCHEMA)
        old.close()
        return SqliteStore(str(path))
    store.upsert_companies([FOCAL, ACME])
    store.add_links([CHAIN_LINKS[0]])
    store.create_request(policy())
    store.add_acknowledgements([answer("acme-tier1", "accepted", 3)])
    with store._driver.session(database=store.database) as session:  # type: ignore[attr-defined]
        for statement in (
            "MATCH (n) WHERE n.revision IS NOT NULL REMOVE n.revision",
            "MATCH ()-[l:SUPPLIED_BY]->() REMOVE l.revision",
            "MATCH (r:StoreRevision) REMOVE r.log_from",
            "MATCH (v:SchemaVersion) DELETE v",  # the old version recorded none
        ):
            session.run(statement).consume()
    assert store.changes_since(0) is None  # not upgraded yet: the log cannot answer
    return store


def test_an_older_database_is_upgraded_in_place(
    store: CascadeStore, store_kind: str, tmp_path: Path
) -> None:
    store = old_database(store, store_kind, tmp_path)
    try:
        store.init_schema()
        store.init_schema()  # and again: idempotent
        network = store.load_network()
        assert network.links == [("focal-jp", "acme-tier1", "components")]
        assert network.revision == store.revision() == 4
        [(company, status, _, first_seq)] = store.request_events(MINERALS).acknowledgements
        assert (company, status) == ("acme-tier1", "accepted")
        # the log starts at the upgrade: deletions before it left no tombstones
        assert store.changes_since(3) is None
        assert is_empty(changes(store, 4))
        store.upsert_companies([BETA])
        store.delete_link("focal-jp", "acme-tier1")
        [(_, later)] = store.add_acknowledgements([answer("acme-tier1", "declined", 5)])
        since = changes(store, 4)
        assert since.companies == {"beta-tier2": "distributor"}
        assert since.links == {("focal-jp", "acme-tier1"): None}
        assert since.acknowledgements == {
            MINERALS: [("acme-tier1", "declined", to_epoch_us(at(5)), later.seq)]
        }
        assert later.seq > first_seq
    finally:
        store.close()
