"""Free text people write (descriptions, streets, notes): one check of which characters it may hold.

Refused: control characters (C0, DEL, C1, line and paragraph separators); the bidi embeddings,
overrides and isolates that reorder how text displays ("Trojan Source"); lone surrogates (no
character at all: they cannot be encoded as UTF-8); and the noncharacters U+FDD0–U+FDEF and
U+xFFFE/U+xFFFF of every plane, which XML and many consumers refuse. The bare marks
U+200E/U+200F/U+061C stay allowed: they only set the direction of neutral characters and RTL
keyboards insert them.
"""

from __future__ import annotations

import re

from pydantic_core import PydanticCustomError

_NONCHARACTERS = "\ufdd0-\ufdef\ufffe\uffff" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(1, 17))
_FORBIDDEN = re.compile(
    rf"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff{_NONCHARACTERS}]")
# What the OpenAPI document states (the same set; JSON Schema patterns are ECMA-262, BMP escapes).
_SCHEMA_REFUSED = r"\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
TEXT_SCHEMA_PATTERN = rf"^[^\x00-\x1f{_SCHEMA_REFUSED}]*$"
FREE_TEXT_SCHEMA_PATTERN = rf"^[^\x00-\x08\x0b-\x1f{_SCHEMA_REFUSED}]*$"  # tab and newline allowed
FREE_TEXT_LAYOUT = "\n\t"


def forbidden_character(text: str, *, allowed: str = "") -> str | None:
    """The first character free text may not hold, other than `allowed` ones; None if clean."""
    return next((m.group() for m in _FORBIDDEN.finditer(text) if m.group() not in allowed), None)


def checked_text(value: str | None, *, allowed: str = "") -> str | None:
    """`value` unchanged, or a validation error naming the first refused character."""
    if value is not None and (bad := forbidden_character(value, allowed=allowed)) is not None:
        raise PydanticCustomError(
            "forbidden_character",
            "berisi karakter kendali, pembalik arah teks atau bukan-karakter ({char}) / contains a control, "
            "bidi-override or noncharacter ({char})",
            {"char": f"U+{ord(bad):04X}"},
        )
    return value


def free_text(value: str | None) -> str | None:
    """Checked text that may hold newlines and tabs (descriptions, notes)."""
    return checked_text(value, allowed=FREE_TEXT_LAYOUT)


def line_text(value: str | None) -> str | None:
    """Checked text of one line (a street, a name)."""
    return checked_text(value)
