"""Stand-in receiver for Baruga, BBPJN and the regencies: a real HTTP server for the local stack.

POST /<body>/requests.json (Open311-shaped) or /<body>/webhook (our JSON), with an
Idempotency-Key header. Told at run time to accept, fail, fail_times N, hang, time out or
reject through POST /_control; inspected through GET /_received. See docs/forwarding.md.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import requests
from flask import Flask, Response, jsonify, request
from pydantic import JsonValue, TypeAdapter
from typing_extensions import TypedDict  # pydantic validates typing's TypedDict only from Python 3.12

from keluhan.devstack.standin import InThread, serve

# Body id -> prefix of the references it hands out (BRG-000001).
BODY_PREFIX = {
    "baruga": "BRG",
    "bbpjn": "BPJN",
    "kab-maros": "MRS",
    "kab-gowa": "GWA",
    "kab-takalar": "TKL",
    "kab-pangkep": "PKP",
}
# What each body speaks in the local stack; a stand-in answers both paths anyway.
LOCAL_FORMATS = {body: "open311" if body == "baruga" else "webhook" for body in BODY_PREFIX}
MODES = ("accept", "fail", "fail_times", "hang", "timeout", "reject")
# Longer than any client timeout the forwarder may use (at most 30 s).
DEFAULT_HANG_S = 35.0

# What a view answers: a JSON response, with a status when it is not 200.
Answer = Response | tuple[Response, int]


@dataclass
class Entry:
    """Everything a body saw under one Idempotency-Key."""

    key: str
    format: str
    payload: dict[str, JsonValue]
    first_seen: str
    attempts: int = 0
    responses: list[int] = field(default_factory=list)
    reference: str | None = None


@dataclass
class Behaviour:
    mode: str = "accept"
    times: int = 0
    hang_s: float = DEFAULT_HANG_S
    token: str | None = None


@dataclass(frozen=True)
class Outcome:
    status: int
    reference: str | None = None
    duplicate: bool = False
    error: str | None = None
    hang_s: float = 0.0
    release: threading.Event | None = None  # set when hanging requests must answer now


class Record(TypedDict):
    """An Entry as GET /_received shows it."""

    key: str
    format: str
    payload: dict[str, JsonValue]
    first_seen: str
    attempts: int
    responses: list[int]
    reference: str | None


class Received(TypedDict):
    """What one body saw, as GET /_received shows it."""

    body: str
    behaviour: dict[str, object]
    missing_key: int
    stored: int
    records: list[Record]


_RECORDS = TypeAdapter(list[Record])


class ReceiverState:
    """In-memory, thread-safe records and behaviour of every body."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._release = threading.Event()
        self.reset()

    def reset(self) -> None:
        """Forget everything, back to accept; requests hanging now answer at once."""
        with self._lock:
            self._entries: dict[str, dict[str, Entry]] = {b: {} for b in BODY_PREFIX}
            self._behaviour = {b: Behaviour() for b in BODY_PREFIX}
            self._counters = {b: itertools.count(1) for b in BODY_PREFIX}
            self._missing_key = dict.fromkeys(BODY_PREFIX, 0)
            self._swap_release()

    def release_hung(self) -> None:
        """Let every hanging request answer now (on reset and shutdown)."""
        with self._lock:
            self._swap_release()

    def _swap_release(self) -> None:
        self._release.set()
        self._release = threading.Event()

    def configure(
        self,
        body: str,
        mode: str,
        *,
        times: int = 0,
        hang_s: float | None = None,
        token: str | None = None,
    ) -> dict[str, dict[str, object]]:
        """Set the behaviour of one body, or of all with body "*"."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        if body != "*" and body not in BODY_PREFIX:
            raise ValueError(f"unknown body {body!r}")
        with self._lock:
            for name in BODY_PREFIX if body == "*" else [body]:
                old = self._behaviour[name]
                self._behaviour[name] = Behaviour(
                    mode=mode,
                    times=times,
                    hang_s=old.hang_s if hang_s is None else hang_s,
                    token=token,
                )
            return self.behaviours()

    def behaviours(self) -> dict[str, dict[str, object]]:
        return {b: asdict(v) for b, v in self._behaviour.items()}

    def missing_key(self, body: str) -> None:
        with self._lock:
            self._missing_key[body] += 1

    def receive(self, body: str, fmt: str, key: str, payload: dict[str, JsonValue], auth: str) -> Outcome:
        """Decide the answer to one request; the caller does any hanging, outside the lock."""
        with self._lock:
            entry = self._entries[body].get(key)
            if entry is None:
                now = datetime.now(UTC).isoformat()
                entry = self._entries[body][key] = Entry(key, fmt, payload, now)
            entry.attempts += 1
            outcome = self._decide(body, entry, payload, auth)
            entry.responses.append(outcome.status)
            if outcome.hang_s:
                outcome = replace(outcome, release=self._release)
            return outcome

    def _decide(self, body: str, entry: Entry, payload: dict[str, JsonValue], auth: str) -> Outcome:
        b = self._behaviour[body]
        if b.token and auth != f"Bearer {b.token}":
            return Outcome(401, error="bearer token missing or wrong")
        if b.mode == "fail_times":
            if b.times > 0:
                b.times -= 1
                return Outcome(500, error="stand-in failure")
            b.mode = "accept"
        if b.mode == "fail":
            return Outcome(500, error="stand-in failure")
        if b.mode == "reject":
            return Outcome(400, error="stand-in rejection")
        if b.mode == "hang":
            return Outcome(504, error="stand-in hung", hang_s=b.hang_s)
        duplicate = entry.reference is not None
        if not duplicate:
            entry.reference = f"{BODY_PREFIX[body]}-{next(self._counters[body]):06d}"
            entry.payload = payload
        if b.mode == "timeout":
            # Stored, but the answer comes after the client gave up: its retry must dedupe.
            return Outcome(504, error="stand-in timeout after storing", hang_s=b.hang_s)
        return Outcome(200 if duplicate else 201, entry.reference, duplicate)

    def received(self, body: str) -> Received:
        with self._lock:
            return {
                "body": body,
                "behaviour": asdict(self._behaviour[body]),
                "missing_key": self._missing_key[body],
                "stored": sum(1 for e in self._entries[body].values() if e.reference),
                "records": [_record(e) for e in self._entries[body].values()],
            }


def _record(entry: Entry) -> Record:
    return Record(key=entry.key, format=entry.format, payload=entry.payload, first_seen=entry.first_seen,
                  attempts=entry.attempts, responses=list(entry.responses), reference=entry.reference)


def create_app(state: ReceiverState) -> Flask:
    """The receiver's WSGI app over `state`."""
    app = Flask("keluhan-receiver")

    @app.post("/<body>/requests.json")
    def open311(body: str) -> Answer:
        return _receive(body, "open311")

    @app.post("/<body>/webhook")
    def webhook(body: str) -> Answer:
        return _receive(body, "webhook")

    def _receive(body: str, fmt: str) -> Answer:
        if body not in BODY_PREFIX:
            return jsonify(error=f"unknown body {body!r}"), 404
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            state.missing_key(body)
            return jsonify(error="Idempotency-Key header is required"), 400
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            return jsonify(error="body must be a JSON object"), 400
        outcome = state.receive(body, fmt, key, payload, request.headers.get("Authorization", ""))
        if outcome.release:
            outcome.release.wait(outcome.hang_s)
        if outcome.error:
            return jsonify(error=outcome.error), outcome.status
        if fmt == "open311":
            answer: JsonValue = [{"service_request_id": outcome.reference, "service_notice": "Diterima"}]
        else:
            answer = {"reference": outcome.reference, "duplicate": outcome.duplicate}
        return jsonify(answer), outcome.status

    @app.post("/_control")
    def control() -> Answer:
        spec = request.get_json(silent=True) or {}
        try:
            modes = state.configure(
                str(spec.get("body", "*")),
                str(spec.get("mode", "")),
                times=int(spec.get("times") or 0),
                hang_s=None if spec.get("hang_s") is None else float(spec["hang_s"]),
                token=spec.get("token") or None,
            )
        except (TypeError, ValueError) as exc:
            return jsonify(error=str(exc)), 400
        return jsonify(modes)

    @app.get("/_control")
    def modes() -> Answer:
        return jsonify(state.behaviours())

    @app.get("/_received")
    def received() -> Answer:
        body = request.args.get("body")
        if body is None:
            return jsonify({b: state.received(b) for b in BODY_PREFIX})
        if body not in BODY_PREFIX:
            return jsonify(error=f"unknown body {body!r}"), 404
        return jsonify(state.received(body))

    @app.post("/_reset")
    def reset() -> Answer:
        state.reset()
        return jsonify(ok=True)

    @app.get("/_health")
    def health() -> Answer:
        return jsonify(ok=True, bodies=list(BODY_PREFIX))

    return app


class RunningReceiver(InThread):
    """A receiver serving from a background thread, for tests: `with RunningReceiver() as r:`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = ReceiverState()
        super().__init__(create_app(self.state), host, port)

    def close(self) -> None:
        self.state.release_hung()
        super().close()


class ReceiverClient:
    """Control and inspection of a running receiver, for tests and the CLI."""

    def __init__(self, base_url: str, *, timeout_s: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    def url(self, body: str, fmt: str = "open311") -> str:
        """Where a body receives reports in format `fmt`."""
        return f"{self.base_url}/{body}/" + ("requests.json" if fmt == "open311" else "webhook")

    def health(self) -> JsonValue:
        return self._call("GET", "/_health")

    def wait_ready(self, timeout_s: float = 10.0) -> None:
        """Poll /_health until it answers, at most `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self.health()
                return
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def set_mode(
        self,
        mode: str,
        *,
        body: str = "*",
        times: int = 0,
        hang_s: float | None = None,
        token: str | None = None,
    ) -> JsonValue:
        spec = {"body": body, "mode": mode, "times": times, "hang_s": hang_s, "token": token}
        return self._call("POST", "/_control", json=spec)

    def received(self, body: str) -> list[Record]:
        """One record per Idempotency-Key: attempts, response codes, reference, payload."""
        answer = self._call("GET", "/_received", params={"body": body})
        return _RECORDS.validate_python(answer["records"] if isinstance(answer, dict) else None)

    def reset(self) -> None:
        self._call("POST", "/_reset")

    def _call(self, method: str, path: str, **kwargs: Any) -> JsonValue:  # Any: requests' own keywords
        response = requests.request(method, self.base_url + path, timeout=self.timeout_s, **kwargs)
        response.raise_for_status()
        answer: JsonValue = response.json()
        return answer


def local_forward_targets(base_url: str) -> dict[str, dict[str, str]]:
    """KELUHAN_FORWARD_TARGETS for the local stack: every body at this receiver."""
    client = ReceiverClient(base_url)
    return {
        body: {"url": client.url(body, fmt), "format": fmt} for body, fmt in LOCAL_FORMATS.items()
    }


def main(argv: list[str] | None = None) -> int:
    return serve(create_app(ReceiverState()), description="Stand-in receiver for forwarded reports.",
                 name="receiver", default_port=8090, argv=argv)

if __name__ == "__main__":
    raise SystemExit(main())
