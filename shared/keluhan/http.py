"""The HTTP functions' preamble and answers: JSON responses, 4xx errors that name the problem, never a 500.

Every HTTP function is `@http.endpoint(method, bootstrap.get_deps)` over a handler that calls its
use case and answers: the body cap, the method check, the deps, the signed-in caller, the JSON body
and the mapping of refusals and failures to the `{"error": {...}}` shape happen here, once.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Generic, Literal, NoReturn, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from keluhan.domain.workflow import Actor
from keluhan.ports import AuthUnavailable, Unauthenticated, UnsafeEmulatorConfig
from keluhan.settings import Settings

if TYPE_CHECKING:
    from flask import Request

MESSAGES = {
    "missing": "wajib diisi / is required",
    "extra_forbidden": "tidak dikenal / is not an allowed field",
    "greater_than_equal": "terlalu kecil / is too small",
    "less_than_equal": "terlalu besar / is too large",
    "string_too_long": "terlalu panjang / is too long",
    "string_too_short": "terlalu pendek / is too short",
    "string_pattern_mismatch": "format tidak valid / has an invalid format",
    "float_parsing": "harus berupa angka / must be a number",
    "float_type": "harus berupa angka / must be a number",
    "string_type": "harus berupa teks / must be a string",
    "literal_error": "nilai tidak diizinkan / is not an allowed value",
    "timezone_aware": "harus memuat zona waktu / must include a time zone",
    "datetime_from_date_parsing": "bukan waktu ISO 8601 / is not an ISO 8601 time",
    "datetime_parsing": "bukan waktu ISO 8601 / is not an ISO 8601 time",
    "finite_number": "harus berupa angka terhingga / must be a finite number",
    "bool_parsing": "harus true atau false / must be true or false",
    "bool_type": "harus true atau false / must be true or false",
    "int_parsing": "harus berupa bilangan bulat / must be an integer",
    "int_type": "harus berupa bilangan bulat / must be an integer",
    "int_from_float": "harus berupa bilangan bulat / must be an integer",
    "list_type": "harus berupa daftar / must be a list",
    "too_long": "terlalu banyak / has too many items",
}


class FieldProblem(BaseModel):
    """One bad field of a 422."""

    model_config = ConfigDict(extra="forbid")

    field: str
    type: str = Field(description="pydantic's error type, e.g. missing, string_too_long")
    message: str


class ErrorBody(BaseModel):
    """What went wrong: a stable `code`, a message in Indonesian / English, the field to blame.

    The extra fields each belong to one code: `status` and `allowed_actions` to conflict,
    `report_id` to idempotency_conflict, `window`, `limit` and `retry_after_s` to rate_limited.
    """

    model_config = ConfigDict(extra="forbid")

    code: str
    message: str
    field: str | None = None
    details: list[FieldProblem] | None = None
    status: str | None = None
    allowed_actions: list[str] | None = None
    report_id: str | None = None
    window: Literal["hour", "day"] | None = None
    limit: int | None = None
    retry_after_s: int | None = None


class ErrorResponse(BaseModel):
    """Every 4xx and 5xx of the HTTP functions: `{"error": {...}}`."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorBody


JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}

Response = tuple[str, int, dict[str, str]]
"""What a function returns to functions-framework: body, status, headers."""


class Refused(Exception):
    """Ends a request early with its (error) response; `endpoint` answers with it."""

    def __init__(self, response: Response):
        super().__init__(response[1])
        self.response = response


class EndpointDeps(Protocol):
    """What the preamble needs of bootstrap.Deps: the body limit and the token check."""

    @property
    def settings(self) -> Settings: ...

    @property
    def authenticate(self) -> Callable[[str | None], Actor]: ...


D = TypeVar("D", bound=EndpointDeps)
M = TypeVar("M", bound=BaseModel)


@dataclass
class Call(Generic[D]):
    """One request to an HTTP function, with the deps it runs on and (once asked) its caller."""

    request: Request
    deps: D
    _actor: Actor | None = None

    @property
    def actor(self) -> Actor:
        """The verified caller; refused with 401 (or 503) otherwise."""
        if self._actor is None:
            actor, failure = caller(self.request, self.deps.authenticate,
                                    header=token_header(self.deps.settings))
            if failure is not None or actor is None:
                raise Refused(failure or unavailable())
            self._actor = actor
        return self._actor

    def body(self, model: type[M]) -> M:
        """The JSON body validated as `model`; refused with 415/413/400/422 naming the problem."""
        body, failure = read_json_body(self.request, max_bytes=self.deps.settings.max_body_bytes)
        if failure is not None:
            raise Refused(failure)
        try:
            return model.model_validate(body)
        except ValidationError as exc:
            raise Refused(validation_error(exc)) from exc


Handler = Callable[[Call[D]], Response]


def endpoint(method: str | tuple[str, ...], deps: Callable[[], D], *,
             signed_in: bool = True) -> Callable[[Handler[D]], Callable[[Request], Response]]:
    """An HTTP function from a handler: the body capped first (`cap_body`), 405 for another
    method (`method`: one, or a tuple of those the handler serves), the caller checked first when
    `signed_in`, a `Refused` answered as it is, and any
    other failure a 503 with Retry-After (logged; nothing half-done is acknowledged, so the same
    request later completes). `method` may name several (the handler tells them apart)."""

    methods = (method,) if isinstance(method, str) else method

    def wrap(handler: Handler[D]) -> Callable[[Request], Response]:
        stage = handler.__name__

        @functools.wraps(handler)
        def run(request: Request) -> Response:
            try:
                call = Call(request, deps())
                too_large = cap_body(request, max_bytes=call.deps.settings.max_body_bytes)
                if too_large is not None:  # before any other answer: a 401/405/415 would not read it either
                    return too_large
                if request.method not in methods:
                    return method_not_allowed(*methods)
                if signed_in:
                    call.actor  # noqa: B018 - authenticates (or refuses) before anything else is read
                return handler(call)
            except Refused as refused:
                return refused.response
            except Exception:
                logging.exception("%s failed; the same request later completes", stage, extra={"stage": stage})
                leave_unread(request)  # the cap may not be set yet (no deps): nothing more of it is read
                return unavailable()

        return run

    return wrap


def method_not_allowed(*methods: str) -> Response:
    """405 naming `method`: the methods this path answers."""
    names = " / ".join(methods)
    return error(405, "method_not_allowed", f"Gunakan {names} / Use {names}", field="method")


def json_response(body: Mapping[str, object], status: int, headers: dict[str, str] | None = None) -> Response:
    return (json.dumps(body, ensure_ascii=False, default=str), status, {**JSON_HEADERS, **(headers or {})})


def answer(model: BaseModel, status: int, headers: dict[str, str] | None = None) -> Response:
    """A response model as JSON; fields the model was not given stay out of the body."""
    return (model.model_dump_json(by_alias=True, exclude_unset=True, fallback=str), status,
            {**JSON_HEADERS, **(headers or {})})


def error(http_status: int, code: str, message: str, /, *, field: str | None = None,
          details: list[dict[str, str]] | None = None, headers: dict[str, str] | None = None,
          **extra: object) -> Response:
    """`{"error": {code, message, field?, details?, …extra}}` with the HTTP status (ErrorResponse)."""
    fields: dict[str, object] = {"code": code, "message": message}
    if field:
        fields["field"] = field
    if details:
        fields["details"] = details
    body = ErrorResponse(error=ErrorBody.model_validate(fields | extra))
    return answer(body, http_status, headers)


AUTHORIZATION = "Authorization"
# API Gateway replaces Authorization with its own ID token (the backend's invoker check) and
# passes the caller's on in this header (cloud.google.com/api-gateway/docs/authenticating-users-jwt).
FORWARDED_AUTHORIZATION = "X-Forwarded-Authorization"


def token_header(settings: Settings) -> str:
    """The one request header the caller's Firebase ID token is read from."""
    return FORWARDED_AUTHORIZATION if settings.forwarded_authorization else AUTHORIZATION


def caller(request: Request, authenticate: Callable[[str | None], Actor], *,
           header: str = AUTHORIZATION) -> tuple[Actor | None, Response | None]:
    """(Actor, None) for a verified caller, or (None, the 401/503 response). The 401 names
    `Authorization`, the header the client sends (a gateway in between moves it to `header`)."""
    try:
        return authenticate(request.headers.get(header)), None
    except Unauthenticated:
        return None, error(401, "unauthenticated",
                           "Masuk terlebih dahulu / Sign in first (Firebase ID token required)",
                           field="Authorization")
    except AuthUnavailable:
        return None, unavailable()
    except UnsafeEmulatorConfig:
        # A deployment mistake, not the caller's: nobody is let in, and ops see why.
        logging.critical("refusing every request: unsafe Auth emulator configuration", exc_info=True)
        return None, error(503, "misconfigured",
                           "Layanan belum siap / Service unavailable (server misconfigured)")


def too_many_requests(window: str, limit: int, retry_after_s: int) -> Response:
    """429 with Retry-After: the caller's quota for this window is used up until it resets."""
    per = {"hour": ("jam", "hour"), "day": ("hari", "day")}[window]
    return error(429, "rate_limited",
                 f"Batas {limit} laporan per {per[0]} tercapai; coba lagi dalam {retry_after_s} detik / "
                 f"Limit of {limit} reports per {per[1]} reached; retry in {retry_after_s} s",
                 window=window, limit=limit, retry_after_s=retry_after_s,
                 headers={"Retry-After": str(retry_after_s)})


def unavailable() -> Response:
    """503 with Retry-After: a dependency is down; the same request later completes."""
    return error(503, "unavailable", "Coba lagi sebentar / Please retry shortly", headers={"Retry-After": "2"})


def validation_error(exc: ValidationError) -> Response:
    """422 naming every bad field, in Indonesian with English."""
    details: list[dict[str, str]] = []
    for err in exc.errors(include_url=False):
        field = ".".join(str(p) for p in err["loc"]) or (err.get("ctx") or {}).get("field") or "body"
        text = MESSAGES.get(err["type"])
        if text is None:
            text = err["msg"].removeprefix("Value error, ")
        details.append({"field": field, "type": err["type"], "message": f"{field}: {text}"})
    first = details[0]
    return error(422, "invalid_field", first["message"], field=first["field"], details=details)


def read_json_body(request: Request, *, max_bytes: int) -> tuple[dict[str, object] | None, Response | None]:
    """The parsed JSON object of a request, or an error response tuple."""
    ctype = (request.mimetype or "").lower()
    if ctype != "application/json":
        return None, error(415, "unsupported_media_type",
                           "Content-Type harus application/json / Content-Type must be application/json",
                           field="Content-Type")
    too_large = cap_body(request, max_bytes=max_bytes)
    if too_large is not None:
        return None, too_large
    raw = read_capped(request.stream, max_bytes + 1)
    if len(raw) > max_bytes:  # a chunked body, whose length only reading tells
        return None, body_too_large(request, max_bytes=max_bytes)
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None, error(400, "invalid_json", "Isi bukan JSON yang valid / Body is not valid JSON",
                           field="body")
    if not isinstance(body, dict):
        return None, error(400, "invalid_json", "Isi harus objek JSON / Body must be a JSON object",
                           field="body")
    return body, None


def cap_body(request: Request, *, max_bytes: int) -> Response | None:
    """Caps every read of the request's body at `max_bytes`; a 413 when its declared length is
    larger, before a byte of it is read. The first thing an HTTP function does.

    Whoever reads the body reads it through werkzeug's per-request limit: the handler, and
    functions-framework, which reads whatever is left of every request into memory after the
    answer (`read_request`), a 401, 405 or 415 included. A chunked body (no length to check) is
    so read at most one byte past the cap: that byte tells a body too long from one exactly at it.
    """
    request.max_content_length = max_bytes + 1
    if request.content_length is not None and request.content_length > max_bytes:
        return body_too_large(request, max_bytes=max_bytes)
    return None


def body_too_large(request: Request, *, max_bytes: int) -> Response:
    """413 naming `body`; what is left of the body is never read."""
    leave_unread(request)
    return error(413, "body_too_large", f"Isi permintaan terlalu besar (maks {max_bytes} byte) / Body too "
                 f"large (max {max_bytes} bytes)", field="body")


def leave_unread(request: Request) -> None:
    """No one reads more of this request's body: functions-framework's read after the answer finds
    an empty stream (werkzeug's cached `stream`, which may be set), and the WSGI server drops the
    rest of the connection's input unbuffered (gunicorn drains at most 64 KiB, else closes)."""
    request.stream = io.BytesIO()


def read_capped(stream: IO[bytes], limit: int, *, chunk_size: int = 64 * 1024) -> bytes:
    """At most `limit` bytes of a stream, read in chunks: a chunked body has no Content-Length
    to check first, and must not be read whole before its size is known."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = stream.read(min(chunk_size, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


# --- The pages (war_room, work): one HTML file each, whose inline script is the only one that runs.

def emulator_sign_in_url(settings: Settings) -> str | None:
    """Locally a page signs in with email and password at the Auth emulator; deployed, it takes a token."""
    host = settings.firebase_auth_emulator_host
    return f"http://{host}/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=demo" if host else None


def photo_origin(settings: Settings) -> str:
    """Where signed photo URLs point: the Storage emulator locally, Cloud Storage deployed."""
    return settings.storage_emulator_host.rstrip("/") or "https://storage.googleapis.com"


def page(html: str, *, sign_in_url: str | None, connect: tuple[str, ...] = (), images: tuple[str, ...] = ()) -> Response:
    """A page and its policy: its script and style are inline in the one file; it talks only to its
    own function (locally also to the Auth emulator, and to `connect`), so a token cannot be sent
    anywhere else; only the page's own script runs (its hash), an injected one would not."""
    origins = (sign_in_url.split("/identitytoolkit")[0],) if sign_in_url else ()
    scripts = " ".join(f"'sha256-{_digest(body)}'" for body in SCRIPT.findall(html)) or "'none'"
    connect_src = " ".join(("'self'", *origins, *connect))
    img_src = " ".join(("'self'", "data:", *images))
    policy = (f"default-src 'none'; script-src {scripts}; style-src 'unsafe-inline'; connect-src {connect_src}; "
              f"img-src {img_src}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    return html, 200, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
                       "Content-Security-Policy": policy, "Referrer-Policy": "no-referrer",
                       "X-Content-Type-Options": "nosniff"}


SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def _digest(script: str) -> str:
    return base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
