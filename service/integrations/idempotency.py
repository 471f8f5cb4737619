"""`Idempotency-Key` on the POST routes that write, after the IETF HTTP API draft "The
Idempotency-Key HTTP Header Field".

- A first request with a key claims it (a lease), runs, and stores its response in the
  SAME transaction as its effect (`CascadeStore.atomic`): a crash leaves neither.
- A repeat after completion gets the stored response (same status and body) with the
  header `Idempotent-Replayed: true`; with a different payload, 422; while the first is
  still running, 409 with `Retry-After`.
- Keys are scoped to the caller and the route, and kept `idempotency_ttl_s` (24 h).
- Only a request that had an effect is remembered: one refused (4xx) or failed releases
  its claim, so the client may fix the cause and retry with the same key.
- A secret in a response (a new API key, a webhook signing secret) is never stored: the
  record keeps the response with the secret's field null and `secret_withheld: true`, so
  a replay says what was created (and which key or webhook to revoke) without the secret.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from starlette.datastructures import FormData, UploadFile

from graph_models.models import to_epoch_us, utc_now
from service.composition.deps import services_of
from service.config.settings import Settings
from service.http.errors import Conflict, InvalidField
from service.store.port import CascadeStore, ClaimLost, CommitOutcomeUnknown, StoreError

__all__ = ["Effect", "IdempotencyDep", "IdempotentWrite", "KeyInFlight", "REPLAYED_HEADER"]

REPLAYED_HEADER = "Idempotent-Replayed"
KEY_FIELD = "Idempotency-Key"
Effect = Callable[[], tuple[int, Any]]  # runs the write; (status, response payload)


class KeyReused(InvalidField):
    slug, title = "idempotency-key-reused", "Idempotency key reused"


class KeyInFlight(Conflict):
    slug, title = "idempotency-key-in-flight", "Request with this key in progress"
    retry_after = 1


@dataclass(frozen=True)
class IdempotentWrite:
    """One POST's idempotency context; `respond` runs its effect at most once per key."""

    store: CascadeStore
    settings: Settings
    scope: str  # caller and route
    key: str | None
    fingerprint: str
    posted_by: str | None = None  # the API key id of the caller

    def respond(self, effect: Effect, *, secrets_in: tuple[str, ...] = ()) -> Response:
        """Run `effect` once per key; `secrets_in` names the response fields that hold a
        secret, answered this once and never stored."""
        return self.respond_after(lambda: effect, secrets_in=secrets_in)

    def respond_after(self, prepare: Callable[[], Effect], *,
                      secrets_in: tuple[str, ...] = ()) -> Response:
        """As `respond`, with the effect `prepare` returns: `prepare` reads what the write
        needs outside the store's transaction (a claimed key stays held meanwhile), so a
        slow read never holds the write lock; a replay runs neither."""
        if self.key is None:  # still one unit: the write and the events it enqueues
            effect = prepare()
            return self.store.atomic(lambda: _render(*effect()))
        token = secrets.token_hex(16)
        now = utc_now()
        try:
            stored = self.store.claim_idempotency_key(
                self.scope,
                self.key,
                fingerprint=self.fingerprint,
                token=token,
                now_us=to_epoch_us(now),
                lease_until_us=to_epoch_us(
                    now + timedelta(seconds=self.settings.idempotency_lease_s)),
            )
        except CommitOutcomeUnknown:
            self._release(token)  # else the retry meets our own claim until its lease ends
            raise
        if stored is not None:
            return self._replay(stored.fingerprint, stored.status, stored.body, stored.content_type)
        try:
            effect = prepare()
            return self.store.atomic(lambda: self._run_and_record(effect, token, secrets_in))
        except ClaimLost:
            # Our lease ran out (a slow store) and a retry took the key over: our effect
            # is rolled back and the retry's stands; asking again gets its response.
            raise KeyInFlight("a retry with this Idempotency-Key took over this request; "
                              "retry to get its response", field=KEY_FIELD) from None
        except BaseException:
            self._release(token)
            raise

    def _release(self, token: str) -> None:
        assert self.key is not None
        try:
            self.store.release_idempotency_key(self.scope, self.key, token=token)
        except StoreError:
            pass  # the lease runs out instead; the original error is what the client needs

    def _run_and_record(self, effect: Effect, token: str, secrets_in: tuple[str, ...]) -> Response:
        assert self.key is not None
        status, payload = effect()
        response = _render(status, payload)
        kept = _render(status, _withheld(payload, secrets_in)) if secrets_in else response
        expires = utc_now() + timedelta(seconds=self.settings.idempotency_ttl_s)
        self.store.complete_idempotency_key(
            self.scope,
            self.key,
            token=token,
            status=kept.status_code,
            body=bytes(kept.body),
            content_type=kept.media_type or "application/json",
            expires_at_us=to_epoch_us(expires),
        )
        return response

    def _replay(
        self, fingerprint: str, status: int | None, body: bytes, content_type: str
    ) -> Response:
        if fingerprint != self.fingerprint:
            raise KeyReused(
                "this Idempotency-Key was used with a different payload", field=KEY_FIELD
            )
        if status is None:
            raise KeyInFlight(
                "a request with this Idempotency-Key is still being processed; retry",
                field=KEY_FIELD,
            )
        return Response(
            body, status_code=status, media_type=content_type, headers={REPLAYED_HEADER: "true"}
        )


def _withheld(payload: Any, fields: tuple[str, ...]) -> Any:
    """The payload as stored for replays: each secret field null, and said so."""
    encoded = jsonable_encoder(payload)
    return {**encoded, **dict.fromkeys(fields), "secret_withheld": True}


def _render(status: int, payload: Any) -> JSONResponse:
    return JSONResponse(jsonable_encoder(payload), status_code=status)


def fingerprint_of(body: bytes) -> str:
    """SHA-256 of the payload; JSON is canonicalised first, so key order and white space
    do not make a retry look like a different request."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
    except (ValueError, RecursionError):  # not JSON, or nested too deeply to canonicalise
        return hashlib.sha256(body).hexdigest()
    return hashlib.sha256(canonical.encode()).hexdigest()


async def fingerprint_of_form(form: FormData) -> str:
    """SHA-256 of a multipart form's fields, each file as its name and the SHA-256 of its
    content: a retry sends the same form under a new boundary, so the raw bytes differ."""
    fields = []
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            content = await value.read()
            await value.seek(0)  # the route reads the file again
            fields.append([name, value.filename or "", hashlib.sha256(content).hexdigest()])
        else:
            fields.append([name, value])
    return hashlib.sha256(json.dumps(sorted(fields)).encode()).hexdigest()


async def _fingerprint(request: Request) -> str:
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        return await fingerprint_of_form(await request.form())  # parsed once, cached
    return fingerprint_of(await request.body())


def parse_key(raw: str) -> str:
    """The key as sent, either bare or as an RFC 8941 string ("...")."""
    key = raw[1:-1] if len(raw) >= 2 and raw[0] == raw[-1] == '"' else raw
    if not 0 < len(key) <= 255 or not key.isascii() or not key.isprintable():
        raise InvalidField(
            "Idempotency-Key must be 1-255 printable ASCII characters", field=KEY_FIELD
        )
    return key


def caller_of(request: Request) -> str:
    """Whose key space a key lives in (the API key id once keys exist)."""
    return str(getattr(request.state, "caller", "anonymous"))


async def _idempotent_write(
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=KEY_FIELD,
            max_length=257,
            description="Makes a retried POST safe: the first response is stored and "
            "replayed for 24 h (IETF draft-ietf-httpapi-idempotency-key-header)",
        ),
    ] = None,
) -> IdempotentWrite:
    key = None if idempotency_key is None else parse_key(idempotency_key)
    return IdempotentWrite(
        store=services_of(request).store,
        settings=services_of(request).settings,
        scope=f"{caller_of(request)} {request.method} {request.url.path}",
        key=key,
        fingerprint=await _fingerprint(request) if key else "",
        posted_by=getattr(request.state, "caller", None),
    )


IdempotencyDep = Annotated[IdempotentWrite, Depends(_idempotent_write)]
