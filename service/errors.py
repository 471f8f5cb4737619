"""Service errors and their rendering as RFC 9457 `application/problem+json`.

Routers and service functions raise `ServiceError` subclasses; one handler renders them.
Payload validation failures (422) name every offending field in `errors`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = [
    "Conflict",
    "InvalidField",
    "NotFound",
    "ServiceError",
    "Unavailable",
    "install_problem_handlers",
    "problem_response",
]

PROBLEM_JSON = "application/problem+json"


class ServiceError(Exception):
    status = 500
    slug = "internal-error"
    title = "Internal error"
    retry_after: int | None = None  # seconds, sent as Retry-After

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class NotFound(ServiceError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(ServiceError):
    status, slug, title = 409, "conflict", "Conflict"


class InvalidField(ServiceError):
    """A well-formed payload that refers to something that does not exist or is not allowed."""

    status, slug, title = 422, "invalid-field", "Invalid field"


class Unavailable(ServiceError):
    status, slug, title = 503, "unavailable", "Store unavailable"
    retry_after = 5


def problem_response(
    status: int, slug: str, title: str, detail: str, errors: list[dict[str, Any]] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
        body["field"] = errors[0]["field"]
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _field_name(loc: tuple[Any, ...]) -> str:
    # ("body", "items", 3, "to_id") -> "items[3].to_id"; the location kind is dropped
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    name = ""
    for p in parts:
        name += f"[{p}]" if isinstance(p, int) else (f".{p}" if name else str(p))
    return name or str(loc[0] if loc else "body")


async def _on_validation(_: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        {"field": _field_name(tuple(e["loc"])), "message": e["msg"], "in": str(e["loc"][0])}
        for e in exc.errors()
    ]
    names = ", ".join(dict.fromkeys(e["field"] for e in errors))
    return problem_response(422, "validation-error", "Invalid request", f"Invalid: {names}", errors)


async def _on_service_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    errors = [{"field": exc.field, "message": exc.detail}] if exc.field else None
    response = problem_response(exc.status, exc.slug, exc.title, exc.detail, errors)
    if exc.retry_after is not None:
        response.headers["Retry-After"] = str(exc.retry_after)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


async def _on_http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
    response = problem_response(exc.status_code, "http-error", title, str(exc.detail))
    for key, value in (exc.headers or {}).items():
        response.headers[key] = value
    return response


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation)  # type: ignore[arg-type]
    app.add_exception_handler(ServiceError, _on_service_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
