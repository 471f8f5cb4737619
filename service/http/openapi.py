"""What every route declares: common query parameters and the problem responses."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from graph_models.models import UtcDateTime
from service.http.errors import PROBLEM_JSON, PROBLEM_REF

AsOfQuery = Annotated[
    UtcDateTime | None,
    Query(description="Evaluate at this instant (ISO 8601 with offset); default now"),
]
LimitQuery = Annotated[int, Query(ge=1, le=1000)]
CursorQuery = Annotated[str | None, Query(description="next_cursor of the previous page")]

Responses = dict[int | str, dict[str, Any]]
PROBLEM: dict[str, Any] = {"content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}}
ERRORS_READ: Responses = {404: {"description": "Not found", **PROBLEM},
                          422: {"description": "Invalid parameter", **PROBLEM}}
ERRORS_WRITE: Responses = {409: {"description": "Conflict (or the Idempotency-Key in flight)",
                                 **PROBLEM},
                           413: {"description": "Body too large", **PROBLEM},
                           422: {"description": "Invalid payload", **PROBLEM}}
# Every route that needs a key (all but /healthz and /readyz), see `service.access.guard`.
ERRORS_ACCESS: Responses = {
    401: {"description": "No valid API key", **PROBLEM},
    403: {"description": "Not allowed for this key", **PROBLEM},
    429: {"description": "Rate limit reached: retry after Retry-After seconds", **PROBLEM},
    503: {"description": "Store unavailable: retry after Retry-After seconds", **PROBLEM},
}

