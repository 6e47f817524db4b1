"""Issue 23: staff roles only on verified e-mails, in the HTTP functions' view of a token."""

from __future__ import annotations

from datetime import UTC, datetime

from keluhan.adapters.auth import actor_from_claims
from keluhan.domain.workflow import Role
from tests.support.deps import fake_deps, function_client  # noqa: F401


def test_staff_roles_only_on_verified_emails():
    for claims in ({"role": "skpd", "skpd": "dinas-pu"}, {"role": "operator"}):
        assert actor_from_claims({"uid": "u1", **claims}).role == Role.WARGA
        assert actor_from_claims({"uid": "u1", **claims, "email_verified": False}).role == Role.WARGA
        assert actor_from_claims({"uid": "u1", **claims, "email_verified": True}).role == Role(claims["role"])


def test_an_unverified_skpd_claim_acts_as_nobody_on_staff_moves(fake_deps):  # noqa: F811
    client = function_client("act_on_report")
    body = {"report_id": "r1", "action": "accept", "expected_status": "routed"}
    now = datetime(2026, 3, 2, tzinfo=UTC)
    fake_deps.reports.docs["r1"] = {"report_id": "r1", "status": "routed", "assignee": "dinas-pu",
                                    "category": "jalan_rusak", "timeline": [], "received_at": now,
                                    "status_changed_at": now, "point": {"lat": -5.14, "lon": 119.43, "accuracy_m": 5}}
    refused = client.post("/", json=body, headers={"Authorization": "Bearer unverified-skpd:dinas-pu:u9"})
    assert refused.status_code in (403, 404), refused.data
    assert fake_deps.reports.docs["r1"]["status"] == "routed"
