"""`keluhan demo`: real signed-in test users submit reports to the running local stack."""

from __future__ import annotations

import argparse
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, TypedDict

from keluhan.cli import CliError, Commands

if TYPE_CHECKING:
    from pydantic import JsonValue

    from keluhan.devstack.client import Document, StackClient, Upload
    from keluhan.devstack.config import StackConfig

WITA = timezone(timedelta(hours=8), "WITA")


@dataclass(frozen=True)
class DemoReport:
    title: str
    user: str
    category: str
    lat: float
    lon: float
    street: str | None = None
    channel: str = "warga"
    photo_age: timedelta | None = timedelta(minutes=3)  # None: no photo (Call Center 112)


# Points inside real kelurahan of ../shared/geo (Kel. Bontorannu, Mamajang Dalam, Karuwisi,
# Barrang Lompo island) and Sungguminasa in Kabupaten Gowa.
SCENARIO = (
    DemoReport("Jalan berlubang di jalan kota / Pothole on a city road", "siti@warga.test",
               "jalan_rusak", -5.162247, 119.40421, street="Jl. Landak Baru"),
    DemoReport("Jalan rusak di jalan provinsi / Damaged provincial road", "andi@warga.test",
               "jalan_rusak", -5.140235, 119.435353, street="Jl. Hertasning"),
    DemoReport("Sampah menumpuk / Piled-up rubbish", "siti@warga.test",
               "sampah", -5.161989, 119.421297),
    DemoReport("Air bersih mati di pulau / No clean water on the island", "daeng@warga.test",
               "air_bersih", -5.048446, 119.329021),
    DemoReport("Laporan Call Center 112 dari Gowa / Call Center 112 report from Gowa",
               "cc112@callcenter.makassar.test", "jalan_rusak", -5.2069, 119.4531,
               channel="call_center_112", photo_age=None),
    DemoReport("Foto lama seminggu / A week-old photo", "andi@warga.test",
               "jalan_rusak", -5.162247, 119.40421, photo_age=timedelta(days=7)),
)


def register(commands: Commands) -> None:
    parser = commands.add_parser("demo", help="submit demo reports to the running local stack")
    parser.add_argument("--json", action="store_true", help="one JSON object per report")
    parser.add_argument("--config", default=None, help="emulators.json of the running stack")
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds to wait per report")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from keluhan.devstack.config import EMULATORS_JSON, load_stack_config

    config = load_stack_config(Path(args.config) if args.config else EMULATORS_JSON)
    return run_demo(config, as_json=args.json, timeout_s=args.timeout)


def run_demo(config: StackConfig, *, as_json: bool = False, timeout_s: float = 90.0) -> int:
    import requests

    from keluhan.devstack.client import StackClient

    client = StackClient(config)
    try:
        results = [_submit(client, item) for item in SCENARIO]
    except requests.ConnectionError as exc:
        where = exc.request.url if exc.request is not None else "?"
        raise CliError(f"the local stack is not answering ({where!s}); start it with "
                       "`keluhan dev up`") from exc
    for item, report_id in results:
        report = client.wait_report(report_id, timeout_s=timeout_s)
        if report["status"] == "forwarded":  # wait for the hop to the external body too
            report = client.wait_report(report_id, lambda r: r["forwarding"]["state"] in
                                        ("acknowledged", "failed"), timeout_s=timeout_s)
        print(json.dumps(summary(report), ensure_ascii=False, default=str) if as_json
              else journey(item, report), flush=True)
    item, report_id = results[0]  # the pothole on a city road: Dinas PU fixes it, the reporter confirms
    social = support_and_talk(client, item, report_id, neighbour=results[1][0].user)
    if as_json:
        print(json.dumps({"social": social}, ensure_ascii=False, default=str), flush=True)
    else:
        print(f"Laporan serupa di dekatnya / possible duplicates nearby, offered to {results[1][0].user} "
              f"while reporting 40 m away: {', '.join(social['suggested'])}")
        print(f"Dukungan / support: {results[1][0].user} mendukung / supports {report_id} "
              f"(pendukung / supporters: {social['supporters']})")
        print("Percakapan, seperti dibaca pelapor / the thread as the reporter reads it:")
        for line in social["thread"]:
            print(f"  [{line['author']}] {line['text']}")
        print(f"  (+{social['internal_notes']} catatan internal untuk petugas / internal notes for staff)")
    report = handle_to_closed(client, report_id, reporter=item.user, timeout_s=timeout_s, rating=4)
    if not as_json:
        print(f"Penilaian pelapor / the reporter's rating: {report['rating']['score']}/5 "
              f"\"{report['rating']['text']}\"")
    print(json.dumps(summary(report), ensure_ascii=False, default=str) if as_json
          else journey(DemoReport(f"{item.title} — ditangani sampai selesai / handled to the end",
                                  item.user, item.category, item.lat, item.lon), report), flush=True)
    messages = reporter_inbox(client, item.user, report_id, timeout_s=timeout_s)
    if as_json:
        print(json.dumps({"inbox": messages}, ensure_ascii=False, default=str), flush=True)
    else:
        print(f"Kotak masuk pelapor / the reporter's inbox ({item.user}):")
        for message in messages:
            print(f"  [{message['event']}] {message['title']}: {message['body']}")
    return 0


def reporter_inbox(client: StackClient, email: str, report_id: str, *, timeout_s: float) -> list[Document]:
    """The reporter's inbox/{uid}/messages of this report, once notify has told every step to closed."""
    from google.cloud.firestore import FieldFilter

    from keluhan.devstack.client import wait_for

    uid, _ = client.sign_in(email)
    messages = client.db.collection("inbox").document(uid).collection("messages")
    query = messages.where(filter=FieldFilter("report_id", "==", report_id))

    def found() -> list[Document] | None:
        docs = sorted((d.to_dict() or {} for d in query.stream()), key=lambda m: m["seq"])
        return docs if docs and docs[-1]["event"] == "closed" else None

    return wait_for(found, timeout_s=timeout_s, what=f"the reporter's inbox of {report_id}")


class SocialDemo(TypedDict):
    suggested: list[str]  # the open reports the neighbour's own submission was offered
    supporters: int
    thread: list[dict[str, str]]  # author, text: what the reporter reads
    internal_notes: int  # what staff read beside it


def support_and_talk(client: StackClient, item: DemoReport, report_id: str, *, neighbour: str) -> SocialDemo:
    """A neighbour reports the same pothole 40 m on and is offered the report in the answer; they
    support it ("dukung"); Dinas PU answers in the thread and leaves an internal note; the reporter
    replies. What the neighbour was offered, what the reporter reads of the thread, and the count."""
    from keluhan.devstack.seed import DEMO_USERS

    skpd_email = next(e for e, c in DEMO_USERS if c.get("skpd") == "dinas-pu")
    _, skpd = client.user(skpd_email, dict(DEMO_USERS)[skpd_email])
    _, citizen = client.sign_in(item.user)
    _, other = client.user(neighbour, dict(DEMO_USERS).get(neighbour))
    near = DemoReport("Lubang yang sama / The same pothole", neighbour, item.category, item.lat + 0.00036,
                      item.lon, street=item.street)  # 0.00036° of latitude: 40 m north
    # Nearest first, at most 5: on a fresh stack it is the report; on a busy one, maybe nearer ones.
    suggested = [str(r["report_id"]) for r in _submit_answer(client, near).get("possible_duplicates") or []]
    supported = client.support(other, report_id)
    if supported.status_code != 200:
        raise CliError(f"support_report answered {supported.status_code}: {supported.text}")
    tag = uuid.uuid4().hex[:8]
    for token, text, visibility in (
            (skpd, "Terima kasih, tim kami ke lokasi besok / Thanks, our team goes there tomorrow", "public"),
            (skpd, "Perlu aspal dingin dari gudang / Needs cold asphalt from the depot", "internal"),
            (citizen, "Baik, lubangnya dekat sekolah / OK, the hole is near the school", "public")):
        posted = client.comment(token, {"report_id": report_id, "client_id": f"demo-{tag}-{len(text)}",
                                        "text": text, "visibility": visibility})
        if posted.status_code not in (200, 201):
            raise CliError(f"comment_on_report answered {posted.status_code}: {posted.text}")
    thread = client.thread(citizen, report_id).json()["comments"]
    staff = client.thread(skpd, report_id).json()["comments"]
    return {"suggested": suggested, "supporters": supported.json()["supporters"],
            "thread": [{"author": c["author"], "text": c["text"]} for c in thread],
            "internal_notes": sum(1 for c in staff if c["visibility"] == "internal")}


def handle_to_closed(client: StackClient, report_id: str, *, reporter: str, timeout_s: float,
                     rating: int | None = None) -> Document:
    """The SKPD accepts, works and resolves with a proof photo; the reporter confirms (and rates): closed."""
    from keluhan.devstack.sample_photos import make_jpeg
    from keluhan.devstack.seed import DEMO_USERS

    skpd_email = next(e for e, c in DEMO_USERS if c.get("skpd") == "dinas-pu")
    _, skpd = client.user(skpd_email, dict(DEMO_USERS)[skpd_email])
    _, citizen = client.sign_in(reporter)
    report = _stored(client, report_id)
    upload: Upload | None = None
    for action, expected in (("accept", "routed"), ("start", "accepted"), ("resolve", "in_progress")):
        response = client.act(skpd, {"report_id": report_id, "action": action, "expected_status": expected,
                                     "note": "Ditambal / Patched" if action == "resolve" else ""})
        if response.status_code != 200:
            raise CliError(f"act_on_report {action} answered {response.status_code}: {response.text}")
        upload = response.json()["upload"]
    if upload is None:
        raise CliError("act_on_report resolve answered no proof upload")
    point = report["point"]
    proof = make_jpeg(taken_at=datetime.now(UTC), lat=point["lat"], lon=point["lon"],
                      seed=uuid.uuid4().int % 10_000)
    put = client.upload_photo(upload, proof)
    if put.status_code not in (200, 201):
        raise CliError(f"proof upload answered {put.status_code}: {put.text}")
    client.wait_report(report_id, lambda r: r["status"] in ("resolved", "in_progress"), timeout_s=timeout_s)
    confirm: dict[str, JsonValue] = {"report_id": report_id, "action": "confirm", "expected_status": "resolved",
                                     "note": "Terima kasih / Thank you"}
    if rating is not None:
        confirm |= {"rating": rating, "rating_text": "Cepat dan rapi / Quick and tidy"}
    response = client.act(citizen, confirm)
    if response.status_code != 200:
        raise CliError(f"confirm answered {response.status_code}: {response.text}")
    return _stored(client, report_id)


def _stored(client: StackClient, report_id: str) -> Document:
    report = client.report(report_id)
    if report is None:
        raise CliError(f"report {report_id} is not in Firestore")
    return report


def _submit(client: StackClient, item: DemoReport) -> tuple[DemoReport, str]:
    return item, str(_submit_answer(client, item)["report_id"])


def _submit_answer(client: StackClient, item: DemoReport) -> Document:
    """submit_report's answer for the item, its photo (if it has one) uploaded."""
    from keluhan.devstack.sample_photos import make_jpeg
    from keluhan.devstack.seed import DEMO_USERS

    _, token = client.user(item.user, dict(DEMO_USERS).get(item.user))
    taken_at = datetime.now(UTC) - item.photo_age if item.photo_age else None
    body: dict[str, JsonValue] = {
        "client_id": f"demo-{uuid.uuid4().hex[:16]}",
        "category": item.category,
        "description": item.title,
        "lat": item.lat,
        "lon": item.lon,
        "accuracy_m": 8,
        "channel": item.channel,
    }
    if item.street:
        body["street"] = item.street
    if taken_at:
        body["photo_taken_at"] = taken_at.isoformat()
    response = client.submit(token, body)
    if response.status_code not in (200, 201):
        raise CliError(f"submit_report answered {response.status_code}: {response.text}")
    created: Document = response.json()
    if created.get("upload"):
        photo = make_jpeg(taken_at=taken_at, lat=item.lat, lon=item.lon,
                          seed=uuid.uuid4().int)
        put = client.upload_photo(created["upload"], photo)
        if put.status_code not in (200, 201):
            raise CliError(f"photo upload answered {put.status_code}: {put.text}")
    return created


def summary(report: Document) -> dict[str, object]:
    location = report.get("location") or {}
    routing = report.get("routing") or {}
    forwarding = report.get("forwarding") or {}
    return {
        "report_id": report["report_id"],
        "status": report["status"],
        "supporters": report.get("supporters", 0),
        "rating": (report.get("rating") or {}).get("score"),
        "category": report["category"],
        "channel": report["channel"],
        "photo_verdict": report["photo"].get("verdict"),
        "photo_reasons": [r["code"] for r in report["photo"].get("reasons") or []],
        "kelurahan": location.get("kelurahan"),
        "kecamatan": location.get("kecamatan"),
        "inside_city": location.get("inside_city"),
        "outside_region": location.get("outside_region"),
        "road": location.get("road"),
        "assignee": routing.get("assignee"),
        "kind": routing.get("kind"),
        "rule": routing.get("rule"),
        "reason": routing.get("reason"),
        "delivery_state": forwarding.get("state"),
        "receiver_ref": forwarding.get("receiver_ref"),
    }


def journey(item: DemoReport, report: Document) -> str:
    """Every field of reports/{id}, after the report's journey through the stages."""
    lines = [f"━━ {item.title}", f"   report {report['report_id']}  ({item.user}, {report['channel']})"]
    for step in report.get("timeline", []):
        note = f" — {step['note']}" if step.get("note") else ""
        lines.append(f"   {step['at'].astimezone(WITA):%H:%M:%S} WITA  {step['status']:<15}{note}")
    lines.append("   reports/{id}:")
    for key in sorted(report):
        if key != "timeline":
            lines.append(f"     {key}: {json.dumps(report[key], ensure_ascii=False, default=str)}")
    return "\n".join(lines)
