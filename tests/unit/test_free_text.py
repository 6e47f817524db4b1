"""Issue 23, free text: one check for every field people write, and XML that is always well-formed."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from keluhan.domain import open311
from keluhan.domain.report import ActOnReport, SubmitReport

REFUSED = ["\x1b[31m", "\u202eevil", "\ufffe", "\uffff", "\ufdd0", "\ud800", "\U0010ffff", "\U0001fffe"]
SUBMIT = {"client_id": "client-0001", "category": "jalan_rusak", "description": "Lubang", "lat": -5.14,
          "lon": 119.41, "accuracy_m": 5.0}


@pytest.mark.parametrize("bad", REFUSED)
def test_act_on_report_note_is_checked_as_free_text(bad):
    with pytest.raises(ValidationError) as exc:
        ActOnReport(report_id="r1", action="reject", expected_status="routed", reason="not_ours",
                    note=f"Bukan wewenang {bad}")
    assert exc.value.errors()[0]["loc"] == ("note",)
    assert exc.value.errors()[0]["type"] in ("forbidden_character", "string_unicode")  # pydantic: no lone surrogates
    ok = ActOnReport(report_id="r1", action="start", expected_status="accepted", note="Baris satu\nbaris dua")
    assert ok.note == "Baris satu\nbaris dua"


@pytest.mark.parametrize("bad", REFUSED)
def test_free_text_refuses_noncharacters_and_surrogates(bad):
    for field in ("description", "street"):
        with pytest.raises(ValidationError) as exc:
            SubmitReport.model_validate({**SUBMIT, field: f"Jl. Pasar {bad}"})
        assert exc.value.errors()[0]["loc"] == (field,)
    for field in ("description", "address_string"):
        with pytest.raises(ValidationError) as exc:
            open311.PostRequest.model_validate({"service_code": "jalan_rusak", "lat": -5.14, "long": 119.41,
                                                "description": "Lubang", field: f"x {bad}"})
        assert exc.value.errors()[0]["loc"] == (field,)


def test_requests_xml_is_well_formed_whatever_text_was_stored():
    stored = "".join(REFUSED) + "\x00\x08 <&> ok"  # what an older validator let through
    now = datetime.now(UTC)
    report = {"report_id": "r1", "category": "jalan_rusak", "description": stored, "received_at": now,
              "status": "rejected", "point": {"lat": -5.14, "lon": 119.41},
              "timeline": [{"note": stored, "at": now, "public": True}]}
    text = open311.to_xml("service_requests", "request", [open311.request_view(report)])
    root = ET.fromstring(text.encode("utf-8"))
    assert root.find("request/description").text.endswith(" <&> ok")
