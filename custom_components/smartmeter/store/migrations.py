"""Versioned schema migrations, each applied in its own transaction with its version number."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import ColumnElement, Connection, Engine, delete, func, insert, select

from .errors import StoreError
from .schema import (
    HOUR_US,
    day_statistics,
    dsmr_reading,
    electricity_consumption,
    energy_supplier_price,
    gas_consumption,
    hour_statistics,
    mbus_capture,
    meter_statistics,
    processing_state,
    quarter_hour_peak,
    reading_count,
    record_count,
    schema_version,
)
from .sql import div_floor


def _create_tables(connection: Connection) -> None:
    """Version 1: readings and meter statistics."""
    # Built from the current definitions, which version 2 left as they were: once a later
    # migration changes one of these tables, spell out its version-1 form here, so that a new
    # database still passes every step.
    dsmr_reading.create(connection)
    meter_statistics.create(connection)


def _hour(timestamp: ColumnElement[int]) -> ColumnElement[int]:
    """Return the hour of microseconds since the epoch, rounded down like Python's //."""
    return div_floor(timestamp, HOUR_US)


def count_readings(connection: Connection) -> None:
    """Fill an empty reading_count from the readings (also the benchmark's bulk path)."""
    hour = _hour(dsmr_reading.c.timestamp)
    connection.execute(
        insert(reading_count).from_select(
            ["meter", "hour", "readings"],
            select(dsmr_reading.c.meter, hour, func.count()).group_by(dsmr_reading.c.meter, hour),
        )
    )


def _create_reading_count(connection: Connection) -> None:
    """Version 2: readings per meter and hour, for fast counts."""
    # As with version 1: spell out this version's form once a later migration changes it.
    reading_count.create(connection)
    count_readings(connection)


def _create_processing(connection: Connection) -> None:
    """Version 3: what processing makes of the readings, and how far it got per meter.

    Empty: processing starts at each meter's first reading, so readings stored before are
    processed too.
    """
    # As with version 1: spell out this version's form once a later migration changes it.
    for table in (
        electricity_consumption,
        gas_consumption,
        quarter_hour_peak,
        hour_statistics,
        day_statistics,
        energy_supplier_price,
        record_count,
        processing_state,
    ):
        table.create(connection)


def _create_mbus_capture(connection: Connection) -> None:
    """Version 4: positions of M-Bus water and heat meters.

    Empty: older releases kept none; they are captured from the next telegram on.
    """
    # As with version 1: spell out this version's form once a later migration changes it.
    mbus_capture.create(connection)


# Migration n (counting from 1) brings a database from version n - 1 to version n.
MIGRATIONS: tuple[Callable[[Connection], None], ...] = (
    _create_tables,
    _create_reading_count,
    _create_processing,
    _create_mbus_capture,
)


def migrate(engine: Engine) -> int:
    """Apply the migrations the database lacks; return its version, now the latest."""
    latest = len(MIGRATIONS)
    with engine.begin() as connection:
        schema_version.create(connection, checkfirst=True)
        version: int = connection.scalar(select(schema_version.c.version)) or 0
    if version > latest:
        raise StoreError(
            f"the reading database has schema version {version}, newer than this code's "
            f"{latest}: it was written by a newer release"
        )
    for number in range(version + 1, latest + 1):
        with engine.begin() as connection:
            MIGRATIONS[number - 1](connection)
            connection.execute(delete(schema_version))
            connection.execute(insert(schema_version).values(version=number))
    return latest
