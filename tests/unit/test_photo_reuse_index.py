"""The banded pHash index: a near copy is always a candidate, and a lookup reads few others."""

from __future__ import annotations

import random
from datetime import timedelta

import pydantic
import pytest

from keluhan.devstack.sample_photos import make_jpeg
from keluhan.domain.photo import PhotoPolicy
from keluhan.domain.photo.hash_bands import MAX_DISTANCE, band_keys, probe_keys
from tests.unit.test_photo_usecase import LAT, LON, arrive, submitted, world  # noqa: F401


def flip(value: int, bits: int, rng: random.Random) -> int:
    for bit in rng.sample(range(64), bits):
        value ^= 1 << bit
    return value


def test_every_hash_within_the_reuse_distance_shares_a_probed_band_key():
    rng = random.Random(7)
    for _ in range(20_000):
        stored = rng.getrandbits(64)
        near = flip(stored, rng.randint(0, MAX_DISTANCE), rng)
        assert set(probe_keys(f"{near:016x}")) & set(band_keys(f"{stored:016x}"))


def test_the_worst_spread_of_flips_is_still_found():
    # Two flipped bits in each of four bands and one in the last: 9 bits, no band within 0.
    stored = 0x0123456789ABCDEF
    flips = [0, 1, 13, 14, 26, 27, 39, 40, 52]
    near = stored
    for bit in flips:
        near ^= 1 << (63 - bit)
    assert (near ^ stored).bit_count() == MAX_DISTANCE
    assert set(probe_keys(f"{near:016x}")) & set(band_keys(f"{stored:016x}"))


def test_unrelated_hashes_are_rarely_candidates():
    rng = random.Random(8)
    probes = set(probe_keys(f"{rng.getrandbits(64):016x}"))
    hits = sum(bool(probes & set(band_keys(f"{rng.getrandbits(64):016x}"))) for _ in range(20_000))
    assert hits / 20_000 < 0.015  # ~0.85% expected


def test_a_lookup_fits_three_array_contains_any_queries():
    keys = probe_keys("8f3c0a1b2d4e6f70")
    assert len(keys) == len(set(keys)) == 69 and -(-len(keys) // 30) == 3
    assert band_keys("ffffffffffffffff") == ["0:1fff", "1:1fff", "2:1fff", "3:1fff", "4:0fff"]
    assert band_keys("8000000000000001") == ["0:1000", "1:0000", "2:0000", "3:0000", "4:0001"]


def test_the_policy_cannot_ask_for_a_reuse_distance_the_index_cannot_find():
    assert PhotoPolicy().reuse_max_distance <= MAX_DISTANCE
    with pytest.raises(pydantic.ValidationError):
        PhotoPolicy(reuse_max_distance=MAX_DISTANCE + 1)


# The use case with the banded fake


def test_reuse_is_found_while_reading_only_candidates(world):  # noqa: F811
    _, _, index, _, clock = world
    rng = random.Random(9)
    for i in range(3_000):  # a month of other photos
        index.remember_hash(f"old-{i}", f"{rng.getrandbits(64):016x}", clock() - timedelta(days=1))
    photo = make_jpeg(taken_at=clock() - timedelta(minutes=2), lat=LAT, lon=LON, seed=5)
    submitted(world, "r1")
    arrive(world, "r1", photo)
    submitted(world, "r2")
    index.reads = 0
    report = arrive(world, "r2", photo)
    assert "reused" in [r["code"] for r in report["photo"]["reasons"]]
    assert index.reads < 100  # not 3,001


def test_only_accepted_photos_are_indexed(world):  # noqa: F811
    _, _, index, _, clock = world
    submitted(world, "held")  # no capture time: a moderator looks first
    held = arrive(world, "held", make_jpeg(taken_at=None, lat=LAT, lon=LON, seed=2))
    submitted(world, "stale", taken_offset=timedelta(days=-7))
    stale = arrive(world, "stale", make_jpeg(taken_at=clock() - timedelta(days=7), lat=LAT, lon=LON, seed=3))
    submitted(world, "good")
    good = arrive(world, "good", make_jpeg(taken_at=clock() - timedelta(minutes=2), lat=LAT, lon=LON, seed=4))
    assert (held["photo"]["verdict"], stale["photo"]["verdict"], good["photo"]["verdict"]) == (
        "needs_moderation", "rejected", "accepted")
    assert list(index.docs) == ["good"]

