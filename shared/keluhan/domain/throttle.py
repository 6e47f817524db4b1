"""A per-client token bucket for anonymous reads, kept in one instance's memory."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from math import ceil


@dataclass
class ReadThrottle:
    """At most `burst` reads at once per client, refilled at `per_minute`; the `max_clients`
    least recently seen are all it remembers (a flood of addresses cannot grow it).

    Each instance counts alone: with N instances a client gets at most N times the rate, which
    the function's instance cap bounds (docs/security.md).
    """

    per_minute: float
    burst: int
    max_clients: int = 10_000
    _buckets: OrderedDict[str, tuple[float, float]] = field(default_factory=OrderedDict)

    def take(self, client: str, *, now: float) -> int:
        """0 when `client` may read now (one token taken), else the seconds to wait."""
        tokens, at = self._buckets.pop(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + max(0.0, now - at) * self.per_minute / 60)
        if tokens >= 1:
            self._remember(client, (tokens - 1, now))
            return 0
        self._remember(client, (tokens, now))
        return max(1, ceil((1 - tokens) * 60 / self.per_minute))

    def _remember(self, client: str, state: tuple[float, float]) -> None:
        self._buckets[client] = state
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
