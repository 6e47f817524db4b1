"""The private photo bucket: V4 signed upload URLs, reads of one generation, derivative writes."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from google.auth.credentials import Credentials
from google.cloud import storage

from keluhan.ports import ObjectStat, PhotoTooLarge

MAX_CACHED_LINKS = 1000


class GcsPhotoStore:
    def __init__(self, client: storage.Client, bucket: str, *, signing_credentials: Credentials | None = None,
                 runtime_credentials: Credentials | None = None, clock: Callable[[], datetime] | None = None) -> None:
        """Sign with a key (`signing_credentials`), or through IAM signBlob as the runtime
        service account (`runtime_credentials`, refreshed whenever its token has expired)."""
        # google-cloud-storage is unannotated (its objects are Any); only --strict checks the call.
        self._bucket = client.bucket(bucket)  # type: ignore[no-untyped-call, unused-ignore]
        self._signing = signing_credentials
        self._runtime = runtime_credentials
        self._clock = clock or (lambda: datetime.now(UTC))  # the clock `expires_at` was computed on
        self._links: OrderedDict[str, tuple[str, datetime]] = OrderedDict()  # object → (GET link, expiry)

    def _signer(self) -> dict[str, object]:
        if self._signing is not None:
            return {"credentials": self._signing}
        if self._runtime is None:
            raise ValueError("GcsPhotoStore needs signing_credentials or runtime_credentials")
        if not self._runtime.valid:
            from google.auth.transport.requests import Request

            self._runtime.refresh(Request())  # type: ignore[no-untyped-call, unused-ignore]  # google-auth leaves refresh unannotated
        # The runtime's (Compute Engine) credentials carry their account's e-mail; the base class does not declare it.
        return {"service_account_email": getattr(self._runtime, "service_account_email"),  # noqa: B009
                "access_token": self._runtime.token}

    def upload_url(self, object_name: str, *, content_types: tuple[str, ...], max_bytes: int,
                   expires_at: datetime) -> dict[str, Any]:  # Any: the PhotoStore port's return type
        """A PUT URL bound to one content type and a size range, valid until `expires_at`."""
        content_type = content_types[0]
        headers = {"x-goog-content-length-range": f"0,{max_bytes}"}
        url: str = self._bucket.blob(object_name).generate_signed_url(
            version="v4",
            method="PUT",
            expiration=expires_at - self._clock(),
            content_type=content_type,
            headers=headers,
            **self._signer(),
        )
        return {
            "method": "PUT",
            "url": url,
            "headers": {"Content-Type": content_type, **headers},
            "expires_at": expires_at.isoformat(),
            "max_bytes": max_bytes,
        }

    def download_url(self, object_name: str, *, expires_at: datetime) -> str:
        """A GET URL of one derivative (never an original), valid until `expires_at` (≤ 7 days)."""
        return self.download_link(object_name, expires_at=expires_at)[0]

    def download_link(self, object_name: str, *, expires_at: datetime) -> tuple[str, datetime]:
        """A GET URL of one derivative and its real expiry (a cached link's may come sooner)."""
        if not object_name.startswith("derived/"):
            raise ValueError("only EXIF-free derivatives are ever shared")
        now = self._clock()
        cached = self._links.get(object_name)
        # Signing is an IAM signBlob call: a link stays in use while it is valid for at least half
        # the asked lifetime (derivative names never change content: one per generation).
        if cached is not None and cached[1] - now >= (expires_at - now) / 2:
            self._links.move_to_end(object_name)
            return cached
        url: str = self._bucket.blob(object_name).generate_signed_url(
            version="v4", method="GET", expiration=expires_at - now, **self._signer())
        self._links[object_name] = (url, expires_at)
        while len(self._links) > MAX_CACHED_LINKS:
            self._links.popitem(last=False)
        return url, expires_at

    def read(self, object_name: str, *, generation: int | None, max_bytes: int) -> bytes:
        blob = self._bucket.get_blob(object_name, generation=generation)
        if blob is None:
            raise FileNotFoundError(object_name)
        if blob.size is not None and blob.size > max_bytes:
            raise PhotoTooLarge(f"{blob.size} bytes")
        data: bytes = blob.download_as_bytes()
        return data

    def write(self, object_name: str, data: bytes, *, content_type: str) -> None:
        blob = self._bucket.blob(object_name)
        blob.cache_control = "private, max-age=3600"
        blob.upload_from_string(data, content_type=content_type)

    def stat(self, object_name: str) -> ObjectStat | None:
        blob = self._bucket.get_blob(object_name)
        return None if blob is None else ObjectStat(int(blob.generation), blob.content_type)
