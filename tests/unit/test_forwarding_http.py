"""The HTTP sender against real local servers: the stand-in receiver and a fixed-status one."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from keluhan.adapters.forward_http import SendResult, send_report
from keluhan.ports import PermanentDeliveryError, TransientDeliveryError

PAYLOAD = {
    "service_request_id": "R1",
    "status": "open",
    "service_code": "jalan_rusak",
    "requested_datetime": "2025-03-04T08:30:00+08:00",
}


@Request.application
def _fixed_status(request: Request) -> Response:
    """Answers /status/<code>?body=... with that code and body; for codes the stand-in never uses."""
    code = int(request.path.rsplit("/", 1)[1])
    return Response(request.args.get("body", ""), status=code, content_type="application/json")


@pytest.fixture(scope="module")
def status_server() -> Iterator[str]:
    server = make_server("127.0.0.1", 0, _fixed_status, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def send(
    url: str, token: str | None = None, key: str = "keluhan:R1:baruga", timeout_s: float = 5.0
):
    target = {"url": url, "format": "open311", **({"token": token} if token else {})}
    return send_report(target, PAYLOAD, idempotency_key=key, timeout_s=timeout_s)


def test_accepted_open311_report_returns_the_receivers_reference(receiver):
    assert send(receiver.url("baruga")) == SendResult(receiver_ref="BRG-000001", status_code=201)


def test_accepted_webhook_report_returns_the_receivers_reference(receiver):
    result = send(receiver.url("bbpjn", "webhook"), key="keluhan:R1:bbpjn")
    assert result == SendResult(receiver_ref="BPJN-000001", status_code=201)


def test_sender_posts_json_with_the_idempotency_key(receiver):
    send(receiver.url("baruga"), key="keluhan:R42:baruga")
    [record] = receiver.received("baruga")
    assert (record["key"], record["payload"]) == ("keluhan:R42:baruga", PAYLOAD)


def test_resending_with_the_same_key_gets_the_same_reference(receiver):
    first, second = send(receiver.url("baruga")), send(receiver.url("baruga"))
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.receiver_ref == second.receiver_ref == "BRG-000001"
    assert len(receiver.received("baruga")) == 1


def test_bearer_token_from_the_target_is_sent(receiver):
    receiver.set_mode("accept", body="baruga", token="dev-baruga-token")
    assert send(receiver.url("baruga"), token="dev-baruga-token").status_code == 201


def test_missing_token_is_a_permanent_error(receiver):
    receiver.set_mode("accept", body="baruga", token="dev-baruga-token")
    with pytest.raises(PermanentDeliveryError, match="HTTP 401"):
        send(receiver.url("baruga"))


def test_receiver_failure_is_transient(receiver):
    receiver.set_mode("fail", body="baruga")
    with pytest.raises(TransientDeliveryError, match="HTTP 500"):
        send(receiver.url("baruga"))


def test_receiver_rejection_is_permanent(receiver):
    receiver.set_mode("reject", body="baruga")
    with pytest.raises(PermanentDeliveryError, match="HTTP 400"):
        send(receiver.url("baruga"))


def test_hanging_receiver_is_a_transient_timeout_within_the_client_timeout(receiver):
    receiver.set_mode("hang", body="baruga")
    started = time.monotonic()
    with pytest.raises(TransientDeliveryError, match="Timeout"):
        send(receiver.url("baruga"), timeout_s=0.5)
    assert time.monotonic() - started < 3


def test_unreachable_receiver_is_transient():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TransientDeliveryError, match="ConnectionError"):
        send(f"http://127.0.0.1:{port}/baruga/requests.json")


@pytest.mark.parametrize("code", [408, 409, 429, 500, 502, 503, 504])
def test_retryable_statuses_are_transient(status_server, code):
    with pytest.raises(TransientDeliveryError, match=f"HTTP {code}"):
        send(f"http://{status_server}/status/{code}")


@pytest.mark.parametrize("code", [301, 400, 401, 403, 404, 410, 413, 422])
def test_other_client_errors_and_redirects_are_permanent(status_server, code):
    with pytest.raises(PermanentDeliveryError, match=f"HTTP {code}"):
        send(f"http://{status_server}/status/{code}")


def test_success_without_a_json_reference_has_no_receiver_ref(status_server):
    assert send(f"http://{status_server}/status/204") == SendResult(None, 204)
    assert send(f"http://{status_server}/status/200?body=not-json").receiver_ref is None


@pytest.mark.parametrize(
    ("body", "ref"),
    [
        ('[{"service_request_id":"638344"}]', "638344"),
        ('[{"token":"12345"}]', "12345"),
        ('{"id":77}', "77"),
        ("[]", None),
    ],
)
def test_receiver_ref_is_read_from_open311_lists_and_webhook_objects(status_server, body, ref):
    url = f"http://{status_server}/status/200?{urlencode({'body': body})}"
    assert send(url).receiver_ref == ref


def test_error_message_is_short_and_hides_url_credentials(status_server):
    with pytest.raises(TransientDeliveryError) as caught:
        send(
            f"http://user:s3cret@{status_server}/status/500?key=s3cret&body={'x' * 5000}",
            token="tok-s3cret",
        )
    message = str(caught.value)
    assert "s3cret" not in message
    assert len(message) < 300


def test_timeout_must_stay_well_under_the_ack_deadline():
    with pytest.raises(ValueError):
        send("http://127.0.0.1:9/x", timeout_s=60)


@Request.application
def _streaming(request: Request) -> Response:
    """/endless: a 200 whose body never ends; /drip: an answer trickling one byte at a time."""
    def endless():
        yield b'{"id": "REF-1", "padding": "'
        while True:
            yield b"x" * 8192

    def drip():
        while True:
            yield b" "
            time.sleep(0.1)

    body = endless() if request.path == "/endless" else drip()
    return Response(body, status=200, content_type="application/json")


@pytest.fixture(scope="module")
def streaming_server() -> Iterator[str]:
    server = make_server("127.0.0.1", 0, _streaming, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_an_endless_answer_is_read_only_up_to_the_cap(streaming_server):
    started = time.monotonic()
    result = send(f"http://{streaming_server}/endless", timeout_s=5.0)
    assert result == SendResult(receiver_ref=None, status_code=200)  # the cut JSON is not a reference
    assert time.monotonic() - started < 4


def test_a_dripping_receiver_is_cut_off_at_the_total_deadline(streaming_server):
    # Each byte arrives within the per-read timeout; only the deadline over the whole send stops it.
    started = time.monotonic()
    with pytest.raises(TransientDeliveryError, match=r"Timeout .*deadline of 1 s passed"):
        send(f"http://{streaming_server}/drip", timeout_s=1.0)
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("url", ["http://baruga.makassarkota.go.id/open311/requests.json",
                                 "http://10.0.0.7/requests.json"])
def test_a_token_never_travels_over_plain_http_beyond_this_machine(url):
    with pytest.raises(PermanentDeliveryError, match="without https"):
        send(url, token="tok-s3cret")


@pytest.mark.parametrize("ref", ["<script>alert(1)</script>", "R" * 65, "a b", "\u202eRLO", ""])
def test_a_receiver_reference_that_is_not_short_and_plain_is_not_kept(status_server, ref):
    body = json.dumps({"id": ref})
    url = f"http://{status_server}/status/201?{urlencode({'body': body})}"
    assert send(url).receiver_ref is None
