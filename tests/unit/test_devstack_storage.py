"""The local Storage emulator answers a browser's CORS preflight and PUT as the production bucket's
`cors` block does (the work page uploads a proof photo to its signed URL)."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
import requests

from keluhan.devstack.client import wait_for

BUCKET = "demo-cors-photos"
PAGE = "http://127.0.0.1:8100"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def storage():
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "keluhan.devstack.storage", "start", "--host", "127.0.0.1",
                                "--port", str(port), "--in-memory", "--default-bucket", BUCKET, "--quiet"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return requests.get(url + "/", timeout=1).status_code < 500
        except requests.ConnectionError:
            return False
    try:
        wait_for(up, timeout_s=20, what="the storage emulator")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_preflight_for_a_signed_put_is_allowed_with_the_two_bound_headers(storage):
    answer = requests.options(f"{storage}/{BUCKET}/resolution/r1/1", timeout=5, headers={
        "Origin": PAGE, "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "content-type,x-goog-content-length-range"})
    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Origin"] == PAGE
    assert answer.headers["Access-Control-Allow-Methods"] == "PUT"
    assert {h.strip().lower() for h in answer.headers["Access-Control-Allow-Headers"].split(",")} == {
        "content-type", "x-goog-content-length-range"}


def test_the_put_itself_names_the_page_origin_and_stores_the_photo(storage):
    put = requests.put(f"{storage}/{BUCKET}/resolution/r1/1", data=b"\xff\xd8jpeg", timeout=5,
                       headers={"Origin": PAGE, "Content-Type": "image/jpeg"})
    assert put.status_code == 200 and put.headers["Access-Control-Allow-Origin"] == PAGE
    assert requests.get(f"{storage}/{BUCKET}/resolution/r1/1", timeout=5).content == b"\xff\xd8jpeg"
    assert "Access-Control-Allow-Origin" not in requests.get(f"{storage}/", timeout=5).headers  # no Origin, no CORS
