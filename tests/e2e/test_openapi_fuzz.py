"""schemathesis against the running stack: generated requests to every operation of docs/openapi.json
answer no 5xx, and every answer is one the document declares (status, content type, body)."""

from __future__ import annotations

import copy

import pytest

from keluhan import openapi

pytestmark = pytest.mark.e2e

EXAMPLES_PER_OPERATION = 25
SEED = 20261202


def local_document(function: str) -> dict:
    """The document cut to one function, with the paths that function sees on its own local port."""
    doc = copy.deepcopy(openapi.document())
    doc["paths"] = {openapi.function_of(path)[1]: item for path, item in doc["paths"].items()
                    if openapi.function_of(path)[0] == function}
    doc.pop("servers")
    return doc


def cases():
    """(function, method, path, mode) of every operation; negative only where there is input to spoil."""
    out = []
    for op in openapi.OPERATIONS:
        for mode in ("positive", "negative"):
            if mode == "positive" or op.body is not None or op.query:
                out.append(pytest.param(op.function, op.method.upper(), op.local_path, mode,
                                        id=f"{op.function}{op.path.removeprefix('/' + op.function)}-{mode}"))
    return out


@pytest.fixture(scope="module")
def tokens(client):
    """A citizen of its own (the fuzzing spends its hourly quota, not the other tests') and an operator."""
    _, citizen = client.sign_in("warga.fuzz@example.com")
    _, operator = client.user("operator.fuzz@example.com", {"role": "operator"})
    return {"citizen": citizen, "operator": operator}


@pytest.mark.timeout(240)
@pytest.mark.parametrize("function, method, path, mode", cases())
def test_generated_requests_get_no_5xx_and_only_declared_answers(client, tokens, function, method, path, mode):
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, seed, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.generation import GenerationMode
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    schema = schemathesis.openapi.from_dict(local_document(function))
    operation = schema[path][method]
    base_url = client.config.functions[function].url
    token = tokens["operator" if function == "war_room" else "citizen"]
    checks = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_schema_conformance]

    @seed(SEED)
    @settings(max_examples=EXAMPLES_PER_OPERATION, phases=[Phase.explicit, Phase.generate], deadline=None,
              database=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=GenerationMode(mode)))
    def check(case):
        response = case.call(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        case.validate_response(response, checks=checks)

    check()


def test_a_firestore_reserved_report_id_is_422_not_a_5xx(client, tokens):
    for name in ("act_on_report", "get_report"):
        if name == "act_on_report":
            response = client.act(tokens["citizen"], {"report_id": "__r1__", "action": "confirm",
                                                      "expected_status": "resolved"})
        else:
            response = client.get_report(tokens["citizen"], "__r1__")
        assert response.status_code in (400, 422), (name, response.status_code, response.text)
        assert response.json()["error"]["field"] == "report_id"
