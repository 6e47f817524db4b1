"""open311 (GeoReport v2) through a functions-framework test client, every answer schema-checked."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest

from keluhan import bootstrap
from keluhan.domain import open311 as georeport_v2
from keluhan.domain.open311 import key_hash
from keluhan.topology import FUNCTION_BY_NAME
from tests.support.deps import fake_deps, function_client  # noqa: F401
from tests.support.georeport import assert_valid

KEY = "o311_test-key-call-center"
SODARATA_KEY = "o311_test-key-sodarata"
REVOKED_KEY = "o311_test-key-revoked"
POST = {"service_code": "jalan_rusak", "lat": "-5.1477", "long": "119.4327",
        "description": "Lubang besar di depan pasar", "api_key": KEY}


@pytest.fixture
def client(fake_deps):  # noqa: F811
    now = datetime.now(UTC)
    fake_deps.open311_keys.records = {
        key_hash(KEY): {"channel": "call_center_112", "name": "CRM 112", "created_at": now, "revoked": False},
        key_hash(SODARATA_KEY): {"channel": "sodarata", "name": "Sodarata'", "created_at": now, "revoked": False},
        key_hash(REVOKED_KEY): {"channel": "call_center_112", "name": "old", "created_at": now, "revoked": True},
    }
    return function_client("open311")


def _errors(response, status: int) -> list[dict]:
    assert response.status_code == status, response.data[:300]
    body = response.get_json()
    assert_valid("errors", body)
    assert body[0]["code"] == status
    return body


def test_services_are_the_catalogue(client):
    response = client.get("/services.json")
    assert response.status_code == 200
    assert_valid("services.json", response.get_json())
    assert {s["service_code"] for s in response.get_json()} >= {"jalan_rusak", "banjir", "sampah"}


def test_a_service_definition_and_an_unknown_service(client):
    response = client.get("/services/sampah.json")
    assert response.status_code == 200
    assert_valid("service-definition.json", response.get_json())
    _errors(client.get("/services/tidak_ada.json"), 404)


def test_a_form_post_by_call_center_112_goes_through_the_submission_use_case(client, fake_deps):  # noqa: F811
    response = client.post("/requests.json", data=POST)
    assert response.status_code == 201, response.data
    [answer] = response.get_json()
    report = fake_deps.reports.docs[answer["service_request_id"]]
    assert answer["token"] == report["report_id"] and "upload" not in answer  # 112 has no camera
    assert report["channel"] == "call_center_112" and report["status"] == "received"
    assert report["point"] == {"lat": -5.1477, "lon": 119.4327, "accuracy_m": 50.0}
    assert KEY not in json.dumps(report, default=str)
    assert fake_deps.publish.stage_topics() == ["report-accepted"]


def test_a_retry_of_the_same_request_is_the_same_report(client, fake_deps):  # noqa: F811
    first = client.post("/requests.json", data=POST).get_json()[0]
    again = client.post("/requests.json", data=POST)
    assert again.status_code == 200 and again.get_json()[0]["service_request_id"] == first["service_request_id"]
    assert len(fake_deps.reports.docs) == 1


def test_a_channel_request_id_is_the_idempotency_key(client, fake_deps):  # noqa: F811
    body = {**POST, "attribute[client_request_id]": "cc112-0000001"}
    first = client.post("/requests.json", data=body).get_json()[0]
    _errors(client.post("/requests.json", data={**body, "description": "lain"}), 409)
    assert len(fake_deps.reports.docs) == 1 and first["service_request_id"] in fake_deps.reports.docs


def test_a_json_post_from_a_camera_channel_gets_the_photo_upload_url(client, fake_deps):  # noqa: F811
    response = client.post("/requests.json", json={**POST, "api_key": SODARATA_KEY, "lat": -5.1477,
                                                   "long": 119.4327})
    assert response.status_code == 201, response.data
    [answer] = response.get_json()
    assert answer["upload"]["method"] == "PUT"
    assert fake_deps.reports.docs[answer["service_request_id"]]["status"] == "awaiting_photo"


@pytest.mark.parametrize("api_key", [None, "", "o311_wrong", REVOKED_KEY])
def test_a_missing_unknown_or_revoked_api_key_is_403(client, fake_deps, api_key):  # noqa: F811
    body = {k: v for k, v in {**POST, "api_key": api_key}.items() if v is not None}
    _errors(client.post("/requests.json", data=body), 403)
    assert fake_deps.reports.docs == {}


def test_a_bearer_token_is_no_api_key(client, fake_deps):  # noqa: F811
    body = {k: v for k, v in POST.items() if k != "api_key"}
    headers = {"Authorization": "Bearer channel:call_center_112:cc-service"}
    _errors(client.post("/requests.json", data=body, headers=headers), 403)


@pytest.mark.parametrize(("change", "field"), [
    ({"service_code": "nope"}, "service_code"), ({"lat": "utara"}, "lat"), ({"description": ""}, "description"),
    ({"long": "1e9"}, "long"),
])
def test_a_bad_field_is_400_naming_it(client, fake_deps, change, field):  # noqa: F811
    errors = _errors(client.post("/requests.json", data={**POST, **change}), 400)
    assert errors[0]["description"].startswith(field)
    assert fake_deps.reports.docs == {}


def test_a_body_that_is_neither_form_nor_json_is_400(client):
    _errors(client.post("/requests.json", data="<xml/>", content_type="text/xml"), 400)
    _errors(client.post("/requests.json", data="[1]", content_type="application/json"), 400)
    _errors(client.post("/requests.json", data="{", content_type="application/json"), 400)


def test_the_channel_quota_is_429_with_retry_after(client, fake_deps, monkeypatch):  # noqa: F811
    from keluhan.bootstrap import Deps
    from keluhan.domain.quota import Limits
    from keluhan.usecases.submission import QuotaPolicy

    monkeypatch.setattr(Deps, "quota_policy", lambda self: QuotaPolicy(citizen=Limits(1, 1), service=Limits(1, 1)))
    client.post("/requests.json", data=POST)
    response = client.post("/requests.json", data={**POST, "description": "Lubang kedua"})
    _errors(response, 429)
    assert int(response.headers["Retry-After"]) >= 1


def test_a_posted_request_reads_back_by_id_token_and_list(client, fake_deps):  # noqa: F811
    report_id = client.post("/requests.json", data=POST).get_json()[0]["service_request_id"]
    one = client.get(f"/requests/{report_id}.json")
    assert one.status_code == 200
    assert_valid("requests.json", one.get_json())
    assert one.get_json()[0]["service_request_id"] == report_id and one.get_json()[0]["status"] == "open"
    token = client.get(f"/tokens/{report_id}.json").get_json()
    assert token == [{"service_request_id": report_id, "token": report_id}]
    listed = client.get("/requests.json", query_string={"service_request_id": f"{report_id},unknown1"})
    assert [r["service_request_id"] for r in listed.get_json()] == [report_id]
    everything = client.get("/requests.json")
    assert_valid("requests.json", everything.get_json())
    assert [r["service_request_id"] for r in everything.get_json()] == [report_id]


def test_unknown_requests_and_tokens_are_404(client):
    _errors(client.get("/requests/nope.json"), 404)
    _errors(client.get("/tokens/nope.json"), 404)
    _errors(client.get("/nothing-here"), 404)


def _stored(fake_deps, n: int, *, status="routed", category="jalan_rusak", age=timedelta(hours=1),  # noqa: F811
            prefix=""):
    now = datetime.now(UTC)
    for i in range(n):
        rid = f"{prefix}{status}-{category}-{i:03d}"
        fake_deps.reports.docs[rid] = {
            "report_id": rid, "reporter_ref": "x" * 64, "category": category, "description": "d",
            "point": {"lat": -5.14, "lon": 119.41, "accuracy_m": 5}, "received_at": now - age - timedelta(minutes=i),
            "status": status, "status_changed_at": now, "timeline": []}


def test_the_list_filters_by_code_status_and_dates_and_pages(client, fake_deps):  # noqa: F811
    _stored(fake_deps, 3)
    _stored(fake_deps, 2, category="sampah", status="closed")
    _stored(fake_deps, 1, status="awaiting_photo")  # not listed before its photo
    _stored(fake_deps, 1, age=timedelta(days=100), prefix="old-")  # outside the default 90 days

    def ids(**params):
        response = client.get("/requests.json", query_string=params)
        assert response.status_code == 200, response.data
        assert_valid("requests.json", response.get_json())
        return [r["service_request_id"] for r in response.get_json()]

    assert len(ids()) == 5
    assert ids(service_code="sampah") == ["closed-sampah-000", "closed-sampah-001"]
    assert ids(status="open") == ["routed-jalan_rusak-000", "routed-jalan_rusak-001", "routed-jalan_rusak-002"]
    assert ids(status="open", page_size="2", page="2") == ["routed-jalan_rusak-002"]
    start = (datetime.now(UTC) - timedelta(days=120)).isoformat()
    end = (datetime.now(UTC) - timedelta(days=50)).isoformat()
    assert ids(start_date=start, end_date=end) == ["old-routed-jalan_rusak-000"]


@pytest.mark.parametrize("params", [{"page_size": "500"}, {"status": "pending"}, {"start_date": "kemarin"},
                                    {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-12-01T00:00:00Z"},
                                    {"service_request_id": "a/b"}])
def test_bad_list_filters_are_400(client, params):
    _errors(client.get("/requests.json", query_string=params), 400)


def test_xml_is_served_for_the_xml_suffix(client):
    response = client.get("/services.xml")
    assert response.status_code == 200 and response.mimetype == "text/xml"
    assert response.data.startswith(b'<?xml version="1.0" encoding="utf-8"?><services><service>')
    error = client.get("/services/nope.xml")
    assert error.status_code == 404 and b"<errors><error><code>404</code>" in error.data


def test_other_methods_are_405(client):
    _errors(client.delete("/requests.json"), 405)
    _errors(client.post("/services.json"), 405)


def test_a_failing_store_is_503_never_500(client, fake_deps, monkeypatch):  # noqa: F811
    def down(report_id):
        raise RuntimeError("firestore down")

    monkeypatch.setattr(fake_deps.reports, "get", down)
    response = client.get("/requests/r1.json")
    _errors(response, 503)


def test_a_body_over_the_limit_is_413_without_storing_anything(client, fake_deps):  # noqa: F811
    big = {**POST, "description": "x" * (fake_deps.settings.max_body_bytes + 10)}
    _errors(client.post("/requests.json", data=big), 413)
    assert fake_deps.reports.docs == {}


# --- issue 23: anonymous reads that cost ------------------------------------------------------
def test_open311_list_reads_at_most_page_size_plus_constant(client, fake_deps):  # noqa: F811
    """5,000 reports: each call reads (as Firestore bills) at most page_size + 1 reports, the
    pages walked by cursor cover the newest in order, and `page` skips at most MAX_SKIPPED."""
    _stored(fake_deps, 2500)
    _stored(fake_deps, 2500, category="sampah", status="closed")
    reports = fake_deps.reports

    def page(**params):
        before = reports.reads
        response = client.get("/requests.json", query_string=params,
                              headers={"X-Forwarded-For": "203.0.113.50"})
        assert response.status_code == 200, response.data
        return response, reports.reads - before

    seen, cursor = [], None
    for _ in range(3):
        response, reads = page(page_size=20, status="open", **({"cursor": cursor} if cursor else {}))
        assert reads <= 20 + 1
        seen += [r["service_request_id"] for r in response.get_json()]
        cursor = response.headers["X-Next-Cursor"]
    assert seen == [f"routed-jalan_rusak-{i:03d}" for i in range(60)]
    response, reads = page(page_size=200, service_code="sampah")
    assert reads <= 200 + 1 and len(response.get_json()) == 200
    response, reads = page(page_size=50, page=3)
    assert reads <= 50 + georeport_v2.MAX_SKIPPED + 1 and len(response.get_json()) == 50
    _errors(client.get("/requests.json", query_string={"page_size": 50, "page": 4}), 400)  # use the cursor
    _errors(client.get("/requests.json", query_string={"cursor": "bm90IGEgY3Vyc29y"}), 400)


def test_open311_post_checks_api_key_with_a_bounded_form_parser(client, fake_deps):  # noqa: F811
    """No 2 MiB of fields parsed for an anonymous post: a body past 32 KiB or 40 fields is refused
    before any parsing or key lookup."""
    big = {"description": "x" * (40 * 1024)}
    _errors(client.post("/requests.json", data=big), 413)
    many = {f"f{i}": "1" for i in range(200)}
    _errors(client.post("/requests.json", data=many), 400)
    _errors(client.post("/requests.json", json={f"f{i}": 1 for i in range(200)}), 400)
    _errors(client.post("/requests.json", data={k: v for k, v in POST.items() if k != "api_key"}), 403)
    assert client.post("/requests.json", data=POST).status_code == 201


def test_open311_public_reads_are_cached_briefly_and_rate_limited(client, fake_deps, monkeypatch):  # noqa: F811
    slow = dataclasses.replace(fake_deps, settings=fake_deps.settings.model_copy(
        update={"open311_reads_per_minute": 1.0, "open311_read_burst": 3}))
    slow.__dict__["photos"] = fake_deps.photos  # the fake photo store (media_url links), as make_fake_deps sets it
    monkeypatch.setattr(bootstrap, "get_deps", lambda: slow)
    _stored(fake_deps, 1)
    crowd = {"X-Forwarded-For": "198.51.100.7, 203.0.113.9"}  # the last hop is who asks
    answers = [client.get("/requests.json", headers=crowd) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["Cache-Control"] == "public, max-age=30"
    assert int(answers[3].headers["Retry-After"]) >= 1
    other = client.get("/requests/routed-jalan_rusak-000.json", headers={"X-Forwarded-For": "203.0.113.10"})
    assert other.status_code == 200 and other.headers["Cache-Control"] == "public, max-age=30"


def test_channel_intake_is_not_starved_by_public_reads_on_a_function_of_its_own(client, fake_deps):  # noqa: F811
    """Public reads and the channels' posts were one function: with concurrency 1, ~20 anonymous
    reads took all 20 instances and Call Center 112's posts waited. A function's instances are
    shared by every path, so the channels post to open311_intake: the same code deployed as its own
    function (service, instances, account), serving the catalogue and posts and no reads."""
    intake = FUNCTION_BY_NAME["open311_intake"]
    assert intake.source_dir == "open311" and intake.trigger == "http"
    assert intake.publishes == FUNCTION_BY_NAME["open311"].publishes
    channel = function_client("open311_intake")
    assert_valid("services.json", channel.get("/services.json").get_json())
    posted = channel.post("/requests.json", data=POST)
    assert posted.status_code == 201, posted.data
    [answer] = posted.get_json()
    report_id = answer["service_request_id"]
    assert fake_deps.reports.docs[report_id]["channel"] == "call_center_112"
    assert channel.post("/requests.json", data=POST).get_json()[0]["service_request_id"] == report_id
    # No public read runs there, so none can take its instances; they stay open311's, as before.
    _errors(channel.get("/requests.json"), 405)
    _errors(channel.get(f"/requests/{report_id}.json"), 404)
    _errors(channel.get(f"/tokens/{report_id}.json"), 404)
    _errors(channel.post("/requests.json", data={k: v for k, v in POST.items() if k != "api_key"}), 403)
    assert client.get(f"/requests/{report_id}.json").get_json()[0]["service_request_id"] == report_id
    assert [r["service_request_id"] for r in client.get("/requests.json").get_json()] == [report_id]
    assert client.post("/requests.json", data={**POST, "description": "Lewat alamat lama"}).status_code == 201
