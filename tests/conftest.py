"""Shared test configuration: every e2e test is marked (tests/devstack's too), and nothing skips under CI."""

import os

import pytest

# End-to-end tests that leave many documents in the session's emulator run last, the one leaving
# the most (months of history: thousands) at the very end: the Firestore emulator answers every
# query by scanning the documents it holds, so each test after them pays for their data. (The fault
# bench after the history cost 191 CPU-s, 72 before it: docs/performance.md, "The eighth session".)
RUN_LAST = ("tests/e2e/test_reliability.py", "tests/e2e/test_figures.py")


def _run_last_rank(item) -> int:
    path = str(item.fspath)
    return next((rank for rank, name in enumerate(RUN_LAST, 1) if path.endswith(name)), 0)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/tests/e2e/" in str(item.fspath) or "/tests/devstack/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
    items.sort(key=_run_last_rank)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") == "true" and report.skipped and call.when in ("setup", "call"):
        # Under CI a skipped test is a missing dependency: fail loudly instead.
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true: {report.longrepr}"
