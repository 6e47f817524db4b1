"""What each reader sees of a report: the reporter their own, staff an allow-listed view."""

from __future__ import annotations

from typing import Any

from keluhan.domain.report import STATUS_TEXT, Status


def reporter_view(report: dict[str, Any], *, client_id: str | None,
                  proof_url: str | None = None) -> dict[str, Any]:
    location = report.get("location") or {}
    routing = report.get("routing") or {}
    forwarding = report.get("forwarding") or {}
    photo = report.get("photo") or {}
    resolution = report.get("resolution") or {}
    rejection = report.get("rejection") or {}
    status = Status(report["status"])
    return {
        "report_id": report["report_id"],
        "client_id": client_id,
        "status": status.value,
        "status_text": STATUS_TEXT[status],
        "category": report["category"],
        "description": report["description"],
        "received_at": report["received_at"],
        "point": report["point"],
        "photo": {"required": photo.get("required"), "verdict": photo.get("verdict"),
                  "reasons": photo.get("reasons", [])},
        "kelurahan": location.get("kelurahan"),
        "kecamatan": location.get("kecamatan"),
        "assignee": routing.get("assignee"),
        "assignee_name": routing.get("assignee_name"),
        "reason": routing.get("reason"),
        "delivery": {"state": forwarding.get("state"), "receiver_ref": forwarding.get("receiver_ref")}
        if forwarding else None,
        "resolution": {"verdict": resolution.get("verdict"), "reasons": resolution.get("reasons", []),
                       "proof_url": proof_url} if resolution else None,
        "rejection": {"reason": rejection.get("reason"), "note": rejection.get("note"),
                      "parent_id": rejection.get("parent_id")} if rejection else None,
        "close_by": report.get("close_by"),
        "timeline": [_public_entry(t) for t in report.get("timeline", [])],
    }


def _public_entry(entry: dict[str, Any]) -> dict[str, Any]:
    out = {"status": entry["status"], "at": entry["at"], "note": entry.get("note", "")}
    for key in ("action", "reason", "parent_id"):
        if entry.get(key):
            out[key] = entry[key]
    return out


STAFF_FIELDS = ("report_id", "channel", "category", "description", "point", "street", "received_at",
                "status", "status_changed_at", "assignee", "location", "routing", "timeline", "resolution",
                "rejection", "parent_id", "supporters", "close_by", "reopened")


TIMELINE_FIELDS = ("status", "at", "by", "note", "from", "action", "role", "reason", "parent_id", "event")


def _staff_entry(entry: dict[str, Any]) -> dict[str, Any]:
    out = {k: entry[k] for k in TIMELINE_FIELDS if k in entry}
    if str(out.get("by", "")).startswith("operator:"):
        out["by"] = "operator"  # the War Room acts as one; which operator stays in Firestore
    return out


def staff_view(report: dict[str, Any]) -> dict[str, Any]:
    """SKPD staff and operators: the report's work fields, never who reported, internal errors,
    an operator's uid or the original photo's path."""
    view = {k: report[k] for k in STAFF_FIELDS if k in report}
    view["timeline"] = [_staff_entry(t) for t in report.get("timeline", [])]
    photo = report.get("photo") or {}
    view["photo"] = {k: photo.get(k) for k in ("required", "verdict", "clean_object", "thumbnail_object")}
    if view.get("resolution"):
        view["resolution"] = {k: v for k, v in view["resolution"].items() if k not in ("phash", "event")}
    return view
