"""The War Room page in a real headless Chromium on the emulator stack: the map, and the page's
numbers equal to stats.json."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
import requests
from playwright import sync_api

from keluhan.devstack.client import wait_for
from keluhan.settings import REPO_ROOT
from tests.e2e.test_handling import act, resolve_with_proof
from tests.e2e.test_pipeline import report_body
from tests.support.places import kelurahan_point

CHROMIUM = Path("/usr/bin/chromium")
# No internet here: without the background-networking flags Chromium stalls on its own requests.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# docs/war-room.png is rewritten only on request, so a test run leaves the checkout clean.
SCREENSHOT = REPO_ROOT / "docs" / "war-room.png"
UPDATE_SCREENSHOT = os.environ.get("KELUHAN_UPDATE_SCREENSHOT") == "1"
# City roads in three kecamatan and an island of Kepulauan Sangkarrang: all Dinas PU's.
PLACES = ("Bontorannu", "Maradekaya", "Tallo", "Barrang Lompo")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium (scripts/setup installs Debian's chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def operator(client):
    return client.user("operator.warroom.e2e@warroom.makassar.test", {"role": "operator"})[1]


@pytest.fixture(scope="module")
def reports(client, call_center):
    """Pothole reports on city roads, routed to Dinas PU: one resolved with a proof photo, one accepted, the
    rest waiting; their figures recorded."""
    _, token = call_center
    ids = []
    for name in PLACES:
        lat, lon, _ = kelurahan_point(name)
        response = client.submit(token, report_body(lat, lon, street="Jl. Landak Baru", channel="call_center_112"))
        assert response.status_code == 201, response.text
        ids.append(response.json()["report_id"])
    for report_id in ids:
        report = client.wait_report(report_id)
        assert report["assignee"] == "dinas-pu", report
    pu = client.user("pu.warroom.e2e@dinas-pu.makassar.test", {"role": "skpd", "skpd": "dinas-pu"})[1]
    act(client, pu, ids[0], "accept", "routed")
    act(client, pu, ids[0], "start", "accepted")
    assert resolve_with_proof(client, pu, ids[0])["status"] == "resolved"  # PLACES[0] is where the proof is taken
    act(client, pu, ids[1], "accept", "routed")
    for report_id in ids:
        wait_for(lambda r=report_id: _figures_recorded(client, r), timeout_s=150, what=f"figures of {report_id}")
    return ids


def _figures_recorded(client, report_id) -> bool:
    report = client.report(report_id)
    state = client.db.collection("stats_reports").document(report_id).get()
    return state.exists and state.to_dict().get("seq") == len(report["timeline"]) - 1


def stats_json(client, token, month="all") -> requests.Response:
    return client.http.get(client.function_url("war_room") + "stats.json", params={"month": month},
                           headers={"Authorization": f"Bearer {token}"}, timeout=30)


def quiet_stats(client, token) -> dict:
    """stats.json once two reads a second apart agree (other tests' figures may still be landing)."""
    def same_twice():
        first = stats_json(client, token).json()
        time.sleep(1)
        second = stats_json(client, token).json()
        return second if _without_time(first) == _without_time(second) else None
    return wait_for(same_twice, timeout_s=60, what="stats.json at rest")


def _without_time(stats: dict) -> dict:
    return {k: v for k, v in stats.items() if k != "generated_at"}


def page_figures(page) -> dict:
    """Every number on the page, read from the elements' data-value, in stats.json's shape."""
    return page.evaluate("""() => {
      const value = (node) => JSON.parse(node.dataset.value);
      const tile = (id) => value(document.querySelector(`[data-testid="${id}"]`));
      const rows = (id) => [...document.querySelectorAll(`#${id} tr[data-key]`)].map(tr => Object.fromEntries(
        [["key", tr.dataset.key], ...[...tr.querySelectorAll("td[data-value]")].map(
          td => [td.dataset.field, value(td)])]));
      return {
        city: {received: tile("city-received"), open: tile("city-open"), overdue: tile("city-overdue"),
               resolution_h_median: tile("median-hours"), resolution_h_p90: tile("p90-hours"),
               sla_met: tile("sla-met"), satisfaction_mean: tile("satisfaction"),
               scheduled: tile("city-scheduled"),
               scheduled_past_date: tile("city-scheduled-past-date"), awaiting_reporter: tile("city-awaiting-reporter"),
               awaiting_validation: tile("city-awaiting-validation")},
        resolved_this_week: tile("resolved-this-week"),
        by_skpd: rows("by-skpd"), by_kecamatan: rows("by-kecamatan"), by_category: rows("by-category"),
        overdue: rows("overdue"),
        map_open: Object.fromEntries([...document.querySelectorAll("#map path")].map(
          p => [p.dataset.kode, Number(p.dataset.open)])),
      };
    }""")


def expected_figures(stats: dict, page: dict) -> dict:
    """stats.json cut to what the page shows, with the page's columns."""
    def rows(items, key):
        fields = [k for k in (page[key][0] if page[key] else {}) if k != "key"]
        return [{"key": item["key" if "key" in item else "report_id"], **{f: item[f] for f in fields}}
                for item in items]
    return {
        "city": {k: stats["city"][k] for k in page["city"]},
        "resolved_this_week": stats["resolved_this_week"],
        "by_skpd": rows(stats["by_skpd"], "by_skpd"), "by_kecamatan": rows(stats["by_kecamatan"], "by_kecamatan"),
        "by_category": rows(stats["by_category"], "by_category"),
        "overdue": rows(stats["overdue"], "overdue"),
        "map_open": {kode: stats["by_kelurahan"].get(kode, {}).get("open", 0) for kode in page["map_open"]},
    }


def test_the_page_shows_153_kelurahan_and_the_same_numbers_as_stats_json(client, browser, operator, reports,
                                                                         tmp_path):
    stats = quiet_stats(client, operator)
    pu = next(row for row in stats["by_skpd"] if row["key"] == "dinas-pu")
    assert pu["received"] >= len(PLACES) and pu["open"] >= len(PLACES) - 1 and pu["resolved"] >= 1
    assert stats["resolved_this_week"] >= 1 and stats["city"]["resolution_h_median"] is not None

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    started = time.monotonic()
    page.goto(client.function_url("war_room") + f"#token={operator}")
    page.wait_for_selector("body[data-generated-at]", timeout=30_000)
    loaded_s = time.monotonic() - started
    assert "token" not in page.url  # moved out of the address bar

    shown = page_figures(page)
    assert len(shown["map_open"]) == 153
    assert shown == expected_figures(quiet_stats(client, operator), shown)
    coloured = {kode for kode, n in shown["map_open"].items() if n}
    assert {kelurahan_point(name)[2]["kode_kelurahan"] for name in PLACES[1:]} <= coloured  # still open
    assert page.locator('[data-testid="error"]').inner_text() == ""

    page.screenshot(path=str(SCREENSHOT if UPDATE_SCREENSHOT else tmp_path / "war-room.png"), full_page=True)
    print(f"war room page loaded with data in {loaded_s:.2f} s")
    page.close()


def test_the_sign_in_form_signs_an_operator_in_at_the_auth_emulator(client, browser, operator, reports):
    page = browser.new_page()
    page.goto(client.function_url("war_room"))
    form = page.locator('[data-testid="signin"]')
    form.wait_for(state="visible")
    form.locator("input[name=email]").fill("operator.warroom.e2e@warroom.makassar.test")
    form.locator("input[name=password]").fill("rahasia-demo")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("body[data-generated-at]", timeout=30_000)
    assert form.is_hidden()
    assert int(page.locator('[data-testid="city-received"]').get_attribute("data-value")) >= len(PLACES)
    page.close()


def test_stats_json_is_for_operators_only(client, call_center, reports):
    _, channel_token = call_center
    pu = client.user("pu.warroom.e2e@dinas-pu.makassar.test", {"role": "skpd", "skpd": "dinas-pu"})[1]
    for token in (channel_token, pu):
        response = stats_json(client, token)
        assert response.status_code == 403 and response.json()["error"]["field"] == "Authorization"
    assert client.http.get(client.function_url("war_room") + "stats.json", timeout=30).status_code == 401


def test_a_non_operator_sees_the_refusal_on_the_page(client, browser, call_center, reports):
    _, channel_token = call_center
    page = browser.new_page()
    page.goto(client.function_url("war_room") + f"#token={channel_token}")
    # A locator, not wait_for_function: the page's Content-Security-Policy forbids eval, as it should.
    sync_api.expect(page.get_by_test_id("error")).to_have_text(re.compile(r"^403: "))
    assert page.locator("#map path").count() == 153  # the public outlines still draw
    assert page.locator('[data-testid="city-open"]').inner_text() == "–"
    page.close()

