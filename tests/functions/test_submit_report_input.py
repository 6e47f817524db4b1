"""submit_report against hostile input: bodies without a length, and invisible characters."""

import pytest

from tests.functions.test_submit_report import ALICE, GOOD
from tests.support.deps import fake_deps, function_client  # noqa: F401

JSON = {**ALICE, "Content-Type": "application/json"}


@pytest.fixture
def client(fake_deps):  # noqa: F811
    return function_client("submit_report")


class EndlessBody:
    """A chunked request body of `size` bytes made on demand, counting what the server reads."""

    def __init__(self, size: int):
        self.size, self.read_bytes, self.largest_read = size, 0, 0

    def read(self, n: int = -1) -> bytes:
        n = self.size - self.read_bytes if n is None or n < 0 else min(n, self.size - self.read_bytes)
        self.read_bytes += n
        self.largest_read = max(self.largest_read, n)
        return b" " * n


def test_chunked_body_beyond_the_limit_is_413_without_reading_it_whole(client, fake_deps):  # noqa: F811
    body = EndlessBody(30 * 2**20)  # no Content-Length: only reading tells the size
    response = client.post("/", headers={**JSON, "Transfer-Encoding": "chunked"}, environ_overrides={
        "wsgi.input": body, "wsgi.input_terminated": True, "CONTENT_LENGTH": ""})
    assert response.status_code == 413
    assert response.get_json()["error"]["field"] == "body"
    assert body.largest_read <= 64 * 1024  # read in chunks, the rest dropped: never held whole
    assert fake_deps.reports.docs == {}


def test_chunked_body_within_the_limit_is_read_and_accepted(client, fake_deps):  # noqa: F811
    import io
    import json

    response = client.post("/", headers={**JSON, "Transfer-Encoding": "chunked"}, environ_overrides={
        "wsgi.input": io.BytesIO(json.dumps(GOOD).encode()), "wsgi.input_terminated": True,
        "CONTENT_LENGTH": ""})
    assert response.status_code == 201


@pytest.mark.parametrize("field, text, char", [
    ("description", "Lubang\u202edi depan pasar", "U+202E"),  # right-to-left override
    ("description", "Lubang \u2066besar\u2069", "U+2066"),  # left-to-right isolate
    ("description", "Lubang\x00besar", "U+0000"),
    ("description", "Lubang\rbesar", "U+000D"),
    ("description", "Lubang\x1b[31mbesar", "U+001B"),  # a terminal escape for whoever tails logs
    ("description", "Lubang\x85besar", "U+0085"),  # C1 next-line
    ("description", "Lubang\u2028besar", "U+2028"),
    ("street", "Jl. Sultan\tAlauddin", "U+0009"),  # a tab is layout in a description, not a street
    ("street", "Jl. \u202bSultan Alauddin", "U+202B"),
])
def test_control_and_bidi_characters_in_free_text_are_422_naming_the_field(
        client, fake_deps, field, text, char):  # noqa: F811
    response = client.post("/", json={**GOOD, field: text}, headers=ALICE)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["field"] == field
    assert char in error["message"] and " / " in error["message"]
    assert fake_deps.reports.docs == {}


@pytest.mark.parametrize("field, text", [
    ("description", "Lubang besar\ndi depan pasar,\tdekat masjid"),
    ("description", "Jalan rusak parah 🚧👷🏽‍♂️ sejak Senin"),  # emoji with zero-width joiners
    ("description", "Nama toko: \u200fمكتبة\u200f"),  # right-to-left marks set direction, override nothing
    ("street", "Jl. Pengayoman, Panakkukang"),
])
def test_ordinary_text_with_layout_emoji_and_rtl_marks_is_accepted(client, fake_deps, field, text):  # noqa: F811
    assert client.post("/", json={**GOOD, field: text}, headers=ALICE).status_code == 201
