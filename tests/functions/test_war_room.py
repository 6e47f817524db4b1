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


OPERATOR = {"Authorization": "Bearer operator:op1"}


def test_stats_json_carries_the_figures_per_group_and_per_kelurahan(fake_deps):  # noqa: F811
    fake_deps.stats.totals = {
        "city=makassar@all": {"received": 3, "open": 2, "resolved": 1, "resolution_h_b05": 1},
        "skpd=dinas-pu@all": {"received": 3, "open": 2, "resolved": 1, "resolution_h_b05": 1},
        "kecamatan=Mariso@all": {"received": 3, "open": 2, "resolved": 1},
        "kelurahan=73.71.01.1001@all": {"received": 3, "open": 2},
        "city=makassar@2026-11": {"received": 1},
    }
    body = function_client("war_room").get("/stats.json?month=all", headers=OPERATOR).get_json()
    assert (body["city"]["open"], body["city"]["resolution_h_median"]) == (2, 24)
    assert [(r["key"], r["name"], r["open"]) for r in body["by_skpd"]] == [("dinas-pu", "Dinas Pekerjaan Umum", 2)]
    assert body["by_kecamatan"][0]["key"] == "Mariso"
    assert body["by_kelurahan"] == {"73.71.01.1001": {"open": 2, "received": 3, "overdue": 0}}
    november = function_client("war_room").get("/stats.json?month=2026-11", headers=OPERATOR).get_json()
    assert (november["month"], november["city"]["received"], november["by_skpd"]) == ("2026-11", 1, [])


def test_the_page_may_talk_only_to_its_own_function_and_is_never_framed(fake_deps):  # noqa: F811
    policy = function_client("war_room").get("/").headers["Content-Security-Policy"]
    assert "connect-src 'self';" in policy and "frame-ancestors 'none'" in policy and "unsafe-eval" not in policy
    assert function_client("war_room").get("/config.json").get_json() == {"sign_in_url": None}


def test_locally_the_page_signs_in_at_the_auth_emulator(monkeypatch):
    from keluhan import bootstrap
    from tests.support.deps import make_fake_deps

    deps = make_fake_deps(FIREBASE_AUTH_EMULATOR_HOST="127.0.0.1:9099")
    monkeypatch.setattr(bootstrap, "get_deps", lambda: deps)
    client = function_client("war_room")
    assert client.get("/config.json").get_json()["sign_in_url"].startswith(
        "http://127.0.0.1:9099/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword")
    assert "connect-src 'self' http://127.0.0.1:9099;" in client.get("/").headers["Content-Security-Policy"]
