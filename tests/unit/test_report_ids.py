"""Report ids: every id the server makes passes its own check, and the check is Firestore's rule."""

from __future__ import annotations

import itertools

import pytest

from keluhan import bootstrap
from keluhan.bootstrap import new_report_id
from keluhan.domain.report import valid_report_id


def test_every_generated_id_passes_the_servers_own_check():
    ids = [new_report_id() for _ in range(50_000)]
    assert all(valid_report_id(i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_a_token_in_firestores_reserved_form_is_drawn_again(monkeypatch):
    tokens = iter(["__reserved-by-firestore__", "__starts-with-two-underscores"])
    monkeypatch.setattr(bootstrap.secrets, "token_urlsafe", lambda n: next(tokens))
    assert new_report_id() == "__starts-with-two-underscores"


@pytest.mark.parametrize("report_id", [
    "__starts-with-two-underscores",  # one token_urlsafe id in 4,096: once stuck at `received`
    "ends-with-two-underscores__",
    "___",  # too short for __.*__
    "_",
    "-",
    "a" * 64,
])
def test_ids_outside_firestores_reserved_pattern_are_valid(report_id):
    assert valid_report_id(report_id)


@pytest.mark.parametrize("report_id", [
    "____",
    "__x__",
    "__reserved-by-firestore__",
    "",
    ".",
    "..",
    "a/b",
    "a" * 65,
    "abc\n",  # `$` would match before a trailing newline
    "laporan 1",
    None,
    42,
])
def test_reserved_or_unsafe_ids_are_invalid(report_id):
    assert not valid_report_id(report_id)


def test_only_ids_that_start_and_end_with_two_underscores_are_reserved():
    for length in range(1, 7):
        for chars in itertools.product("_a", repeat=length):
            report_id = "".join(chars)
            reserved = len(report_id) >= 4 and report_id.startswith("__") and report_id.endswith("__")
            assert valid_report_id(report_id) is not reserved, report_id
