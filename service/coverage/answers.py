"""The coverage questions, answered from a `Reading` of the snapshot: the summary and tier
table, the gap and uncovered-path pages, a company's standing, the history, upstream."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from graph_models.engine import (
    NEVER,
    ArrayAnalysis,
    analyse,
    chain_to,
    distances_from,
    uncovered_page,
)
from graph_models.models import from_epoch_us, to_epoch_us, utc_now
from service.coverage.schemas import (
    CompanyStanding,
    CoverageHistory,
    CoverageRead,
    GapPage,
    GapRead,
    HistoryPoint,
    PathTotals,
    UncoveredPathPage,
    UncoveredPathRead,
    UpstreamCompany,
)
from service.coverage.snapshot import CoverageSnapshot, Reading
from service.http.errors import InvalidField, NotFound
from service.http.pagination import decode_offset, encode_cursor

__all__ = ["coverage_read", "gap_page", "history", "standing", "supplier_answers",
           "uncovered_path_page", "upstream"]


def coverage_read(reading: Reading, *, as_of: datetime | None) -> CoverageRead:
    analysis = reading.analysis
    total, covered = analysis.path_counts()
    return CoverageRead(
        request_id=reading.request_id,
        root_id=analysis.scope.request.issuer_id,
        revision=reading.revision,
        as_of=as_of or analysis.as_of,  # states hold from then until a change
        counts=analysis.state_counts(),
        gaps=int(analysis.gap_links.size),
        paths=PathTotals(total=total, covered=covered, uncovered=total - covered),
        coverage_ratio=analysis.coverage_ratio,
        tiers=analysis.tier_table(),
    )


def gap_page(snapshot: CoverageSnapshot, reading: Reading, *, limit: int,
             cursor: str | None) -> GapPage:
    start = decode_offset(cursor)
    gaps = snapshot.gaps(reading)
    page = [GapRead(from_id=u, to_id=v, tier=t, impact=i)
            for u, v, t, i in gaps[start : start + limit]]
    more = start + limit < len(gaps)
    return GapPage(items=page, next_cursor=encode_cursor(start + limit) if more else None)


def uncovered_path_page(reading: Reading, *, limit: int, cursor: str | None,
                        target: str | None) -> UncoveredPathPage:
    start = decode_offset(cursor)
    analysis = reading.analysis
    at = None
    if target is not None:
        at = analysis.scope.network.index.get(target)
        if at is None:
            raise NotFound(f"no company {target!r}")
    page, following = uncovered_page(analysis, start=start, limit=limit, target=at)
    return UncoveredPathPage(
        items=[UncoveredPathRead(**vars(p)) for p in page],
        next_cursor=encode_cursor(following) if following is not None else None,
    )


def standing(reading: Reading, *, company_id: str) -> CompanyStanding:
    analysis = reading.analysis
    company = analysis.scope.network.index.get(company_id)
    if company is None:
        raise NotFound(f"no company {company_id!r}")
    state = analysis.state_of(company)
    if state is None:
        raise NotFound(f"company {company_id!r} is outside request {reading.request_id!r}")
    first = int(analysis.first[company])
    suppliers, acknowledged = supplier_answers(analysis, company)
    return CompanyStanding(
        request_id=reading.request_id,
        company_id=company_id,
        state=state.value,
        tier=int(analysis.scope.tier[company]),
        covered=bool(analysis.covered[company]),
        path=chain_to(analysis, company),
        first_reached_at=None if first == NEVER else from_epoch_us(first),
        applicable_suppliers=suppliers,
        acknowledged_suppliers=acknowledged,
        acknowledged_supplier_share=acknowledged / suppliers if suppliers else None,
    )


def history(snapshot: CoverageSnapshot, *, request_id: str, start: datetime | None,
            to: datetime | None, step: timedelta, max_points: int) -> CoverageHistory:
    """The counts at `start`, `start + step`, ... up to `to` (default: the request's
    issue and now): one ledger, analysed only at the points where something changed (an
    event in between, or a state turning by the clock), each from the one before where
    only answers changed; the other points repeat the figures before them."""
    revision, request, ledger = snapshot.ledger(request_id)
    named = "to" if to is not None else "from"  # the bound the caller set (or from)
    start = start or request.issued_at
    to = to or utc_now()
    if to <= start:
        raise InvalidField("'from' must be before 'to'", field=named)
    if step <= timedelta(0):
        raise InvalidField("step must be positive", field="step")
    count = int((to - start) / step) + 1
    if count > max_points:
        raise InvalidField(f"{count} points asked, at most {max_points}: a longer step",
                           field="step")
    changes = np.unique(np.concatenate([ledger.cascade_sent, ledger.ack_at]))
    points: list[HistoryPoint] = []
    previous: ArrayAnalysis | None = None
    for n in range(count):
        at = start + n * step
        if previous is not None and _unchanged(previous, changes, to_epoch_us(at)):
            points.append(points[-1].model_copy(update={"at": at}))
            continue
        previous = analyse(ledger, at, previous)
        total, covered = previous.path_counts()
        points.append(HistoryPoint(at=at, counts=previous.state_counts(),
                                   gaps=int(previous.gap_links.size),
                                   uncovered_paths=total - covered,
                                   coverage_ratio=previous.coverage_ratio))
    return CoverageHistory(request_id=request_id, revision=revision, start=start, to=to,
                           step_seconds=step.total_seconds(), points=points)


def _unchanged(previous: ArrayAnalysis, changes: np.ndarray, at: int) -> bool:
    """Whether the analysis at `at` equals `previous`: no event recorded in between and
    no state turned by the clock."""
    recorded = np.searchsorted(changes, at, side="right") - np.searchsorted(
        changes, previous.now, side="right")
    return bool(recorded == 0 and at < previous.valid_until())


def upstream(snapshot: CoverageSnapshot, *, company_id: str,
             depth: int) -> list[UpstreamCompany]:
    """Suppliers of a company up to `depth` links away, nearest first (then by id)."""
    network = snapshot.network()
    company = network.index.get(company_id)
    if company is None:
        raise NotFound(f"no company {company_id!r}")
    tiers = distances_from(network.graph, company, limit=depth)
    found = [(int(tiers[i]), network.ids[i]) for i in np.flatnonzero(tiers > 0)]
    return [UpstreamCompany(id=c, tier=t) for t, c in sorted(found)]


def supplier_answers(analysis: ArrayAnalysis, company: int) -> tuple[int, int]:
    """(applicable suppliers, acknowledged ones) of a company for the analysed request.

    Its applicable suppliers are its direct suppliers over links the request applies to,
    taken on the request's subgraph (so a company outside the request has none), the
    issuer excepted (it is never asked). Acknowledged means their own state is
    `acknowledged`: accepted and still valid at the analysed instant. This is the figure
    CMRT question 6 asks for ("what percentage of relevant suppliers have responded").
    """
    scope = analysis.scope
    start, stop = scope.links_from[company], scope.links_from[company + 1]
    suppliers = np.unique(scope.dst[start:stop])
    suppliers = suppliers[suppliers != scope.root]
    return int(suppliers.size), int(np.count_nonzero(analysis.acknowledged[suppliers]))
