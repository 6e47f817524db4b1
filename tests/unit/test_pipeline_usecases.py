"""Use cases with fake ports: idempotent per (report, stage), re-publishing on redelivery."""

from __future__ import annotations

import functools
from datetime import timedelta

import pytest

from keluhan.domain.location import Location, Road
from keluhan.domain.report import SubmitReport
from keluhan.domain.routing import decide
from keluhan.domain.workflow import Actor, Role
from keluhan.ports import PermanentError
from keluhan.rules_provider import default_rules_path, load_rules
from keluhan.usecases.pipeline import ReportNotFound, locate_report, route_report
from keluhan.usecases.submission import PhotoUploadPolicy, submit_report
from tests.support.fakes import FakeClock, FakePhotoStore, FakePublisher, FakeReports, stored

BONTORANNU = Location(kelurahan="Bontorannu", kode_kelurahan="73.71.01.1001", kecamatan="Mariso",
                      kode_kecamatan="73.71.01", inside_city=True, data_version="test-v1",
                      road=Road(name="Jl. Hertasning", status="provinsi", source="street_name"))


class FixedLocator:
    def __init__(self, location: Location):
        self.location = location
        self.calls = 0

    def locate(self, lat, lon, street=None):
        self.calls += 1
        return self.location


@pytest.fixture
def world():
    reports, publish, clock = FakeReports(), FakePublisher(), FakeClock()
    policy = PhotoUploadPolicy(url_ttl=timedelta(minutes=15), wait=timedelta(hours=24), max_bytes=1000)
    cmd = SubmitReport(client_id="client-0001", category="jalan_rusak", description="Lubang",
                       lat=-5.16, lon=119.40, accuracy_m=5, channel="call_center_112")
    result = submit_report(cmd, actor=Actor(Role.CHANNEL, "u1", channel="call_center_112"), reports=reports,
                           publish=publish, photos=FakePhotoStore(), clock=clock, new_id=lambda: "r1",
                           policy=policy)
    assert result.created and publish.stage_topics() == ["report-accepted"]
    return reports, publish, clock


def _decide():
    return functools.partial(decide, rules=load_rules(default_rules_path()))


def test_located_report_keeps_the_raw_point_and_records_the_data_version(world):
    reports, publish, clock = world
    locator = FixedLocator(BONTORANNU)
    report = stored(locate_report("r1", reports=reports, geo=locator, publish=publish, clock=clock))
    assert report["status"] == "located"
    assert report["point"] == {"lat": -5.16, "lon": 119.40, "accuracy_m": 5}
    assert report["location"]["kelurahan"] == "Bontorannu"
    assert report["stages"]["located"]["data_version"] == "test-v1"
    assert publish.stage_topics()[-1] == "report-located"


def test_redelivered_locate_changes_nothing_but_republishes(world):
    reports, publish, clock = world
    locator = FixedLocator(BONTORANNU)
    locate_report("r1", reports=reports, geo=locator, publish=publish, clock=clock)
    before = reports.get("r1")
    clock.advance(minutes=5)
    locate_report("r1", reports=reports, geo=locator, publish=publish, clock=clock)
    assert reports.get("r1") == before
    assert locator.calls == 1
    assert publish.stage_topics().count("report-located") == 2  # downstream dedupes


def test_pothole_on_provincial_road_is_forwarded_to_baruga_with_a_pending_delivery(world):
    reports, publish, clock = world
    locate_report("r1", reports=reports, geo=FixedLocator(BONTORANNU), publish=publish, clock=clock)
    report = stored(route_report("r1", reports=reports, decide=_decide(), publish=publish, clock=clock))
    assert report["status"] == "forwarded"
    assert report["routing"]["assignee"] == "baruga" and report["routing"]["rule"] == "road-provinsi"
    assert report["forwarding"]["state"] == "pending"
    assert report["forwarding"]["idempotency_key"] == "keluhan:r1:baruga"
    topic, _, attributes = publish.messages[-1]
    assert topic == "report-routed" and attributes["kind"] == "external"


def test_redelivered_route_republishes_the_same_decision(world):
    reports, publish, clock = world
    locate_report("r1", reports=reports, geo=FixedLocator(BONTORANNU), publish=publish, clock=clock)
    route_report("r1", reports=reports, decide=_decide(), publish=publish, clock=clock)
    before = reports.get("r1")
    route_report("r1", reports=reports, decide=_decide(), publish=publish, clock=clock)
    assert reports.get("r1") == before
    assert [m[2]["assignee"] for m in publish.messages if m[0] == "report-routed"] == ["baruga", "baruga"]


def test_routing_before_locating_is_a_permanent_error(world):
    reports, publish, clock = world
    with pytest.raises(PermanentError):
        route_report("r1", reports=reports, decide=_decide(), publish=publish, clock=clock)


def test_unknown_report_is_retried_not_acknowledged(world):
    reports, publish, clock = world
    with pytest.raises(ReportNotFound):
        locate_report("nope", reports=reports, geo=FixedLocator(BONTORANNU), publish=publish, clock=clock)


def test_a_crash_between_write_and_publish_is_healed_by_the_redelivery(world):
    reports, publish, clock = world
    publish.fail_next = 1
    with pytest.raises(ConnectionError):
        locate_report("r1", reports=reports, geo=FixedLocator(BONTORANNU), publish=publish, clock=clock)
    assert reports.docs["r1"]["status"] == "located"  # written, but the event was lost
    locate_report("r1", reports=reports, geo=FixedLocator(BONTORANNU), publish=publish, clock=clock)
    assert publish.stage_topics()[-1] == "report-located"


@pytest.fixture
def on_city_road(world):
    """r1, a pothole on a jalan kota, routed to Dinas PU."""
    reports, publish, clock = world
    kota = BONTORANNU.model_copy(update={"road": Road(name="Jl. Landak Baru", status="kota", source="street_name")})
    locate_report("r1", reports=reports, geo=FixedLocator(kota), publish=publish, clock=clock)
    route_report("r1", reports=reports, decide=_decide(), publish=publish, clock=clock)
    return world


def test_operator_hands_over_to_another_skpd_with_a_recorded_reason(on_city_road):
    from keluhan.usecases.reassign import reassign_report

    reports, publish, clock = on_city_road
    report = stored(reassign_report("r1", to="dishub", reason="Rambu, bukan jalan / A sign, not the road",
                             by="operator:ani", reports=reports, decide=_decide(), publish=publish, clock=clock))
    assert report["assignee"] == "dishub" and report["status"] == "routed"
    assert report["routing"]["rule"] == "manual"
    assert report["reassignments"][-1]["from"] == "dinas-pu"
    assert report["timeline"][-1]["by"] == "operator:ani"
    assert publish.messages[-1][2]["assignee"] == "dishub"


def test_rerouting_to_an_external_body_starts_a_tracked_delivery(on_city_road):
    from keluhan.usecases.reassign import reassign_report

    reports, publish, clock = on_city_road
    report = stored(reassign_report("r1", to="baruga", reason="Ternyata jalan provinsi / It is a provincial road",
                             by="operator:ani", reports=reports, decide=_decide(), publish=publish, clock=clock))
    assert report["status"] == "forwarded" and report["forwarding"]["state"] == "pending"


def test_reassignment_needs_a_reason_and_a_known_assignee(world):
    from keluhan.usecases.reassign import reassign_report

    reports, publish, clock = world
    locate_report("r1", reports=reports, geo=FixedLocator(BONTORANNU), publish=publish, clock=clock)
    route_report("r1", reports=reports, decide=_decide(), publish=publish, clock=clock)
    for to, reason in (("dishub", " "), ("dinas-rahasia", "x / y")):
        with pytest.raises(PermanentError):
            reassign_report("r1", to=to, reason=reason, by="op", reports=reports, decide=_decide(),
                            publish=publish, clock=clock)


def test_reassigned_away_and_back_is_a_new_hand_over_with_its_own_key(world):
    from keluhan.usecases.reassign import reassign_report

    reports, publish, clock = world
    locate_report("r1", reports=reports, geo=FixedLocator(BONTORANNU), publish=publish, clock=clock)
    first = stored(route_report("r1", reports=reports, decide=_decide(), publish=publish, clock=clock))
    args = dict(by="op", reports=reports, decide=_decide(), publish=publish, clock=clock)
    reassign_report("r1", to="dinas-pu", reason="Jalan kota / City road", **args)
    back = stored(reassign_report("r1", to="baruga", reason="Tetap provinsi / Provincial after all", **args))
    assert first["forwarding"]["idempotency_key"] != back["forwarding"]["idempotency_key"]
    assert publish.messages[-1][2]["delivery_key"] == back["forwarding"]["idempotency_key"]
