"""Multi-index hashing of the 64-bit pHash, so a reuse check reads candidates, not every hash.

The hash is cut into BANDS bands. If two hashes differ in at most MAX_DISTANCE bits, at least
one band differs in at most PROBE_RADIUS bits (pigeonhole: otherwise they would differ in
BANDS * (PROBE_RADIUS + 1) = MAX_DISTANCE + 1 bits or more). So a stored photo keeps its
band keys, and a lookup asks for every key within PROBE_RADIUS of its own bands.

5 bands of 13/13/13/13/12 bits, radius 1: 69 probe keys (three Firestore `array-contains-any`
queries of at most 30), and a random other hash matches with probability ~5 x 14 / 8192 = 0.85%.
The alternative, 9 bands probed exactly, needs one query but matches ~7% of random hashes.
"""

from __future__ import annotations

BANDS = 5
PROBE_RADIUS = 1
MAX_DISTANCE = BANDS * (PROBE_RADIUS + 1) - 1  # 9: covers PhotoPolicy.reuse_max_distance
_WIDTHS = (13, 13, 13, 13, 12)


def band_keys(phash: str) -> list[str]:
    """The keys stored with a photo's hash: "band:value" for each band, value in hex."""
    return [_key(band, value) for band, value in enumerate(_bands(int(phash, 16)))]


def probe_keys(phash: str) -> list[str]:
    """Every key a photo within MAX_DISTANCE bits of `phash` must have at least one of."""
    keys = []
    for band, (value, width) in enumerate(zip(_bands(int(phash, 16)), _WIDTHS, strict=True)):
        keys.append(_key(band, value))
        keys.extend(_key(band, value ^ (1 << bit)) for bit in range(width))  # PROBE_RADIUS = 1
    return keys


def _bands(value: int) -> list[int]:
    bands, shift = [], 64
    for width in _WIDTHS:
        shift -= width
        bands.append((value >> shift) & ((1 << width) - 1))
    return bands


def _key(band: int, value: int) -> str:
    return f"{band}:{value:04x}"


# photo_hashes/ holds each report's own photo under its report id and the accepted proof of its
# fix under `<report id>.proof` (report ids never hold a dot): a proof is as reusable as a photo.
PROOF_SUFFIX = ".proof"


def proof_key(report_id: str) -> str:
    """The index key of a report's accepted proof photo."""
    return report_id + PROOF_SUFFIX


def report_of(key: str) -> str:
    """The report an index key belongs to (its own photo or its proof)."""
    return key.removesuffix(PROOF_SUFFIX)
