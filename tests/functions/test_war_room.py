"""war_room through a functions-framework test client: the page, the outlines, operator-only stats."""

from tests.support.deps import fake_deps, function_client  # noqa: F401
from tests.support.places import require_shared_geo


def test_the_page_is_served_without_data(fake_deps):  # noqa: F811
    response = function_client("war_room").get("/")
    assert response.status_code == 200 and b"War Room" in response.data and b"stats.json" in response.data


def test_the_outlines_hold_all_153_kelurahan(fake_deps):  # noqa: F811
    require_shared_geo()
    body = function_client("war_room").get("/kelurahan.geojson").get_json()
    assert len(body["features"]) == 153
    assert {"kode_kelurahan", "kelurahan", "kecamatan"} <= set(body["features"][0]["properties"])


def test_stats_are_for_operators_only(fake_deps):  # noqa: F811
    client = function_client("war_room")
    assert client.get("/stats.json").status_code == 401
    for token in ("user:siti", "skpd:dinas-pu:pu", "channel:call_center_112:cc"):
        assert client.get("/stats.json", headers={"Authorization": f"Bearer {token}"}).status_code == 403
    response = client.get("/stats.json", headers={"Authorization": "Bearer operator:op1"})
    assert response.status_code == 200
    assert {"city", "by_skpd", "by_kecamatan", "by_kelurahan", "overdue", "resolved_this_week"} <= set(
        response.get_json())
    bad = client.get("/stats.json?month=bulan", headers={"Authorization": "Bearer operator:op1"})
    assert bad.status_code == 422 and bad.get_json()["error"]["field"] == "month"


def test_other_paths_404_and_posts_405(fake_deps):  # noqa: F811
    client = function_client("war_room")
    assert client.get("/../etc/passwd").status_code == 404
    assert client.post("/stats.json").status_code == 405
