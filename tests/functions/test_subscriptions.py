"""subscriptions: a signed-in user lists, adds and removes area subscriptions; bad input is a 4xx
naming the field; at most ten; the kelurahan are the real ones of ../shared/geo."""

from __future__ import annotations

import pytest

from keluhan.domain.subscriptions import MAX_PER_USER
from tests.support.deps import fake_deps, function_client  # noqa: F401
from tests.support.places import kelurahan_point, require_shared_geo

RINA = {"Authorization": "Bearer user:rina"}
BONTORANNU = "73.71.01.1001"


@pytest.fixture(autouse=True)
def _geo():
    require_shared_geo()


def test_a_user_subscribes_to_bontorannu_lists_it_and_removes_it(fake_deps):  # noqa: F811
    client = function_client("subscriptions")
    added = client.post("/", json={"kelurahan_id": BONTORANNU, "categories": ["jalan_rusak"], "lang": "en"},
                        headers=RINA)
    assert added.status_code == 201, added.get_json()
    body = added.get_json()
    assert body["kelurahan"] == "Bontorannu" and body["kind"] == "kelurahan" and body["categories"] == ["jalan_rusak"]
    assert "uid" not in body and "keys" not in body
    again = client.post("/", json={"kelurahan_id": BONTORANNU, "categories": ["jalan_rusak"], "digest": True},
                        headers=RINA)
    assert again.status_code == 200 and again.get_json()["subscription_id"] == body["subscription_id"]
    listed = client.get("/", headers=RINA).get_json()
    assert listed["limit"] == MAX_PER_USER
    assert [(s["subscription_id"], s["digest"]) for s in listed["subscriptions"]] == [(body["subscription_id"], True)]
    assert client.get("/", headers={"Authorization": "Bearer user:andi"}).get_json()["subscriptions"] == []
    gone = client.post("/remove", json={"subscription_id": body["subscription_id"]}, headers=RINA)
    assert gone.status_code == 200 and gone.get_json() == {"subscription_id": body["subscription_id"], "removed": True}
    assert client.post("/remove", json={"subscription_id": body["subscription_id"]}, headers=RINA).status_code == 404


def test_a_circle_around_a_point_of_the_city_of_at_most_2_km(fake_deps):  # noqa: F811
    lat, lon, _ = kelurahan_point("Bontorannu")
    client = function_client("subscriptions")
    added = client.post("/", json={"lat": lat, "lon": lon, "radius_m": 2000}, headers=RINA)
    assert added.status_code == 201 and added.get_json()["kind"] == "circle"
    stored = fake_deps.subscriptions.of("rina")[0]
    assert 1 <= len(stored.keys) <= 4 and all(k.startswith("cell:") for k in stored.keys)


@pytest.mark.parametrize("body, field", [
    ({"kelurahan_id": "73.06.01.1001"}, "kelurahan_id"),          # a kode, but not one of Makassar's
    ({"kelurahan_id": "Bontorannu"}, "kelurahan_id"),
    ({"lat": -6.2, "lon": 106.8, "radius_m": 1000}, "lat"),        # Jakarta
    ({"lat": -5.16, "lon": 119.41, "radius_m": 5000}, "radius_m"),
    ({"lat": -5.16, "lon": 119.41}, "radius_m"),
    ({}, "lat"),
    ({"kelurahan_id": BONTORANNU, "categories": ["bukan_kategori"]}, "categories"),
    ({"kelurahan_id": BONTORANNU, "uid": "someone-else"}, "uid"),
    ({"kelurahan_id": BONTORANNU, "digest": "yes please"}, "digest"),
])
def test_bad_input_is_a_422_naming_the_field(fake_deps, body, field):  # noqa: F811
    response = function_client("subscriptions").post("/", json=body, headers=RINA)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["field"] == field and " / " in error["message"]
    assert fake_deps.subscriptions.areas == {}


def test_the_eleventh_subscription_is_a_409_and_nothing_is_stored(fake_deps):  # noqa: F811
    lat, lon, _ = kelurahan_point("Bontorannu")
    client = function_client("subscriptions")
    for i in range(MAX_PER_USER):
        assert client.post("/", json={"lat": lat, "lon": lon, "radius_m": 200 + i * 10}, headers=RINA).status_code == 201
    refused = client.post("/", json={"kelurahan_id": BONTORANNU}, headers=RINA)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "too_many_subscriptions"
    assert len(fake_deps.subscriptions.of("rina")) == MAX_PER_USER


def test_other_methods_bad_ids_and_no_token(fake_deps):  # noqa: F811
    client = function_client("subscriptions")
    assert client.put("/", json={}, headers=RINA).status_code == 405
    assert client.get("/remove", headers=RINA).status_code == 405
    assert client.get("/elsewhere", headers=RINA).status_code == 404
    bad = client.post("/remove", json={"subscription_id": "../x"}, headers=RINA)
    assert bad.status_code == 422 and bad.get_json()["error"]["field"] == "subscription_id"
    assert client.post("/remove", json={}, headers=RINA).get_json()["error"]["field"] == "subscription_id"
    assert client.get("/").status_code == 401
    assert client.post("/", data="x", headers=RINA).status_code == 415
