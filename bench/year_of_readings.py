"""One year of one-second readings of one meter, generated inside the database, and cached.

31,536,000 readings from 2025-01-01 00:00 UTC: a household load of 100-800 W (a daily wave and
a ten-minute wave, plus a little jitter), split over three phases, tariff 2 from 06:00 to 22:00
UTC; positions are the exact integral of the wave, so they only ever rise; gas (more in winter)
gets a new position every 5 minutes. No solar: the returned positions stay put.

Generation writes into tables that ReadingStore.open created (on PostgreSQL without the readings'
primary key, which is built after the load); reading_count is filled by
migrations.count_readings, as the migration that created it does. Then the store itself
processes the year into DSMR-reader's records, as it does readings stored before processing
existed, with two energy contracts. A database that
passed every step is marked done in the cache directory, per schema version, so reruns skip it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
import math
from pathlib import Path
from time import perf_counter
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, create_engine, insert, text, update
from sqlalchemy.schema import AddConstraint, DropConstraint

from custom_components.smartmeter.store.migrations import MIGRATIONS, count_readings
from custom_components.smartmeter.store.records import EnergySupplierPrice
from custom_components.smartmeter.store.schema import dsmr_reading, meters, reading_id
from custom_components.smartmeter.store.store import ReadingStore

START: Final = datetime(2025, 1, 1, tzinfo=UTC)
# Local days of day statistics; Home Assistant's time zone in the benchmark.
TIME_ZONE: Final = ZoneInfo("Europe/Amsterdam")
SECONDS: Final = 365 * 86_400
# An equipment identifier as DSMR 5 meters send it, which the entry's unique id is.
METER: Final = "4B384547303034303436333935353037"
# Bumped whenever what generate() makes changes (processing too), so that cached years are made
# again.
GENERATION: Final = 3
_DAY: Final = 86_400
_TARIFF_2: Final = (6 * 3_600, 22 * 3_600)
_WAVE: Final = 600
# W: mean, daily amplitude, ten-minute amplitude.
_MEAN, _DAILY, _FAST = 450.0, 250.0, 100.0
# dm³/s: mean and yearly amplitude (highest on 1 January).
_GAS_MEAN, _GAS_YEARLY = 0.038, 0.03


def _energy(seconds: str) -> str:
    """Return SQL for the energy (J) from the start to `seconds`: the wave's exact integral."""
    return (
        f"({_MEAN} * ({seconds}) - {_DAILY * _DAY / (2 * math.pi)!r} "
        f"* sin(2 * pi() * ({seconds}) / {_DAY}) - {_FAST * _WAVE / (2 * math.pi)!r} "
        f"* sin(2 * pi() * ({seconds}) / {_WAVE}))"
    )


def _readings_select(i: str) -> dict[str, str]:
    """Return SQL of each of dsmr_reading's columns for second i."""
    start_s = int(START.timestamp())
    time_of_day = f"({i} % {_DAY})"
    low, high = _TARIFF_2
    clamped = (
        f"(CASE WHEN {time_of_day} < {low} THEN {low} "
        f"WHEN {time_of_day} > {high} THEN {high} ELSE {time_of_day} END)"
    )
    tariff_2_per_day = f"({_energy(str(high))} - {_energy(str(low))})"
    energy_2 = f"(({i} / {_DAY}) * {tariff_2_per_day} + {_energy(clamped)} - {_energy(str(low))})"
    energy_1 = f"({_energy(i)} - {energy_2})"
    power = (
        f"CAST(floor({_MEAN} - {_DAILY} * cos(2 * pi() * {i} / {_DAY}) "
        f"- {_FAST} * cos(2 * pi() * {i} / {_WAVE}) + 0.5) AS INTEGER) + ({i} * 7919) % 41 - 20"
    )
    gas_time = f"({i} - {i} % 300)"
    gas = (
        f"CAST(floor({_GAS_MEAN} * {gas_time} + {_GAS_YEARLY * SECONDS / (2 * math.pi)!r} "
        f"* sin(2 * pi() * {gas_time} / {SECONDS})) AS INTEGER)"
    )
    voltage = "2300 + ({i} * {prime}) % 61 - 30"
    columns = {
        "meter_key": "1",
        "id": f"{i} + 1",
        "timestamp": f"({start_s} + {i}) * 1000000",
        "electricity_delivered_1": f"1234567 + CAST(floor({energy_1} / 3600) AS INTEGER)",
        "electricity_returned_1": "120000",
        "electricity_delivered_2": f"2345678 + CAST(floor({energy_2} / 3600) AS INTEGER)",
        "electricity_returned_2": "340000",
        "electricity_currently_delivered": "power",
        "electricity_currently_returned": "0",
        "phase_currently_delivered_l1": "power * 5 / 10",
        "phase_currently_delivered_l2": "power * 3 / 10",
        "phase_currently_delivered_l3": "power - power * 5 / 10 - power * 3 / 10",
        "extra_device_timestamp": f"({start_s} + {gas_time}) * 1000000",
        "extra_device_delivered": f"4567890 + {gas}",
        "phase_currently_returned_l1": "0",
        "phase_currently_returned_l2": "0",
        "phase_currently_returned_l3": "0",
        "phase_voltage_l1": voltage.format(i=i, prime=104_729),
        "phase_voltage_l2": voltage.format(i=i, prime=130_363),
        "phase_voltage_l3": voltage.format(i=i, prime=155_921),
        "phase_power_current_l1": "power * 5 / 10 / 230",
        "phase_power_current_l2": "power * 3 / 10 / 230",
        "phase_power_current_l3": "(power - power * 5 / 10 - power * 3 / 10) / 230",
    }
    return {name: sql.replace("power", f"({power})") for name, sql in columns.items()}


# Two contracts a year, as a household changing supplier in summer would have.
CONTRACTS: Final = (
    EnergySupplierPrice(
        start=date(2024, 7, 1),
        end=date(2025, 6, 30),
        description="First supplier",
        electricity_delivered_1_price=Decimal("0.231450"),
        electricity_delivered_2_price=Decimal("0.254120"),
        gas_price=Decimal("1.412300"),
        fixed_daily_cost=Decimal("0.712300"),
    ),
    EnergySupplierPrice(
        start=date(2025, 7, 1),
        end=date(2026, 6, 30),
        description="Second supplier",
        electricity_delivered_1_price=Decimal("0.221780"),
        electricity_delivered_2_price=Decimal("0.243310"),
        gas_price=Decimal("1.298700"),
        fixed_daily_cost=Decimal("0.689000"),
    ),
)


def _insert_readings(connection: Connection, count: int) -> None:
    """Insert readings 0 .. count - 1, by a recursive CTE (SQLite) or generate_series."""
    if connection.dialect.name == "postgresql":
        source = f"generate_series(0::bigint, {count - 1}) AS s(i)"
        prefix = ""
    else:
        prefix = (
            f"WITH RECURSIVE s(i) AS "
            f"(SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < {count - 1}) "
        )
        source = "s"
    columns = _readings_select("i")
    select = ",\n".join(columns.values())
    connection.execute(
        text(
            f"{prefix}INSERT INTO dsmr_reading ({', '.join(columns)}) SELECT {select} FROM {source}"
        )
    )


def generate(url: str, count: int = SECONDS) -> dict[str, float]:
    """Fill an empty database with `count` readings; return the seconds each step took."""
    ReadingStore.open(url).close()
    engine = create_engine(url)
    timings: dict[str, float] = {}
    postgresql = engine.dialect.name == "postgresql"
    primary_key = dsmr_reading.primary_key
    try:
        with engine.begin() as connection:
            if postgresql:
                connection.exec_driver_sql("SET maintenance_work_mem = '1GB'")
                connection.execute(DropConstraint(primary_key, isolate_from_table=False))
            else:
                # The load is redone from scratch if it fails; a bigger cache holds more pages.
                connection.exec_driver_sql("PRAGMA cache_size = -1000000")
            started = perf_counter()
            connection.execute(insert(meters).values(key=1, meter=METER))
            _insert_readings(connection, count)
            connection.execute(update(reading_id).values(last=count))
            timings["readings"] = perf_counter() - started
            if postgresql:
                started = perf_counter()
                connection.execute(AddConstraint(primary_key, isolate_from_table=False))
                timings["primary key"] = perf_counter() - started
            started = perf_counter()
            count_readings(connection)
            timings["reading_count"] = perf_counter() - started
        if engine.dialect.name == "postgresql":
            # What autovacuum would have done by now to a database written over a year.
            started = perf_counter()
            with engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                    "VACUUM ANALYZE"
                )
            timings["vacuum analyze"] = perf_counter() - started
    finally:
        engine.dispose()
    # The records: processing itself, as HA runs it on readings stored before it existed.
    started = perf_counter()
    store = ReadingStore.open(url, time_zone=TIME_ZONE)
    try:
        # Waits for processing to catch up, then recomputes the year's costs.
        store.replace_prices(METER, CONTRACTS)
    finally:
        store.close()
    timings["processing"] = perf_counter() - started
    return timings


@dataclass(frozen=True, slots=True)
class CachedDatabase:
    """A generated database in the cache directory."""

    url: str
    # Seconds per generation step, from when it was made.
    timings: dict[str, float]


def _cache_name() -> str:
    """Return the name of the generated year: its schema version and the generation's."""
    return f"year_s{len(MIGRATIONS)}_g{GENERATION}"


def cached_sqlite(directory: Path) -> CachedDatabase:
    """Return the year's SQLite database in directory, generated unless done before."""
    path = directory / f"{_cache_name()}.db"
    return _cached(directory / f"{path.name}.done", f"sqlite:///{path}", lambda: _remove(path))


def cached_postgresql(directory: Path, socket_directory: Path) -> CachedDatabase:
    """Return the year's database in the PostgreSQL cluster, generated unless done before."""
    name = _cache_name()
    admin = create_engine(f"postgresql+psycopg://postgres@/postgres?host={socket_directory}")

    def recreate() -> None:
        with admin.connect() as connection:
            autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
            autocommit.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
            autocommit.exec_driver_sql(f"CREATE DATABASE {name}")

    try:
        return _cached(
            directory / f"postgresql-{name}.done",
            f"postgresql+psycopg://postgres@/{name}?host={socket_directory}",
            recreate,
        )
    finally:
        admin.dispose()


def _remove(path: Path) -> None:
    for leftover in (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")):
        leftover.unlink(missing_ok=True)


def _cached(done: Path, url: str, reset: Callable[[], None]) -> CachedDatabase:
    if not done.exists():
        reset()
        timings = generate(url)
        done.write_text("".join(f"{step}\t{seconds:.1f}\n" for step, seconds in timings.items()))
    timings = {
        step: float(seconds)
        for step, seconds in (line.split("\t") for line in done.read_text().splitlines())
    }
    return CachedDatabase(url, timings)
