"""The `work` page in Debian's Chromium at a phone's viewport, on the emulator stack: a Dinas PU officer
signs in, finds the queue sorted by due time with an overdue report marked, and takes a pothole from
routed through a camera capture of the proof to resolved; every number and status on the page equals
the API's (queue.json, report.json) and Firestore's."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright import sync_api

from keluhan.devstack.client import wait_for
from keluhan.devstack.env import clock_file
from keluhan.settings import REPO_ROOT
from tests.e2e.test_pipeline import _publisher, fresh_photo, report_body, submit_with_photo
from tests.e2e.test_war_room import CHROMIUM, CHROMIUM_ARGS, UPDATE_SCREENSHOT
from tests.support.places import kelurahan_point

SCREENSHOT = REPO_ROOT / "docs" / "work.png"  # the queue
REPORT_SCREENSHOT = REPO_ROOT / "docs" / "work-report.png"  # a report in progress, its resolve form
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
EMAIL = "pu.work.e2e@dinas-pu.makassar.test"
# City roads: Dinas PU's. The officer's proof is taken where the pothole is (Bontorannu).
PLACES = ("Bontorannu", "Maradekaya", "Tallo")


@pytest.fixture(scope="module")
def phone():
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium (scripts/setup installs Debian's chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(**PHONE, locale="id-ID", timezone_id="Asia/Makassar")
        yield context
        context.close()
        browser.close()


@pytest.fixture(scope="module")
def officer(client):
    return client.user(EMAIL, {"role": "skpd", "skpd": "dinas-pu"})[1]


def _routed(client, report_id):
    report = client.wait_report(report_id, lambda r: r["status"] == "routed", timeout_s=90)
    assert report["assignee"] == "dinas-pu", report
    return report


@pytest.fixture(scope="module")
def reports(client, call_center):
    """A citizen's pothole with a photo (the one worked on the page) and two Call Center 112 reports,
    all on city roads, all routed to Dinas PU."""
    _, citizen = client.sign_in("warga.work.e2e@example.com")
    lat, lon, _ = kelurahan_point(PLACES[0])
    taken = datetime.now(UTC) - timedelta(minutes=3)
    pothole = submit_with_photo(client, citizen, report_body(lat, lon, street="Jl. Landak Baru", taken_at=taken),
                                fresh_photo(lat, lon, seed=uuid.uuid4().int, taken_at=taken))
    ids = [pothole]
    for name in PLACES[1:]:
        lat, lon, _ = kelurahan_point(name)
        response = client.submit(call_center[1], report_body(lat, lon, street="Jl. Landak Baru",
                                                              channel="call_center_112"))
        assert response.status_code == 201, response.text
        ids.append(response.json()["report_id"])
    for report_id in ids:
        _routed(client, report_id)
    return {"pothole": pothole, "others": ids[1:]}


@pytest.fixture(scope="module")
def overdue(client, call_center, stack, reports):
    """A report received when the functions' clock said 20 days ago: past its target, escalated by the sweep."""
    path = clock_file(stack.state_dir)
    lat, lon, _ = kelurahan_point("Maradekaya")
    path.write_text(str(-timedelta(days=20).total_seconds()))
    try:
        response = client.submit(call_center[1], report_body(lat, lon, street="Jl. Landak Baru",
                                                              channel="call_center_112"))
        assert response.status_code == 201, response.text
        report_id = response.json()["report_id"]
        _routed(client, report_id)
    finally:
        path.unlink(missing_ok=True)
    tick = _publisher(client)

    def escalated():
        tick("sweep-tick", {}, {})
        return _if_overdue(client.report(report_id))
    wait_for(escalated, timeout_s=60, what="the sweep flags the report overdue", interval_s=2)
    return report_id


def _if_overdue(report):
    return report if report and report.get("overdue") else None


def api(client, token, path, **params):
    response = client.http.get(client.function_url("work") + path, params=params,
                               headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def page_queue(page) -> list[dict]:
    """Each card of the queue as the page shows it, with the raw values it carries."""
    return page.evaluate("""() => [...document.querySelectorAll("#queue li[data-report-id]")].map(li => ({
      report_id: li.dataset.reportId, status: li.dataset.status, overdue: li.dataset.overdue === "true",
      due_at: JSON.parse(li.querySelector('[data-field="due_at"]').dataset.value),
      supporters: Number(li.querySelector('[data-field="supporters"]').dataset.value),
      late_mark: !!li.querySelector('[data-field="overdue"]')}))""")


def queue_of(api_queue) -> list[dict]:
    return [{"report_id": r["report_id"], "status": r["status"], "overdue": r["overdue"], "due_at": r["due_at"],
             "supporters": r["supporters"], "late_mark": r["overdue"]} for r in api_queue["reports"]]


def page_report(page) -> dict:
    """The report on screen: every fact's raw value, the timeline, the actions offered."""
    return page.evaluate("""() => {
      const view = document.querySelector("#detail-view");
      const facts = Object.fromEntries([...view.querySelectorAll("[data-field][data-value]")].map(
        n => [n.dataset.field, JSON.parse(n.dataset.value)]));
      return {report_id: view.dataset.reportId, status: view.dataset.status, facts,
              timeline: [...document.querySelectorAll("#timeline li")].map(li => li.dataset.status),
              actions: [...document.querySelectorAll("#actions form")].map(f => f.dataset.action),
              overdue: !document.querySelector("#d-overdue").hidden,
              geo: document.querySelector('[data-testid="geo-link"]').getAttribute("href")};
    }""")


def report_of(found: dict) -> dict:
    item, report = found["item"], found["report"]
    return {"report_id": item["report_id"], "status": item["status"],
            "facts": {"status": item["status"], "due_at": item["due_at"], "supporters": item["supporters"],
                      "kelurahan": item["kelurahan"], "kecamatan": item["kecamatan"], "street": item["street"],
                      "received_at": item["received_at"], "report_id": item["report_id"],
                      "point": {"lat": report["point"]["lat"], "lon": report["point"]["lon"]}},
            "timeline": [t["status"] for t in report["timeline"]], "actions": item["allowed_actions"],
            "overdue": item["overdue"], "geo": f"geo:{report['point']['lat']},{report['point']['lon']}?"
                                               f"q={report['point']['lat']},{report['point']['lon']}"}


def same_as_api(client, officer, page, report_id: str) -> dict:
    """The report on the page equals report.json read right after (and Firestore's status and due time)."""
    found = api(client, officer, "report.json", report_id=report_id)
    assert page_report(page) == report_of(found)
    stored = client.report(report_id)
    assert stored["status"] == found["item"]["status"] and len(stored["timeline"]) == len(found["report"]["timeline"])
    assert _iso(stored["sla"]["due_at"]) == _iso(found["item"]["due_at"])
    return found


def _iso(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _move(page, action: str, status: str):
    form = page.locator(f'#actions form[data-action="{action}"]')
    form.locator("button[type=submit]").tap()
    page.wait_for_selector(f'#detail-view[data-status="{status}"]', timeout=30_000)


def test_an_officer_takes_a_pothole_from_routed_through_a_proof_photo_to_resolved_on_a_phone(
        client, phone, officer, reports, overdue, tmp_path):
    pothole = reports["pothole"]
    page = phone.new_page()
    started = time.monotonic()
    page.goto(client.function_url("work"))
    form = page.get_by_test_id("signin")
    form.locator("input[name=email]").fill(EMAIL)
    form.locator("input[name=password]").fill("rahasia-demo")
    form.locator("button[type=submit]").tap()
    page.wait_for_selector('body[data-loaded="queue"]', timeout=30_000)
    loaded_s = time.monotonic() - started

    # The queue: the API's order (soonest due first), statuses, due times, overdue marks and supporters.
    def queue_matches():
        before = api(client, officer, "queue.json")
        loads = int(page.locator("body").get_attribute("data-loads"))
        page.get_by_role("button", name="Muat ulang / Refresh").tap()
        page.wait_for_selector(f'body[data-loaded="queue"][data-loads="{loads + 1}"]')
        shown = page_queue(page)
        return shown if shown == queue_of(before) == queue_of(api(client, officer, "queue.json")) else None
    shown = wait_for(queue_matches, timeout_s=60, what="the page's queue equal to queue.json", interval_s=1)
    ids = [card["report_id"] for card in shown]
    assert {pothole, overdue, *reports["others"]} <= set(ids)
    assert ids.index(overdue) < ids.index(pothole)  # due 20 days ago: on top of today's
    late = next(card for card in shown if card["report_id"] == overdue)
    assert late["overdue"] and late["late_mark"]
    dues = [card["due_at"] for card in shown if card["due_at"]]
    assert dues == sorted(dues, key=_iso)
    page.screenshot(path=str(SCREENSHOT if UPDATE_SCREENSHOT else tmp_path / "work.png"))

    # The report: staff view, the map point's geo: link, the moves the table allows for routed.
    page.locator(f'#queue li[data-report-id="{pothole}"]').tap()
    page.wait_for_selector(f'#detail-view[data-report-id="{pothole}"]', timeout=30_000)
    found = same_as_api(client, officer, page, pothole)
    assert found["item"]["allowed_actions"] == ["accept", "reject", "ask_reporter"] and found["item"]["kelurahan"] == PLACES[0]
    assert page.get_by_test_id("photo-placeholder").is_visible() or page.locator("#photo").is_visible()

    _move(page, "accept", "accepted")
    same_as_api(client, officer, page, pothole)
    _move(page, "start", "in_progress")
    assert same_as_api(client, officer, page, pothole)["item"]["allowed_actions"] == ["resolve", "schedule", "ask_reporter"]
    page.screenshot(path=str(REPORT_SCREENSHOT if UPDATE_SCREENSHOT else tmp_path / "work-report.png"),
                    full_page=True)

    # Resolve: the camera's photo (EXIF time and GPS where the pothole is) goes up to the signed URL.
    resolve = page.locator('#actions form[data-action="resolve"]')
    proof = resolve.locator("input[name=proof]")
    assert (proof.get_attribute("accept"), proof.get_attribute("capture")) == ("image/*", "environment")
    lat, lon, _ = kelurahan_point(PLACES[0])
    proof.set_input_files(files=[{"name": "bukti.jpg", "mimeType": "image/jpeg",
                                  "buffer": fresh_photo(lat, lon, seed=uuid.uuid4().int)}])
    resolve.locator("textarea[name=note]").fill("Sudah ditambal / Patched")
    resolve.locator("button[type=submit]").tap()
    page.wait_for_selector(f'body[data-uploaded="{pothole}"]', timeout=30_000)
    page.wait_for_selector('#detail-view[data-status="resolved"]', timeout=90_000)  # the page looks again
    found = same_as_api(client, officer, page, pothole)
    stored = client.report(pothole)
    assert stored["resolution"]["verdict"] == "accepted" and stored["resolution"]["note"] == "Sudah ditambal / Patched"
    assert [t["action"] for t in stored["timeline"]][-4:] == ["accept", "start", "resolve", "proof_accepted"]
    assert found["item"]["allowed_actions"] == [] and page.get_by_test_id("error").inner_text() == ""

    # Back to the queue: the resolved pothole has left it, the rest are as the API has them.
    page.get_by_role("button", name="Kembali / Back").tap()
    shown = wait_for(queue_matches, timeout_s=60, what="the queue after the fix", interval_s=1)
    assert pothole not in [card["report_id"] for card in shown]
    print(f"work page: signed in with the queue shown in {loaded_s:.2f} s")
    page.close()


def test_a_non_staff_token_sees_the_refusal_and_no_queue(client, phone, call_center):
    page = phone.new_page()
    page.goto(client.function_url("work") + f"#token={call_center[1]}")
    sync_api.expect(page.get_by_test_id("error")).to_contain_text("403")
    assert "token" not in page.url and page.locator("#queue li").count() == 0
    page.close()


# Chrome DevTools' "Slow 3G" preset: 400 ms round trips, about 400 kbit/s down and up.
SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 400 * 1024 / 8, "uploadThroughput": 400 * 1024 / 8}


def test_the_queue_comes_up_over_a_slow_3g_link(client, phone, officer, reports):
    """Prints how long the page takes to show the queue over Slow 3G, and how many bytes it fetched."""
    page = phone.new_page()
    session = phone.new_cdp_session(page)
    session.send("Network.enable")
    session.send("Network.emulateNetworkConditions", SLOW_3G)
    responses: list[sync_api.Response] = []
    page.on("response", lambda response: responses.append(response))
    started = time.monotonic()
    page.goto(client.function_url("work") + f"#token={officer}")
    page.wait_for_selector('body[data-loaded="queue"]', timeout=60_000)
    shown_s = time.monotonic() - started
    assert page.locator("#queue li[data-report-id]").count() >= 1 and page.get_by_test_id("error").inner_text() == ""
    fetched = [len(r.body()) for r in responses if r.ok]
    print(f"work page over Slow 3G: queue shown in {shown_s:.2f} s, {len(fetched)} responses, "
          f"{sum(fetched)} bytes")
    page.close()
