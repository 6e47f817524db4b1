"""Which Google API methods a function process calls: recorded at the clients' transport layer.

The emulators enforce no IAM, so the local stack records instead what production would check:
every gRPC method (Firestore, Pub/Sub) and every REST call to a Google API (Cloud Storage, Firebase
Auth's identitytoolkit, IAM credentials, Secret Manager, …) the process makes, one JSON line per
distinct method in `<KELUHAN_API_CALLS_DIR>/<function>.jsonl`. A V4 URL signed with the local key
is recorded as the IAM signBlob call it is in Google Cloud (the runtime account signs through IAM).

Run as `python -m keluhan.devstack.api_calls <functions-framework arguments>`: the recorder is
installed, then functions-framework starts as it would from its own script. The mapping of these
methods to IAM permissions and the check against Terraform live in tests/support/permissions.py.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

CALLS_DIR_ENV = "KELUHAN_API_CALLS_DIR"
SIGN_BLOB = "iamcredentials.projects.serviceAccounts.signBlob"
PUBLISH = "google.pubsub.v1.Publisher.Publish"  # recorded per topic: `…Publish:<topic>`

# REST: (HTTP method, path pattern) → the API's method id (as in its discovery document). The
# emulators serve the same paths, after an optional service-name prefix (the Auth emulator's).
_REST = [
    ("POST", r"/storage/v1/b/[^/]+/o/.+/rewriteTo/.*", "storage.objects.rewrite"),
    ("GET", r"/storage/v1/b/[^/]+/o/.+", "storage.objects.get"),
    ("GET", r"/download/storage/v1/b/[^/]+/o/.+", "storage.objects.get"),  # the media link
    ("GET", r"/storage/v1/b/[^/]+/o", "storage.objects.list"),
    ("POST", r"/upload/storage/v1/b/[^/]+/o", "storage.objects.insert"),
    ("PATCH", r"/storage/v1/b/[^/]+/o/.+", "storage.objects.patch"),
    ("DELETE", r"/storage/v1/b/[^/]+/o/.+", "storage.objects.delete"),
    ("GET", r"/storage/v1/b/[^/]+", "storage.buckets.get"),
    ("POST", r"(/identitytoolkit\.googleapis\.com)?/v1/projects/[^/]+/accounts:lookup", "identitytoolkit.projects.accounts.lookup"),
    ("POST", r"(/identitytoolkit\.googleapis\.com)?/v1/accounts:lookup", "identitytoolkit.accounts.lookup"),
    ("POST", r"/v1/projects/-/serviceAccounts/[^/]+:signBlob", SIGN_BLOB),
    ("POST", r"/v1/projects/[^/]+/messages:send", "fcm.projects.messages.send"),
    ("GET", r"/v1/projects/[^/]+/secrets/[^/]+/versions/[^/]+:access", "secretmanager.projects.secrets.versions.access"),
    ("GET", r"/robot/v1/metadata/x509/.*", "securetoken.publicKeys"),
    ("GET", r"/computeMetadata/v1/.*", "metadata.server"),
]
_REST_COMPILED = [(verb, re.compile(pattern + r"/?$"), name) for verb, pattern, name in _REST]
_BODY_NAME = re.compile(rb'"name": ?"([^"]+)"')
_GOOGLE_HOSTS = re.compile(r"(^|\.)googleapis\.com$|^metadata\.google\.internal$")


def rest_method(verb: str, url: str, *, emulator_hosts: frozenset[str] = frozenset()) -> str | None:
    """The Google API method of one HTTP call, None for a call to anything else (a receiver).

    A call to a Google host that matches no known path is named `unknown:<VERB> <host><path>`, so
    that a new kind of call shows up in the record rather than passing unnoticed."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not (_GOOGLE_HOSTS.search(host) or parts.netloc in emulator_hosts):
        return None
    for want, pattern, name in _REST_COMPILED:
        if verb.upper() == want and pattern.match(parts.path):
            if name.startswith("storage.objects."):
                return name + _object_prefix(parts.path, parts.query)
            return name
    return f"unknown:{verb.upper()} {host}{parts.path}"


def _object_prefix(path: str, query: str) -> str:
    """`:<prefix>/` of the object a storage call names (in the path, or `name=` of an upload)."""
    name = path.split("/o/", 1)[1] if "/o/" in path else dict(parse_qsl(query)).get("name", "")
    name = unquote(name)
    return f":{name.split('/', 1)[0]}/" if "/" in name else ""


def grpc_method(method: bytes | str) -> str:
    """`/google.firestore.v1.Firestore/Commit` → `google.firestore.v1.Firestore.Commit`."""
    text = method.decode() if isinstance(method, bytes) else method
    return text.strip("/").replace("/", ".")


def _is_publish(method: bytes | str) -> bool:
    return grpc_method(method) == PUBLISH


def emulator_hosts(environ: Mapping[str, str] = os.environ) -> frozenset[str]:
    """host:port of every emulator named in the environment (their REST calls are Google's)."""
    hosts = set()
    for key in ("STORAGE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST",
                "PUBSUB_EMULATOR_HOST", "KELUHAN_FCM_ENDPOINT"):
        value = environ.get(key, "")
        if value:
            hosts.add(urlsplit(value if "//" in value else f"http://{value}").netloc)
    return frozenset(hosts)


class Recorder:
    """Appends each distinct method once to a JSON-lines file (flushed at once: a process may be
    killed at any time)."""

    def __init__(self, path: Path, function: str):
        self.path = path
        self.function = function
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            self._seen = {json.loads(line)["method"] for line in path.read_text().splitlines() if line}

    def __call__(self, method: str | None) -> None:
        if method is None or method in self._seen:
            return
        with self._lock:
            if method in self._seen:
                return
            self._seen.add(method)
            entry = {"function": self.function, "method": method, "where": _caller()}
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry) + "\n")


def _caller() -> str:
    """The innermost function of Keluhan's own code that led to the call (file:function), for review."""
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename.replace(os.sep, "/")
        if ("/keluhan/" in name or "/functions/" in name) and "/devstack/api_calls" not in name:
            tail = name.rsplit("/keluhan/", 1)[-1] if "/keluhan/" in name else name.rsplit("/functions/", 1)[-1]
            return f"{tail}:{frame.f_code.co_name}"
        frame = frame.f_back
    return ""


def install(record: Recorder) -> None:
    """Hook gRPC multicallables, requests sessions and V4 URL signing in this process."""
    import grpc._channel as channel  # type: ignore[import-untyped]  # grpc ships no stubs
    import requests

    def wrap(cls: type, attribute: str) -> None:
        original = getattr(cls, attribute)

        # Any: grpc's private multicallables have no types; arguments and result pass through unchanged.
        def recorded(self: Any, *args: Any, **kwargs: Any) -> Any:
            topic = getattr(args[0], "topic", "") if args and _is_publish(self._method) else ""
            record(grpc_method(self._method) + (f":{topic.rsplit('/', 1)[-1]}" if topic else ""))
            return original(self, *args, **kwargs)

        setattr(cls, attribute, recorded)

    for cls in (channel._UnaryUnaryMultiCallable, channel._UnaryStreamMultiCallable,
                channel._StreamUnaryMultiCallable, channel._StreamStreamMultiCallable):
        for attribute in ("__call__", "with_call", "future"):
            if attribute in vars(cls):
                wrap(cls, attribute)

    hosts = emulator_hosts()
    request = requests.Session.request

    def recorded_request(self: requests.Session, method: str, url: str | bytes,
                         *args: Any, **kwargs: Any) -> requests.Response:  # Any: requests' own, passed through
        name = rest_method(method, url if isinstance(url, str) else url.decode(), emulator_hosts=hosts)
        if name == "storage.objects.insert":  # a multipart upload names its object in the body
            body = kwargs.get("data")
            found = _BODY_NAME.search(body) if isinstance(body, bytes) else None
            name += f":{found.group(1).decode().split('/', 1)[0]}/" if found and b"/" in found.group(1) else ""
        record(name)
        return request(self, method, url, *args, **kwargs)

    requests.Session.request = recorded_request  # type: ignore[method-assign]  # the recording hook, on purpose

    from google.cloud.storage import blob

    sign: Callable[..., str] = blob.Blob.generate_signed_url  # unannotated in google-cloud-storage

    # Any: generate_signed_url's many keywords pass through unchanged (only `method` is read).
    def recorded_sign(self: blob.Blob, *args: Any, **kwargs: Any) -> str:
        # With access_token the client calls signBlob itself (recorded as REST); with a local key
        # it is the stand-in for that call.
        if "access_token" not in kwargs:
            record(SIGN_BLOB)
        # Whoever holds the URL makes the call as this account.
        verb = kwargs.get("method", "GET").upper()
        prefix = f":{self.name.split('/', 1)[0]}/" if "/" in self.name else ""
        record({"PUT": "storage.objects.insert", "GET": "storage.objects.get"}.get(verb, f"unknown:signed {verb}")
               + prefix)
        return sign(self, *args, **kwargs)

    blob.Blob.generate_signed_url = recorded_sign  # type: ignore[method-assign]  # the recording hook, on purpose


def _target(argv: list[str]) -> str:
    for flag in ("--target",):
        if flag in argv:
            return argv[argv.index(flag) + 1]
    return os.environ.get("FUNCTION_TARGET", "unknown")


def main() -> None:
    calls_dir = os.environ.get(CALLS_DIR_ENV)
    if calls_dir:
        function = _target(sys.argv[1:])
        install(Recorder(Path(calls_dir) / f"{function}.jsonl", function))
    from functions_framework._cli import _cli

    sys.argv[0] = "functions-framework"
    _cli()


if __name__ == "__main__":
    main()
