"""Version 5's migration of the readings: a migrated database equals one written afresh."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    insert,
    inspect,
    select,
    text,
)

from bench.year_of_readings import CONTRACTS
from custom_components.smartmeter.store import (
    Reading,
    ReadingStore,
    migrations,
)
from custom_components.smartmeter.store.model import Capture
from custom_components.smartmeter.store.schema import (
    dsmr_reading,
    metadata,
    meters,
)
from tests.postgres import new_database
from tests.store.versions import database_at_version

T0 = datetime(2025, 3, 30, 0, 0, 5, tzinfo=UTC)
# Told apart by name order, which the migration gives their keys in.
METERS = ("4B384547303034303436333935353037", "E0044007312345617")
# Three hours of readings every 20 s: 540 per meter, and a few more.
SECONDS = range(0, 3 * 3600, 20)
VERSION_5_TABLES = {"meter", "reading_id"}


def reading(meter: int, second: int, *, single_phase: bool = False) -> Reading:
    """Return a meter's reading at a second after T0, every field but when single_phase."""
    wh = Decimal(1_000_000 * (meter + 1) + second).scaleb(-3)
    phases: dict[str, Any] = {
        "phase_currently_delivered_l1": Decimal("0.450"),
        "phase_voltage_l1": Decimal("231.4"),
        "phase_power_current_l1": 2,
    }
    if not single_phase:
        phases |= {
            "phase_currently_delivered_l2": Decimal("1.200"),
            "phase_currently_delivered_l3": Decimal("0.024"),
            "phase_currently_returned_l1": Decimal("0.000"),
            "phase_currently_returned_l2": Decimal("1.500"),
            "phase_currently_returned_l3": Decimal("3.001"),
            "phase_voltage_l2": Decimal("229.9"),
            "phase_voltage_l3": Decimal("999.9"),
            "phase_power_current_l2": 0,
            "phase_power_current_l3": 2**31 - 1,
        }
    gas_time = T0 + timedelta(seconds=second - second % 300 - 5)
    return Reading(
        timestamp=T0 + timedelta(seconds=second),
        electricity_delivered_1=wh,
        electricity_returned_1=Decimal("10.000"),
        electricity_delivered_2=Decimal("999999.999"),
        electricity_returned_2=Decimal("-0.001"),
        electricity_currently_delivered=Decimal("0.244"),
        electricity_currently_returned=Decimal("0.000"),
        extra_device_timestamp=None if single_phase else gas_time,
        extra_device_delivered=None if single_phase else Decimal(4_000_000 + second).scaleb(-3),
        **phases,
    )


def write_fresh(url: str) -> None:
    """Write two meters' readings through the store, and process them."""
    store = ReadingStore.open(url)
    try:
        for second in SECONDS:
            for meter, name in enumerate(METERS):
                store.writer.submit(name, [reading(meter, second, single_phase=meter == 1)])
        # Equal timestamps (ordered by id), a late reading, a capture and statistics.
        store.writer.submit(METERS[0], [reading(0, 40), reading(0, 40)])
        store.writer.submit(
            METERS[1],
            [reading(1, 7, single_phase=True)],
            {"dsmr_version": "50", "power_failure_count": 3},
            [Capture(channel=1, kind="water", captured=T0, value=Decimal("12.345"))],
        )
        for name in METERS:
            store.replace_prices(name, CONTRACTS)
    finally:
        store.close()


def contents(url: str) -> dict[str, Any]:
    """Return each table's definition and rows, in a comparable form."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            schema = inspect(connection)
            found: dict[str, Any] = {}
            for table in sorted(schema.get_table_names()):
                columns = [
                    (column["name"], str(column["type"]), column["nullable"])
                    for column in schema.get_columns(table)
                ]
                rows = connection.execute(text(f'SELECT * FROM "{table}"')).all()
                found[table] = {
                    "columns": columns,
                    "primary key": schema.get_pk_constraint(table),
                    "indexes": sorted(
                        (index["name"], tuple(index["column_names"]))
                        for index in schema.get_indexes(table)
                    ),
                    "unique": sorted(
                        tuple(constraint["column_names"])
                        for constraint in schema.get_unique_constraints(table)
                    ),
                    "rows": sorted(tuple(row) for row in rows),
                }
            return found
    finally:
        engine.dispose()


def write_version_4(fresh_url: str, old_url: str) -> int:
    """Make old_url what release 4 would hold of fresh_url's contents; return its reading count.

    The tables version 5 left alone are copied as they are; the readings as version 4 kept
    them, with the meter's id in every row.
    """
    fresh, old = create_engine(fresh_url), create_engine(old_url)
    try:
        with fresh.connect() as source:
            names = dict(source.execute(select(meters.c.key, meters.c.meter)).tuples().all())
            readings = [
                {**row, "meter": names[row["meter_key"]]}
                for row in source.execute(select(dsmr_reading)).mappings()
            ]
        # Version 2 counts the readings.
        database_at_version(old_url, 4, readings)
        with fresh.connect() as source, old.begin() as target:
            for table in inspect(source).get_table_names():
                if table in (*VERSION_5_TABLES, "dsmr_reading", "reading_count", "schema_version"):
                    continue
                # Version 4's form of the table: the current one.
                definition = metadata.tables[table]
                rows = [dict(row) for row in source.execute(select(definition)).mappings()]
                if rows:
                    target.execute(insert(definition), rows)
        return len(readings)
    finally:
        fresh.dispose()
        old.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def urls(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """Return two empty databases: one written afresh, one to migrate."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}", f"sqlite:///{tmp_path / 'migrated.db'}"
    cluster = request.getfixturevalue("postgres_cluster")
    return new_database(cluster), new_database(cluster)


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Copy 100 readings per transaction: a dozen chunks."""
    monkeypatch.setattr(migrations, "COPY_CHUNK", 100)


@pytest.fixture
def count(urls: tuple[str, str]) -> int:
    """Write the fresh database and its version-4 form; return how many readings they hold."""
    fresh_url, old_url = urls
    write_fresh(fresh_url)
    return write_version_4(fresh_url, old_url)


@pytest.fixture
def engine(urls: tuple[str, str]) -> Iterator[Engine]:
    """Return an engine on the database to migrate."""
    engine = create_engine(urls[1])
    yield engine
    engine.dispose()


def test_migrated_database_equals_a_fresh_one(
    urls: tuple[str, str], count: int, engine: Engine, small_chunks: None
) -> None:
    fresh_url, old_url = urls
    assert count == 2 * len(SECONDS) + 3
    progress: list[tuple[int, int]] = []

    assert migrations.migrate(engine, lambda *made: progress.append(made)) == 5

    # Ids as the fresh database gave them: in turn to the two meters, then the last three.
    assert progress == [(min(n, count), count) for n in range(100, count + 100, 100)]
    migrated = contents(old_url)
    assert migrated == contents(fresh_url)
    assert migrated["meter"]["rows"] == [(1, METERS[0]), (2, METERS[1])]
    assert migrated["reading_id"]["rows"] == [(count,)]
    assert len(migrated["dsmr_reading"]["rows"]) == count


def test_interrupted_migration_resumes(
    urls: tuple[str, str], count: int, engine: Engine, small_chunks: None
) -> None:
    fresh_url, old_url = urls

    def interrupted(copied: int, _highest: int) -> None:
        if copied == 300:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        migrations.migrate(engine, interrupted)
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT version FROM schema_version")) == 4
        assert copied_readings(connection) == (300, count)

    progress: list[tuple[int, int]] = []
    migrations.migrate(engine, lambda *made: progress.append(made))

    assert progress[0] == (400, count)
    assert progress[-1] == (count, count)
    assert contents(old_url) == contents(fresh_url)


def copied_readings(connection: Connection) -> tuple[int, int]:
    """Return the readings in the new table and in the old one, mid-migration."""
    new = connection.scalar(text("SELECT count(*) FROM dsmr_reading"))
    old = connection.scalar(text("SELECT count(*) FROM dsmr_reading_v4"))
    return new, old


def test_opening_a_version_4_database_migrates_it(urls: tuple[str, str], count: int) -> None:
    fresh_url, old_url = urls

    store = ReadingStore.open(old_url)
    try:
        listed, page = store.list_readings(METERS[0], limit=2, offset=2)
        assert listed == len(SECONDS) + 2
        # The two readings at second 40: the one stored last comes last.
        assert [(r.id, r.timestamp) for r in page] == [
            (5, T0 + timedelta(seconds=40)),
            (2 * len(SECONDS) + 1, T0 + timedelta(seconds=40)),
        ]
    finally:
        store.close()
    assert contents(old_url) == contents(fresh_url)
