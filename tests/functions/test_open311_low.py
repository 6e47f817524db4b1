"""Issue 23, low findings on the public HTTP surface: api_key out of query strings, bounded dates, the
War Room page's CSP."""

from __future__ import annotations

from datetime import UTC, datetime

from keluhan.domain.open311 import key_hash
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
