"""A company's cascade view: the request's coverage questions answered with company X in
the issuer's place.

The view is the request as if X had issued it: the same `due_days`, `valid_days` and
applicability, tiers counted from X, and only cascade events on chains starting at X
counting (a company reached only through another buyer is `unreached` here). The snapshot
builds and caches it (`CoverageSnapshot.read_view`); this module answers from it and shows
each company as the caller may see it (`service.coverage.pseudonyms`).
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from graph_models.engine import uncovered_page
from service.access.keys import Principal, Role
from service.coverage.answers import coverage_read
from service.coverage.pseudonyms import Identities, Pseudonyms, RealIds, direct_suppliers
from service.coverage.schemas import (
    CoverageRead,
    GapPage,
    GapRead,
    UncoveredPathPage,
    UncoveredPathRead,
)
from service.coverage.snapshot import CoverageSnapshot, Gap, Reading
from service.http.errors import NotFound
from service.http.pagination import decode_offset, encode_cursor

__all__ = ["identities_for", "view_coverage", "view_gap_page", "view_gaps",
           "view_path_page"]


def identities_for(reading: Reading, who: Principal | None, secret: bytes) -> Identities:
    """Real ids for staff keys; for an integration key, its company and that company's
    direct suppliers by id and everyone else by pseudonym."""
    if who is None or who.role != Role.integration or reading.viewer is None:
        return RealIds()
    network = reading.analysis.scope.network
    known = direct_suppliers(network, reading.viewer) | {reading.viewer}
    return Pseudonyms(secret, reading.request_id, reading.viewer, known)


def view_coverage(reading: Reading, *, as_of: datetime | None) -> CoverageRead:
    """The summary and tier table of the view (`root_id` is the viewing company)."""
    return coverage_read(reading, as_of=as_of)


def view_gaps(snapshot: CoverageSnapshot, reading: Reading, ids: Identities) -> list[Gap]:
    """The view's gaps as `ids` shows them, most impactful first, then nearest tier, then
    by the ids shown (so the order of hidden ids tells nothing of their real ones)."""
    if not ids.masks:
        return snapshot.gaps(reading)

    def masked(gaps: list[Gap]) -> list[Gap]:
        shown = [(ids.show(u), ids.show(v), t, i) for u, v, t, i in gaps]
        return sorted(shown, key=lambda g: (-g[3], g[2], g[0], g[1]))

    return snapshot.listing(reading, "masked", masked)


def view_gap_page(snapshot: CoverageSnapshot, reading: Reading, ids: Identities, *,
                  limit: int, cursor: str | None) -> GapPage:
    start = decode_offset(cursor)
    gaps = view_gaps(snapshot, reading, ids)
    page = [GapRead(from_id=u, to_id=v, tier=t, impact=i)
            for u, v, t, i in gaps[start : start + limit]]
    more = start + limit < len(gaps)
    return GapPage(items=page, next_cursor=encode_cursor(start + limit) if more else None)


def view_path_page(reading: Reading, ids: Identities, *, limit: int, cursor: str | None,
                   target: str | None) -> UncoveredPathPage:
    """Uncovered paths from the viewing company; `target` names a company as the view
    shows it (a pseudonym for a hidden one: its real id names nothing here)."""
    start = decode_offset(cursor)
    analysis = reading.analysis
    network, at = analysis.scope.network, None
    if target is not None:
        inside = (network.ids[i] for i in np.flatnonzero(analysis.scope.inside).tolist())
        real = ids.resolve(target, inside)
        at = network.index.get(real) if real is not None else None
        if at is None:
            raise NotFound(f"no company {target!r}")
    page, following = uncovered_page(analysis, start=start, limit=limit, target=at)
    return UncoveredPathPage(
        items=[UncoveredPathRead(companies=[ids.show(c) for c in p.companies],
                                 break_index=p.break_index, reason=p.reason) for p in page],
        next_cursor=encode_cursor(following) if following is not None else None,
    )
