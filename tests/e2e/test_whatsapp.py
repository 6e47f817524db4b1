"""The WhatsApp channel on the real emulators: a resident's conversation through the signed webhook
and the Cloud API stand-in ends in a routed report; the SKPD's moves reach the resident on WhatsApp."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime

import pytest

from keluhan.cli.wa import DEMO_POINT, Resident, run_conversation
from keluhan.devstack.client import wait_for
from keluhan.domain.whatsapp import number_hash
from tests.e2e.test_handling import PU_CLAIMS, act, step
from tests.e2e.test_pipeline import fresh_photo


@pytest.fixture(scope="module")
def pu(client):
    return client.user("pu.wa.e2e@dinas-pu.makassar.test", PU_CLAIMS)[1]


def resident(client) -> Resident:
    return Resident(client.config, "628" + str(uuid.uuid4().int)[:10])


def received(person: Resident, pattern: str, *, timeout_s: float = 60) -> str:
    """The first message the resident received that matches `pattern` (waits, bounded)."""
    def found() -> str | None:
        return next((m["text"] for m in person.outbox() if re.search(pattern, m.get("text") or "")), None)

    return wait_for(found, timeout_s=timeout_s, what=f"a WhatsApp message matching {pattern!r}")


def test_a_whatsapp_conversation_is_routed_and_the_resident_hears_the_skpd_on_whatsapp(client, pu):
    person = resident(client)
    result = run_conversation(person, timeout_s=90)
    report_id = result["report_id"]
    assert (result["status"], result["channel"], result["assignee"]) == ("routed", "whatsapp", "dinas-pu"), result
    assert result["photo_reasons"] == ["witnessed_capture"]  # no EXIF: the server's times decided
    received(person, r"sekarang ditangani Dinas Pekerjaan Umum")

    act(client, pu, report_id, "accept", "routed")
    step(client, report_id, "accepted", "accept", "skpd:dinas-pu")
    act(client, pu, report_id, "start", "accepted")
    upload = act(client, pu, report_id, "resolve", "in_progress", note="Sudah ditambal")["upload"]
    assert client.upload_photo(upload, fresh_photo(*DEMO_POINT, seed=uuid.uuid4().int % 2**31,
                                                   taken_at=datetime.now(UTC))).status_code in (200, 201)
    assert client.wait_report(report_id, lambda r: r["status"] == "resolved", timeout_s=90)["status"] == "resolved"
    for words in ("menerima laporan", "mulai mengerjakan", "menyelesaikan laporan"):
        assert report_id in received(person, words)
    sends = [m for m in person.outbox() if m["tracker"] and not m["tracker"].startswith("wamid.")]
    assert len({m["tracker"] for m in sends}) == len(sends)  # each notice once

    # The number stays in the conversation store: not on the report, the staff view or the figures.
    for path in (f"reports/{report_id}", f"staff_reports/{report_id}"):
        doc = client.db.document(path).get().to_dict() or {}
        assert person.number not in str(doc), path
    stats = [d.id for d in client.db.collection("stats").stream() if d.id.startswith("channel=whatsapp")]
    assert stats and not any(person.number in d for d in stats)


def test_a_forged_or_missing_signature_is_refused_and_nothing_is_stored(client):
    person = resident(client)
    for signature in ("sha256=" + "0" * 64, ""):
        answer = person.deliver({"type": "text", "text": {"body": "halo"}}, signature=signature)
        assert answer["status"] == 403 and answer["answer"]["error"]["field"] == "X-Hub-Signature-256"
    assert not client.db.document(f"wa_users/{number_hash(person.number)}").get().exists
    assert person.outbox() == []


def test_the_same_webhook_delivered_twice_makes_one_report(client):
    person = resident(client)
    person.text("halo")
    person.choose("bencana")
    person.location(-5.161989, 119.421297)
    person.text("Pohon tumbang menutup jalan")
    first = person.text("ya", message_id="wamid.e2e.yes." + person.number)
    again = person.text("ya", message_id="wamid.e2e.yes." + person.number)
    assert first["status"] == again["status"] == 200
    numbers = [m for m in person.outbox() if "tercatat dengan nomor" in (m["text"] or "")]
    assert len(numbers) == 1
    state = client.db.document(f"wa_users/{number_hash(person.number)}").get().to_dict()
    assert len(state["conversation"]["reports"]) == 1


def test_a_photo_outside_the_window_gets_a_clear_reply_and_no_report(client):
    person = resident(client)
    person.text("halo")
    person.choose("jalan_rusak")
    person.location(*DEMO_POINT, at=time.time() - 20 * 60)  # shared twenty minutes before the photo
    person.image(fresh_photo(*DEMO_POINT, seed=uuid.uuid4().int % 2**31, taken_at=None))
    assert "dalam 10 menit" in received(person, r"Foto harus dikirim")
    person.text("Lubang")
    person.text("ya")
    state = client.db.document(f"wa_users/{number_hash(person.number)}").get().to_dict()
    assert state["conversation"]["reports"] == [] and state["conversation"]["step"] == "location"


def test_a_number_over_its_message_limit_gets_a_clear_reply(client):
    person = resident(client)
    for sent in range(1, 64):  # past the limit within one clock minute, whatever the machine's speed
        assert person.text("halo")["status"] == 200
        if sent > 20 and any("Terlalu banyak pesan" in (m["text"] or "") for m in person.outbox()):
            break
    assert "Tunggu satu menit" in received(person, r"Terlalu banyak pesan")
