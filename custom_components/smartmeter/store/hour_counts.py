"""Rows counted per meter and UTC hour: counts of a time range, and deep offsets, by hour.

reading_count and record_count keep how many readings, minute records and gas records each
meter has per UTC hour (the writer and processing add to them as they write). Counting a range
adds up its whole hours and counts the rows of the partial hours at its ends, so a year counts
about as fast as a day; a deep offset skips whole hours by their counts too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from sqlalchemy import ColumnElement, Connection, Table, func, select

from .schema import (
    HOUR_US,
    dsmr_reading,
    electricity_consumption,
    gas_consumption,
    meter_key,
    reading_count,
    record_count,
)
from .sql import upsert


@dataclass(frozen=True, slots=True)
class Counted:
    """Rows counted per meter and UTC hour of a time column, for fast counts of a range."""

    table: Table
    time: str
    counts: Table
    number: str
    # Further key columns of the counts' rows: which table they count.
    key: Mapping[str, str]


READINGS: Final = Counted(dsmr_reading, "timestamp", reading_count, "readings", {})
COUNTED_MINUTES: Final = Counted(
    electricity_consumption,
    "read_at",
    record_count,
    "records",
    {"record": electricity_consumption.name},
)
COUNTED_GAS: Final = Counted(
    gas_consumption, "read_at", record_count, "records", {"record": gas_consumption.name}
)


def in_range(
    counted: Counted, meter: str, low: int | None, high: int | None
) -> list[ColumnElement[bool]]:
    """Return the conditions of a meter's rows from low to high (inclusive, µs)."""
    table = counted.table
    # Readings name their meter by its key.
    conditions = [
        table.c.meter_key == meter_key(meter) if table is dsmr_reading else table.c.meter == meter
    ]
    if low is not None:
        conditions.append(table.c[counted.time] >= low)
    if high is not None:
        conditions.append(table.c[counted.time] <= high)
    return conditions


def _counted_hours(
    counted: Counted, meter: str, first: int | None, last: int | None
) -> list[ColumnElement[bool]]:
    """Return the conditions of a meter's hour counts from first to last (hours, inclusive)."""
    counts = counted.counts.c
    hours = [counts.meter == meter, *(counts[name] == value for name, value in counted.key.items())]
    if first is not None:
        hours.append(counts.hour >= first)
    if last is not None:
        hours.append(counts.hour <= last)
    return hours


def count_in_range(
    counted: Counted, meter: str, low: int | None, high: int | None
) -> ColumnElement[int]:
    """Return an expression of how many of a meter's rows lie from low to high (inclusive).

    It adds up the counts of the whole hours in the range and counts the rows of the partial
    hours at its ends. One statement, so that PostgreSQL takes one snapshot for all its parts.
    """

    def counted_rows(low: int | None, high: int | None) -> ColumnElement[int]:
        query = (
            select(func.count())
            .select_from(counted.table)
            .where(*in_range(counted, meter, low, high))
        )
        return query.scalar_subquery()

    # The whole hours in the range: those from first to last.
    first = None if low is None else -(-low // HOUR_US)
    last = None if high is None else (high + 1) // HOUR_US - 1
    if first is not None and last is not None and first > last:
        # Less than two hours (or nothing, when low > high): count the rows themselves.
        return counted_rows(low, high)
    counts = counted.counts.c
    hours = _counted_hours(counted, meter, first, last)
    whole = select(func.sum(counts[counted.number])).where(*hours).scalar_subquery()
    total: ColumnElement[int] = func.coalesce(whole, 0)
    if low is not None and first is not None and low < first * HOUR_US:
        total += counted_rows(low, first * HOUR_US - 1)
    if high is not None and last is not None and high >= (last + 1) * HOUR_US:
        total += counted_rows((last + 1) * HOUR_US, high)
    return total


# Offsets from which list_readings skips whole hours by their counts. The databases step through
# the rows an offset skips, about 0.1 µs each on SQLite and 0.3-1.5 µs on PostgreSQL (which
# visits each row): 1-2 s and 20-25 s for half a year of one-second readings. Adding up the
# counts takes 5-15 ms for a year's hours, as long as skipping ~10,000 rows.
SEEK_FROM: Final = 10_000


def seek(
    connection: Connection,
    counted: Counted,
    meter: str,
    low: int | None,
    high: int | None,
    *,
    offset: int,
    descending: bool,
) -> tuple[int | None, int | None, int]:
    """Return a narrower range and smaller offset that select the same rows as those given.

    The rows skipped are the partial hour at the range's start (its end when descending),
    counted, then the whole hours that the offset passes, added up from their counts in the
    order of the page. Needs the counts of the transaction's snapshot.
    """
    unchanged = (low, high, offset)
    first = None if low is None else -(-low // HOUR_US)
    last = None if high is None else (high + 1) // HOUR_US - 1
    # The partial hour the page starts in, before any whole one.
    if descending:
        partial = None if high is None or last is None else ((last + 1) * HOUR_US, high)
    else:
        partial = None if low is None or first is None else (low, first * HOUR_US - 1)
    if partial is not None and partial[0] <= partial[1]:
        offset -= connection.execute(
            select(func.count())
            .select_from(counted.table)
            .where(*in_range(counted, meter, *partial))
        ).scalar_one()
        if offset < 0:
            return unchanged
    counts = counted.counts.c
    hours = _counted_hours(counted, meter, first, last)
    number = counts[counted.number]
    direction = counts.hour.desc() if descending else counts.hour
    # Per hour, the rows of the whole hours before it in the page's order.
    walked = (
        select(
            counts.hour,
            number,
            (func.sum(number).over(order_by=direction) - number).label("before"),
        )
        .where(*hours)
        .subquery()
    )
    found = connection.execute(
        select(walked.c.hour, walked.c.before)
        .where(walked.c.before + walked.c[counted.number] > offset)
        .order_by(walked.c.hour.desc() if descending else walked.c.hour)
        .limit(1)
    ).first()
    if found is None:
        # Past every whole hour: on into the partial hour at the other end, if any.
        end, total = connection.execute(
            select(
                func.min(counts.hour) if descending else func.max(counts.hour), func.sum(number)
            ).where(*hours)
        ).one()
        if end is None:
            return unchanged
        hour, before = (end - 1 if descending else end + 1), total
    else:
        hour, before = found
    if descending:
        return low, (hour + 1) * HOUR_US - 1, offset - before
    return hour * HOUR_US, high, offset - before


def add_record_counts(
    connection: Connection, record: str, meter: str, times: Iterable[int]
) -> None:
    """Add records at these times (µs) to record_count."""
    counts = Counter(time_us // HOUR_US for time_us in times)
    statement = upsert(connection, record_count)
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=[record_count.c.record, record_count.c.meter, record_count.c.hour],
            set_={"records": record_count.c.records + statement.excluded.records},
        ),
        # In key order, so that two writers on one PostgreSQL database cannot deadlock here.
        [
            {"record": record, "meter": meter, "hour": hour, "records": n}
            for hour, n in sorted(counts.items())
        ],
    )
