"""/v1/webhooks: subscriptions to coverage and acknowledgement events, and their deliveries
(admin keys; see `service.webhooks` for the events, signature and retries)."""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import AnyHttpUrl, Field

from graph_models.models import from_epoch_us, to_epoch_us, utc_now
from service.composition.deps import StoreDep
from service.http.errors import InvalidField, NotFound
from service.http.openapi import ERRORS_READ, ERRORS_WRITE
from service.http.schemas import Payload
from service.integrations.destinations import RefusedDestination, check_url
from service.integrations.idempotency import IdempotencyDep
from service.store.port import Delivery, Webhook

router = APIRouter(tags=["webhooks"], responses=ERRORS_READ)
EventType = Literal["coverage.changed", "acknowledgement.recorded", "request.overdue",
                    "incident.created"]


class WebhookCreate(Payload):
    url: AnyHttpUrl
    events: list[EventType] = Field(min_length=1)
    description: str = Field(default="", max_length=500)


class WebhookRead(Payload):
    id: str
    url: str
    events: list[str]
    description: str
    created_at: datetime


class WebhookCreated(WebhookRead):
    secret: str | None = Field(description="signs every delivery (X-Cascade-Signature); "
                               "shown once (null in the replay of a retried request)")
    secret_withheld: bool = Field(default=False, description="true in a replay: the "
                                  "secret is not stored for replays and not shown again")


class AttemptRead(Payload):
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: float


class DeliveryRead(Payload):
    id: str
    event_id: str
    event_type: str
    state: str
    created_at: datetime
    next_attempt_at: datetime | None
    attempts: list[AttemptRead]
    payload: dict[str, Any]


def webhook_read(hook: Webhook) -> WebhookRead:
    return WebhookRead(id=hook.id, url=hook.url, events=list(hook.events),
                       description=hook.description, created_at=from_epoch_us(hook.created_at_us))


def delivery_read(delivery: Delivery) -> DeliveryRead:
    return DeliveryRead(
        id=delivery.id, event_id=delivery.event_id, event_type=delivery.event_type,
        state=delivery.state, created_at=from_epoch_us(delivery.created_at_us),
        next_attempt_at=(None if delivery.next_attempt_at_us is None or delivery.state != "pending"
                         else from_epoch_us(delivery.next_attempt_at_us)),
        attempts=[AttemptRead(at=from_epoch_us(a.at_us), status_code=a.status_code,
                              error=a.error, duration_ms=a.duration_ms)
                  for a in delivery.attempts],
        payload=json.loads(delivery.payload),
    )


@router.post("/v1/webhooks", status_code=201, response_model=WebhookCreated,
             responses=ERRORS_WRITE,
             description="Register a webhook; its signing `secret` is shown in this answer "
             "only. A retry with the same `Idempotency-Key` is answered 201 with the same "
             "webhook and `secret: null`, `secret_withheld: true` (the secret is never "
             "stored for replays): delete and register again if it was lost. Destinations "
             "must be public addresses (see `allow_private_webhooks`).")
def register(body: WebhookCreate, store: StoreDep, once: IdempotencyDep) -> Response:
    try:
        check_url(str(body.url), allow_private=once.settings.allow_private_webhooks)
    except RefusedDestination as refused:
        raise InvalidField(str(refused), field="url") from None

    def effect() -> tuple[int, WebhookCreated]:
        hook = Webhook(id=f"wh_{secrets.token_hex(6)}", url=str(body.url),
                       events=tuple(dict.fromkeys(body.events)),
                       secret=secrets.token_urlsafe(32), description=body.description,
                       created_at_us=to_epoch_us(utc_now()))
        store.add_webhook(hook)
        return 201, WebhookCreated(**webhook_read(hook).model_dump(), secret=hook.secret)

    return once.respond(effect, secrets_in=("secret",))


@router.get("/v1/webhooks", response_model=list[WebhookRead])
def list_webhooks(store: StoreDep) -> list[WebhookRead]:
    return [webhook_read(hook) for hook in store.list_webhooks()]


def _webhook(store: StoreDep, webhook_id: str) -> Webhook:
    hook = store.get_webhook(webhook_id)
    if hook is None:
        raise NotFound(f"webhook {webhook_id!r} not found")
    return hook


@router.get("/v1/webhooks/{webhook_id}", response_model=WebhookRead)
def get_webhook(webhook_id: str, store: StoreDep) -> WebhookRead:
    return webhook_read(_webhook(store, webhook_id))


@router.delete("/v1/webhooks/{webhook_id}", status_code=204)
def delete_webhook(webhook_id: str, store: StoreDep) -> Response:
    if not store.delete_webhook(webhook_id):
        raise NotFound(f"webhook {webhook_id!r} not found")
    return Response(status_code=204)


@router.get("/v1/webhooks/{webhook_id}/deliveries", response_model=list[DeliveryRead])
def deliveries(webhook_id: str, store: StoreDep,
               limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[DeliveryRead]:
    """Newest first, each with its attempts (time, HTTP status or error, duration)."""
    _webhook(store, webhook_id)
    return [delivery_read(d) for d in store.list_deliveries(webhook_id, limit=limit)]
