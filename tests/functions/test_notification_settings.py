"""notification_settings through a functions-framework test client: push devices and preferences,
each user's own, bad input a 4xx naming the field; notify pushing through the function."""

from __future__ import annotations

import json

from keluhan.domain.push import MAX_DEVICES, device_id
from tests.functions.test_pubsub_functions import push
from tests.support.deps import fake_deps, function_client  # noqa: F401

SITI = {"Authorization": "Bearer user:siti"}
ANDI = {"Authorization": "Bearer user:andi"}
TOKEN = "fcm-token-siti-phone-0001"


def _client():
    return function_client("notification_settings")


def test_a_citizen_registers_a_device_once_and_it_is_stored_under_them(fake_deps):  # noqa: F811
    body = {"token": TOKEN, "platform": "android", "lang": "en"}
    first = _client().post("/devices", json=body, headers=SITI)
    assert first.status_code == 201
    answer = first.get_json()
    assert answer["device_id"] == device_id(TOKEN) and answer["max_devices"] == MAX_DEVICES
    assert TOKEN not in json.dumps(answer)
    again = _client().post("/devices", json={**body, "lang": "id"}, headers=SITI)
    assert again.status_code == 200
    (device,) = fake_deps.devices.of("siti")
    assert device.token == TOKEN and device.lang == "id" and fake_deps.devices.of("andi") == []


def test_unregistering_removes_only_the_callers_own_token(fake_deps):  # noqa: F811
    _client().post("/devices", json={"token": TOKEN, "platform": "ios"}, headers=SITI)
    other = _client().post("/devices/remove", json={"token": TOKEN}, headers=ANDI)
    assert other.status_code == 200 and other.get_json() == {"removed": False}
    assert len(fake_deps.devices.of("siti")) == 1
    mine = _client().post("/devices/remove", json={"token": TOKEN}, headers=SITI)
    assert mine.get_json() == {"removed": True} and fake_deps.devices.of("siti") == []


def test_preferences_default_to_quiet_hours_21_to_6_wita_and_change_field_by_field(fake_deps):  # noqa: F811
    shown = _client().get("/preferences", headers=SITI)
    assert shown.status_code == 200
    assert shown.get_json() == {"lang": None, "quiet_hours": {"start": "21:00", "end": "06:00"}, "muted_reports": []}
    changed = _client().post("/preferences", json={"lang": "en", "mute": "r1"}, headers=SITI).get_json()
    assert changed == {"lang": "en", "quiet_hours": {"start": "21:00", "end": "06:00"}, "muted_reports": ["r1"]}
    off = _client().post("/preferences", json={"quiet_hours": None, "unmute": "r1"}, headers=SITI).get_json()
    assert off == {"lang": "en", "quiet_hours": None, "muted_reports": []}
    assert _client().get("/preferences", headers=ANDI).get_json()["lang"] is None  # andi's are his own


def test_bad_input_is_a_4xx_naming_the_field(fake_deps):  # noqa: F811
    cases = [
        ("/devices", {"token": TOKEN, "platform": "symbian"}, 422, "platform"),
        ("/devices", {"token": "short", "platform": "android"}, 422, "token"),
        ("/devices", {"token": TOKEN, "platform": "android", "uid": "andi"}, 422, "uid"),
        ("/devices/remove", {}, 422, "token"),
        ("/preferences", {"quiet_hours": {"start": "21:00", "end": "24:00"}}, 422, "quiet_hours.end"),
        ("/preferences", {"mute": "__reports__"}, 422, "mute"),
        ("/preferences", {"lang": "fr"}, 422, "lang"),
    ]
    for path, body, status, field in cases:
        response = _client().post(path, json=body, headers=SITI)
        assert response.status_code == status, (path, body, response.get_json())
        error = response.get_json()["error"]
        assert error["field"] == field and " / " in error["message"], (path, body, error)
    assert _client().post("/devices", data="token", headers={**SITI, "Content-Type": "text/plain"}).status_code == 415
    assert _client().get("/devices", headers=SITI).status_code == 405
    assert _client().get("/nothing", headers=SITI).status_code == 404
    assert fake_deps.devices.devices == {} and fake_deps.preferences.stored == {}


def test_an_anonymous_sign_in_and_a_channel_service_register_nothing(fake_deps):  # noqa: F811
    for who in ("Bearer anon:anon-1", "Bearer channel:call_center_112:cc"):
        response = _client().post("/devices", json={"token": TOKEN, "platform": "web"}, headers={"Authorization": who})
        assert response.status_code == 403 and response.get_json()["error"]["field"] == "Authorization"
    assert fake_deps.devices.devices == {}


def test_notify_pushes_the_status_change_to_the_registered_device(fake_deps):  # noqa: F811
    from keluhan.domain.report import submission_key
    from tests.functions.test_act_on_report import _report

    fake_deps.reports.docs["r1"] = {**_report("routed"), "reporter_ref": submission_key("siti", "client-0001")}
    fake_deps.reports.docs["r1"]["timeline"] = [{"status": "routed", "at": "2026-11-29T01:00:00Z", "by": "route_report",
                                                 "action": "route", "role": "system", "from": "located",
                                                 "assignee": "dinas-pu"}]
    fake_deps.reports.submissions = {submission_key("siti", "client-0001"): {
        "report_id": "r1", "reporter_uid": "siti", "client_id": "client-0001", "lang": "en"}}
    _client().post("/devices", json={"token": TOKEN, "platform": "android"}, headers=SITI)
    _client().post("/preferences", json={"quiet_hours": None}, headers=SITI)
    notify = function_client("notify", "cloudevent")
    for _ in range(2):  # a redelivery pushes nothing more
        response = push(notify, "report-status-changed", json.dumps({"report_id": "r1", "seq": 0}).encode(),
                        {"report_id": "r1", "seq": "0"})
        assert response.status_code == 200
    (pushed,) = fake_deps.pusher.pushed
    assert pushed["token"] == TOKEN and pushed["event"] == "routed" and pushed["title"].startswith("Report assigned")
    (send,) = fake_deps.sends.sends.values()
    assert send.state == "sent" and send.recipient == "siti"
