"""The per-key token bucket: requests a minute, bursts, and reads that cost more."""

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

    def __post_init__(self) -> None:
        self._rate = self.per_minute / 60  # tokens a second
        self._burst = max(1.0, self.per_minute / 10)

    def take(self, key_id: str, cost: int = 1) -> float:
        """0 when allowed, else the seconds until a request of `cost` tokens would be
        (a cost above the burst is charged as the whole burst)."""
        rate, burst = self._rate, self._burst
        cost_now = min(float(cost), burst)
        now = time.monotonic()
        tokens, last = self._buckets.get(key_id, (burst, now))
        tokens = min(burst, tokens + (now - last) * rate)
        if tokens < cost_now:
            self._buckets[key_id] = (tokens, now)
            return (cost_now - tokens) / rate
        self._buckets[key_id] = (tokens - cost_now, now)
        return 0.0

