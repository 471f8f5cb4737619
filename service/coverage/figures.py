"""Every request's figures now, for the metrics collector and the webhook dispatcher."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graph_models.engine import STATE_CODE, ArrayAnalysis
from graph_models.models import NodeState
from service.coverage.dashboard import GapCountsDashboard

__all__ = ["RequestFigures", "overdue_companies", "request_figures"]


@dataclass(frozen=True)
class RequestFigures:
    request_id: str
    topic: str
    states: dict[str, int]
    gaps: int
    uncovered_paths: int
    coverage_ratio: float
    overdue: tuple[tuple[str, int], ...]  # (company id, first reached µs) of overdue ones
    revision: int = 0  # the store revision the figures are taken at
    valid_until: int = 0  # µs: when they can next change by the clock (`valid_until()`)


def request_figures(dashboard: GapCountsDashboard) -> list[RequestFigures]:
    """Every request's state counts and totals now (from the dashboard's cache)."""
    revision, counted = dashboard.counted()
    return [RequestFigures(
        request_id=c.row.request_id, topic=c.row.topic,
        states=c.now.analysis.state_counts(), gaps=c.row.gaps,
        uncovered_paths=c.row.uncovered_paths, coverage_ratio=c.row.coverage_ratio,
        overdue=overdue_companies(c.now.analysis), revision=revision,
        valid_until=c.now.analysis.valid_until()) for c in counted]


def overdue_companies(analysis: ArrayAnalysis) -> tuple[tuple[str, int], ...]:
    """(id, first reached µs) of the companies overdue in the analysis."""
    ids = analysis.scope.network.ids
    found = np.flatnonzero(analysis.state == STATE_CODE[NodeState.overdue])
    return tuple((ids[i], int(analysis.first[i])) for i in found)
