"""Webhooks: events into an outbox in the store, delivered by a background dispatcher.

Events:
- `acknowledgement.recorded`: an answer was newly recorded (a repeat is not); enqueued in
  the same unit of work as the answer, so an answer and its event commit together.
- `coverage.changed`: a request's gap counts changed (by a write or by the clock).
- `incident.created`: an incident was recorded, with the exposure summary of every root
  that issued a request; enqueued in the same unit of work as the incident
  (`service.incidents.service.record_incident`);
- `request.overdue`: a company of a request became overdue (once per company and time it
  was first reached).

The body is `{"id", "type", "created_at", "data"}`; headers `X-Cascade-Event`,
`X-Cascade-Delivery` (the event id: receivers de-duplicate on it) and
`X-Cascade-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the
webhook's secret>`. A 2xx answer is delivered; anything else is retried after
`retry_base_s` × 3^(attempt - 1) (capped at an hour) up to `max_attempts`, then failed.
Deliveries are leased when claimed, so several workers never send one twice at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from graph_models.models import to_epoch_us, utc_now
from service.coverage.dashboard import GapCountsDashboard
from service.coverage.figures import RequestFigures, request_figures
from service.integrations.destinations import RefusedDestination, resolve_checked
from service.store.port import CascadeStore, Delivery, DeliveryAttempt, Webhook, WebhookEvent

__all__ = ["EVENT_TYPES", "Dispatcher", "event", "signature"]

EVENT_TYPES = ("coverage.changed", "acknowledgement.recorded", "request.overdue",
               "incident.created")
SECOND_US = 1_000_000
MAX_DELAY_S = 3600.0


def event(event_type: str, event_id: str, data: dict[str, Any]) -> WebhookEvent:
    now = utc_now()
    body = {"id": event_id, "type": event_type, "created_at": now.isoformat(), "data": data}
    return WebhookEvent(id=event_id, type=event_type, created_at_us=to_epoch_us(now),
                        payload=json.dumps(body, separators=(",", ":")).encode())


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The `X-Cascade-Signature` value of `body` sent at `timestamp` (unix seconds)."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def acknowledgements_recorded(answers: Sequence[Any]) -> list[WebhookEvent]:
    """One event per newly recorded answer (pydantic `Acknowledgement`s)."""
    return [event("acknowledgement.recorded", f"ack:{a.seq}", a.model_dump(mode="json"))
            for a in answers]


def coverage_events(before: dict[str, RequestFigures],
                    now: Sequence[RequestFigures]) -> list[WebhookEvent]:
    """`coverage.changed` for every request whose counts differ from `before`, and
    `request.overdue` for every company overdue now and not before."""
    events = []
    for figures in now:
        held = before.get(figures.request_id)
        if held is None:
            continue  # first sight (a start or a new request): nothing to compare with
        if _counts(held) != _counts(figures):
            events.append(event("coverage.changed", _coverage_event_id(figures),
                                {"request_id": figures.request_id, "topic": figures.topic,
                                 **_counts(figures)}))
        for company_id, first in sorted(set(figures.overdue) - set(held.overdue)):
            events.append(event(
                "request.overdue", f"overdue:{figures.request_id}:{company_id}:{first}",
                {"request_id": figures.request_id, "company_id": company_id}))
    return events


def _coverage_event_id(figures: RequestFigures) -> str:
    """Names the state the counts belong to: the store revision, and the span of time
    between two changes by the clock (named by its end, `valid_until`, the same in every
    worker at that revision). Workers seeing the same state share the id, so the outbox
    keeps one event; counts returning to an earlier value are another state, announced."""
    return f"coverage:{figures.request_id}:{figures.revision}:{figures.valid_until}"


def _counts(figures: RequestFigures) -> dict[str, Any]:
    return {"states": figures.states, "gaps": figures.gaps,
            "uncovered_paths": figures.uncovered_paths,
            "coverage_ratio": figures.coverage_ratio}


@dataclass
class Dispatcher:
    """Sends due deliveries and turns coverage changes into events, every `poll_s`."""

    store: CascadeStore
    dashboard: GapCountsDashboard
    poll_s: float = 0.5
    retry_base_s: float = 10.0
    max_attempts: int = 8
    timeout_s: float = 5.0
    allow_private: bool = False  # deliveries to loopback / private addresses (development)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _seen: dict[str, RequestFigures] = field(default_factory=dict)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        with httpx.Client(timeout=self.timeout_s) as http:
            while not self._stop.wait(self.poll_s):
                try:
                    self.notice_coverage()
                    self.deliver_due(http)
                except Exception:  # the store is down: try again next round
                    continue

    def watches(self, request_id: str) -> bool:
        """Whether a change of this request's coverage would now be announced."""
        return request_id in self._seen

    def notice_coverage(self) -> None:
        """Enqueue coverage events, only while some webhook wants them."""
        wanted = {t for hook in self.store.list_webhooks() for t in hook.events}
        if not wanted & {"coverage.changed", "request.overdue"}:
            self._seen.clear()
            return
        figures = request_figures(self.dashboard)
        self.store.enqueue_events(coverage_events(self._seen, figures))
        self._seen = {f.request_id: f for f in figures}

    def deliver_due(self, http: httpx.Client) -> int:
        now = to_epoch_us(utc_now())
        lease = now + int((self.timeout_s * 2 + 5) * SECOND_US)
        claimed = self.store.claim_deliveries(now_us=now, lease_until_us=lease, limit=50)
        for delivery, hook in claimed:
            self._send(http, delivery, hook)
        return len(claimed)

    def _send(self, http: httpx.Client, delivery: Delivery, hook: Webhook) -> None:
        headers = {"Content-Type": "application/json", "X-Cascade-Event": delivery.event_type,
                   "X-Cascade-Delivery": delivery.event_id,
                   "X-Cascade-Signature": signature(hook.secret, delivery.payload,
                                                    int(time.time()))}
        start = time.perf_counter()
        status, error = None, None
        try:
            target = resolve_checked(hook.url, allow_private=self.allow_private)
            status = http.post(target.url, content=delivery.payload,
                               headers={**headers, "Host": target.host},
                               extensions={"sni_hostname": target.host.rsplit(":", 1)[0]}
                               ).status_code
        except RefusedDestination as exc:
            error = f"destination refused: {exc}"[:300]
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        attempt = DeliveryAttempt(at_us=to_epoch_us(utc_now()), status_code=status, error=error,
                                  duration_ms=(time.perf_counter() - start) * 1000)
        self._finish(delivery, attempt)

    def _finish(self, delivery: Delivery, attempt: DeliveryAttempt) -> None:
        tries = len(delivery.attempts) + 1
        if attempt.status_code is not None and 200 <= attempt.status_code < 300:
            state, next_at = "delivered", None
        elif tries >= self.max_attempts:
            state, next_at = "failed", None
        else:
            delay = min(self.retry_base_s * 3 ** (tries - 1), MAX_DELAY_S)
            state, next_at = "pending", attempt.at_us + int(delay * SECOND_US)
        self.store.finish_attempt(delivery.id, attempt, state=state, next_attempt_at_us=next_at)
