"""One walk over a python-hcl2 body (explicit blocks): its arguments and its nested blocks, with
`dynamic "x" { content { … } }` read as blocks named x. Shared by the schema check
(test_terraform_schema) and the stand-in provider's derived schema (test_terraform_plan)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from hcl2.utils import SerializationOptions

OPTIONS = SerializationOptions(with_comments=False, explicit_blocks=True, strip_string_quotes=True)
# Terraform's own meta-arguments and blocks, valid in any resource or data block.
META = {"count", "for_each", "depends_on", "provider", "lifecycle", "provisioner", "connection"}


def is_block(value: Any) -> bool:  # Any: a parsed HCL value (str, number, list, dict)
    return isinstance(value, list) and bool(value) and all(
        isinstance(item, dict) and item.get("__is_block__") for item in value)


def entries(body: dict[str, Any], *, top: bool) -> Iterator[tuple[Literal["argument", "block"], str, Any]]:
    """("argument", name, value) or ("block", name, [bodies]) for each entry of `body`; a resource's
    meta-arguments are skipped at the top level."""
    for key, value in body.items():
        if key == "__is_block__" or (top and key in META):
            continue
        if key == "dynamic":
            for dynamic in value:
                for name, spec in dynamic.items():
                    if name != "__is_block__":
                        yield "block", name, spec.get("content", [])
        elif is_block(value):
            yield "block", key, value
        else:
            yield "argument", key, value
