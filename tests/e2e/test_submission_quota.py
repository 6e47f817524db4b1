"""Submission quotas on the emulators: exact under concurrency, a retry counts nothing, 429 with
Retry-After; anonymous sign-ins may not submit."""

from __future__ import annotations

import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from keluhan.domain.quota import quota_subject
from keluhan.settings import Settings
from tests.e2e.test_authz_firestore import anonymous_sign_in
from tests.e2e.test_pipeline import report_body
from tests.support.places import kelurahan_point


def test_concurrent_submissions_past_the_hourly_quota_are_429_and_exactly_the_limit_is_stored(client):
    limit = Settings().submit_per_hour
    uid, token = client.sign_in(f"rajin-{uuid.uuid4().hex[:6]}@warga.test")
    lat, lon, _ = kelurahan_point("Bontorannu")
    bodies = [report_body(lat, lon, street="Jl. Landak Baru") for _ in range(limit + 4)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda body: client.submit(token, body), bodies))
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] * limit + [429] * 4, codes
    for refused in (r for r in responses if r.status_code == 429):
        assert 1 <= int(refused.headers["Retry-After"]) <= 3600
        assert refused.json()["error"]["code"] == "rate_limited"
    slots = [d.to_dict() for d in client.db.collection("quotas").stream() if d.id.startswith(quota_subject(uid))]
    per_window = sorted(Counter(s["window"] for s in slots).values())
    assert per_window == [limit, limit]  # the hour and the day, one slot per stored report

    stored = next(i for i, r in enumerate(responses) if r.status_code == 201)
    retry = client.submit(token, bodies[stored])
    assert retry.status_code == 200 and retry.json()["report_id"] == responses[stored].json()["report_id"]
    assert retry.json()["upload"] == responses[stored].json()["upload"]  # the same URL, still valid


def test_an_anonymous_sign_in_may_not_submit(client):
    lat, lon, _ = kelurahan_point("Bontorannu")
    response = client.submit(anonymous_sign_in(client), report_body(lat, lon))
    assert response.status_code == 403 and response.json()["error"]["field"] == "Authorization"
