"""What the reporter sees of their own report (never another user's, never internals)."""

from __future__ import annotations

from typing import Any

from keluhan.domain.report import STATUS_TEXT, Status


def reporter_view(report: dict[str, Any], *, client_id: str) -> dict[str, Any]:
    location = report.get("location") or {}
    routing = report.get("routing") or {}
    forwarding = report.get("forwarding") or {}
    photo = report.get("photo") or {}
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
        "timeline": [{"status": t["status"], "at": t["at"], "note": t.get("note", "")}
                     for t in report.get("timeline", [])],
    }
