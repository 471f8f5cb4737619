"""Post thousands of acknowledgements with retries while faults are injected, then
reconcile what the clients were told against what the store holds.

Senders are threads with the project's `CascadeClient` (one Idempotency-Key per logical
call, reused by its retries), posting singly and in batches of `BATCH`. Every answer has
its own `at`, so its identity (request, company, status, at) names one logical answer.
A fault injector (a callable run in its own thread) kills or stops things meanwhile.
Loopback only, and bounded: senders give up at `deadline_s`.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from service.integrations.client import CascadeClient, ProblemError
from service.ledger.schemas import AcknowledgementCreate
from service.registry.schemas import RequestCreate
from service.store.port import CascadeStore

__all__ = ["Ledger", "Reconciliation", "answers", "at_progress", "reconcile", "seed_network",
           "send_all"]

REQUEST_ID = "bcp-faults"
SUPPLIERS = 100
BATCH = 25  # every 4th call of a sender is a batch of this many answers
FIRST_AT = datetime(2026, 11, 1, tzinfo=UTC)
STATUSES = ("received", "accepted", "declined")


@dataclass
class Ledger:
    """What the senders did: every answer sent, and those the service said it stored."""

    sent: set[tuple[str, str, str, datetime]] = field(default_factory=set)
    confirmed: set[tuple[str, str, str, datetime]] = field(default_factory=set)
    refused: list[str] = field(default_factory=list)
    retries: int = 0  # attempts the clients made again after a failed one
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_to_retry(self, seconds: float) -> None:
        with self.lock:
            self.retries += 1
        time.sleep(seconds)

    def record(self, sent: Sequence[AcknowledgementCreate], confirmed: Sequence[bool]) -> None:
        with self.lock:
            for answer, ok in zip(sent, confirmed, strict=True):
                self.sent.add(identity(answer))
                if ok:
                    self.confirmed.add(identity(answer))


@dataclass(frozen=True)
class Reconciliation:
    sent: int
    confirmed: int
    stored: int
    lost: int  # confirmed to the client, not stored
    duplicated: int  # stored more than once
    unknown: int  # stored, never sent


def identity(answer: AcknowledgementCreate) -> tuple[str, str, str, datetime]:
    assert answer.at is not None
    return answer.request_id, answer.company_id, str(answer.status), answer.at


def supplier(n: int) -> str:
    return f"supplier-{n % SUPPLIERS:03d}"


def answers(count: int) -> list[AcknowledgementCreate]:
    """`count` distinct answers to the request, a second apart."""
    return [AcknowledgementCreate(request_id=REQUEST_ID, company_id=supplier(n),
                                  status=STATUSES[n % 3], at=FIRST_AT + timedelta(seconds=n))
            for n in range(count)]


def seed_network(client: CascadeClient) -> None:
    """A focal company, its suppliers and the request the answers are for."""
    client.batch("companies", [{"id": "focal", "name": "Focal"}] + [
        {"id": supplier(n), "name": f"Supplier {n}"} for n in range(SUPPLIERS)])
    client.batch("links", [{"buyer_id": "focal", "supplier_id": supplier(n),
                            "category": "components"} for n in range(SUPPLIERS)])
    client.issue_request(RequestCreate(id=REQUEST_ID, catalog_id="bcp", issuer_id="focal"))


def send_all(base_urls: Sequence[str], api_key: str, planned: Sequence[AcknowledgementCreate],
             *, senders: int, inject: Callable[[Ledger, threading.Event], None],
             deadline_s: float) -> Ledger:
    """Send `planned` from `senders` threads (spread over `base_urls`) while `inject`
    runs; `inject` gets the ledger and an event that is set once every sender is done."""
    ledger = Ledger()
    done = threading.Event()
    shares = [planned[k::senders] for k in range(senders)]
    threads = [threading.Thread(target=_sender, args=(base_urls[k % len(base_urls)], api_key,
                                                      share, ledger, time.monotonic() + deadline_s))
               for k, share in enumerate(shares)]
    injector = threading.Thread(target=inject, args=(ledger, done))
    injector.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    injector.join()
    return ledger


def at_progress(ledger: Ledger, done: threading.Event, planned: int,
                faults: int) -> Iterator[int]:
    """Yield 0, 1, ... `faults` - 1 as the sent answers pass 1/(faults+1), 2/(faults+1) ...
    of `planned`: faults land while answers are in flight, however fast the machine."""
    for fault in range(faults):
        threshold = planned * (fault + 1) // (faults + 1)
        while len(ledger.sent) < threshold:
            if done.wait(0.02):
                return
        yield fault


def _sender(base_url: str, api_key: str, share: Sequence[AcknowledgementCreate],
            ledger: Ledger, deadline: float) -> None:
    # generous retries: an outage lasts seconds, and every retry reuses the call's key
    with CascadeClient(base_url, api_key, attempts=200, backoff_s=0.05, max_wait_s=6.0,
                       timeout_s=10.0, sleep=ledger.wait_to_retry) as client:
        position = call = 0
        while position < len(share) and time.monotonic() < deadline:
            size = BATCH if call % 4 == 3 else 1
            chunk = share[position:position + size]
            ledger.record(chunk, _post(client, chunk, ledger))
            position, call = position + size, call + 1


def _post(client: CascadeClient, chunk: Sequence[AcknowledgementCreate],
          ledger: Ledger) -> list[bool]:
    """Whether the service confirmed each answer as stored."""
    try:
        if len(chunk) == 1:
            client.acknowledge(chunk[0])
            return [True]
        results = client.batch("acknowledgements", chunk).results
        return [r.status in ("created", "unchanged") for r in results]
    except (ProblemError, httpx.HTTPError) as exc:
        with ledger.lock:
            ledger.refused.append(repr(exc))
        return [False] * len(chunk)


def reconcile(ledger: Ledger, store: CascadeStore) -> Reconciliation:
    """Compare the ledger with the request's stored answer history."""
    history = store.list_acknowledgements(request_id=REQUEST_ID, limit=10**7)
    stored = Counter((a.request_id, a.company_id, str(a.status), a.at) for a in history)
    return Reconciliation(
        sent=len(ledger.sent),
        confirmed=len(ledger.confirmed),
        stored=sum(stored.values()),
        lost=sum(1 for answer in ledger.confirmed if stored[answer] == 0),
        duplicated=sum(n - 1 for n in stored.values() if n > 1),
        unknown=sum(1 for answer in stored if answer not in ledger.sent),
    )
