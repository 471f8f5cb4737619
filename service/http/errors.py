"""Service errors and their rendering as RFC 9457 `application/problem+json`.

Routers and service functions raise `ServiceError` subclasses; one handler renders them.
Payload validation failures (422) name every offending field in `errors`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.store.port import CommitOutcomeUnknown, StoreUnavailable

__all__ = [
    "Conflict",
    "InvalidField",
    "NotFound",
    "PROBLEM_JSON",
    "PROBLEM_REF",
    "Problem",
    "ServiceError",
    "install_problem_handlers",
    "problem_response",
    "store_unavailable_response",
]

PROBLEM_JSON = "application/problem+json"
PROBLEM_REF = "#/components/schemas/Problem"


class ProblemField(BaseModel):
    field: str = Field(description="e.g. items[3].to_id, or links[4].supplier_id in a file")
    message: str
    in_: str | None = Field(default=None, alias="in", description="body, query, path or header")
    section: str | None = Field(default=None, description="imports: the file's section")
    row: int | None = Field(default=None, description="imports: the refused row")


class Problem(BaseModel):
    """The body of every error: RFC 9457 problem details, `errors` naming each field."""

    type: str = Field(description="names the kind of error, e.g. /problems/not-found")
    title: str
    status: int
    detail: str
    field: str | None = Field(default=None, description="the first offending field")
    errors: list[ProblemField] | None = None


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


def _message(error: dict[str, Any]) -> str:
    if error["type"] == "json_invalid":  # loc is ("body", character offset)
        return f"{error['msg']} at character {error['loc'][-1]}: {error['ctx']['error']}"
    return str(error["msg"])


async def _on_validation(_: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        {"field": "body" if e["type"] == "json_invalid" else _field_name(tuple(e["loc"])),
         "message": _message(e), "in": str(e["loc"][0])}
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
    if exc.status_code == 400:  # only the framework says 400: a body it could not parse
        return _unreadable_body(exc)
    title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
    response = problem_response(exc.status_code, "http-error", title, str(exc.detail))
    for key, value in (exc.headers or {}).items():
        response.headers[key] = value
    return response


def _unreadable_body(exc: StarletteHTTPException) -> JSONResponse:
    """A body that is not UTF-8 JSON (or a broken multipart form) is an invalid payload,
    422 like a JSON syntax error, not a bare 400."""
    message = ("not UTF-8 encoded" if isinstance(exc.__cause__, UnicodeDecodeError)
               else str(exc.detail))
    return problem_response(422, "validation-error", "Invalid request", "Invalid: body",
                            [{"field": "body", "message": message, "in": "body"}])


def install_problem_handlers(app: FastAPI) -> None:
    """Render every error as problem+json, and publish the `Problem` schema the routes'
    declared error responses refer to (`PROBLEM_REF`)."""
    app.add_exception_handler(RequestValidationError, _on_validation)  # type: ignore[arg-type]
    app.add_exception_handler(ServiceError, _on_service_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(StoreUnavailable, on_store_unavailable)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schemas = generate().setdefault("components", {}).setdefault("schemas", {})
            problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(problem.pop("$defs", {}), Problem=problem)
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


async def on_store_unavailable(_: Request, exc: Exception) -> JSONResponse:
    return store_unavailable_response(exc)


def store_unavailable_response(exc: Exception) -> JSONResponse:
    """The 503 of a `StoreUnavailable` (middleware renders it too), with its Retry-After."""
    if isinstance(exc, CommitOutcomeUnknown):  # the database may well be up: retry soon
        response = problem_response(503, "commit-outcome-unknown", "Write outcome unknown",
                                    str(exc))
        response.headers["Retry-After"] = "1"
        return response
    response = problem_response(503, "store-unavailable", "Store unavailable", str(exc))
    response.headers["Retry-After"] = "5"
    return response
