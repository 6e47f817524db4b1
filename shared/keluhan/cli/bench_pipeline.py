"""`keluhan bench pipeline`: N reports through the running stack, with faults, until each is final.

Reports are submitted over HTTP as the apps do (a share of them with a real JPEG uploaded to
the signed URL), retried under the same `client_id` on a 5xx or a refused connection. While
they flow, the chosen faults are injected (`keluhan.devstack.faults`) and a sweep tick is
published every few seconds, as Cloud Scheduler does in production, so the reconciler runs.
Poison messages (no report id; an unknown report) are published once the faults are over.
The floor is measured in the same run: the Firestore writes and publishes one report needs,
made directly with the same concurrency, without functions or push in between.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypedDict

from pydantic import JsonValue

from keluhan.cli import Commands

if TYPE_CHECKING:
    import requests
    from google.cloud import firestore

    from keluhan.devstack.client import Document, StackClient
    from keluhan.devstack.config import StackConfig
    from keluhan.devstack.cost import CostSnapshot
    from keluhan.devstack.faults import DuplicatingPushProxy

P95_LIMIT_S = 5.0  # the wait a citizen accepts between sending a report and its SKPD knowing
RATE_STEP = 1.5
PHOTOS_PER_CITIZEN = 20  # the local stack lets a citizen submit 30 an hour
FLUSH_WAIT_S = 0.6  # a little more than the Firestore counters' flush interval
FAULTS = ("kill", "restart-pubsub", "dup3")
# The functions on the bench's path. Its Call Center 112 share submits through submit_report, so
# neither open311 nor open311_intake is on it: killing an idle process would test nothing.
KILLED_FUNCTIONS = ("enrich_geo", "route_report", "verify_photo", "forward_report", "submit_report", "notify",
                    "whatsapp", "support_report", "comment_on_report", "record_figures", "sweep_reports")
# `--social N`: N residents each support and comment on this many of the run's first reports.
SOCIAL_REPORTS = 6
# How long the messages the reports owe may take to arrive once every report is final (a lost
# announcement waits for the reconciler: the stage threshold, then a tick).
MESSAGES_WAIT_S = 120.0
# Points inside real kelurahan (Bontorannu, Mamajang Dalam, Karuwisi) and streets of each road status.
POINTS = ((-5.162247, 119.40421), (-5.161989, 119.421297), (-5.140235, 119.435353))
# Each report is placed within this distance of its point, in the same kelurahan: at one exact
# spot every report would be a possible duplicate of every open one there, and the submit answer's
# suggestion query (`possible_duplicates`) would read its cap of 60 reports each time.
SPREAD_M = 250.0
STREETS = ("Jl. Landak Baru", "Jl. Landak Baru", "Jl. Landak Baru", "Jl. Hertasning", None)


def register(benches: Commands) -> None:
    parser = benches.add_parser("pipeline", help="N reports end to end on the running stack, with faults")
    parser.add_argument("--reports", type=int, default=300)
    parser.add_argument("--photo-share", type=float, default=0.2, help="share of reports with a JPEG upload")
    parser.add_argument("--faults", default="", help=f"comma-separated: {', '.join(FAULTS)}")
    parser.add_argument("--concurrency", type=int, default=8, help="submitting threads")
    parser.add_argument("--poison", type=int, default=4, help="poison messages to publish")
    parser.add_argument("--tick", type=float, default=5.0, help="seconds between sweep ticks")
    parser.add_argument("--fault-window", type=float, default=20.0,
                        help="faults go on at least this many seconds from the start (and while submitting)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for every report")
    parser.add_argument("--state-dir", type=Path, help="the stack's state dir (default: .devstack/)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--wa-conversations", type=int, default=0,
                        help="WhatsApp conversations (`keluhan wa`) run during the faults, each to one report")
    parser.add_argument("--social", type=int, default=0,
                        help=f"residents who each support and comment on {SOCIAL_REPORTS} of the run's reports "
                             "during the faults (each request retried as the app does)")
    parser.add_argument("--rate", type=float,
                        help="open loop: submit at this constant rate (reports/s) instead of a burst")
    parser.add_argument("--duration", type=float, default=30.0, help="open loop: seconds of submissions")
    parser.add_argument("--find-max", action="store_true",
                        help=f"open loop: step the rate up (×{RATE_STEP}) from --rate to the largest whose "
                             f"submit→routed p95 stays under {P95_LIMIT_S:g} s")
    parser.add_argument("--max-rate", type=float, default=40.0, help="open loop: stop stepping here")
    parser.add_argument("--senders", type=int, default=32, help="open loop: the pool of senders")
    parser.set_defaults(func=_bench)


# Builds the client of the running stack (tests pass their own).
ClientFactory = Callable[["StackConfig"], "StackClient"]
# Function → CPU-ms and Firestore operations per report (`keluhan.devstack.cost.per_report`).
CostPerReport = dict[str, dict[str, float]]


class Floor(TypedDict):
    """The writes and publishes of one report made directly (`measure_floor`)."""

    reports_per_s: float
    p50_ms: float
    n: int


class BenchResult(TypedDict):
    """The figures of a burst run (`run_bench`), printed as the last line's JSON object."""

    reports: int
    photo_share: float
    concurrency: int
    faults: list[str]
    final: int
    lost: int
    refused: int
    refused_answers: dict[str, int]  # each distinct refusal (status and error code) and how often
    stuck: int
    stuck_ids: list[str]
    dead_lettered_by_reconciler: int
    dead_lettered_ids: list[str]
    duplicated_timeline_entries: int
    messages_owed: int
    messages_lost: int
    messages_twice: int
    message_p50_s: float  # status change (its timeline entry) → the message in the inbox
    message_p95_s: float
    pushes_owed: int  # to the run's phones, at the stand-in FCM endpoint
    pushes_lost: int
    pushes_twice: int
    p50_s: float
    p95_s: float
    reports_per_s: float
    submit_s: float
    submit_attempts: int
    statuses: dict[str, int]
    reconciler_republished: int
    dead_letters_of_these_reports: int
    poison: int
    poison_dead_lettered_with_reason: int
    kills: dict[str, int]
    pubsub_restarts: int
    fault_errors: list[str]
    pushes_via_proxy: int
    extra_deliveries: int
    floor_reports_per_s: float
    floor_p50_ms: float
    ratio_to_floor: float
    cost_per_report: CostPerReport
    emulator_cpu_ms_per_report: dict[str, float]  # this machine's emulators (not billed in production)
    # WhatsApp conversations run beside the reports (`--wa-conversations`): how many, how many ended
    # in exactly one report, none, or more than one.
    whatsapp: dict[str, int]
    # The figures' state of each of the run's reports (record_figures) against the stored report:
    # still older than it (seq or support_seq), or as new but with another contribution.
    figures_behind: int
    figures_differing: int
    # Supports and comments (`--social`): answered 2xx, and stored once each.
    social: dict[str, int]


class OpenLoopStep(TypedDict):
    """The figures of one open-loop rate (`run_open_loop`)."""

    rate: float
    reports: int
    routed: int
    not_routed: int
    lost: int
    refused: int  # answered 4xx (e.g. a reporter over quota): not stored, and not lost
    p50_s: float
    p95_s: float
    p99_s: float
    submitted_s: float
    offered_rate: float
    sender_late_p99_s: float
    reconciler_republished: int
    messages_owed: int
    messages_lost: int
    message_p50_s: float  # status change → the message in the inbox
    message_p95_s: float
    cost_per_report: CostPerReport
    emulator_cpu_ms_per_report: dict[str, float]


class OpenLoopResult(TypedDict):
    """The open-loop rates tried (`run_open_loop_steps`), printed as the last line's JSON object."""

    mode: Literal["open_loop"]
    duration_s: float
    photo_share: float
    senders: int
    p95_limit_s: float
    max_rate_p95_under_limit: float | None
    steps: list[OpenLoopStep]
    floor_reports_per_s: float
    floor_p50_ms: float


@dataclass
class Submitted:
    client_id: str
    body: dict[str, JsonValue]
    photo: bytes | None
    started: float = 0.0
    due: float = 0.0  # open loop: when it was scheduled to be sent
    routed_at: float | None = None
    report_id: str = ""  # empty until the server accepted it
    attempts: int = 0
    final_at: float | None = None
    gave_up: bool = False  # the reconciler dead-lettered it: ended, visibly, but not final
    refused: str = ""  # the server refused it with a 4xx (e.g. 429: the reporter's quota), never stored


@dataclass
class FaultLog:
    kills: Counter[str] = field(default_factory=Counter)
    pubsub_restarts: int = 0
    errors: list[str] = field(default_factory=list)


def _bench(args: argparse.Namespace) -> int:
    from keluhan.cli import CliError
    from keluhan.devstack import launcher
    from keluhan.devstack.client import StackClient
    from keluhan.devstack.config import EMULATORS_JSON, load_stack_config

    faults = {f for f in args.faults.split(",") if f}
    if faults - set(FAULTS):
        raise CliError(f"unknown faults: {sorted(faults - set(FAULTS))}; choose from {', '.join(FAULTS)}")
    state_dir = Path(args.state_dir or launcher.DEFAULT_STATE_DIR)
    if not (state_dir / "stack.json").exists():
        raise CliError(f"no running stack in {state_dir}: start one with `keluhan dev up`")
    if args.rate is not None:
        if args.rate <= 0 or args.duration <= 0:
            raise CliError("--rate and --duration must be positive")
        if faults:
            raise CliError("--faults go with the burst mode, not with --rate")
        found = run_open_loop_steps(load_stack_config(EMULATORS_JSON), state_dir, rate=args.rate,
                                    duration_s=args.duration, find_max=args.find_max, max_rate=args.max_rate,
                                    photo_share=args.photo_share, senders=args.senders, seed=args.seed,
                                    timeout_s=args.timeout, concurrency=args.concurrency,
                                    client_factory=StackClient)
        _print_open_loop(found)
        return 0 if all(step["lost"] == step["not_routed"] == 0 for step in found["steps"]) else 1
    result = run_bench(load_stack_config(EMULATORS_JSON), state_dir, reports=args.reports,
                       photo_share=args.photo_share, faults=faults, concurrency=args.concurrency,
                       poison=args.poison, tick_s=args.tick, timeout_s=args.timeout, seed=args.seed,
                       fault_window_s=args.fault_window, client_factory=StackClient,
                       wa_conversations=args.wa_conversations, social=args.social)
    _print(result)
    wa, social = result["whatsapp"], result["social"]
    return 0 if (result["lost"] == result["stuck"] == result["duplicated_timeline_entries"]
                 == result["messages_lost"] == result["messages_twice"] == result["pushes_lost"]
                 == result["pushes_twice"] == wa["no_report"] == wa["reports_twice"]
                 == result["figures_behind"] == result["figures_differing"] == social["supports_lost"]
                 == social["supports_twice"] == social["comments_lost"] == social["comments_twice"] == 0) else 1


def run_bench(config: StackConfig, state_dir: Path, *, reports: int, photo_share: float, faults: set[str],
              concurrency: int, poison: int, tick_s: float, timeout_s: float, seed: int,
              client_factory: ClientFactory, fault_window_s: float = 20.0, wa_conversations: int = 0,
              social: int = 0) -> BenchResult:
    """Submit, inject faults, tick, wait until final; the figures as one dict."""
    from keluhan.devstack import cost
    from keluhan.devstack.faults import DuplicatingPushProxy

    rng = random.Random(seed)
    client = client_factory(config)
    run = uuid.uuid4().hex[:8]
    items, tokens, citizens = _make_items(client, run, reports, photo_share, rng)
    phones = _give_phones(client, run, citizens)
    floor = measure_floor(config, n=min(reports, 200), concurrency=concurrency)
    proxy = DuplicatingPushProxy(config) if "dup3" in faults else None
    log = FaultLog()
    before = cost.snapshot(state_dir)
    stop = threading.Event()
    started = time.time()
    with (proxy.running() if proxy else nullcontext()):
        background = [threading.Thread(target=_ticks, args=(config, stop, tick_s), daemon=True)]
        if "kill" in faults:
            background.append(threading.Thread(target=_killer, args=(state_dir, stop, log, rng), daemon=True))
        if "restart-pubsub" in faults:
            background.append(threading.Thread(target=_pubsub_restarter,
                                               args=(state_dir, stop, log, proxy), daemon=True))
        wa_outcomes: list[int] = []
        if wa_conversations:
            background.append(threading.Thread(target=_wa_conversations, daemon=True,
                                               args=(config, wa_conversations, wa_outcomes, started + timeout_s)))
        fans = Fans(client, [client.sign_in(f"bench-{run}-fan{i}@warga.test") for i in range(social)], run)
        if social:
            background.append(threading.Thread(target=fans.support_and_comment, daemon=True,
                                               args=(items, started + timeout_s)))
        for thread in background:
            thread.start()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(lambda it: _submit(client, it, rng.choice(tokens[it.photo is not None]),
                                             deadline=started + timeout_s), items))
        submitted_s = time.time() - started
        # Faults go on through the fault window; what they broke must heal by itself after it.
        stop.wait(max(0.0, started + fault_window_s - time.time()))
        stop.set()
        for thread in background[1:]:
            thread.join(timeout=120)
        poison_ids = publish_poison(config, poison, run)
        ticker_stop = threading.Event()
        ticker = threading.Thread(target=_ticks, args=(config, ticker_stop, tick_s), daemon=True)
        ticker.start()
        try:
            _wait_final(client, items, deadline=started + timeout_s)
            _wait_poison(client, poison_ids, deadline=started + timeout_s)
            for thread in background[1:]:  # the supports and conversations done too
                thread.join(timeout=max(1.0, started + timeout_s - time.time()))
            # With the ticks going on: the reconciler announces again what a restarted broker lost.
            messages = _messages(client, _stored(client, items), deadline=time.time() + MESSAGES_WAIT_S,
                                 besides=frozenset(uid for uid, _ in fans.residents))
            # A push a killed notify left claimed waits out its lease, then the next tick.
            pushed = _pushes(client, _stored(client, items), phones, deadline=time.time() + MESSAGES_WAIT_S)
            figures = _figures_state(client, items, deadline=time.time() + MESSAGES_WAIT_S)
        finally:
            ticker_stop.set()
        pushes = (proxy.pushes, proxy.extra_deliveries) if proxy else (0, 0)
    spent, emulators = _spent(before, state_dir, items)
    result = _figures(client, items, poison_ids, started=started, submitted_s=submitted_s, floor=floor,
                      faults=faults, log=log, pushes=pushes, photo_share=photo_share, concurrency=concurrency,
                      cost_per_report=spent, emulator_cpu=emulators, messages=messages, pushed=pushed,
                      figures_state=figures, social=fans.outcome())
    result["whatsapp"] = {"conversations": wa_conversations, "one_report": wa_outcomes.count(1),
                          "no_report": wa_conversations - sum(1 for n in wa_outcomes if n >= 1),
                          "reports_twice": sum(1 for n in wa_outcomes if n > 1)}
    return result


def _spread_points(rng: random.Random) -> Callable[[tuple[float, float]], tuple[float, float]]:
    """A point drawn within SPREAD_M of a base point and in the same kelurahan (the geo index)."""
    import math

    from keluhan.domain.geocell import degrees_of
    from keluhan.geodata import geo_index_from_settings
    from keluhan.settings import Settings

    index = geo_index_from_settings(Settings())
    home = {base: index.locate(*base).kode_kelurahan for base in POINTS}

    def draw(base: tuple[float, float]) -> tuple[float, float]:
        dlat, dlon = degrees_of(SPREAD_M, lat=base[0])
        for _ in range(50):
            distance, bearing = math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)  # of SPREAD_M
            lat, lon = base[0] + distance * math.cos(bearing) * dlat, base[1] + distance * math.sin(bearing) * dlon
            if index.locate(lat, lon).kode_kelurahan == home[base]:
                return round(lat, 6), round(lon, 6)
        return base

    return draw


def _make_items(client: StackClient, run: str, reports: int, photo_share: float,
                rng: random.Random) -> tuple[list[Submitted], dict[bool, list[str]], dict[str, str]]:
    """The reports to submit (a share with a fresh JPEG), the tokens that send them, and the
    citizens among the senders (uid → ID token).

    Reports with a photo come from citizens (enough of them to stay under the local hourly quota),
    the rest from Call Center 112.
    """
    from keluhan.devstack.sample_photos import make_jpeg

    items = []
    spread = _spread_points(rng)
    for i in range(reports):
        lat, lon = spread(POINTS[i % len(POINTS)])
        with_photo = rng.random() < photo_share
        client_id = f"bench-{run}-{i:05d}"
        body: dict[str, JsonValue] = {"client_id": client_id, "category": "jalan_rusak",
                                      "description": "Uji beban / load test", "lat": lat, "lon": lon,
                                      "accuracy_m": 5}
        if street := STREETS[i % len(STREETS)]:
            body["street"] = street
        photo = None
        if with_photo:
            body["photo_taken_at"] = datetime.now(UTC).isoformat()
            # A new picture per report and per run: the same one twice would be rejected as reused.
            photo = make_jpeg(taken_at=datetime.now(UTC), lat=lat, lon=lon, width=640, height=480,
                              seed=int(run, 16) % 1_000_000_000 + i)
        else:
            body["channel"] = "call_center_112"
        items.append(Submitted(client_id, body, photo))
    with_photos = sum(1 for it in items if it.photo is not None)
    signed_in = [client.sign_in(f"bench{i}@warga.test") for i in range(4)]
    signed_in += [client.sign_in(f"bench-{run}-{i}@warga.test")
                  for i in range(max(0, -(-with_photos // PHOTOS_PER_CITIZEN) - len(signed_in)))]
    _, call_center = client.user("bench-cc@callcenter.test", {"role": "channel", "channel": "call_center_112"})
    return items, {True: [token for _, token in signed_in], False: [call_center]}, dict(signed_in)


def _give_phones(client: StackClient, run: str, citizens: dict[str, str]) -> dict[str, str]:
    """A new push device for each citizen of the run (uid → ID token), pushes at any hour: uid → device token."""
    phones = {}
    base = client.function_url("notification_settings").rstrip("/")
    for i, (uid, token) in enumerate(citizens.items()):
        headers = {"Authorization": f"Bearer {token}"}
        phones[uid] = f"bench-{run}-phone-{i:04d}"
        for path, body in (("/devices", {"token": phones[uid], "platform": "android"}),
                           ("/preferences", {"quiet_hours": None})):
            client.http.post(base + path, json=body, headers=headers, timeout=30).raise_for_status()
    return phones


def schedule(rate: float, duration_s: float) -> list[float]:
    """Open loop: the offsets from the start at which each submission is due, i / rate, over the duration."""
    return [i / rate for i in range(max(1, int(round(rate * duration_s))))]


def step_rates(rate: float, max_rate: float, factor: float = RATE_STEP) -> list[float]:
    """The rates `--find-max` tries: from `rate` up by `factor` while they stay within `max_rate`."""
    rates = [rate]
    while round(rates[-1] * factor, 2) <= max_rate:
        rates.append(round(rates[-1] * factor, 2))
    return rates


def run_open_loop_steps(config: StackConfig, state_dir: Path, *, rate: float, duration_s: float,
                        find_max: bool, max_rate: float, photo_share: float, senders: int, seed: int,
                        timeout_s: float, concurrency: int, client_factory: ClientFactory) -> OpenLoopResult:
    """One open-loop run at `rate`, or (find_max) rising rates until p95 submit→routed passes the limit."""
    client_factory(config)  # points the Google clients at the stack's emulators, as the burst does
    floor = measure_floor(config, n=200, concurrency=concurrency)
    steps = []
    for i, at in enumerate(step_rates(rate, max_rate) if find_max else [rate]):
        step = run_open_loop(config, state_dir, rate=at, duration_s=duration_s, photo_share=photo_share,
                             senders=senders, seed=seed + i, timeout_s=timeout_s, client_factory=client_factory)
        steps.append(step)
        if not _within_limit(step):
            break
    passing = [step["rate"] for step in steps if _within_limit(step)]
    return {"mode": "open_loop", "duration_s": duration_s, "photo_share": photo_share, "senders": senders,
            "p95_limit_s": P95_LIMIT_S, "max_rate_p95_under_limit": max(passing) if find_max and passing else None,
            "steps": steps, "floor_reports_per_s": floor["reports_per_s"], "floor_p50_ms": floor["p50_ms"]}


def _offered_rate(items: list[Submitted]) -> float:
    """The arrival rate the senders kept: reports over the span of their first attempts."""
    starts = sorted(it.started for it in items if it.started)
    span = starts[-1] - starts[0] if len(starts) > 1 else 0.0
    return round((len(starts) - 1) / span, 2) if span > 0 else 0.0


def _within_limit(step: OpenLoopStep) -> bool:
    return step["lost"] == step["not_routed"] == 0 and step["p95_s"] < P95_LIMIT_S


def run_open_loop(config: StackConfig, state_dir: Path, *, rate: float, duration_s: float, photo_share: float,
                  senders: int, seed: int, timeout_s: float, client_factory: ClientFactory) -> OpenLoopStep:
    """Submit at a constant arrival rate, each report at its due time whatever the others do.

    Latency counts from the due time, not the moment a sender got to it: a stack that falls behind
    makes the wait longer, as it would for the citizen (no coordinated omission).
    """
    from keluhan.devstack import cost

    rng = random.Random(seed)
    client = client_factory(config)
    run = uuid.uuid4().hex[:8]
    offsets = schedule(rate, duration_s)
    items, tokens, _ = _make_items(client, run, len(offsets), photo_share, rng)
    before = cost.snapshot(state_dir)
    stop = threading.Event()
    ticker = threading.Thread(target=_ticks, args=(config, stop, 5.0), daemon=True)
    ticker.start()
    start = time.time() + 0.2
    deadline = start + duration_s + timeout_s
    try:
        with ThreadPoolExecutor(max_workers=senders) as pool:
            for item, offset in zip(items, offsets, strict=True):
                item.due = start + offset
                time.sleep(max(0.0, item.due - time.time()))
                pool.submit(_submit, client, item, rng.choice(tokens[item.photo is not None]), deadline=deadline)
        submitted_s = time.time() - start
        _wait_final(client, items, deadline=deadline)
        owed, missing, _, delays = _messages(client, _stored(client, items), deadline=time.time() + MESSAGES_WAIT_S)
    finally:
        stop.set()
    spent, emulators = _spent(before, state_dir, items)
    docs = _stored(client, items)
    routed = sorted(it.routed_at - it.due for it in items if it.routed_at is not None)
    late = sorted(max(0.0, it.started - it.due) for it in items)
    return {
        "rate": rate, "reports": len(items), "routed": len(routed),
        "not_routed": sum(1 for it in items if it.report_id in docs and it.routed_at is None),
        "lost": sum(1 for it in items if not it.refused and (not it.report_id or it.report_id not in docs)),
        "refused": sum(1 for it in items if it.refused),
        "p50_s": round(_pct(routed, 50), 2), "p95_s": round(_pct(routed, 95), 2),
        "p99_s": round(_pct(routed, 99), 2),
        "submitted_s": round(submitted_s, 1), "offered_rate": _offered_rate(items),
        "sender_late_p99_s": round(_pct(late, 99), 3),
        "reconciler_republished": sum((d.get("stalled") or {}).get("count", 0) for d in docs.values()),
        "messages_owed": owed, "messages_lost": missing,
        "message_p50_s": round(_pct(delays, 50), 2), "message_p95_s": round(_pct(delays, 95), 2),
        "cost_per_report": spent,
        "emulator_cpu_ms_per_report": emulators,
    }


def _spent(before: CostSnapshot, state_dir: Path, items: list[Submitted]) -> tuple[CostPerReport, dict[str, float]]:
    """Since `before`, per stored report: each function's CPU and Firestore operations, the emulators' CPU."""
    from keluhan.devstack import cost

    time.sleep(2 * FLUSH_WAIT_S)  # the function processes write their Firestore counts twice a second
    after = cost.snapshot(state_dir)
    stored = sum(1 for it in items if it.report_id)
    return cost.per_report(before, after, stored), cost.emulator_per_report(before, after, stored)


def _submit(client: StackClient, item: Submitted, token: str, *, deadline: float) -> None:
    """As the app does on a flaky network: retry the same body until the server has it."""
    item.started = time.time()
    for _ in _app_retries(deadline):
        item.attempts += 1
        response = _answered(lambda: client.submit(token, item.body))
        if response is not None and response.status_code in (200, 201):
            created = response.json()
            item.report_id = created["report_id"]
            if item.photo is None or created["status"] != "awaiting_photo":
                return
            upload = _answered(partial(client.upload_photo, created["upload"], item.photo))
            if upload is not None and upload.status_code in (200, 201):
                return
        elif response is not None and response.status_code < 500:
            item.refused = _refusal(response)  # an answer, not a loss
            return


def _refusal(response: requests.Response) -> str:
    """A refusal by its status and error code (`429 rate_limited`), so one cause counts as one
    whatever its message says (the retry seconds differ); the text when the body has no code."""
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return f"{response.status_code} {response.text[:200]}"
    return f"{response.status_code} {code}"


def _app_retries(deadline: float) -> Iterator[None]:
    """The app's retries of one request: until `deadline`, with a pause doubling from 0.2 s to 3 s
    between tries (the caller stops asking once it has its answer)."""
    pause = 0.2
    while time.time() < deadline:
        yield
        time.sleep(pause)
        pause = min(pause * 2, 3.0)


def _answered(send: Callable[[], requests.Response]) -> requests.Response | None:
    """The server's answer, or None when the connection failed (a killed function, a restart)."""
    try:
        return send()
    except Exception:
        return None


def _ticks(config: StackConfig, stop: threading.Event, every_s: float) -> None:
    """Cloud Scheduler's job: publish sweep-tick every few seconds (Pub/Sub down: try next time)."""
    publish = _publisher(config)
    while not stop.wait(every_s):
        try:
            publish("sweep-tick", b"{}", {})
        except Exception:
            pass


def _killer(state_dir: Path, stop: threading.Event, log: FaultLog, rng: random.Random) -> None:
    """SIGKILL a function process every couple of seconds, rotating over the stages."""
    from keluhan.devstack.faults import kill_part

    i = 0
    while not stop.wait(rng.uniform(1.0, 2.5)):
        name = KILLED_FUNCTIONS[i % len(KILLED_FUNCTIONS)]
        i += 1
        if kill_part(state_dir, f"fn-{name}"):
            log.kills[name] += 1


class Fans:
    """Residents who support and comment on the run's first reports while the faults go on, each
    request sent again as the app does (the same body, on a lost connection or a 5xx), and what
    was stored of it afterwards: one support and one comment per resident and report."""

    def __init__(self, client: StackClient, residents: list[tuple[str, str]], run: str) -> None:
        self.client, self.residents, self.run = client, residents, run
        self.targets: list[str] = []
        self.supported: Counter[str] = Counter()  # report id → supports answered 200
        self.commented: dict[str, set[str]] = {}  # report id → comment ids answered 200/201
        self.attempts = 0
        self.refused: list[str] = []

    def support_and_comment(self, items: list[Submitted], deadline: float) -> None:
        self.targets = self._public_reports(items, deadline)
        for i, (_, token) in enumerate(self.residents):
            for report_id in self.targets:
                if self._send("support_report", token, {"report_id": report_id}, deadline):
                    self.supported[report_id] += 1
                client_id = f"{self.run}-fan{i}-{report_id}"[:64]
                body: dict[str, JsonValue] = {"report_id": report_id, "client_id": client_id,
                                              "text": "Saya juga melihatnya / I saw it too"}
                if self._send("comment_on_report", token, body, deadline):
                    self.commented.setdefault(report_id, set()).add(client_id)

    def _public_reports(self, items: list[Submitted], deadline: float) -> list[str]:
        """The first SOCIAL_REPORTS reports of the run to be routed (public, open for support)."""
        while time.time() < deadline:
            ids = [it for it in items if it.report_id]
            routed = [r for r, doc in _stored(self.client, ids).items() if doc.get("status") == "routed"]
            if len(routed) >= min(SOCIAL_REPORTS, len(items)):
                return sorted(routed)[:SOCIAL_REPORTS]
            time.sleep(0.5)
        return []

    def _send(self, function: str, token: str, body: dict[str, JsonValue], deadline: float) -> bool:
        for _ in _app_retries(deadline):
            self.attempts += 1
            response = _answered(lambda: self.client.http.post(
                self.client.function_url(function), json=body, timeout=30, headers={"Authorization": f"Bearer {token}"}))
            if response is not None and response.status_code in (200, 201):
                return True
            if response is not None and response.status_code < 500:
                self.refused.append(f"{function} {response.status_code} {response.text[:120]}")
                return False
        return False

    def outcome(self) -> dict[str, int]:
        """What was asked (answered 2xx) against what is stored: lost and twice, supports and comments."""
        docs = _stored_ids(self.client, self.targets) if self.targets else {}
        counted = {r: int(docs.get(r, {}).get("supporters") or 0) for r in self.targets}
        stored: Counter[str] = Counter()
        if self.targets:
            from google.cloud import firestore

            query = self.client.db.collection("comments").where(
                filter=firestore.FieldFilter("report_id", "in", self.targets))
            stored.update(snap.get("report_id") for snap in query.stream())
        asked = {r: len(self.commented.get(r, ())) for r in self.targets}
        return {
            "residents": len(self.residents), "reports": len(self.targets), "attempts": self.attempts,
            "refused": len(self.refused),
            "supports": sum(self.supported.values()),
            "supports_lost": sum(max(0, self.supported[r] - counted[r]) for r in self.targets),
            "supports_twice": sum(max(0, counted[r] - self.supported[r]) for r in self.targets),
            "comments": sum(asked.values()),
            "comments_lost": sum(max(0, asked[r] - stored[r]) for r in self.targets),
            "comments_twice": sum(max(0, stored[r] - asked[r]) for r in self.targets),
        }


def _figures_state(client: StackClient, items: list[Submitted], *, deadline: float) -> tuple[int, int]:
    """(behind, differing): of the run's reports, those whose figures' state (record_figures) is still
    older than the stored report at `deadline`, and those as new as it but with another contribution
    than the report makes (`keluhan.domain.figures.contribution`)."""
    from keluhan.adapters.firestore_store import FirestoreStats
    from keluhan.domain.figures import contribution
    from keluhan.domain.report import Report

    stats = FirestoreStats(client.db)
    while True:
        docs = _stored(client, items)
        behind, differing = [], []
        for report_id, doc in docs.items():
            state = stats.report_state(report_id)
            if state is None or state.seq < len(doc["timeline"]) - 1 or state.support_seq < int(doc.get("support_seq") or 0):
                behind.append(report_id)
            elif state.contribution != contribution(Report.from_doc(doc).to_doc()):  # as record_figures has it
                differing.append(report_id)
        if not behind or time.time() > deadline:
            break
        time.sleep(1.0)
    if behind or differing:
        print(f"figures behind: {behind[:8]}; differing: {differing[:8]}", file=sys.stderr)
    return len(behind), len(differing)


def _wa_conversations(config: StackConfig, n: int, outcomes: list[int], deadline: float) -> None:
    """`keluhan wa` residents, one after another, each retrying a message as Meta redelivers it
    (the same id, until 200); each outcome is how many reports the conversation made."""
    from keluhan.cli.wa import Resident, run_conversation

    for i in range(n):
        person = Resident(config, f"6289{uuid.uuid4().int % 10**9:09d}", redeliver_until=deadline)
        try:
            run_conversation(person, timeout_s=max(1.0, deadline - time.time()), category="bencana",
                             point=POINTS[i % len(POINTS)])
        except Exception:
            pass  # counted below from what the resident was told
        numbers = {m["text"] for m in person.outbox() if "tercatat dengan nomor" in (m.get("text") or "")}
        outcomes.append(len(numbers))


def _pubsub_restarter(state_dir: Path, stop: threading.Event, log: FaultLog,
                      proxy: DuplicatingPushProxy | None) -> None:
    """Kill the Pub/Sub emulator once, a few seconds in; wait for its supervisor to bring it back."""
    from keluhan.devstack.faults import kill_part, supervised_child, wait_restarted

    if stop.wait(3.0):
        return
    old = supervised_child(state_dir, "pubsub")
    if kill_part(state_dir, "pubsub"):
        log.pubsub_restarts += 1
        if not wait_restarted(state_dir, "pubsub", old.pid if old else None):
            log.errors.append("pubsub did not come back")
            return
        if proxy is not None:  # the fresh emulator's subscriptions push straight to the functions
            _retry(lambda: proxy.point_subscriptions(through_proxy=True), what="re-point pushes", log=log)


def _retry(action: Callable[[], object], *, what: str, log: FaultLog, attempts: int = 60) -> None:
    for _ in range(attempts):
        try:
            action()
            return
        except Exception:
            time.sleep(0.5)
    log.errors.append(f"{what} failed")


def publish_poison(config: StackConfig, count: int, run: str) -> list[str]:
    """Messages no stage can ever handle: for an unknown report, and without any report id."""
    publish = _publisher(config)
    ids = []
    for i in range(count):
        if i % 2 == 0:
            report_id = f"poison-{run}-{i}"
            publish("report-located", json.dumps({"report_id": report_id}).encode(), {"report_id": report_id})
            ids.append(report_id)
        else:
            publish("report-accepted", f"not json {run} {i}".encode(), {"poison": f"{run}-{i}"})
            ids.append(f"{run}-{i}")
    return ids


def _publisher(config: StackConfig) -> Callable[[str, bytes, dict[str, str]], None]:
    """Publishes bytes as they are to the stack's Pub/Sub, waiting until the broker has them."""
    from google.cloud import pubsub_v1

    from keluhan.adapters.pubsub_publisher import PubSubPublisher

    return PubSubPublisher(pubsub_v1.PublisherClient(), config.project).raw


def is_final(report: Document | None) -> bool:
    """Nothing further will happen to it without a person: settled, a forwarding delivered or failed."""
    from keluhan.devstack.client import SETTLED

    if report is None or report["status"] not in SETTLED:
        return False
    return report["status"] != "forwarded" or report["forwarding"]["state"] in ("acknowledged", "failed")


def routed_time(report: Document) -> float | None:
    """When the router decided its SKPD (the timeline's `route` entry); None if it was not routed."""
    return next((e["at"].timestamp() for e in report.get("timeline") or [] if e.get("action") == "route"), None)


def _final_time(report: Document) -> float:
    at: datetime = report["forwarding"]["updated_at"] if report["status"] == "forwarded" else report["status_changed_at"]
    return at.timestamp()


def _stored(client: StackClient, items: Iterable[Submitted]) -> dict[str, Document]:
    """The stored documents of the submitted reports, by report id (those that exist)."""
    return _stored_ids(client, [it.report_id for it in items if it.report_id])


def _stored_ids(client: StackClient, report_ids: Iterable[str]) -> dict[str, Document]:
    refs = [client.db.collection("reports").document(i) for i in report_ids]
    return {snap.id: doc for snap in client.db.get_all(refs) if (doc := snap.to_dict()) is not None}


def _wait_final(client: StackClient, items: list[Submitted], *, deadline: float) -> None:
    pending = [it for it in items if it.report_id]
    while pending and time.time() < deadline:
        docs = _stored(client, pending)
        for it in pending:
            report = docs.get(it.report_id)
            if report is not None and is_final(report):
                it.final_at = _final_time(report)
                it.routed_at = routed_time(report)
            elif report and (report.get("stalled") or {}).get("gave_up"):
                it.gave_up = True
        pending = [it for it in pending if it.final_at is None and not it.gave_up]
        if pending:
            time.sleep(1.0)


def _messages(client: StackClient, docs: dict[str, Document], *, deadline: float,
              besides: frozenset[str] = frozenset()) -> tuple[int, int, int, list[float]]:
    """(owed, lost, twice, delays): the inbox messages these reports owe, as the domain and the
    directory say (`keluhan.usecases.notify`), those still missing at `deadline`, those stored beyond
    what a report owes, and each stored message's delay after its status change (sorted, s).
    Messages to `besides` (the run's supporters: told from the position current when they joined)
    are left out of both counts."""
    from google.cloud import firestore

    from keluhan.adapters.firestore_store import FirestoreDirectory, FirestoreReports, FirestoreSubscriptions
    from keluhan.domain.notify import message_id, notices
    from keluhan.domain.report import Report
    from keluhan.usecases.notify import recipients

    reports, directory = FirestoreReports(client.db), FirestoreDirectory(client.db)
    subscriptions = FirestoreSubscriptions(client.db)  # subscribers of the bench's areas are owed theirs too
    owed: dict[str, firestore.DocumentReference] = {}
    changed_at: dict[str, datetime] = {}  # message path → when its status change was made
    kind: dict[str, str] = {}  # message path → its notice (event→audiences), to say what went missing
    per_report: Counter[str] = Counter()
    for doc in docs.values():
        report = Report.from_doc(doc)
        for seq in range(len(report.timeline)):
            for notice in notices(report, seq):
                for who in recipients(notice.audiences, report, seq, reports=reports, directory=directory,
                                      subscriptions=subscriptions):
                    ref = (client.db.collection("inbox").document(who.uid).collection("messages")
                           .document(message_id(report.report_id, seq, who.uid, "inbox")))
                    if ref.path in owed:
                        continue  # one message per position and recipient: the first row's
                    owed[ref.path] = ref
                    kind[ref.path] = f"{notice.event}→{'/'.join(notice.audiences)}"
                    changed_at[ref.path] = report.timeline[seq].at
                    per_report[report.report_id] += 1
    missing = dict(owed)
    delays: list[float] = []
    while missing:
        found = {snap.reference.path: snap for snap in client.db.get_all(list(missing.values())) if snap.exists}
        delays += [(snap.get("created_at") - changed_at[path]).total_seconds() for path, snap in found.items()]
        missing = {path: ref for path, ref in missing.items() if path not in found}
        if not missing or time.time() > deadline:
            break
        time.sleep(1.0)
    stored: Counter[str] = Counter()
    ids = list(per_report)
    for i in range(0, len(ids), 30):  # Firestore's limit on the values of one `in`
        query = client.db.collection_group("messages").where(
            filter=firestore.FieldFilter("report_id", "in", ids[i:i + 30]))
        stored.update(snap.get("report_id") for snap in query.stream()
                      if snap.reference.parent.parent is None or snap.reference.parent.parent.id not in besides)
    twice = sum(max(0, stored[r] - n) for r, n in per_report.items())
    if missing:  # which ones, for whoever reads a failed run
        print(f"messages still missing: {len(missing)}: {dict(Counter(kind[p] for p in missing))}, "
              f"e.g. {sorted(missing)[:8]}", file=sys.stderr)
    return len(owed), len(missing), twice, sorted(delays)


def _pushes(client: StackClient, docs: dict[str, Document], phones: dict[str, str], *,
            deadline: float) -> tuple[int, int, int]:
    """(owed, lost, twice): the pushes these reports owe the run's phones (each inbox message of a
    recipient with a phone, quiet hours off), those the stand-in FCM endpoint has not received by
    `deadline`, and those it received more than once (same token and message id)."""
    from keluhan.adapters.firestore_store import FirestoreDirectory, FirestoreReports
    from keluhan.devstack.fcm import FcmClient
    from keluhan.domain.notify import message_id, notices
    from keluhan.domain.report import Report
    from keluhan.usecases.notify import recipients

    reports, directory = FirestoreReports(client.db), FirestoreDirectory(client.db)
    owed: set[tuple[str, str]] = set()
    for doc in docs.values():
        report = Report.from_doc(doc)
        for seq in range(len(report.timeline)):
            for notice in notices(report, seq):
                for who in recipients(notice.audiences, report, seq, reports=reports, directory=directory):
                    if who.uid in phones:
                        owed.add((phones[who.uid], message_id(report.report_id, seq, who.uid, "push")))
    fcm, ours = FcmClient(client.config.fcm.url, timeout_s=30), set(phones.values())
    while True:
        received = Counter((p["token"], p["message"]["android"]["collapse_key"]) for p in fcm.pushes()
                           if p["token"] in ours)
        missing = owed - set(received)
        if not missing or time.time() > deadline:
            break
        time.sleep(1.0)
    return len(owed), len(missing), sum(n - 1 for n in received.values())


def _wait_poison(client: StackClient, ids: list[str], *, deadline: float) -> None:
    while time.time() < deadline and len(_poison_letters(client, ids)) < len(ids):
        time.sleep(1.0)


def _poison_letters(client: StackClient, ids: list[str]) -> dict[str, Document]:
    found: dict[str, Document] = {}
    for snap in client.db.collection("dead_letters").stream():
        letter = snap.to_dict() or {}
        text = json.dumps(letter, default=str)
        for poison_id in ids:
            if poison_id in text and letter.get("reason"):
                found[poison_id] = letter
    return found


def measure_floor(config: StackConfig, *, n: int, concurrency: int) -> Floor:
    """The Firestore writes and publishes one report needs, made directly: reports/s and p50.

    Per report: the submission batch (report + idempotency key), one read and one guarded batch
    per stage (verify or locate, route; written only if the report is unchanged since the read,
    as `Reports.mutate` does), and the publishes (acceptance, located, routed, three status
    changes), to a topic without subscribers and a scratch collection.
    """
    from google.cloud import firestore, pubsub_v1

    db = firestore.Client(project=config.project)
    publisher = pubsub_v1.PublisherClient()
    topic = publisher.topic_path(config.project, "bench-floor")
    try:
        publisher.create_topic(name=topic)
    except Exception:
        pass
    run = uuid.uuid4().hex[:8]

    def one(i: int) -> float:
        start = time.perf_counter()
        ref = db.collection("bench_floor").document(f"{run}-{i}")
        batch = db.batch()
        batch.create(ref, {"status": "received", "at": datetime.now(UTC), "timeline": []})
        batch.create(db.collection("bench_floor_keys").document(f"{run}-{i}"), {"report_id": ref.id})
        batch.commit()
        for stage in ("located", "routed"):
            snap = ref.get()
            timeline = (snap.to_dict() or {})["timeline"]
            move = db.batch()
            move.update(ref, {"status": stage, "timeline": timeline + [{"status": stage}]},
                        option=db.write_option(last_update_time=snap.update_time))
            move.commit()
        futures = [publisher.publish(topic, b'{"report_id": "x"}', report_id=ref.id) for _ in range(6)]
        for f in futures:
            f.result(timeout=20)
        return time.perf_counter() - start

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        times = list(pool.map(one, range(n)))
    elapsed = time.perf_counter() - started
    return {"reports_per_s": round(n / elapsed, 1), "p50_ms": round(statistics.median(times) * 1000, 1),
            "n": n}


def _figures(client: StackClient, items: list[Submitted], poison_ids: list[str], *, started: float,
             submitted_s: float, floor: Floor, faults: set[str], log: FaultLog, pushes: tuple[int, int],
             photo_share: float, concurrency: int, cost_per_report: CostPerReport, emulator_cpu: dict[str, float],
             messages: tuple[int, int, int, list[float]], pushed: tuple[int, int, int],
             figures_state: tuple[int, int], social: dict[str, int]) -> BenchResult:
    docs = _stored(client, items)
    lost = sum(1 for it in items if not it.refused and (not it.report_id or it.report_id not in docs))
    final = [(it.started, it.final_at) for it in items if it.final_at is not None]  # (started, final) times
    stuck = [it for it in items if it.report_id in docs and it.final_at is None and not it.gave_up]
    gave_up = [it.report_id for it in items if it.gave_up]
    duplicated = 0
    statuses: Counter[str] = Counter()
    republished = 0
    for doc in docs.values():
        moves = [(e.get("from"), e["status"], e["action"]) for e in doc.get("timeline", []) if "action" in e]
        duplicated += len(moves) - len(set(moves))
        statuses[doc["status"] + ("/" + doc["forwarding"]["state"] if doc.get("forwarding") else "")] += 1
        republished += (doc.get("stalled") or {}).get("count", 0)
    latencies = sorted(at - start for start, at in final)
    last = max((at for _, at in final), default=started)
    letters = [s.to_dict() or {} for s in client.db.collection("dead_letters").stream()]
    ours = {it.report_id for it in items if it.report_id}
    poison_found = _poison_letters(client, poison_ids)
    owed, missing, twice, delays = messages
    return {
        "reports": len(items), "photo_share": photo_share, "concurrency": concurrency,
        "faults": sorted(faults), "final": len(final), "lost": lost, "refused": sum(1 for it in items if it.refused),
        "refused_answers": dict(Counter(it.refused for it in items if it.refused).most_common(5)),
        "stuck": len(stuck),
        "stuck_ids": [it.report_id for it in stuck][:10],
        "dead_lettered_by_reconciler": len(gave_up), "dead_lettered_ids": gave_up[:10],
        "duplicated_timeline_entries": duplicated,
        "messages_owed": owed, "messages_lost": missing, "messages_twice": twice,
        "message_p50_s": round(_pct(delays, 50), 2), "message_p95_s": round(_pct(delays, 95), 2),
        "pushes_owed": pushed[0], "pushes_lost": pushed[1], "pushes_twice": pushed[2],
        "p50_s": round(_pct(latencies, 50), 2), "p95_s": round(_pct(latencies, 95), 2),
        "reports_per_s": round(len(final) / max(last - started, 1e-9), 1),
        "submit_s": round(submitted_s, 1),
        "submit_attempts": sum(it.attempts for it in items),
        "statuses": dict(statuses),
        "reconciler_republished": republished,
        "dead_letters_of_these_reports": sum(1 for d in letters if d.get("report_id") in ours),
        "poison": len(poison_ids), "poison_dead_lettered_with_reason": len(poison_found),
        "kills": dict(log.kills), "pubsub_restarts": log.pubsub_restarts, "fault_errors": log.errors,
        "pushes_via_proxy": pushes[0], "extra_deliveries": pushes[1],
        "floor_reports_per_s": floor["reports_per_s"], "floor_p50_ms": floor["p50_ms"],
        "ratio_to_floor": round(len(final) / max(last - started, 1e-9) / max(floor["reports_per_s"], 1e-9), 3),
        "cost_per_report": cost_per_report,
        "emulator_cpu_ms_per_report": emulator_cpu,
        "whatsapp": {"conversations": 0, "one_report": 0, "no_report": 0, "reports_twice": 0},
        "figures_behind": figures_state[0], "figures_differing": figures_state[1], "social": social,
    }


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def _print_cost(spent: CostPerReport, emulators: dict[str, float]) -> None:
    if not spent:
        print("  cost per report: no function processes found")
        return
    print("  cost per report:  function          CPU-ms   reads  writes  transactions")
    for name, row in spent.items():
        print(f"    {name:<28} {row['cpu_ms']:>7.1f} {row['reads']:>7.2f} {row['writes']:>7.2f} "
              f"{row['transactions']:>8.2f}")
    if emulators:
        print("  emulators' CPU-ms per report (this machine only): "
              + ", ".join(f"{name} {ms:.1f}" for name, ms in emulators.items()))


def _print_open_loop(r: OpenLoopResult) -> None:
    print(f"pipeline, open loop: {r['duration_s']:g} s per rate, {r['photo_share']:.0%} with a JPEG, "
          f"{r['senders']} senders; floor {r['floor_reports_per_s']} reports/s (p50 {r['floor_p50_ms']} ms)")
    for step in r["steps"]:
        print(f"  {step['rate']:g} reports/s: {step['reports']} sent (offered {step['offered_rate']}/s, "
              f"sender late p99 {step['sender_late_p99_s']} s, all answered in {step['submitted_s']} s), routed {step['routed']}, not routed "
              f"{step['not_routed']}, lost {step['lost']}, refused {step['refused']}; submit→routed p50 {step['p50_s']} s, p95 "
              f"{step['p95_s']} s, p99 {step['p99_s']} s; reconciler re-published {step['reconciler_republished']}×")
        print(f"    messages (notify): owed {step['messages_owed']}, lost {step['messages_lost']}; status change → "
              f"inbox p50 {step['message_p50_s']} s, p95 {step['message_p95_s']} s")
        _print_cost(step["cost_per_report"], step["emulator_cpu_ms_per_report"])
    if r["max_rate_p95_under_limit"] is not None or len(r["steps"]) > 1:
        print(f"  largest rate with p95 under {r['p95_limit_s']:g} s: {r['max_rate_p95_under_limit']} reports/s")
    print(json.dumps(r, default=str))


def _print(r: BenchResult) -> None:
    print(f"pipeline: {r['reports']} reports ({r['photo_share']:.0%} with a JPEG), "
          f"{r['concurrency']} submitting threads, faults: {', '.join(r['faults']) or 'none'}")
    print(f"  final {r['final']}, lost {r['lost']}, refused {r['refused']}, stuck {r['stuck']}, "
          f"dead-lettered by the reconciler {r['dead_lettered_by_reconciler']}, "
          f"duplicated timeline entries {r['duplicated_timeline_entries']}")
    for answer, count in r["refused_answers"].items():
        print(f"    refused {count}×: {answer}")
    print(f"  messages (notify): owed {r['messages_owed']}, lost {r['messages_lost']}, "
          f"sent twice {r['messages_twice']}; status change → inbox p50 {r['message_p50_s']} s, "
          f"p95 {r['message_p95_s']} s")
    print(f"  pushes (FCM stand-in): owed {r['pushes_owed']}, lost {r['pushes_lost']}, "
          f"sent twice {r['pushes_twice']}")
    print(f"  submit→final p50 {r['p50_s']} s, p95 {r['p95_s']} s; sustained {r['reports_per_s']} reports/s "
          f"(all submitted in {r['submit_s']} s, {r['submit_attempts']} attempts)")
    print(f"  floor (the writes and publishes alone): {r['floor_reports_per_s']} reports/s, "
          f"p50 {r['floor_p50_ms']} ms per report; sustained / floor = {r['ratio_to_floor']}")
    print(f"  statuses {r['statuses']}; reconciler re-published {r['reconciler_republished']}×")
    print(f"  dead letters of these reports {r['dead_letters_of_these_reports']}; poison "
          f"{r['poison_dead_lettered_with_reason']}/{r['poison']} in dead_letters with a reason")
    print(f"  faults: kills {r['kills']}, Pub/Sub restarts {r['pubsub_restarts']}, pushes via the "
          f"duplicating proxy {r['pushes_via_proxy']} (+{r['extra_deliveries']} extra deliveries)"
          + (f"; errors {r['fault_errors']}" if r["fault_errors"] else ""))
    print(f"  figures (record_figures) of these reports: behind {r['figures_behind']}, differing "
          f"{r['figures_differing']}")
    if r["social"]["residents"]:
        so = r["social"]
        print(f"  supports and comments of {so['residents']} residents on {so['reports']} reports "
              f"({so['attempts']} requests, {so['refused']} refused): supports {so['supports']}, lost "
              f"{so['supports_lost']}, twice {so['supports_twice']}; comments {so['comments']}, lost "
              f"{so['comments_lost']}, twice {so['comments_twice']}")
    if r["whatsapp"]["conversations"]:
        wa = r["whatsapp"]
        print(f"  WhatsApp conversations {wa['conversations']}: one report {wa['one_report']}, none "
              f"{wa['no_report']}, more than one {wa['reports_twice']}")
    _print_cost(r["cost_per_report"], r["emulator_cpu_ms_per_report"])
    print(json.dumps(r, default=str))
