"""Issue 23, low findings on the public HTTP surface: api_key out of query strings, bounded dates, the
War Room page's CSP, the body cap on early answers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from keluhan.adapters.georeport import MAX_POST_BYTES
from keluhan.domain.open311 import key_hash
from keluhan.topology import FUNCTIONS
from tests.functions.test_submit_report_input import EndlessBody
from tests.support.deps import fake_deps, function_client  # noqa: F401

KEY = "o311_test-key-call-center"
POST = {"service_code": "jalan_rusak", "lat": "-5.1477", "long": "119.4327", "description": "Lubang besar"}


def _client(fake_deps):  # noqa: F811
    fake_deps.open311_keys.records = {key_hash(KEY): {"channel": "call_center_112", "name": "CRM 112",
                                                      "created_at": datetime.now(UTC), "revoked": False}}
    return function_client("open311")


def test_open311_api_key_in_the_query_string_is_not_accepted(fake_deps):  # noqa: F811
    client = _client(fake_deps)
    refused = client.post("/requests.json", data=POST, query_string={"api_key": KEY})
    assert refused.status_code == 403 and not fake_deps.reports.docs
    assert client.post("/requests.json", data={**POST, "api_key": KEY}).status_code == 201


def test_open311_end_date_year_overflow_is_400_not_503(fake_deps):  # noqa: F811
    client = _client(fake_deps)
    for bad in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"):
        answer = client.get("/requests.json", query_string={"end_date": bad},
                            headers={"X-Forwarded-For": "192.0.2.77"})
        assert answer.status_code == 400, answer.data
        assert "end_date" in answer.get_json()[0]["description"]


def test_the_war_room_page_runs_only_its_own_script_by_hash(fake_deps):  # noqa: F811
    import base64
    import hashlib
    import re

    answer = function_client("war_room").get("/")
    policy = answer.headers["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*);", policy)[1]
    [script] = re.findall(r"<script>(.*?)</script>", answer.get_data(as_text=True), re.S)
    own = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert script_src == f"'sha256-{own}'" and "unsafe-inline" not in script_src


SIGNED_IN = {"Authorization": "Bearer user:alice"}
TEXT = {"Content-Type": "text/plain"}
# Every answer an HTTP function gives before (or without) reading the body: (function, method,
# path, headers, status with a small body).
EARLY_ANSWERS = [
    ("submit_report", "POST", "/", {}, 401),
    ("submit_report", "PUT", "/", SIGNED_IN, 405),
    ("submit_report", "POST", "/", {**SIGNED_IN, **TEXT}, 415),
    ("act_on_report", "POST", "/", {}, 401),
    ("act_on_report", "PUT", "/", SIGNED_IN, 405),
    ("act_on_report", "POST", "/", {**SIGNED_IN, **TEXT}, 415),
    ("get_report", "GET", "/?report_id=r1", {}, 401),
    ("get_report", "POST", "/", SIGNED_IN, 405),
    ("list_my_reports", "GET", "/", {}, 401),
    ("list_my_reports", "POST", "/", SIGNED_IN, 405),
    ("nearby_reports", "GET", "/?lat=-5.1&lon=119.4", {}, 401),
    ("nearby_reports", "POST", "/", SIGNED_IN, 405),
    ("war_room", "GET", "/stats.json", {}, 401),
    ("war_room", "POST", "/", {}, 405),
    ("work", "GET", "/queue.json", {}, 401),
    ("work", "POST", "/act", {}, 401),
    ("work", "PUT", "/act", SIGNED_IN, 405),
    ("work", "POST", "/", SIGNED_IN, 405),
    ("work", "POST", "/act", {"Authorization": "Bearer skpd:dinas-pu:pu", **TEXT}, 415),
    ("open311", "PUT", "/requests.json", {}, 405),
    ("open311", "POST", "/requests.json", TEXT, 400),
    ("open311", "GET", "/nowhere", {}, 404),
    ("open311_intake", "PUT", "/requests.json", {}, 405),
    ("open311_intake", "GET", "/requests/r1.json", {}, 404),
    ("support_report", "POST", "/", {}, 401),
    ("support_report", "PUT", "/", SIGNED_IN, 405),
    ("support_report", "POST", "/", {**SIGNED_IN, **TEXT}, 415),
    ("comment_on_report", "POST", "/", {}, 401),
    ("comment_on_report", "DELETE", "/", SIGNED_IN, 405),
    ("comment_on_report", "POST", "/", {**SIGNED_IN, **TEXT}, 415),
    ("subscriptions", "GET", "/", {}, 401),
    ("subscriptions", "PUT", "/", SIGNED_IN, 405),
    ("subscriptions", "POST", "/", {**SIGNED_IN, **TEXT}, 415),
    ("photo_links", "GET", "/?report_id=r1", {}, 401),
    ("photo_links", "POST", "/", SIGNED_IN, 405),
    ("notification_settings", "POST", "/devices", {}, 401),
    ("notification_settings", "PUT", "/devices", SIGNED_IN, 405),
    ("notification_settings", "POST", "/devices", {**SIGNED_IN, **TEXT}, 415),
    ("whatsapp", "PUT", "/", {}, 405),
    ("whatsapp", "GET", "/?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1", {}, 403),
]
BIG = 30 * 2**20  # under Cloud Run's 32 MiB: what the framework used to buffer on these answers


def _cap(function: str, fake_deps) -> int:  # noqa: F811
    return MAX_POST_BYTES if function.startswith("open311") else fake_deps.settings.max_body_bytes


def test_every_http_function_has_its_early_answers_probed():
    http_functions = {f.name for f in FUNCTIONS if f.trigger == "http"}
    assert {row[0] for row in EARLY_ANSWERS} == http_functions


@pytest.mark.parametrize("function, method, path, headers, status", EARLY_ANSWERS)
def test_the_body_cap_holds_on_401_405_415_answers_too(fake_deps, function, method, path, headers,  # noqa: F811
                                                       status):
    client = function_client(function)
    small = client.open(path, method=method, headers={"Content-Type": "application/json", **headers},
                        data=b"{}")
    assert small.status_code == status

    declared = EndlessBody(BIG)  # a length past the cap: refused before a byte is read, whatever else
    answer = client.open(path, method=method, headers={"Content-Type": "application/json", **headers},
                         environ_overrides={"wsgi.input": declared, "CONTENT_LENGTH": str(BIG)})
    assert answer.status_code == 413, answer.data
    assert declared.read_bytes == 0
    body = answer.get_json()
    message = body[0]["description"] if function.startswith("open311") else body["error"]["message"]
    assert "terlalu besar" in message and " / Body too large" in message

    chunked = EndlessBody(BIG)  # no length: the early answer stands, and the body is read to the cap at most
    answer = client.open(path, method=method, headers={
        "Content-Type": "application/json", "Transfer-Encoding": "chunked", **headers}, environ_overrides={
        "wsgi.input": chunked, "wsgi.input_terminated": True, "CONTENT_LENGTH": ""})
    assert answer.status_code == status
    assert chunked.read_bytes <= _cap(function, fake_deps) + 1


def test_an_open311_post_past_the_cap_is_413_without_reading_it(fake_deps):  # noqa: F811
    client = _client(fake_deps)
    chunked = EndlessBody(BIG)
    answer = client.post("/requests.json", headers={"Content-Type": "application/x-www-form-urlencoded",
                                                    "Transfer-Encoding": "chunked"},
                         environ_overrides={"wsgi.input": chunked, "wsgi.input_terminated": True,
                                            "CONTENT_LENGTH": ""})
    assert answer.status_code == 413 and "32768" in answer.get_json()[0]["description"]
    assert chunked.read_bytes == MAX_POST_BYTES + 1 and not fake_deps.reports.docs
