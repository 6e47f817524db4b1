"""photo_links through a functions-framework test client: signed links for the assignee's staff and
operators, of the EXIF-free derivatives only, short-lived."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from keluhan import bootstrap
from tests.functions.test_act_on_report import _report
from tests.support.deps import function_client, make_fake_deps

PU = {"Authorization": "Bearer skpd:dinas-pu:pu-staff"}
DISHUB = {"Authorization": "Bearer skpd:dishub:dishub-staff"}
OPERATOR = {"Authorization": "Bearer operator:op1"}


def _deps(monkeypatch, status="routed", **fields):
    deps = make_fake_deps()
    doc = _report(status)
    doc["photo"] |= {"object": "incoming/r1/photo", "clean_object": "derived/r1/7/photo.jpg",
                     "thumbnail_object": "derived/r1/7/thumb.jpg"}
    deps.reports.docs = {"r1": doc | fields}
    monkeypatch.setattr(bootstrap, "get_deps", lambda: deps)
    return deps


def test_the_assignees_staff_get_short_lived_links_of_the_clean_photo_and_thumbnail(monkeypatch):
    _deps(monkeypatch)
    before = datetime.now(UTC)
    response = function_client("photo_links").get("/?report_id=r1", headers=PU)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-store"
    links = response.get_json()
    assert [link["kind"] for link in links] == ["photo", "thumbnail"]
    assert [link["url"].split("?")[0] for link in links] == ["https://storage.test/derived/r1/7/photo.jpg",
                                                             "https://storage.test/derived/r1/7/thumb.jpg"]
    for link in links:
        expires = datetime.fromisoformat(link["expires_at"])
        assert before < expires <= datetime.now(UTC) + timedelta(minutes=15)
    assert "incoming/" not in response.get_data(as_text=True)  # the original never leaves the bucket


def test_an_accepted_proof_is_linked_too_for_operators(monkeypatch):
    proof = {"attempt": 1, "object": "resolution/r1/1", "verdict": "accepted",
             "clean_object": "derived/r1/resolution/1/3/photo.jpg",
             "thumbnail_object": "derived/r1/resolution/1/3/thumb.jpg"}
    _deps(monkeypatch, "resolved", resolution=proof)
    links = function_client("photo_links").get("/?report_id=r1", headers=OPERATOR).get_json()
    assert [link["kind"] for link in links] == ["photo", "thumbnail", "proof", "proof_thumbnail"]
    assert links[2]["url"].startswith("https://storage.test/derived/r1/resolution/1/3/photo.jpg")


def test_a_report_handed_to_another_skpd_is_no_longer_the_old_ones(monkeypatch):
    _deps(monkeypatch, assignee="dishub")
    client = function_client("photo_links")
    refused = client.get("/?report_id=r1", headers=PU)
    assert refused.status_code == 403 and refused.get_json()["error"]["field"] == "report_id"
    assert client.get("/?report_id=r1", headers=DISHUB).status_code == 200


def test_a_report_without_derivatives_has_no_links_and_bad_ids_are_named(monkeypatch):
    deps = _deps(monkeypatch)
    deps.reports.docs["r1"]["photo"] = {"required": True, "object": "incoming/r1/photo"}  # not verified yet
    client = function_client("photo_links")
    assert client.get("/?report_id=r1", headers=PU).get_json() == []
    bad = client.get("/?report_id=../x", headers=PU)
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "report_id"
    assert client.get("/?report_id=nope", headers=PU).status_code == 404
    assert client.get("/?report_id=r1").status_code == 401
