"""Water and heat: a year of M-Bus captures stored and their long-term statistics rebuilt.

A meter passes on its water meter's position every 5 minutes, in every telegram; a heat meter
alone (a Warmtelink) stamps each telegram anew. A year of telegrams, one every 10 seconds (DSMR
4's rate), goes through the store's writer in batches as a busy writer takes them, with each
telegram's captures: 105,120 water captures moving by 0-30 litres, and heat in every telegram,
moving by 1 MJ every 10 minutes. Then the year's hours are computed as a rebuild does
(longterm.compute_captures a month at a time), timed, with the peak of Python's allocations
(tracemalloc). SQLite file and PostgreSQL server. It prints figures; it asserts that the year's
water and heat add up.
Run: .venv/bin/python -m pytest bench/bench_rebuild_captures.py -s -q --no-cov -p no:cacheprovider
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from time import perf_counter
import tracemalloc
from typing import cast

import pytest

from custom_components.smartmeter.longterm import (
    Accumulator,
    capture_chunk_end,
    capture_history,
    compute_captures,
)
from custom_components.smartmeter.store import ReadingStore
from custom_components.smartmeter.store.model import Capture, CaptureKind

pytestmark = pytest.mark.timeout(0)

METER = "bench"
START = datetime(2025, 1, 1, tzinfo=UTC)
SECONDS = 365 * 24 * 3600
TELEGRAM_EVERY = 10
# Telegrams per writer batch: what one transaction takes when readings queue up.
BATCH = 600


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Return the URL of an empty database: a SQLite file, then a real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'captures.db'}"
    return cast(str, request.getfixturevalue("postgres_url"))


def _water_litres(period: int) -> int:
    """Return the litres of one 5-minute period: 0 to 30, fixed by the period."""
    return (period * 7919) % 31


def _store_year(store: ReadingStore) -> float:
    """Write a year of telegrams' captures; return the seconds taken."""
    started = perf_counter()
    water = 100_000
    period_litres = 0
    pending = []
    for second in range(0, SECONDS, TELEGRAM_EVERY):
        period, into = divmod(second, 300)
        if into == 0 and second:
            water += period_litres
        period_litres = _water_litres(period)
        heat = 240_000 + second // 600
        captured = START + timedelta(seconds=second)
        pending += [
            Capture(
                channel=2,
                kind="water",
                captured=START + timedelta(seconds=period * 300),
                value=Decimal(water).scaleb(-3),
            ),
            Capture(channel=1, kind="heat", captured=captured, value=Decimal(heat).scaleb(-3)),
        ]
        if len(pending) == 2 * BATCH:
            store.writer.submit(METER, [], captures=pending)
            pending = []
    store.writer.submit(METER, [], captures=pending).result()
    return perf_counter() - started


def _rebuild(store: ReadingStore, kind: CaptureKind) -> tuple[float, float, int, int]:
    """Compute a year's hours of a kind; return seconds, peak MiB, hours and the exact sum."""
    tracemalloc.start()
    started = perf_counter()
    accumulator = Accumulator((), UTC)
    hours = 0
    with store.read() as connection:
        bounds = capture_history(connection, METER, kind)
    assert bounds is not None
    start, end = bounds
    while start < end:
        with store.read() as connection:
            stop = capture_chunk_end(connection, METER, start, end, kind=kind)
            computed = compute_captures(connection, METER, accumulator, start, stop, kind=kind)
        hours += sum(len(rows) for rows in computed.rows.values())
        start = stop
    seconds = perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak, hours, accumulator.sums()[kind]


def test_a_year_of_water_and_heat(store_url: str) -> None:
    store = ReadingStore.open(store_url)
    try:
        stored = _store_year(store)
        with store.read() as connection:
            rows = connection.exec_driver_sql(
                "SELECT kind, count(*) FROM mbus_capture GROUP BY kind"
            )
            counts = dict(rows.tuples().all())
        print(
            f"\n{store_url.split(':', maxsplit=1)[0]}: a year of telegrams' captures "
            f"({2 * SECONDS // TELEGRAM_EVERY:,}) "
            f"written in {stored:.1f} s; kept {counts}"
        )
        litres = sum(_water_litres(period) for period in range(SECONDS // 300 - 1))
        last = SECONDS - TELEGRAM_EVERY
        expected = {"water": litres * 1_000_000, "heat": last // 600 * 1_000_000}
        for kind in ("water", "heat"):
            seconds, peak, hours, total = _rebuild(store, kind)
            assert total == expected[kind]
            print(
                f"  rebuild of {kind}: {hours} hours in {seconds:.2f} s, Python allocations "
                f"peak {peak:.1f} MiB"
            )
    finally:
        store.close()
