"""support_report and comment_on_report through functions-framework test clients (issue 20)."""

from __future__ import annotations

import pytest

from keluhan.domain.report import submission_key
from tests.functions.test_act_on_report import _report
from tests.support.deps import fake_deps, function_client  # noqa: F401

SITI, ANDI, BUDI = "Bearer user:siti", "Bearer user:andi", "Bearer user:budi"
PU, DISHUB, OPERATOR = "Bearer skpd:dinas-pu:pu-staff", "Bearer skpd:dishub:dishub-staff", "Bearer operator:op1"


@pytest.fixture
def world(fake_deps):  # noqa: F811
    fake_deps.reports.docs = {"r1": _report("routed")}
    fake_deps.reports.submissions = {submission_key("siti", "client-0001"): {
        "report_id": "r1", "reporter_uid": "siti", "client_id": "client-0001"}}
    return fake_deps


def support(token, report_id="r1", *, undo=False):
    return function_client("support_report").post("/", json={"report_id": report_id, "undo": undo},
                                                   headers={"Authorization": token})


def comment(token, text, *, client_id, visibility="public", report_id="r1"):
    body = {"report_id": report_id, "client_id": client_id, "text": text, "visibility": visibility}
    return function_client("comment_on_report").post("/", json=body, headers={"Authorization": token})


def thread(token, report_id="r1"):
    return function_client("comment_on_report").get(f"/?report_id={report_id}", headers={"Authorization": token})


def test_a_resident_supports_once_and_withdraws_by_delete_or_undo(world):
    assert support(ANDI).get_json() == {"report_id": "r1", "supported": True, "supporters": 1, "status": "routed"}
    assert support(ANDI).get_json()["supporters"] == 1  # idempotent
    assert support(BUDI).get_json()["supporters"] == 2
    deleted = function_client("support_report").delete("/?report_id=r1", headers={"Authorization": ANDI})
    assert deleted.status_code == 200 and deleted.get_json()["supporters"] == 1
    assert support(BUDI, undo=True).get_json() == {"report_id": "r1", "supported": False, "supporters": 0,
                                                   "status": "routed"}
    assert "andi" not in str(world.reports.docs["r1"]) and world.reports.docs["r1"]["supporter_refs"] == []


def test_support_is_refused_for_ones_own_report_staff_hidden_and_closed_reports(world):
    assert support(SITI).status_code == 403
    assert support(PU).status_code == 403
    assert support(ANDI, "nope").status_code == 404
    world.reports.docs["r2"] = {**_report("awaiting_photo"), "report_id": "r2"}
    assert support(ANDI, "r2").status_code == 404  # not public yet: nothing revealed
    world.reports.docs["r3"] = {**_report("closed"), "report_id": "r3"}
    refused = support(ANDI, "r3")
    assert refused.status_code == 409 and refused.get_json()["error"]["status"] == "closed"
    assert function_client("support_report").delete("/?report_id=__x__",
                                                    headers={"Authorization": ANDI}).status_code == 400


def test_the_reporter_reads_only_public_comments_staff_read_internal_notes_too(world):
    assert comment(SITI, "Lubangnya makin besar / It is getting bigger", client_id="siti-0001").status_code == 201
    assert comment(PU, "Dijadwalkan besok / Scheduled tomorrow", client_id="pu-00001").status_code == 201
    assert comment(PU, "Aspal habis, tunggu anggaran", client_id="pu-00002", visibility="internal").status_code == 201
    seen_by_reporter = [c["text"] for c in thread(SITI).get_json()["comments"]]
    assert seen_by_reporter == ["Lubangnya makin besar / It is getting bigger", "Dijadwalkan besok / Scheduled tomorrow"]
    staff = thread(PU).get_json()["comments"]
    assert [c["visibility"] for c in staff] == ["public", "public", "internal"]
    assert [c["author"] for c in staff] == ["pelapor", "skpd:dinas-pu", "skpd:dinas-pu"]
    assert [c["mine"] for c in thread(SITI).get_json()["comments"]] == [True, False]
    assert "siti" not in thread(PU).get_data(as_text=True)
    # The staff reply is a timeline entry the reporter is told of; the internal note is not.
    assert [e.get("event") for e in world.reports.docs["r1"]["timeline"]] == ["staff_reply"]
    assert world.publish.topics().count("report-status-changed") == 1


def test_a_citizen_cannot_write_an_internal_note_or_join_a_thread_they_are_not_in(world):
    refused = comment(SITI, "rahasia", client_id="siti-0002", visibility="internal")
    assert refused.status_code == 403
    assert comment(ANDI, "Saya juga / Me too", client_id="andi-0001").status_code == 404
    assert support(ANDI).status_code == 200  # a supporter joins the thread
    assert comment(ANDI, "Saya juga / Me too", client_id="andi-0001").status_code == 201
    assert comment(DISHUB, "Bukan kami", client_id="dishub-01").status_code == 403


@pytest.mark.parametrize(("text", "field"), [
    ("x" * 1001, "text"),
    ("Lihat \u202eini", "text"),          # a bidi override (Trojan Source)
    ("bel\x07", "text"),                   # a control character
    ("", "text"),
])
def test_bad_comment_text_is_a_422_naming_the_field(world, text, field):
    response = comment(SITI, text, client_id="siti-0003")
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == field


def test_a_retry_posts_once_and_other_words_under_the_same_client_id_are_a_conflict(world):
    assert comment(SITI, "Halo", client_id="siti-0004").status_code == 201
    assert comment(SITI, "Halo", client_id="siti-0004").status_code == 200
    conflict = comment(SITI, "Halo lagi", client_id="siti-0004")
    assert conflict.status_code == 409 and conflict.get_json()["error"]["field"] == "client_id"
    assert len(world.comments.docs) == 1


def test_comments_are_rate_limited_per_author(world, monkeypatch):
    monkeypatch.setitem(world.__dict__, "settings", world.settings.model_copy(update={"comment_per_hour": 3}))
    for n in range(3):
        assert comment(SITI, f"Komentar {n}", client_id=f"siti-r{n:04d}").status_code == 201
    limited = comment(SITI, "Satu lagi", client_id="siti-r0009")
    assert limited.status_code == 429 and limited.headers["Retry-After"]
    assert limited.get_json()["error"]["window"] == "hour"
    assert comment(PU, "Staff are counted apart", client_id="pu-r0001").status_code == 201


def test_an_operator_hides_a_comment_with_a_reason_and_citizens_no_longer_read_it(world):
    posted = comment(SITI, "Kata kasar", client_id="siti-0005").get_json()["comment"]
    body = {"report_id": "r1", "action": "hide", "comment_id": posted["comment_id"], "reason": "Kasar / Abusive"}
    client = function_client("comment_on_report")
    assert client.post("/", json=body, headers={"Authorization": PU}).status_code == 403
    hidden = client.post("/", json=body, headers={"Authorization": OPERATOR})
    assert hidden.status_code == 200 and hidden.get_json()["comment"]["hidden_reason"] == "Kasar / Abusive"
    assert thread(SITI).get_json()["comments"] == []
    staff_view = thread(PU).get_json()["comments"][0]
    assert staff_view["hidden"] and staff_view["text"] is None
    assert thread(OPERATOR).get_json()["comments"][0]["text"] == "Kata kasar"
    missing = client.post("/", json={**body, "comment_id": "nope"}, headers={"Authorization": OPERATOR})
    assert missing.status_code == 422 and missing.get_json()["error"]["field"] == "comment_id"
