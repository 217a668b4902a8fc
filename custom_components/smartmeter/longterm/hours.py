"""A meter's energy and gas per UTC hour, from its readings and by the meter's own timestamps.

The position P(t) of a meter at a time t is that of its last reading stamped at or before t (by
timestamp, then id); before its first reading, that of the first. An hour's energy is
P(end) - P(start) per position, so consecutive hours telescope: nothing is lost or counted twice
at their boundaries, and a reading stamped exactly on the hour belongs to the hour it ends.
An outage puts all its energy into the hour in which readings resume; readings that arrive
later for the gap (a datalogger catching up, an API import) move it to where it belongs.

Gas is the same over the gas meter's own capture times: G(t) is the position captured at t if
a telegram within two hours after t shows that capture, else the capture shown by the last
reading at or before t. DSMR meters capture on the hour (and every 5 minutes for DSMR 5), so
an hour's gas is exactly what the meter measured in it. A gas value of 0 is no value, as
DSMR-reader takes it. Gas counts from the first capture the readings show.

A position that drops is a replaced (or reset) meter: that hour's energy is then the sum of the
rises between its readings, so the drop is not counted and the new meter's first position is
not counted as consumption either, and the drop is reported. A gas drop only shows between
boundary positions: the hour it falls in gets no gas.

Each hour with statistics is the hour ending at a boundary in S: the starts and ends of the UTC
hours that hold readings (reading_count). Any other hour has no readings ending it, so its
energy would be 0. The positions at a boundary are index seeks: a year of one-second readings
takes about 17,500 seeks instead of a scan of 31.5 million rows, and the same hours come out
whichever range they are computed in.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from sqlalchemy import ColumnElement, Connection, Select, and_, case, func, literal, select, union

from ..store.schema import HOUR_US, dsmr_reading, meter_key, reading_count

# Meter positions, in this order everywhere: Wh.
ELECTRICITY: Final = (
    "electricity_delivered_1",
    "electricity_delivered_2",
    "electricity_returned_1",
    "electricity_returned_2",
)
# How long after a boundary a telegram may first show the gas captured at it: DSMR 4 meters
# pass on the hourly gas value some minutes late.
GAS_WINDOW_US: Final = 2 * HOUR_US

# Hours holding readings computed (and handed to the recorder) at a time, so that a rebuild of
# years stays small; the hours between them, however many, cost nothing.
CHUNK_HOURS: Final = 31 * 24

type Electricity = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class Gas:
    """A gas position (dm³) and the time the gas meter captured it (µs)."""

    captured: int
    position: int


@dataclass(frozen=True, slots=True)
class Replacement:
    """A position that dropped: a new meter, or one reset.

    ``at`` is the time of the first reading (or boundary) showing the new position.
    """

    kind: Literal["electricity", "gas", "water", "heat"]
    at: int
    before: int
    after: int


@dataclass(frozen=True, slots=True)
class HourEnergy:
    """What a meter used in one UTC hour, and its positions at the hour's end."""

    # µs since the epoch, a whole hour.
    start: int
    # Wh used per ELECTRICITY position.
    electricity: Electricity
    end_electricity: Electricity
    # dm³ used, and the position at the end; None until the readings show gas.
    gas: int | None
    end_gas: Gas | None
    replacements: tuple[Replacement, ...] = ()


def hour_floor(time: int) -> int:
    """Return the start of the UTC hour holding a time (µs)."""
    return time - time % HOUR_US


def affected_from(earliest: int) -> int:
    """Return the first hour (µs) whose energy or gas new readings may change.

    earliest is the earliest timestamp among the readings (µs). A reading changes the
    boundaries at or after it, and through the gas window those up to two hours before it
    (whatever its gas capture time: a boundary only takes a capture shown within the window);
    a boundary ends the hour before it.
    """
    return hour_floor(earliest - GAS_WINDOW_US - 1) - HOUR_US


def history(connection: Connection, meter: str) -> tuple[int, int] | None:
    """Return the start of the first hour with statistics and the end of the last (µs).

    The first hour is the one before the first reading's, which gets a row (of 0) when a reading
    falls exactly on its end, as it would in any range that starts earlier. None without readings.
    """
    counts = reading_count.c
    first, last = connection.execute(
        select(func.min(counts.hour), func.max(counts.hour)).where(counts.meter == meter)
    ).one()
    if first is None:
        return None
    return (first - 1) * HOUR_US, (last + 1) * HOUR_US


def chunk_end(connection: Connection, meter: str, start: int, end: int) -> int:
    """Return where the chunk of hours from start (µs) ends: at most CHUNK_HOURS hours on.

    Counted in hours holding readings, found by an index seek, so a chunk only ever ends
    before end with readings in it. start is a whole hour; so is the end returned (or end).
    """
    counts = reading_count.c
    following = connection.scalar(
        select(counts.hour)
        .where(counts.meter == meter, counts.hour >= start // HOUR_US)
        .order_by(counts.hour)
        .offset(CHUNK_HOURS)
        .limit(1)
    )
    return end if following is None else min(end, following * HOUR_US)


def hour_before(connection: Connection, meter: str, at: int) -> int | None:
    """Return the start of the last hour with statistics that ends at or before at (µs).

    at is the start of an hour; None when no hour before it has statistics.
    """
    counts = reading_count.c
    hour = connection.scalar(
        select(func.max(counts.hour)).where(counts.meter == meter, counts.hour <= at // HOUR_US)
    )
    if hour is None:
        return None
    # The boundary in S at or before at: at itself when its hour holds readings.
    end = at if hour * HOUR_US == at else (hour + 1) * HOUR_US
    reading = dsmr_reading.c
    first = connection.scalar(
        select(reading.timestamp)
        .where(reading.meter_key == meter_key(meter))
        .order_by(reading.timestamp)
        .limit(1)
    )
    if first is None or first > end:
        return None
    return end - HOUR_US


def hourly_energy(
    connection: Connection, meter: str, start: int, stop: int | None = None
) -> Iterator[HourEnergy]:
    """Yield the hours with statistics ending after start and at or before stop (µs).

    start is a whole hour; stop None goes on to the newest readings. The hours are the same
    whichever range they are computed in.
    """
    if start % HOUR_US:
        raise ValueError(f"{start} is not the start of an hour")
    seed = _electricity_at(connection, meter, start)
    if seed is None:
        return
    previous, shown_gas = seed
    previous_time = start
    previous_gas = _gas_at(connection, meter, start, shown_gas)
    for boundary in _boundaries(connection, meter, start, stop):
        end = boundary.time
        electricity = boundary.electricity
        replacements: list[Replacement] = []
        used = tuple(now - before for now, before in zip(electricity, previous, strict=True))
        if min(used) < 0:
            used, replacements = _rises(connection, meter, previous_time, end, previous)
        gas = _boundary_gas(boundary)
        gas_used: int | None = None
        if gas is None:
            # The readings at this boundary show no gas: it stays where it was.
            gas = previous_gas
            gas_used = None if gas is None else 0
        elif previous_gas is None:
            first = _first_gas(connection, meter, previous_time, end)
            gas_used = gas.position - (gas.position if first is None else first.position)
        elif gas.position >= previous_gas.position:
            gas_used = gas.position - previous_gas.position
        else:
            gas_used = 0
            replacements.append(Replacement("gas", end, previous_gas.position, gas.position))
        yield HourEnergy(
            start=end - HOUR_US,
            electricity=_electricity(used),
            end_electricity=electricity,
            gas=gas_used,
            end_gas=gas,
            replacements=tuple(replacements),
        )
        previous = electricity
        previous_time = end
        previous_gas = gas


@dataclass(frozen=True, slots=True)
class _Boundary:
    """A boundary in S and the readings that give its positions."""

    time: int
    electricity: Electricity
    # The gas shown by the last reading at or before it.
    reading_gas: Gas | None
    # The first gas captured at or after it, shown within the gas window.
    later_gas: Gas | None


def _electricity(values: Sequence[int]) -> Electricity:
    first, second, third, fourth = values
    return (first, second, third, fourth)


def _gas_of(captured: int | None, position: int | None) -> Gas | None:
    if captured is None or not position:
        return None
    return Gas(captured, position)


def _boundary_gas(boundary: _Boundary) -> Gas | None:
    """Return G at a boundary: the capture at it if a telegram shows one, else the last seen."""
    later = boundary.later_gas
    if later is not None and later.captured == boundary.time:
        return later
    return boundary.reading_gas


def _electricity_at(
    connection: Connection, meter: str, at: int
) -> tuple[Electricity, Gas | None] | None:
    """Return P(at) and the gas its reading shows; None without readings."""
    reading = dsmr_reading.c
    columns = [*(reading[name] for name in ELECTRICITY)]
    columns += [reading.extra_device_timestamp, reading.extra_device_delivered]
    mine = reading.meter_key == meter_key(meter)
    row = connection.execute(
        select(*columns)
        .where(mine, reading.timestamp <= at)
        .order_by(reading.timestamp.desc(), reading.id.desc())
        .limit(1)
    ).first()
    if row is None:
        row = connection.execute(
            select(*columns).where(mine).order_by(reading.timestamp, reading.id).limit(1)
        ).first()
    if row is None:
        return None
    return _electricity(row[:4]), _gas_of(row[4], row[5])


def _later_gas(meter: str, at: ColumnElement[int]) -> Select[tuple[int, int]]:
    """Return the first capture at or after at that a reading within the gas window shows."""
    later = dsmr_reading.alias("later")
    return (
        select(later.c.extra_device_timestamp, later.c.extra_device_delivered)
        .where(
            later.c.meter_key == meter_key(meter),
            later.c.timestamp >= at,
            later.c.timestamp < at + literal(GAS_WINDOW_US),
            later.c.extra_device_timestamp >= at,
            later.c.extra_device_delivered != 0,
        )
        .order_by(later.c.timestamp, later.c.id)
        .limit(1)
    )


def _gas_at(connection: Connection, meter: str, at: int, shown: Gas | None) -> Gas | None:
    """Return G(at), given the gas the last reading at or before at shows."""
    if shown is None:
        return None
    later = connection.execute(_later_gas(meter, literal(at))).first()
    if later is not None and later[0] == at:
        return Gas(later[0], later[1])
    return shown


def _boundaries(
    connection: Connection, meter: str, start: int, stop: int | None
) -> Iterator[_Boundary]:
    """Yield the boundaries in S after start and up to stop with a reading at or before them."""
    counts = reading_count.c
    low = start // HOUR_US
    mine = [counts.meter == meter]
    starts = select(counts.hour.label("hour")).where(*mine, counts.hour > low)
    ends = select((counts.hour + 1).label("hour")).where(*mine, counts.hour >= low)
    if stop is not None:
        high = stop // HOUR_US
        starts = starts.where(counts.hour <= high)
        ends = ends.where(counts.hour < high)
    hours = union(starts, ends).subquery()
    reading = dsmr_reading.alias("reading")
    at = hours.c.hour * literal(HOUR_US)
    last_reading = (
        select(reading.c.timestamp, reading.c.id)
        .where(reading.c.meter_key == meter_key(meter), reading.c.timestamp <= at)
        .order_by(reading.c.timestamp.desc(), reading.c.id.desc())
        .limit(1)
    )
    # The primary key of the last reading, without its meter key: one column per subquery.
    last = select(
        hours.c.hour,
        *(
            last_reading.with_only_columns(column).scalar_subquery().label(f"last_{column.name}")
            for column in last_reading.selected_columns
        ),
    ).subquery()
    row = dsmr_reading.c
    later_gas = _later_gas(meter, last.c.hour * literal(HOUR_US))
    # Only a reading that shows gas makes the seek for a later capture worth it.
    shows_gas = and_(row.extra_device_timestamp.is_not(None), row.extra_device_delivered != 0)
    rows = connection.execute(
        select(
            last.c.hour,
            *(row[name] for name in ELECTRICITY),
            row.extra_device_timestamp,
            row.extra_device_delivered,
            *(
                case((shows_gas, later_gas.with_only_columns(column).scalar_subquery())).label(
                    f"later_{index}"
                )
                for index, column in enumerate(later_gas.selected_columns)
            ),
        )
        .join_from(
            last,
            dsmr_reading,
            and_(
                row.meter_key == meter_key(meter),
                row.timestamp == last.c.last_timestamp,
                row.id == last.c.last_id,
            ),
        )
        .order_by(last.c.hour)
    ).all()
    for item in rows:
        yield _Boundary(
            time=item.hour * HOUR_US,
            electricity=_electricity(item[1:5]),
            reading_gas=_gas_of(item.extra_device_timestamp, item.extra_device_delivered),
            later_gas=None if item.later_0 is None else Gas(item.later_0, item.later_1),
        )


def _rises(
    connection: Connection, meter: str, after: int, until: int, start: Electricity
) -> tuple[Electricity, list[Replacement]]:
    """Return the sum of the rises of each position over the readings in (after, until].

    The readings of one hour at most (see the module's docstring); each drop is a replacement.
    """
    reading = dsmr_reading.c
    rows = connection.execute(
        select(reading.timestamp, *(reading[name] for name in ELECTRICITY))
        .where(
            reading.meter_key == meter_key(meter),
            reading.timestamp > after,
            reading.timestamp <= until,
        )
        .order_by(reading.timestamp, reading.id)
    ).tuples()
    used = [0, 0, 0, 0]
    positions = list(start)
    replacements = []
    for timestamp, *values in rows:
        dropped = False
        for index, value in enumerate(values):
            if value >= positions[index]:
                used[index] += value - positions[index]
            else:
                dropped = True
        if dropped:
            replacements.append(
                Replacement("electricity", timestamp, sum(positions[:2]), sum(values[:2]))
            )
        positions = values
    return _electricity(used), replacements


def _first_gas(connection: Connection, meter: str, after: int, until: int) -> Gas | None:
    """Return the first gas the readings in (after, until] show: where gas starts counting."""
    reading = dsmr_reading.c
    row = connection.execute(
        select(reading.extra_device_timestamp, reading.extra_device_delivered)
        .where(
            reading.meter_key == meter_key(meter),
            reading.timestamp > after,
            reading.timestamp <= until,
            reading.extra_device_timestamp.is_not(None),
            reading.extra_device_delivered != 0,
        )
        .order_by(reading.timestamp, reading.id)
        .limit(1)
    ).first()
    return None if row is None else Gas(row[0], row[1])
