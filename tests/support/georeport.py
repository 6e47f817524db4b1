"""The GeoReport v2 JSON Schemas in ../shared/open311, for checking every answer of the endpoint."""

from __future__ import annotations

import functools
import json
from typing import Any

from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from keluhan.settings import REPO_ROOT

SCHEMAS = REPO_ROOT.parent / "shared" / "open311"
ERRORS_SCHEMA = {"type": "array", "minItems": 1, "items": {
    "type": "object", "required": ["code", "description"],
    "properties": {"code": {"type": "integer"}, "description": {"type": "string"}}}}


@functools.cache
def _registry() -> Registry:
    resources = [(path.name, Resource.from_contents(json.loads(path.read_text()), default_specification=DRAFT7))
                 for path in SCHEMAS.glob("*.json") if path.name != "swagger.json"]
    return Registry().with_resources(resources)


def assert_valid(schema: str, body: Any) -> None:  # Any: whatever JSON the endpoint answered
    """`schema` is a file name in ../shared/open311 (services.json, requests.json, …) or "errors"."""
    contents = ERRORS_SCHEMA if schema == "errors" else json.loads((SCHEMAS / schema).read_text())
    validator = Draft7Validator(contents, registry=_registry(), format_checker=FormatChecker())
    problems = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
    assert not problems, problems

