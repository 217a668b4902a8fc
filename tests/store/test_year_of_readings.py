"""The benchmark's in-database generation makes the database that writing the readings makes."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, create_engine, text

from bench.year_of_readings import CONTRACTS, METER, TIME_ZONE, generate
from custom_components.smartmeter.store.schema import metadata
from custom_components.smartmeter.store.store import ReadingStore

# Two hours and a bit: whole and partial hours, 25 gas positions, a few quarters.
COUNT = 7_500


@pytest.fixture
def written_url(store_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """Return a second empty database next to store_url's."""
    if store_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'written.db'}"
    cluster: Path = request.getfixturevalue("postgres_cluster")
    with psycopg.connect(
        host=str(cluster), user="postgres", dbname="postgres", autocommit=True
    ) as connection:
        connection.execute("CREATE DATABASE written")
    return f"postgresql+psycopg://postgres@/written?host={cluster}"


def _schema(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            statement = (
                "SELECT table_name, column_name, ordinal_position, data_type, is_nullable, "
                "column_default FROM information_schema.columns WHERE table_schema = 'public' "
                "UNION ALL SELECT tablename, indexname, 0, indexdef, '', '' FROM pg_indexes "
                "WHERE schemaname = 'public' ORDER BY 1, 3, 2"
            )
        else:
            statement = "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY name"
        return [tuple(row) for row in connection.execute(text(statement))]


def _contents(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as connection:
        return {
            table.name: [
                tuple(row)
                for row in connection.execute(
                    table.select().order_by(*table.primary_key or table.c)
                )
            ]
            for table in metadata.sorted_tables
        }


def test_generated_equals_written(store_url: str, written_url: str) -> None:
    timings = generate(store_url, COUNT)
    assert set(timings) >= {"readings", "reading_count", "processing"}

    generated = ReadingStore.open(store_url, time_zone=TIME_ZONE)
    count, readings = generated.list_readings(METER, limit=COUNT + 1)
    generated.close()
    assert count == len(readings) == COUNT
    positions = [
        reading.electricity_delivered_1 + reading.electricity_delivered_2 for reading in readings
    ]
    assert positions == sorted(positions)
    assert positions[-1] > positions[0]

    written = ReadingStore.open(written_url, time_zone=TIME_ZONE)
    try:
        for start in range(0, COUNT, 1_000):
            written.writer.submit(METER, readings[start : start + 1_000]).result()
        written.replace_prices(METER, CONTRACTS)
    finally:
        written.close()

    engines = [create_engine(store_url), create_engine(written_url)]
    try:
        generated_schema, written_schema = (_schema(engine) for engine in engines)
        generated_contents, written_contents = (_contents(engine) for engine in engines)
    finally:
        for engine in engines:
            engine.dispose()
    assert generated_schema == written_schema
    assert generated_contents == written_contents
    assert len(generated_contents["dsmr_reading"]) == COUNT
    assert len(generated_contents["electricity_consumption"]) == COUNT // 60 - 1
