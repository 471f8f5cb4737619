"""Conditional GETs: strong entity tags and If-None-Match (RFC 9110)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from fastapi import Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

__all__ = ["CACHE_CONTROL", "matches", "strong_tag", "validated"]

CACHE_CONTROL = "private, no-cache"


def strong_tag(material: str | bytes) -> str:
    """A quoted strong entity tag of `material` (16 hex digits of BLAKE2b).

    >>> strong_tag("x") == strong_tag(b"x") and strong_tag("x") != strong_tag("y")
    True
    """
    data = material.encode() if isinstance(material, str) else material
    return f'"{hashlib.blake2b(data, digest_size=8).hexdigest()}"'


def matches(if_none_match: str | None, tag: str) -> bool:
    """RFC 9110 If-None-Match: `*` or any listed tag equal to `tag` (weak comparison).

    >>> matches('W/"a", "b"', '"a"'), matches(None, '"a"'), matches("*", '"a"')
    (True, False, True)
    """
    if not if_none_match:
        return False
    listed = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in listed or tag in listed


def validated(request: Request, tag: str, body: Callable[[], Any]) -> Response:
    """304 when the client holds `tag`, else the body with its tag."""
    headers = {"ETag": tag, "Cache-Control": CACHE_CONTROL}
    if matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers=headers)
    return JSONResponse(jsonable_encoder(body()), headers=headers)
