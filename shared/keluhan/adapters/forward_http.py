"""POST a forwarded report to an external body's receiver, once, and classify the outcome."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

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


@dataclass(frozen=True)
class SendResult:
    receiver_ref: str | None
    status_code: int


def send_report(
    target: Mapping[str, str],
    payload: dict[str, Any],
    *,
    idempotency_key: str,
    timeout_s: float,
    session: requests.Session | None = None,
) -> SendResult:
    """One POST of `payload` to `target["url"]`; no retries and no sleeps (Pub/Sub retries)."""
    if not 0 < timeout_s <= MAX_TIMEOUT_S:
        raise ValueError(f"timeout_s must be in (0, {MAX_TIMEOUT_S}]")
    url = target["url"]
    where = _where(url)
    headers = {
        "Idempotency-Key": idempotency_key,
        "Accept": "application/json",
        "User-Agent": USER_AGENT,
    }
    if target.get("token"):
        headers["Authorization"] = f"Bearer {target['token']}"
    post = (session or requests).post
    try:
        # A redirected POST turns into a GET in requests; a moved receiver is a config fix.
        response = post(
            url, json=payload, headers=headers, timeout=timeout_s, allow_redirects=False
        )
    except TRANSIENT_ERRORS as exc:
        raise TransientDeliveryError(f"{type(exc).__name__} talking to {where}") from exc
    except requests.RequestException as exc:
        raise PermanentDeliveryError(f"{type(exc).__name__} for {where}") from exc

    status = response.status_code
    if 200 <= status < 300:
        return SendResult(receiver_ref=_receiver_ref(response), status_code=status)
    snippet = _snippet(response)
    message = f"HTTP {status} from {where}" + (f": {snippet}" if snippet else "")
    if status >= 500 or status in TRANSIENT_STATUS:
        raise TransientDeliveryError(message)
    raise PermanentDeliveryError(message)


def _where(url: str) -> str:
    """Host and path only: a URL may carry credentials that must not reach logs."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.hostname}{port}{parts.path}"


def _snippet(response: requests.Response, limit: int = 200) -> str:
    return " ".join(response.text.split())[:limit]


def _receiver_ref(response: requests.Response) -> str | None:
    """The receiver's own reference: Open311 answers a list of objects, webhooks an object."""
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, list):
        body = body[0] if body else None
    if not isinstance(body, dict):
        return None
    for key in REF_KEYS:
        if body.get(key) not in (None, ""):
            return str(body[key])
    return None
