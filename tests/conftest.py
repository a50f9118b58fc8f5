"""Shared test fixtures: where the real recordings live, and a marker to skip without them."""

from pathlib import Path

import pytest

#: ../shared/data beside the repository (absent on a fresh machine: tests that need it skip)
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

needs_data = pytest.mark.skipif(not DATA.exists(), reason=f"real recordings not found at {DATA}")


@pytest.fixture
def data_dir() -> Path:
    """The shared real-data folder; skips the test when it is absent."""
    if not DATA.exists():
        pytest.skip(f"real recordings not found at {DATA}")
    return DATA
