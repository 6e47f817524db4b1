"""Stand-in FCM endpoint for the local stack: Firebase Cloud Messaging's HTTP v1 send, recorded.

POST /v1/projects/<project>/messages:send takes `{"message": {"token": …, …}}` as FCM does and
answers `{"name": …}`, or FCM's own error bodies: `UNREGISTERED` (404) for a token it was told
is gone, `UNAVAILABLE` (503) a given number of times. Told through POST /_control
`{"token", "answer": "unregistered" | "unavailable" | "ok", "times"}`; every push it took is in
GET /_received (`?token=` for one device). See docs/notifications.md.
"""

from __future__ import annotations

import itertools
import threading
import time
from datetime import UTC, datetime
from typing import Any

import requests
from flask import Flask, Response, jsonify, request
from pydantic import JsonValue

from keluhan.devstack.standin import InThread, serve

Answer = Response | tuple[Response, int]
ANSWERS = ("ok", "unregistered", "unavailable")
FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"


class FcmState:
    """Pushes taken and the answers owed to tokens, thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._pushes: list[dict[str, JsonValue]] = []
            self._answers: dict[str, tuple[str, int]] = {}  # token -> (answer, times left; 0: always)
            self._refused: list[dict[str, JsonValue]] = []
            self._names = itertools.count(1)

    def configure(self, token: str, answer: str, times: int = 0) -> None:
        if answer not in ANSWERS:
            raise ValueError(f"answer must be one of {', '.join(ANSWERS)}")
        with self._lock:
            if answer == "ok":
                self._answers.pop(token, None)
            else:
                self._answers[token] = (answer, times)

    def send(self, project: str, message: dict[str, JsonValue]) -> tuple[int, dict[str, JsonValue]]:
        token = str(message.get("token") or "")
        with self._lock:
            answer, times = self._answers.get(token, ("ok", 0))
            if answer != "ok" and times:
                self._answers[token] = (answer, times - 1) if times > 1 else ("ok", 0)
            if answer == "unregistered":
                self._refused.append({"token": token, "answer": answer})
                return 404, _error(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED")
            if answer == "unavailable":
                self._refused.append({"token": token, "answer": answer})
                return 503, _error(503, "UNAVAILABLE", "The service is currently unavailable.", "UNAVAILABLE")
            name = f"projects/{project}/messages/{next(self._names)}"
            self._pushes.append({"name": name, "token": token, "message": message,
                                 "received_at": datetime.now(UTC).isoformat()})
            return 200, {"name": name}

    def received(self, token: str | None = None) -> dict[str, JsonValue]:
        with self._lock:
            pushes = [p for p in self._pushes if token is None or p["token"] == token]
            refused = [r for r in self._refused if token is None or r["token"] == token]
            return {"pushes": list(pushes), "refused": list(refused)}


def _error(code: int, status: str, message: str, fcm_code: str) -> dict[str, JsonValue]:
    return {"error": {"code": code, "message": message, "status": status,
                      "details": [{"@type": FCM_ERROR, "errorCode": fcm_code}]}}


def create_app(state: FcmState) -> Flask:
    app = Flask("keluhan-fcm")

    @app.post("/v1/projects/<project>/messages:send")
    def send(project: str) -> Answer:
        body = request.get_json(silent=True)
        message = body.get("message") if isinstance(body, dict) else None
        if not isinstance(message, dict) or not message.get("token"):
            return jsonify(_error(400, "INVALID_ARGUMENT", "message.token is required", "INVALID_ARGUMENT")), 400
        status, answer = state.send(project, message)
        return jsonify(answer), status

    @app.post("/_control")
    def control() -> Answer:
        spec = request.get_json(silent=True) or {}
        try:
            state.configure(str(spec.get("token", "")), str(spec.get("answer", "")), int(spec.get("times") or 0))
        except (TypeError, ValueError) as exc:
            return jsonify(error=str(exc)), 400
        return jsonify(ok=True)

    @app.get("/_received")
    def received() -> Answer:
        return jsonify(state.received(request.args.get("token")))

    @app.post("/_reset")
    def reset() -> Answer:
        state.reset()
        return jsonify(ok=True)

    @app.get("/_health")
    def health() -> Answer:
        return jsonify(ok=True)

    return app


class RunningFcm(InThread):
    """A stand-in serving from a background thread, for tests: `with RunningFcm() as fcm:`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = FcmState()
        super().__init__(create_app(self.state), host, port)


class FcmClient:
    """Control and inspection of a running stand-in, for tests and the bench."""

    def __init__(self, base_url: str, *, timeout_s: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    def answer(self, token: str, answer: str, *, times: int = 0) -> None:
        self._call("POST", "/_control", json={"token": token, "answer": answer, "times": times})

    def pushes(self, token: str | None = None) -> list[dict[str, Any]]:  # Any: FCM messages as sent
        found = self._call("GET", "/_received", params={"token": token} if token else {})
        return list(found["pushes"])

    def reset(self) -> None:
        self._call("POST", "/_reset")

    def wait_ready(self, timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self._call("GET", "/_health")
                return
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:  # Any: requests' keywords; JSON answers
        response = requests.request(method, self.base_url + path, timeout=self.timeout_s, **kwargs)
        response.raise_for_status()
        return response.json()


def main(argv: list[str] | None = None) -> int:
    return serve(create_app(FcmState()), description="Stand-in FCM endpoint (HTTP v1 send).", name="fcm stand-in",
                 default_port=8097, argv=argv)

if __name__ == "__main__":
    raise SystemExit(main())
