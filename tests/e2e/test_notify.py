"""Issue 18 on the real emulators: the reporter's inbox hears every step to closed, in their language;
the SKPD's staff hear of the assignment, its head of escalation level 1, the operators of level 2."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from google.cloud.firestore import FieldFilter

from keluhan.devstack.client import wait_for
from tests.e2e.test_figures import simulated_clock  # noqa: F401 - the functions' clock, as the figures move it
from tests.e2e.test_handling import PU_CLAIMS, act, resolve_with_proof, step
from tests.e2e.test_pipeline import _publisher, fresh_photo, report_body, submit_with_photo
from tests.support.places import kelurahan_point


def inbox(client, uid: str, report_id: str) -> list[dict]:
    messages = client.db.collection("inbox").document(uid).collection("messages")
    query = messages.where(filter=FieldFilter("report_id", "==", report_id))
    return sorted((d.to_dict() for d in query.stream()),
                  key=lambda m: m["seq"])


def told(client, uid: str, report_id: str, events: list[str]) -> list[dict]:
    return wait_for(lambda: (found := inbox(client, uid, report_id)) and [m["event"] for m in found] == events
                    and found, timeout_s=60, what=f"{uid}'s inbox: {events}")


def test_the_reporter_hears_every_step_to_closed_in_english_and_the_skpd_its_assignment(client):
    tag = uuid.uuid4().hex[:8]
    uid, token = client.sign_in(f"warga.notify.{tag}@example.com")
    staff_uid, pu = client.user(f"pu.notify.{tag}@dinas-pu.makassar.test", PU_CLAIMS)
    lat, lon, _ = kelurahan_point("Bontorannu")
    taken = datetime.now(UTC) - timedelta(minutes=1)
    body = report_body(lat, lon, street="Jl. Landak Baru", taken_at=taken, lang="en")
    report_id = submit_with_photo(client, token, body, fresh_photo(lat, lon, seed=uuid.uuid4().int,
                                                                   taken_at=taken))
    client.wait_report(report_id, lambda r: r["status"] == "routed")
    act(client, pu, report_id, "accept", "routed")
    act(client, pu, report_id, "start", "accepted")
    assert resolve_with_proof(client, pu, report_id)["status"] == "resolved"
    act(client, token, report_id, "confirm", "resolved")
    step(client, report_id, "closed", "confirm", "reporter")

    mine = told(client, uid, report_id, ["routed", "accepted", "in_progress", "resolved", "closed"])
    assert {m["lang"] for m in mine} == {"en"} and all(m["read_at"] is None for m in mine)
    assert mine[0]["title"].startswith("Report assigned to")
    staff = told(client, staff_uid, report_id, ["assigned"])
    assert staff[0]["lang"] == "id" and report_id in staff[0]["body"]
    for message in [*mine, *staff]:  # nobody learns who reported, nor reads the description
        assert uid not in str(message) and "Laporan uji end-to-end" not in str(message)


def test_escalation_reaches_the_head_at_level_1_and_the_operators_at_level_2(client, citizen, simulated_clock):  # noqa: F811
    tag = uuid.uuid4().hex[:8]
    _, token = citizen
    head_uid, _ = client.user(f"kepala.notify.{tag}@dinas-pu.makassar.test", {**PU_CLAIMS, "head": True})
    operator_uid, _ = client.user(f"op.notify.{tag}@warroom.makassar.test", {"role": "operator"})
    lat, lon, _ = kelurahan_point("Bontorannu")
    taken = datetime.now(UTC) - timedelta(minutes=1)
    report_id = submit_with_photo(client, token, report_body(lat, lon, street="Jl. Landak Baru", taken_at=taken),
                                  fresh_photo(lat, lon, seed=uuid.uuid4().int, taken_at=taken))
    routed = client.wait_report(report_id, lambda r: r["status"] == "routed")
    told(client, head_uid, report_id, ["assigned"])  # the head is staff of the SKPD too
    # The functions' clock moves past the target (level 1), then past it once more (level 2).
    simulated_clock(routed["sla"]["due_at"] + timedelta(hours=1))
    _publisher(client)("sweep-tick", {}, {})
    told(client, head_uid, report_id, ["assigned", "escalated_1"])
    escalated = client.wait_report(report_id, lambda r: r.get("escalation_level") == 1)
    assert escalated["timeline_at"] > routed["timeline_at"]  # the reconciler's window sees an escalation
    simulated_clock(escalated["sla"]["next_escalation_at"] + timedelta(hours=1))
    _publisher(client)("sweep-tick", {}, {})
    told(client, operator_uid, report_id, ["escalated_2"])
    assert inbox(client, head_uid, report_id)[-1]["event"] == "escalated_1"  # level 2 goes past the head


def test_a_subscriber_of_bontorannu_is_told_of_a_new_report_there(client, citizen):
    tag = uuid.uuid4().hex[:8]
    _, token = citizen
    rina_uid, rina = client.sign_in(f"warga.langganan.{tag}@example.com")
    subscriptions = client.function_url("subscriptions")
    added = client.http.post(subscriptions, json={"kelurahan_id": "73.71.01.1001", "lang": "en"},
                             headers={"Authorization": f"Bearer {rina}"}, timeout=30)
    assert added.status_code == 201, added.text
    assert added.json()["kelurahan"] == "Bontorannu"
    listed = client.http.get(subscriptions, headers={"Authorization": f"Bearer {rina}"}, timeout=30).json()
    assert [s["subscription_id"] for s in listed["subscriptions"]] == [added.json()["subscription_id"]]
    lat, lon, _ = kelurahan_point("Bontorannu")
    taken = datetime.now(UTC) - timedelta(minutes=1)
    report_id = submit_with_photo(client, token, report_body(lat, lon, street="Jl. Landak Baru", taken_at=taken),
                                  fresh_photo(lat, lon, seed=uuid.uuid4().int, taken_at=taken))
    client.wait_report(report_id, lambda r: r["status"] == "routed")
    (message,) = told(client, rina_uid, report_id, ["new_in_area"])
    assert message["lang"] == "en" and "Bontorannu" in message["body"]
    assert citizen[0] not in str(message) and "Laporan uji end-to-end" not in str(message)
    removed = client.http.post(f"{subscriptions}remove", json={"subscription_id": added.json()["subscription_id"]},
                               headers={"Authorization": f"Bearer {rina}"}, timeout=30)
    assert removed.status_code == 200 and removed.json()["removed"] is True


def test_a_smart_rtrw_head_granted_with_the_cli_is_subscribed_to_their_kelurahan(client, capsys):
    from keluhan.cli import main as keluhan

    email = f"ketua.rw.{uuid.uuid4().hex[:6]}@example.com"
    uid, _ = client.sign_in(email)
    assert keluhan(["users", "grant", email, "--role", "warga", "--rtrw-head", "73.71.01.1001"]) == 0
    assert '"rtrw_head": "73.71.01.1001"' in capsys.readouterr().out
    default = client.db.document(f"subscriptions/{uid}/areas/rtrw_head").get().to_dict()
    assert default["kelurahan"] == "Bontorannu" and default["source"] == "rtrw_head"
    assert keluhan(["users", "grant", email, "--role", "warga", "--rtrw-head", "99.99.99.9999"]) == 2
    assert keluhan(["users", "revoke", email]) == 0
    assert not client.db.document(f"subscriptions/{uid}/areas/rtrw_head").get().exists


def test_the_inbox_stores_a_notices_messages_in_one_write_and_after_a_crash_half_way_the_rest(client):
    """The Firestore adapters on the emulator: a notice's messages go in one commit; when one of them
    is there already (a redelivery after a crash half-way), that one is kept as it was and the rest
    are stored one by one. The devices of many users come from one read of their indexes."""
    from keluhan.adapters.firestore_counting import CountingClient, OpCounter
    from keluhan.adapters.firestore_push import FirestoreDevices
    from keluhan.adapters.firestore_store import FirestoreInbox
    from keluhan.domain.notify import Message
    from keluhan.domain.push import Device

    tag = uuid.uuid4().hex[:8]
    now = datetime.now(UTC)

    def message(n: int, title: str = "Laporan ditugaskan / Report assigned") -> Message:
        return Message(message_id=f"rpt-{tag}-3-inbox-{n}", recipient=f"staff-{tag}-{n}", channel="inbox",
                       report_id=f"rpt-{tag}", seq=3, event="assigned", lang="id", title=title, body="…",
                       created_at=now)

    ops = OpCounter()
    inbox = FirestoreInbox(CountingClient(project=client.config.project, counter=ops))
    assert inbox.deliver([message(n) for n in range(4)]) == 4
    assert ops.snapshot()["commits"] == 1
    client.db.document(f"inbox/staff-{tag}-5/messages/rpt-{tag}-3-inbox-5").set(
        message(5, title="already there").to_doc())
    assert inbox.deliver([message(n) for n in range(4, 8)]) == 3  # 4, 6, 7: 5 was there
    for n in range(8):
        doc = client.db.document(f"inbox/staff-{tag}-{n}/messages/rpt-{tag}-3-inbox-{n}").get().to_dict()
        assert doc["title"] == ("already there" if n == 5 else "Laporan ditugaskan / Report assigned"), n
    assert inbox.deliver([message(n) for n in range(8)]) == 0

    devices = FirestoreDevices(client.db)
    for n in (1, 2):
        devices.register(f"staff-{tag}-{n}", Device(device_id=f"dev-{tag}-{n}", token=f"token-{tag}-{n}",
                                                    platform="android", lang="id", registered_at=now), keep=10)
    ops = OpCounter()
    found = FirestoreDevices(CountingClient(project=client.config.project, counter=ops)).of_many(
        [f"staff-{tag}-{n}" for n in range(6)])
    assert {uid: [d.token for d in mine] for uid, mine in found.items() if mine} == {
        f"staff-{tag}-1": [f"token-{tag}-1"], f"staff-{tag}-2": [f"token-{tag}-2"]}
    assert len(found) == 6 and ops.snapshot()["lookups"] == 2  # the indexes together, then the tokens
