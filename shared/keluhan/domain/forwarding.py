"""Forwarding a report to an external body: delivery state, idempotency key, payloads."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from keluhan.domain.assignees import get_assignee
from keluhan.domain.stored import ReportDoc

DeliveryState = Literal["pending", "sent", "acknowledged", "failed"]
PayloadFormat = Literal["webhook", "open311"]
PAYLOAD_FORMATS: tuple[PayloadFormat, ...] = ("webhook", "open311")

WEBHOOK_SCHEMA = "keluhan.forward/v1"
SENDER = "Pemerintah Kota Makassar (Keluhan)"
OPEN311_DESCRIPTION_MAX = 4000


class ForwardingConfigError(ValueError):
    """No usable receiver is configured for an assignee."""


class Delivery(BaseModel):
    """Delivery of one report to one external body, kept apart from the report's status.

    pending: not delivered yet (never tried, or the last try failed and a retry will come);
    sent: a request went out and its answer is not recorded (a crash mid-send leaves this);
    acknowledged: the receiver accepted it, final; failed: given up (dead letter, bad request).
    """

    model_config = ConfigDict(frozen=True)

    assignee: str
    state: DeliveryState = "pending"
    attempts: int = 0
    last_error: str | None = None
    receiver_ref: str | None = None
    idempotency_key: str
    updated_at: datetime

    @classmethod
    def start(cls, *, report_id: str, assignee: str, now: datetime, assignment: int = 0) -> Delivery:
        """A fresh pending delivery of a report to an assignee (its `assignment`-th assignment)."""
        return cls(
            assignee=assignee,
            idempotency_key=idempotency_key(report_id, assignee, assignment),
            updated_at=now,
        )

    @property
    def done(self) -> bool:
        """Acknowledged deliveries never change again; redelivered events must be no-ops."""
        return self.state == "acknowledged"

    def record_attempt(self, *, now: datetime) -> Delivery:
        """One more request is about to go out (also after a replay of a failed delivery)."""
        if self.done:
            return self
        return self.model_copy(
            update={"state": "sent", "attempts": self.attempts + 1, "updated_at": now}
        )

    def retry_later(self, error: str, *, now: datetime) -> Delivery:
        """The last try failed transiently; Pub/Sub will redeliver."""
        if self.done:
            return self
        return self.model_copy(update={"state": "pending", "last_error": error, "updated_at": now})

    def acknowledged(self, receiver_ref: str | None, *, now: datetime) -> Delivery:
        """The receiver accepted the report, with its own reference when it gives one."""
        if self.done:
            return self
        return self.model_copy(
            update={
                "state": "acknowledged",
                "receiver_ref": receiver_ref,
                "last_error": None,
                "updated_at": now,
            }
        )

    def failed(self, reason: str, *, now: datetime) -> Delivery:
        """Given up: a permanent rejection or the dead-letter topic; an operator may replay."""
        if self.done:
            return self
        return self.model_copy(update={"state": "failed", "last_error": reason, "updated_at": now})


def idempotency_key(report_id: str, assignee: str, assignment: int = 0) -> str:
    """The Idempotency-Key for a report sent to an assignee: the same on every retry.

    A report reassigned away and back is a new hand-over, so later assignments get their own key.
    """
    if not report_id or not assignee:
        raise ValueError("report_id and assignee are required")
    key = f"keluhan:{report_id}:{assignee}"
    return f"{key}:{assignment}" if assignment else key


def target_for(targets: Mapping[str, Mapping[str, str]], assignee: str) -> Mapping[str, str]:
    """The configured receiver (url, format, optional token) of an assignee, checked."""
    target = targets.get(assignee)
    if not target:
        raise ForwardingConfigError(f"no forward target configured for {assignee!r}")
    url = target.get("url", "")
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise ForwardingConfigError(f"forward target {assignee!r} has no valid http(s) url")
    if target.get("format", "webhook") not in PAYLOAD_FORMATS:
        raise ForwardingConfigError(
            f"forward target {assignee!r} has unknown format {target.get('format')!r}"
        )
    return target


def build_payload(report: ReportDoc, fmt: str) -> dict[str, object]:
    """The request body for a receiver speaking `fmt` ("webhook" or "open311")."""
    if fmt == "open311":
        return open311_request(report)
    if fmt == "webhook":
        return webhook_payload(report)
    raise ForwardingConfigError(f"unknown payload format {fmt!r}")


# The builders copy named fields only, never the whole report: the reporter's uid, email and
# device data must not leave the city, and only the EXIF-free photo copy may.


def webhook_payload(report: ReportDoc) -> dict[str, object]:
    """Our own JSON for receivers without Open311."""
    location = report.get("location") or {}
    routing = report.get("routing") or {}
    road = location.get("road")
    return {
        "schema": WEBHOOK_SCHEMA,
        "sender": SENDER,
        "report_id": str(report["report_id"]),
        "category": {"code": str(report["category"]), "name": report.get("category_name")},
        "description": report.get("description") or "",
        "received_at": _iso(report["received_at"]),
        "status": report.get("status"),
        "location": {
            "lat": float(report["lat"]),
            "lon": float(report["lon"]),
            "street": report.get("street"),
            "kelurahan": location.get("kelurahan"),
            "kode_kelurahan": location.get("kode_kelurahan"),
            "kecamatan": location.get("kecamatan"),
            "kode_kecamatan": location.get("kode_kecamatan"),
            "outside_region": location.get("outside_region"),
            "road": _road(road) if road else None,
        },
        "routing": {
            "assignee": routing.get("assignee"),
            "rule": routing.get("rule"),
            "reason": routing.get("reason"),
            "rules_version": routing.get("rules_version"),
        },
        "photo_url": _photo_url(report),
    }


def open311_request(report: ReportDoc) -> dict[str, object]:
    """The report as one Open311 GeoReport v2 service request (ids and codes as strings)."""
    routing = report.get("routing") or {}
    assignee = get_assignee(routing.get("assignee") or "")
    reason = routing.get("reason")
    notes = "Diteruskan dari Pemerintah Kota Makassar / Forwarded by the City of Makassar"
    return {
        "service_request_id": str(report["report_id"]),
        "status": "open",
        "status_notes": f"{notes}: {reason}" if reason else notes,
        "service_name": report.get("category_name"),
        "service_code": str(report["category"]),
        "description": (report.get("description") or "")[:OPEN311_DESCRIPTION_MAX],
        "agency_responsible": assignee.name if assignee else routing.get("assignee"),
        "requested_datetime": _iso(report["received_at"]),
        "address": _address(report),
        "lat": float(report["lat"]),
        "long": float(report["lon"]),
        "media_url": _photo_url(report),
    }


def _road(road: Mapping[str, Any]) -> dict[str, object]:  # Any: a part of a ReportDoc
    return {k: road.get(k) for k in ("name", "status", "source", "toll")}


def _iso(value: datetime | str) -> str:
    """RFC 3339 text; a naive time has no honest offset, so it is refused."""
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    if parsed.tzinfo is None:
        raise ValueError("received_at must carry a UTC offset")
    return parsed.isoformat()


def _photo_url(report: ReportDoc) -> str | None:
    url = report.get("photo_url")
    return url if isinstance(url, str) and urlsplit(url).scheme in ("http", "https") else None


def _address(report: ReportDoc) -> str | None:
    """Most specific first, as Open311 asks: street, kelurahan, kecamatan, city or regency."""
    location = report.get("location") or {}
    street = report.get("street") or ((location.get("road") or {}).get("name"))
    kelurahan, kecamatan = location.get("kelurahan"), location.get("kecamatan")
    candidates = [
        street,
        f"Kel. {kelurahan}" if kelurahan else None,
        f"Kec. {kecamatan}" if kecamatan else None,
        "Kota Makassar" if kelurahan or kecamatan else location.get("outside_region"),
    ]
    parts = [str(p) for p in candidates if p]
    return ", ".join(parts) + ", Sulawesi Selatan" if parts else None
