"""Shared test configuration: every e2e test is marked (tests/devstack's too), and nothing skips under CI."""

import os

import pytest

# End-to-end tests that leave thousands of documents in the session's emulator (months of
# history, the fault bench) run last: the Firestore emulator answers every query by scanning the
# documents it holds, so each test after them would pay for their data.
RUN_LAST = ("tests/e2e/test_figures.py", "tests/e2e/test_reliability.py")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/tests/e2e/" in str(item.fspath) or "/tests/devstack/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
    items.sort(key=lambda item: any(str(item.fspath).endswith(name) for name in RUN_LAST))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") == "true" and report.skipped and call.when in ("setup", "call"):
        # Under CI a skipped test is a missing dependency: fail loudly instead.
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true: {report.longrepr}"
