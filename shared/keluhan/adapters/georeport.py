"""GeoReport v2 over HTTP: the routes, JSON or XML answers, errors as `[{code, description}]`."""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from keluhan import http
from keluhan.domain.open311 import to_xml, to_xml_object
from keluhan.http import MESSAGES, read_capped

if TYPE_CHECKING:
    import flask

# `services.json`, `services/{code}.json`, `requests.json`, `requests/{id}.json`,
# `tokens/{token}.json`, each also `.xml`; under whatever prefix the function is served at.
ROUTE = re.compile(r"(?:^|/)(services|requests|tokens)(?:/([A-Za-z0-9_-]{1,64}))?\.(json|xml)$")
# An answer as functions-framework takes it: the text, the HTTP status, the headers.
Answer = tuple[str, int, dict[str, str]]
# A GeoReport body: a list of objects, or one (the service definition).
Body = Sequence[Mapping[str, object]] | Mapping[str, object]
# XML names of list answers: (root, item).
XML_NAMES = {"services": ("services", "service"), "requests": ("service_requests", "request"),
             "tokens": ("service_requests", "request"), "errors": ("errors", "error")}


# Public reads may be kept by browsers and shared caches (a CDN in front) for a short while: a
# crowd asking the same list costs one Firestore query per cache per half minute.
PUBLIC_CACHE = {"Cache-Control": "public, max-age=30"}


def client_address(request: flask.Request) -> str:
    """Who is asking, for the read throttle: the address Google's front end appended last to
    X-Forwarded-For (what a client sends itself comes before it), else the peer's."""
    forwarded = [hop.strip() for hop in (request.headers.get("X-Forwarded-For") or "").split(",") if hop.strip()]
    return (forwarded[-1] if forwarded else request.remote_addr or "unknown")[:64]


@dataclass(frozen=True)
class Route:
    resource: str  # services, requests or tokens
    key: str | None  # the code, id or token after the resource, if any
    format: str  # json or xml


def route(path: str) -> Route | None:
    match = ROUTE.search(path)
    return Route(match[1], match[2], match[3]) if match else None


def answer(body: Body, status: int, *, fmt: str, resource: str, headers: dict[str, str] | None = None) -> Answer:
    """A list (or the service definition object) as JSON or GeoReport's XML."""
    if fmt == "xml":
        if isinstance(body, Mapping):  # the service definition
            text = to_xml_object("service_definition", body)
        else:
            root, item = XML_NAMES[resource]
            text = to_xml(root, item, body)
        return text, status, {"Content-Type": "text/xml; charset=utf-8", **(headers or {})}
    return (json.dumps(body, ensure_ascii=False), status,
            {"Content-Type": "application/json; charset=utf-8", **(headers or {})})


def error(status: int, description: str, *, fmt: str = "json", headers: dict[str, str] | None = None) -> Answer:
    """GeoReport's error answer: `[{"code": status, "description": …}]` with that HTTP status."""
    return answer([{"code": status, "description": description}], status, fmt=fmt, resource="errors",
                  headers=headers)


def validation_error(exc: ValidationError, *, fmt: str) -> Answer:
    """400 naming every bad field, in Indonesian with English."""
    lines = []
    for err in exc.errors(include_url=False):
        field = ".".join(str(p) for p in err["loc"]) or "body"
        text = MESSAGES.get(err["type"]) or err["msg"].removeprefix("Value error, ")
        lines.append(f"{field}: {text}")
    return answer([{"code": 400, "description": line} for line in lines], 400, fmt=fmt, resource="errors")


# A GeoReport post is a handful of short fields (a 2,000-character description percent-encoded is
# at most 24 KiB): the body is refused past these before anything is parsed or a key looked up.
MAX_POST_BYTES = 32 * 1024
MAX_POST_FIELDS = 40


class BadBody(Exception):
    """A body that is not a form or JSON object, or too large; the message names why."""


class BodyTooLarge(BadBody):
    """A body past the cap (413)."""

    def __init__(self, max_bytes: int):
        super().__init__(f"Isi permintaan terlalu besar (maks {max_bytes} byte) / Body too large "
                         f"(max {max_bytes} bytes)")


def cap_body(request: flask.Request, *, fmt: str, max_bytes: int = MAX_POST_BYTES) -> Answer | None:
    """`keluhan.http.cap_body` for every Open311 path: a 413 in GeoReport's shape when the declared
    length is past the cap, else None, every later read of the body capped."""
    if http.cap_body(request, max_bytes=max_bytes) is None:
        return None
    return error(413, str(BodyTooLarge(max_bytes)), fmt=fmt)


def read_fields(request: flask.Request, *, max_bytes: int = MAX_POST_BYTES) -> dict[str, Any]:  # Any: form text or JSON
    """The POSTed fields: `application/x-www-form-urlencoded` (GeoReport's form) or a JSON object.

    Raises BadBody (BodyTooLarge past `max_bytes`). A repeated form field keeps its first value;
    at most MAX_POST_FIELDS fields.
    """
    ctype = (request.mimetype or "").lower()
    if ctype not in ("application/x-www-form-urlencoded", "application/json"):
        raise BadBody("Content-Type harus application/x-www-form-urlencoded atau application/json / "
                      "Content-Type must be application/x-www-form-urlencoded or application/json")
    if http.cap_body(request, max_bytes=max_bytes) is not None:
        raise BodyTooLarge(max_bytes)
    raw = read_capped(request.stream, max_bytes + 1)
    if len(raw) > max_bytes:  # a chunked body: what is left is never read
        http.leave_unread(request)
        raise BodyTooLarge(max_bytes)
    try:
        if ctype == "application/json":
            body = json.loads(raw)
            if not isinstance(body, dict) or len(body) > MAX_POST_FIELDS:
                raise ValueError("not an object of a few fields")
            return body
        text = raw.decode("utf-8")
        pairs = urllib.parse.parse_qs(text, keep_blank_values=True, max_num_fields=MAX_POST_FIELDS)
        return {k: v[0] for k, v in pairs.items()}
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadBody("Isi tidak bisa dibaca / The body cannot be parsed") from exc
