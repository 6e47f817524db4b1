"""Routing rules as versioned data, and the decision they make for one report."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from keluhan.domain.assignees import ASSIGNEES, KECAMATAN, TRIAGE_ID, AssigneeKind
from keluhan.domain.catalogue import CATEGORIES
from keluhan.domain.location import Location

Wildcard = Literal["*"]
RoadMatch = Literal["nasional", "provinsi", "kota", "none"]

# The only Location field an assignee template may use, and the placeholders a reason may use.
ASSIGNEE_FIELDS = frozenset({"kode_kecamatan"})
REASON_FIELDS = frozenset(
    {"category", "category_en", "road", "road_en", "place", "region", "assignee", "assignee_en"}
)

_KELURAHAN_CODE = re.compile(r"(73\.71\.\d{2})\.\d{4}")
_REGENCY_CODE = re.compile(r"\d{2}\.\d{2}")

_ROAD_ID = {"nasional": "jalan nasional", "provinsi": "jalan provinsi", "kota": "jalan kota"}
_ROAD_EN = {"nasional": "national road", "provinsi": "provincial road", "kota": "city road"}


def _placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


def _region_key(name: str) -> str:
    """'Kabupaten Gowa', 'Kab. Gowa' and 'gowa' compare equal."""
    key = name.strip().lower()
    for prefix in ("kabupaten ", "kab. ", "kab "):
        key = key.removeprefix(prefix)
    return key


class RuleMatch(BaseModel):
    """What a report must look like for a rule to apply; a missing field or "*" matches all."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    category: list[str] | Wildcard = "*"
    road_status: list[RoadMatch] | Wildcard = "*"
    area: list[str] | Wildcard = "*"  # kecamatan codes (73.71.04) or kelurahan codes (73.71.04.1001)
    inside_city: bool | Wildcard = "*"
    outside_region: list[str] | Wildcard = "*"  # regency codes (73.06) or names (Gowa)

    @field_validator("category", "road_status", "area", "outside_region")
    @classmethod
    def _not_empty(cls, value: list[str] | str) -> list[str] | str:
        if isinstance(value, list) and not value:
            raise ValueError('empty list matches nothing; use "*" for any')
        return value

    @field_validator("category")
    @classmethod
    def _known_categories(cls, value: list[str] | str) -> list[str] | str:
        unknown = [code for code in value if code not in CATEGORIES] if value != "*" else []
        if unknown:
            raise ValueError(f"unknown category {', '.join(unknown)}; known: {', '.join(CATEGORIES)}")
        return value

    @field_validator("area")
    @classmethod
    def _known_areas(cls, value: list[str] | str) -> list[str] | str:
        for code in value if value != "*" else []:
            kelurahan = _KELURAHAN_CODE.fullmatch(code)
            if code not in KECAMATAN and not (kelurahan and kelurahan.group(1) in KECAMATAN):
                raise ValueError(f"area {code!r} is neither a Makassar kecamatan nor kelurahan code")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> RuleMatch:
        if self.inside_city is True and self.outside_region != "*":
            raise ValueError("outside_region cannot match when inside_city is true")
        if self.inside_city is False and self.area != "*":
            raise ValueError("area cannot match when inside_city is false")
        return self

    def matches(self, category: str, location: Location) -> bool:
        """Whether a report of this category at this location satisfies every condition."""
        road = location.road.status if location.road else "none"
        return (
            (self.category == "*" or category in self.category)
            and (self.road_status == "*" or road in self.road_status)
            and (self.inside_city == "*" or location.inside_city == self.inside_city)
            and (self.area == "*" or self._area_matches(location))
            and (self.outside_region == "*" or self._region_matches(location))
        )

    def _area_matches(self, location: Location) -> bool:
        codes = {location.kode_kecamatan, location.kode_kelurahan} - {None}
        return location.inside_city and bool(codes.intersection(self.area))

    def _region_matches(self, location: Location) -> bool:
        if location.inside_city:
            return False
        for wanted in self.outside_region:
            if _REGENCY_CODE.fullmatch(wanted):
                if wanted == location.outside_region_kode:
                    return True
            elif location.outside_region and _region_key(wanted) == _region_key(location.outside_region):
                return True
        return False


class Rule(BaseModel):
    """One routing rule: lower `priority` is tried first."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    priority: int
    match: RuleMatch = Field(default_factory=RuleMatch)
    assignee: str  # an assignee id, or a template such as "kecamatan-{kode_kecamatan}"
    reason: str  # "Indonesian / English", with placeholders from REASON_FIELDS

    @field_validator("reason")
    @classmethod
    def _bilingual_reason(cls, value: str) -> str:
        unknown = _placeholders(value) - REASON_FIELDS
        if unknown:
            raise ValueError(f"unknown placeholder {sorted(unknown)}; allowed: {sorted(REASON_FIELDS)}")
        if " / " not in value:
            raise ValueError('reason must read "Indonesian / English"')
        value.format_map(dict.fromkeys(REASON_FIELDS, ""))  # a bad format spec fails here, not later
        return value

    @model_validator(mode="after")
    def _known_assignee(self) -> Rule:
        fields = _placeholders(self.assignee)
        if not fields:
            if self.assignee not in ASSIGNEES:
                raise ValueError(f"unknown assignee {self.assignee!r}")
            return self
        if not fields <= ASSIGNEE_FIELDS:
            raise ValueError(f"assignee template may only use {sorted(ASSIGNEE_FIELDS)}")
        if self.match.inside_city is not True:
            raise ValueError("an assignee template needs match.inside_city true (a kecamatan)")
        unknown = [
            rendered
            for kode in KECAMATAN
            if (rendered := self.assignee.format(kode_kecamatan=kode)) not in ASSIGNEES
        ]
        if unknown:
            raise ValueError(f"assignee template gives unknown assignees {unknown}")
        return self

    def assignee_for(self, location: Location) -> str | None:
        """The assignee id for this location, or None when the template cannot be filled."""
        if not _placeholders(self.assignee):
            return self.assignee
        values = {name: getattr(location, name) for name in ASSIGNEE_FIELDS}
        if any(value is None for value in values.values()):
            return None
        rendered = self.assignee.format_map(values)
        return rendered if rendered in ASSIGNEES else None


class RuleSet(BaseModel):
    """A versioned list of rules, kept sorted by priority."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(min_length=1)
    description: str = ""
    rules: list[Rule]

    @field_validator("rules")
    @classmethod
    def _unique_and_sorted(cls, rules: list[Rule]) -> list[Rule]:
        for attr in ("id", "priority"):
            seen: set[object] = set()
            for rule in rules:
                value = getattr(rule, attr)
                if value in seen:
                    raise ValueError(f"duplicate rule {attr} {value!r}")
                seen.add(value)
        return sorted(rules, key=lambda rule: rule.priority)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> RuleSet:
        """Validate a rules document (the fixture's JSON, or the stored copy)."""
        return cls.model_validate(data)

    def to_dict(self) -> dict[str, object]:
        return self.model_dump(mode="json")


class RoutingDecision(BaseModel):
    """Who handles a report, which rule said so, and why."""

    model_config = ConfigDict(frozen=True)

    assignee: str
    assignee_name: str
    kind: AssigneeKind
    display: str
    rule: str
    rules_version: str
    reason: str


def _reason_values(category: str, location: Location | None, assignee: str) -> dict[str, str]:
    cat = CATEGORIES.get(category)
    road, road_en = "jalan tidak diketahui", "unknown road"
    if location is not None and location.road is not None:
        status = location.road.status
        road, road_en = _ROAD_ID[status], _ROAD_EN[status]
        if location.road.toll:
            road, road_en = f"jalan tol {status}", _ROAD_EN[status].replace(" road", " toll road")
        if location.road.name:
            road, road_en = f"{road} {location.road.name}", f"{road_en} {location.road.name}"
    place = "lokasi tidak diketahui"
    if location is not None and not location.inside_city and location.outside_region:
        place = location.outside_region
    elif location is not None and location.kecamatan:
        place = f"Kec. {location.kecamatan}"
        if location.kelurahan:
            place = f"Kel. {location.kelurahan}, {place}"
    who = ASSIGNEES[assignee]
    return {
        "category": cat.name if cat else category,
        "category_en": cat.name_en if cat else category,
        "road": road,
        "road_en": road_en,
        "place": place,
        "region": (location.outside_region if location else None) or "-",
        "assignee": who.name,
        "assignee_en": who.name_en,
    }


def _decision(
    *, assignee: str, rule: str, reason: str, rules: RuleSet, category: str, location: Location | None
) -> RoutingDecision:
    who = ASSIGNEES[assignee]
    return RoutingDecision(
        assignee=who.id,
        assignee_name=who.name,
        kind=who.kind,
        display=who.display,
        rule=rule,
        rules_version=rules.version,
        reason=reason.format_map(_reason_values(category, location, assignee)),
    )


# Built-in fallbacks: a report is never lost, it waits for an operator with the cause named.
_NO_LOCATION = (
    "triage:no-location",
    "Lokasi laporan tidak dapat ditentukan; menunggu triase operator"
    " / The report's location could not be determined; awaiting operator triage",
)
_AT_SEA = (
    "triage:at-sea",
    "Titik laporan berada di laut, di luar Kota Makassar dan kabupaten tetangga; menunggu triase"
    " operator / The point is at sea, outside Makassar and its neighbouring regencies;"
    " awaiting operator triage",
)
_UNKNOWN_CATEGORY = (
    "triage:unknown-category",
    "Kategori tidak dikenal; menunggu triase operator / Unknown category; awaiting operator triage",
)
_NO_MATCH = (
    "triage:no-match",
    "Tidak ada aturan untuk {category} di {place} ({road}); menunggu triase operator"
    " / No rule covers {category_en} at {place} ({road_en}); awaiting operator triage",
)


def decide(*, category: str, location: Location | None, rules: RuleSet) -> RoutingDecision:
    """Route one report: the first rule by priority that matches, else the triage queue."""
    fallback = None
    if location is None:
        fallback = _NO_LOCATION
    elif not location.inside_city and not (location.outside_region or location.outside_region_kode):
        fallback = _AT_SEA
    elif category not in CATEGORIES:
        fallback = _UNKNOWN_CATEGORY
    else:
        for rule in rules.rules:
            if rule.match.matches(category, location) and (assignee := rule.assignee_for(location)):
                return _decision(
                    assignee=assignee, rule=rule.id, reason=rule.reason,
                    rules=rules, category=category, location=location,
                )
        fallback = _NO_MATCH
    rule_id, reason = fallback
    return _decision(
        assignee=TRIAGE_ID, rule=rule_id, reason=reason,
        rules=rules, category=category, location=location,
    )
