"""Break points of a request (gaps) and how many uncovered companies each leaves behind.

`ArrayAnalysis.gap_links` finds the gaps (applicable links not cascaded whose buyer is the
issuer or acknowledged); `uncovered_upstream` counts each one's impact exactly on the
component DAG, a bitset per uncovered company; `is_gap_list` checks a listing of gaps
against the definitions, link by link in Python.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import numpy as np

from graph_models.engine.components import ComponentDag
from graph_models.engine.reach import reach_counts
from graph_models.models import NodeState

if TYPE_CHECKING:
    from graph_models.engine.analysis import ArrayAnalysis

__all__ = ["is_gap_list", "uncovered_upstream"]


def uncovered_upstream(
    dag: ComponentDag, uncovered: np.ndarray, heads: np.ndarray
) -> dict[int, int]:
    """For each head company: the `uncovered` companies upstream of it (itself included),
    exactly (`reach.reach_counts`: bitsets over the component DAG).

    Examples
    --------
    f=0 buys from a=1 and b=2, both from c=3; a, b and c are not covered.

    >>> dag = ComponentDag.of(4, np.array([0, 0, 1, 2]), np.array([1, 2, 3, 3]))
    >>> uncovered_upstream(dag, np.array([1, 2, 3]), np.array([0, 1, 3]))
    {0: 3, 1: 2, 3: 1}
    """
    impact = reach_counts(dag, heads, uncovered)
    return dict(zip(heads.tolist(), impact.tolist(), strict=True))


def is_gap_list(analysis: ArrayAnalysis, gaps: list[tuple[str, str, int, int]]) -> bool:
    """Checker: `gaps` are the request's break points, with their tiers and impacts.

    A gap is an applicable link u -> v without a cascade event where u is the issuer or
    acknowledged; its impact is the number of companies upstream of v (v included, over
    request-subgraph links) not covered. Listed most impactful first, then by tier, ids.

    Examples
    --------
    f forwarded to a, which accepted; a never forwarded to b.

    >>> from datetime import UTC, datetime
    >>> from graph_models.engine import CompactNetwork, RequestLedger, RequestScope, analyse
    >>> from graph_models.models import PolicyRequest, to_epoch_us
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> us = to_epoch_us(t)
    >>> net = CompactNetwork.build(dict.fromkeys("fab", "manufacturer"),
    ...                            [("f", "a", "components"), ("a", "b", "components")])
    >>> scope = RequestScope(net, PolicyRequest(id="bcp", topic="business_continuity",
    ...     title="BCP", issuer_id="f", issued_at=t))
    >>> a = analyse(RequestLedger.of(scope, [("f", "a", us)], [("a", "accepted", us, 1)]), t)
    >>> a.gaps(), is_gap_list(a, a.gaps())
    ([('a', 'b', 2, 1)], True)
    >>> is_gap_list(a, [("f", "a", 1, 2)])  # f -> a was forwarded: not a gap
    False
    """
    scope, ids = analysis.scope, analysis.scope.network.ids
    suppliers: dict[int, list[int]] = {}
    for u, v in zip(scope.src.tolist(), scope.dst.tolist(), strict=True):
        suppliers.setdefault(u, []).append(v)

    def impact(head: int) -> int:
        seen, queue = {head}, deque([head])
        while queue:
            for v in suppliers.get(queue.popleft(), []):
                if v not in seen:
                    seen.add(v)
                    queue.append(v)
        return sum(not analysis.covered[v] for v in seen)

    expected = [
        (ids[u], ids[v], int(scope.tier[v]), impact(v))
        for i, (u, v) in enumerate(zip(scope.src.tolist(), scope.dst.tolist(), strict=True))
        if not analysis.cascaded[i] and (u == scope.root or analysis.state_of(u)
                                         == NodeState.acknowledged)
    ]
    return gaps == sorted(expected, key=lambda g: (-g[3], g[2], g[0], g[1]))
