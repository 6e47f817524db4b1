"""Data the local stack needs before the first request (filled in by the pipeline)."""

from __future__ import annotations

from pathlib import Path

from keluhan.devstack.config import StackConfig


def seed(config: StackConfig, state_dir: Path) -> None:
    """Write the local signing key and load reference data into the emulators."""
