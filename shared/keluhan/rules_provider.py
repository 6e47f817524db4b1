"""The routing rules in force: Firestore's routing_rules/current if present, else the rules file.

Cached for `routing_rules_ttl_s` (≤ 60 s), so an operator's change takes effect within a minute
without a redeploy.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from keluhan.domain.routing import RuleSet
from keluhan.settings import REPO_ROOT, Settings

log = logging.getLogger(__name__)


def load_rules(path: str | Path) -> RuleSet:
    """Read and validate a rules file; raises ValueError naming the file."""
    path = Path(path)
    try:
        return RuleSet.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise ValueError(f"routing rules {path}: {exc}") from exc


def default_rules_path(settings: Settings | None = None) -> Path:
    """The rules file: settings.routing_rules_file when set, else fixtures/routing_rules.json."""
    if settings is not None and settings.routing_rules_file:
        return Path(settings.routing_rules_file)
    return REPO_ROOT / "fixtures" / "routing_rules.json"


class RulesProvider:
    def __init__(
        self,
        *,
        load_doc: Callable[[], Mapping[str, object] | None],
        fixture_path: Path,
        ttl_s: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load_doc = load_doc
        self._fixture = fixture_path
        self._ttl = ttl_s
        self._now = monotonic
        self._lock = threading.Lock()
        self._cached: tuple[float, RuleSet] | None = None

    def current(self) -> RuleSet:
        with self._lock:
            if self._cached and self._now() - self._cached[0] < self._ttl:
                return self._cached[1]
            doc = self._load_doc()
            try:
                rules = RuleSet.from_dict(doc) if doc else load_rules(self._fixture)
            except ValueError:
                # A broken rules document must not stop routing: keep the last good rules.
                log.exception("routing_rules/current is invalid; keeping the rules in force")
                rules = self._cached[1] if self._cached else load_rules(self._fixture)
            self._cached = (self._now(), rules)
            return rules
