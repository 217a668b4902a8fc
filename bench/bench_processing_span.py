"""Processing of readings dated far apart, next to a normal reading's; SQLite and PostgreSQL.

Each case stores what comes before (not measured), then commits its readings and measures
their processing: the time of the processing runs (Processor.process) until all is processed,
their number, and the SQL statements they executed. Three rounds, each on a fresh meter of one
store; the medians.

- normal: a meter sending a reading a second; the run that makes its next minute record.
- gas stuck 3 years back: a new meter whose gas capture stays 3 years behind (a gas meter that
  stopped reporting): its first 10 minutes.
- DSMR 2.2 gas 9 years back: a meter whose gas clock is 9 years behind, two hours in; the next
  minute, which shows a new hourly gas value.
- 200 days apart: 10 minutes of readings, then the next reading 200 days later.
- telegram dated 2016: a reading of 7 November 2016 into 5.5 hours of recent readings.
- 10 years back into a year: a reading ten years before a year of readings every 10 minutes
  (52,560; generated and processed once per database).

Then the commit latency while processing catches up with a backlog: a day of one-second
readings stored while processing was off (86,400, four runs), with a reading submitted and
waited for one after the other until it has caught up.
Run: .venv/bin/python -m pytest bench/bench_processing_span.py -s -q --no-cov -p no:cacheprovider
It prints figures; it asserts nothing about speed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from statistics import median
from time import perf_counter
from typing import cast

import pytest

from custom_components.smartmeter.store import Reading, ReadingStore, processing
from tests.common import wait_processed
from tests.store.test_processing_span import Work, counted_work

pytestmark = pytest.mark.timeout(0)

ROUNDS = 3
START = datetime(2026, 1, 5, 12, 0, 5, tzinfo=UTC)
GAS = tuple[datetime, int] | None


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Return the URL of an empty database: a SQLite file, then a real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'readings.db'}"
    return cast(str, request.getfixturevalue("postgres_url"))


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Work]:
    """Time and count the processing runs."""
    yield from counted_work(monkeypatch)


def reading(moment: datetime, wh: int, gas: GAS) -> Reading:
    """Return a reading at moment with delivered positions of wh and the gas shown."""
    return Reading(
        timestamp=moment,
        electricity_delivered_1=Decimal(wh).scaleb(-3),
        electricity_returned_1=Decimal("0.000"),
        electricity_delivered_2=Decimal(wh + 500_000).scaleb(-3),
        electricity_returned_2=Decimal("0.000"),
        electricity_currently_delivered=Decimal("0.420"),
        electricity_currently_returned=Decimal("0.000"),
        phase_voltage_l1=Decimal("230.1"),
        extra_device_timestamp=None if gas is None else gas[0],
        extra_device_delivered=None if gas is None else Decimal(gas[1]).scaleb(-3),
    )


def five_minutes(moment: datetime) -> GAS:
    """Return the gas a DSMR 5 meter shows: captured on the last 5-minute mark."""
    mark = moment.replace(minute=moment.minute - moment.minute % 5, second=0, microsecond=0)
    return mark, 1_000_000 + int(mark.timestamp()) // 300


def stream(
    start: datetime, count: int, step: timedelta, gas: Callable[[datetime], GAS] = five_minutes
) -> list[Reading]:
    """Return count readings from start, step apart, a Wh each."""
    return [
        reading(start + index * step, 1_000_000 + index, gas(start + index * step))
        for index in range(count)
    ]


SECOND = timedelta(seconds=1)
# DSMR 2.2's sample telegram: its gas value of 7 November 2016, 19:00 local.
TELEGRAM_2016 = datetime(2016, 11, 7, 18, 0, 5, tzinfo=UTC)
TEN_SECONDS = timedelta(seconds=10)


@dataclass
class Case:
    """What a meter stores first, and the readings whose processing is measured."""

    name: str
    before: Callable[[], list[Reading]]
    measured: Callable[[], list[Reading]]
    figures: list[tuple[float, int, int]] = field(default_factory=list)


def cases() -> list[Case]:
    stuck_gas = (START - timedelta(days=3 * 365), 2_000_000)
    nine_years = timedelta(days=9 * 365)

    def dsmr_2_2(moment: datetime) -> GAS:
        hour = moment.replace(minute=0, second=0, microsecond=0)
        return hour - nine_years, 2_000_000 + int(hour.timestamp()) // 3600 * 123

    later = START + timedelta(days=200)
    return [
        Case(
            "normal reading (next minute)",
            lambda: stream(START, 600, SECOND),
            lambda: stream(START + 600 * SECOND, 61, SECOND),
        ),
        Case(
            "gas stuck 3 years back (first 10 min)",
            list,
            lambda: stream(START, 600, SECOND, lambda _: stuck_gas),
        ),
        Case(
            "DSMR 2.2 gas 9 years back (new hour)",
            lambda: stream(START - 2 * 3600 * SECOND, 7200, SECOND, dsmr_2_2),
            lambda: stream(START, 61, SECOND, dsmr_2_2),
        ),
        Case(
            "200 days apart",
            lambda: stream(START, 600, SECOND),
            lambda: [
                reading(later, 1_000_600, five_minutes(later)),
                *stream(later + 60 * SECOND, 2, SECOND),
            ],
        ),
        Case(
            "telegram dated 2016 into 5.5 h",
            lambda: stream(START, 1980, TEN_SECONDS),
            lambda: [reading(TELEGRAM_2016, 1_001, (TELEGRAM_2016.replace(second=0), 1_001))],
        ),
    ]


def measure(store: ReadingStore, runs: Work, meter: str, case: Case) -> None:
    before = case.before()
    if before:
        store.writer.submit(meter, before).result()
        wait_processed(store)
    runs.reset()
    store.writer.submit(meter, case.measured()).result()
    wait_processed(store)
    case.figures.append((runs.seconds, runs.runs, runs.statements))


def late(moment: datetime) -> list[Reading]:
    """Return a reading at moment, lower than the year's."""
    return [reading(moment, 500_000, five_minutes(moment))]


def ten_years_back(store: ReadingStore, runs: Work) -> Case:
    """Return the case of a reading ten years back into a year, measured ROUNDS times."""
    year_start = datetime(2025, 1, 1, tzinfo=UTC)
    year = stream(year_start, 52_560, timedelta(minutes=10))
    started = perf_counter()
    for first in range(0, len(year), 5000):
        store.writer.submit("year", year[first : first + 5000]).result()
    wait_processed(store)
    print(f"  (a year every 10 minutes: stored and processed in {perf_counter() - started:.1f} s)")
    case = Case("10 years back into a year", list, list)
    for round_ in range(ROUNDS):
        moment = year_start - timedelta(days=3652 + round_, hours=5)
        case.measured = partial(late, moment)
        measure(store, runs, "year", case)
    return case


def print_case(case: Case) -> None:
    seconds = median(figure[0] for figure in case.figures)
    count = median(figure[1] for figure in case.figures)
    statements = median(figure[2] for figure in case.figures)
    print(
        f"  {case.name:40} {seconds * 1000:9.1f} ms {count:4.0f} runs {statements:7.0f} statements"
    )


def catching_up(store_url: str, runs: Work) -> None:
    """Print the commit latency of readings submitted while processing catches up."""
    backlog = stream(START, 86_400, SECOND)
    with pytest.MonkeyPatch.context() as patched:
        # Stored while processing is off: a backlog for the next start.
        patched.setattr(processing.Processor, "due", frozenset())
        store = ReadingStore.open(store_url)
        try:
            for first in range(0, len(backlog), 5000):
                store.writer.submit("backlog", backlog[first : first + 5000]).result()
        finally:
            store.close()
    runs.reset()
    store = ReadingStore.open(store_url)
    latencies = []
    try:
        moment = START + len(backlog) * SECOND
        # Until only the newest minute is left, which waits for a later reading.
        while store.processing_status("backlog").unprocessed_readings > 60:
            started = perf_counter()
            store.writer.submit("live", [reading(moment, 1, five_minutes(moment))]).result()
            latencies.append(perf_counter() - started)
            moment += SECOND
        run_seconds = runs.seconds / max(runs.runs, 1)
    finally:
        store.close()
    latencies.sort()
    print(
        f"  commits while catching up with {len(backlog)} readings in {runs.runs} runs "
        f"(a run {run_seconds * 1000:.0f} ms on average): {len(latencies)} readings, "
        f"median {median(latencies) * 1000:.1f} ms, max {latencies[-1] * 1000:.0f} ms"
    )


def test_processing_span(store_url: str, runs: Work) -> None:
    name = store_url.split(":", maxsplit=1)[0]
    print(f"\n{name}: processing time (median of {ROUNDS}), runs and statements")
    store = ReadingStore.open(store_url)
    try:
        measured = cases()
        for round_ in range(ROUNDS):
            for index, case in enumerate(measured):
                measure(store, runs, f"meter-{index}-{round_}", case)
        for case in measured:
            print_case(case)
        print_case(ten_years_back(store, runs))
    finally:
        store.close()
    catching_up(store_url.replace("readings.db", "backlog.db"), runs)
