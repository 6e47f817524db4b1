"""A client of the running local stack, as the apps and operators use it (demo and e2e tests)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

import requests
from pydantic import JsonValue
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from keluhan.devstack.config import StackConfig

if TYPE_CHECKING:
    from google.cloud import firestore

T = TypeVar("T")
# Any: a report document as stored, read raw as SKPD tools and operators do: any value per field.
Document = dict[str, Any]



class Upload(TypedDict):
    """A signed photo upload, as submit_report and act_on_report answer it."""

    url: str
    headers: dict[str, str]


SETTLED = {"routed", "forwarded", "triage", "photo_rejected", "in_moderation", "photo_expired"}


class StackClient:
    def __init__(self, config: StackConfig):
        self.config = config
        self.http = requests.Session()
        # The Auth emulator resets idle keep-alive connections on a busy machine; its calls are safe
        # to repeat (sign-up of an existing e-mail falls back to sign-in), so they retry on their own.
        self.auth_http = requests.Session()
        self.auth_http.mount("http://", HTTPAdapter(max_retries=Retry(
            total=4, connect=4, read=4, allowed_methods=None, backoff_factor=0.2)))
        for key, value in config.emulator_env().items():
            os.environ.setdefault(key, value)

    # --- citizens -------------------------------------------------------------------------
    def sign_in(self, email: str, password: str = "rahasia-demo") -> tuple[str, str]:
        """(uid, ID token) of a test user of the Auth emulator, created on first use."""
        base = f"{self.config.auth.url}/identitytoolkit.googleapis.com/v1"
        body: dict[str, JsonValue] = {"email": email, "password": password, "returnSecureToken": True}
        response = self.auth_http.post(f"{base}/accounts:signUp?key=demo", json=body, timeout=10)
        if response.status_code == 400 and "EMAIL_EXISTS" in response.text:
            response = self.auth_http.post(f"{base}/accounts:signInWithPassword?key=demo", json=body, timeout=10)
        response.raise_for_status()
        data = response.json()
        return data["localId"], data["idToken"]

    def user(self, email: str, claims: Mapping[str, JsonValue] | None = None,
             password: str = "rahasia-demo", *, verified: bool | None = None) -> tuple[str, str]:
        """(uid, ID token) of a test user carrying exactly these role claims (None: a citizen);
        its e-mail verified when asked, else when it has a role (as staff accounts are)."""
        uid, _ = self.sign_in(email, password)
        base = f"{self.config.auth.url}/identitytoolkit.googleapis.com/v1/projects/{self.config.project}"
        email_verified = bool(claims and claims.get("role")) if verified is None else verified
        response = self.auth_http.post(f"{base}/accounts:update", headers={"Authorization": "Bearer owner"},
                                  json={"localId": uid, "customAttributes": json.dumps(claims or {}),
                                        "emailVerified": email_verified},
                                  timeout=10)
        response.raise_for_status()
        from datetime import UTC, datetime

        from keluhan.adapters.firestore_store import FirestoreDirectory

        FirestoreDirectory(self.db).record(uid, claims or {}, datetime.now(UTC))  # as `keluhan users grant`
        return self.sign_in(email, password)  # a fresh token carries the claims

    def act(self, token: str, body: dict[str, JsonValue]) -> requests.Response:
        return self.http.post(self.function_url("act_on_report"), json=body,
                              headers={"Authorization": f"Bearer {token}"}, timeout=30)

    def function_url(self, name: str) -> str:
        return f"{self.config.functions[name].url}/"

    def submit(self, token: str | None, body: JsonValue, **kwargs: Any) -> requests.Response:  # Any: requests' keywords
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.http.post(self.function_url("submit_report"), json=body, headers=headers,
                              timeout=30, **kwargs)

    def support(self, token: str, report_id: str, *, undo: bool = False) -> requests.Response:
        return self.http.post(self.function_url("support_report"), json={"report_id": report_id, "undo": undo},
                              headers={"Authorization": f"Bearer {token}"}, timeout=30)

    def comment(self, token: str, body: dict[str, JsonValue]) -> requests.Response:
        return self.http.post(self.function_url("comment_on_report"), json=body,
                              headers={"Authorization": f"Bearer {token}"}, timeout=30)

    def thread(self, token: str, report_id: str) -> requests.Response:
        return self.http.get(self.function_url("comment_on_report"), params={"report_id": report_id},
                             headers={"Authorization": f"Bearer {token}"}, timeout=30)

    def get_report(self, token: str, report_id: str) -> requests.Response:
        return self.http.get(self.function_url("get_report"), params={"report_id": report_id},
                             headers={"Authorization": f"Bearer {token}"}, timeout=30)

    def upload_photo(self, upload: Upload, data: bytes) -> requests.Response:
        """PUT to the signed URL with exactly the headers it was signed for."""
        return self.http.put(upload["url"], data=data, headers=upload["headers"], timeout=30)

    # --- Firestore, as SKPD tools and operators read it -----------------------------------
    @property
    def db(self) -> firestore.Client:
        from google.cloud import firestore

        if not hasattr(self, "_db"):
            self._db = firestore.Client(project=self.config.project)
        return self._db

    def report(self, report_id: str) -> Document | None:
        snap = self.db.collection("reports").document(report_id).get()
        return snap.to_dict() if snap.exists else None

    def wait_report(self, report_id: str, until: Callable[[Document], bool] | None = None, *,
                    timeout_s: float = 60.0) -> Document:
        """Poll (bounded) until the report satisfies `until` (default: settled)."""
        settled = until or (lambda r: r["status"] in SETTLED)
        return wait_for(lambda: _if(self.report(report_id), settled), timeout_s=timeout_s,
                        what=f"report {report_id}")


def _if(value: T | None, predicate: Callable[[T], bool]) -> T | None:
    return value if value is not None and predicate(value) else None


def wait_for(probe: Callable[[], T | None], *, timeout_s: float, what: str, interval_s: float = 0.2) -> T:
    """The first truthy value of `probe()`, polling until `timeout_s`; TimeoutError otherwise."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval_s)
    raise TimeoutError(f"{what}: not reached within {timeout_s:.0f} s (last: {last!r})")
