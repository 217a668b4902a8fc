"""What a commit of readings writes besides them, and its statements compiled once.

The readings' ids and meter keys, their hour counts, a partial update of the meter's statistics
and the captures worth keeping; the facade's statistics updates use the same statements.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final, cast

from sqlalchemy import Connection, Engine, Select, Table, bindparam, insert, select, update

from .driver import DriverStatement, execute, returned
from .model import StatisticsValue, datetime_to_us
from .schema import (
    HOUR_US,
    dsmr_reading,
    mbus_capture,
    meter_statistics,
    meters,
    reading_count,
    reading_id,
)
from .sql import upsert

# Takes the next ids, returning the last of them.
_TAKE_IDS: Final = (
    update(reading_id)
    .values(last=reading_id.c.last + bindparam("ids"))
    .returning(reading_id.c.last)
)
# Adds to an hour's count.
_ADD_TO_COUNT: Final = (
    update(reading_count)
    .where(
        reading_count.c.meter == bindparam("count_meter"),
        reading_count.c.hour == bindparam("count_hour"),
    )
    .values(readings=reading_count.c.readings + bindparam("count_readings"))
)
# The SET clause follows the names of the values it is compiled for.
_UPDATE_STATISTICS: Final = update(meter_statistics).where(
    meter_statistics.c.meter == bindparam("statistics_meter")
)


class CommitStatements:
    """The statements of every commit of readings, compiled for one database's driver."""

    def __init__(self, engine: Engine) -> None:
        """Compile for the engine's dialect."""
        self._dialect = engine.dialect
        self.insert_reading = DriverStatement(
            insert(dsmr_reading), self._dialect, _columns(dsmr_reading)
        )
        self.take_ids = DriverStatement(_TAKE_IDS, self._dialect)
        self.add_to_count = DriverStatement(_ADD_TO_COUNT, self._dialect)
        self.insert_capture = DriverStatement(
            upsert(engine, mbus_capture).on_conflict_do_nothing(),
            self._dialect,
            _columns(mbus_capture),
        )
        # Per set of statistics updated together: the few sets that the code writes.
        self._update_statistics: dict[tuple[str, ...], DriverStatement] = {}

    def update_statistics(self, names: tuple[str, ...]) -> DriverStatement:
        """Return the UPDATE of a meter's statistics that sets the named ones."""
        statement = self._update_statistics.get(names)
        if statement is None:
            statement = DriverStatement(_UPDATE_STATISTICS, self._dialect, names)
            self._update_statistics[names] = statement
        return statement


def _columns(table: Table, *leaving_out: str) -> list[str]:
    return [column.key for column in table.columns if column.key not in leaving_out]


def insert_readings(
    connection: Connection,
    statements: CommitStatements,
    rows: list[dict[str, object]],
    keys: Mapping[str, int],
) -> list[int]:
    """Insert dsmr_reading rows of meters with keys, giving each the next id; return the ids.

    Sets each row's id and meter_key.
    """
    if not rows:
        return []
    last = cast(int, returned(connection, statements.take_ids, {"ids": len(rows)}))
    ids = list(range(last - len(rows) + 1, last + 1))
    for row, row_id in zip(rows, ids, strict=True):
        row["id"] = row_id
        row["meter_key"] = keys[cast(str, row["meter"])]
        execute(connection, statements.insert_reading, row)
    return ids


def add_meter_keys(
    connection: Connection, known: Mapping[str, int], names: Iterable[str]
) -> dict[str, int]:
    """Return the keys of meters, known ones and those read or made in the transaction."""
    keys = dict(known)
    for meter in sorted(set(names) - keys.keys()):
        # ON CONFLICT, should another writer add the meter meanwhile.
        connection.execute(upsert(connection, meters).values(meter=meter).on_conflict_do_nothing())
        keys[meter] = connection.execute(
            select(meters.c.key).where(meters.c.meter == meter)
        ).scalar_one()
    return keys


def count_readings(
    connection: Connection, statements: CommitStatements, rows: list[dict[str, object]]
) -> None:
    """Add new dsmr_reading rows to reading_count, in their transaction."""
    counts = Counter(
        (cast(str, row["meter"]), cast(int, row["timestamp"]) // HOUR_US) for row in rows
    )
    # In key order, so that two writers on one PostgreSQL database cannot deadlock here.
    for (meter, hour), n in sorted(counts.items()):
        added, _ = execute(
            connection,
            statements.add_to_count,
            {"count_meter": meter, "count_hour": hour, "count_readings": n},
        )
        if added == 0:
            # The hour's first readings; an upsert, should another writer make the row meanwhile.
            statement = upsert(connection, reading_count)
            connection.execute(
                statement.values(meter=meter, hour=hour, readings=n).on_conflict_do_update(
                    index_elements=[reading_count.c.meter, reading_count.c.hour],
                    set_={"readings": reading_count.c.readings + statement.excluded.readings},
                )
            )


def select_statistics(meter: str) -> Select[Any]:
    """Return the query of a meter's statistics row."""
    return select(meter_statistics).where(meter_statistics.c.meter == meter)


def ensure_statistics(connection: Connection, meter: str) -> None:
    """Create a meter's statistics row with its defaults unless it exists (django-solo's way)."""
    values = {"meter": meter, "timestamp": datetime_to_us(datetime.now(UTC))}
    # ON CONFLICT, so that two first calls at once do not both insert.
    connection.execute(upsert(connection, meter_statistics).values(values).on_conflict_do_nothing())


def update_statistics(
    connection: Connection,
    statements: CommitStatements,
    meter: str,
    values: Mapping[str, StatisticsValue],
) -> None:
    """Set some of a meter's statistics, creating its row with the defaults first if missing."""
    if not values:
        ensure_statistics(connection, meter)
        return
    statement = statements.update_statistics(tuple(values))
    parameters = {**values, "statistics_meter": meter}
    # The row exists but for a meter's first telegram: update first, create when missing.
    if execute(connection, statement, parameters)[0] == 0:
        ensure_statistics(connection, meter)
        execute(connection, statement, parameters)


type CaptureKey = tuple[str, str, int]


def _capture_key(row: Mapping[str, object]) -> CaptureKey:
    return cast(str, row["meter"]), cast(str, row["kind"]), cast(int, row["channel"])


def new_captures(
    rows: list[dict[str, object]], newest: Mapping[CaptureKey, tuple[int, int]]
) -> tuple[list[dict[str, object]], dict[CaptureKey, tuple[int, int]]]:
    """Return the capture rows that add to the newest ones, and the newest ones with them.

    A meter repeats its last capture in every telegram until the next, and a heat meter may
    stamp each telegram anew at the same position: only what may change a position is kept.
    An earlier capture is kept whatever its value (a datalogger catching up); one already
    stored is ignored by the insert.
    """
    seen = dict(newest)
    kept: list[dict[str, object]] = []
    for row in rows:
        key = _capture_key(row)
        captured, value = cast(int, row["captured"]), cast(int, row["value"])
        known = seen.get(key)
        if known is not None and (
            captured == known[0] or (captured > known[0] and value == known[1])
        ):
            continue
        kept.append(row)
        if known is None or captured > known[0]:
            seen[key] = (captured, value)
    return kept, seen
