"""Retention: thinning a meter's old readings, minute and gas records, as DSMR-reader's."""

from __future__ import annotations

from sqlalchemy import Connection, delete, select, update

from .hour_counts import COUNTED_GAS, COUNTED_MINUTES, READINGS, Counted, in_range
from .schema import HOUR_US, processing_state


def thin_processed(connection: Connection, meter: str, older_than: int, max_hours: int) -> int:
    """Thin what processing is done with before older_than (µs); return the rows deleted.

    Every UTC hour with more than 2 rows keeps only its first and last, at most max_hours hours
    of each table: readings made into minute records and peaks, minute and gas records made
    into hour statistics. The counts stay exact.
    """
    state = processing_state.c
    processed = connection.execute(
        select(state.minute_frontier, state.quarter_frontier, state.hour_frontier).where(
            state.meter == meter
        )
    ).first()
    if processed is None:
        return 0
    # Readings the peaks are made of, records the hours are made of.
    readings_until = min(older_than, processed.minute_frontier, processed.quarter_frontier)
    records_until = min(older_than, processed.hour_frontier)
    return sum(
        _thin(connection, counted, meter, until, max_hours)
        for counted, until in (
            (READINGS, readings_until),
            (COUNTED_MINUTES, records_until),
            (COUNTED_GAS, records_until),
        )
    )


def _thin(connection: Connection, counted: Counted, meter: str, until: int, max_hours: int) -> int:
    """Keep the first and last row of a meter's hours before until with more than 2 rows.

    At most max_hours hours; return how many rows were deleted.
    """
    counts = counted.counts.c
    key = [counts[name] == value for name, value in counted.key.items()]
    hours = connection.scalars(
        select(counts.hour)
        .where(
            *key,
            counts.meter == meter,
            counts[counted.number] > 2,
            counts.hour < until // HOUR_US,
        )
        .order_by(counts.hour)
        .limit(max_hours)
    ).all()
    table = counted.table
    time = table.c[counted.time]
    deleted = 0
    for hour in hours:
        in_hour = in_range(counted, meter, hour * HOUR_US, (hour + 1) * HOUR_US - 1)
        first = select(table.c.id).where(*in_hour).order_by(time, table.c.id).limit(1)
        last = select(table.c.id).where(*in_hour).order_by(time.desc(), table.c.id.desc()).limit(1)
        kept = [connection.scalar(first), connection.scalar(last)]
        deleted += connection.execute(
            delete(table).where(*in_hour, table.c.id.not_in(kept))
        ).rowcount
        connection.execute(
            update(counted.counts)
            .where(*key, counts.meter == meter, counts.hour == hour)
            .values({counted.number: 2})
        )
    return deleted
