"""Validation audits: which accepted fixes are held at awaiting_validation for someone other than the SKPD.

A share of fixes is sampled at random (`AuditPolicy.rate`, 10 % by default); an SKPD whose reopen
rate is high (reporters often reopen its fixes) is sampled more (`high_rate`); ops may set an SKPD's
rate outright (`by_skpd`). The decision is made once, when the proof is accepted, and kept on the
report's resolution with the draw that made it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from keluhan.domain.report import Audit


@dataclass(frozen=True)
class AuditPolicy:
    rate: float = 0.10               # the share of fixes audited
    high_rate: float = 0.30          # for an SKPD whose reopen rate is above the threshold
    reopen_threshold: float = 0.20   # reopened / fixes with an accepted proof
    min_fixes: int = 10              # fewer fixes than this say nothing about an SKPD's reopen rate
    by_skpd: Mapping[str, float] = field(default_factory=dict)

    def rate_for(self, skpd: str | None, figures: Mapping[str, int]) -> tuple[float, str]:
        """The sampling rate for a fix of `skpd`, from its all-time figures, and why that rate."""
        if skpd is not None and skpd in self.by_skpd:
            return self.by_skpd[skpd], "skpd_setting"
        if reopen_rate(figures, min_fixes=self.min_fixes) > self.reopen_threshold:
            return max(self.rate, self.high_rate), "high_reopen_rate"
        return self.rate, "base"

    def decide(self, skpd: str | None, figures: Mapping[str, int], *, draw: float, now: datetime) -> Audit:
        """The audit decision for one accepted proof, given a uniform draw in [0, 1)."""
        rate, basis = self.rate_for(skpd, figures)
        return Audit(sampled=draw < rate, rate=rate, draw=draw, basis=basis, decided_at=now)


def reopen_rate(figures: Mapping[str, int], *, min_fixes: int = 1) -> float:
    """Reopened reports over reports whose fix had an accepted proof (each in the `resolution_h`
    histogram once; a reopen is only possible after one); 0 below `min_fixes`."""
    fixes = sum(n for key, n in figures.items() if key.startswith("resolution_h_b"))
    if fixes < max(min_fixes, 1):
        return 0.0
    return figures.get("reopened", 0) / fixes
