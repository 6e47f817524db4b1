"""The stand-in receiver, over real HTTP: dedupe on Idempotency-Key and its behaviour modes."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
import requests

from keluhan.devstack.receiver import (
    BODY_PREFIX,
    ReceiverClient,
    local_forward_targets,
)
from keluhan.domain.assignees import ASSIGNEES
from keluhan.domain.forwarding import target_for

REPORT = {"service_request_id": "R1", "status": "open", "service_code": "jalan_rusak"}


def post(
    receiver: ReceiverClient,
    body: str = "baruga",
    key: str | None = "k1",
    fmt: str = "open311",
    timeout_s: float = 5.0,
) -> requests.Response:
    headers = {"Idempotency-Key": key} if key else {}
    return requests.post(receiver.url(body, fmt), json=REPORT, headers=headers, timeout=timeout_s)


def test_every_external_assignee_has_a_stand_in():
    external = {a.id for a in ASSIGNEES.values() if a.kind == "external"}
    assert external == set(BODY_PREFIX)


def test_local_targets_point_every_body_at_the_receiver():
    targets = local_forward_targets("http://127.0.0.1:8090")
    for body in BODY_PREFIX:
        assert target_for(targets, body)["url"].startswith(f"http://127.0.0.1:8090/{body}/")
    assert targets["baruga"]["format"] == "open311"


def test_new_key_creates_a_record_with_a_body_reference(receiver):
    response = post(receiver)
    assert response.status_code == 201
    assert response.json() == [{"service_request_id": "BRG-000001", "service_notice": "Diterima"}]


def test_same_key_twice_is_stored_once_with_the_same_reference(receiver):
    first, second = post(receiver), post(receiver)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()
    [record] = receiver.received("baruga")
    assert (record["attempts"], record["responses"], record["reference"]) == (
        2,
        [201, 200],
        "BRG-000001",
    )


def test_a_new_key_gets_the_next_reference(receiver):
    post(receiver, key="k1")
    assert post(receiver, key="k2").json()[0]["service_request_id"] == "BRG-000002"
    assert len(receiver.received("baruga")) == 2


def test_webhook_path_answers_an_object_with_its_reference(receiver):
    response = post(receiver, body="kab-gowa", fmt="webhook")
    assert (response.status_code, response.json()) == (
        201,
        {"reference": "GWA-000001", "duplicate": False},
    )


def test_concurrent_retries_with_one_key_store_one_record(receiver):
    answers: list[str] = []
    threads = [
        threading.Thread(
            target=lambda: answers.append(post(receiver).json()[0]["service_request_id"])
        )
        for _ in range(20)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(answers) == {"BRG-000001"}
    [record] = receiver.received("baruga")
    assert record["attempts"] == 20


def test_request_without_idempotency_key_is_refused_and_not_stored(receiver):
    assert post(receiver, key=None).status_code == 400
    assert receiver.received("baruga") == []


def test_unknown_body_is_not_found(receiver):
    assert post(receiver, body="kab-bone").status_code == 404


def test_fail_times_fails_the_next_n_then_accepts_once(receiver):
    receiver.set_mode("fail_times", body="baruga", times=2)
    codes = [post(receiver).status_code for _ in range(4)]
    assert codes == [500, 500, 201, 200]
    [record] = receiver.received("baruga")
    assert (record["attempts"], record["reference"]) == (4, "BRG-000001")


def test_fail_and_reject_store_nothing(receiver):
    receiver.set_mode("fail", body="baruga")
    assert post(receiver).status_code == 500
    receiver.set_mode("reject", body="baruga")
    assert post(receiver).status_code == 400
    [record] = receiver.received("baruga")
    assert (record["reference"], record["responses"]) == (None, [500, 400])


def test_mode_for_one_body_leaves_the_others_accepting(receiver):
    receiver.set_mode("fail", body="baruga")
    assert post(receiver, body="bbpjn").status_code == 201


def test_mode_for_all_bodies(receiver):
    receiver.set_mode("fail", body="*")
    assert {post(receiver, body=b).status_code for b in BODY_PREFIX} == {500}


def test_hang_outlasts_the_client_timeout_and_stores_nothing(receiver):
    receiver.set_mode("hang", body="baruga")
    with pytest.raises(requests.Timeout):
        post(receiver, timeout_s=0.5)
    [record] = receiver.received("baruga")
    assert record["reference"] is None


def test_timeout_stores_but_answers_too_late_so_the_retry_dedupes(receiver):
    receiver.set_mode("timeout", body="baruga")
    with pytest.raises(requests.Timeout):
        post(receiver, timeout_s=0.5)
    receiver.set_mode("accept", body="baruga")
    retry = post(receiver)
    assert (retry.status_code, retry.json()[0]["service_request_id"]) == (200, "BRG-000001")


def test_hang_time_is_settable(receiver):
    receiver.set_mode("hang", body="baruga", hang_s=0.2)
    assert post(receiver, timeout_s=5).status_code == 504


def test_token_is_required_once_configured(receiver):
    receiver.set_mode("accept", body="baruga", token="dev-token")
    assert post(receiver).status_code == 401
    ok = requests.post(
        receiver.url("baruga"),
        json=REPORT,
        timeout=5,
        headers={"Idempotency-Key": "k1", "Authorization": "Bearer dev-token"},
    )
    assert ok.status_code == 201


def test_unknown_mode_is_refused(receiver):
    with pytest.raises(requests.HTTPError):
        receiver.set_mode("explode")


def test_reset_forgets_records_and_modes(receiver):
    receiver.set_mode("fail", body="*")
    post(receiver)
    receiver.reset()
    assert receiver.received("baruga") == []
    assert post(receiver).status_code == 201


def test_runs_as_a_process_on_the_port_it_is_given():
    proc = subprocess.Popen(
        [sys.executable, "-m", "keluhan.devstack.receiver", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        url = proc.stdout.readline().split()[-1]
        client = ReceiverClient(url)
        client.wait_ready(timeout_s=10)
        started = time.monotonic()
        assert post(client).status_code == 201
        assert time.monotonic() - started < 2
    finally:
        proc.terminate()
        proc.wait(timeout=10)
