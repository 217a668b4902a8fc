"""Fixtures of the store's tests."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Return the URL of an empty database: a SQLite file, then a real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'readings.db'}"
    return cast(str, request.getfixturevalue("postgres_url"))
