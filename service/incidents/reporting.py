"""What an incident survey's coverage adds: the suppliers' impact assessments and how
long they took to report."""

from __future__ import annotations

import numpy as np

from graph_models.engine import NEVER, ArrayAnalysis
from graph_models.models import Impact
from service.coverage.schemas import CoverageRead
from service.coverage.snapshot import Reading
from service.store.port import CascadeStore

__all__ = ["SURVEY_TOPIC", "impact_counts", "survey_report", "time_to_report_hours"]

SURVEY_TOPIC = "incident_report"
HOUR_US = 3_600_000_000
ANSWERS_READ = 1_000_000  # a survey's answers are read at once (the cone is small)


def impact_counts(store: CascadeStore, analysis: ArrayAnalysis) -> dict[str, int]:
    """Per impact value, the companies whose current answer carries it (an answer without
    an assessment counts as `unknown`)."""
    ledger = analysis.ledger
    current = analysis.answer[analysis.scope.inside]
    seqs = set(ledger.ack_seq[current[current >= 0]].tolist())
    counts = dict.fromkeys((impact.value for impact in Impact), 0)
    if not seqs:
        return counts
    request_id = analysis.scope.request.id
    for ack in store.list_acknowledgements(request_id=request_id, limit=ANSWERS_READ):
        if ack.seq in seqs:
            impact = (ack.evidence or {}).get("impact", Impact.unknown.value)
            counts[str(impact)] += 1
    return counts


def time_to_report_hours(analysis: ArrayAnalysis) -> dict[str, float | None]:
    """Median and 90th percentile of first answer minus first reached, in hours, over the
    reached companies that answered (by `as_of`); an answer sent before the request
    reached the company counts as 0."""
    ledger, n = analysis.ledger, analysis.scope.network.size
    seen = ledger.ack_at <= analysis.now
    first_answer = np.full(n, NEVER, dtype=np.int64)
    np.minimum.at(first_answer, ledger.ack_company[seen], ledger.ack_at[seen])
    both = (analysis.first != NEVER) & (first_answer != NEVER) & analysis.scope.inside
    hours = np.maximum(first_answer[both] - analysis.first[both], 0) / HOUR_US
    if not hours.size:
        return {"median": None, "p90": None}
    return {"median": float(np.median(hours)), "p90": float(np.percentile(hours, 90))}


def survey_report(store: CascadeStore, reading: Reading, read: CoverageRead) -> CoverageRead:
    """`read` with the survey figures when the request is an incident survey."""
    analysis = reading.analysis
    if analysis.scope.request.topic != SURVEY_TOPIC:
        return read
    return read.model_copy(update={"impact": impact_counts(store, analysis),
                                   "time_to_report_hours": time_to_report_hours(analysis)})
