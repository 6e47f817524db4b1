"""The rules model: validation, priority order, areas, versions and the rules file."""

from __future__ import annotations

import copy
import json
import re

import pytest
from pydantic import ValidationError

from keluhan.domain.location import Location, Road
from keluhan.domain.routing import RuleSet, decide
from keluhan.rules_provider import default_rules_path, load_rules
from keluhan.settings import REPO_ROOT, Settings

REASON = "Uji {category} / Test {category_en}"


def rule(id: str, priority: int, assignee: str, **match: object) -> dict:
    return {"id": id, "priority": priority, "match": match, "assignee": assignee, "reason": REASON}


def ruleset(*rules: dict, version: str = "test-1") -> dict:
    return {"version": version, "rules": list(rules)}


def in_rappocini(road: str | None = None, kelurahan: str = "73.71.13.1001") -> Location:
    return Location(
        kelurahan="Tidung", kode_kelurahan=kelurahan, kecamatan="Rappocini",
        kode_kecamatan="73.71.13", inside_city=True,
        road=Road(name=None, status=road, source="layer") if road else None,
    )


VALID = rule("pothole", 10, "dinas-pu", category=["jalan_rusak"])


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (ruleset(rule("a", 1, "dinas-pux")), "unknown assignee 'dinas-pux'"),
        (ruleset(VALID, rule("pothole", 20, "dlh")), "duplicate rule id 'pothole'"),
        (ruleset(VALID, rule("other", 10, "dlh")), "duplicate rule priority 10"),
        (ruleset(rule("a", 1, "dlh", category=["potholes"])), "unknown category potholes"),
        (ruleset(rule("a", 1, "dlh", category=[])), "empty list matches nothing"),
        (ruleset(rule("a", 1, "dlh", road_status=["tol"])), "road_status"),
        (ruleset(rule("a", 1, "dlh", area=["73.71.99"])), "neither a Makassar kecamatan nor kelurahan"),
        (ruleset(rule("a", 1, "dlh", roadstatus=["kota"])), "roadstatus"),
        (
            ruleset(rule("a", 1, "kab-gowa", inside_city=True, outside_region=["73.06"])),
            "outside_region cannot match when inside_city is true",
        ),
        (ruleset(rule("a", 1, "kecamatan-{kode_kelurahan}", inside_city=True)), "may only use"),
        (ruleset(rule("a", 1, "kecamatan-{kode_kecamatan}")), "needs match.inside_city true"),
        (ruleset(rule("a", 1, "kelurahan-{kode_kecamatan}", inside_city=True)), "unknown assignees"),
        (ruleset(rule("Bad Id", 1, "dlh")), "id"),
        (ruleset(VALID, version=""), "version"),
        ({"rules": [VALID]}, "version"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_bad_rules_are_rejected_with_a_message_naming_the_problem(document: dict, message: str):
    with pytest.raises(ValidationError, match=re.escape(message)):
        RuleSet.from_dict(document)


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("Hanya bahasa Indonesia", "Indonesian / English"),
        ("Uji {kategori} / Test {category_en}", "unknown placeholder ['kategori']"),
        ("Uji {road.__class__} / Test", "unknown placeholder"),
        ("Uji {road:d} / Test", "Unknown format code 'd'"),
    ],
)
def test_reason_must_be_bilingual_and_use_known_placeholders(reason: str, message: str):
    document = ruleset({**VALID, "reason": reason})

    with pytest.raises(ValidationError, match=re.escape(message)):
        RuleSet.from_dict(document)


def test_lower_priority_wins_whatever_the_order_in_the_file():
    broad = rule("broad", 50, "dlh")
    narrow = rule("narrow", 5, "dinas-pu", category=["jalan_rusak"])

    for order in ([broad, narrow], [narrow, broad]):
        rules = RuleSet.from_dict(ruleset(*order))
        decision = decide(category="jalan_rusak", location=in_rappocini(), rules=rules)
        assert decision.rule == "narrow"


def test_changing_priorities_changes_the_winner():
    broad = rule("broad", 1, "dlh")
    narrow = rule("narrow", 5, "dinas-pu", category=["jalan_rusak"])

    rules = RuleSet.from_dict(ruleset(broad, narrow))

    decision = decide(category="jalan_rusak", location=in_rappocini(), rules=rules)

    assert (decision.rule, decision.assignee) == ("broad", "dlh")


def test_a_kelurahan_rule_applies_there_and_not_in_the_rest_of_the_kecamatan():
    rules = RuleSet.from_dict(
        ruleset(
            rule("tidung-vendors", 1, "kecamatan-73.71.13", category=["pkl"], area=["73.71.13.1001"]),
            rule("vendors", 2, "satpol-pp", category=["pkl"]),
        )
    )

    in_tidung = decide(category="pkl", location=in_rappocini(), rules=rules)
    in_buakana = decide(category="pkl", location=in_rappocini(kelurahan="73.71.13.1004"), rules=rules)

    assert in_tidung.assignee == "kecamatan-73.71.13"
    assert in_buakana.assignee == "satpol-pp"


def test_an_area_rule_never_matches_outside_the_city():
    rules = RuleSet.from_dict(ruleset(rule("rappocini", 1, "dlh", area=["73.71.13"])))
    gowa = Location(
        kelurahan=None, kode_kelurahan=None, kecamatan=None, kode_kecamatan=None,
        inside_city=False, outside_region="Gowa", outside_region_kode="73.06",
    )

    assert decide(category="sampah", location=gowa, rules=rules).rule == "triage:no-match"


def test_road_status_none_matches_only_when_no_road_is_known():
    rules = RuleSet.from_dict(ruleset(rule("unknown-road", 1, "dlh", road_status=["none"])))

    assert decide(category="sampah", location=in_rappocini(), rules=rules).rule == "unknown-road"
    assert decide(category="sampah", location=in_rappocini("kota"), rules=rules).rule == "triage:no-match"


def test_unmatched_report_goes_to_triage_naming_what_was_not_covered():
    rules = RuleSet.from_dict(ruleset(VALID))

    decision = decide(category="sampah", location=in_rappocini("kota"), rules=rules)

    assert (decision.assignee, decision.kind, decision.rule) == ("triage", "triage", "triage:no-match")
    assert "Sampah menumpuk" in decision.reason
    assert "Kec. Rappocini" in decision.reason


def test_template_without_a_kecamatan_falls_through_to_the_next_rule():
    rules = RuleSet.from_dict(
        ruleset(
            rule("office", 1, "kecamatan-{kode_kecamatan}", inside_city=True),
            rule("fallback", 2, "dlh"),
        )
    )
    snapped_without_codes = in_rappocini().model_copy(update={"kode_kecamatan": None})

    assert decide(category="sampah", location=snapped_without_codes, rules=rules).rule == "fallback"


def test_unknown_category_is_not_lost():
    rules = RuleSet.from_dict(ruleset(rule("all", 1, "dlh")))

    decision = decide(category="ufo", location=in_rappocini(), rules=rules)

    assert (decision.assignee, decision.rule) == ("triage", "triage:unknown-category")


def test_every_decision_records_the_version_of_the_rules_that_made_it():
    for version in ("2026-01-01.1", "2026-02-15.3"):
        rules = RuleSet.from_dict(ruleset(VALID, version=version))

        assert decide(category="jalan_rusak", location=in_rappocini(), rules=rules).rules_version == version
        assert decide(category="jalan_rusak", location=None, rules=rules).rules_version == version


def test_rules_survive_a_round_trip_through_a_stored_document():
    rules = load_rules(default_rules_path())

    stored = json.loads(json.dumps(rules.to_dict()))

    assert RuleSet.from_dict(stored) == rules


def test_rules_fixture_has_a_dated_version_and_unique_priorities():
    raw = json.loads(default_rules_path().read_text(encoding="utf-8"))
    rules = load_rules(default_rules_path())

    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}\.\d+", rules.version)
    assert len({r["priority"] for r in raw["rules"]}) == len(raw["rules"])
    assert [r.priority for r in rules.rules] == sorted(r.priority for r in rules.rules)


def test_default_rules_path_is_the_fixture_unless_settings_say_otherwise(tmp_path):
    assert default_rules_path() == REPO_ROOT / "fixtures" / "routing_rules.json"
    assert default_rules_path(Settings()) == REPO_ROOT / "fixtures" / "routing_rules.json"
    override = tmp_path / "rules.json"

    assert default_rules_path(Settings(routing_rules_file=str(override))) == override


def test_load_rules_names_the_file_when_it_is_broken(tmp_path):
    broken = tmp_path / "rules.json"
    broken.write_text('{"version": "x", "rules": [', encoding="utf-8")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(ruleset(rule("a", 1, "nobody"))), encoding="utf-8")

    with pytest.raises(ValueError, match="rules.json"):
        load_rules(broken)
    with pytest.raises(ValueError, match="(?s)bad.json.*unknown assignee 'nobody'"):
        load_rules(bad)
    with pytest.raises(ValueError, match="missing.json"):
        load_rules(tmp_path / "missing.json")


def test_a_changed_fixture_copy_changes_the_decision(tmp_path):
    document = json.loads(default_rules_path().read_text(encoding="utf-8"))
    changed = copy.deepcopy(document)
    changed["version"] = "2099-01-01.1"
    for r in changed["rules"]:
        if r["id"] == "drainage-and-street-lights":
            r["match"]["category"] = ["drainase"]  # street lights move to Dishub
    changed["rules"].append(
        rule("street-lights-dishub", 305, "dishub", inside_city=True, category=["lampu_jalan"])
    )
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(changed), encoding="utf-8")

    before = decide(category="lampu_jalan", location=in_rappocini(), rules=load_rules(default_rules_path()))
    after = decide(category="lampu_jalan", location=in_rappocini(), rules=load_rules(path))

    assert (before.assignee, after.assignee) == ("dinas-pu", "dishub")
    assert (after.rule, after.rules_version) == ("street-lights-dishub", "2099-01-01.1")
