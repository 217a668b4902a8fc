"""Versioned schema migrations, each applied in its own transaction with its version number.

A migration that rewrites many rows is prepared first, in chunks of their own transactions that
an interruption leaves done: the next start resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
import logging
import sqlite3
from typing import Final, cast

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Engine,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    delete,
    func,
    insert,
    inspect,
    select,
    update,
)

from .errors import StoreError
from .schema import (
    HOUR_US,
    ROW_ID,
    day_statistics,
    dsmr_reading,
    electricity_consumption,
    energy_supplier_price,
    gas_consumption,
    hour_statistics,
    mbus_capture,
    meter_statistics,
    meters,
    processing_state,
    quarter_hour_peak,
    reading_count,
    reading_id,
    record_count,
    schema_version,
)
from .sql import div_floor

_LOGGER: Final = logging.getLogger(__name__)

# Called with how far a long migration got: the last reading id it copied, and the highest.
type Progress = Callable[[int, int], None]

# dsmr_reading as versions 1 to 4 had it: a row id, the meter's id in every row, and an index.
_VERSION_1: Final = MetaData()
readings_version_1: Final = Table(
    "dsmr_reading",
    _VERSION_1,
    Column("id", ROW_ID, primary_key=True, autoincrement=True),
    Column("meter", String(64), nullable=False),
    *(
        Column(
            column.name,
            Integer if isinstance(column.type, SmallInteger) else column.type,
            nullable=column.nullable,
        )
        for column in dsmr_reading.columns
        if column.name not in ("id", "meter_key")
    ),
    Index("ix_dsmr_reading_meter_timestamp", "meter", "timestamp"),
)


def _create_tables(connection: Connection) -> None:
    """Version 1: readings and meter statistics."""
    readings_version_1.create(connection)
    # Built from the current definition, which later versions left as it was: once a later
    # migration changes it, spell out its version-1 form here, as the readings'.
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
            select(meters.c.meter, hour, func.count())
            .join_from(dsmr_reading, meters, meters.c.key == dsmr_reading.c.meter_key)
            .group_by(meters.c.meter, hour),
        )
    )


def _create_reading_count(connection: Connection) -> None:
    """Version 2: readings per meter and hour, for fast counts."""
    # As with version 1: spell out this version's form once a later migration changes it.
    reading_count.create(connection)
    readings = readings_version_1.c
    hour = _hour(readings.timestamp)
    connection.execute(
        insert(reading_count).from_select(
            ["meter", "hour", "readings"],
            select(readings.meter, hour, func.count()).group_by(readings.meter, hour),
        )
    )


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


# The readings of versions 1 to 4 while version 5 copies them.
_OLD_READINGS: Final = "dsmr_reading_v4"
# Readings copied per transaction: a few seconds' work, a fraction of a percent of a year.
COPY_CHUNK = 100_000


def _start_clustering(connection: Connection) -> Table:
    """Set aside the version-4 readings and create version 5's tables, unless done before.

    Return the table of the old readings.
    """
    old = readings_version_1.to_metadata(MetaData(), name=_OLD_READINGS)
    if inspect(connection).has_table(_OLD_READINGS):
        return old
    connection.exec_driver_sql(f"ALTER TABLE dsmr_reading RENAME TO {_OLD_READINGS}")
    for table in (meters, reading_id, dsmr_reading):
        table.create(connection)
    connection.execute(insert(reading_id).values(last=0))
    # Each meter by an index seek: the smallest id after the one before.
    meter = connection.scalar(select(func.min(old.c.meter)))
    while meter is not None:
        connection.execute(insert(meters).values(meter=meter))
        meter = connection.scalar(select(func.min(old.c.meter)).where(old.c.meter > meter))
    return old


def _copy_readings(connection: Connection, old: Table) -> tuple[int, int]:
    """Copy the next COPY_CHUNK old readings, in id order, with their meter's key.

    Return the last id copied so far and the highest of the old readings (0 without any).
    """
    copied: int = connection.execute(select(reading_id.c.last)).scalar_one()
    chunk = select(old.c.id).where(old.c.id > copied).order_by(old.c.id).limit(COPY_CHUNK)
    until = connection.scalar(select(func.max(chunk.subquery().c.id)))
    highest: int = connection.scalar(select(func.max(old.c.id))) or 0
    if until is None:
        return copied, highest
    values = [column.name for column in dsmr_reading.columns if column.name != "meter_key"]
    connection.execute(
        insert(dsmr_reading).from_select(
            ["meter_key", *values],
            select(meters.c.key, *(old.c[name] for name in values))
            .join_from(old, meters, meters.c.meter == old.c.meter)
            .where(old.c.id > copied, old.c.id <= until),
        )
    )
    connection.execute(update(reading_id).values(last=until))
    return until, highest


def _prepare_clustering(engine: Engine, progress: Progress) -> None:
    """Copy the readings for version 5 a chunk per transaction, from where an earlier run got."""
    with engine.begin() as connection:
        old = _start_clustering(connection)
    while True:
        with engine.begin() as connection:
            copied, highest = _copy_readings(connection, old)
        progress(copied, highest)
        if copied == highest:
            return


def _cluster_readings(connection: Connection) -> None:
    """Version 5: readings name their meter by a key, and are the B-tree of their primary key.

    The readings left to copy are copied here, and the version-4 table dropped.
    """
    old = _start_clustering(connection)
    while True:
        copied, highest = _copy_readings(connection, old)
        if copied == highest:
            break
    old.drop(connection)


def _compact_sqlite(engine: Engine) -> None:
    """Give the pages of the dropped version-4 readings back to the file system (SQLite).

    If it is interrupted, nothing is lost: the free pages are used by later readings.
    """
    if engine.dialect.name != "sqlite":
        return
    _LOGGER.info("Compacting the reading database %s", engine.url.database)
    # On the driver's connection, outside the transaction that SQLAlchemy's would begin.
    connection = engine.raw_connection()
    try:
        cast(sqlite3.Connection, connection.driver_connection).execute("VACUUM")
    finally:
        connection.close()


# Migration n (counting from 1) brings a database from version n - 1 to version n.
MIGRATIONS: tuple[Callable[[Connection], None], ...] = (
    _create_tables,
    _create_reading_count,
    _create_processing,
    _create_mbus_capture,
    _cluster_readings,
)
# Work done before a migration, resumable, in transactions of its own; and after it.
_PREPARATIONS: Final[Mapping[int, Callable[[Engine, Progress], None]]] = {5: _prepare_clustering}
_FOLLOW_UPS: Final[Mapping[int, Callable[[Engine], None]]] = {5: _compact_sqlite}


def _ignore_progress(_copied: int, _highest: int) -> None:
    pass


def migrate(engine: Engine, progress: Progress | None = None) -> int:
    """Apply the migrations the database lacks; return its version, now the latest.

    progress is called on the thread of the migration after each chunk of a long one.
    """
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
        # Only for a database with something to migrate: a new one has nothing to copy.
        if number in _PREPARATIONS and version:
            _PREPARATIONS[number](engine, progress or _ignore_progress)
        with engine.begin() as connection:
            MIGRATIONS[number - 1](connection)
            connection.execute(delete(schema_version))
            connection.execute(insert(schema_version).values(version=number))
        if number in _FOLLOW_UPS and version:
            _FOLLOW_UPS[number](engine)
    return latest
