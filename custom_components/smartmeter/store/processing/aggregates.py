"""What a meter's readings add up to: minute records, quarter-hour peaks, a day's first values."""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Final

from sqlalchemy import Connection, func, select

from ..schema import dsmr_reading, meter_key, quarter_hour_peak
from ..sql import div_floor, upsert
from .times import GAS_WAIT_US, MINUTE_US, QUARTER_US

# Minute records: the highest of each position, the average of the rest (reading column names).
POSITIONS: Final = {
    "delivered_1": "electricity_delivered_1",
    "returned_1": "electricity_returned_1",
    "delivered_2": "electricity_delivered_2",
    "returned_2": "electricity_returned_2",
}
_AVERAGED: Final = {
    "currently_delivered": "electricity_currently_delivered",
    "currently_returned": "electricity_currently_returned",
    **{
        name: name
        for name in (
            "phase_currently_delivered_l1",
            "phase_currently_delivered_l2",
            "phase_currently_delivered_l3",
            "phase_currently_returned_l1",
            "phase_currently_returned_l2",
            "phase_currently_returned_l3",
            "phase_voltage_l1",
            "phase_voltage_l2",
            "phase_voltage_l3",
        )
    },
}
_TRUNCATED: Final = ("phase_power_current_l1", "phase_power_current_l2", "phase_power_current_l3")


def round_half_up(value: Fraction) -> int:
    """Round to a whole number, halves away from zero."""
    magnitude = int(abs(value) + Fraction(1, 2))
    return magnitude if value >= 0 else -magnitude


def minute_records(
    connection: Connection, meter: str, start: int, end: int
) -> list[dict[str, object]]:
    """Return the minute records of a meter's readings from start to end (µs, end excluded)."""
    reading = dsmr_reading.c
    minute = div_floor(reading.timestamp, MINUTE_US)
    columns: list[Any] = [minute.label("minute")]
    columns += [func.max(reading[column]).label(name) for name, column in POSITIONS.items()]
    for name in (*_AVERAGED, *_TRUNCATED):
        column = reading[_AVERAGED.get(name, name)]
        columns += [
            func.sum(column).label(f"{name}_sum"),
            func.count(column).label(f"{name}_n"),
        ]
    rows = connection.execute(
        select(*columns)
        .where(
            reading.meter_key == meter_key(meter),
            reading.timestamp >= start,
            reading.timestamp < end,
        )
        .group_by(minute)
        .order_by(minute)
    ).mappings()
    records = []
    for row in rows:
        record: dict[str, object] = {"read_at": (row["minute"] + 1) * MINUTE_US}
        record.update({name: row[name] for name in POSITIONS})
        for name in (*_AVERAGED, *_TRUNCATED):
            total, n = row[f"{name}_sum"], row[f"{name}_n"]
            if not n:
                record[name] = None
            elif name in _TRUNCATED:
                record[name] = int(Fraction(int(total), n))
            else:
                record[name] = round(Fraction(int(total), n))
        records.append(record)
    return records


def write_peaks(connection: Connection, meter: str, start: int, end: int) -> None:
    """Make (or remake) a meter's peaks of the quarters from start to end (µs, end excluded)."""
    if start >= end:
        return
    reading = dsmr_reading.c
    mine = reading.meter_key == meter_key(meter)
    quarter = div_floor(reading.timestamp, QUARTER_US)
    buckets = {
        index * QUARTER_US: (first, last, n)
        for index, first, last, n in connection.execute(
            select(quarter, func.min(reading.timestamp), func.max(reading.timestamp), func.count())
            .where(mine, reading.timestamp >= start, reading.timestamp <= end)
            .group_by(quarter)
        ).tuples()
    }
    spans: dict[int, tuple[int, int]] = {}
    for quarter_start, (first, latest, n) in buckets.items():
        if quarter_start >= end:
            continue
        following = buckets.get(quarter_start + QUARTER_US)
        # A reading at the quarter's end belongs to it too.
        at_end = following is not None and following[0] == quarter_start + QUARTER_US
        last = quarter_start + QUARTER_US if at_end else latest
        if n + at_end >= 2 and last > first:
            spans[quarter_start] = (first, last)
    if not spans:
        return
    times = {time_us for span in spans.values() for time_us in span}
    # Of readings with equal timestamps, the first is the first and the last the last.
    positions: dict[int, list[int]] = {}
    for timestamp, position in connection.execute(
        select(reading.timestamp, reading.electricity_delivered_1 + reading.electricity_delivered_2)
        .where(mine, reading.timestamp.in_(times))
        .order_by(reading.timestamp, reading.id)
    ).tuples():
        positions.setdefault(timestamp, []).append(position)
    peaks = []
    for quarter_start, (first, last) in sorted(spans.items()):
        used_wh = positions[last][-1] - positions[first][0]
        # Wh per µs to W, rounded half up to a whole W (3 decimals of kW).
        watts = round_half_up(Fraction(used_wh * 3_600_000_000, last - first))
        peaks.append(
            {
                "meter": meter,
                "read_at_start": first,
                "read_at_end": last,
                "average_delivered": watts,
                "quarter_start": quarter_start,
            }
        )
    statement = upsert(connection, quarter_hour_peak)
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=[quarter_hour_peak.c.meter, quarter_hour_peak.c.quarter_start],
            set_={
                name: statement.excluded[name]
                for name in ("read_at_start", "read_at_end", "average_delivered")
            },
        ),
        peaks,
    )


def day_start(
    connection: Connection, meter: str, start: int, end: int, *, with_gas: bool
) -> dict[str, object]:
    """Return the meter positions of a day's first reading, and (with_gas) of its first gas."""
    reading = dsmr_reading.c
    mine = reading.meter_key == meter_key(meter)
    first = connection.execute(
        select(
            reading.timestamp,
            reading.electricity_delivered_1,
            reading.electricity_delivered_2,
            reading.electricity_returned_1,
            reading.electricity_returned_2,
        )
        .where(mine, reading.timestamp >= start, reading.timestamp < end)
        .order_by(reading.timestamp, reading.id)
        .limit(1)
    ).first()
    values: dict[str, object] = dict.fromkeys(
        (
            "electricity_reading_timestamp",
            "electricity1_reading",
            "electricity2_reading",
            "electricity1_returned_reading",
            "electricity2_returned_reading",
            "gas_reading_timestamp",
            "gas_reading",
        )
    )
    if first is not None:
        values.update(
            zip(
                (
                    "electricity_reading_timestamp",
                    "electricity1_reading",
                    "electricity2_reading",
                    "electricity1_returned_reading",
                    "electricity2_returned_reading",
                ),
                first,
                strict=True,
            )
        )
    if with_gas:
        # A gas timestamp is never after its reading's, and at most an hour before it.
        gas = connection.execute(
            select(reading.extra_device_timestamp, reading.extra_device_delivered)
            .where(
                mine,
                reading.timestamp >= start,
                reading.timestamp < end + GAS_WAIT_US,
                reading.extra_device_timestamp >= start,
                reading.extra_device_timestamp < end,
            )
            .order_by(reading.timestamp, reading.id)
            .limit(1)
        ).first()
        if gas is not None:
            values["gas_reading_timestamp"], values["gas_reading"] = gas
    return values
