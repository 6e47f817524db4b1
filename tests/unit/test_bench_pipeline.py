"""The pipeline bench's pure parts: the open-loop schedule, rate steps, percentiles, the cost of one report."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from keluhan.adapters.firestore_counting import KINDS, OpCounter, read_counts
from keluhan.cli.bench_pipeline import _pct, _refusal, routed_time, schedule, step_rates
from keluhan.devstack.cost import CostSnapshot, emulator_per_report, per_report


def test_the_schedule_spaces_submissions_evenly_over_the_duration():
    offsets = schedule(2.5, 4.0)
    assert len(offsets) == 10
    assert offsets[0] == 0.0
    assert [round(b - a, 9) for a, b in zip(offsets, offsets[1:], strict=False)] == [0.4] * 9
    assert offsets[-1] < 4.0
    assert schedule(0.1, 1.0) == [0.0]  # at least one report


def _answer(status: int, body: bytes):
    import requests

    response = requests.Response()
    response.status_code, response._content = status, body
    return response


def test_a_refusal_counts_by_status_and_error_code_whatever_its_message():
    first = _answer(429, b'{"error": {"code": "rate_limited", "message": "coba lagi dalam 41 detik / retry in 41 s"}}')
    second = _answer(429, b'{"error": {"code": "rate_limited", "message": "coba lagi dalam 7 detik / retry in 7 s"}}')
    assert _refusal(first) == _refusal(second) == "429 rate_limited"
    assert _refusal(_answer(413, b"<html>too large</html>")) == "413 <html>too large</html>"  # no code: the text


def test_rate_steps_rise_by_the_factor_and_stop_at_the_cap():
    assert step_rates(4.0, 20.0, factor=1.5) == [4.0, 6.0, 9.0, 13.5]  # 20.25 is past the cap
    assert step_rates(4.0, 3.0) == [4.0]  # the start rate is always tried


def test_percentiles_pick_the_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert (_pct(values, 50), _pct(values, 95), _pct(values, 99)) == (51.0, 95.0, 99.0)
    assert _pct([3.0], 99) == 3.0


def test_routed_time_is_the_route_entry_of_the_timeline():
    at = datetime(2026, 12, 5, 9, 0, 1, tzinfo=UTC)
    report = {"timeline": [{"action": "submit", "at": datetime(2026, 12, 5, 9, 0, tzinfo=UTC)},
                           {"action": "locate", "at": datetime(2026, 12, 5, 9, 0, 0, 500000, tzinfo=UTC)},
                           {"action": "route", "at": at}, {"action": "forward", "at": datetime.now(UTC)}]}
    assert routed_time(report) == at.timestamp()
    assert routed_time({"timeline": [{"action": "triage", "at": at}]}) is None


def test_each_process_writes_its_counts_and_the_reader_sums_them_per_function(tmp_path):
    first = OpCounter(tmp_path / "route_report-101.json")
    first.add(reads=2, writes=3, transactions=1)
    first.flush()
    restarted = OpCounter(tmp_path / "route_report-202.json")  # the same function after a restart
    restarted.add(reads=1, writes=1)
    restarted.flush()
    other = OpCounter(tmp_path / "enrich_geo-303.json")
    other.add(queries=1, reads=1)
    other.flush()
    (tmp_path / ".route_report-101.json.tmp").write_text("half a fi")  # a write in progress
    counts = read_counts(tmp_path)
    assert counts["route_report"] == {**dict.fromkeys(KINDS, 0), "reads": 3, "writes": 4, "transactions": 1}
    assert counts["enrich_geo"]["queries"] == 1 and set(counts) == {"route_report", "enrich_geo"}
    assert json.loads((tmp_path / "enrich_geo-303.json").read_text())["reads"] == 1


def test_the_cost_of_one_report_is_the_difference_over_the_reports():
    zero = dict.fromkeys(KINDS, 0)
    before = CostSnapshot(cpu_s={"route_report": {1: 2.0}, "enrich_geo": {5: 1.0}},
                          ops={"route_report": {**zero, "reads": 10, "writes": 10, "transactions": 5}})
    # route_report's process 1 used 1 s more and a restarted process 2 used 0.5 s; enrich_geo's died.
    after = CostSnapshot(cpu_s={"route_report": {1: 3.0, 2: 0.5}, "enrich_geo": {}},
                         ops={"route_report": {**zero, "reads": 30, "writes": 50, "transactions": 15},
                              "enrich_geo": {**zero, "reads": 10}})
    cost = per_report(before, after, 10)
    assert cost["route_report"]["cpu_ms"] == pytest.approx(150.0)
    assert (cost["route_report"]["reads"], cost["route_report"]["writes"],
            cost["route_report"]["transactions"]) == (2.0, 4.0, 1.0)
    assert cost["enrich_geo"]["cpu_ms"] == 0.0 and cost["enrich_geo"]["reads"] == 1.0
    assert cost["total"]["reads"] == 3.0 and cost["total"]["cpu_ms"] == pytest.approx(150.0)
    assert per_report(CostSnapshot(), CostSnapshot(), 0) == {}


def test_the_emulators_cpu_per_report_is_counted_apart_from_the_functions():
    before = CostSnapshot(emulator_cpu_s={"firestore": {7: 10.0}, "firebase_cli": {6: 4.0}, "pubsub": {8: 1.0}})
    # The Pub/Sub emulator was restarted (process 9 is new); the CLI did nothing.
    after = CostSnapshot(emulator_cpu_s={"firestore": {7: 12.0}, "firebase_cli": {6: 4.0}, "pubsub": {9: 0.5}})
    assert emulator_per_report(before, after, 20) == {"firestore": 100.0, "firebase_cli": 0.0, "pubsub": 25.0}
    assert per_report(before, after, 20) == {}  # no function: the emulators are no function's cost


def test_a_process_has_one_counter_per_file_and_concurrent_flushes_keep_the_file_whole(tmp_path):
    import threading

    from keluhan.adapters.firestore_counting import process_counter

    path = tmp_path / "ops" / "submit_report-7.json"
    counter = process_counter(path)
    assert process_counter(path) is counter  # two racing first requests share it

    def work() -> None:
        for _ in range(200):
            counter.add(writes=1)
            counter.flush()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counter.flush()
    assert read_counts(path.parent)["submit_report"]["writes"] == 800
