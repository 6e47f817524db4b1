"""The open-loop bench at a low rate on the session's stack: its JSON, every report routed, the cost counted."""

from __future__ import annotations

import json

import pytest

from keluhan.cli.bench_pipeline import run_open_loop_steps
from keluhan.devstack.client import StackClient


@pytest.mark.timeout(300)  # ~10 s of submissions; a busy machine is given room to route them
def test_an_open_loop_run_routes_every_report_and_prices_it(stack, client):
    result = run_open_loop_steps(client.config, stack.state_dir, rate=1.0, duration_s=8.0, find_max=False,
                                 max_rate=1.0, photo_share=0.25, senders=8, seed=5, timeout_s=240,
                                 concurrency=4, client_factory=StackClient)
    assert json.loads(json.dumps(result, default=str)) == result  # the bench's last line, as printed
    (step,) = result["steps"]
    assert (step["rate"], step["reports"]) == (1.0, 8)
    assert (step["routed"], step["not_routed"], step["lost"]) == (8, 0, 0), step
    assert 0 < step["p50_s"] <= step["p95_s"] <= step["p99_s"] < 240
    assert result["floor_reports_per_s"] > 0 and result["max_rate_p95_under_limit"] is None
    cost = step["cost_per_report"]
    # Every report went through submission, enrichment and routing: each function used CPU, and its
    # Firestore operations were counted by the functions' own client: a stage reads the report and
    # writes it in a batch guarded by its update time, never in a transaction.
    for name in ("submit_report", "enrich_geo", "route_report"):
        assert cost[name]["cpu_ms"] > 0 and cost[name]["writes"] >= 1, (name, cost[name])
    assert cost["route_report"]["reads"] >= 1 and cost["route_report"]["transactions"] == 0
    assert cost["submit_report"]["reads"] >= 1
    assert cost["total"]["writes"] >= sum(cost[n]["writes"] for n in ("submit_report", "route_report"))
    # The emulators' own CPU, apart: every report was stored by the Firestore emulator.
    assert set(step["emulator_cpu_ms_per_report"]) == {"firestore", "firebase_cli", "pubsub"}
    assert step["emulator_cpu_ms_per_report"]["firestore"] > 0
