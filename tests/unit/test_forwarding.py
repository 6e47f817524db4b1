"""Forwarding domain: delivery state, idempotency key, webhook and Open311 payloads."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta, timezone

import pytest
from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from keluhan.domain.assignees import ASSIGNEES
from keluhan.domain.forwarding import (
    Delivery,
    ForwardingConfigError,
    build_payload,
    idempotency_key,
    open311_request,
    target_for,
    webhook_payload,
)
from keluhan.settings import SHARED_GEO, Settings

OPEN311_DIR = SHARED_GEO.parent / "open311"
WITA = timezone(timedelta(hours=8))
T0 = datetime(2025, 3, 4, 8, 30, tzinfo=WITA)

PERSONAL = {
    "reporter_uid": "uid-7f3a9c",
    "uid": "uid-7f3a9c",
    "email": "warga.rappocini@example.com",
    "phone": "+6281234567890",
    "device": "Samsung SM-A155F",
    "photo_path": "uploads/uid-7f3a9c/original.jpg",
    "client_id": "c0ffee-client-id",
}


def provincial_pothole(**changes) -> dict:
    """A pothole on Jl. Dr. Sam Ratulangi (jalan provinsi), as stored, reporter data included."""
    report = {
        "report_id": "R20250304-0001",
        "category": "jalan_rusak",
        "category_name": "Jalan rusak / berlubang",
        "description": "Lubang besar di depan sekolah, sudah dua motor jatuh.",
        "lat": -5.1581,
        "lon": 119.4166,
        "street": "Jl. Dr. Sam Ratulangi",
        "received_at": T0,
        "status": "forwarded",
        "location": {
            "kelurahan": "Maricaya Selatan",
            "kode_kelurahan": "73.71.02.1005",
            "kecamatan": "Mamajang",
            "kode_kecamatan": "73.71.02",
            "road": {
                "name": "Jl. Dr. Sam Ratulangi",
                "status": "provinsi",
                "source": "street_name",
                "toll": False,
            },
            "outside_region": None,
        },
        "routing": {
            "assignee": "baruga",
            "rule": "jalan-provinsi",
            "rules_version": "v3",
            "reason": "jalan provinsi: kewenangan Pemprov Sulsel",
        },
        "photo_url": "https://storage.example.test/public/R20250304-0001/clean.jpg",
        **PERSONAL,
    }
    report.update(changes)
    return report


def open311_schemas() -> tuple[dict, dict]:
    if not (OPEN311_DIR / "request.json").exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Open311 schemas missing at {OPEN311_DIR}")
        pytest.skip(f"Open311 schemas missing at {OPEN311_DIR}")
    return tuple(
        json.loads((OPEN311_DIR / n).read_text()) for n in ("request.json", "requests.json")
    )


def assert_valid_open311(payload: dict) -> None:
    """One request against request.json, and a list of it against requests.json ($ref)."""
    request_schema, requests_schema = open311_schemas()
    registry = Registry().with_resource(
        "request.json", Resource.from_contents(request_schema, default_specification=DRAFT7)
    )
    Draft7Validator(request_schema, format_checker=FormatChecker()).validate(payload)
    Draft7Validator(requests_schema, registry=registry, format_checker=FormatChecker()).validate(
        [payload]
    )
    # jsonschema checks date-time only with an optional package; check it here as RFC 3339 needs.
    assert datetime.fromisoformat(payload["requested_datetime"]).tzinfo is not None


# --- Delivery state -------------------------------------------------------------------------


def new_delivery() -> Delivery:
    return Delivery.start(report_id="R1", assignee="baruga", now=T0)


def test_new_delivery_is_pending_with_no_attempts():
    d = new_delivery()
    assert (d.state, d.attempts, d.last_error, d.receiver_ref) == ("pending", 0, None, None)
    assert d.idempotency_key == idempotency_key("R1", "baruga")


def test_attempt_marks_sent_and_counts():
    d = new_delivery().record_attempt(now=T0).record_attempt(now=T0 + timedelta(minutes=1))
    assert (d.state, d.attempts, d.updated_at) == ("sent", 2, T0 + timedelta(minutes=1))


def test_transient_error_returns_to_pending_with_the_error_kept():
    d = new_delivery().record_attempt(now=T0).retry_later("HTTP 500 from x", now=T0)
    assert (d.state, d.attempts, d.last_error) == ("pending", 1, "HTTP 500 from x")


def test_acknowledgement_keeps_the_receiver_reference_and_clears_the_error():
    d = new_delivery().record_attempt(now=T0).retry_later("timeout", now=T0)
    d = d.record_attempt(now=T0).acknowledged("BRG-000001", now=T0)
    assert (d.state, d.receiver_ref, d.last_error, d.attempts) == (
        "acknowledged",
        "BRG-000001",
        None,
        2,
    )


def test_acknowledged_delivery_never_goes_back():
    done = new_delivery().record_attempt(now=T0).acknowledged("BRG-000001", now=T0)
    later = T0 + timedelta(hours=1)
    assert done.record_attempt(now=later) == done
    assert done.retry_later("late redelivery", now=later) == done
    assert done.failed("dead letter", now=later) == done
    assert done.acknowledged("BRG-999999", now=later).receiver_ref == "BRG-000001"


def test_failed_delivery_can_be_replayed_and_acknowledged():
    d = new_delivery().record_attempt(now=T0).failed("dead letter after 5 attempts", now=T0)
    assert (d.state, d.last_error) == ("failed", "dead letter after 5 attempts")
    d = d.record_attempt(now=T0).acknowledged("BRG-000002", now=T0)
    assert (d.state, d.attempts) == ("acknowledged", 2)


def test_delivery_is_immutable():
    d = new_delivery()
    with pytest.raises(ValueError):
        d.state = "acknowledged"


def test_delivery_rejects_unknown_state():
    with pytest.raises(ValueError):
        Delivery(assignee="baruga", state="delivered", idempotency_key="k", updated_at=T0)


# --- Idempotency key ------------------------------------------------------------------------


def test_idempotency_key_is_the_same_on_every_retry():
    assert idempotency_key("R20250304-0001", "baruga") == idempotency_key(
        "R20250304-0001", "baruga"
    )
    assert Delivery.start(report_id="R9", assignee="bbpjn", now=T0).idempotency_key == (
        Delivery.start(report_id="R9", assignee="bbpjn", now=T0 + timedelta(days=2)).idempotency_key
    )


def test_idempotency_key_differs_per_report_and_per_receiver():
    keys = {idempotency_key(r, a) for r in ("R1", "R2") for a in ("baruga", "bbpjn")}
    assert len(keys) == 4


def test_idempotency_key_needs_report_and_assignee():
    with pytest.raises(ValueError):
        idempotency_key("", "baruga")


# --- Payloads -------------------------------------------------------------------------------


@pytest.mark.parametrize("build", [webhook_payload, open311_request])
def test_payload_carries_no_personal_data(build):
    text = json.dumps(build(provincial_pothole()), ensure_ascii=False)
    for value in PERSONAL.values():
        assert value not in text
    for name in ("uid", "email", "phone", "device", "photo_path"):
        assert name not in text


@pytest.mark.parametrize("build", [webhook_payload, open311_request])
def test_payload_is_plain_json(build):
    payload = build(provincial_pothole())
    assert json.loads(json.dumps(payload)) == payload


def test_open311_request_validates_against_the_georeport_v2_schema():
    payload = open311_request(provincial_pothole())
    assert_valid_open311(payload)
    assert payload["service_request_id"] == "R20250304-0001"
    assert payload["service_code"] == "jalan_rusak"
    assert (payload["lat"], payload["long"]) == (-5.1581, 119.4166)
    assert payload["media_url"] == provincial_pothole()["photo_url"]
    assert payload["address"] == (
        "Jl. Dr. Sam Ratulangi, Kel. Maricaya Selatan, Kec. Mamajang, Kota Makassar, Sulawesi Selatan"
    )
    assert payload["agency_responsible"] == ASSIGNEES["baruga"].name


def test_open311_ids_and_codes_are_strings_even_when_numeric():
    payload = open311_request(provincial_pothole(report_id=1234, category=17))
    assert (payload["service_request_id"], payload["service_code"]) == ("1234", "17")
    assert_valid_open311(payload)


def test_open311_request_outside_the_city_without_photo_or_street_validates():
    report = provincial_pothole(
        street=None,
        photo_url=None,
        description=None,
        location={
            "kelurahan": None,
            "kode_kelurahan": None,
            "kecamatan": None,
            "kode_kecamatan": None,
            "road": None,
            "outside_region": "Kabupaten Gowa",
        },
        routing={
            "assignee": "kab-gowa",
            "rule": "outside-city",
            "reason": None,
            "rules_version": "v3",
        },
    )
    payload = open311_request(report)
    assert_valid_open311(payload)
    assert payload["address"] == "Kabupaten Gowa, Sulawesi Selatan"
    assert payload["media_url"] is None


def test_open311_description_is_cut_to_the_schema_limit():
    payload = open311_request(provincial_pothole(description="x" * 5000))
    assert len(payload["description"]) == 4000
    assert_valid_open311(payload)


def test_received_at_given_as_iso_text_is_accepted():
    payload = open311_request(provincial_pothole(received_at="2025-03-04T00:30:00+00:00"))
    assert payload["requested_datetime"] == "2025-03-04T00:30:00+00:00"


def test_naive_received_at_is_refused_rather_than_guessed():
    with pytest.raises(ValueError):
        webhook_payload(provincial_pothole(received_at=datetime(2025, 3, 4, 8, 30)))


def test_photo_url_that_is_not_a_public_http_url_is_left_out():
    report = provincial_pothole(
        photo_url="gs://demo-keluhan-photos/uploads/uid-7f3a9c/original.jpg"
    )
    assert webhook_payload(report)["photo_url"] is None
    assert open311_request(report)["media_url"] is None


def test_webhook_payload_carries_location_road_and_routing():
    payload = webhook_payload(
        provincial_pothole(received_at=datetime(2025, 3, 4, 0, 30, tzinfo=UTC))
    )
    assert payload["report_id"] == "R20250304-0001"
    assert payload["category"] == {"code": "jalan_rusak", "name": "Jalan rusak / berlubang"}
    assert payload["received_at"] == "2025-03-04T00:30:00+00:00"
    assert payload["location"]["kode_kelurahan"] == "73.71.02.1005"
    assert payload["location"]["road"]["status"] == "provinsi"
    assert payload["routing"]["rule"] == "jalan-provinsi"


# --- Targets --------------------------------------------------------------------------------


def test_targets_come_from_settings_json(monkeypatch):
    monkeypatch.setenv(
        "KELUHAN_FORWARD_TARGETS",
        json.dumps(
            {
                "baruga": {
                    "url": "https://baruga.example.test/open311/v2/requests.json",
                    "format": "open311",
                    "token": "s3cret",
                }
            }
        ),
    )
    target = target_for(Settings().forward_targets, "baruga")
    assert build_payload(provincial_pothole(), target["format"]) == open311_request(
        provincial_pothole()
    )


def test_target_without_format_speaks_webhook():
    target = target_for({"bbpjn": {"url": "http://127.0.0.1:1/bbpjn/webhook"}}, "bbpjn")
    payload = build_payload(provincial_pothole(), target.get("format", "webhook"))
    assert payload == webhook_payload(provincial_pothole())


@pytest.mark.parametrize(
    "targets",
    [
        {},
        {"baruga": {"url": "ftp://baruga.example.test/in"}},
        {"baruga": {"url": "not a url"}},
        {"baruga": {"url": "https://baruga.example.test/x", "format": "xml"}},
    ],
)
def test_missing_or_unusable_target_is_a_config_error(targets):
    with pytest.raises(ForwardingConfigError):
        target_for(targets, "baruga")


def test_unknown_payload_format_is_refused():
    with pytest.raises(ForwardingConfigError):
        build_payload(provincial_pothole(), "soap")
