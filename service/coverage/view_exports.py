"""A company's follow-up list from its cascade view: what X itself and X's direct
suppliers still have to forward.

Same files as the request's own (`service.coverage.exports`): the *gaps* sheet holds the
view's gaps whose responsible company is X or one of X's direct suppliers, the *overdue
and declined* sheet those of X's direct suppliers. Responsible companies are therefore
always shown by id with their contact fields; a missing supplier hidden from the caller
appears by pseudonym with its country only (no name, no contact).
"""

from __future__ import annotations

from typing import Any

from service.coverage.exports import FollowUp, _companies, _contact, _late_companies, _who
from service.coverage.pseudonyms import Identities, direct_suppliers
from service.coverage.snapshot import CoverageSnapshot, Reading
from service.store.port import CascadeStore

__all__ = ["view_follow_up"]


def view_follow_up(*, coverage: CoverageSnapshot, store: CascadeStore, reading: Reading,
                   ids: Identities) -> FollowUp:
    """The gaps X and its direct suppliers are responsible for, and its overdue and
    declined direct suppliers, in X's view at the reading's instant."""
    assert reading.viewer is not None, "a view's reading"
    analysis = reading.analysis
    chasing = direct_suppliers(analysis.scope.network, reading.viewer) | {reading.viewer}
    gaps = [g for g in coverage.gaps(reading) if g[0] in chasing]
    late = [row for row in _late_companies(analysis) if row[0] in chasing]
    wanted = {u for u, *_ in gaps} | {v for _, v, *_ in gaps} | {c for c, *_ in late}
    companies = _companies(store, wanted)
    request_id = reading.request_id
    shown = sorted(((-impact, tier, u, _missing(companies, ids, v))
                    for u, v, tier, impact in gaps))  # ordered by the ids shown
    gap_rows = [(request_id, *_who(companies, u), *_contact(companies, u), *missing, tier,
                 -impact) for impact, tier, u, missing in shown]
    late_rows = [(request_id, cid, *_who(companies, cid)[1:], *rest,
                  *_contact(companies, cid)) for cid, *rest in late]
    return FollowUp(request_id, gap_rows, late_rows)


def _missing(companies: dict[str, Any], ids: Identities, company_id: str) -> tuple[str, ...]:
    """(id, name, country) of a missing supplier as the caller may see it."""
    _, name, country = _who(companies, company_id)
    if ids.shown_by_id(company_id):
        return company_id, name, country
    return ids.show(company_id), "", country
