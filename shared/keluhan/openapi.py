"""The HTTP API as an OpenAPI 3.1 document, built from the request, response and error models.

Each HTTP function of keluhan.topology has its operations in OPERATIONS, or is named in
DESCRIBED_ELSEWHERE with where its description lives; tests/unit/test_openapi.py fails otherwise.
Deployed, a function answers at `/{function}/…` of the functions' base URL; locally each function
listens on its own port, at `/…` (`local_path`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, JsonSchemaValue, models_json_schema

from keluhan.domain.catalogue import CATEGORIES
from keluhan.domain.comments import CommentAnswer, CommentOnReport, Thread
from keluhan.domain.push import Preferences, RegisterDevice, SetPreferences, UnregisterDevice
from keluhan.domain.report import REPORT_ID_SCHEMA_PATTERN, ActOnReport, SubmitReport
from keluhan.domain.subscriptions import (
    NewSubscription,
    RemoveSubscription,
    SubscriptionList,
    SubscriptionRemoved,
    SubscriptionView,
)
from keluhan.domain.support import SupportAnswer, SupportReport
from keluhan.domain.views import (
    ActOnReportAnswer,
    DeviceAnswer,
    FeatureCollection,
    MyReportsAnswer,
    NearbyAnswer,
    PhotoLinks,
    ReporterView,
    SubmitReportAnswer,
    UnregisterAnswer,
    WarRoomConfig,
    WarRoomStats,
    WorkQueue,
    WorkReport,
)
from keluhan.http import ErrorResponse
from keluhan.topology import FUNCTIONS

# JSON Schema and OpenAPI objects are open-ended JSON: pydantic's JsonSchemaValue (dict[str, Any]) types them.

API_VERSION = "0.1.0"
REF_TEMPLATE = "#/components/schemas/{model}"
BEARER = "firebaseIdToken"

# HTTP functions whose API another document describes: name -> why and where.
DESCRIBED_ELSEWHERE: dict[str, str] = {
    "open311": "GeoReport v2, described by its own spec (docs/open311.md)",
    "open311_intake": "open311's POST requests.json and services for intake channels (docs/open311.md)",
    "whatsapp": "the WhatsApp Cloud API webhook, Meta's format signed by Meta (docs/whatsapp.md)",
}


@dataclass(frozen=True)
class Query:
    name: str
    description: str
    schema: JsonSchemaValue
    required: bool = False


@dataclass(frozen=True)
class Operation:
    """One method on one path of one HTTP function: what it takes and every answer it gives."""

    function: str
    method: Literal["get", "post", "delete"]
    local_path: str  # the path the function itself sees
    summary: str
    responses: dict[int, tuple[str, type[BaseModel] | str]]  # status -> (description, model or media type)
    body: type[BaseModel] | None = None
    query: tuple[Query, ...] = ()
    signed_in: bool = True
    tags: tuple[str, ...] = field(default=())
    operation_id: str = ""  # else the function's name and the path (two methods on one path: the second's id)

    @property
    def id(self) -> str:
        return self.operation_id or self.function + _suffix(self)

    @property
    def path(self) -> str:
        return f"/{self.function}" + ("" if self.local_path == "/" else self.local_path)


# The errors every operation of a kind can answer.
SIGNED_IN = {401: ("Tidak masuk / no valid Firebase ID token (unauthenticated)", ErrorResponse),
             503: ("Coba lagi / a dependency is down, retry (unavailable, misconfigured)", ErrorResponse)}
JSON_BODY = {400: ("Isi bukan objek JSON / body is not a JSON object (invalid_json)", ErrorResponse),
             413: ("Isi terlalu besar / body too large (body_too_large)", ErrorResponse),
             415: ("Bukan application/json (unsupported_media_type)", ErrorResponse),
             422: ("Field tidak valid / a field is invalid; details names each (invalid_field)", ErrorResponse)}

REPORT_ID_QUERY = Query("report_id", "The report's id", {"type": "string", "maxLength": 64,
                                                         "pattern": REPORT_ID_SCHEMA_PATTERN}, required=True)
# Who is told of nothing: an anonymous sign-in or a channel service.
NOTIFIED = {403: ("Akun ini tidak menerima notifikasi / anonymous sign-in or a channel service (forbidden)",
                  ErrorResponse)}

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "submit_report", "post", "/", "Kirim laporan / Submit a report",
        body=SubmitReport,
        responses={201: ("Laporan baru / a new report", SubmitReportAnswer),
                    200: ("Ulangan dengan client_id yang sama / a retry of the same report", SubmitReportAnswer),
                    **JSON_BODY, **SIGNED_IN,
                    403: ("Akun atau kanal tidak boleh melapor / submitter_not_permitted, "
                          "channel_not_permitted", ErrorResponse),
                    409: ("client_id sudah dipakai / idempotency_conflict", ErrorResponse),
                    429: ("Batas laporan tercapai / rate_limited, see Retry-After", ErrorResponse)},
        tags=("warga",),
    ),
    Operation(
        "get_report", "get", "/", "Laporan saya / The reporter's own report",
        query=(Query("report_id", "The report's id, as submit_report returned it",
                     {"type": "string", "maxLength": 64, "pattern": REPORT_ID_SCHEMA_PATTERN}, required=True),),
        responses={200: ("The report, its status and timeline", ReporterView),
                   400: ("report_id tidak valid / invalid report_id (invalid_field)", ErrorResponse),
                   404: ("Tidak ditemukan / no such report of this reporter (not_found)", ErrorResponse),
                   **SIGNED_IN},
        tags=("warga",),
    ),
    Operation(
        "act_on_report", "post", "/", "Tindakan pada laporan / A move on a report",
        body=ActOnReport,
        responses={200: ("The report after the move", ActOnReportAnswer),
                   **JSON_BODY, **SIGNED_IN,
                   403: ("Peran ini tidak boleh / this role may not make the move (forbidden)", ErrorResponse),
                   404: ("Laporan tidak ditemukan / report not found (not_found)", ErrorResponse),
                   409: ("Status sudah berubah / expected_status is stale (conflict)", ErrorResponse)},
        tags=("skpd", "warga", "operator"),
    ),
    Operation(
        "support_report", "post", "/", "Dukung laporan / Support a report (\"me too\"); undo withdraws",
        body=SupportReport,
        responses={200: ("Whether the caller supports it now, and how many do (a repeat changes nothing)",
                         SupportAnswer),
                   **JSON_BODY, **SIGNED_IN,
                   403: ("Hanya warga, bukan laporan sendiri / residents only, not one's own report "
                         "(forbidden)", ErrorResponse),
                   404: ("Laporan tidak ditemukan / no such public report (not_found)", ErrorResponse),
                   409: ("Tidak bisa didukung lagi / closed for support (conflict)", ErrorResponse)},
        tags=("warga",),
    ),
    Operation(
        "support_report", "delete", "/", "Tarik dukungan / Withdraw a support", operation_id="support_report_undo",
        query=(REPORT_ID_QUERY,),
        responses={200: ("The support is withdrawn (a repeat changes nothing)", SupportAnswer),
                   400: ("report_id tidak valid / invalid report_id (invalid_field)", ErrorResponse),
                   **SIGNED_IN,
                   403: ("Hanya warga / residents only (forbidden)", ErrorResponse),
                   404: ("Laporan tidak ditemukan / no such public report (not_found)", ErrorResponse),
                   409: ("Terlalu banyak perubahan bersamaan / too contended, retry (conflict)", ErrorResponse)},
        tags=("warga",),
    ),
    Operation(
        "comment_on_report", "post", "/", "Komentar / Comment on a report (public or internal), or hide one",
        body=CommentOnReport,
        responses={201: ("The comment is posted", CommentAnswer),
                   200: ("A retry of the same client_id, or a comment hidden", CommentAnswer),
                   **JSON_BODY, **SIGNED_IN,
                   403: ("Bukan peserta percakapan, atau catatan internal warga / not in the thread, or a "
                         "citizen's internal note, or a hide by a non-operator (forbidden)", ErrorResponse),
                   404: ("Laporan tidak ditemukan / no such report in the caller's reach (not_found)", ErrorResponse),
                   409: ("client_id sudah dipakai / idempotency_conflict", ErrorResponse),
                   429: ("Batas komentar tercapai / rate_limited, see Retry-After", ErrorResponse)},
        tags=("warga", "skpd", "operator"),
    ),
    Operation(
        "comment_on_report", "get", "/", "Percakapan laporan / The report's thread",
        operation_id="comment_on_report_thread",
        query=(REPORT_ID_QUERY,),
        responses={200: ("The thread as the caller may read it, oldest first", Thread),
                   400: ("report_id tidak valid / invalid report_id (invalid_field)", ErrorResponse),
                   **SIGNED_IN,
                   403: ("Laporan SKPD lain / another agency's report (forbidden)", ErrorResponse),
                   404: ("Laporan tidak ditemukan / no such report in the caller's reach (not_found)", ErrorResponse)},
        tags=("warga", "skpd", "operator"),
    ),
    Operation(
        "list_my_reports", "get", "/", "Laporan-laporan saya / The signed-in reporter's reports",
        query=(Query("status", "Only these workflow statuses (comma list, at most 10)", {"type": "string"}),
               Query("limit", "Reports per page", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}),
               Query("cursor", "next_cursor of the previous page", {"type": "string", "maxLength": 200})),
        responses={200: ("A page of the caller's reports, newest first, each in the reporter's view",
                         MyReportsAnswer),
                   403: ("Akun anonim / an anonymous sign-in (registered_account_required)", ErrorResponse),
                   422: ("status, limit or cursor tidak valid / invalid query parameter (invalid_field)",
                         ErrorResponse),
                   **SIGNED_IN},
        tags=("warga",),
    ),
    Operation(
        "nearby_reports", "get", "/", "Laporan di sekitar / Open reports near a point",
        query=(Query("lat", "Latitude (WGS84)", {"type": "number", "minimum": -90, "maximum": 90}, required=True),
               Query("lon", "Longitude (WGS84)", {"type": "number", "minimum": -180, "maximum": 180},
                     required=True),
               Query("radius_m", "Radius in metres", {"type": "number", "exclusiveMinimum": 0, "maximum": 1000,
                                                      "default": 500}),
               Query("category", "Only this category", {"type": "string", "enum": sorted(CATEGORIES)}),
               Query("limit", "At most this many reports", {"type": "integer", "minimum": 1, "maximum": 100,
                                                            "default": 50})),
        responses={200: ("Open public reports in the circle, nearest first", NearbyAnswer),
                   403: ("Akun anonim / an anonymous sign-in (registered_account_required)", ErrorResponse),
                   422: ("lat, lon, radius_m, category or limit tidak valid / invalid query parameter "
                         "(invalid_field)", ErrorResponse),
                   **SIGNED_IN},
        tags=("warga",),
    ),
    Operation(
        "war_room", "get", "/", "Halaman War Room / The War Room page", signed_in=False,
        responses={200: ("The page; it asks for stats.json with the operator's token", "text/html")},
        tags=("operator",),
    ),
    Operation(
        "war_room", "get", "/config.json", "Konfigurasi halaman / The page's sign-in setting",
        signed_in=False, responses={200: ("Where the page signs in", WarRoomConfig)}, tags=("operator",),
    ),
    Operation(
        "war_room", "get", "/kelurahan.geojson", "Batas kelurahan / Kelurahan outlines (GeoJSON)",
        signed_in=False, responses={200: ("The simplified kelurahan boundaries", FeatureCollection)},
        tags=("operator",),
    ),
    Operation(
        "war_room", "get", "/stats.json", "Angka War Room / The War Room figures (operators)",
        query=(Query("month", "A month YYYY-MM, or all", {"type": "string", "default": "all",
                                                          "pattern": "^(all|[0-9]{4}-[0-9]{2})$"}),),
        responses={200: ("The figures", WarRoomStats), **SIGNED_IN,
                   403: ("Hanya operator / operators only (forbidden)", ErrorResponse),
                   422: ("month tidak valid / invalid month (invalid_field)", ErrorResponse)},
        tags=("operator",),
    ),
    Operation(
        "subscriptions", "get", "/", "Langganan area saya / My area subscriptions",
        responses={200: ("The subscriptions and the most a user may hold", SubscriptionList), **SIGNED_IN,
                   403: ("Akun anonim atau kanal / an anonymous sign-in or a channel (forbidden)", ErrorResponse)},
        tags=("warga",), operation_id="list_subscriptions",
    ),
    Operation(
        "subscriptions", "post", "/", "Berlangganan area / Subscribe to a kelurahan or a circle (≤ 2 km)",
        body=NewSubscription,
        responses={201: ("A new subscription", SubscriptionView),
                   200: ("The same area and categories again: its digest and language updated", SubscriptionView),
                   **JSON_BODY, **SIGNED_IN,
                   403: ("Akun anonim atau kanal / an anonymous sign-in or a channel (forbidden)", ErrorResponse),
                   409: ("Batas langganan / at most `limit` subscriptions (too_many_subscriptions)", ErrorResponse)},
        tags=("warga",), operation_id="add_subscription",
    ),
    Operation(
        "subscriptions", "post", "/remove", "Berhenti berlangganan / Remove a subscription",
        body=RemoveSubscription,
        responses={200: ("Removed", SubscriptionRemoved), **JSON_BODY,
                   404: ("Tidak ada / no such subscription of this user (not_found)", ErrorResponse),
                   403: ("Akun anonim atau kanal / an anonymous sign-in or a channel (forbidden)", ErrorResponse),
                   **SIGNED_IN},
        tags=("warga",), operation_id="remove_subscription",
    ),
    Operation(
        "photo_links", "get", "/", "Tautan foto untuk petugas / Signed photo links for staff",
        query=(Query("report_id", "The report's id",
                     {"type": "string", "maxLength": 64, "pattern": REPORT_ID_SCHEMA_PATTERN}, required=True),),
        responses={200: ("Signed read links (at most 15 minutes) of the EXIF-free photo, its thumbnail and "
                         "the accepted proof's; the original upload is never linked", PhotoLinks),
                   400: ("report_id tidak valid / invalid report_id (invalid_field)", ErrorResponse),
                   403: ("Laporan SKPD lain / another SKPD's report (forbidden)", ErrorResponse),
                   404: ("Tidak ditemukan / no such report, or the caller is not staff (not_found)", ErrorResponse),
                   **SIGNED_IN},
        tags=("skpd", "operator"),
    ),
    Operation(
        "work", "get", "/", "Halaman kerja SKPD / The SKPD staff's work page", signed_in=False,
        responses={200: ("The page; it asks for queue.json and report.json with the officer's token", "text/html")},
        tags=("skpd",),
    ),
    Operation(
        "work", "get", "/config.json", "Konfigurasi halaman / The page's sign-in setting",
        signed_in=False, responses={200: ("Where the page signs in", WarRoomConfig)}, tags=("skpd",),
    ),
    Operation(
        "work", "get", "/queue.json", "Antrean SKPD / The officer's SKPD queue, soonest due first",
        responses={200: ("The open reports of the caller's SKPD", WorkQueue), **SIGNED_IN,
                   403: ("Hanya staf SKPD / SKPD staff only (forbidden)", ErrorResponse)},
        tags=("skpd",),
    ),
    Operation(
        "work", "get", "/report.json", "Satu laporan SKPD / One report of the officer's SKPD",
        query=(Query("report_id", "A report assigned to the caller's SKPD",
                     {"type": "string", "maxLength": 64, "pattern": REPORT_ID_SCHEMA_PATTERN}, required=True),),
        responses={200: ("The report, its staff view and the moves allowed now", WorkReport), **SIGNED_IN,
                   400: ("report_id tidak valid / invalid report_id (invalid_field)", ErrorResponse),
                   403: ("Hanya staf SKPD / SKPD staff only (forbidden)", ErrorResponse),
                   404: ("Tidak ditemukan / not a report of the caller's SKPD (not_found)", ErrorResponse)},
        tags=("skpd",),
    ),
    Operation(
        "work", "post", "/act", "Tindakan SKPD / A move on a report (act_on_report, SKPD staff only)",
        body=ActOnReport,
        responses={200: ("The report after the move", ActOnReportAnswer),
                   **JSON_BODY, **SIGNED_IN,
                   403: ("Bukan staf SKPD, atau laporan SKPD lain / not SKPD staff, or another SKPD's report "
                         "(forbidden)", ErrorResponse),
                   404: ("Laporan tidak ditemukan / report not found (not_found)", ErrorResponse),
                   409: ("Status sudah berubah / expected_status is stale (conflict)", ErrorResponse)},
        tags=("skpd",),
    ),
    Operation(
        "notification_settings", "post", "/devices", "Daftarkan perangkat / Register a push device",
        operation_id="register_device", body=RegisterDevice,
        responses={201: ("Perangkat baru / a new device", DeviceAnswer),
                   200: ("Sudah terdaftar, diperbarui / already registered, refreshed", DeviceAnswer),
                   **JSON_BODY, **SIGNED_IN, **NOTIFIED},
        tags=("warga", "skpd", "operator"),
    ),
    Operation(
        "notification_settings", "post", "/devices/remove", "Hapus perangkat / Unregister a push device",
        operation_id="unregister_device", body=UnregisterDevice,
        responses={200: ("Dihapus, atau memang tidak terdaftar / removed, or not registered", UnregisterAnswer),
                   **JSON_BODY, **SIGNED_IN, **NOTIFIED},
        tags=("warga", "skpd", "operator"),
    ),
    Operation(
        "notification_settings", "get", "/preferences", "Preferensi notifikasi / Notification preferences",
        operation_id="get_preferences",
        responses={200: ("Bahasa, jam tenang, laporan yang dibisukan / language, quiet hours, muted reports",
                         Preferences), **SIGNED_IN, **NOTIFIED},
        tags=("warga", "skpd", "operator"),
    ),
    Operation(
        "notification_settings", "post", "/preferences", "Ubah preferensi / Change notification preferences",
        operation_id="set_preferences", body=SetPreferences,
        responses={200: ("Preferensi setelah perubahan / the preferences after the change", Preferences),
                   **JSON_BODY, **SIGNED_IN, **NOTIFIED},
        tags=("warga", "skpd", "operator"),
    ),
)


def http_functions() -> list[str]:
    return [f.name for f in FUNCTIONS if f.trigger == "http"]


def document() -> JsonSchemaValue:
    """The OpenAPI 3.1 document of every operation in OPERATIONS."""
    schemas, refs = _components()
    paths: dict[str, dict[str, JsonSchemaValue]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Keluhan API",
            "version": API_VERSION,
            "description": "Laporan layanan publik Kota Makassar / Public-service complaints of Kota "
                           "Makassar. Each path starts with the Cloud Function that serves it; errors are "
                           "`{\"error\": {code, message, field?}}` in Indonesian / English.",
        },
        "servers": [{"url": "https://{region}-{project}.cloudfunctions.net",
                     "variables": {"region": {"default": "asia-southeast2"},
                                   "project": {"default": "keluhan-makassar"}}}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {BEARER: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                                         "description": "Firebase ID token of the signed-in user"}},
        },
        "x-described-elsewhere": dict(sorted(DESCRIBED_ELSEWHERE.items())),
    }


def render() -> str:
    """The document as committed in docs/openapi.json."""
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


def function_of(path: str) -> tuple[str, str]:
    """(function, the path it sees locally) of a document path: `/war_room/stats.json` -> (war_room, /stats.json)."""
    _, name, *rest = path.split("/", 2)
    return name, "/" + (rest[0] if rest else "")


def _components() -> tuple[JsonSchemaValue, dict[Any, JsonSchemaValue]]:  # Any: pydantic keys refs by model or dataclass
    wanted: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {}
    for op in OPERATIONS:
        if op.body is not None:
            wanted[(op.body, "validation")] = None
        for _, answer in op.responses.values():
            if not isinstance(answer, str):
                wanted[(answer, "serialization")] = None
    refs, defs = models_json_schema(list(wanted), ref_template=REF_TEMPLATE)
    return defs.get("$defs", {}), dict(refs)


def _operation(op: Operation, refs: Mapping[tuple[type[BaseModel], JsonSchemaMode], JsonSchemaValue]) -> JsonSchemaValue:
    out: JsonSchemaValue = {"operationId": op.id, "summary": op.summary,
                           "tags": list(op.tags)}
    if op.query:
        out["parameters"] = [{"name": q.name, "in": "query", "required": q.required,
                              "description": q.description, "schema": q.schema} for q in op.query]
    if op.body is not None:
        out["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": refs[(op.body, "validation")]}}}
    responses: JsonSchemaValue = {}
    for status, (description, answer) in sorted(op.responses.items()):
        if isinstance(answer, str):
            content = {answer: {"schema": {"type": "string"}}}
        else:
            content = {"application/json": {"schema": refs[(answer, "serialization")]}}
        responses[str(status)] = {"description": description, "content": content}
        if status in (429, 503):
            responses[str(status)]["headers"] = {"Retry-After": {
                "description": "Seconds to wait before retrying", "schema": {"type": "string"}}}
    out["responses"] = responses
    out["security"] = [{BEARER: []}] if op.signed_in else []
    return out


def _suffix(op: Operation) -> str:
    if op.local_path == "/":
        return ""
    return "_" + op.local_path.strip("/").replace(".", "_").replace("/", "_")
