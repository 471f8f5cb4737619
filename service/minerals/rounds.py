"""Regular surveys: `POST /v1/requests/{id}/reissue` issues the next round of a request, a
new version superseding it with the same applicability, optionally forwarded again along
every link it was forwarded along last time (by the issuer and every company that
forwarded it), sent when the new round is issued. `GET /v1/requests/{id}/rounds` shows
the rounds of the survey side by side."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from graph_models.engine import ArrayAnalysis
from graph_models.models import (
    CascadeEvent,
    Identifier,
    NodeState,
    PolicyRequest,
    UtcDateTime,
    from_epoch_us,
    utc_now,
)
from service.coverage.snapshot import CoverageSnapshot
from service.http.errors import Conflict, NotFound
from service.http.schemas import Payload
from service.minerals import rollup
from service.minerals.files import latest_files, supply_of
from service.minerals.schemas import CompanyChange, RoundChanges, RoundRead, RoundsRead
from service.store.port import AlreadyExists, CascadeStore, Network

__all__ = ["NextRound", "ReissueCreate", "ReissueRead", "next_round", "record_round", "reissue",
           "survey_chain", "survey_rounds"]

MAX_EVENTS = 10_000_000
MINERALS_TOPIC = "conflict_minerals"
ROUND_IDS_SHOWN = 100  # company ids listed per change (the count is always exact)
ANSWERED = (NodeState.acknowledged, NodeState.declined, NodeState.expired)
REACHED = (*ANSWERED, NodeState.pending, NodeState.overdue)


class ReissueCreate(Payload):
    id: Identifier | None = None  # default: <old id>-r<version>
    issued_at: UtcDateTime | None = None
    recascade: bool = False


class ReissueRead(Payload):
    request: PolicyRequest
    supersedes: str
    recascaded: int


def _next_version(version: str) -> str:
    return str(int(version) + 1) if version.isdigit() else f"{version}.1"


@dataclass(frozen=True)
class NextRound:
    """A round ready to record: the new request and the forwards sent again."""

    request: PolicyRequest
    supersedes: str
    events: list[CascadeEvent]


def next_round(*, store: CascadeStore, request_id: str, body: ReissueCreate) -> NextRound:
    """The next round of `request_id`, read before the write's transaction."""
    old = store.get_request(request_id)
    if old is None:
        raise NotFound(f"no request {request_id!r}")
    version = _next_version(old.version)
    issued = body.issued_at or utc_now()
    new = old.model_copy(update={
        "id": body.id or f"{old.id}-r{version}", "version": version, "issued_at": issued,
        "supersedes": old.id})
    new = PolicyRequest.model_validate(new.model_dump())  # the id checked like any other
    events = [CascadeEvent(request_id=new.id, from_id=e.from_id, to_id=e.to_id, sent_at=issued)
              for e in store.list_cascades(request_id=old.id, limit=MAX_EVENTS)
              ] if body.recascade else []
    return NextRound(request=new, supersedes=old.id, events=events)


def record_round(*, store: CascadeStore, round_: NextRound) -> ReissueRead:
    """The new request and its forwards in one store transaction; an id already taken is
    409 and changes nothing."""
    def work() -> None:
        store.create_request(round_.request)
        if round_.events:
            store.add_cascades(round_.events)

    try:
        store.atomic(work)
    except AlreadyExists as exc:
        raise Conflict(f"request {round_.request.id!r} already exists", field="id") from exc
    return ReissueRead(request=round_.request, supersedes=round_.supersedes,
                       recascaded=len(round_.events))


def reissue(*, store: CascadeStore, request_id: str, body: ReissueCreate) -> ReissueRead:
    return record_round(store=store, round_=next_round(store=store, request_id=request_id,
                                                        body=body))


# -- the rounds side by side ------------------------------------------------------------


def survey_chain(requests: list[PolicyRequest], request_id: str) -> list[PolicyRequest]:
    """The rounds of the survey `request_id` is part of, oldest first: the requests it
    supersedes, one after the other, itself, and the requests superseding it (of several
    superseding one round, the latest issued, then the largest id).

    >>> from datetime import UTC, datetime
    >>> def r(i, day, before=None):
    ...     return PolicyRequest(id=i, topic="t", title="t", issuer_id="f", supersedes=before,
    ...                          issued_at=datetime(2026, 1, day, tzinfo=UTC))
    >>> rounds = [r("a", 1), r("b", 2, "a"), r("c", 3, "b"), r("c2", 4, "b"), r("x", 5)]
    >>> [q.id for q in survey_chain(rounds, "b")], [q.id for q in survey_chain(rounds, "x")]
    (['a', 'b', 'c2'], ['x'])
    """
    by_id = {r.id: r for r in requests}
    successors: dict[str, list[PolicyRequest]] = {}
    for r in requests:
        if r.supersedes is not None:
            successors.setdefault(r.supersedes, []).append(r)
    chain, seen = [by_id[request_id]], {request_id}
    while (before := by_id.get(chain[0].supersedes or "")) is not None and before.id not in seen:
        chain.insert(0, before)
        seen.add(before.id)
    while after := [r for r in successors.get(chain[-1].id, []) if r.id not in seen]:
        chain.append(max(after, key=lambda r: (r.issued_at, r.id)))
        seen.add(chain[-1].id)
    return chain


def _covered_ids(analysis: ArrayAnalysis) -> set[str]:
    """The companies covered in the analysis, the issuer aside."""
    scope = analysis.scope
    covered = analysis.covered & scope.inside
    covered[scope.root] = False
    ids = scope.network.ids
    return {ids[i] for i in np.flatnonzero(covered).tolist()}


def _change(companies: set[str]) -> CompanyChange:
    return CompanyChange(count=len(companies), ids=sorted(companies)[:ROUND_IDS_SHOWN])


def _response_bands(store: CascadeStore, network: Network, request: PolicyRequest,
                    at: datetime) -> dict[str, str | None] | None:
    """Per template, the response-share band the issuer's roll-up gives at `at`
    (minerals surveys only)."""
    if request.topic != MINERALS_TOPIC:
        return None
    files = latest_files(store, request.id, as_of=at)
    rolled = rollup.declaration_of(files, supply_of(network, request), request.issuer_id)
    return {d.template: next(iter(d.answers["response_share"].values()), None)
            for d in rolled}


def _round(request: PolicyRequest, analysis: ArrayAnalysis,
           bands: dict[str, str | None] | None) -> RoundRead:
    counts = analysis.state_counts()
    reached = sum(counts[s] for s in REACHED)
    total, covered = analysis.path_counts()
    return RoundRead(
        request_id=request.id, version=request.version, issued_at=request.issued_at,
        at=from_epoch_us(analysis.now), counts=counts, coverage_ratio=analysis.coverage_ratio,
        gaps=int(analysis.gap_links.size), uncovered_paths=total - covered,
        overdue=counts[NodeState.overdue],
        answered_share=sum(counts[s] for s in ANSWERED) / reached if reached else None,
        response_band=bands, changes=None)


def survey_rounds(*, store: CascadeStore, snapshot: CoverageSnapshot, request_id: str,
                  as_of: datetime | None) -> RoundsRead:
    """Every round of the survey (rounds issued after `as_of` aside), each evaluated when
    the next one was issued, the last at `as_of` (default now), with the companies each
    round covers that the one before did not, and the reverse."""
    requests = store.list_requests()
    if not any(r.id == request_id for r in requests):
        raise NotFound(f"no request {request_id!r}")
    chain = [r for r in survey_chain(requests, request_id)
             if as_of is None or r.issued_at <= as_of]
    network = store.load_network() if any(r.topic == MINERALS_TOPIC for r in chain) else None
    rounds: list[RoundRead] = []
    previous: set[str] | None = None
    for n, request in enumerate(chain):
        closes = chain[n + 1].issued_at if n + 1 < len(chain) else as_of
        analysis = snapshot.read(request.id, closes).analysis
        bands = None if network is None else _response_bands(
            store, network, request, from_epoch_us(analysis.now))
        read = _round(request, analysis, bands)
        covered = _covered_ids(analysis)
        if previous is not None:
            read = read.model_copy(update={"changes": RoundChanges(
                newly_covered=_change(covered - previous), lost=_change(previous - covered))})
        rounds.append(read)
        previous = covered
    return RoundsRead(request_id=request_id, rounds=rounds)
