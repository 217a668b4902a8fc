"""Rebuilding a meter's long-term statistics from one year of one-second readings.

The year is bench/year_of_readings.py's (31,536,000 readings of one meter, gas every 5 minutes,
two contracts), generated once into the cache directory (--bench-cache, default
/tmp/smartmeter-bench) and shared with the query benchmark; here it is only read. Each run
computes every hour of the year as statistics.py does on a rebuild (longterm.history, then
longterm.compute a month at a time, each month's rows made into the recorder's StatisticData),
in a fresh process so that its peak resident memory is the rebuild's: once for the time and
the peak RSS, once under tracemalloc for the peak of Python's own allocations. The recorder's
writing of the rows is Home Assistant's, timed separately with the test harness's recorder.
Run: .venv/bin/python -m pytest bench/bench_rebuild_statistics.py -s -q --no-cov -p no:cacheprovider
With BENCH_POSTGRESQL=1 the PostgreSQL copy of the year is measured too (its cluster is started
in the cache directory, so no other benchmark may be using it). It prints figures; it asserts
only that the year's energy adds up.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
import multiprocessing
import os
from pathlib import Path
from time import perf_counter
from typing import Any

from homeassistant.components.recorder.core import Recorder
from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import async_add_external_statistics
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from sqlalchemy import create_engine, select

from bench.rebuild_year import rebuild
from bench.year_of_readings import cached_postgresql, cached_sqlite
from custom_components.smartmeter.longterm import CHUNK_HOURS
from custom_components.smartmeter.store.schema import dsmr_reading
from tests.postgres import running_cluster

pytestmark = pytest.mark.timeout(0)


def _in_new_process(url: str, *, trace: bool) -> dict[str, Any]:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(rebuild, url, trace=trace).result()


def _year_energy(url: str) -> int:
    """Return the Wh delivered from the first reading to the last (positions rise only)."""
    engine = create_engine(url)
    reading = dsmr_reading.c
    total = reading.electricity_delivered_1 + reading.electricity_delivered_2
    try:
        with engine.connect() as connection:
            first = connection.scalar(select(total).order_by(reading.timestamp).limit(1))
            last = connection.scalar(select(total).order_by(reading.timestamp.desc()).limit(1))
    finally:
        engine.dispose()
    assert first is not None
    assert last is not None
    return int(last) - int(first)


def _measure(name: str, url: str) -> None:
    timed = _in_new_process(url, trace=False)
    traced = _in_new_process(url, trace=True)
    assert timed["sums"]["energy_delivered"] == _year_energy(url)
    assert timed["sums"] == traced["sums"]
    print(
        f"\n{name}: rebuild of {timed['hours']} hours ({timed['rows']} rows of "
        f"{len(timed['sums'])} series) in {timed['seconds']:.1f} s; resident memory "
        f"{timed['rss_before_mib']:.0f} MiB before (interpreter and imports), "
        f"{timed['rss_after_mib']:.0f} MiB after, peak {timed['maxrss_mib']:.0f} MiB; "
        f"under tracemalloc {traced['seconds']:.1f} s, Python allocations peak "
        f"{traced['traced_peak_mib']:.1f} MiB; {timed['replacements']} replacements"
    )


def test_rebuild_sqlite(pytestconfig: pytest.Config) -> None:
    database = cached_sqlite(Path(pytestconfig.getoption("--bench-cache")))
    # Read only: the cached year is shared with other benchmarks.
    path = database.url.removeprefix("sqlite:///")
    _measure("SQLite", f"sqlite:///file:{path}?mode=ro&uri=true")


@pytest.mark.skipif(not os.environ.get("BENCH_POSTGRESQL"), reason="BENCH_POSTGRESQL not set")
def test_rebuild_postgresql(pytestconfig: pytest.Config) -> None:
    directory = Path(pytestconfig.getoption("--bench-cache"))
    with running_cluster(directory / "postgresql") as sockets:
        database = cached_postgresql(directory, sockets)
        _measure("PostgreSQL", database.url)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """The recorder test below needs no custom integration."""


async def test_recorder_writes_a_year_of_rows(recorder_mock: Recorder, hass: HomeAssistant) -> None:
    """Home Assistant's part: the recorder storing a year of hourly rows of 14 series."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    series = 14
    started = perf_counter()
    for index in range(series):
        metadata = StatisticMetaData(
            mean_type=StatisticMeanType.NONE,
            has_sum=True,
            name=f"Series {index}",
            source="smartmeter",
            statistic_id=f"smartmeter:bench_{index}",
            unit_class="energy",
            unit_of_measurement="kWh",
        )
        for month in range(0, 8760, CHUNK_HOURS):
            async_add_external_statistics(
                hass,
                metadata,
                [
                    StatisticData(
                        start=start + timedelta(hours=hour), state=hour * 0.5, sum=hour * 0.5
                    )
                    for hour in range(month, min(month + CHUNK_HOURS, 8760))
                ],
            )
    await get_instance(hass).async_block_till_done()
    await async_wait_recording_done(hass)
    print(
        f"\nRecorder (SQLite, in memory): {series * 8760} hourly rows written in "
        f"{perf_counter() - started:.1f} s"
    )
