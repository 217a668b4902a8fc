"""Options of the benchmarks."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add where generated databases are kept between runs."""
    parser.addoption(
        "--bench-cache",
        default="/tmp/smartmeter-bench",
        help="directory of the generated databases that benchmarks reuse between runs",
    )
