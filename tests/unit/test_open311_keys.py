"""Open311 api keys: issued once, stored as a hash, resolved to the channel's identity, revoked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from keluhan.domain.open311 import key_hash
from keluhan.domain.workflow import Role
from keluhan.usecases.open311 import BadApiKey, KeyNotFound, issue_key, key_actor, revoke_key
from tests.support.fakes import FakeOpen311Keys

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def _issue(keys, channel="call_center_112", key="o311_AbCdEfGhIjKlMnOp"):
    return issue_key(channel=channel, name="CRM", keys=keys, now=NOW, new_key=lambda: key)


def test_an_issued_key_is_stored_only_as_its_hash_and_is_the_channels_identity():
    keys = FakeOpen311Keys()
    api_key = _issue(keys)
    assert list(keys.records) == [key_hash(api_key)]
    assert api_key not in repr(keys.records) and keys.records[key_hash(api_key)]["key_prefix"] == api_key[:9]
    actor = key_actor(api_key, keys=keys)
    assert (actor.role, actor.channel) == (Role.CHANNEL, "call_center_112")
    assert actor.id.startswith("open311:") and api_key not in actor.id


@pytest.mark.parametrize("given", [None, "", "o311_wrong", "x" * 201])
def test_a_missing_or_unknown_key_is_refused(given):
    keys = FakeOpen311Keys()
    _issue(keys)
    with pytest.raises(BadApiKey):
        key_actor(given, keys=keys)


@pytest.mark.parametrize("how", ["key", "prefix", "digest"])
def test_a_key_is_revoked_by_itself_its_prefix_or_its_digest(how):
    keys = FakeOpen311Keys()
    api_key = _issue(keys)
    _issue(keys, key="o311_ZzOtherKeyXyz")
    given = {"key": api_key, "prefix": api_key[:9], "digest": key_hash(api_key)[:12]}[how]
    record = revoke_key(given, keys=keys, now=NOW)
    assert record["revoked"] and record["digest"] == key_hash(api_key)
    with pytest.raises(BadApiKey):
        key_actor(api_key, keys=keys)
    assert key_actor("o311_ZzOtherKeyXyz", keys=keys).channel == "call_center_112"


def test_an_ambiguous_or_too_short_prefix_revokes_nothing():
    keys = FakeOpen311Keys()
    _issue(keys, key="o311_AbCd1111")
    _issue(keys, key="o311_AbCd2222")
    for given in ("o311_AbCd", "o311", "nothing-like-it"):
        with pytest.raises(KeyNotFound):
            revoke_key(given, keys=keys, now=NOW)
    assert not any(r["revoked"] for r in keys.records.values())


def test_the_cli_wires_issue_revoke_and_list_and_refuses_an_unknown_channel(monkeypatch, capsys):
    from keluhan.cli import build_parser
    from keluhan.cli import main as keluhan
    from keluhan.cli import open311 as cli

    keys = FakeOpen311Keys()
    monkeypatch.setattr(cli, "_keys", lambda args: keys)
    assert keluhan(["open311", "key", "issue", "--channel", "smart_rtrw", "--name", "RT 03"]) == 0
    api_key = capsys.readouterr().out.strip()
    assert api_key.startswith("o311_") and key_actor(api_key, keys=keys).channel == "smart_rtrw"
    assert keluhan(["open311", "key", "list"]) == 0
    assert api_key[:9] in capsys.readouterr().out
    assert keluhan(["open311", "key", "revoke", api_key[:9]]) == 0
    with pytest.raises(BadApiKey):
        key_actor(api_key, keys=keys)
    assert keluhan(["open311", "key", "issue", "--channel", "warga", "--name", "x"]) == 2
    assert build_parser().parse_args(["open311", "key", "list", "--no-emulators"]).no_emulators
