"""The rules in force: Firestore's document over the fixture, re-read within the TTL (≤ 1 minute)."""

from keluhan.rules_provider import RulesProvider, default_rules_path, load_rules


class Ticker:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_fixture_is_used_until_operators_load_rules_and_a_change_shows_within_the_ttl():
    fixture = load_rules(default_rules_path()).to_dict()
    doc = {"value": None}
    loads = []

    def load_doc():
        loads.append(1)
        return doc["value"]

    ticker = Ticker()
    provider = RulesProvider(load_doc=load_doc, fixture_path=default_rules_path(), ttl_s=30, monotonic=ticker)
    assert provider.current().version == fixture["version"]
    doc["value"] = {**fixture, "version": "2026-12-01.1"}
    ticker.t = 29
    assert provider.current().version == fixture["version"]  # cached
    ticker.t = 31
    assert provider.current().version == "2026-12-01.1"
    assert len(loads) == 2
    doc["value"] = {**fixture, "rules": [{"id": "broken"}]}
    ticker.t = 62
    assert provider.current().version == "2026-12-01.1"  # the last good rules stay in force
