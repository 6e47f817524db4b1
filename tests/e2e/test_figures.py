"""Months of history through the real functions on the emulators: the figures stay exact.

≥ 500 reports over February–May 2026 (Idulfitri and its cuti bersama included), with accepts,
fixes with proof photos, reassignments, forwards to the province, not_ours, reopenings,
confirmations and the tick's escalations and auto-closes. Then every `report-status-changed`
message is delivered a second time. The incremental figures must equal a brute force over the
stored history, and `keluhan stats rebuild --check` must find no difference.
"""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from keluhan.adapters.firestore_counting import read_counts
from keluhan.adapters.firestore_store import FirestoreStats
from keluhan.devstack.client import wait_for
from keluhan.devstack.cost import FIRESTORE_OPS_DIR
from keluhan.devstack.env import clock_file
from keluhan.devstack.sample_photos import make_jpeg
from keluhan.usecases.figures import table
from tests.e2e.test_pipeline import _publisher, report_body
from tests.support.figures_brute import brute_force, comparable
from tests.support.places import kelurahan_point

START = datetime(2026, 2, 2, 1, tzinfo=UTC)
STEPS = 25
STEP = timedelta(days=4)
PER_STEP = 21  # 25 × 21 = 525 reports
PLACES = ("Bontorannu", "Mamajang Dalam", "Karuwisi", "Mattoangin", "Maccini", "Barrang Lompo")
CATEGORIES = ("jalan_rusak", "sampah", "lampu_jalan", "pohon_tumbang", "parkir_liar", "drainase")
PIPELINE = {"received", "verified", "located", "awaiting_photo", "resolving"}


@pytest.fixture
def simulated_clock(stack):
    """The functions' clock, moved by writing an offset into the stack's clock file."""
    path = clock_file(stack.state_dir)

    def set_now(moment: datetime) -> datetime:
        path.write_text(str((moment - datetime.now(UTC)).total_seconds()))
        return moment

    yield set_now
    path.unlink(missing_ok=True)


def retried(call, attempts: int = 4):
    """As the apps do on a flaky network: the same request again (submissions are idempotent by
    client_id, moves by expected_status)."""
    import requests

    for attempt in range(attempts):
        try:
            return call()
        except requests.ConnectionError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5 * (attempt + 1))


class History:
    def __init__(self, client, citizen, call_center, operator):
        self.client, self.citizen, self.call_center, self.operator = client, citizen, call_center, operator
        self.skpd_tokens: dict[str, str] = {}
        self.ids: list[str] = []
        self.citizens_reports: list[str] = []
        self.now = START

    def skpd(self, assignee: str) -> str:
        if assignee not in self.skpd_tokens:
            self.skpd_tokens[assignee] = self.client.user(f"{assignee}.history@e2e.test",
                                                          {"role": "skpd", "skpd": assignee})[1]
        return self.skpd_tokens[assignee]

    def submit(self, n: int, rng: random.Random) -> str:
        lat, lon, _ = kelurahan_point(rng.choice(PLACES))
        category = rng.choice(CATEGORIES)
        street = "Jl. Landak Baru" if category == "jalan_rusak" else None
        if n % 6 == 0:  # a citizen with a photo: may later confirm or reopen
            body = report_body(lat, lon, category=category, street=street, taken_at=self.now)
            created = retried(lambda: self.client.submit(self.citizen[1], body)).json()
            photo = make_jpeg(taken_at=self.now, lat=lat, lon=lon, seed=rng.randrange(10**6), width=800, height=600)
            assert retried(lambda: self.client.upload_photo(created["upload"], photo)).status_code in (200, 201)
            self.citizens_reports.append(created["report_id"])
        else:
            body = report_body(lat, lon, category=category, street=street, channel="call_center_112")
            response = retried(lambda: self.client.submit(self.call_center[1], body))
            assert response.status_code == 201, response.text
            created = response.json()
        return created["report_id"]

    def move(self, report_id: str, rng: random.Random) -> int:
        report = self.client.report(report_id)
        status, assignee = report["status"], report.get("assignee")
        body: dict = {"report_id": report_id, "expected_status": status}
        roll = rng.random()
        token = self.skpd(assignee) if assignee and assignee not in ("triage", "baruga", "bbpjn") else None
        if status == "routed" and token:
            if roll < 0.65:
                body["action"] = "accept"
            elif roll < 0.75:
                body |= {"action": "reject", "reason": "not_ours", "note": "bukan kami / not ours"}
            elif roll < 0.9:
                token = self.operator
                body |= {"action": "reassign", "assignee": rng.choice(["dishub", "dlh", "baruga"]),
                         "note": "dialihkan / handed over"}
            else:
                return 0
        elif status == "triage":
            token = self.operator
            body |= {"action": "reassign", "assignee": rng.choice(["dinas-pu", "dlh"]), "note": "triase"}
        elif status in ("accepted", "reopened") and token:
            body["action"] = "start"
        elif status == "in_progress" and token and roll < 0.6:
            body["action"] = "resolve"
        elif status == "resolved" and report["channel"] == "warga" and roll < 0.6:
            token = self.citizen[1]
            body["action"] = "confirm" if roll < 0.35 else "reopen"
        else:
            return 0
        response = retried(lambda: self.client.act(token, body))
        assert response.status_code in (200, 409), response.text
        if response.status_code == 200 and body["action"] == "resolve":
            point = report["point"]
            proof = make_jpeg(taken_at=self.now, lat=point["lat"], lon=point["lon"], seed=rng.randrange(10**6),
                              width=800, height=600)
            upload = response.json()["upload"]
            assert retried(lambda: self.client.upload_photo(upload, proof)).status_code in (200, 201)
        return int(response.status_code == 200)


def _settled(client, stats: FirestoreStats, own: set[str]):
    """None of the history's reports left in the pipeline, and every report's figures at its latest
    timeline entry. (Other tests' reports on the same stack may wait for a photo in real time, which
    the simulated months never reach; their figures must still be exact.)"""
    docs = [d.to_dict() for d in client.db.collection("reports").stream()]
    states = {d.id: d.to_dict()["seq"] for d in client.db.collection("stats_reports").stream()}
    busy = [(d["report_id"], d["status"], states.get(d["report_id"], -1), len(d["timeline"]) - 1)
            for d in docs if (d["report_id"] in own and d["status"] in PIPELINE) or states.get(d["report_id"], -1) != len(d["timeline"]) - 1]
    _BUSY[:] = busy
    return None if busy else docs


_BUSY: list[tuple[str, str, int, int]] = []  # what kept the last look from settling: id, status, seq seen, last seq


def _quiet(client, stats, own: set[str], *, timeout_s: float):
    """Settled, and still the same a few seconds later (the last tick may still be escalating)."""
    def stable():
        first = _settled(client, stats, own)
        if first is None:
            return None
        time.sleep(4)
        second = _settled(client, stats, own)
        same = second is not None and sum(len(d["timeline"]) for d in first) == \
            sum(len(d["timeline"]) for d in second)
        return second if same else None

    try:
        return wait_for(stable, timeout_s=timeout_s, interval_s=2, what="history settled")
    except TimeoutError as exc:
        raise TimeoutError(f"{exc}; {len(_BUSY)} reports busy (id, status, figures' seq, last seq): "
                           f"{_BUSY[:10]}") from None


def _figures_lookups(state_dir) -> int:
    return read_counts(state_dir / FIRESTORE_OPS_DIR).get("record_figures", {}).get("lookups", 0)


@pytest.mark.timeout(1500)
def test_months_of_history_give_exact_figures_even_when_every_message_comes_twice(
        client, stack, citizen, call_center, simulated_clock):
    rng = random.Random(2026)
    operator = client.user("operator.history@warroom.test", {"role": "operator"})[1]
    history = History(client, citizen, call_center, operator)
    stats = FirestoreStats(client.db)
    tick = _publisher(client)
    started = time.monotonic()
    moves = 0
    with ThreadPoolExecutor(max_workers=6) as pool:
        for step in range(STEPS):
            history.now = simulated_clock(START + step * STEP)
            batch = list(pool.map(lambda n: history.submit(n, rng), range(step * PER_STEP, (step + 1) * PER_STEP)))
            history.ids += batch
            time.sleep(1.0)  # let most of the batch reach its SKPD
            # Some of everything, and every citizen's report (they confirm or reopen fixes).
            targets = sorted(set(rng.sample(history.ids, min(len(history.ids), 60))
                                 + history.citizens_reports))
            moves += sum(pool.map(lambda r, s=step: history.move(r, random.Random(r + str(s))), targets))
            tick("sweep-tick", {}, {})
    assert len(history.ids) >= 500
    moved = time.monotonic() - started
    docs = _quiet(client, stats, set(history.ids), timeout_s=600)
    simulated = time.monotonic() - started

    # Every status change delivered a second time, in a new order. Published without waiting for
    # each message (the publisher batches them), then all confirmed; handled when record_figures
    # has read the report and its figures' state once more for each (its own Firestore counts).
    before = stats.groups()
    lookups = _figures_lookups(stack.state_dir)
    resent = [tick("report-status-changed", {"report_id": doc["report_id"], "seq": seq},
                   {"report_id": doc["report_id"], "seq": str(seq), "event": "ReportStatusChanged"}, wait=False)
              for doc in docs for seq in range(len(doc["timeline"]))]
    for future in resent:
        future.result(timeout=60)
    published = time.monotonic() - started - simulated
    wait_for(lambda: _figures_lookups(stack.state_dir) >= lookups + 2 * len(resent), timeout_s=600,
             interval_s=2, what="record_figures handled every re-delivered message")
    _quiet(client, stats, set(history.ids), timeout_s=300)
    assert stats.groups() == before
    redelivered = time.monotonic() - started - simulated

    months = sorted({key.rsplit("@", 1)[1] for key in before})
    assert len(months) >= 4, months
    for dim in ("city", "skpd", "kecamatan", "kelurahan", "category", "channel"):
        for month in months:
            incremental = {r["key"]: comparable(r) for r in table(stats, by=dim, month=month)}
            brute = {k: comparable(v) for k, v in brute_force(docs, dim=dim, month=month).items() if comparable(v)}
            assert incremental == brute, (dim, month)

    from keluhan.cli import main as keluhan

    assert keluhan(["stats", "rebuild", "--check"]) == 0
    assert keluhan(["stats", "show", "--by", "skpd"]) == 0
    actions = [e.get("action") or e.get("event") for d in docs for e in d["timeline"]]
    for expected in ("accept", "reassign", "proof_accepted", "reopen", "confirm", "escalation"):
        assert expected in actions, expected
    assert any(d["status"] == "forwarded" for d in docs)
    city = next(r for r in table(stats, by="city", month="all"))
    print(f"\nhistory: {len(docs)} reports, {moves} moves, {len(actions)} timeline entries, "
          f"{len(resent)} messages re-delivered; simulated in {simulated:.0f} s ({moved:.0f} s of moves), re-delivered in "
          f"{redelivered:.0f} s (published in {published:.0f} s), checked in "
          f"{time.monotonic() - started - simulated - redelivered:.0f} s; city figures {city}")
