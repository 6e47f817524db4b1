"""Issue 20 on the emulators, driven through a Python client generated from docs/openapi.json.

The client is made in the test run by `openapi-python-client` (a generator nobody here wrote) from
the committed document, so a drift between the document and what the functions answer fails here:
submit → a second resident supports the report → staff comment in public and note internally (the
reporter reads only the public one, and is told of the reply) → resolve with a proof photo → the
reporter confirms with a rating of 4 → the figures show the satisfaction for dinas-pu.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest
import requests
from google.cloud.firestore import FieldFilter

from keluhan.devstack.client import wait_for
from keluhan.settings import REPO_ROOT
from tests.e2e.test_pipeline import fresh_photo, report_body
from tests.support.places import kelurahan_point

PACKAGE = "keluhan_api_client"


@pytest.fixture(scope="module")
def api(tmp_path_factory) -> ModuleType:
    """The generated client package, made from docs/openapi.json into a temporary directory."""
    out = tmp_path_factory.mktemp("generated")
    generator = Path(sys.executable).parent / "openapi-python-client"
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}  # its post-hook formats with ruff
    done = subprocess.run([str(generator), "generate", "--path", str(REPO_ROOT / "docs" / "openapi.json"),
                           "--output-path", str(out / PACKAGE), "--meta", "none"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout, done.stdout  # every operation and model was generated
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.{name}")


def _as(client, api, function: str, token: str):
    """A generated client for one function: locally each listens on its own port (any path)."""
    return api.AuthenticatedClient(base_url=client.function_url(function).rstrip("/"), token=token,
                                   raise_on_unexpected_status=True)


def test_support_comments_and_a_rated_fix_through_the_generated_client(client, api):
    models = _module("models")
    tag = uuid.uuid4().hex[:6]
    reporter_uid, reporter = client.user(f"pelapor-{tag}@warga.test")
    neighbour_uid, neighbour = client.user(f"tetangga-{tag}@warga.test")
    pu = client.user(f"pu-{tag}@dinas-pu.makassar.test", {"role": "skpd", "skpd": "dinas-pu"})[1]
    operator = client.user(f"op-{tag}@warroom.makassar.test", {"role": "operator"})[1]

    # The reporter submits through the generated client and uploads the photo to the signed URL.
    lat, lon, _ = kelurahan_point("Bontorannu")
    taken = datetime.now(UTC) - timedelta(minutes=1)
    body = models.SubmitReport.from_dict(report_body(lat, lon, street="Jl. Landak Baru", taken_at=taken))
    submitted = _module("api.warga.submit_report").sync_detailed(
        client=_as(client, api, "submit_report", reporter), body=body)
    assert submitted.status_code == 201, submitted.content
    created = submitted.parsed
    assert isinstance(created, models.SubmitReportAnswer) and created.upload
    put = client.upload_photo(created.upload.to_dict(), fresh_photo(lat, lon, seed=uuid.uuid4().int,
                                                                    taken_at=taken))
    assert put.status_code in (200, 201)
    report_id = created.report_id
    client.wait_report(report_id, lambda r: r["status"] == "routed" and r["assignee"] == "dinas-pu")

    # A second resident supports it: once, whatever the retries; the reporter may not.
    support = _module("api.warga.support_report")
    for _ in range(2):
        supported = support.sync(client=_as(client, api, "support_report", neighbour),
                                 body=models.SupportReport(report_id=report_id))
        assert isinstance(supported, models.SupportAnswer) and (supported.supported, supported.supporters) == (True, 1)
    own = support.sync_detailed(client=_as(client, api, "support_report", reporter),
                                body=models.SupportReport(report_id=report_id))
    assert own.status_code == 403 and isinstance(own.parsed, models.ErrorResponse)
    stored = client.report(report_id)
    assert stored["supporters"] == 1 and neighbour_uid not in repr(stored)

    # The SKPD answers in public and leaves an internal note; the reporter reads only the public one.
    post = _module("api.warga.comment_on_report")
    for visibility, text in (("public", "Akan ditambal minggu ini / Patching this week"),
                             ("internal", "Tunggu aspal dari gudang / Waiting for asphalt")):
        posted = post.sync_detailed(client=_as(client, api, "comment_on_report", pu), body=models.CommentOnReport(
            report_id=report_id, client_id=f"pu-{visibility}-{tag}", text=text,
            visibility=models.CommentOnReportVisibility(visibility)))
        assert posted.status_code == 201, posted.content
    thread = _module("api.warga.comment_on_report_thread")
    seen = thread.sync(client=_as(client, api, "comment_on_report", reporter), report_id=report_id)
    assert isinstance(seen, models.Thread)
    assert [(c.author, c.text) for c in seen.comments] == [
        ("skpd:dinas-pu", "Akan ditambal minggu ini / Patching this week")]
    staff = thread.sync(client=_as(client, api, "comment_on_report", pu), report_id=report_id)
    assert [str(c.visibility) for c in staff.comments] == ["public", "internal"]
    reply = post.sync_detailed(client=_as(client, api, "comment_on_report", neighbour), body=models.CommentOnReport(
        report_id=report_id, client_id=f"tetangga-{tag}", text="Terima kasih / Thanks"))
    assert reply.status_code == 201  # a supporter is in the thread
    # The reporter is told of the staff reply in their inbox (notify), once.
    inbox = client.db.collection("inbox").document(reporter_uid).collection("messages")
    replies = inbox.where(filter=FieldFilter("event", "==", "staff_reply"))
    told = wait_for(lambda: [m.to_dict() for m in replies.stream()],
                    timeout_s=60, what="the staff reply in the reporter's inbox")
    assert len(told) == 1 and told[0]["report_id"] == report_id

    # Resolve with a proof photo, through the generated client's upload ticket.
    act = _module("api.skpd.act_on_report")

    def move(token, action, expected, **extra):
        answer = act.sync_detailed(client=_as(client, api, "act_on_report", token), body=models.ActOnReport.from_dict(
            {"report_id": report_id, "action": action, "expected_status": expected, **extra}))
        assert answer.status_code == 200, answer.content
        return answer.parsed

    move(pu, "accept", "routed")
    move(pu, "start", "accepted")
    ticket = move(pu, "resolve", "in_progress", note="Sudah ditambal / Patched").upload
    proof = fresh_photo(lat, lon, seed=uuid.uuid4().int, taken_at=datetime.now(UTC))
    assert client.upload_photo(ticket.to_dict(), proof).status_code in (200, 201)
    resolved = client.wait_report(report_id, lambda r: r["status"] in ("resolved", "in_progress"), timeout_s=90)
    assert resolved["status"] == "resolved", resolved.get("resolution")

    # The reporter confirms with a rating of 4; their view shows it and the supporter count.
    move(reporter, "confirm", "resolved", rating=4, rating_text="Cepat / Quick")
    view = _module("api.warga.get_report").sync(client=_as(client, api, "get_report", reporter), report_id=report_id)
    assert isinstance(view, models.ReporterView)
    assert str(view.status) == "closed" and view.rating.score == 4 and view.supporters == 1

    # The figures: satisfaction for dinas-pu (the report's own part of it, and the group's).
    part = wait_for(lambda: _contribution(client, report_id, "skpd=dinas-pu@all", "rated"), timeout_s=60,
                    what="the rating in the figures")
    assert part["rated"] == 1 and part["rating_sum"] == 4 and part["rated_good"] == 1 and part["supporters"] == 1
    stats = requests.get(client.function_url("war_room") + "stats.json", timeout=30,
                         headers={"Authorization": f"Bearer {operator}"})
    assert stats.status_code == 200, stats.text
    figures = models.WarRoomStats.from_dict(stats.json())
    dinas_pu = next(row for row in figures.by_skpd if row.key == "dinas-pu").to_dict()
    assert dinas_pu["rated"] >= 1 and 1 <= dinas_pu["satisfaction_mean"] <= 5
    assert 0 < dinas_pu["satisfaction_good_share"] <= 1 and dinas_pu["supporters"] >= 0


def _contribution(client, report_id: str, key: str, counter: str) -> dict[str, int] | None:
    snap = client.db.collection("stats_reports").document(report_id).get()
    part = ((snap.to_dict() or {}).get("contribution") or {}).get(key) or {} if snap.exists else {}
    return part if part.get(counter) else None
