"""The authorization matrix of the HTTP functions: every function in the topology × every role.

Each HTTP function declares probes (one request each); each probe states the answer for every
role. A function in keluhan.topology without probes, a probe without a row for a role, or a
non-public probe without a denied signed-in role fails here, so a new endpoint or a loosened
check cannot slip through. Firestore's side of the matrix is tests/e2e/test_authz_firestore.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from keluhan import bootstrap, topology
from keluhan.domain.comments import Comment, author_key
from keluhan.domain.geocell import geohash_of
from keluhan.domain.open311 import key_hash
from keluhan.domain.report import reporter_key, submission_key
from keluhan.domain.subscriptions import AreaSubscription
from tests.functions.test_act_on_report import _report
from tests.functions.test_submit_report import GOOD
from tests.support.deps import function_client, make_fake_deps

ROLES = {
    "anonymous": None,                                   # no token at all
    "anonymous sign-in": "Bearer anon:anon-1",           # Firebase's anonymous provider
    "citizen": "Bearer user:siti",                       # the reporter of r1 and r2
    "another citizen": "Bearer user:andi",
    "skpd A": "Bearer skpd:dinas-pu:pu-staff",           # r1 and r2 are assigned to dinas-pu
    "skpd B": "Bearer skpd:dishub:dishub-staff",
    "operator": "Bearer operator:op1",
    "channel service": "Bearer channel:call_center_112:cc-service",
}


def _except(default: int, **overrides: int) -> dict[str, int]:
    """`default` for every role, `overrides` by role name (underscores for spaces)."""
    return {role: overrides.get(role.replace(" ", "_").replace("-", "_"), default) for role in ROLES}


@dataclass(frozen=True)
class Probe:
    name: str
    method: str
    path: str
    expect: dict[str, int]
    body: dict[str, Any] | None = None
    public: bool = False  # served to everyone on purpose (no data): no deny twin required
    extra: dict[str, Any] = field(default_factory=dict)
    form: dict[str, str] | None = None  # a form-encoded body instead of JSON
    # The credential is an Open311 api_key in the body, not the bearer token: every role gets the
    # same answer (a token neither grants nor denies); the keys' own matrix is tested below.
    by_api_key: bool = False


def _act(report_id: str, action: str, expected_status: str, **more) -> dict[str, Any]:
    return {"report_id": report_id, "action": action, "expected_status": expected_status, **more}


DEVICE = {"token": "fcm-token-matrix-0001", "platform": "android", "lang": "id"}
OPEN311_KEY = "o311_matrix-key"
COMMENT = {"report_id": "r1", "client_id": "comment-0001", "text": "Kapan diperbaiki? / When is it fixed?"}
OPEN311_POST = {"service_code": "jalan_rusak", "lat": "-5.1477", "long": "119.4327", "description": "Lubang"}

PROBES: dict[str, list[Probe]] = {
    "submit_report": [
        Probe("submit as a citizen (channel warga)", "POST", "/", body=GOOD, expect=_except(
            403, anonymous=401, citizen=201, another_citizen=201, operator=201)),
        Probe("submit for Call Center 112", "POST", "/", body={**GOOD, "channel": "call_center_112"},
              expect=_except(403, anonymous=401, channel_service=201)),
    ],
    "get_report": [
        Probe("read r1", "GET", "/?report_id=r1", expect=_except(404, anonymous=401, citizen=200)),
    ],
    "act_on_report": [
        Probe("accept r1 (SKPD work)", "POST", "/", body=_act("r1", "accept", "routed"), expect=_except(
            403, anonymous=401, anonymous_sign_in=404, another_citizen=404, skpd_A=200)),
        Probe("reassign r1 (operator work)", "POST", "/",
              body=_act("r1", "reassign", "routed", assignee="dishub", note="Rambu / A sign"),
              expect=_except(403, anonymous=401, anonymous_sign_in=404, another_citizen=404, operator=200)),
        Probe("hold r1's reporter (operator work)", "POST", "/", body=_act("r1", "hold", "routed"),
              expect=_except(403, anonymous=401, anonymous_sign_in=404, another_citizen=404, operator=200)),
        Probe("confirm r2's fix (reporter)", "POST", "/", body=_act("r2", "confirm", "resolved"),
              expect=_except(403, anonymous=401, anonymous_sign_in=404, another_citizen=404, citizen=200)),
        Probe("make r2 private (reporter)", "POST", "/", body=_act("r2", "make_private", "resolved"),
              expect=_except(403, anonymous=401, anonymous_sign_in=404, another_citizen=404, citizen=200)),
        Probe("make r2 public again (reporter)", "POST", "/", body=_act("r2", "make_public", "resolved"),
              expect=_except(403, anonymous=401, anonymous_sign_in=404, another_citizen=404, citizen=200)),
    ],
    # Each signed-in account lists its own reports (another's are never in it: see below).
    "list_my_reports": [
        Probe("list my reports", "GET", "/", expect=_except(200, anonymous=401, anonymous_sign_in=403)),
        Probe("list my routed reports", "GET", "/?status=routed",
              expect=_except(200, anonymous=401, anonymous_sign_in=403)),
    ],
    "nearby_reports": [
        Probe("reports near r1", "GET", "/?lat=-5.1601&lon=119.4&radius_m=500",
              expect=_except(200, anonymous=401, anonymous_sign_in=403)),
    ],
    "open311": [
        Probe("services.json (the catalogue, no data)", "GET", "/services.json", expect=_except(200), public=True),
        Probe("requests/r1.json (the public view)", "GET", "/requests/r1.json", expect=_except(200), public=True),
        Probe("requests.json (the public list)", "GET", "/requests.json", expect=_except(200), public=True),
        Probe("POST requests.json with a channel's api_key", "POST", "/requests.json", by_api_key=True,
              form={**OPEN311_POST, "api_key": OPEN311_KEY}, expect=_except(201)),
        Probe("POST requests.json without an api_key", "POST", "/requests.json", by_api_key=True,
              form=OPEN311_POST, expect=_except(403)),
    ],
    # The same code, deployed for the channels: the catalogue and keyed posts, no reads of requests.
    "open311_intake": [
        Probe("services.json (the catalogue, no data)", "GET", "/services.json", expect=_except(200), public=True),
        Probe("POST requests.json with a channel's api_key", "POST", "/requests.json", by_api_key=True,
              form={**OPEN311_POST, "api_key": OPEN311_KEY}, expect=_except(201)),
        Probe("POST requests.json without an api_key", "POST", "/requests.json", by_api_key=True,
              form=OPEN311_POST, expect=_except(403)),
    ],
    # Meta's webhook: the credential is the body's signature (or the verify token), never a bearer
    # token, so every role gets the same answer (by_api_key's rule); unsigned, nothing is read.
    "whatsapp": [
        Probe("POST a delivery without Meta's signature", "POST", "/", by_api_key=True,
              body={"object": "whatsapp_business_account", "entry": []}, expect=_except(403)),
        Probe("the handshake with a wrong verify token", "GET",
              "/?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1", by_api_key=True, expect=_except(403)),
    ],
    # A resident adds their voice to someone else's report ("dukung"); nobody else supports.
    "support_report": [
        Probe("support r1 (another resident's report)", "POST", "/", body={"report_id": "r1"},
              expect=_except(403, anonymous=401, another_citizen=200)),
        Probe("withdraw a support of r1", "DELETE", "/?report_id=r1",
              expect=_except(403, anonymous=401, another_citizen=200)),
    ],
    # r1's thread: its reporter (citizen), dinas-pu's staff (skpd A) and operators; a citizen outside
    # the thread finds no report (404), another SKPD and channels are refused (403).
    "comment_on_report": [
        Probe("read r1's thread", "GET", "/?report_id=r1",
              expect=_except(403, anonymous=401, anonymous_sign_in=404, another_citizen=404, citizen=200,
                             skpd_A=200, operator=200)),
        Probe("post a public comment on r1", "POST", "/", body=COMMENT,
              expect=_except(403, anonymous=401, anonymous_sign_in=404, another_citizen=404, citizen=201,
                             skpd_A=201, operator=201)),
        Probe("post an internal (staff-only) note on r1", "POST", "/", body={**COMMENT, "visibility": "internal"},
              expect=_except(403, anonymous=401, anonymous_sign_in=404, another_citizen=404, skpd_A=201,
                             operator=201)),
        Probe("hide a comment of r1's thread", "POST", "/",
              body={"report_id": "r1", "action": "hide", "comment_id": "c1", "reason": "Kasar / Abusive"},
              expect=_except(403, anonymous=401, anonymous_sign_in=404, another_citizen=404, operator=200)),
    ],
    "subscriptions": [
        Probe("list my subscriptions", "GET", "/", expect=_except(
            200, anonymous=401, anonymous_sign_in=403, channel_service=403)),
        Probe("subscribe to Kel. Bontorannu", "POST", "/", body={"kelurahan_id": "73.71.01.1001"},
              expect=_except(201, anonymous=401, anonymous_sign_in=403, channel_service=403)),
        Probe("remove siti's subscription s1", "POST", "/remove", body={"subscription_id": "s1"}, expect=_except(
            404, anonymous=401, anonymous_sign_in=403, channel_service=403, citizen=200)),
    ],
    "war_room": [
        Probe("the page (no data in it)", "GET", "/", expect=_except(200), public=True),
        Probe("stats.json", "GET", "/stats.json", expect=_except(403, anonymous=401, operator=200)),
    ],
    # Staff only: another SKPD is told it is not theirs, a citizen (the reporter too) finds nothing.
    "photo_links": [
        Probe("photo links of r1", "GET", "/?report_id=r1", expect=_except(
            404, anonymous=401, skpd_A=200, skpd_B=403, operator=200)),
    ],
    # The SKPD staff's page: their own SKPD's queue and reports, and act_on_report's moves for staff only.
    "work": [
        Probe("the page (no data in it)", "GET", "/", expect=_except(200), public=True),
        Probe("queue.json", "GET", "/queue.json", expect=_except(403, anonymous=401, skpd_A=200, skpd_B=200)),
        Probe("report.json of r1", "GET", "/report.json?report_id=r1",
              expect=_except(403, anonymous=401, skpd_A=200, skpd_B=404)),
        Probe("accept r1", "POST", "/act", body=_act("r1", "accept", "routed"),
              expect=_except(403, anonymous=401, skpd_A=200)),
    ],
    # Every person's own settings; an anonymous sign-in or a channel service is told of nothing.
    "notification_settings": [
        Probe("register my push device", "POST", "/devices", body=DEVICE,
              expect=_except(201, anonymous=401, anonymous_sign_in=403, channel_service=403)),
        Probe("unregister my push device", "POST", "/devices/remove", body={"token": DEVICE["token"]},
              expect=_except(200, anonymous=401, anonymous_sign_in=403, channel_service=403)),
        Probe("read my preferences", "GET", "/preferences",
              expect=_except(200, anonymous=401, anonymous_sign_in=403, channel_service=403)),
        Probe("set my preferences", "POST", "/preferences", body={"lang": "en", "mute": "r1"},
              expect=_except(200, anonymous=401, anonymous_sign_in=403, channel_service=403)),
    ],
}
HTTP_FUNCTIONS = [fn.name for fn in topology.FUNCTIONS if fn.trigger == "http"]
# What no answer to a staff member or a citizen may carry (SKPD tools see an allow-listed view);
# the submitter's own answer carries the upload URL of its own photo, and nothing else of these.
SECRETS = ("reporter_ref", "reporter_uid", "incoming/", "op1", "siti", "client-0001", "errors", "last_error")
OWN = {"submit_report": {"incoming/"}}


def _world():
    deps = make_fake_deps()
    reporter = submission_key("siti", "client-0001")
    deps.reports.docs = {"r1": _report("routed"), "r2": {**_report("resolved"), "report_id": "r2"}}
    deps.reports.docs["r1"]["photo"] |= {"object": "incoming/r1/photo", "clean_object": "derived/r1/clean.jpg"}
    deps.reports.docs["r1"]["errors"] = [{"stage": "enrich_geo", "reason": "internal detail", "at": None}]
    deps.reports.docs["r1"]["timeline"] = [{"status": "routed", "at": datetime(2026, 11, 29, 1, tzinfo=UTC),
                                            "by": "operator:op1", "note": "", "action": "reassign",
                                            "role": "operator", "from": "triage"}]
    deps.reports.docs["r2"]["reporter_ref"] = reporter
    deps.reports.submissions = {reporter: {"report_id": "r1", "reporter_uid": "siti", "client_id": "client-0001"},
                                submission_key("siti", "client-0002"): {
                                    "report_id": "r2", "reporter_uid": "siti", "client_id": "client-0002"}}
    deps.reports.docs["r2"]["reporter_ref"] = submission_key("siti", "client-0002")
    deps.comments.docs["c1"] = Comment(comment_id="c1", report_id="r1", author_key=author_key("andi"),
                                       author_role="supporter", author="pendukung", visibility="public",
                                       text="Tidak sopan", text_hash="x", at=datetime(2026, 11, 29, tzinfo=UTC))
    deps.subscriptions.add(AreaSubscription(
        subscription_id="s1", uid="siti", kind="kelurahan", kelurahan_id="73.71.01.1002", kelurahan="Mattoangin",
        keys=["kel:73.71.01.1002"], created_at=datetime(2026, 12, 1, tzinfo=UTC)), limit=10)
    for report_id in ("r1", "r2"):  # as submitted: listed where they are, under siti's key
        point = deps.reports.docs[report_id]["point"]
        deps.reports.docs[report_id] |= {"reporter_key": reporter_key("siti"), "open311_listing": ["any", "open"],
                                         "geohash": geohash_of(point["lat"], point["lon"])}
    deps.open311_keys.records = {key_hash(OPEN311_KEY): {"channel": "call_center_112", "name": "matrix",
                                                          "created_at": None, "revoked": False}}
    return deps


def _call(monkeypatch, function: str, probe: Probe, role: str):
    deps = _world()
    monkeypatch.setattr(bootstrap, "get_deps", lambda: deps)
    headers = {"Authorization": ROLES[role]} if ROLES[role] else {}
    client = function_client(function)
    if probe.method == "GET":
        return client.get(probe.path, headers=headers), deps
    if probe.method == "DELETE":
        return client.delete(probe.path, headers=headers), deps
    if probe.form is not None:
        return client.post(probe.path, data=probe.form, headers=headers), deps
    return client.post(probe.path, json=probe.body, headers=headers), deps


def test_every_http_function_of_the_topology_has_probes_and_nothing_else_does():
    assert sorted(PROBES) == sorted(HTTP_FUNCTIONS)


@pytest.mark.parametrize("function", HTTP_FUNCTIONS)
def test_every_probe_answers_every_role_and_each_allow_has_a_deny_twin(function):
    for probe in PROBES.get(function, []):
        assert set(probe.expect) == set(ROLES), probe.name
        if probe.by_api_key:
            assert len(set(probe.expect.values())) == 1, f"{probe.name}: a bearer token changed the answer"
            continue
        allowed = {r for r, s in probe.expect.items() if s < 400}
        assert allowed, f"{probe.name}: nobody is allowed, so nothing is tested"
        assert probe.expect["anonymous"] == (200 if probe.public else 401), probe.name
        if not probe.public:
            signed_in_denied = {r for r, s in probe.expect.items() if s >= 400 and r != "anonymous"}
            assert signed_in_denied, f"{probe.name}: no signed-in role is denied"


@pytest.mark.parametrize(("function", "role"), [(f, r) for f in HTTP_FUNCTIONS for r in ROLES])
def test_each_function_answers_each_role_as_the_matrix_says(monkeypatch, function, role):
    assert function in PROBES, f"{function} is in keluhan.topology but has no authorization probes"
    for probe in PROBES[function]:
        response, deps = _call(monkeypatch, function, probe, role)
        want = probe.expect[role]
        assert response.status_code == want, (probe.name, role, response.status_code, response.data[:300])
        if want >= 400:
            body = response.get_json()
            assert (body[0]["code"] if isinstance(body, list) else body["error"]["code"]), probe.name
            if function in ("act_on_report", "work"):  # a refused move changes nothing
                assert deps.reports.docs["r1"]["status"] == "routed" and deps.publish.messages == []
        elif response.is_json and function != "get_report":
            text = json.dumps(response.get_json())
            leaked = [s for s in SECRETS if s in text and s not in OWN.get(function, set())]
            assert not leaked, (probe.name, role, leaked)


def test_the_reporter_sees_their_report_without_who_reported_or_internal_errors(monkeypatch):
    response, _ = _call(monkeypatch, "get_report", PROBES["get_report"][0], "citizen")
    text = json.dumps(response.get_json())
    assert response.status_code == 200
    for secret in ("reporter_ref", "reporter_uid", "incoming/", "op1", "errors", "internal detail"):
        assert secret not in text, secret


@pytest.mark.parametrize(("api_key", "want"), [(OPEN311_KEY, 201), (None, 403), ("o311_unknown", 403),
                                              ("revoked", 403)])
def test_open311_posts_are_allowed_by_a_live_api_key_only(monkeypatch, api_key, want):
    deps = _world()
    if api_key == "revoked":
        deps.open311_keys.records[key_hash(OPEN311_KEY)]["revoked"] = True
        api_key = OPEN311_KEY
    monkeypatch.setattr(bootstrap, "get_deps", lambda: deps)
    form = {**OPEN311_POST, **({"api_key": api_key} if api_key else {})}
    response = function_client("open311").post("/requests.json", data=form)
    assert response.status_code == want
    assert len(deps.reports.docs) == (3 if want == 201 else 2)


def test_the_open311_view_of_a_report_names_no_reporter_staff_or_photo_path(monkeypatch):
    response, _ = _call(monkeypatch, "open311", PROBES["open311"][1], "anonymous")
    text = json.dumps(response.get_json())
    for secret in ("reporter_ref", "reporter_uid", "incoming/", "derived/", "op1", "siti", "errors",
                   "internal detail", "dinas-pu:"):
        assert secret not in text, secret


def test_the_staff_view_is_an_allow_list(monkeypatch):
    from keluhan.domain.views import STAFF_FIELDS, TIMELINE_FIELDS, staff_view

    report = {**_world().reports.docs["r1"], "secret_new_field": "x", "forwarding": {"last_error": "boom"}}
    view = staff_view(report)
    assert set(view) <= set(STAFF_FIELDS) | {"photo"}
    assert set(view["photo"]) == {"required", "verdict", "clean_object", "thumbnail_object"}
    assert all(set(entry) <= set(TIMELINE_FIELDS) for entry in view["timeline"])
    assert view["timeline"][0]["by"] == "operator"  # the War Room acts as one, no user named


def test_my_reports_are_only_my_own(monkeypatch):
    response, _ = _call(monkeypatch, "list_my_reports", PROBES["list_my_reports"][0], "citizen")
    assert sorted(r["report_id"] for r in response.get_json()["reports"]) == ["r1", "r2"]
    for role in ("another citizen", "skpd A", "operator", "channel service"):
        response, _ = _call(monkeypatch, "list_my_reports", PROBES["list_my_reports"][0], role)
        assert response.get_json()["reports"] == [], role


def test_nearby_shows_r1_to_anyone_signed_in_without_who_reported(monkeypatch):
    response, _ = _call(monkeypatch, "nearby_reports", PROBES["nearby_reports"][0], "another citizen")
    [shown] = [r for r in response.get_json()["reports"] if r["report_id"] == "r1"]
    assert set(shown) == {"report_id", "category", "category_name", "status", "status_text", "public_status",
                          "description", "kelurahan", "kecamatan", "point", "distance_m", "supporters",
                          "received_at", "thumbnail_url"}
