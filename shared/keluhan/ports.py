"""The ports use cases take: Firestore-like report storage, an event publisher, photo storage."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol


class PermanentError(Exception):
    """Bad data: record it on the report and acknowledge; retrying cannot help."""


class TransientError(Exception):
    """A dependency is down: let Pub/Sub redeliver."""


class PhotoTooLarge(Exception):
    """The stored object exceeds the byte limit: it is never downloaded whole."""


Mutation = Callable[[dict[str, Any]], dict[str, Any] | None]


class Reports(Protocol):
    """reports/{report_id} and submissions/{key}."""

    def create(self, report: dict[str, Any], *, submission_key: str,
               submission: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], bool]:
        """Store a new report and its submission unless the key exists.

        Returns (stored report, stored submission, created).
        """

    def submission(self, submission_key: str) -> dict[str, Any] | None:
        """Who submitted: reporter_uid, client_id, request_hash (never shown to SKPDs)."""

    def get(self, report_id: str) -> dict[str, Any] | None: ...

    def overdue_photo_waits(self, *, now: datetime, limit: int) -> list[dict[str, Any]]:
        """Reports still awaiting a photo whose deadline has passed, oldest first."""

    def mutate(self, report_id: str, mutation: Mutation) -> dict[str, Any] | None:
        """Atomically apply `mutation` (report → field changes, or None for no change).

        Returns the report after the change, or None if it does not exist.
        """


class Publisher(Protocol):
    def __call__(self, topic: str, data: dict[str, Any], attributes: dict[str, str]) -> None:
        """Publish one message and wait until the broker has it."""


class PhotoStore(Protocol):
    """The private photo bucket."""

    def upload_url(self, object_name: str, *, content_types: tuple[str, ...], max_bytes: int,
                   expires_at: datetime) -> dict[str, Any]: ...

    def read(self, object_name: str, *, generation: int | None, max_bytes: int) -> bytes: ...

    def write(self, object_name: str, data: bytes, *, content_type: str) -> None: ...


class PhotoIndex(Protocol):
    """Perceptual hashes of recently accepted photos, for the reuse check."""

    def candidates(self, phash: str, *, since: datetime, exclude_report: str) -> list[tuple[str, str]]:
        """(report_id, phash) of photos since `since`, other than `exclude_report`'s, that may
        be within hash_bands.MAX_DISTANCE bits of `phash`; never misses one that is."""

    def remember_hash(self, report_id: str, phash: str, at: datetime) -> None:
        """Index an accepted photo's hash; idempotent per report."""


Clock = Callable[[], datetime]
