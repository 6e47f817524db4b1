"""The geohash cover of a circle, the public view of a report, and the Open311 area query."""

import math
import random
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from keluhan.domain.geocell import MAX_CELLS, cover, geohash_of
from keluhan.domain.nearby import NearbyQuery, ReadBudget, Spot, photo_is_public, public_view
from keluhan.domain.open311 import RequestQuery, listing
from keluhan.domain.photo.exif import distance_m
from keluhan.domain.report import Report

PASAR = (-5.1477, 119.4327)  # Pasar Terong, Makassar


@pytest.mark.parametrize("radius_m", [10, 75, 300, 1000])
def test_every_point_in_the_circle_lies_in_one_of_the_cells(radius_m):
    rng = random.Random(radius_m)
    for _ in range(30):
        lat, lon = rng.uniform(-5.23, -5.05), rng.uniform(119.38, 119.52)
        cells = cover(lat, lon, radius_m)
        assert 1 <= len(cells) <= MAX_CELLS and len({len(c) for c in cells}) == 1
        for _ in range(50):
            bearing, r = rng.uniform(0, 2 * math.pi), radius_m * math.sqrt(rng.random())
            p = (lat + r * math.cos(bearing) / 111_320, lon + r * math.sin(bearing) / (111_320 * math.cos(math.radians(lat))))
            if distance_m((lat, lon), p) <= radius_m:
                assert any(geohash_of(*p).startswith(c) for c in cells), (lat, lon, p, cells)


def test_a_duplicate_check_needs_few_fine_cells_and_a_kilometre_coarser_ones():
    assert len(cover(*PASAR, 75)) <= 4 and len(cover(*PASAR, 75)[0]) == 7
    wide = cover(*PASAR, 1000)
    assert len(wide) <= MAX_CELLS and len(wide[0]) == 6
    assert geohash_of(*PASAR).startswith(wide[0])  # the cell holding the centre is asked first


def _report(**fields) -> Report:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    doc = {"report_id": "r1", "reporter_ref": "secret-ref", "reporter_key": "secret-key", "category": "jalan_rusak",
           "description": "Lubang, hubungi 0812-3456-7890", "point": {"lat": -5.14771, "lon": 119.43274, "accuracy_m": 5},
           "street": "Jl. Rumah Saya 12", "received_at": now, "status": "routed", "status_changed_at": now,
           "photo": {"required": True, "verdict": "accepted", "thumbnail_object": "derived/r1/thumb.jpg"},
           "geohash": geohash_of(-5.14771, 119.43274)}
    return Report.model_validate(doc | fields)


def test_the_public_view_names_nobody_and_redacts_contacts():
    view = public_view(_report(), lat=PASAR[0], lon=PASAR[1], thumbnail_url="https://link")
    text = repr(view)
    assert "secret" not in text and "Rumah Saya" not in text and "0812" not in text
    assert view["supporters"] == 0 and view["thumbnail_url"] == "https://link"


def test_a_private_category_is_rounded_and_its_distance_taken_from_the_rounded_point():
    report = _report(category="pkl")
    view = public_view(report, lat=-5.1477, lon=119.4327, thumbnail_url=None)
    assert view["point"] == {"lat": -5.148, "lon": 119.433} and view["description"] is None
    assert view["distance_m"] == pytest.approx(distance_m((-5.1477, 119.4327), (-5.148, 119.433)), abs=0.1)
    assert not photo_is_public(report)


def test_only_a_public_reports_accepted_photo_is_shown():
    assert photo_is_public(_report())
    assert not photo_is_public(_report(private=True))
    assert not photo_is_public(_report(photo={"required": True, "verdict": None}))


def test_a_private_report_has_no_listing_tags():
    assert listing("routed") == ["any", "open"] and listing("routed", private=True) == []


@pytest.mark.parametrize(("params", "field"), [
    ({"lat": 1, "lon": 2, "radius_m": 1000.5}, "radius_m"), ({"lat": 91, "lon": 2}, "lat"),
    ({"lat": 1, "lon": 2, "category": "ufo"}, "category"), ({"lat": 1, "lon": 2, "extra": 1}, "extra"),
])
def test_nearby_queries_are_bounded(params, field):
    with pytest.raises(ValidationError) as caught:
        NearbyQuery.model_validate(params)
    assert caught.value.errors()[0]["loc"][0] == field


def test_an_open311_bbox_becomes_its_circumcircle_and_keeps_only_the_box():
    query = RequestQuery.model_validate({"bbox": "119.43,-5.15,119.44,-5.14"})
    area = query.area()
    assert area is not None and area.radius_m == pytest.approx(785, abs=10)
    assert area.holds(-5.145, 119.435) and not area.holds(-5.139, 119.435)
    circle = RequestQuery.model_validate({"lat": "-5.1477", "long": "119.4327", "radius": "200"}).area()
    assert circle is not None and circle.holds(-5.1477, 119.4335) and not circle.holds(-5.1477, 119.436)


def test_updated_after_alone_does_not_cut_old_requests_by_the_90_day_window():
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert RequestQuery.model_validate({"updated_after": "2026-11-01T00:00:00Z"}).received_window(now) is None
    assert RequestQuery.model_validate({}).received_window(now) is not None


def test_a_spot_is_read_from_a_reports_fields_and_refuses_a_document_that_is_none():
    doc = {"report_id": "r1", "geohash": "qqu2xyz", "point": {"lat": -5.14, "lon": 119.43},
           "received_at": datetime(2026, 3, 1, 8), "status_changed_at": datetime(2026, 3, 2, 8, tzinfo=UTC)}
    spot = Spot.from_doc(doc)
    assert (spot.lat, spot.lon, spot.private) == (-5.14, 119.43, False)
    assert spot.received_at == datetime(2026, 3, 1, 8, tzinfo=UTC)  # as Firestore answers: aware
    for broken in ({**doc, "point": None}, {k: v for k, v in doc.items() if k != "received_at"},
                   {**doc, "status_changed_at": "yesterday"}):
        with pytest.raises(ValueError):
            Spot.from_doc(broken)


@pytest.mark.parametrize(("cap", "shown"), [(60, 5), (300, 50), (20, 100), (21, 100), (400, 200)])
def test_a_search_and_the_whole_reads_after_it_stay_within_the_cap(cap, shown):
    budget = ReadBudget.showing(cap, shown)
    while budget.searchable > 0:  # the search spends what it may, one cell share at a time
        budget.spend(budget.limit_for(3), budget.limit_for(3))
    assert budget.wholes(shown) == min(shown, cap // 2)  # the reserve is intact for the whole reads
    budget.spend_wholes(budget.wholes(shown))
    assert budget.reads <= cap and budget.left >= 0
