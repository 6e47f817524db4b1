"""POST a forwarded report to an external body's receiver, once, and classify the outcome."""

from __future__ import annotations

import ipaddress
import json
import re
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from keluhan.ports import PermanentDeliveryError, TransientDeliveryError

# Pub/Sub's ack deadline is 60 s; a send must end well before it or the message is redelivered
# while the first attempt still runs.
MAX_TIMEOUT_S = 30.0
USER_AGENT = "keluhan-forwarder/1"
# Answers worth retrying later besides 5xx: timeouts, "slow down", and 409, which
# Idempotency-Key receivers answer while a request with the same key is still in progress.
TRANSIENT_STATUS = frozenset({408, 409, 425, 429})
TRANSIENT_ERRORS = (
    requests.Timeout,
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
)
REF_KEYS = ("service_request_id", "reference", "id", "token")
# What we keep of an answer: a reference and an error snippet need a few hundred bytes.
MAX_ANSWER_BYTES = 64 * 1024
# A receiver's reference is stored and shown to operators: short and plain, or not kept.
RECEIVER_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


@dataclass(frozen=True)
class SendResult:
    receiver_ref: str | None
    status_code: int


def send_report(
    target: Mapping[str, str],
    payload: dict[str, Any],  # Any: what requests' json= takes; the domain builds plain JSON
    *,
    idempotency_key: str,
    timeout_s: float,
) -> SendResult:
    """One POST of `payload` to `target["url"]`, over within `timeout_s` all told; no retries
    and no sleeps (Pub/Sub retries)."""
    if not 0 < timeout_s <= MAX_TIMEOUT_S:
        raise ValueError(f"timeout_s must be in (0, {MAX_TIMEOUT_S}]")
    url = target["url"]
    where = _where(url)
    headers = {
        "Idempotency-Key": idempotency_key,
        "Accept": "application/json",
        "Accept-Encoding": "identity",
        "User-Agent": USER_AGENT,
    }
    if target.get("token"):
        if not _may_carry_token(url):
            raise PermanentDeliveryError(f"refusing to send a token to {where} without https")
        headers["Authorization"] = f"Bearer {target['token']}"
    deadline = _Deadline(time.monotonic() + timeout_s)
    session = requests.Session()  # one per send: its adapters carry this send's deadline
    for prefix in ("http://", "https://"):
        session.mount(prefix, _DeadlineAdapter(deadline))
    try:
        # A redirected POST turns into a GET in requests; a moved receiver is a config fix.
        with session.post(url, json=payload, headers=headers, timeout=timeout_s,
                          allow_redirects=False, stream=True) as response:
            status, answer = response.status_code, _read_answer(response)
    except TRANSIENT_ERRORS as exc:
        if deadline.passed():  # the socket was shut by the deadline, or a read timed out with it
            raise TransientDeliveryError(f"Timeout talking to {where} "
                                         f"(deadline of {timeout_s:g} s passed)") from exc
        raise TransientDeliveryError(f"{type(exc).__name__} talking to {where}") from exc
    except requests.RequestException as exc:
        raise PermanentDeliveryError(f"{type(exc).__name__} for {where}") from exc
    finally:
        deadline.cancel()
        session.close()

    if 200 <= status < 300:
        return SendResult(receiver_ref=_receiver_ref(answer), status_code=status)
    snippet = _snippet(answer)
    message = f"HTTP {status} from {where}" + (f": {snippet}" if snippet else "")
    if status >= 500 or status in TRANSIENT_STATUS:
        raise TransientDeliveryError(message)
    raise PermanentDeliveryError(message)


def _may_carry_token(url: str) -> bool:
    """A bearer token travels over https only; plain http to loopback is the local stand-in."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return True
    host = parts.hostname or ""
    try:
        return parts.scheme == "http" and (host == "localhost" or ipaddress.ip_address(host).is_loopback)
    except ValueError:
        return False


def _read_answer(response: requests.Response) -> bytes:
    """At most MAX_ANSWER_BYTES of the body; the rest is never read."""
    chunks, size = [], 0
    for chunk in response.iter_content(chunk_size=8192):
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_ANSWER_BYTES:
            break
    return b"".join(chunks)[:MAX_ANSWER_BYTES]


class _Deadline:
    """Shuts down every socket of one send when its time is up: the per-read timeout of
    requests restarts with each byte, so a receiver dripping its answer would never hit it."""

    def __init__(self, at: float):
        self.at = at
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, at - time.monotonic()), self._expire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
        if self.passed():
            self._expire()

    def passed(self) -> bool:
        return time.monotonic() >= self.at

    def cancel(self) -> None:
        self._timer.cancel()

    def _expire(self) -> None:
        with self._lock:
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked recv, unlike close()
                except OSError:
                    pass


class _DeadlineAdapter(HTTPAdapter):
    """An adapter whose connections report their sockets to the send's deadline."""

    def __init__(self, deadline: _Deadline):
        self._deadline = deadline
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:  # Any: HTTPAdapter's own signature
        super().init_poolmanager(*args, **kwargs)
        watch = self._deadline.watch

        class Http(HTTPConnection):
            def connect(self) -> None:
                super().connect()
                watch(self.sock)

        class Https(HTTPSConnection):
            def connect(self) -> None:
                super().connect()
                watch(self.sock)

        self.poolmanager.pool_classes_by_scheme = {
            "http": type("HttpPool", (HTTPConnectionPool,), {"ConnectionCls": Http}),
            "https": type("HttpsPool", (HTTPSConnectionPool,), {"ConnectionCls": Https}),
        }


def _where(url: str) -> str:
    """Host and path only: a URL may carry credentials that must not reach logs."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.hostname}{port}{parts.path}"


def _snippet(answer: bytes, limit: int = 200) -> str:
    text = answer[: limit * 4].decode("utf-8", errors="replace")
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())[:limit]


def _receiver_ref(answer: bytes) -> str | None:
    """The receiver's own reference: Open311 answers a list of objects, webhooks an object.

    Kept only when short and plain (RECEIVER_REF): it is stored and shown to operators.
    """
    try:
        body = json.loads(answer)
    except ValueError:
        return None
    if isinstance(body, list):
        body = body[0] if body else None
    if not isinstance(body, dict):
        return None
    for key in REF_KEYS:
        if body.get(key) not in (None, ""):
            ref = str(body[key])
            return ref if RECEIVER_REF.fullmatch(ref) else None
    return None
