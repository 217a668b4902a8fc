"""Databases as earlier releases left them, for the migrations' tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import create_engine, insert

from custom_components.smartmeter.store import migrations
from custom_components.smartmeter.store.schema import schema_version


def database_at_version(url: str, version: int, readings: Sequence[Mapping[str, object]]) -> None:
    """Make an empty database one of schema version, holding readings as version 1 kept them.

    readings are dsmr_reading rows with the meter's id (model.reading_to_row), with or
    without their ids; the migrations after version 1 make of them what they made.
    """
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            schema_version.create(connection)
            migrations.MIGRATIONS[0](connection)
            if readings:
                connection.execute(insert(migrations.readings_version_1), list(readings))
            for step in migrations.MIGRATIONS[1:version]:
                step(connection)
            connection.execute(insert(schema_version).values(version=version))
    finally:
        engine.dispose()
