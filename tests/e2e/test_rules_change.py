"""Routing rules are data: a change loaded into Firestore takes effect within a minute, no redeploy."""

from __future__ import annotations

import json

from keluhan.cli import main as keluhan
from keluhan.rules_provider import default_rules_path
from tests.e2e.test_pipeline import report_body
from tests.support.places import kelurahan_point


def test_loaded_rule_change_routes_new_reports_within_a_minute(client, call_center, tmp_path, capsys):
    rules = json.loads(default_rules_path().read_text())
    rules["version"] = "e2e-reklame-to-dishub"
    rules["rules"].insert(0, {
        "id": "billboards-dishub", "priority": 1,
        "match": {"category": ["reklame_liar"], "inside_city": True},
        "assignee": "dishub",
        "reason": "{category} di {place} ditangani {assignee} / {category_en} in {place} is handled by {assignee_en}",
    })
    changed = tmp_path / "rules.json"
    changed.write_text(json.dumps(rules))
    assert keluhan(["rules", "load", str(changed)]) == 0
    assert "e2e-reklame-to-dishub" in capsys.readouterr().out

    _, token = call_center
    lat, lon, _ = kelurahan_point("Bontorannu")

    def routed_by_new_rules() -> dict:
        response = client.submit(token, report_body(lat, lon, category="reklame_liar", channel="call_center_112"))
        report = client.wait_report(response.json()["report_id"])
        return report if report["routing"]["rules_version"] == "e2e-reklame-to-dishub" else None

    from keluhan.devstack.client import wait_for

    report = wait_for(routed_by_new_rules, timeout_s=75, interval_s=5, what="new rules in force")
    assert report["routing"]["assignee"] == "dishub"
    assert report["routing"]["rule"] == "billboards-dishub"
