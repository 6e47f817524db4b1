"""Open311 GeoReport v2 on the emulator stack, driven by civicbot's GeoReport client (a library
nobody here wrote): list the services, post a request with an api key, read it back."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from civicbot import Endpoint, HttpError, Open311Client

from keluhan.cli import main as keluhan
from keluhan.devstack.seed import DEMO_OPEN311_KEY
from tests.support.georeport import assert_valid
from tests.support.places import kelurahan_point


@pytest.fixture(scope="module")
def georeport(client) -> Open311Client:
    endpoint = Endpoint(id="keluhan-makassar", name="Keluhan Kota Makassar",
                        base_url=client.function_url("open311").rstrip("/"), write=True)
    return Open311Client(endpoint)


def _post(georeport: Open311Client, api_key: str, **fields):
    lat, lon, _ = kelurahan_point("Bontorannu")
    prepared = georeport.create_request(
        fields.pop("service_code", "jalan_rusak"), lat=lat, lng=lon, api_key=api_key, dry_run=False,
        confirm="SEND", validate_remote=True,
        description=fields.pop("description", f"Lubang besar, penelepon 112 ({uuid.uuid4().hex[:6]})"), **fields)
    return prepared.response


def test_a_third_party_client_lists_services_posts_a_request_and_reads_it_back(client, georeport):
    services = georeport.list_services()
    assert_valid("services.json", services)
    assert {"jalan_rusak", "banjir", "sampah"} <= {s["service_code"] for s in services}

    [answer] = _post(georeport, DEMO_OPEN311_KEY)  # the key `keluhan dev up` seeds, Call Center 112
    report_id = answer["service_request_id"]
    assert "upload" not in answer  # Call Center 112 has no camera
    stored = client.wait_report(report_id)
    assert stored["channel"] == "call_center_112" and stored["status"] == "routed"

    request = georeport.get_request(report_id)
    assert_valid("request.json", request)
    assert request["status"] == "open" and request["service_code"] == "jalan_rusak"
    assert request["agency_responsible"] and "Kel. Bontorannu" in request["address"]
    assert request["expected_datetime"] is not None
    assert "reporter_ref" not in request and DEMO_OPEN311_KEY not in str(request)

    assert georeport.get_token(answer["token"]) == [{"service_request_id": report_id, "token": report_id}]
    listed = georeport.list_requests(service_request_ids=[report_id])
    assert_valid("requests.json", listed)
    assert [r["service_request_id"] for r in listed] == [report_id]
    recent = georeport.list_requests(service_code="jalan_rusak", status="open", page_size=200)
    assert report_id in {r["service_request_id"] for r in recent}  # the Firestore query, with its index


def test_a_key_issued_by_the_cli_posts_until_it_is_revoked(client, georeport, capsys):
    config = ["--config", str(client.config.path)]
    assert keluhan(["open311", "key", "issue", "--channel", "sodarata", "--name", "e2e", *config]) == 0
    api_key = capsys.readouterr().out.strip()
    [answer] = _post(georeport, api_key, service_code="sampah", description="Sampah menumpuk di pasar")
    assert answer["upload"]["method"] == "PUT"  # Sodarata' has a camera: the photo goes to the signed URL

    assert keluhan(["open311", "key", "list", *config]) == 0
    listing = capsys.readouterr().out
    assert api_key[:9] in listing and api_key not in listing
    assert keluhan(["open311", "key", "revoke", api_key, *config]) == 0
    with pytest.raises(HttpError) as refused:
        _post(georeport, api_key, service_code="sampah", description="Sampah lagi")
    assert refused.value.status == 403
    assert '"code": 403' in refused.value.body


def test_errors_come_in_the_georeport_format(georeport):
    with pytest.raises(HttpError) as unknown:
        georeport.get_request("tidak-ada-laporan")
    assert unknown.value.status == 404 and '"code": 404' in unknown.value.body
    with pytest.raises(HttpError) as bad_key:
        _post(georeport, "o311_bukan-kunci")
    assert bad_key.value.status == 403


def test_open311_list_pages_in_firestore_by_cursor(client, georeport):
    """Issue 23: the listing query (tags, categories, window, cursor) as the emulator runs it."""
    import requests

    ids = {_post(georeport, DEMO_OPEN311_KEY)[0]["service_request_id"] for _ in range(3)}
    for report_id in ids:
        client.wait_report(report_id)
    url = client.function_url("open311") + "requests.json"
    seen, cursor = [], None
    for _ in range(3):
        params = {"service_code": "jalan_rusak", "status": "open", "page_size": 1,
                  **({"cursor": cursor} if cursor else {})}
        answer = requests.get(url, params=params, timeout=30)
        assert answer.status_code == 200, answer.text
        assert answer.headers["Cache-Control"] == "public, max-age=30"
        seen += [r["service_request_id"] for r in answer.json()]
        cursor = answer.headers.get("X-Next-Cursor")
        assert cursor
    assert len(seen) == 3 and set(seen) == ids  # the three newest, one per page, none twice


def test_channel_intake_posts_on_a_function_of_its_own_and_the_public_one_reads_them(client, georeport, capsys):
    """Issue 23: the channels' intake is open311's code deployed apart (open311_intake)."""
    intake = Open311Client(Endpoint(id="keluhan-intake", name="Keluhan intake", write=True,
                                    base_url=client.function_url("open311_intake").rstrip("/")))
    assert {s["service_code"] for s in intake.list_services()} >= {"jalan_rusak", "sampah"}
    [answer] = _post(intake, DEMO_OPEN311_KEY, description="Lubang lewat kanal intake")
    report_id = answer["service_request_id"]
    assert client.wait_report(report_id)["channel"] == "call_center_112"
    assert georeport.get_request(report_id)["service_request_id"] == report_id
    config = ["--config", str(client.config.path)]
    assert keluhan(["open311", "key", "issue", "--channel", "smart_rtrw", "--name", "e2e intake", *config]) == 0
    [with_camera] = _post(intake, capsys.readouterr().out.strip(), service_code="sampah",
                          description="Sampah menumpuk, kanal RT/RW")
    assert with_camera["upload"]["method"] == "PUT"  # signed as the intake's own account
    with pytest.raises(HttpError) as no_reads:  # public reads are open311's, never on intake's instances
        intake.get_request(report_id)
    assert no_reads.value.status == 404


def test_reports_stored_before_the_listing_tags_are_listed_after_the_backfill(client, georeport, capsys):
    """Issue 23: `keluhan open311 backfill-listing` on the emulator tags what an older version stored."""
    import json

    import requests
    from google.cloud import firestore

    [answer] = _post(georeport, DEMO_OPEN311_KEY, description="Laporan lama sebelum tag daftar")
    report_id = answer["service_request_id"]
    stored = client.wait_report(report_id, lambda r: r["status"] == "routed")
    client.db.collection("reports").document(report_id).update({"open311_listing": firestore.DELETE_FIELD})
    received = stored["received_at"]
    window = {"start_date": (received - timedelta(seconds=1)).isoformat(),
              "end_date": (received + timedelta(seconds=1)).isoformat(), "page_size": 200}

    def listed() -> set[str]:
        page = requests.get(client.function_url("open311") + "requests.json", params=window, timeout=30)
        assert page.status_code == 200, page.text
        return {r["service_request_id"] for r in page.json()}

    assert report_id not in listed()  # as an untagged report of an older version
    config = ["--config", str(client.config.path)]
    assert keluhan(["open311", "backfill-listing", "--batch-size", "50", *config]) == 0
    done = json.loads(capsys.readouterr().out.strip())
    assert done["scanned"] >= done["written"] >= 1 and done["dry_run"] is False
    assert client.report(report_id)["open311_listing"] == ["any", "open"]
    assert report_id in listed()
    assert keluhan(["open311", "backfill-listing", *config]) == 0
    assert json.loads(capsys.readouterr().out.strip())["written"] == 0
