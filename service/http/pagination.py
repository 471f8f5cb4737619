"""Opaque pagination cursors: base64url of a small JSON value."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from service.http.errors import InvalidField


def encode_cursor(value: Any) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Any:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidField("cursor is not one this service issued", field="cursor") from exc


def decode_offset(cursor: str | None) -> int:
    value = decode_cursor(cursor)
    if value is None:
        return 0
    if not isinstance(value, int) or value < 0:
        raise InvalidField("cursor is not one this service issued", field="cursor")
    return value
