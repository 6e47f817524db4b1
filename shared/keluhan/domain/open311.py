"""Open311 GeoReport v2: the catalogue as services, a report's public view, requests' queries.

The public view is an allow-list: never who reported (reporter_ref, uids, e-mails), never the
original photo's path, and a point rounded to ~110 m where the category points at a person.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from xml.sax.saxutils import escape

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from keluhan.domain.catalogue import CATEGORIES, Category, get_category, known_category
from keluhan.domain.notes import public_note, redact_contacts
from keluhan.domain.photo.exif import distance_m
from keluhan.domain.report import Status, SubmitReport
from keluhan.domain.stored import ReportDoc
from keluhan.domain.text import free_text, line_text
from keluhan.domain.workflow import STATUS_TEXT

PublicStatus = Literal["open", "closed"]

# GeoReport's `closed`: nothing more will happen to the problem here. A fix awaiting the
# reporter's confirmation counts as closed (a reopen makes it open again); a report forwarded
# to another authority stays open: the problem is not fixed, someone else now owns it.
CLOSED: frozenset[Status] = frozenset({
    Status.RESOLVED, Status.CLOSED, Status.REJECTED, Status.DUPLICATE, Status.PHOTO_EXPIRED,
    Status.PHOTO_REJECTED,
})
# Not listed by `GET requests.json` (still readable by id, which only the submitter knows): no
# photo yet, or held for a moderator, or never a real report.
UNLISTED: frozenset[Status] = frozenset({
    Status.AWAITING_PHOTO, Status.PHOTO_EXPIRED, Status.PHOTO_REJECTED, Status.IN_MODERATION,
})
PRIVATE_DECIMALS = 3  # 0.001° ≈ 110 m at Makassar's latitude
PAGE_SIZE_DEFAULT = 50
PAGE_SIZE_MAX = 200
DEFAULT_SPAN = timedelta(days=90)  # GeoReport: the last 90 days unless asked otherwise
MAX_SPAN = timedelta(days=90)
MAX_IDS = 50
MAX_AREA_RADIUS_M = 5000.0  # an area list reads at most AREA_READ_CAP reports whatever its size
AREA_READ_CAP = 400
QUERY_YEARS = (2000, 2100)
SERVICE_GROUPS = {
    "jalan_rusak": "jalan", "trotoar": "jalan", "drainase": "air", "banjir": "air", "air_bersih": "air",
    "sampah": "kebersihan", "lampu_jalan": "penerangan", "lampu_lalu_lintas": "lalu_lintas",
    "rambu_lalu_lintas": "lalu_lintas", "parkir_liar": "ketertiban", "pkl": "ketertiban",
    "bangunan_liar": "ketertiban", "reklame_liar": "ketertiban", "pohon_tumbang": "darurat",
    "kebakaran": "darurat", "bencana": "darurat", "taman": "fasilitas", "fasilitas_umum": "fasilitas",
}


def public_status(status: Status | str) -> PublicStatus:
    return "closed" if Status(status) in CLOSED else "open"


def statuses_of(public: PublicStatus) -> frozenset[Status]:
    """The workflow statuses a GeoReport status stands for."""
    return CLOSED if public == "closed" else frozenset(Status) - CLOSED


# Stored on every report as `LISTING_FIELD` (written with each status change by the report store)
# so that `GET requests.json` filters and pages in Firestore: one array-contains per query, which
# combines with `category in [...]` (≤ 30 values) where a `status in [...]` would not.
LISTING_FIELD = "open311_listing"
LISTED_ANY = "any"


def listing(status: Status | str, *, private: bool = False) -> list[str]:
    """The listing tags of a report in `status`: [] when unlisted (a private report never is listed),
    else ["any", "open"|"closed"]. Nearby and duplicate suggestions query the same tags."""
    if private or Status(status) in UNLISTED:
        return []
    return [LISTED_ANY, public_status(status)]


def service(category: Category) -> dict[str, object]:
    """One entry of `GET services.json`: the Indonesian name, the English description."""
    target = (f"{category.sla_working_days:g} hari kerja / working days" if category.sla_working_days
              else f"{category.sla_hours:g} jam / hours")
    photo = "foto wajib / photo required" if category.photo_required else "tanpa foto / no photo needed"
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": f"{category.name_en}. Target: {target}; {photo}.",
        "metadata": False,
        "type": "realtime",
        "keywords": f"{category.name}, {category.name_en}",
        "group": SERVICE_GROUPS.get(category.code, "lainnya"),
    }


def services() -> list[dict[str, object]]:
    return [service(c) for c in CATEGORIES.values()]


def service_definition(code: str) -> dict[str, object] | None:
    """`GET services/{code}.json`: no extra attributes beyond the standard fields, or None."""
    if get_category(code) is None:
        return None
    return {"service_code": code, "attributes": []}


def request_view(report: ReportDoc, *, media_url: str | None = None) -> dict[str, object]:
    """A report as a GeoReport v2 service request, for anyone; `media_url` is the public thumbnail's
    short-lived link where the caller may show it (keluhan.domain.nearby.photo_is_public)."""
    status = Status(report["status"])
    category = get_category(report["category"])
    location = report.get("location") or {}
    routing = report.get("routing") or {}
    point = report.get("point") or {}
    lat, lon = point.get("lat"), point.get("lon")
    private = category is None or category.point_private
    if private and lat is not None and lon is not None:
        lat, lon = round(lat, PRIVATE_DECIMALS), round(lon, PRIVATE_DECIMALS)
    sla = report.get("sla") or {}
    due = sla.get("due_at") if public_status(status) == "open" else None
    return {
        "service_request_id": report["report_id"],
        "status": public_status(status),
        "status_notes": status_notes(report),
        "service_name": category.name if category else None,
        "service_code": report["category"],
        # Where the point shows a home or a person, so does what people write: withheld.
        "description": None if private else redact_contacts(report.get("description") or "") or None,
        "agency_responsible": routing.get("assignee_name"),
        "service_notice": STATUS_TEXT[status],
        "requested_datetime": _w3c(report["received_at"]),
        "updated_datetime": _w3c(report.get("status_changed_at") or report["received_at"]),
        "expected_datetime": _w3c(due),
        "address": address(location),
        "address_id": location.get("kode_kelurahan"),
        "zipcode": None,
        "lat": lat,
        "long": lon,
        "media_url": media_url,
    }


def status_notes(report: ReportDoc) -> str | None:
    """The last public note of the timeline (a rejection's reason included; never an internal one)."""
    for entry in reversed(report.get("timeline") or []):
        note = public_note(entry)
        if note:
            return note
    return None


def address(location: Mapping[str, Any]) -> str | None:  # Any: a part of a ReportDoc
    """Most specific first: the road (from the road layer, never the reporter's own words),
    kelurahan, kecamatan, the city; or the regency a point outside the city lies in."""
    road = (location.get("road") or {}).get("name")
    if not location.get("inside_city", True) or not location.get("kelurahan"):
        region = location.get("outside_region")
        return f"{road + ', ' if road else ''}{region}" if region else None
    parts = [road, f"Kel. {location['kelurahan']}",
             location.get("kecamatan") and f"Kec. {location['kecamatan']}", "Kota Makassar"]
    return ", ".join(p for p in parts if p)


def _w3c(value: datetime | str | None) -> str | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# --- posting a request ------------------------------------------------------------------------
class PostRequest(BaseModel):
    """What a GeoReport client POSTs to requests.json (form fields, or a JSON object).

    Contact fields of the person behind the request (email, names, phone) are accepted and not
    stored: the channel answers to its callers. `media_url` is never fetched: a photo goes to the
    signed upload URL the answer carries.
    """

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, frozen=True)

    service_code: str = Field(min_length=1, max_length=64)
    lat: float = Field(ge=-90, le=90)
    long: float = Field(ge=-180, le=180)
    description: str = Field(min_length=1, max_length=2000)
    address_string: str | None = Field(default=None, max_length=200)
    # Extensions: the channel's own id of the request (the idempotency key) and how precise the
    # point is (a caller's description is rarely better than 50 m).
    client_request_id: str | None = Field(default=None, min_length=8, max_length=64,
                                          pattern=r"^[A-Za-z0-9_.:\-]+$")
    accuracy_m: float = Field(default=50.0, ge=0, le=10_000)
    photo_taken_at: AwareDatetime | None = None
    photo_content_type: Literal["image/jpeg", "image/png", "image/heic"] = "image/jpeg"

    @model_validator(mode="before")
    @classmethod
    def _attributes(cls, data: object) -> object:
        """`attribute[client_request_id]` (GeoReport's attribute form) counts as the field."""
        if isinstance(data, dict):
            data = dict(data)
            for key in ("client_request_id", "accuracy_m"):
                attr = data.pop(f"attribute[{key}]", None)
                if attr is not None and data.get(key) in (None, ""):
                    data[key] = attr
            data = {k: v for k, v in data.items() if v != ""}
        return data

    @field_validator("service_code")
    @classmethod
    def _known_service(cls, code: str) -> str:
        return known_category(code, field="service_code")

    @field_validator("description")
    @classmethod
    def _description_text(cls, value: str) -> str:
        return free_text(value) or ""

    @field_validator("address_string")
    @classmethod
    def _address_text(cls, value: str | None) -> str | None:
        return line_text(value)

    def to_submission(self, *, channel: str, fallback_client_id: str) -> SubmitReport:
        """The same command submit_report takes, as the channel."""
        return SubmitReport.model_validate({
            "client_id": self.client_request_id or fallback_client_id,
            "category": self.service_code, "description": self.description,
            "lat": self.lat, "lon": self.long, "accuracy_m": self.accuracy_m,
            "street": self.address_string, "photo_taken_at": self.photo_taken_at,
            "channel": channel, "photo_content_type": self.photo_content_type,
        })


def posted(report: ReportDoc, upload: Mapping[str, object] | None) -> dict[str, object]:
    """The answer to a POST: the id (also its token), and where the photo goes if one is due."""
    status = Status(report["status"])
    out: dict[str, object] = {"service_request_id": report["report_id"], "token": report["report_id"],
                           "service_notice": STATUS_TEXT[status], "account_id": None}
    if upload is not None:
        out["upload"] = upload
    return out


# --- querying requests ------------------------------------------------------------------------
class BadRange(ValueError):
    """start_date and end_date that cannot be served (400)."""


class RequestQuery(BaseModel):
    """`GET requests.json`'s filters, bounded: at most 90 days, `page_size` ≤ 200."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, frozen=True)

    service_request_id: list[str] = Field(default_factory=list, max_length=MAX_IDS)
    service_code: list[str] = Field(default_factory=list, max_length=len(CATEGORIES))
    start_date: AwareDatetime | None = None
    end_date: AwareDatetime | None = None
    status: list[PublicStatus] = Field(default_factory=list, max_length=2)
    page: int = Field(default=1, ge=1, le=1000)
    page_size: int = Field(default=PAGE_SIZE_DEFAULT, ge=1, le=PAGE_SIZE_MAX)
    # Extensions: an area, as `bbox` (min_long,min_lat,max_long,max_lat) or `lat`/`long`/`radius`
    # (metres), answered from the geohash ranges nearby_reports uses (one page, no cursor); and
    # `updated_after`, the requests whose status changed since then.
    bbox: tuple[float, float, float, float] | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    long: float | None = Field(default=None, ge=-180, le=180)
    radius: float | None = Field(default=None, gt=0, le=MAX_AREA_RADIUS_M)
    updated_after: AwareDatetime | None = None
    # Extension: where the previous page ended (its `X-Next-Cursor` answer header). A page reached
    # by `page` alone skips (page - 1) × page_size reports, which Firestore bills as reads: at most
    # MAX_SKIPPED; further on only the cursor goes.
    cursor: str | None = Field(default=None, max_length=200)

    @field_validator("bbox", mode="before")
    @classmethod
    def _bbox(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",")]
            if len(parts) != 4:
                raise ValueError("bbox: min_long,min_lat,max_long,max_lat")
            try:
                return tuple(float(p) for p in parts)
            except ValueError as exc:
                raise ValueError("bbox: empat angka / four numbers: min_long,min_lat,max_long,max_lat") from exc
        return value

    @field_validator("bbox")
    @classmethod
    def _bbox_bounds(cls, box: tuple[float, float, float, float] | None) -> tuple[float, float, float, float] | None:
        if box is None:
            return None
        min_long, min_lat, max_long, max_lat = box
        if not (-180 <= min_long < max_long <= 180 and -90 <= min_lat < max_lat <= 90):
            raise ValueError("bbox tidak valid / invalid bbox (min_long,min_lat,max_long,max_lat)")
        if distance_m((min_lat, min_long), (max_lat, max_long)) / 2 > MAX_AREA_RADIUS_M:
            raise ValueError(f"bbox terlalu besar (diagonal > {2 * MAX_AREA_RADIUS_M:g} m) / bbox too large "
                             f"(diagonal over {2 * MAX_AREA_RADIUS_M:g} m)")
        return box

    @model_validator(mode="after")
    def _one_area(self) -> RequestQuery:
        circle = (self.lat, self.long, self.radius)
        if any(v is not None for v in circle) and any(v is None for v in circle):
            raise PydanticCustomError("missing", "lat, long dan radius bersama / lat, long and radius together",
                                      {"field": "radius"})
        if self.bbox is not None and self.lat is not None:
            raise PydanticCustomError("value_error", "bbox atau lat/long/radius, bukan keduanya / bbox or "
                                      "lat/long/radius, not both", {"field": "bbox"})
        return self

    def area(self) -> Area | None:
        """The circle to search (a bbox's circumcircle) and the box to keep, or None without one."""
        if self.bbox is not None:
            min_long, min_lat, max_long, max_lat = self.bbox
            lat, lon = (min_lat + max_lat) / 2, (min_long + max_long) / 2
            radius = distance_m((lat, lon), (max_lat, max_long))
            return Area(lat, lon, radius, self.bbox)
        if self.lat is not None and self.long is not None and self.radius is not None:
            return Area(self.lat, self.long, self.radius, None)
        return None

    def received_window(self, now: datetime) -> tuple[datetime, datetime] | None:
        """The `requested_datetime` window; with `updated_after` only when asked for explicitly (a
        client syncing changes wants old requests that changed, too)."""
        if self.updated_after is not None and self.start_date is None and self.end_date is None:
            return None
        return self.window(now)

    @model_validator(mode="after")
    def _bounded_skip(self) -> RequestQuery:
        if self.cursor is not None:
            decode_cursor(self.cursor)
        elif self.skipped() > MAX_SKIPPED:
            raise ValueError(f"page: lebih dari {MAX_SKIPPED} laporan dilewati; pakai cursor dari header "
                             f"X-Next-Cursor / page skips more than {MAX_SKIPPED} requests; use the "
                             "cursor of the X-Next-Cursor header")
        return self

    def skipped(self) -> int:
        """How many reports the page skips (none after a cursor)."""
        return 0 if self.cursor else (self.page - 1) * self.page_size

    @field_validator("service_request_id", "service_code", "status", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @field_validator("start_date", "end_date", "updated_after")
    @classmethod
    def _plausible_date(cls, value: datetime | None) -> datetime | None:
        # Year 1 at +14:00 cannot even be converted to UTC: a 400 here, not a 503 later.
        if value is not None and not (QUERY_YEARS[0] <= value.year <= QUERY_YEARS[1]):
            raise ValueError(f"tahun di luar {QUERY_YEARS[0]}–{QUERY_YEARS[1]} / year outside "
                             f"{QUERY_YEARS[0]}–{QUERY_YEARS[1]}")
        return value

    @field_validator("service_request_id")
    @classmethod
    def _ids(cls, ids: list[str]) -> list[str]:
        if any(not _ID.fullmatch(i) for i in ids):
            raise ValueError("service_request_id tidak valid / invalid service_request_id")
        return ids

    @field_validator("service_code")
    @classmethod
    def _codes(cls, codes: list[str]) -> list[str]:
        if any(get_category(c) is None for c in codes):
            raise ValueError("service_code tidak dikenal / unknown service_code")
        return codes

    def window(self, now: datetime) -> tuple[datetime, datetime]:
        """[start, end) of `requested_datetime`, at most 90 days; raises BadRange."""
        end = self.end_date or now
        start = self.start_date or end - DEFAULT_SPAN
        if end <= start:
            raise BadRange("end_date harus setelah start_date / end_date must be after start_date")
        if end - start > MAX_SPAN:
            raise BadRange("rentang paling lama 90 hari / the range may span at most 90 days")
        return start, end

    def statuses(self) -> frozenset[Status]:
        """The workflow statuses to list: the asked ones, never the unlisted."""
        wanted = frozenset().union(*(statuses_of(s) for s in self.status)) if self.status else frozenset(Status)
        return wanted - UNLISTED

    def listing_tag(self) -> str:
        """The one listing tag (see `listing`) the asked statuses stand for."""
        return self.status[0] if len(set(self.status)) == 1 else LISTED_ANY


MAX_SKIPPED = 100


@dataclass(frozen=True)
class Area:
    """Where a requests list looks: a circle in metres, and the box to keep when one was asked."""

    lat: float
    lon: float
    radius_m: float
    bbox: tuple[float, float, float, float] | None

    def holds(self, lat: float, lon: float) -> bool:
        if self.bbox is None:
            return distance_m((self.lat, self.lon), (lat, lon)) <= self.radius_m
        min_long, min_lat, max_long, max_lat = self.bbox
        return min_lat <= lat <= max_lat and min_long <= lon <= max_long


def encode_cursor(received_at: datetime, report_id: str) -> str:
    """The opaque cursor after a listed report: its `received_at` and id."""
    raw = f"{_w3c_micro(received_at)}|{report_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """(received_at, report id) of a cursor; raises ValueError naming the field."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, report_id = text.split("|")
        when = datetime.fromisoformat(at)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("cursor tidak valid / invalid cursor") from exc
    if when.tzinfo is None or not _ID.fullmatch(report_id):
        raise ValueError("cursor tidak valid / invalid cursor")
    return when, report_id


def _w3c_micro(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


# --- api keys ---------------------------------------------------------------------------------
def key_hash(api_key: str) -> str:
    """The document id of an api key: open311_keys/{sha256(key)}; the key itself is never stored."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def key_identity(digest: str) -> str:
    """The reporter id a key's requests are submitted as (idempotency and quotas per key)."""
    return f"open311:{digest[:24]}"


# --- XML --------------------------------------------------------------------------------------
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>'


def to_xml(root: str, item: str, items: Sequence[Mapping[str, object]]) -> str:
    """GeoReport's XML form of a list answer: <root><item><field>…</field></item>…</root>."""
    return XML_DECLARATION + _xml_field(root, None, items=[(item, entry) for entry in items])


def to_xml_object(root: str, fields: Mapping[str, object]) -> str:
    """GeoReport's XML form of a single object (the service definition): <root><field>…</root>."""
    return XML_DECLARATION + _xml_field(root, fields)


def _xml_field(name: str, value: object, *, items: list[tuple[str, object]] | None = None) -> str:
    if items is not None:
        return f"<{name}>" + "".join(_xml_field(tag, v) for tag, v in items) + f"</{name}>"
    if value is None:
        return f"<{name}/>"
    if isinstance(value, dict):
        return f"<{name}>" + "".join(_xml_field(k, v) for k, v in value.items()) + f"</{name}>"
    if isinstance(value, list):  # the service definition's attributes and their values
        tag = {"attributes": "attribute", "values": "value"}.get(name, "item")
        return f"<{name}>" + "".join(_xml_field(tag, v) for v in value) + f"</{name}>"
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{name}>{escape(xml_chars(str(value)))}</{name}>"


# XML 1.0's Char production: whatever was stored before a validator refused it (an old report's
# U+FFFF, a control character), the document stays well-formed for every consumer.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_chars(text: str) -> str:
    """`text` with every character XML 1.0 cannot carry replaced by U+FFFD."""
    return _NOT_XML_CHAR.sub("\ufffd", text)
