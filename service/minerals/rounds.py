"""Regular surveys: `POST /v1/requests/{id}/reissue` issues the next round of a request, a
new version superseding it with the same applicability, optionally forwarded again along
every link it was forwarded along last time (by the issuer and every company that
forwarded it), sent when the new round is issued."""

from __future__ import annotations

from graph_models.models import CascadeEvent, Identifier, PolicyRequest, UtcDateTime, utc_now
from service.http.errors import Conflict, NotFound
from service.http.schemas import Payload
from service.store.port import AlreadyExists, CascadeStore

__all__ = ["ReissueCreate", "ReissueRead", "reissue"]

MAX_EVENTS = 10_000_000


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


def reissue(*, store: CascadeStore, request_id: str, body: ReissueCreate) -> ReissueRead:
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

    def work() -> None:
        store.create_request(new)
        if events:
            store.add_cascades(events)

    try:
        store.atomic(work)
    except AlreadyExists as exc:
        raise Conflict(f"request {new.id!r} already exists", field="id") from exc
    return ReissueRead(request=new, supersedes=old.id, recascaded=len(events))
