"""A typed Python client of the cascade service, on httpx.

    with CascadeClient("http://127.0.0.1:8000", api_key) as cascade:
        cascade.acknowledge(AcknowledgementCreate(request_id="r1", company_id="acme",
                                                  status="accepted"))
        counts = cascade.gap_counts()

Safe retries: every POST carries an `Idempotency-Key` (one uuid4 per logical call, reused
by all of its attempts), so a retry after a lost answer is replayed by the service, never
applied twice. Attempts are retried (tenacity, exponential back-off with jitter) on
connection errors and timeouts, 429, 503, and 409 when the service says the same key is
still in flight; a `Retry-After` (seconds or a date) is waited out in full, and one longer
than `max_wait_s` ends the call. Any other error raises `ProblemError` with the
problem+json body (and after the last attempt, the last one).
`gap_counts()` revalidates with the last ETag and reuses the body on 304.
Read-your-writes across replicas: the `Cascade-Bookmark` a write answers with is sent
with every later call, so a replica behind a load balancer waits until it sees that write.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    wait_exponential,
    wait_random,
)

from service.coverage.freshness import BOOKMARK_HEADER
from service.coverage.schemas import (
    CompanyStanding,
    CoverageHistory,
    CoverageRead,
    GapCountsRead,
    GapPage,
    UncoveredPathPage,
    UpstreamCompany,
)
from service.ledger.schemas import (
    AcknowledgementCreate,
    AcknowledgementRead,
    BatchRead,
    CascadeCreate,
    CascadeRead,
    CascadeRecorded,
)
from service.registry.schemas import (
    CompanyCreate,
    CompanyPage,
    CompanyRead,
    LinkCreate,
    LinkPage,
    LinkRead,
    RequestCreate,
    RequestRead,
)

__all__ = ["CascadeClient", "ProblemError"]

_M = TypeVar("_M")
IN_FLIGHT = "/problems/idempotency-key-in-flight"
RETRIED_STATUSES = frozenset({429, 503})


class ProblemError(Exception):
    """The service refused: `status` and the RFC 9457 `problem` body."""

    def __init__(self, status: int, problem: dict[str, Any], retry_after: float | None = None):
        super().__init__(f"{status} {problem.get('title', '')}: {problem.get('detail', '')}")
        self.status = status
        self.problem = problem
        self.retry_after = retry_after


# the connection failed or dropped, or timed out: the request may or may not have landed
RETRIED_ERRORS = (httpx.NetworkError, httpx.TimeoutException, httpx.RemoteProtocolError)


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, RETRIED_ERRORS):
        return True
    if isinstance(exc, ProblemError):  # a plain 409 (duplicate id) is final
        in_flight = exc.status == 409 and exc.problem.get("type") == IN_FLIGHT
        return exc.status in RETRIED_STATUSES or in_flight
    return False


class _RetryPolicy:
    """When to try again: after the server's Retry-After when it sent one (never sooner:
    it would only be refused again; a longer wait than `max_wait_s` ends the call), else
    after exponential back-off with jitter; at most `attempts` attempts."""

    def __init__(self, attempts: int, backoff_s: float, max_wait_s: float) -> None:
        self.attempts, self.max_wait = attempts, max_wait_s
        self.backoff = wait_exponential(multiplier=backoff_s, max=max_wait_s) \
            + wait_random(0, backoff_s)

    def wait(self, state: RetryCallState) -> float:
        asked = _asked_wait(state)
        return asked if asked is not None else min(float(self.backoff(state)), self.max_wait)

    def stop(self, state: RetryCallState) -> bool:
        asked = _asked_wait(state)
        return state.attempt_number >= self.attempts or (asked or 0.0) > self.max_wait


def _asked_wait(state: RetryCallState) -> float | None:
    exc = state.outcome.exception() if state.outcome else None
    return exc.retry_after if isinstance(exc, ProblemError) else None


class CascadeClient:
    """Typed access to the REST API; see the module docstring."""

    def __init__(self, base_url: str, api_key: str, *, attempts: int = 6,
                 backoff_s: float = 0.2, max_wait_s: float = 30.0, timeout_s: float = 30.0,
                 transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=timeout_s, transport=transport,
                                 headers={"Authorization": f"Bearer {api_key}"})
        self.retry = _RetryPolicy(attempts, backoff_s, max_wait_s)
        self.sleep = sleep  # how waits between attempts are spent
        self._gap_counts: tuple[str, GapCountsRead] | None = None
        self.bookmark: str | None = None  # of the last write that answered with one

    def __enter__(self) -> CascadeClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    # -- transport ------------------------------------------------------------------------

    def _send(self, method: str, path: str, *, json: Any = None,
              params: dict[str, Any] | None = None,
              headers: dict[str, str] | None = None) -> httpx.Response:
        """One logical call: attempts until success, a final error, or `attempts`."""
        headers = dict(headers or {})
        if self.bookmark is not None:
            headers.setdefault(BOOKMARK_HEADER, self.bookmark)
        if method == "POST":
            headers.setdefault("Idempotency-Key", str(uuid.uuid4()))
        retrying = Retrying(stop=self.retry.stop, wait=self.retry.wait, sleep=self.sleep,
                            retry=retry_if_exception(_retryable), reraise=True)
        return retrying(self._attempt, method, path, json, params, headers)

    def _attempt(self, method: str, path: str, json: Any, params: dict[str, Any] | None,
                 headers: dict[str, str]) -> httpx.Response:
        response = self.http.request(method, path, json=json, params=_query(params),
                                     headers=headers)
        if response.status_code >= 400:
            raise _problem(response)
        self.bookmark = response.headers.get(BOOKMARK_HEADER, self.bookmark)
        return response

    def _model(self, model: type[_M], method: str, path: str, **kwargs: Any) -> _M:
        return TypeAdapter(model).validate_python(self._send(method, path, **kwargs).json())

    # -- registry -------------------------------------------------------------------------

    def create_company(self, company: CompanyCreate) -> CompanyRead:
        return self._model(CompanyRead, "POST", "/v1/companies", json=_body(company))

    def get_company(self, company_id: str) -> CompanyRead:
        return self._model(CompanyRead, "GET", f"/v1/companies/{_seg(company_id)}")

    def list_companies(self, *, kind: str | None = None, country: str | None = None,
                       q: str | None = None, ids: list[str] | None = None,
                       limit: int = 100, cursor: str | None = None) -> CompanyPage:
        return self._model(CompanyPage, "GET", "/v1/companies",
                           params={"kind": kind, "country": country, "q": q, "ids": ids,
                                   "limit": limit, "cursor": cursor})

    def upstream(self, company_id: str, *, depth: int = 3) -> list[UpstreamCompany]:
        return self._model(list[UpstreamCompany], "GET",
                           f"/v1/companies/{_seg(company_id)}/upstream", params={"depth": depth})

    def add_link(self, link: LinkCreate) -> LinkRead:
        return self._model(LinkRead, "POST", "/v1/links", json=_body(link))

    def list_links(self, *, buyer_id: str | None = None, supplier_id: str | None = None,
                   limit: int = 1000, cursor: str | None = None) -> LinkPage:
        return self._model(LinkPage, "GET", "/v1/links",
                           params={"buyer_id": buyer_id, "supplier_id": supplier_id,
                                   "limit": limit, "cursor": cursor})

    def issue_request(self, request: RequestCreate) -> RequestRead:
        return self._model(RequestRead, "POST", "/v1/requests", json=_body(request))

    def get_request(self, request_id: str) -> RequestRead:
        return self._model(RequestRead, "GET", f"/v1/requests/{_seg(request_id)}")

    def list_requests(self) -> list[RequestRead]:
        return self._model(list[RequestRead], "GET", "/v1/requests")

    # -- events ---------------------------------------------------------------------------

    def cascade(self, event: CascadeCreate) -> CascadeRecorded:
        """Record a forward: the event that holds for the link, and `outcome`."""
        return self._model(CascadeRecorded, "POST", "/v1/cascades", json=_body(event))

    def cascades(self, *, request_id: str | None = None, from_id: str | None = None,
                 to_id: str | None = None, limit: int = 1000) -> list[CascadeRead]:
        return self._model(list[CascadeRead], "GET", "/v1/cascades",
                           params={"request_id": request_id, "from_id": from_id,
                                   "to_id": to_id, "limit": limit})

    def acknowledge(self, answer: AcknowledgementCreate) -> AcknowledgementRead:
        return self._model(AcknowledgementRead, "POST", "/v1/acknowledgements",
                           json=_body(answer))

    def acknowledgements(self, *, request_id: str | None = None,
                         company_id: str | None = None,
                         limit: int = 1000) -> list[AcknowledgementRead]:
        """Up to `limit` answers, newest first, following the pages a byte budget cuts
        short (the `Link` header)."""
        answers: list[AcknowledgementRead] = []
        params = {"request_id": request_id, "company_id": company_id, "cursor": None}
        while len(answers) < limit:
            response = self._send("GET", "/v1/acknowledgements",
                                  params=params | {"limit": limit - len(answers)})
            answers += TypeAdapter(list[AcknowledgementRead]).validate_python(response.json())
            following = response.links.get("next", {}).get("url")
            if following is None:
                break
            params["cursor"] = httpx.URL(following).params["cursor"]
        return answers

    def batch(self, resource: str, items: Sequence[BaseModel | dict[str, Any]]) -> BatchRead:
        """`resource`: companies, links, cascades or acknowledgements (≤ 10,000 items)."""
        return self._model(BatchRead, "POST", f"/v1/{resource}/batch",
                           json={"items": [_body(item) for item in items]})

    # -- coverage -------------------------------------------------------------------------

    def gap_counts(self) -> GapCountsRead:
        """Every request's counts; a 304 reuses the last body."""
        headers = {"If-None-Match": self._gap_counts[0]} if self._gap_counts else {}
        response = self._send("GET", "/v1/gap-counts", headers=headers)
        if response.status_code == 304 and self._gap_counts is not None:
            return self._gap_counts[1]
        counts = GapCountsRead.model_validate(response.json())
        self._gap_counts = (response.headers["ETag"], counts)
        return counts

    def coverage(self, request_id: str, *, as_of: datetime | None = None) -> CoverageRead:
        return self._model(CoverageRead, "GET", f"/v1/requests/{_seg(request_id)}/coverage",
                           params={"as_of": as_of})

    def gaps(self, request_id: str, *, limit: int = 100, cursor: str | None = None,
             as_of: datetime | None = None) -> GapPage:
        return self._model(GapPage, "GET", f"/v1/requests/{_seg(request_id)}/gaps",
                           params={"limit": limit, "cursor": cursor, "as_of": as_of})

    def uncovered_paths(self, request_id: str, *, limit: int = 50, cursor: str | None = None,
                        target: str | None = None,
                        as_of: datetime | None = None) -> UncoveredPathPage:
        return self._model(UncoveredPathPage, "GET",
                           f"/v1/requests/{_seg(request_id)}/uncovered-paths",
                           params={"limit": limit, "cursor": cursor, "target": target,
                                   "as_of": as_of})

    def standing(self, request_id: str, company_id: str, *,
                 as_of: datetime | None = None) -> CompanyStanding:
        return self._model(CompanyStanding, "GET",
                           f"/v1/requests/{_seg(request_id)}/companies/{_seg(company_id)}",
                           params={"as_of": as_of})

    def history(self, request_id: str, *, start: datetime | None = None,
                to: datetime | None = None, step: timedelta = timedelta(days=1)
                ) -> CoverageHistory:
        response = self._send("GET", f"/v1/requests/{_seg(request_id)}/coverage/history",
                              params={"from": start, "to": to, "step": step.total_seconds()})
        body = response.json()
        body["start"] = body.pop("from")
        return CoverageHistory.model_validate(body)


def _body(model: BaseModel | dict[str, Any]) -> Any:
    return model.model_dump(mode="json", exclude_none=True) if isinstance(model, BaseModel) \
        else model


def _seg(value: str) -> str:
    """An id as one path segment ("?", "#", "%" or a space in an id stay in it)."""
    return quote(value, safe="")


def _query(params: dict[str, Any] | None) -> dict[str, str] | None:
    if params is None:
        return None
    return {key: value.isoformat() if isinstance(value, datetime) else str(value)
            for key, value in params.items() if value is not None}


def _problem(response: httpx.Response) -> ProblemError:
    try:
        problem = response.json()
    except ValueError:
        problem = {"title": response.reason_phrase, "detail": response.text[:200]}
    return ProblemError(response.status_code, problem,
                        retry_after_s(response.headers.get("Retry-After")))


def retry_after_s(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP date."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None  # unreadable: fall back on back-off
    if when.tzinfo is None:  # "-0000": UTC by RFC 5322
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
