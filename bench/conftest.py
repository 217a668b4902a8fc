"""Options of the benchmarks."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add where generated databases are kept between runs, and the process benchmark's rounds."""
    parser.addoption(
        "--bench-cache",
        default="/tmp/smartmeter-bench",
        help="directory of the generated databases that benchmarks reuse between runs",
    )
    parser.addoption(
        "--process-rounds",
        default=3,
        type=int,
        help="bench_process_cpu: rounds measured per rate and entity set",
    )
    parser.addoption(
        "--process-window",
        default=60.0,
        type=float,
        help="bench_process_cpu: seconds each round lasts",
    )
    parser.addoption(
        "--process-rates",
        default="1,5",
        help="bench_process_cpu: telegrams a second the meters send, comma-separated",
    )
