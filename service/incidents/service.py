"""Service functions of the incidents domain: record incidents, answer their exposure for
a root company, issue the survey (the prompt report) over the exposed cone."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from graph_models.engine import ArrayAnalysis
from graph_models.exposure import Exposure
from graph_models.incidents import Incident
from graph_models.models import Applicability, Company, PolicyRequest, utc_now
from service.http.errors import Conflict, InvalidField, NotFound
from service.http.pagination import decode_cursor, decode_offset, encode_cursor
from service.incidents import alerts
from service.incidents.atlas import BCP_TOPIC, IncidentAtlas
from service.incidents.schemas import (
    BcpStanding,
    ExposedCompany,
    ExposedCompanyPage,
    ExposureRead,
    IncidentCreate,
    IncidentPage,
    IncidentRead,
    MatchRead,
    PathShare,
    SupplierExposure,
    SurveyCreate,
    SurveyRead,
    TierExposure,
)
from service.store.port import AlreadyExists, WebhookEvent

__all__ = ["NewIncident", "NewSurvey", "close_incident", "create_incident", "exposed_companies",
           "exposure", "exposure_summaries", "get_incident", "issue_survey", "list_incidents",
           "new_incident", "new_survey", "record_incident", "record_survey"]

SURVEY_TOPIC = "incident_report"


def _read(atlas: IncidentAtlas, incident: Incident) -> IncidentRead:
    affected = len(atlas.locations().affected(incident.area.pure()))
    return IncidentRead(**incident.model_dump(), affected=affected)


@dataclass(frozen=True)
class NewIncident:
    """An incident ready to record, with its answer and its `incident.created` event."""

    incident: Incident
    read: IncidentRead
    alert: WebhookEvent


def new_incident(*, atlas: IncidentAtlas, body: IncidentCreate) -> NewIncident:
    """The incident of `body`, checked, and its webhook event with every registered
    root's exposure: read here, before the write, so the write's transaction stays short."""
    listed = body.area.company_ids or []
    known = atlas.store.existing_company_ids(listed)
    unknown = sorted(set(listed) - known)
    if unknown:
        raise InvalidField(f"unknown companies in area.company_ids: {', '.join(unknown[:20])}",
                           field="area.company_ids")
    incident = Incident(id=body.id or f"incident-{uuid.uuid4().hex[:10]}", title=body.title,
                        kind=body.kind, occurred_at=body.occurred_at, area=body.area,
                        created_at=utc_now())
    read = _read(atlas, incident)
    return NewIncident(incident, read, alerts.incident_created(
        read, exposure_summaries(atlas, incident)))


def record_incident(*, atlas: IncidentAtlas, new: NewIncident) -> IncidentRead:
    """The incident and its webhook delivery in ONE store transaction (the outbox): a
    crash between them cannot lose the event or announce an incident that is not there;
    an id already taken is 409 and enqueues nothing."""
    def work() -> None:
        atlas.incidents.create_incident(new.incident)
        atlas.store.enqueue_events([new.alert])

    try:
        atlas.store.atomic(work)
    except AlreadyExists as exc:
        raise Conflict(f"incident {new.incident.id!r} already exists", field="id") from exc
    return new.read


def create_incident(*, atlas: IncidentAtlas, body: IncidentCreate) -> IncidentRead:
    return record_incident(atlas=atlas, new=new_incident(atlas=atlas, body=body))


def _incident(atlas: IncidentAtlas, incident_id: str) -> Incident:
    incident = atlas.incidents.get_incident(incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id!r}")
    return incident


def get_incident(*, atlas: IncidentAtlas, incident_id: str) -> IncidentRead:
    return _read(atlas, _incident(atlas, incident_id))


def list_incidents(*, atlas: IncidentAtlas, limit: int, cursor: str | None) -> IncidentPage:
    after = None if cursor is None else str(decode_cursor(cursor))
    found = atlas.incidents.list_incidents(limit=limit + 1, after=after)
    items = [_read(atlas, incident) for incident in found[:limit]]
    more = len(found) > limit
    return IncidentPage(items=items, next_cursor=encode_cursor(items[-1].id) if more else None)


def close_incident(*, atlas: IncidentAtlas, incident_id: str,
                   closed_at: datetime) -> IncidentRead:
    incident = _incident(atlas, incident_id)
    if closed_at < incident.occurred_at:
        raise InvalidField("closed_at is before the incident occurred", field="closed_at")
    closed = incident.model_copy(update={"closed_at": closed_at})
    atlas.incidents.replace_incident(closed)
    return _read(atlas, closed)


# -- exposure ----------------------------------------------------------------------------


def _exposure(atlas: IncidentAtlas, incident: Incident, root: str,
              categories: list[str] | None) -> Exposure:
    if not atlas.store.existing_company_ids([root]):
        raise NotFound(f"no company {root!r}")
    return atlas.exposure(atlas.base(root, categories), incident.area.pure())


def latest_bcp(atlas: IncidentAtlas, root: str) -> PolicyRequest | None:
    """The root's latest business-continuity request (latest issued; ties: later created)."""
    mine = [r for r in atlas.store.list_requests()
            if r.issuer_id == root and r.topic == BCP_TOPIC]
    if not mine:
        return None
    created = atlas.incidents.request_creation([r.id for r in mine])
    return max(mine, key=lambda r: (r.issued_at, created.get(r.id, 0), r.id))


def _bcp_analysis(atlas: IncidentAtlas, root: str,
                  as_of: datetime | None) -> tuple[str | None, ArrayAnalysis | None]:
    request = latest_bcp(atlas, root)
    if request is None:
        return None, None
    return request.id, atlas.coverage.read(request.id, as_of).analysis


def _bcp_states(analysis: ArrayAnalysis | None, ids: list[str]) -> list[str | None]:
    """The BCP state of each company (None outside the request)."""
    if analysis is None:
        return [None] * len(ids)
    index = analysis.scope.network.indexes(ids)
    return [analysis.state_of(int(i)) if i >= 0 else None for i in index.tolist()]


def exposure(*, atlas: IncidentAtlas, incident_id: str, root: str,
             categories: list[str] | None, as_of: datetime | None) -> ExposureRead:
    return _exposure_read(atlas, _incident(atlas, incident_id), root, categories, as_of)


def exposure_summaries(atlas: IncidentAtlas, incident: Incident) -> list[dict[str, Any]]:
    """Per registered root (the issuers of requests): exposed companies, tiers, paths, the
    tier-1 suppliers and the BCP standing, over every link, now."""
    roots = sorted({request.issuer_id for request in atlas.store.list_requests()})
    return [_exposure_read(atlas, incident, root, None, None).model_dump(
                mode="json", include={"root", "exposed", "tiers", "tier1", "paths", "bcp"})
            for root in roots if atlas.store.existing_company_ids([root])]


def _exposure_read(atlas: IncidentAtlas, incident: Incident, root: str,
                   categories: list[str] | None, as_of: datetime | None) -> ExposureRead:
    revision = atlas.store.revision()
    found = _exposure(atlas, incident, root, categories)
    ids = found.base.network.ids
    request_id, analysis = _bcp_analysis(atlas, root, as_of)
    states: dict[str, int] = {}
    if request_id is not None:
        for state in _bcp_states(analysis, [ids[i] for i in found.exposed_ids.tolist()]):
            key = "outside" if state is None else str(state)
            states[key] = states.get(key, 0) + 1
    total, exposed_paths = found.paths()
    return ExposureRead(
        incident_id=incident.id, root=root, revision=revision, exposed=found.count,
        tiers=[TierExposure(tier=t, exposed=n) for t, n in found.tiers()],
        tier1=[SupplierExposure(company_id=ids[s], exposed_upstream=n, min_tier=t)
               for s, n, t in found.tier1()],
        paths=PathShare(total=total, exposed=exposed_paths),
        bcp=BcpStanding(request_id=request_id, states=dict(sorted(states.items()))),
    )


def exposed_companies(*, atlas: IncidentAtlas, incident_id: str, root: str,
                      categories: list[str] | None, as_of: datetime | None, limit: int,
                      cursor: str | None) -> ExposedCompanyPage:
    incident = _incident(atlas, incident_id)
    found = _exposure(atlas, incident, root, categories)
    network, tier = found.base.network, found.base.tier
    exposed = found.exposed_ids
    ordered = exposed[np.lexsort((network.id_rank[exposed], tier[exposed]))]
    start = decode_offset(cursor)
    page = ordered[start : start + limit].tolist()
    ids = [network.ids[i] for i in page]
    matches = atlas.locations().matches(incident.area.pure(), among=ids)
    _, analysis = _bcp_analysis(atlas, root, as_of)
    states = _bcp_states(analysis, ids)
    companies = {c.id: c for c in atlas.store.list_companies(ids=ids, limit=len(ids))}
    items = [ExposedCompany(
        company_id=cid, name=_name(companies.get(cid), cid),
        tier=int(tier[i]), chain=[network.ids[c] for c in found.chain_to(i)],
        bcp_state=None if state is None else str(state),
        matched=MatchRead(by=matches[cid].by, site_id=matches[cid].site_id))
        for cid, i, state in zip(ids, page, states, strict=True)]
    following = start + limit
    return ExposedCompanyPage(items=items, next_cursor=encode_cursor(following)
                              if following < ordered.size else None)


def _name(company: Company | None, company_id: str) -> str:
    return company.name if company is not None else company_id


# -- survey ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewSurvey:
    """A survey ready to record: its request and the incident it reports on."""

    incident_id: str
    request: PolicyRequest


def new_survey(*, atlas: IncidentAtlas, incident_id: str, body: SurveyCreate) -> NewSurvey:
    """The prompt report as an ordinary request over the exposed cone, due in hours: read
    here, before the write, so the write's transaction stays short."""
    incident = _incident(atlas, incident_id)
    categories = None if body.categories is None else sorted(set(body.categories))
    found = _exposure(atlas, incident, body.root, categories)
    cone = [found.base.network.ids[i] for i in np.flatnonzero(found.cone()).tolist()]
    due_days = body.due_hours // 24 if body.due_hours % 24 == 0 else body.due_hours / 24
    return NewSurvey(incident.id, PolicyRequest(
        id=body.id or f"incident-report-{uuid.uuid4().hex[:10]}", topic=SURVEY_TOPIC,
        title=f"Incident report: {incident.title}"[:500], issuer_id=body.root,
        issued_at=utc_now(), due_days=due_days, valid_days=None, mandatory=True,
        # the links the cone was computed over carry the survey, into the cone only
        applies_to=Applicability(categories=categories, companies=sorted(cone) or [body.root]),
        description=f"Prompt report on incident {incident.id} ({incident.kind}, occurred "
                    f"{incident.occurred_at.isoformat()}): {body.due_hours} hours to answer."
                    + (f" Over {', '.join(categories)} links." if categories else "")))


def record_survey(*, atlas: IncidentAtlas, new: NewSurvey) -> SurveyRead:
    """The survey's request and the incident's list of surveys in ONE store transaction;
    an id already taken is 409 and changes nothing."""
    def work() -> None:
        atlas.store.create_request(new.request)
        incident = _incident(atlas, new.incident_id)  # read again inside the unit
        atlas.incidents.replace_incident(
            incident.model_copy(update={"surveys": [*incident.surveys, new.request.id]}))

    try:
        atlas.store.atomic(work)
    except AlreadyExists as exc:
        raise Conflict(f"request {new.request.id!r} already exists", field="id") from exc
    return survey_read(new.request, new.incident_id)


def issue_survey(*, atlas: IncidentAtlas, incident_id: str, body: SurveyCreate) -> SurveyRead:
    return record_survey(atlas=atlas, new=new_survey(atlas=atlas, incident_id=incident_id,
                                                      body=body))


def survey_read(request: PolicyRequest, incident_id: str) -> SurveyRead:
    hours = round(timedelta(days=request.due_days).total_seconds() / 3600)
    return SurveyRead(**request.model_dump(), incident_id=incident_id, due_hours=hours,
                      categories=request.applies_to.categories)
