"""Whose road it is: street-name normalisation, the road-status table and the road layer."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import shapely

from keluhan.domain.location import Road

# Token spellings that mean the same word; keys are lower-case tokens without punctuation.
_WORDS = {
    "jl": "jalan", "jln": "jalan",
    "dr": "dokter", "doktor": "dokter",
    "jend": "jenderal", "jen": "jenderal", "jendral": "jenderal",
    "g": "gunung", "gn": "gunung", "gng": "gunung",
    "ap": "andi pangeran", "pangerang": "pangeran",
    "ir": "insinyur", "prof": "profesor", "kh": "kyai haji",
    "lr": "lorong", "lrg": "lorong", "gg": "gang",
}
_PLACEHOLDERS = {"", "unnamed road", "jalan tanpa nama", "tanpa nama", "null", "none", "unknown"}
_NUMBER = re.compile(r"^\d+([.,]\d+)?$")


def normalize_street_name(text: str) -> str:
    """A matching key for a street name: "Jl. Dr. Sam Ratulangi No. 5" -> "dokter sam ratulangi"."""
    text = _first_part(text)
    text = re.sub(r"\([^)]*\)?", " ", text)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    text = text.replace("'", "").replace("\u2019", "")
    text = re.sub(r"(?<=\d)[.,](?=\d)", "_", text)  # keep "12.5" in "Km 12.5" together
    text = re.sub(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])", " ", text)
    tokens = re.sub(r"[^a-z0-9_]+", " ", text).replace("_", ".").split()
    tokens = " ".join(_WORDS.get(t, t) for t in tokens).split()
    tokens = _join_initials(tokens)
    tokens = _drop_markers(tokens)
    while tokens and tokens[0] == "jalan":
        tokens = tokens[1:]
    return " ".join(tokens)


def _first_part(text: str) -> str:
    """The street of an address line "Jl. X No. 5, Kelurahan, Kota" (a comma in "Km 12,5" stays)."""
    return re.split(r"(?<!\d),|,(?!\d)", text)[0]


def _join_initials(tokens: list[str]) -> list[str]:
    """"A. P." is Andi Pangeran, as in Jl. A.P. Pettarani."""
    out: list[str] = []
    for token in tokens:
        if token == "p" and out and out[-1] == "a":
            out[-1:] = ["andi", "pangeran"]
        else:
            out.append(token)
    return out


def _drop_markers(tokens: list[str]) -> list[str]:
    """Drop "Km N" (a point on the main road) and "No. N ..." (a house number and what follows)."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        token, nxt = tokens[i], tokens[i + 1] if i + 1 < len(tokens) else ""
        if token == "km" and _NUMBER.match(nxt):
            i += 2
            continue
        if token in ("no", "nomor") and nxt[:1].isdigit():
            break
        out.append(token)
        i += 1
    return out


def display_street_name(text: str) -> str | None:
    """The street as a person would write it, or None for a placeholder like "Unnamed Road"."""
    text = re.sub(r"\s+", " ", re.sub(r"\([^)]*\)?", " ", _first_part(text))).strip(" -.")
    return None if text.lower() in _PLACEHOLDERS or not normalize_street_name(text) else text


@dataclass(frozen=True)
class RoadEntry:
    """One national or provincial road of the city and its source."""

    name: str
    status: str
    toll: bool
    aliases: tuple[str, ...]
    source: str


class RoadTable:
    """The city's non-kota roads by normalised name and alias; anything else is jalan kota."""

    def __init__(self, entries: list[RoadEntry], *, digest: str = "") -> None:
        self.entries = entries
        self.digest = digest  # SHA-256 of the table's text, part of the index's data_version
        self._by_key: dict[str, RoadEntry] = {}
        for entry in entries:
            for name in (entry.name, *entry.aliases):
                key = normalize_street_name(name)
                other = self._by_key.setdefault(key, entry)
                if other is not entry:
                    raise ValueError(f"road table: {name!r} is also a name of {other.name!r}")

    @classmethod
    def from_csv_text(cls, text: str, *, name: str) -> RoadTable:
        """Parse the table `name`: name,status,toll,aliases (|-separated),source,..."""
        entries = []
        for line, row in enumerate(csv.DictReader(io.StringIO(text, newline="")), start=2):
            status, toll = row["status"].strip(), row["toll"].strip().lower() == "true"
            if status not in ("nasional", "provinsi", "kota") or (toll and status != "nasional"):
                raise ValueError(f"{name}: line {line}: bad status {status!r} (toll={toll})")
            aliases = tuple(a.strip() for a in row["aliases"].split("|") if a.strip())
            entries.append(RoadEntry(row["name"].strip(), status, toll, aliases, row["source"]))
        return cls(entries, digest=hashlib.sha256(text.encode("utf-8")).hexdigest())

    def road_for_street(self, street: str | None) -> Road | None:
        """The road a street name names: table status if listed, else jalan kota."""
        if street is None:
            return None
        name = display_street_name(street)
        if name is None:
            return Road(name=None, status="kota", source="default")
        entry = self._by_key.get(normalize_street_name(name))
        if entry is None:
            return Road(name=name, status="kota", source="street_name")
        return Road(name=entry.name, status=entry.status, source="street_name", toll=entry.toll)


class RoadLayer:
    """Road centre lines (projected metres) with name, status and toll, for snapping a point."""

    def __init__(self, lines: np.ndarray, roads: list[Road], snap_m: float) -> None:
        self.roads = roads
        self.snap_m = snap_m
        self._lines = lines
        self._tree = shapely.STRtree(lines)
        # On ties (a toll road above a street) the street wins: reports come from the ground.
        self._rank = np.array([(road.toll, i) for i, road in enumerate(roads)], dtype=[("t", bool), ("i", int)])

    def nearest(self, points: np.ndarray) -> np.ndarray:
        """Index of the nearest road within the snap distance for each point, or -1."""
        found = np.full(len(points), -1)
        if not len(self.roads):
            return found
        (pi, ri), _ = self._tree.query_nearest(points, max_distance=self.snap_m, return_distance=True)
        if not len(pi):
            return found
        order = np.lexsort((self._rank["i"][ri], self._rank["t"][ri], pi))
        pi, ri = pi[order], ri[order]
        first = np.r_[True, pi[1:] != pi[:-1]]
        found[pi[first]] = ri[first]
        return found

    def nearest_one(self, x: float, y: float) -> int:
        """nearest() for one point."""
        return int(self.nearest(shapely.points([x], [y]))[0])


def choose_road(layer_road: Road | None, street: str | None, table: RoadTable) -> Road | None:
    """The layer beats the street name; with neither the road is unknown (None)."""
    return layer_road if layer_road is not None else table.road_for_street(street)
