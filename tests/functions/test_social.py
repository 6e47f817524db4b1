"""#20 through the functions: duplicates while reporting, nearby reports, "my reports", privacy,
and Open311's area filters and media_url, on the fakes."""

from datetime import UTC, datetime, timedelta

import pytest

from keluhan.domain.report import Report, Status
from keluhan.usecases.nearby import DuplicatePolicy
from tests.functions.test_submit_report import ALICE, GOOD
from tests.support.deps import fake_deps, function_client, make_fake_deps  # noqa: F401

BOB = {"Authorization": "Bearer user:bob"}
CAROL = {"Authorization": "Bearer user:carol"}
SKPD_PU = {"Authorization": "Bearer skpd:dinas-pu:pu-officer"}
M_PER_DEG = 111_320.0


def north(metres: float) -> float:
    return GOOD["lat"] + metres / M_PER_DEG


def submit(headers, **fields):
    body = {**GOOD, **fields}
    return function_client("submit_report").post("/", json=body, headers=headers)


def make_open(deps, report_id: str, *, received_at: datetime | None = None) -> None:
    """The report as routed to an SKPD with an accepted photo and its thumbnail (the pipeline's result)."""
    def routed(report: Report) -> Report:
        photo = report.photo.updated(verdict="accepted", thumbnail_object=f"derived/{report_id}/thumb.jpg",
                                     clean_object=f"derived/{report_id}/clean.jpg")
        extra = {"received_at": received_at} if received_at else {}
        return report.changed(status=Status.ROUTED, photo=photo, assignee="dinas-pu", **extra)

    deps.reports.mutate(report_id, routed)


@pytest.fixture
def alices(fake_deps):  # noqa: F811
    report_id = submit(ALICE).get_json()["report_id"]
    make_open(fake_deps, report_id)
    return report_id


def test_a_second_resident_40_m_away_gets_the_first_report_suggested_and_still_reports(fake_deps, alices):  # noqa: F811
    response = submit(BOB, client_id="bob-0001-abcdef", lat=north(40))
    assert response.status_code == 201
    body = response.get_json()
    assert body["report_id"] != alices and body["report_id"] in fake_deps.reports.docs
    [suggested] = body["possible_duplicates"]
    assert suggested["report_id"] == alices and suggested["category"] == "jalan_rusak"
    assert 35 <= suggested["distance_m"] <= 45 and suggested["supporters"] == 0
    assert suggested["thumbnail_url"].startswith(f"https://storage.test/derived/{alices}/thumb.jpg")
    assert not {"reporter_ref", "reporter_key", "client_id", "street"} & suggested.keys()


@pytest.mark.parametrize(("what", "fields"), [
    ("another category", {"category": "sampah"}),
    ("100 m away", {"lat": north(100)}),
])
def test_no_suggestion_for_another_category_or_beyond_75_m(fake_deps, alices, what, fields):  # noqa: F811
    body = submit(BOB, client_id="bob-0001-abcdef", **{"lat": north(40), **fields}).get_json()
    assert body["possible_duplicates"] == [], what


def test_no_suggestion_older_than_30_days_nor_private_nor_closed(fake_deps):  # noqa: F811
    old = submit(ALICE, client_id="alice-old-0001").get_json()["report_id"]
    make_open(fake_deps, old, received_at=datetime.now(UTC) - timedelta(days=31))
    private = submit(ALICE, client_id="alice-private-1", private=True).get_json()["report_id"]
    make_open(fake_deps, private)
    closed = submit(ALICE, client_id="alice-closed-01").get_json()["report_id"]
    make_open(fake_deps, closed)
    fake_deps.reports.mutate(closed, lambda r: r.changed(status=Status.CLOSED))
    assert submit(BOB, client_id="bob-0001-abcdef", lat=north(40)).get_json()["possible_duplicates"] == []


def test_the_distance_and_age_of_suggestions_are_settings(monkeypatch):
    from keluhan import bootstrap

    deps = make_fake_deps(duplicate_radius_m=150, duplicate_max_age_days=60)
    monkeypatch.setattr(bootstrap, "get_deps", lambda: deps)
    first = submit(ALICE).get_json()["report_id"]
    make_open(deps, first, received_at=datetime.now(UTC) - timedelta(days=45))
    [suggested] = submit(BOB, client_id="bob-0001-abcdef", lat=north(120)).get_json()["possible_duplicates"]
    assert suggested["report_id"] == first


def test_at_most_five_suggestions_nearest_first(fake_deps):  # noqa: F811
    for n in range(7):
        report_id = submit(ALICE, client_id=f"alice-many-{n:04d}", lat=north(10 * n)).get_json()["report_id"]
        make_open(fake_deps, report_id)
    found = submit(BOB, client_id="bob-0001-abcdef").get_json()["possible_duplicates"]
    assert len(found) == 5
    assert [round(s["distance_m"] / 10) for s in found] == [0, 1, 2, 3, 4]


def test_the_suggestion_reads_whole_only_the_five_it_shows_within_its_cap(fake_deps, monkeypatch):  # noqa: F811
    for n in range(8):
        report_id = submit(ALICE, client_id=f"alice-many-{n:04d}", lat=north(5 * n)).get_json()["report_id"]
        make_open(fake_deps, report_id)
    asked: list[list[str]] = []
    get_many = fake_deps.reports.get_many
    monkeypatch.setattr(fake_deps.reports, "get_many", lambda ids: asked.append(list(ids)) or get_many(ids))
    fake_deps.reports.reads = 0
    found = submit(BOB, client_id="bob-0001-abcdef").get_json()["possible_duplicates"]
    assert [len(ids) for ids in asked] == [5] and [s["report_id"] for s in found] == asked[0]
    assert 8 + 5 <= fake_deps.reports.reads <= DuplicatePolicy().read_cap  # the search's and the five's


def test_a_report_closed_between_the_search_and_the_read_is_not_suggested(fake_deps, alices, monkeypatch):  # noqa: F811
    in_cell = fake_deps.reports.in_cell

    def search_then_close(*args, **kwargs):
        spots = in_cell(*args, **kwargs)
        fake_deps.reports.mutate(alices, lambda r: r.changed(status=Status.CLOSED))
        return spots

    monkeypatch.setattr(fake_deps.reports, "in_cell", search_then_close)
    assert submit(BOB, client_id="bob-0001-abcdef", lat=north(40)).get_json()["possible_duplicates"] == []


def test_suggestions_never_block_the_report_when_the_search_fails(fake_deps, alices, monkeypatch):  # noqa: F811
    def broken(*args, **kwargs):
        raise RuntimeError("index missing")

    monkeypatch.setattr(fake_deps.reports, "in_cell", broken)
    response = submit(BOB, client_id="bob-0001-abcdef", lat=north(40))
    assert response.status_code == 201 and response.get_json()["possible_duplicates"] == []


# --- nearby_reports ---------------------------------------------------------------------------
def nearby(headers=BOB, **params):
    query = {"lat": GOOD["lat"], "lon": GOOD["lon"], "radius_m": 500, **params}
    return function_client("nearby_reports").get("/", query_string=query, headers=headers)


def test_nearby_lists_open_public_reports_nearest_first_without_who_reported(fake_deps, alices):  # noqa: F811
    farther = submit(CAROL, lat=north(300)).get_json()["report_id"]
    make_open(fake_deps, farther)
    beyond = submit(CAROL, client_id="carol-far-00001", lat=north(900)).get_json()["report_id"]
    make_open(fake_deps, beyond)
    body = nearby().get_json()
    assert [r["report_id"] for r in body["reports"]] == [alices, farther]
    first = body["reports"][0]
    assert first["public_status"] == "open" and first["status"] == "routed" and first["supporters"] == 0
    assert not {"reporter_ref", "reporter_key", "client_id", "street", "timeline"} & first.keys()
    assert body["reads"] >= 1 and body["truncated"] is False
    assert [r["report_id"] for r in nearby(radius_m=1000).get_json()["reports"]] == [alices, farther, beyond]


def test_nearby_filters_by_category(fake_deps, alices):  # noqa: F811
    rubbish = submit(CAROL, category="sampah").get_json()["report_id"]
    make_open(fake_deps, rubbish)
    assert [r["report_id"] for r in nearby(category="sampah").get_json()["reports"]] == [rubbish]


def test_a_private_category_shows_a_rounded_point_no_description_and_no_photo(fake_deps):  # noqa: F811
    report_id = submit(ALICE, category="parkir_liar").get_json()["report_id"]
    make_open(fake_deps, report_id)
    [shown] = nearby().get_json()["reports"]
    assert shown["point"] == {"lat": round(GOOD["lat"], 3), "lon": round(GOOD["lon"], 3)}
    assert shown["description"] is None and shown["thumbnail_url"] is None


@pytest.mark.parametrize(("params", "field"), [
    ({"radius_m": 1001}, "radius_m"), ({"lat": "north"}, "lat"), ({"category": "ufo"}, "category"),
    ({"limit": 0}, "limit"), ({"lon": 200}, "lon"),
])
def test_bad_nearby_queries_are_422_naming_the_field(fake_deps, params, field):  # noqa: F811
    response = nearby(**params)
    assert response.status_code == 422 and response.get_json()["error"]["field"] == field


def test_nearby_needs_a_token(fake_deps):  # noqa: F811
    assert nearby(headers={}).status_code == 401


def test_nearby_reads_a_bounded_number_of_documents_whatever_the_number_of_reports(fake_deps):  # noqa: F811
    from keluhan.domain.geocell import geohash_of

    template = fake_deps.reports.docs
    seed_id = submit(ALICE).get_json()["report_id"]
    make_open(fake_deps, seed_id)
    base = template[seed_id]
    for n in range(3000):  # a dense block: 3,000 open reports within ~300 m
        lat, lon = GOOD["lat"] + (n % 55) * 0.00005, GOOD["lon"] + (n // 55) * 0.00005
        template[f"dense-{n:05d}"] = {**base, "report_id": f"dense-{n:05d}", "point": {**base["point"], "lat": lat,
                                      "lon": lon}, "geohash": geohash_of(lat, lon)}
    fake_deps.reports.reads = 0
    body = nearby(radius_m=1000, limit=100).get_json()
    assert body["reads"] <= fake_deps.settings.nearby_read_cap and fake_deps.reports.reads == body["reads"]
    assert body["truncated"] is True and len(body["reports"]) == 100


# --- list_my_reports --------------------------------------------------------------------------
def mine(headers=ALICE, **params):
    return function_client("list_my_reports").get("/", query_string=params, headers=headers)


def test_my_reports_newest_first_paged_by_cursor(fake_deps):  # noqa: F811
    ids = []
    for n in range(5):
        report_id = submit(ALICE, client_id=f"alice-page-{n:04d}").get_json()["report_id"]
        fake_deps.reports.docs[report_id]["received_at"] = datetime(2026, 12, 1, 8, n, tzinfo=UTC)
        ids.append(report_id)
    submit(BOB, client_id="bob-0001-abcdef")
    first = mine(limit=2).get_json()
    assert [r["report_id"] for r in first["reports"]] == [ids[4], ids[3]]
    second = mine(limit=2, cursor=first["next_cursor"]).get_json()
    third = mine(limit=2, cursor=second["next_cursor"]).get_json()
    assert [r["report_id"] for r in second["reports"] + third["reports"]] == [ids[2], ids[1], ids[0]]
    assert third["next_cursor"] is None
    assert first["reports"][0]["status"] == "awaiting_photo" and "timeline" in first["reports"][0]


def test_my_reports_filter_by_status_and_show_nobody_elses(fake_deps, alices):  # noqa: F811
    waiting = submit(ALICE, client_id="alice-wait-0001").get_json()["report_id"]
    assert [r["report_id"] for r in mine(status="routed").get_json()["reports"]] == [alices]
    assert [r["report_id"] for r in mine(status="awaiting_photo,routed").get_json()["reports"]] == [waiting, alices]
    assert mine(headers=BOB).get_json() == {"reports": [], "next_cursor": None}


@pytest.mark.parametrize(("params", "field"), [
    ({"status": "lost"}, "status.0"), ({"limit": 101}, "limit"), ({"cursor": "%%%"}, "cursor"),
])
def test_bad_my_reports_queries_are_422_naming_the_field(fake_deps, params, field):  # noqa: F811
    response = mine(**params)
    assert response.status_code == 422 and response.get_json()["error"]["field"] == field


def test_my_reports_needs_a_token(fake_deps):  # noqa: F811
    assert mine(headers={}).status_code == 401


# --- privacy ----------------------------------------------------------------------------------
def act(report_id, action, headers=ALICE, expected="routed"):
    return function_client("act_on_report").post("/", json={"report_id": report_id, "action": action,
                                                            "expected_status": expected}, headers=headers)


def open311_get(path, **params):
    return function_client("open311").get(path, query_string=params)


def every_public_answer(report_id: str) -> str:
    """Every public answer a report could appear in, as text."""
    answers = [nearby(radius_m=1000).get_data(as_text=True),
               open311_get("/requests.json").get_data(as_text=True),
               open311_get("/requests.json", status="open").get_data(as_text=True),
               open311_get("/requests.json", lat=GOOD["lat"], long=GOOD["lon"], radius=500).get_data(as_text=True),
               open311_get("/requests.json", service_request_id=report_id).get_data(as_text=True),
               open311_get("/requests.json", updated_after="2020-01-01T00:00:00Z").get_data(as_text=True),
               submit(CAROL, client_id=f"carol-{report_id[:8]}", lat=north(30)).get_data(as_text=True)]
    by_id = open311_get(f"/requests/{report_id}.json")
    assert by_id.status_code == 404
    return "\n".join(answers)


def test_a_report_made_private_is_absent_from_every_public_answer(fake_deps, alices):  # noqa: F811
    assert alices in nearby().get_data(as_text=True)
    response = act(alices, "make_private")
    assert response.status_code == 200 and response.get_json()["report"]["status"] == "routed"
    assert alices not in every_public_answer(alices)
    assert fake_deps.reports.docs[alices]["open311_listing"] == []
    # still the reporter's, and the assignee's staff still see it with its photo
    assert [r["report_id"] for r in mine().get_json()["reports"]] == [alices]
    staff = act(alices, "accept", headers=SKPD_PU).get_json()["report"]
    assert staff["private"] is True and staff["photo"]["thumbnail_object"]
    assert act(alices, "make_public", expected="accepted").status_code == 200
    assert alices in nearby().get_data(as_text=True)


def test_a_report_submitted_private_never_appears_publicly(fake_deps):  # noqa: F811
    report_id = submit(ALICE, private=True).get_json()["report_id"]
    make_open(fake_deps, report_id)
    assert report_id not in every_public_answer(report_id)


def test_only_the_reporter_decides_privacy(fake_deps, alices):  # noqa: F811
    assert act(alices, "make_private", headers=SKPD_PU).status_code == 403
    assert act(alices, "make_private", headers={"Authorization": "Bearer operator:op-1"}).status_code == 403
    assert act(alices, "make_private", headers=BOB).status_code == 404
    assert fake_deps.reports.docs[alices].get("private", False) is False


# --- Open311 ----------------------------------------------------------------------------------
def test_open311_media_url_is_the_public_thumbnail_link_or_null(fake_deps, alices):  # noqa: F811
    parking = submit(CAROL, category="parkir_liar").get_json()["report_id"]
    make_open(fake_deps, parking)
    views = {r["service_request_id"]: r for r in open311_get("/requests.json").get_json()}
    assert views[alices]["media_url"].startswith(f"https://storage.test/derived/{alices}/thumb.jpg")
    assert views[parking]["media_url"] is None
    [one] = open311_get(f"/requests/{alices}.json").get_json()
    assert one["media_url"].startswith("https://storage.test/derived/")


def test_open311_lists_requests_in_a_bbox_or_a_circle(fake_deps, alices):  # noqa: F811
    far = submit(CAROL, lat=north(2000)).get_json()["report_id"]
    make_open(fake_deps, far)
    lat, lon = GOOD["lat"], GOOD["lon"]
    box = f"{lon - 0.002},{lat - 0.002},{lon + 0.002},{lat + 0.002}"
    assert [r["service_request_id"] for r in open311_get("/requests.json", bbox=box).get_json()] == [alices]
    circle = open311_get("/requests.json", lat=lat, long=lon, radius=300).get_json()
    assert [r["service_request_id"] for r in circle] == [alices]
    both = open311_get("/requests.json", lat=lat, long=lon, radius=3000).get_json()
    assert {r["service_request_id"] for r in both} == {alices, far}


@pytest.mark.parametrize("params", [
    {"bbox": "1,2,3"}, {"bbox": "119.5,-5.1,119.4,-5.2"}, {"bbox": "119.0,-5.5,119.9,-4.9"},
    {"lat": -5.1, "long": 119.4}, {"lat": -5.1, "long": 119.4, "radius": 6000},
    {"updated_after": "yesterday"},
])
def test_bad_open311_area_or_update_filters_are_400(fake_deps, params):  # noqa: F811
    assert open311_get("/requests.json", **params).status_code == 400


def test_open311_updated_after_lists_requests_changed_since(fake_deps, alices):  # noqa: F811
    older = submit(CAROL).get_json()["report_id"]
    make_open(fake_deps, older)
    fake_deps.reports.mutate(older, lambda r: r.changed(status_changed_at=datetime(2026, 1, 1, tzinfo=UTC)))
    since = open311_get("/requests.json", updated_after="2026-06-01T00:00:00Z").get_json()
    assert [r["service_request_id"] for r in since] == [alices]
