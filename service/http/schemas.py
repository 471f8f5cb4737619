"""HTTP payloads (`XCreate` / `XUpdate` / `XRead`). Domain models are reused where the
shape is the same; unknown fields are refused everywhere."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")

