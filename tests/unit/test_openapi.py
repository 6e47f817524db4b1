"""The OpenAPI document: built from the models, committed up to date, valid, and complete."""

import json

import pytest

from keluhan import openapi, topology
from keluhan.settings import REPO_ROOT

COMMITTED = REPO_ROOT / "docs" / "openapi.json"


def test_the_committed_document_is_the_generated_one():
    assert COMMITTED.read_text(encoding="utf-8") == openapi.render(), (
        "docs/openapi.json is stale: run `keluhan openapi --output docs/openapi.json`")


def test_the_document_is_valid_openapi_3_1():
    from openapi_spec_validator import OpenAPIV31SpecValidator, validate

    validate(openapi.document(), cls=OpenAPIV31SpecValidator)


def test_every_http_function_is_described_here_or_elsewhere():
    doc = openapi.document()
    described = {openapi.function_of(path)[0] for path in doc["paths"]}
    for fn in topology.FUNCTIONS:
        if fn.trigger != "http":
            continue
        reason = openapi.DESCRIBED_ELSEWHERE.get(fn.name)
        assert fn.name in described or reason, (
            f"{fn.name} has no paths in keluhan.openapi.OPERATIONS and no entry in DESCRIBED_ELSEWHERE")


def test_only_http_functions_have_paths_or_are_described_elsewhere():
    http = set(openapi.http_functions())
    assert {op.function for op in openapi.OPERATIONS} <= http
    for name, reason in openapi.DESCRIBED_ELSEWHERE.items():
        assert name in http and reason.strip(), name
        assert name not in {op.function for op in openapi.OPERATIONS}, f"{name}: described twice"


def test_every_signed_in_operation_needs_the_bearer_token_and_answers_401():
    for path, item in openapi.document()["paths"].items():
        for method, op in item.items():
            if op["security"]:
                assert op["security"] == [{openapi.BEARER: []}], (path, method)
                assert "401" in op["responses"], (path, method)


def test_every_error_answer_is_the_error_envelope():
    for item in openapi.document()["paths"].values():
        for op in item.values():
            for status, response in op["responses"].items():
                if int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorResponse"}


def test_request_bodies_are_the_request_models():
    doc = openapi.document()
    body = doc["paths"]["/submit_report"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    submit = doc["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert submit["additionalProperties"] is False
    assert {"client_id", "category", "lat", "lon", "accuracy_m"} <= set(submit["required"])


@pytest.mark.parametrize("path, expected", [
    ("/submit_report", ("submit_report", "/")),
    ("/war_room", ("war_room", "/")),
    ("/war_room/stats.json", ("war_room", "/stats.json")),
])
def test_a_document_path_names_its_function_and_the_local_path(path, expected):
    assert openapi.function_of(path) == expected


def test_the_command_prints_and_writes_the_document(tmp_path, capsys):
    from keluhan.cli import main

    assert main(["openapi"]) == 0
    assert json.loads(capsys.readouterr().out) == openapi.document()
    out = tmp_path / "openapi.json"
    assert main(["openapi", "--output", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == openapi.render()


def test_an_error_is_the_envelope_with_only_the_fields_it_was_given():
    from keluhan import http

    body, status, headers = http.error(409, "conflict", "Status sudah berubah / Status changed",
                                       field="expected_status", status="routed", allowed_actions=None)
    assert status == 409 and headers["Content-Type"].startswith("application/json")
    assert json.loads(body) == {"error": {"code": "conflict", "message": "Status sudah berubah / Status changed",
                                          "field": "expected_status", "status": "routed",
                                          "allowed_actions": None}}


def test_an_error_field_the_envelope_does_not_declare_is_refused():
    from pydantic import ValidationError

    from keluhan import http

    with pytest.raises(ValidationError):
        http.error(400, "bad", "Salah / Wrong", undeclared="x")


def test_the_documented_text_patterns_refuse_exactly_what_the_validators_refuse():
    import re

    from keluhan.domain.report import FREE_TEXT_SCHEMA_PATTERN, TEXT_SCHEMA_PATTERN, forbidden_character

    for char in map(chr, range(0x3000)):
        free_text_ok = forbidden_character(char, allowed="\n\t") is None
        assert (re.fullmatch(FREE_TEXT_SCHEMA_PATTERN, char) is not None) == free_text_ok, hex(ord(char))
        assert (re.fullmatch(TEXT_SCHEMA_PATTERN, char) is not None) == (forbidden_character(char) is None)


def test_the_documented_report_id_pattern_refuses_firestores_reserved_ids():
    import re

    from keluhan.domain.report import REPORT_ID_SCHEMA_PATTERN, valid_report_id

    for report_id in ("r1", "__r1", "r1__", "__r1__", "____", "a-b_c", "../r1", ""):
        assert (re.fullmatch(REPORT_ID_SCHEMA_PATTERN, report_id) is not None) == valid_report_id(report_id)
