"""Versioned schema migrations, each applied in its own transaction with its version number."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Engine, delete, insert, select

from .errors import StoreError
from .schema import dsmr_reading, meter_statistics, schema_version


def _create_tables(connection: Connection) -> None:
    """Version 1: readings and meter statistics."""
    # Built from the current definitions: once a later migration changes one of these tables,
    # spell out its version-1 form here, so that a new database still passes every step.
    dsmr_reading.create(connection)
    meter_statistics.create(connection)


# Migration n (counting from 1) brings a database from version n - 1 to version n.
MIGRATIONS: tuple[Callable[[Connection], None], ...] = (_create_tables,)


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
