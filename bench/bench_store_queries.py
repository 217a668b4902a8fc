"""API v2 GET latency on one year of one-second readings, SQLite and PostgreSQL; size per million.

The year (bench/year_of_readings.py: 31,536,000 readings and the records processing makes of
them) is generated once per database into the cache directory, --bench-cache (default
/tmp/smartmeter-bench; PostgreSQL's cluster lives there too), and reused by later runs.
Each query of QUERIES is asked through Home Assistant's real http component (the test
harness's server and client, an entry whose database is the generated one, API enabled), and
also of the store alone, in an executor thread, to separate the HTTP and JSON overhead.
ROUNDS rounds of REQUESTS requests per query, after a warm-up, the queries interleaved; a
round's p50/p95 per query, and the range over the rounds.
Run: .venv/bin/python -m pytest bench/bench_store_queries.py -s -q --no-cov -p no:cacheprovider
It prints figures; it asserts nothing about speed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
import logging
import os
from pathlib import Path
from statistics import quantiles
from time import perf_counter
from typing import Any, Final

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from sqlalchemy import create_engine, text

from bench.year_of_readings import (
    METER,
    SECONDS,
    TIME_ZONE,
    CachedDatabase,
    cached_postgresql,
    cached_sqlite,
)
from custom_components.smartmeter.store.records import (
    ElectricityConsumption,
    GasConsumption,
    HourStatistics,
    QuarterHourPeak,
    StoredDayStatistics,
    StoredEnergySupplierPrice,
)
from custom_components.smartmeter.store.store import ReadingStore
from tests.common import setup_entry
from tests.postgres import running_cluster

# Generating the year takes minutes, the measurements too.
pytestmark = pytest.mark.timeout(0)

KEY: Final = "Q" * 64
WARM_UP: Final = 20
REQUESTS: Final = 200
ROUNDS: Final = 3
# A local day at the end of the year, one in the middle, and the latter's hours.
LAST_DAY: Final = "2025-12-30"
MIDDLE_DAY: Final = "2025-07-01"

# Requests whose cost grows with their parameters, timed a few times: a deep offset into the
# year and big pages (DSMR-reader caps neither offset nor limit; this API cuts a page to
# api/params.py's MAX_LIMIT, 10,000 rows).
EXPENSIVE_REQUESTS: Final = 3
EXPENSIVE: Final = (
    ("dsmrreading offset=15768000 (mid-year)", "/api/v2/datalogger/dsmrreading?offset=15768000"),
    ("dsmrreading limit=10000", "/api/v2/datalogger/dsmrreading?limit=10000"),
    ("dsmrreading limit=100000", "/api/v2/datalogger/dsmrreading?limit=100000"),
)

type StoreCall = Callable[[ReadingStore], object]


def _local(day: str, clock: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=TIME_ZONE)


def _day(day: str, field: str) -> str:
    return f"{field}__gte={day}T00:00:00&{field}__lte={day}T23:59:59"


def _readings(**kwargs: Any) -> StoreCall:
    return lambda store: store.list_readings(METER, **kwargs)


def _records(
    record: type[Any], day: str | None = None, field: str = "", **kwargs: Any
) -> StoreCall:
    if day is not None:
        kwargs["filters"] = [
            (field, "gte", _local(day, "00:00:00")),
            (field, "lte", _local(day, "23:59:59")),
        ]
    return lambda store: store.list_records(record, METER, **kwargs)


@dataclass(frozen=True, slots=True)
class Query:
    """One GET: its label, path and query string, and the store call behind it (if a list)."""

    label: str
    path: str
    store_call: StoreCall | None = None


_READINGS: Final = "/api/v2/datalogger/dsmrreading"
QUERIES: Final = (
    Query("dsmrreading (defaults)", _READINGS, _readings()),
    Query(
        "dsmrreading -timestamp limit=1",
        f"{_READINGS}?ordering=-timestamp&limit=1",
        _readings(descending=True, limit=1),
    ),
    Query(
        f"dsmrreading day {LAST_DAY}",
        f"{_READINGS}?{_day(LAST_DAY, 'timestamp')}",
        _readings(
            timestamp_gte=_local(LAST_DAY, "00:00:00"), timestamp_lte=_local(LAST_DAY, "23:59:59")
        ),
    ),
    Query(
        f"dsmrreading day {MIDDLE_DAY}",
        f"{_READINGS}?{_day(MIDDLE_DAY, 'timestamp')}",
        _readings(
            timestamp_gte=_local(MIDDLE_DAY, "00:00:00"),
            timestamp_lte=_local(MIDDLE_DAY, "23:59:59"),
        ),
    ),
    Query(
        f"dsmrreading day {MIDDLE_DAY} offset=80000",
        f"{_READINGS}?{_day(MIDDLE_DAY, 'timestamp')}&offset=80000",
        _readings(
            timestamp_gte=_local(MIDDLE_DAY, "00:00:00"),
            timestamp_lte=_local(MIDDLE_DAY, "23:59:59"),
            offset=80_000,
        ),
    ),
    Query("meter-statistics", "/api/v2/datalogger/meter-statistics"),
    Query("application/version", "/api/v2/application/version"),
    *(
        query
        for path, record, field in (
            ("/api/v2/consumption/electricity", ElectricityConsumption, "read_at"),
            ("/api/v2/consumption/gas", GasConsumption, "read_at"),
            (
                "/api/v2/consumption/quarter-hour-peak-electricity",
                QuarterHourPeak,
                "read_at_start",
            ),
            ("/api/v2/statistics/hour", HourStatistics, "hour_start"),
        )
        for query in (
            Query(f"{path[8:]} (defaults)", path, _records(record)),
            Query(
                f"{path[8:]} -{field} limit=1",
                f"{path}?ordering=-{field}&limit=1",
                _records(record, ordering=[(field, True)], limit=1),
            ),
            Query(
                f"{path[8:]} day {LAST_DAY}",
                f"{path}?{_day(LAST_DAY, field)}",
                _records(record, LAST_DAY, field),
            ),
        )
    ),
    Query("statistics/day (defaults)", "/api/v2/statistics/day", _records(StoredDayStatistics)),
    Query(
        "statistics/day -day limit=1",
        "/api/v2/statistics/day?ordering=-day&limit=1",
        _records(StoredDayStatistics, ordering=[("day", True)], limit=1),
    ),
    Query(
        f"statistics/day day {LAST_DAY}",
        f"/api/v2/statistics/day?day__gte={LAST_DAY}&day__lte={LAST_DAY}",
        _records(
            StoredDayStatistics,
            filters=[
                ("day", "gte", date.fromisoformat(LAST_DAY)),
                ("day", "lte", date.fromisoformat(LAST_DAY)),
            ],
        ),
    ),
    Query(
        "consumption/energy-supplier-prices",
        "/api/v2/consumption/energy-supplier-prices",
        _records(StoredEnergySupplierPrice),
    ),
)


@dataclass(slots=True)
class Timings:
    """Per query, the p50 and p95 of each round and the slowest request of all (ms)."""

    p50: list[float]
    p95: list[float]
    slowest: float = 0.0

    def add_round(self, durations: list[float]) -> None:
        """Add one round's durations (seconds)."""
        cuts = quantiles(durations, n=100, method="inclusive")
        self.p50.append(cuts[49] * 1000)
        self.p95.append(cuts[94] * 1000)
        self.slowest = max(self.slowest, max(durations) * 1000)

    def row(self) -> str:
        """Return p50, p95 (ranges over the rounds) and max, in ms."""
        return f"{_range(self.p50):>13} {_range(self.p95):>13} {self.slowest:8.1f}"


def _range(values: list[float]) -> str:
    low, high = min(values), max(values)
    return f"{low:.1f}" if f"{low:.1f}" == f"{high:.1f}" else f"{low:.1f}-{high:.1f}"


@pytest.fixture(scope="module")
def cache_directory(request: pytest.FixtureRequest) -> Path:
    directory = Path(request.config.getoption("--bench-cache"))
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture(scope="module")
def bench_cluster(cache_directory: Path) -> Iterator[Path]:
    """Run the cached PostgreSQL cluster for the module; yield its socket directory."""
    directory = cache_directory / "postgresql"
    directory.mkdir(exist_ok=True)
    with running_cluster(directory):
        yield directory


@pytest.fixture(params=["sqlite", "postgresql"])
def year(request: pytest.FixtureRequest, cache_directory: Path) -> CachedDatabase:
    """Return the cached year of the database; generate it on the first run."""
    if request.param == "sqlite":
        return cached_sqlite(cache_directory)
    return cached_postgresql(cache_directory, request.getfixturevalue("bench_cluster"))


def _store_round(url: str, queries: list[Query], requests: int) -> dict[str, list[float]]:
    """Time each query's store call, interleaved, on a store of its own (executor thread)."""
    store = ReadingStore.open(url, time_zone=TIME_ZONE)
    try:
        durations: dict[str, list[float]] = {query.label: [] for query in queries}
        for _ in range(requests):
            for query in queries:
                assert query.store_call is not None
                started = perf_counter()
                query.store_call(store)
                durations[query.label].append(perf_counter() - started)
        return durations
    finally:
        store.close()


async def test_store_queries(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    year: CachedDatabase,
) -> None:
    # The test harness runs the loop in debug mode, which slows every callback several fold,
    # and logs every SQL statement and request.
    asyncio.get_running_loop().set_debug(False)
    for logger in ("sqlalchemy.engine", "aiohttp.access"):
        logging.getLogger(logger).setLevel(logging.WARNING)
    await hass.config.async_set_time_zone(str(TIME_ZONE))
    entry = MockConfigEntry(
        domain="smartmeter",
        unique_id=METER,
        data={"connection_type": "push", "specification": "5"},
        options={"api_enabled": True, "api_key": KEY, "database_url": year.url},
    )
    await setup_entry(hass, entry)
    client = await hass_client_no_auth()
    headers = {"X-AUTHKEY": KEY}
    for query in QUERIES:
        response = await client.get(query.path, headers=headers)
        assert response.status == 200, (query.path, await response.text())
    http = {query.label: Timings([], []) for query in QUERIES}
    store = {query.label: Timings([], []) for query in QUERIES if query.store_call}
    listed = [query for query in QUERIES if query.store_call]
    for round_number in range(ROUNDS + 1):
        requests = WARM_UP if round_number == 0 else REQUESTS
        durations: dict[str, list[float]] = {query.label: [] for query in QUERIES}
        for _ in range(requests):
            for query in QUERIES:
                started = perf_counter()
                response = await client.get(query.path, headers=headers)
                await response.read()
                durations[query.label].append(perf_counter() - started)
        store_durations = await hass.async_add_executor_job(
            _store_round, year.url, listed, requests
        )
        if round_number:
            for label, values in durations.items():
                http[label].add_round(values)
            for label, values in store_durations.items():
                store[label].add_round(values)
    expensive = []
    for label, path in EXPENSIVE:
        seconds = []
        for _ in range(EXPENSIVE_REQUESTS):
            started = perf_counter()
            response = await client.get(path, headers=headers)
            body = await response.read()
            seconds.append(perf_counter() - started)
        expensive.append((label, min(seconds), max(seconds), len(body)))
    await hass.config_entries.async_unload(entry.entry_id)

    backend = year.url.split(":", 1)[0]
    width = max(len(query.label) for query in QUERIES)
    print(f"\n\n{backend}: {ROUNDS} rounds x {REQUESTS} requests per query (ms; range of rounds)")
    print(
        f"{'query':{width}} {'HTTP p50':>13} {'HTTP p95':>13} {'max':>8}"
        f" {'store p50':>13} {'store p95':>13} {'max':>8}"
    )
    for query in QUERIES:
        store_row = store[query.label].row() if query.store_call else ""
        print(f"{query.label:{width}} {http[query.label].row()} {store_row}")
    print(f"expensive requests, {EXPENSIVE_REQUESTS} each (s, fastest-slowest; response size):")
    for label, fastest, slowest, size in expensive:
        print(f"  {label:{width}} {fastest:6.2f}-{slowest:.2f} s {size / 1e6:8.1f} MB")
    steps = ", ".join(f"{step} {seconds:.0f} s" for step, seconds in year.timings.items())
    print(f"generation: {sum(year.timings.values()):.0f} s ({steps})")
    await hass.async_add_executor_job(_print_sizes, year.url)


def _print_sizes(url: str) -> None:
    """Print the database's size per million readings, and each table's with its indexes."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                rows = connection.execute(
                    text(
                        "SELECT c.relname, pg_total_relation_size(c.oid), pg_indexes_size(c.oid) "
                        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 2 DESC"
                    )
                ).all()
                total = connection.scalar(text("SELECT pg_database_size(current_database())"))
                free = 0
            else:
                rows = connection.execute(
                    text(
                        "SELECT coalesce(m.tbl_name, d.name), sum(d.pgsize), "
                        "sum(CASE WHEN m.type = 'index' THEN d.pgsize ELSE 0 END) FROM dbstat d "
                        "LEFT JOIN sqlite_schema m ON m.name = d.name GROUP BY 1 ORDER BY 2 DESC"
                    )
                ).all()
                database = engine.url.database
                assert database is not None
                total = os.path.getsize(database)
                # What VACUUM would give back.
                free = connection.scalar(text("PRAGMA freelist_count")) * connection.scalar(
                    text("PRAGMA page_size")
                )
    finally:
        engine.dispose()
    millions = SECONDS / 1_000_000
    print(
        f"size: {total / 1e6:.0f} MB, {total / millions / 1e6:.1f} MB per million readings "
        f"({free / 1e6:.0f} MB free pages)"
    )
    for table, size, indexes in rows:
        if size >= 1_000_000:
            print(
                f"  {table:24} {size / 1e6:8.1f} MB (indexes {indexes / 1e6:7.1f} MB) "
                f"{size / millions / 1e6:7.2f} MB per million readings"
            )
