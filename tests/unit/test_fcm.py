"""The FCM adapter (firebase-admin's messaging) against the stand-in FCM endpoint: the HTTP v1 body
it sends, and FCM's errors mapped to what the push use case does with them."""

from __future__ import annotations

import pytest

from keluhan.adapters.fcm import FcmPusher
from keluhan.devstack.fcm import FcmClient, RunningFcm
from keluhan.ports import TokenUnregistered, TransientDeliveryError

TOKEN = "fcm-token-siti-phone-0001"


@pytest.fixture(scope="module")
def fcm():
    with RunningFcm() as running:
        yield running, FcmClient(running.url), FcmPusher("demo-fcm-test", endpoint=running.url, timeout_s=5)


@pytest.fixture(autouse=True)
def _fresh(fcm):
    fcm[1].reset()


def _push(pusher, token=TOKEN):
    return pusher(token, title="Laporan diterima SKPD", body="Dinas PU menerima laporan r1.",
                  data={"report_id": "r1", "event": "accepted", "message_id": "m1"}, collapse_key="m1")


def test_a_push_reaches_the_stand_in_as_an_fcm_http_v1_message(fcm):
    _, client, pusher = fcm
    name = _push(pusher)
    (push,) = client.pushes(TOKEN)
    assert name == push["name"] and name.startswith("projects/demo-fcm-test/messages/")
    message = push["message"]
    assert message["notification"] == {"title": "Laporan diterima SKPD", "body": "Dinas PU menerima laporan r1."}
    assert message["data"] == {"report_id": "r1", "event": "accepted", "message_id": "m1"}
    assert message["android"]["collapse_key"] == "m1" and message["android"]["notification"]["tag"] == "m1"
    assert message["apns"]["headers"] == {"apns-collapse-id": "m1"}


def test_unregistered_is_a_token_to_forget(fcm):
    _, client, pusher = fcm
    client.answer(TOKEN, "unregistered")
    with pytest.raises(TokenUnregistered):
        _push(pusher)
    assert client.pushes(TOKEN) == []


def test_unavailable_beyond_the_sdks_own_retries_is_worth_trying_later(fcm):
    _, client, pusher = fcm
    client.answer(TOKEN, "unavailable")  # every time: firebase-admin's retries give up
    with pytest.raises(TransientDeliveryError):
        _push(pusher)
    client.answer(TOKEN, "unavailable", times=1)  # once: the SDK's retry gets through
    assert _push(pusher) and len(client.pushes(TOKEN)) == 1
