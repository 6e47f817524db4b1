"""Structured logs: one Cloud Logging JSON object per line, with report id, stage and trace."""

from __future__ import annotations

import io
import json
import logging
import re

import flask
import pytest

from keluhan.logs import CloudLoggingFormatter, log_context, setup_logging
from keluhan.ports import PermanentError
from keluhan.pubsub import Message, stage_errors
from tests.support.deps import FakeDeadLetters
from tests.support.fakes import FakeClock, FakeReports


@pytest.fixture
def lines():
    """Records of the root logger as Cloud Logging would parse them, one dict per line."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(CloudLoggingFormatter("demo-keluhan"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in out.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


def test_a_stage_logs_severity_message_report_id_and_stage(lines):
    message = Message(data=b"{}", attributes={"report_id": "r-123"}, message_id="1", publish_time="", topic="t")
    with pytest.raises(RuntimeError), stage_errors("route_report", message, reports=FakeReports(),
                                                   dead_letters=FakeDeadLetters(), clock=FakeClock()):
        logging.getLogger("keluhan.test").info("routing %s", "r-123")
        raise RuntimeError("firestore down")
    first, retry = lines()
    assert first == {**first, "severity": "INFO", "message": "routing r-123", "report_id": "r-123",
                     "stage": "route_report", "logger": "keluhan.test"}
    assert retry["severity"] == "WARNING" and "redeliver" in retry["message"] and retry["report_id"] == "r-123"


def test_a_permanent_error_is_logged_as_a_warning_with_its_report(lines):
    message = Message(data=b"{}", attributes={"report_id": "r-9"}, message_id="1", publish_time="", topic="t")
    with stage_errors("enrich_geo", message, reports=FakeReports(), dead_letters=FakeDeadLetters(),
                      clock=FakeClock()):
        raise PermanentError("bad point")
    (entry,) = lines()
    assert entry["severity"] == "WARNING" and entry["stage"] == "enrich_geo" and entry["report_id"] == "r-9"


def test_the_trace_header_of_the_request_becomes_the_entry_trace_and_exceptions_stay_in_the_message(lines):
    app = flask.Flask("t")
    with app.test_request_context(headers={"X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/1;o=1"}):
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("x").exception("submit failed", extra={"stage": "submit_report"})
    (entry,) = lines()
    assert entry["logging.googleapis.com/trace"] == "projects/demo-keluhan/traces/105445aa7843bc8bf206b12000100000"
    assert entry["severity"] == "ERROR" and "ValueError: boom" in entry["message"]
    assert entry["stage"] == "submit_report"


def test_context_fields_are_dropped_after_the_block(lines):
    with log_context(report_id="r-1", stage="s"):
        pass
    logging.getLogger("y").info("after")
    assert "report_id" not in lines()[0]


def test_setup_installs_one_handler_however_often_called(monkeypatch):
    root = logging.getLogger()
    # A function imported by an earlier test may have set logging up already; start from none.
    monkeypatch.setattr(root, "handlers",
                        [h for h in root.handlers if not isinstance(h.formatter, CloudLoggingFormatter)])
    before = list(root.handlers)
    stream = io.StringIO()
    handler = setup_logging("demo-keluhan", stream=stream)
    try:
        assert setup_logging("demo-keluhan", stream=stream) is handler
        assert len(root.handlers) == len(before) + 1
        logging.getLogger("z").warning("once", extra={"report_id": "r-2"})
        (entry,) = [json.loads(line) for line in stream.getvalue().splitlines()]
        assert entry["severity"] == "WARNING" and entry["report_id"] == "r-2"
    finally:
        root.removeHandler(handler)


def test_no_print_in_deployed_code():
    from pathlib import Path

    from keluhan.settings import REPO_ROOT

    deployed = [*Path(REPO_ROOT / "functions").rglob("*.py"),
                *[p for p in (REPO_ROOT / "shared" / "keluhan").rglob("*.py")
                  if not {"cli", "devstack"} & set(p.relative_to(REPO_ROOT / "shared" / "keluhan").parts)]]
    offenders = [str(p) for p in deployed if re.search(r"(?<![\w.])print\(", p.read_text())]
    assert not offenders
