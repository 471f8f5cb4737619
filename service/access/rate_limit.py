"""API keys: who may do what.

A key reads `csk_<id>_<secret>`: the id is public (it names the key in listings and the
audit trail), the secret is 192 random bits stored only as its SHA-256 (a slow password
hash buys nothing for a secret this long). Keys have a role:

- `admin`: everything, including keys, webhooks and the audit trail;
- `procurement`: reads everything; writes companies, links, requests, cascades, answers;
- `integration`, bound to one company: records cascades from its company and answers of
  its company; reads its company, its direct suppliers and the requests addressed to it
  (a cascade event of the request reached it); anything else it may not know is a 404;
- `viewer`: gap counts, coverage and metrics only.

Every route names its rule in `POLICY` (keyed by method and path template); a route
without one is admin-only, and a test checks that none is missing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from service.http.errors import ServiceError


class RateLimited(ServiceError):
    status, slug, title = 429, "rate-limited", "Too many requests"


# -- rate limit ----------------------------------------------------------------------------


@dataclass
class RateLimiter:
    """A token bucket per key: `per_minute` requests a minute, bursts up to a tenth of it."""

    per_minute: int
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def take(self, key_id: str) -> float:
        """0 when allowed, else the seconds until a request would be."""
        rate = self.per_minute / 60
        burst = max(1.0, self.per_minute / 10)
        now = time.monotonic()
        tokens, last = self._buckets.get(key_id, (burst, now))
        tokens = min(burst, tokens + (now - last) * rate)
        if tokens < 1:
            self._buckets[key_id] = (tokens, now)
            return (1 - tokens) / rate
        self._buckets[key_id] = (tokens - 1, now)
        return 0.0

