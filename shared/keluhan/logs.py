"""Structured logs in Cloud Logging's JSON format, one line per record on stdout, set up once.

Cloud Run (and so Cloud Functions gen2) parses each JSON line of stdout: `severity` and
`message` become the entry's, `logging.googleapis.com/trace` ties it to the request's trace,
every other key lands in `jsonPayload`. `report_id` and `stage` come from the record's
`extra`, else from `log_context()` around a stage; the trace from the current request's
`X-Cloud-Trace-Context` header.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TextIO

_CONTEXT: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar(
    "keluhan_log_context", default=MappingProxyType({}))
# LogRecord's own attributes: everything else on a record came from `extra=`.
_RESERVED = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_SEVERITY = {"WARNING": "WARNING", "CRITICAL": "CRITICAL", "ERROR": "ERROR", "INFO": "INFO", "DEBUG": "DEBUG"}


class CloudLoggingFormatter(logging.Formatter):
    """A record as one Cloud Logging JSON line."""

    def __init__(self, project_id: str):
        super().__init__()
        self.project_id = project_id

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + self.formatException(record.exc_info)
        entry: dict[str, object] = {
            "severity": _SEVERITY.get(record.levelname, "DEFAULT"),
            "message": message,
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "logger": record.name,
            **_CONTEXT.get(),
            **{k: v for k, v in vars(record).items() if k not in _RESERVED and not k.startswith("_")},
        }
        trace = _trace_id()
        if trace:
            entry["logging.googleapis.com/trace"] = f"projects/{self.project_id}/traces/{trace}"
        return json.dumps(entry, ensure_ascii=False, default=str)


@contextlib.contextmanager
def log_context(**fields: str | None) -> Iterator[None]:
    """Add `report_id`, `stage` (or other fields) to every record logged inside the block."""
    token = _CONTEXT.set({**_CONTEXT.get(), **{k: v for k, v in fields.items() if v}})
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def setup_logging(project_id: str, *, stream: TextIO | None = None, level: int = logging.INFO) -> logging.Handler:
    """Send the root logger's records to stdout as Cloud Logging JSON; a second call changes nothing."""
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler.formatter, CloudLoggingFormatter):
            return handler
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(CloudLoggingFormatter(project_id))
    root.addHandler(handler)
    root.setLevel(level)
    return handler


def _trace_id() -> str | None:
    """The trace id of the request being served: `X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=1`."""
    try:
        import flask
    except ImportError:  # outside a function (the CLI)
        return None
    if not flask.has_request_context():
        return None
    header = flask.request.headers.get("X-Cloud-Trace-Context", "")
    trace = header.split("/", 1)[0].strip()
    return trace if trace.isalnum() else None
