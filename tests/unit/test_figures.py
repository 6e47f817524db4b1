"""Figures: working days on Indonesia's calendar, and incremental = rebuild = brute force."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from keluhan.domain.audit import AuditPolicy
from keluhan.domain.catalogue import get_category
from keluhan.domain.figures import contribution, percentile_edge, summary
from keluhan.domain.report import StaleOrIllegal
from keluhan.domain.sla import WITA, SlaPolicy, WorkingCalendar
from keluhan.domain.workflow import Actor, Role
from keluhan.usecases.figures import differences, rebuild, record_figures, table
from keluhan.usecases.handling import HandlingPolicy
from keluhan.usecases.photo import Auditor
from keluhan.usecases.sweep import sweep
from keluhan.workdays import indonesian_holidays, read_announced, sla_policy
from tests.support.fakes import FakeStats
from tests.support.figures_brute import brute_force, comparable
from tests.unit.test_handling import OPERATOR, PU, World


def wita(*args) -> datetime:
    return datetime(*args, tzinfo=WITA)


def test_the_calendar_knows_public_holidays_and_cuti_bersama():
    known = indonesian_holidays()
    assert date(2026, 8, 17) in known  # Independence Day
    assert date(2026, 3, 20) in known and "Joint" in known[date(2026, 3, 20)]  # cuti bersama Idulfitri
    assert date(2026, 12, 24) in known  # cuti bersama Natal


def test_ops_add_announced_days_in_a_data_file(tmp_path):
    extra = tmp_path / "libur.csv"
    extra.write_text("# pengumuman\ndate,name\n2026-11-30,Pilkada\n")
    assert read_announced(extra) == {date(2026, 11, 30): "Pilkada"}
    policy = sla_policy(str(extra))
    assert not policy.calendar.is_working_day(date(2026, 11, 30))
    assert sla_policy("").calendar.is_working_day(date(2026, 11, 30))


def test_working_days_count_the_working_share_of_each_wita_day():
    calendar = WorkingCalendar.of([])
    assert calendar.working_days_between(wita(2026, 11, 27, 16), wita(2026, 11, 30, 10)) == pytest.approx(18 / 24)
    eid = sla_policy("").calendar  # 18–19 March 2026 Nyepi, 20–24 Idulfitri (21–22 the weekend)
    assert eid.working_days_between(wita(2026, 3, 19, 0), wita(2026, 3, 26, 0)) == pytest.approx(1)


def test_seven_working_days_for_a_pothole_skip_weekends_and_holidays():
    policy = sla_policy("")
    routed = wita(2026, 3, 17, 9)  # Tuesday; cuti bersama and Nyepi 18–19, Idulfitri 20–24 March
    due = policy.due_at(get_category("jalan_rusak"), routed)
    assert due == wita(2026, 4, 2, 9)
    assert policy.calendar.working_days_between(routed, due) == pytest.approx(7)
    assert policy.due_at(get_category("kebakaran"), routed) == routed + timedelta(hours=1)


@pytest.mark.parametrize("days", [0.25, 1, 3.5, 7, 14])
def test_adding_working_days_is_the_inverse_of_counting_them(days):
    calendar = sla_policy("").calendar
    start = wita(2026, 12, 22, 15, 30)
    assert calendar.working_days_between(start, calendar.add_working_days(start, days)) == pytest.approx(days)


def test_percentiles_are_the_bucket_of_the_nearest_rank_value():
    assert percentile_edge([0, 3, 1] + [0] * 14, 0.5) == 2
    assert percentile_edge([0] * 17, 0.5) is None


def _simulate(world: World, reports: int, rng: random.Random, stats: FakeStats, *, redeliveries: int = 2):
    """Months of history: routing, hand-overs, forwards, not_ours, accepts, fixes, reopenings,
    confirmations and the tick (escalation, auto-close), every status change delivered twice."""
    sla = sla_policy("")
    world.clock.now = datetime(2026, 2, 2, 1, tzinfo=UTC)
    policy = HandlingPolicy(proof_wait=timedelta(hours=24), reopen_window=timedelta(days=7),
                            url_ttl=timedelta(minutes=15), max_bytes=10**7, sla=sla, answer_wait=timedelta(days=3))
    import tests.unit.test_handling as handling

    saved, handling.POLICY = handling.POLICY, policy
    # Validation audits: a seeded share of fixes, every fix of dlh (issue 21).
    world.auditor = Auditor(policy=AuditPolicy(rate=0.3, by_skpd={"dlh": 1.0}), stats=stats,
                            draw=random.Random(rng.random()).random)
    delivered = 0
    ids = []

    def deliver() -> None:
        nonlocal delivered
        messages = [m for m in world.publish.messages[delivered:] if m[0] == "report-status-changed"]
        delivered = len(world.publish.messages)
        batch = [m for m in messages for _ in range(redeliveries)]
        rng.shuffle(batch)
        for _, data, _ in batch:
            record_figures(data["report_id"], reports=world.reports, stats=stats)

    for n in range(reports):
        report_id = world.routed(f"client-{n:04d}")
        doc = world.reports.docs[report_id]
        world.reports.docs[report_id] |= {"sla": sla.assignment(get_category(doc["category"]),
                                                                 doc["routing"]["at"])}
        ids.append(report_id)
        waiting = [i for i in ids if world.reports.docs[i]["status"] in ("awaiting_reporter", "awaiting_validation")]
        for report_id in rng.sample(ids, min(len(ids), 3)) + [i for i in waiting if rng.random() < 0.15]:
            _random_move(world, report_id, rng)
        world.clock.advance(hours=rng.choice([1, 3, 7, 20]))
        if n % 10 == 0:
            sweep(reports=world.reports, publish=world.publish, clock=world.clock, sla=sla)
            for doc in list(world.reports.docs.values()):  # reporters rate fixes the tick closed
                closed_by = [e.get("action") for e in doc["timeline"] if e.get("action")][-1]
                if closed_by == "auto_close" and "rating" not in doc and rng.random() < 0.7:
                    try:
                        world.act(doc["report_id"], "rate", Actor(Role.WARGA, "siti"), rating=rng.randint(1, 5))
                    except StaleOrIllegal:  # closed longer ago than the window to rate: refused, fine
                        pass
        deliver()
    # Two weeks on: every scheduled date has come, every question left unanswered has expired.
    world.clock.advance(days=14)
    sweep(reports=world.reports, publish=world.publish, clock=world.clock, sla=sla)
    deliver()
    handling.POLICY = saved  # the other tests' policy again
    return ids


def _random_move(world: World, report_id: str, rng: random.Random) -> None:
    report = world.reports.docs[report_id]
    status = report["status"]
    who = report.get("assignee")
    skpd = Actor(Role.SKPD, "staff", skpd=who)
    try:
        if status == "routed":
            roll = rng.random()
            if roll < 0.6:
                world.act(report_id, "accept", skpd)
            elif roll < 0.7:
                world.act(report_id, "reject", skpd, reason="not_ours", note="bukan kami")
            elif roll < 0.8:
                world.act(report_id, "reassign", OPERATOR, assignee=rng.choice(["dishub", "baruga", "dlh"]),
                          note="pindah")
        elif status == "triage":
            world.act(report_id, "reassign", OPERATOR, assignee="dinas-pu", note="kembali")
        elif status in ("accepted", "reopened"):
            roll = rng.random()
            if roll < 0.1:  # honest: not this month (issue 21)
                world.act(report_id, "schedule", skpd, reason=rng.choice(["butuh_anggaran", "pekerjaan_besar"]),
                          scheduled_for=(world.clock().astimezone(WITA) + timedelta(days=rng.choice([2, 9]))).date())
            elif roll < 0.2:
                world.act(report_id, "ask_reporter", skpd, note="Di sebelah mana? / Where exactly?")
            else:
                world.act(report_id, "start", skpd)
        elif status == "awaiting_reporter" and rng.random() < 0.6:
            world.act(report_id, "answer", Actor(Role.WARGA, "siti"), note="Dekat masjid / By the mosque")
        elif status == "awaiting_validation":
            roll = rng.random()
            if roll < 0.4:
                world.act(report_id, "validate", OPERATOR)
            elif roll < 0.7:
                world.act(report_id, "refuse_validation", OPERATOR, note="Belum selesai / Not done")
        elif status == "in_progress" and rng.random() < 0.5:
            world.act(report_id, "resolve", skpd)
            world.upload(world.reports.docs[report_id]["resolution"]["object"], seed=rng.randrange(10**6))
        elif status == "resolved":
            roll = rng.random()
            if roll < 0.2:
                world.act(report_id, "confirm", Actor(Role.WARGA, "siti"))
            elif roll < 0.4:
                world.act(report_id, "confirm", Actor(Role.WARGA, "siti"), rating=rng.randint(1, 5),
                          rating_text="Terima kasih")
            elif roll < 0.55:
                world.act(report_id, "reopen", Actor(Role.WARGA, "siti"))
        elif status == "closed" and rng.random() < 0.5 and "rating" not in report:
            world.act(report_id, "rate", Actor(Role.WARGA, "siti"), rating=rng.randint(1, 5))
        if rng.random() < 0.3:  # a neighbour supports it ("dukung"), or withdraws
            world.support(report_id, Actor(Role.WARGA, f"tetangga-{rng.randrange(6)}"), undo=rng.random() < 0.3)
    except Exception as exc:  # a reopen after the window: the table said no, which is fine
        from keluhan.domain.report import StaleOrIllegal

        assert isinstance(exc, StaleOrIllegal), exc


@pytest.mark.timeout(900)  # ~20 s alone; a shared 2-core machine under load has taken minutes
def test_generated_history_incremental_figures_equal_the_rebuild_and_a_brute_force():
    rng = random.Random(11)
    world, stats = World(), FakeStats()
    _simulate(world, 100, rng, stats)
    docs = list(world.reports.docs.values())
    totals, _ = rebuild(world.reports.all())
    assert differences(stats.groups(), totals) == []
    months = sorted({k.rsplit("@", 1)[1] for k in totals})
    assert len(months) >= 3  # "all" and at least two months
    for dim in ("city", "skpd", "kecamatan", "kelurahan", "category", "channel"):
        for month in months:
            incremental = {r["key"]: comparable(r) for r in table(stats, by=dim, month=month)}
            brute = {k: comparable(v) for k, v in brute_force(docs, dim=dim, month=month).items()}
            assert incremental == {k: v for k, v in brute.items() if v}, (dim, month)
    city = summary(stats.groups(dim="city", month="all")["city=makassar@all"])
    assert city["closed"] and city["reopened"] and city["rejected_not_ours"] and city["overdue"] >= 0
    assert city["resolution_h_median"] is not None
    assert city["supporters"] and city["rated"] and city["satisfaction_mean"] is not None
    assert any(d.get("rating", {}).get("after") == "auto_close" for d in docs)
    assert any(e.get("event") == "escalation" for d in docs for e in d["timeline"])
    made = {e.get("action") for d in docs for e in d["timeline"]}
    assert {"schedule", "resume", "ask_reporter", "answer", "close_unanswered", "validate",
            "refuse_validation"} <= made, made
    assert {"proof_accepted"} <= made
    assert city["audits_passed"] and city["audits_refused"] and city["scheduled_past_date"] >= 0


def test_a_forwarded_report_leaves_the_city_figures_and_a_hand_over_restarts_the_clock():
    world, stats = World(), FakeStats()
    report_id = world.routed()
    world.act(report_id, "accept", PU)
    world.clock.advance(days=3)
    world.act(report_id, "reassign", OPERATOR, assignee="dishub", note="Rambu / A sign")
    world.clock.advance(hours=2)
    world.act(report_id, "accept", Actor(Role.SKPD, "d", skpd="dishub"))
    doc = world.reports.docs[report_id]
    keys = contribution(doc)
    assert "skpd=dishub@all" in keys and "skpd=dinas-pu@all" not in keys
    assert keys["skpd=dishub@all"]["first_response_h_b01"] == 1  # 2 hours at dishub, not 3 days
    world.act(report_id, "reassign", OPERATOR, assignee="baruga", note="Jalan provinsi / Provincial road")
    assert contribution(world.reports.docs[report_id]) == {}
    record_figures(report_id, reports=world.reports, stats=stats)
    assert stats.groups() == {}


def test_the_tick_escalates_an_overdue_report_once_per_level():
    world = World()
    sla = SlaPolicy(WorkingCalendar.of([]))
    report_id = world.routed()
    doc = world.reports.docs[report_id]
    world.reports.docs[report_id]["sla"] = sla.assignment(get_category("jalan_rusak"), doc["routing"]["at"])
    world.clock.advance(days=12)
    assert sweep(reports=world.reports, publish=world.publish, clock=world.clock, sla=sla)["escalated"] == 1
    assert sweep(reports=world.reports, publish=world.publish, clock=world.clock, sla=sla)["escalated"] == 0
    report = world.reports.docs[report_id]
    assert report["overdue"] and report["escalation_level"] == 1
    assert report["timeline"][-1]["event"] == "escalation" and report["status"] == "routed"
    world.clock.advance(days=12)
    sweep(reports=world.reports, publish=world.publish, clock=world.clock, sla=sla)
    assert world.reports.docs[report_id]["escalation_level"] == 2
    world.clock.advance(days=30)
    assert sweep(reports=world.reports, publish=world.publish, clock=world.clock, sla=sla)["escalated"] == 0
