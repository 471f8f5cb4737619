"""Who a cascade view shows by name: real ids for staff, pseudonyms for a supplier.

An integration key of company X sees X and X's direct suppliers (over any link) by id;
every other company, the request's issuer and X's own buyers included, appears as
`anon-` and 16 lowercase hex digits: the first 64 bits of HMAC-SHA256 under the server's
`pseudonym_secret` of (request, viewer company, company). So the same company keeps its
pseudonym in X's view of that request at every `as_of` and revision, while another viewer
or another request gets unrelated ones: two suppliers cannot match their views by name.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from graph_models.engine import CompactNetwork

__all__ = ["PREFIX", "Identities", "Pseudonyms", "RealIds", "direct_suppliers", "pseudonym"]

PREFIX = "anon-"


@lru_cache(maxsize=1 << 16)
def pseudonym(secret: bytes, request_id: str, viewer: str, company_id: str) -> str:
    """`anon-` and 16 hex digits, a keyed hash of the three ids (JSON-joined, so no
    choice of ids can make two triples collide by concatenation).

    >>> a = pseudonym(b"k", "r1", "tier1", "smelter")
    >>> a.startswith("anon-") and len(a) == 21, a == pseudonym(b"k", "r1", "tier1", "smelter")
    (True, True)
    >>> a != pseudonym(b"k", "r1", "other", "smelter") != pseudonym(b"k", "r2", "tier1", "smelter")
    True
    """
    message = json.dumps([request_id, viewer, company_id]).encode()
    return PREFIX + hmac.new(secret, message, hashlib.sha256).hexdigest()[:16]


class Identities:
    """How company ids are shown in one answer (the base shows them as they are)."""

    masks = False

    def show(self, company_id: str) -> str:
        return company_id

    def shown_by_id(self, company_id: str) -> bool:
        return True

    def resolve(self, shown: str, candidates: Iterable[str]) -> str | None:
        """The company a caller named (`shown` as this view shows it), among
        `candidates`; None when no candidate is shown that way."""
        return shown


RealIds = Identities  # staff keys: every company by its id


@dataclass(frozen=True)
class Pseudonyms(Identities):
    """The identities an integration key of `viewer` sees in its view of a request."""

    secret: bytes
    request_id: str
    viewer: str
    known: frozenset[str]  # shown by id: the viewer and its direct suppliers

    masks = True

    def show(self, company_id: str) -> str:
        if company_id in self.known:
            return company_id
        return pseudonym(self.secret, self.request_id, self.viewer, company_id)

    def shown_by_id(self, company_id: str) -> bool:
        return company_id in self.known

    def resolve(self, shown: str, candidates: Iterable[str]) -> str | None:
        if shown in self.known:
            return shown
        if not shown.startswith(PREFIX):  # a hidden company's real id names nothing
            return None
        return next((c for c in candidates if self.show(c) == shown), None)


def direct_suppliers(network: CompactNetwork, company_id: str) -> frozenset[str]:
    """The live companies `company_id` buys from directly, over links of any category."""
    at = network.index.get(company_id)
    if at is None:
        return frozenset()
    # links are sorted by buyer: the company's own are one run
    start, stop = np.searchsorted(network.src, [at, at + 1])
    return frozenset(network.ids[int(s)] for s in network.dst[start:stop])
