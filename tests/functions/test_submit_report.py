"""submit_report through a functions-framework test client, with fake ports."""

import pytest

from tests.support.deps import fake_deps, function_client  # noqa: F401

GOOD = {
    "client_id": "app-0001-abcdef",
    "category": "jalan_rusak",
    "description": "Lubang besar di depan pasar",
    "lat": -5.1477,
    "lon": 119.4327,
    "accuracy_m": 8,
    "street": "Jl. Sultan Alauddin",
    "photo_taken_at": "2026-11-29T09:58:00+08:00",
}
ALICE = {"Authorization": "Bearer user:alice"}
CALL_CENTER = {"Authorization": "Bearer channel:call_center_112:cc-service"}


@pytest.fixture
def client(fake_deps):  # noqa: F811
    return function_client("submit_report")


def test_submission_without_token_is_401(client, fake_deps):  # noqa: F811
    response = client.post("/", json=GOOD)
    assert response.status_code == 401
    assert response.get_json()["error"]["field"] == "Authorization"
    assert fake_deps.reports.docs == {}


def test_first_submission_is_201_and_awaits_photo_with_upload_url(client, fake_deps):  # noqa: F811
    response = client.post("/", json=GOOD, headers=ALICE)
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "awaiting_photo"
    assert body["upload"]["method"] == "PUT"
    stored = fake_deps.reports.docs[body["report_id"]]
    assert "alice" not in repr(stored)  # who reported is kept apart from what SKPDs read
    assert fake_deps.reports.submission(stored["reporter_ref"])["reporter_uid"] == "alice"
    assert stored["point"] == {"lat": GOOD["lat"], "lon": GOOD["lon"], "accuracy_m": 8}
    assert fake_deps.publish.stage_topics() == []  # published only once the photo is accepted
    assert fake_deps.publish.status_changes() == [(None, "awaiting_photo")]


def test_same_key_same_body_returns_the_same_report_with_200_and_the_same_url(client, fake_deps):  # noqa: F811
    first = client.post("/", json=GOOD, headers=ALICE).get_json()
    again = client.post("/", json=GOOD, headers=ALICE)
    assert again.status_code == 200
    assert again.get_json()["report_id"] == first["report_id"]
    assert again.get_json()["upload"] == first["upload"]  # still valid: reused, not signed again
    assert fake_deps.photos.urls_issued == 1
    assert len(fake_deps.reports.docs) == 1


def test_same_key_different_body_is_409(client, fake_deps):  # noqa: F811
    client.post("/", json=GOOD, headers=ALICE)
    response = client.post("/", json={**GOOD, "description": "lain"}, headers=ALICE)
    assert response.status_code == 409
    assert response.get_json()["error"]["field"] == "client_id"
    assert len(fake_deps.reports.docs) == 1


def test_same_client_id_from_another_reporter_is_another_report(client, fake_deps):  # noqa: F811
    a = client.post("/", json=GOOD, headers=ALICE).get_json()
    b = client.post("/", json=GOOD, headers={"Authorization": "Bearer user:bob"}).get_json()
    assert a["report_id"] != b["report_id"]


def test_call_center_report_needs_no_photo_and_is_published_at_once(client, fake_deps):  # noqa: F811
    response = client.post("/", json={**GOOD, "channel": "call_center_112"}, headers=CALL_CENTER)
    body = response.get_json()
    assert response.status_code == 201
    assert body["status"] == "received" and body["upload"] is None
    assert body["photo"]["verdict"] == "not_required"
    assert fake_deps.publish.stage_topics() == ["report-accepted"]


@pytest.mark.parametrize("channel", ["call_center_112", "sodarata", "smart_rtrw"])
def test_a_citizen_claiming_another_channel_is_403_naming_channel(client, fake_deps, channel):  # noqa: F811
    response = client.post("/", json={**GOOD, "channel": channel}, headers=ALICE)
    assert response.status_code == 403
    assert response.get_json()["error"]["field"] == "channel"
    assert fake_deps.reports.docs == {} and fake_deps.publish.messages == []


def test_a_channel_service_may_only_submit_as_its_own_channel(client, fake_deps):  # noqa: F811
    response = client.post("/", json={**GOOD, "channel": "sodarata"}, headers=CALL_CENTER)
    assert response.status_code == 403 and fake_deps.reports.docs == {}


def test_emergency_category_needs_no_photo_even_from_the_app(client, fake_deps):  # noqa: F811
    body = client.post("/", json={**GOOD, "category": "kebakaran"}, headers=ALICE).get_json()
    assert body["status"] == "received" and body["photo"]["verdict"] == "not_required"
    assert fake_deps.publish.stage_topics() == ["report-accepted"]


def test_failed_first_publish_is_503_and_the_retry_publishes(client, fake_deps):  # noqa: F811
    fake_deps.publish.fail_next = 1
    body = {**GOOD, "channel": "call_center_112"}
    first = client.post("/", json=body, headers=CALL_CENTER)
    assert first.status_code == 503 and first.headers["Retry-After"]
    assert len(fake_deps.reports.docs) == 1 and fake_deps.publish.messages == []
    retry = client.post("/", json=body, headers=CALL_CENTER)
    assert retry.status_code == 200
    assert fake_deps.publish.stage_topics() == ["report-accepted"]


@pytest.mark.parametrize(("body", "status", "field"), [
    ({k: v for k, v in GOOD.items() if k != "lat"}, 422, "lat"),
    ({**GOOD, "lat": 200}, 422, "lat"),
    ({**GOOD, "lon": "east"}, 422, "lon"),
    ({**GOOD, "category": "ufo"}, 422, "category"),
    ({**GOOD, "description": "x" * 3000}, 422, "description"),
    ({**GOOD, "photo_taken_at": "yesterday"}, 422, "photo_taken_at"),
    ({**GOOD, "photo_taken_at": "2026-11-29T09:58:00"}, 422, "photo_taken_at"),
    ({**GOOD, "channel": "fax"}, 422, "channel"),
    ({**GOOD, "is_admin": True}, 422, "is_admin"),
    ({**GOOD, "photo_content_type": "image/gif"}, 422, "photo_content_type"),
    ({**GOOD, "lat": True}, 422, "lat"),
    ({**GOOD, "photo_taken_at": "0001-01-01T00:00:00+05:00"}, 422, "photo_taken_at"),
])
def test_bad_fields_are_422_naming_the_field(client, fake_deps, body, status, field):  # noqa: F811
    response = client.post("/", json=body, headers=ALICE)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["field"] == field
    assert " / " in error["message"]  # Indonesian / English
    assert fake_deps.reports.docs == {} and fake_deps.publish.messages == []


def test_body_that_is_not_json_is_400(client, fake_deps):  # noqa: F811
    response = client.post("/", data="{not json", headers={**ALICE, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_json"


def test_deeply_nested_json_is_400_not_500(client, fake_deps):  # noqa: F811
    response = client.post("/", data="[" * 60_000, headers={**ALICE, "Content-Type": "application/json"})
    assert response.status_code in (400, 413)


def test_json_array_body_is_400(client, fake_deps):  # noqa: F811
    response = client.post("/", json=[GOOD], headers=ALICE)
    assert response.status_code == 400


def test_one_megabyte_description_is_422_naming_the_field(client, fake_deps):  # noqa: F811
    response = client.post("/", json={**GOOD, "description": "x" * 1_000_000}, headers=ALICE)
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "description"
    assert fake_deps.reports.docs == {}


def test_body_beyond_the_limit_is_413(client, fake_deps):  # noqa: F811
    response = client.post("/", json={**GOOD, "description": "x" * 3_000_000}, headers=ALICE)
    assert response.status_code == 413
    assert response.get_json()["error"]["field"] == "body"
    assert fake_deps.reports.docs == {}


def test_wrong_content_type_is_415(client, fake_deps):  # noqa: F811
    response = client.post("/", data="client_id=x", headers={**ALICE, "Content-Type": "text/plain"})
    assert response.status_code == 415
    assert response.get_json()["error"]["field"] == "Content-Type"


def test_get_is_405(client, fake_deps):  # noqa: F811
    assert client.get("/", headers=ALICE).status_code == 405
