"""`keluhan wa …`: the resident's side of the WhatsApp channel on the local stack.

`send` posts a webhook delivery signed with the local app secret (as Meta signs it) to the
`whatsapp` function; `outbox` prints what the stand-in Cloud API received for a number, one JSON
line each; `demo` runs one whole conversation to a routed report.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keluhan.cli import CliError, Commands

if TYPE_CHECKING:
    from keluhan.devstack.config import StackConfig

BUSINESS_NUMBER = "6241100112"  # the city's bot number as the deliveries name it (metadata)


def register(commands: Commands) -> None:
    parser = commands.add_parser("wa", help="play a WhatsApp resident against the local stack")
    sub = parser.add_subparsers(dest="wa_command", required=True)
    send = sub.add_parser("send", help="post one signed webhook delivery from a number")
    send.add_argument("--from", dest="sender", required=True, help="the resident's number, e.g. 6281234567890")
    what = send.add_mutually_exclusive_group(required=True)
    what.add_argument("--text")
    what.add_argument("--location", help="LAT,LON (a current-location share)")
    what.add_argument("--image", help="a photo file (uploaded to the stand-in, sent by media id)")
    what.add_argument("--choose", help="a list row id, e.g. cat:jalan_rusak (or the category code)")
    send.add_argument("--id", default=None, help="the message id (default: a new one); the same id twice is "
                                                 "a redelivery")
    send.add_argument("--config", default=None, help="emulators.json of the running stack")
    send.set_defaults(func=_send)
    outbox = sub.add_parser("outbox", help="what the resident received, as JSON lines")
    outbox.add_argument("--to", required=True)
    outbox.add_argument("--config", default=None)
    outbox.set_defaults(func=_outbox)
    demo = sub.add_parser("demo", help="one whole conversation to a routed report; prints one JSON object")
    demo.add_argument("--from", dest="sender", default=None, help="the resident's number (default: a new one)")
    demo.add_argument("--config", default=None)
    demo.add_argument("--timeout", type=float, default=90.0)
    demo.set_defaults(func=_demo)


def _config(path: str | None) -> StackConfig:
    from keluhan.devstack.config import EMULATORS_JSON, load_stack_config

    return load_stack_config(Path(path) if path else EMULATORS_JSON)


@dataclass(frozen=True)
class Resident:
    """One WhatsApp user talking to the local bot."""

    config: StackConfig
    number: str
    # As Meta does: a delivery not answered 200 (a crashed function, a 503) is sent again, the same
    # message with the same id, until this time (Unix seconds); None: once.
    redeliver_until: float | None = None

    def deliver(self, message: dict[str, Any], *, message_id: str | None = None,  # Any: JSON
                at: float | None = None, signature: str | None = None) -> dict[str, Any]:  # Any: JSON
        """Post one message as Meta would: signed with the app secret (unless `signature` is given),
        stamped `at` (default now, Unix seconds); the function's answer."""
        import requests

        from keluhan.devstack.env import LOCAL_WA_APP_SECRET, LOCAL_WA_PHONE_ID

        message = {"from": self.number, "id": message_id or f"wamid.local.{uuid.uuid4().hex}",
                   "timestamp": str(int(time.time() if at is None else at)), **message}
        delivery = {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{
            "field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": BUSINESS_NUMBER, "phone_number_id": LOCAL_WA_PHONE_ID},
                "contacts": [{"profile": {"name": "Warga"}, "wa_id": self.number,
                              "user_id": "ID." + hashlib.sha256(self.number.encode()).hexdigest()[:16]}],
                "messages": [message]}}]}]}
        body = json.dumps(delivery).encode()
        if signature is None:
            signature = "sha256=" + hmac.new(LOCAL_WA_APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
        url = self.config.functions["whatsapp"].url + "/"
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
        pause = 0.2
        while True:
            try:
                answer = requests.post(url, data=body, timeout=30, headers=headers)
                if answer.status_code == 200 or self.redeliver_until is None or time.time() > self.redeliver_until:
                    return {"status": answer.status_code, "message_id": message["id"], "answer": _json(answer)}
            except requests.ConnectionError:
                if self.redeliver_until is None or time.time() > self.redeliver_until:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 5.0)

    def text(self, text: str, **kw: Any) -> dict[str, Any]:  # Any: JSON
        return self.deliver({"type": "text", "text": {"body": text}}, **kw)

    def location(self, lat: float, lon: float, **kw: Any) -> dict[str, Any]:  # Any: JSON
        return self.deliver({"type": "location", "location": {"latitude": lat, "longitude": lon}}, **kw)

    def choose(self, row: str, **kw: Any) -> dict[str, Any]:  # Any: JSON
        row = row if ":" in row else f"cat:{row}"
        return self.deliver({"type": "interactive", "context": {"from": BUSINESS_NUMBER, "id": "wamid.list"},
                             "interactive": {"type": "list_reply", "list_reply": {"id": row, "title": row}}}, **kw)

    def image(self, data: bytes, mime_type: str = "image/jpeg", **kw: Any) -> dict[str, Any]:  # Any: JSON
        import requests

        uploaded = requests.post(self.config.whatsapp_standin.url + "/_media", data=data, timeout=30,
                                 headers={"Content-Type": mime_type})
        uploaded.raise_for_status()
        media_id = uploaded.json()["id"]
        return self.deliver({"type": "image", "image": {"id": media_id, "mime_type": mime_type,
                                                        "sha256": hashlib.sha256(data).hexdigest()}}, **kw)

    def outbox(self) -> list[dict[str, Any]]:  # Any: JSON
        import requests

        answer = requests.get(self.config.whatsapp_standin.url + "/_sent", params={"to": self.number}, timeout=30)
        answer.raise_for_status()
        sent: list[dict[str, Any]] = answer.json()  # Any: the stand-in's JSON records
        return sent


def _json(answer: Any) -> Any:  # Any: a requests.Response and its JSON
    try:
        return answer.json()
    except ValueError:
        return answer.text


def _send(args: argparse.Namespace) -> int:
    resident = Resident(_config(args.config), args.sender)
    kw = {"message_id": args.id}
    try:
        if args.text is not None:
            result = resident.text(args.text, **kw)
        elif args.location is not None:
            lat, _, lon = args.location.partition(",")
            result = resident.location(float(lat), float(lon), **kw)
        elif args.image is not None:
            path = Path(args.image)
            mime = "image/png" if path.suffix.lower() == ".png" else "image/jpeg"
            result = resident.image(path.read_bytes(), mime, **kw)
        else:
            result = resident.choose(args.choose, **kw)
    except ValueError as exc:
        raise CliError(f"--location must be LAT,LON: {exc}") from exc
    except OSError as exc:
        raise CliError(f"the local stack is not answering ({exc}); start it with `keluhan dev up`") from exc
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result["status"] == 200 else 1


def _outbox(args: argparse.Namespace) -> int:
    try:
        sent = Resident(_config(args.config), args.to).outbox()
    except OSError as exc:
        raise CliError(f"the local stack is not answering ({exc}); start it with `keluhan dev up`") from exc
    for item in sent:
        print(json.dumps({k: item[k] for k in ("n", "at", "type", "text", "tracker")}, ensure_ascii=False))
    return 0


# A pothole on a city road in Kel. Mamajang Dalam (../shared/geo): Dinas PU's.
DEMO_POINT = (-5.162247, 119.40421)
DEMO_CATEGORY = "jalan_rusak"


def _demo(args: argparse.Namespace) -> int:
    config = _config(args.config)
    number = args.sender or "628" + str(uuid.uuid4().int)[:10]
    try:
        report = run_conversation(Resident(config, number), timeout_s=args.timeout)
    except OSError as exc:
        raise CliError(f"the local stack is not answering ({exc}); start it with `keluhan dev up`") from exc
    print(json.dumps(report, ensure_ascii=False, default=str))
    return 0


def run_conversation(resident: Resident, *, timeout_s: float = 90.0, category: str = DEMO_CATEGORY,
                     point: tuple[float, float] = DEMO_POINT, seed: int | None = None) -> dict[str, Any]:  # Any: JSON
    """Greeting → category → location → photo → description → yes; then wait until the report is
    routed. The report's number is read from the bot's last reply, as the resident reads it."""
    import re

    from keluhan.devstack.client import StackClient, wait_for
    from keluhan.devstack.sample_photos import encode, make_image
    from keluhan.domain.catalogue import get_category

    steps = [resident.text("halo"), resident.choose(category), resident.location(*point)]
    if (found := get_category(category)) is not None and found.photo_required:
        photo = encode(make_image(seed=seed if seed is not None else uuid.uuid4().int % 2**31), "JPEG", quality=85)
        steps.append(resident.image(photo))
    steps += [resident.text("Lubang besar di tengah jalan, berbahaya untuk motor"), resident.text("ya")]
    failed = [s for s in steps if s["status"] != 200]
    if failed:
        raise CliError(f"the whatsapp function refused a message: {failed[0]}")

    def report_number() -> str | None:
        for item in reversed(resident.outbox()):
            if found := re.search(r"nomor \*([A-Za-z0-9_-]+)\*", item.get("text") or ""):
                return found.group(1)
        return None

    report_id = wait_for(report_number, timeout_s=timeout_s, what="the bot's reply with the report number")
    client = StackClient(resident.config)
    done = ("routed", "forwarded", "triage", "photo_rejected", "in_moderation", "accepted", "in_progress")
    report = client.wait_report(report_id, lambda r: r.get("status") in done, timeout_s=timeout_s)
    return {"report_id": report_id, "status": report["status"], "channel": report.get("channel"),
            "assignee": report.get("assignee"), "photo_verdict": (report.get("photo") or {}).get("verdict"),
            "photo_reasons": [r.get("code") for r in (report.get("photo") or {}).get("reasons") or []],
            "at": datetime.now(UTC).isoformat()}
