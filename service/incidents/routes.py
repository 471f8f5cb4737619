"""/v1/incidents: incidents, their exposure for a root company, the survey.

Plain `def` routes: the exposure runs in the thread pool."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from service.composition.deps import services_of
from service.http.errors import InvalidField
from service.http.openapi import ERRORS_READ, ERRORS_WRITE, AsOfQuery, CursorQuery, LimitQuery
from service.incidents import service as incidents
from service.incidents.atlas import IncidentAtlas
from service.incidents.schemas import (
    ExposedCompanyPage,
    ExposureRead,
    IncidentCreate,
    IncidentPage,
    IncidentRead,
    IncidentUpdate,
    SurveyCreate,
    SurveyRead,
)
from service.integrations.idempotency import Effect, IdempotencyDep

router = APIRouter(prefix="/v1/incidents", tags=["incidents"], responses=ERRORS_READ)


def _atlas(request: Request) -> IncidentAtlas:
    return services_of(request).incidents


AtlasDep = Annotated[IncidentAtlas, Depends(_atlas)]
RootQuery = Annotated[str, Query(min_length=1, max_length=200,
                                 description="The root company whose supply network is asked")]
CategoriesQuery = Annotated[str | None, Query(
    max_length=2000, description="Only links of these categories, comma-separated")]


def _categories(text: str | None) -> list[str] | None:
    if text is None:
        return None
    listed = [c.strip() for c in text.split(",") if c.strip()]
    if not listed:
        raise InvalidField("give at least one category, or leave categories out",
                           field="categories")
    return listed


@router.post("", status_code=201, response_model=IncidentRead, responses=ERRORS_WRITE)
def create_incident(body: IncidentCreate, atlas: AtlasDep, once: IdempotencyDep) -> Response:
    """Record an incident; its `incident.created` webhook delivery commits with it. A
    retry with the same `Idempotency-Key` is answered with the first response."""
    def prepare() -> Effect:  # the exposure is read before the write's transaction
        new = incidents.new_incident(atlas=atlas, body=body)
        return lambda: (201, incidents.record_incident(atlas=atlas, new=new))

    return once.respond_after(prepare)


@router.get("", response_model=IncidentPage)
def list_incidents(atlas: AtlasDep, limit: LimitQuery = 100,
                   cursor: CursorQuery = None) -> IncidentPage:
    return incidents.list_incidents(atlas=atlas, limit=limit, cursor=cursor)


@router.get("/{incident_id}", response_model=IncidentRead)
def get_incident(incident_id: str, atlas: AtlasDep) -> IncidentRead:
    return incidents.get_incident(atlas=atlas, incident_id=incident_id)


@router.patch("/{incident_id}", response_model=IncidentRead, responses=ERRORS_WRITE)
def close_incident(incident_id: str, body: IncidentUpdate, atlas: AtlasDep) -> IncidentRead:
    return incidents.close_incident(atlas=atlas, incident_id=incident_id,
                                    closed_at=body.closed_at)


@router.get("/{incident_id}/exposure", response_model=ExposureRead)
def exposure(incident_id: str, root: RootQuery, atlas: AtlasDep,
             categories: CategoriesQuery = None, as_of: AsOfQuery = None) -> ExposureRead:
    """Which affected companies the root reaches, at which tiers, through which direct
    suppliers, on what share of its root-to-leaf paths, with what BCP standing."""
    return incidents.exposure(atlas=atlas, incident_id=incident_id, root=root,
                              categories=_categories(categories), as_of=as_of)


@router.get("/{incident_id}/exposure/companies", response_model=ExposedCompanyPage)
def exposed_companies(incident_id: str, root: RootQuery, atlas: AtlasDep,
                      categories: CategoriesQuery = None, as_of: AsOfQuery = None,
                      limit: Annotated[int, Query(ge=1, le=500)] = 100,
                      cursor: CursorQuery = None) -> ExposedCompanyPage:
    """Each exposed company by tier, then id: its chain from the root, BCP state, and
    why the incident affects it."""
    return incidents.exposed_companies(
        atlas=atlas, incident_id=incident_id, root=root, categories=_categories(categories),
        as_of=as_of, limit=limit, cursor=cursor)


@router.post("/{incident_id}/survey", status_code=201, response_model=SurveyRead,
             responses=ERRORS_WRITE)
def survey(incident_id: str, body: SurveyCreate, atlas: AtlasDep,
           once: IdempotencyDep) -> Response:
    """Issue the prompt report: a request (topic `incident_report`, due in hours, no
    expiry) that applies to the exposed cone only. A retry with the same
    `Idempotency-Key` is answered with the first response."""
    def prepare() -> Effect:  # the exposed cone is read before the write's transaction
        new = incidents.new_survey(atlas=atlas, incident_id=incident_id, body=body)
        return lambda: (201, incidents.record_survey(atlas=atlas, new=new))

    return once.respond_after(prepare)
