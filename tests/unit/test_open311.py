"""The Open311 GeoReport v2 mapping: services from the catalogue, the public view of a report."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from keluhan.domain import open311
from keluhan.domain.catalogue import CATEGORIES
from keluhan.domain.report import Status
from tests.support.georeport import assert_valid

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def _report(**changes) -> dict:
    report = {
        "report_id": "r1", "reporter_ref": "f" * 64, "channel": "warga", "category": "jalan_rusak",
        "description": "Lubang besar di depan pasar", "point": {"lat": -5.147665, "lon": 119.432731, "accuracy_m": 5},
        "street": "Jl. Rumah Saya No. 7", "received_at": NOW - timedelta(days=2), "status": "routed",
        "status_changed_at": NOW - timedelta(days=1),
        "photo": {"required": True, "verdict": "accepted", "object": "incoming/r1/photo",
                  "clean_object": "derived/r1/clean.jpg"},
        "location": {"kelurahan": "Bontoala", "kode_kelurahan": "73.71.11.1001", "kecamatan": "Bontoala",
                     "inside_city": True, "road": {"name": "Jl. Sulawesi", "status": "kota", "source": "layer"}},
        "routing": {"assignee": "dinas-pu", "assignee_name": "Dinas Pekerjaan Umum", "kind": "skpd"},
        "sla": {"due_at": NOW + timedelta(days=5)},
        "timeline": [{"status": "received", "at": NOW, "by": "reporter", "note": "", "action": "submit"},
                     {"status": "routed", "at": NOW, "by": "route_report", "note": "Aturan jalan kota / city road rule",
                      "action": "route"}],
    }
    return report | changes


def test_every_catalogue_category_is_a_valid_service_with_its_indonesian_name():
    services = open311.services()
    assert_valid("services.json", services)
    assert [s["service_code"] for s in services] == list(CATEGORIES)
    pothole = next(s for s in services if s["service_code"] == "jalan_rusak")
    assert pothole["service_name"] == "Jalan rusak" and pothole["description"].startswith("Damaged road")


def test_a_service_definition_exists_only_for_known_codes():
    assert_valid("service-definition.json", open311.service_definition("sampah"))
    assert open311.service_definition("tidak_ada") is None


@pytest.mark.parametrize(("status", "public"), [
    ("received", "open"), ("awaiting_photo", "open"), ("routed", "open"), ("forwarded", "open"),
    ("reopened", "open"), ("triage", "open"), ("resolved", "closed"), ("closed", "closed"),
    ("rejected", "closed"), ("duplicate", "closed"), ("photo_expired", "closed"), ("photo_rejected", "closed"),
])
def test_workflow_statuses_map_to_open_or_closed(status, public):
    assert open311.public_status(status) == public


def test_every_status_is_either_open_or_closed():
    assert open311.statuses_of("open") | open311.statuses_of("closed") == frozenset(Status)
    assert not open311.statuses_of("open") & open311.statuses_of("closed")


def test_the_public_view_is_a_valid_request_without_who_reported_or_the_photo_path():
    view = open311.request_view(_report())
    assert_valid("request.json", view)
    text = json.dumps(view)
    for secret in ("reporter_ref", "ffffffff", "incoming/", "derived/", "Rumah Saya", "siti"):
        assert secret not in text
    assert view == view | {
        "service_request_id": "r1", "status": "open", "service_code": "jalan_rusak", "service_name": "Jalan rusak",
        "agency_responsible": "Dinas Pekerjaan Umum", "status_notes": "Aturan jalan kota / city road rule",
        "requested_datetime": "2026-11-28T02:00:00Z", "updated_datetime": "2026-11-29T02:00:00Z",
        "expected_datetime": "2026-12-05T02:00:00Z",
        "address": "Jl. Sulawesi, Kel. Bontoala, Kec. Bontoala, Kota Makassar", "address_id": "73.71.11.1001",
        "lat": -5.147665, "long": 119.432731}


def test_a_private_category_shows_its_point_rounded_to_about_110_m():
    view = open311.request_view(_report(category="bangunan_liar"))
    assert (view["lat"], view["long"]) == (-5.148, 119.433)
    assert CATEGORIES["bangunan_liar"].point_private and not CATEGORIES["jalan_rusak"].point_private


def test_a_closed_request_has_no_expected_time_and_its_last_reason_as_notes():
    view = open311.request_view(_report(status="rejected", timeline=[
        {"status": "rejected", "at": NOW, "note": "Bukan masalah / Not a problem — sudah diperbaiki",
         "action": "reject"}]))
    assert view["status"] == "closed" and view["expected_datetime"] is None
    assert view["status_notes"] == "Bukan masalah / Not a problem — sudah diperbaiki"


def test_a_report_not_yet_located_or_routed_still_is_a_valid_request():
    view = open311.request_view(_report(status="received", location=None, routing=None, sla=None, timeline=[]))
    assert_valid("requests.json", [view])
    assert view["address"] is None and view["agency_responsible"] is None and view["status_notes"] is None


def test_a_point_outside_the_city_names_its_regency():
    location = {"kelurahan": None, "inside_city": False, "outside_region": "Kabupaten Gowa"}
    assert open311.address(location) == "Kabupaten Gowa"


def test_a_posted_request_becomes_the_same_submission_as_the_channel():
    posted = open311.PostRequest.model_validate({
        "service_code": "banjir", "lat": "-5.135", "long": "119.42", "description": "Banjir setinggi lutut",
        "attribute[client_request_id]": "cc112-000123", "email": "warga@example.test", "media_url": "http://x/y.jpg"})
    cmd = posted.to_submission(channel="call_center_112", fallback_client_id="unused-fallback")
    assert (cmd.client_id, cmd.category, cmd.lat, cmd.lon, cmd.channel) == (
        "cc112-000123", "banjir", -5.135, 119.42, "call_center_112")
    assert "warga@example.test" not in cmd.model_dump_json()


@pytest.mark.parametrize(("fields", "bad"), [
    ({"service_code": "nope"}, "service_code"), ({"lat": "x"}, "lat"), ({"long": "200"}, "long"),
    ({"description": ""}, "description"),
])
def test_a_bad_posted_field_is_named(fields, bad):
    good = {"service_code": "banjir", "lat": "-5.1", "long": "119.4", "description": "Banjir"}
    with pytest.raises(ValidationError) as info:
        open311.PostRequest.model_validate(good | fields)
    assert bad in {e["loc"][0] for e in info.value.errors()}


def test_a_query_defaults_to_the_last_90_days_and_refuses_longer_ranges():
    query = open311.RequestQuery.model_validate({})
    assert query.window(NOW) == (NOW - timedelta(days=90), NOW)
    long = open311.RequestQuery.model_validate({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"})
    with pytest.raises(ValueError, match="90"):
        long.window(NOW)


def test_a_query_takes_comma_lists_and_bounds_its_page_size():
    query = open311.RequestQuery.model_validate({"service_code": "banjir,sampah", "status": "closed",
                                                 "service_request_id": "a1,b2"})
    assert query.service_code == ["banjir", "sampah"] and query.service_request_id == ["a1", "b2"]
    assert Status.CLOSED in query.statuses() and Status.PHOTO_EXPIRED not in query.statuses()
    for bad in ({"page_size": "1000"}, {"page": "0"}, {"status": "pending"}, {"service_code": "nope"}):
        with pytest.raises(ValidationError):
            open311.RequestQuery.model_validate(bad)


def test_xml_answers_escape_text():
    xml = open311.to_xml("service_requests", "request", [{"service_request_id": "r1", "description": "<b>&",
                                                          "lat": None}])
    assert "<request><service_request_id>r1</service_request_id><description>&lt;b&gt;&amp;</description>" in xml
    assert "<lat/>" in xml


def test_an_api_key_is_stored_only_as_its_hash():
    digest = open311.key_hash("o311_secret")
    assert len(digest) == 64 and "o311_secret" not in digest
    assert open311.key_identity(digest).startswith("open311:")


def test_a_service_definition_in_xml_is_one_object():
    xml = open311.to_xml_object("service_definition", {"service_code": "sampah", "attributes": []})
    assert xml.endswith("<service_definition><service_code>sampah</service_code><attributes></attributes>"
                        "</service_definition>")


def test_the_range_must_run_forward():
    query = open311.RequestQuery.model_validate({"start_date": "2026-11-02T00:00:00Z", "end_date": "2026-11-01T00:00:00Z"})
    with pytest.raises(open311.BadRange):
        query.window(NOW)


def _untagged(*, report_id: str, status: str = "routed") -> dict:
    """A report document as stored before the Open311 listing tags existed."""
    return {"report_id": report_id, "reporter_ref": "x" * 64, "category": "jalan_rusak", "description": "Lubang",
            "point": {"lat": -5.14, "lon": 119.41, "accuracy_m": 5}, "received_at": NOW - timedelta(days=2),
            "status": status, "status_changed_at": NOW - timedelta(days=1), "timeline": []}


def test_reports_stored_before_the_listing_tags_are_backfilled_once_batch_by_batch():
    """Reports stored before `open311_listing` existed lack it and never appear in the paged public
    list: the backfill gives each the tags of its status (the mutations' own `listing`), writes only
    those that differ, and a second run writes nothing."""
    from keluhan.usecases.open311 import backfill_listing
    from tests.support.fakes import FakeReports

    class Reports(FakeReports):
        writes = 0

        def mutate(self, report_id, mutation):
            before = dict(self.docs.get(report_id) or {})
            after = super().mutate(report_id, mutation)
            self.writes += self.docs.get(report_id) != before
            return after

    reports = Reports()
    statuses = ["routed", "closed", "awaiting_photo", "resolved", "in_moderation", "forwarded", "rejected"]
    for i, status in enumerate(statuses * 3):  # 21 reports: a third untagged, a third stale, a third right
        report = _untagged(report_id=f"r{i:02d}", status=status)
        if i % 3 == 1:
            report[open311.LISTING_FIELD] = ["any", "open"] if status == "closed" else []
        elif i % 3 == 2:
            report[open311.LISTING_FIELD] = open311.listing(status)
        reports.docs[report["report_id"]] = report
    wrong = sum(1 for d in reports.docs.values() if d.get(open311.LISTING_FIELD) != open311.listing(d["status"]))

    dry = backfill_listing(reports=reports, batch_size=5, dry_run=True)
    assert (dry.scanned, dry.written, reports.writes) == (21, wrong, 0)
    done = backfill_listing(reports=reports, batch_size=5)
    assert (done.scanned, done.written, done.unchanged, done.batches) == (21, wrong, 21 - wrong, 5)
    assert reports.writes == wrong
    assert all(d[open311.LISTING_FIELD] == open311.listing(d["status"]) for d in reports.docs.values())
    assert {d["report_id"] for d in reports.docs.values() if "open" in d[open311.LISTING_FIELD]} == {
        d["report_id"] for d in reports.docs.values() if d["status"] in ("routed", "forwarded")}
    again = backfill_listing(reports=reports, batch_size=5)
    assert (again.written, again.unchanged, reports.writes) == (0, 21, wrong)


def test_the_listing_backfill_keeps_the_tags_of_a_status_changed_while_it_ran():
    from keluhan.usecases.open311 import backfill_listing
    from tests.support.fakes import FakeReports

    class Racing(FakeReports):
        def all(self):  # as each untagged report is read, an SKPD closes it, or it is deleted
            for report in list(super().all()):
                yield report
                if report.report_id == "r1":
                    self.docs["r1"] |= {"status": "closed", open311.LISTING_FIELD: open311.listing("closed")}
                else:
                    del self.docs[report.report_id]

    reports = Racing()
    reports.docs = {"r1": _untagged(report_id="r1"), "r2": _untagged(report_id="r2"), "r3": _untagged(report_id="r3")}
    reports.docs["r3"]["status"] = "closed"
    done = backfill_listing(reports=reports)
    assert reports.docs["r1"][open311.LISTING_FIELD] == ["any", "closed"]  # not the "open" read before
    assert (done.scanned, done.written, done.unchanged, done.gone) == (3, 0, 1, 2)

    reports = FakeReports()  # the same without the race: r1 is tagged by the backfill
    reports.docs = {"r1": _untagged(report_id="r1")}
    done = backfill_listing(reports=reports)
    assert (done.written, reports.docs["r1"][open311.LISTING_FIELD]) == (1, ["any", "open"])
