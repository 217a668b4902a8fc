"""A meter's water or heat per UTC hour, from the positions its M-Bus meters captured.

The position of a channel at a time t is that of its last capture at or before t, so an hour's
use is what its captures add to the position the hour starts with, per channel, and a capture
made exactly on the hour belongs to the hour it ends (as the hourly capture of a DSMR meter
does). A channel counts from its first capture on; a position that drops is a replaced (or
reset) meter: its drop is not counted and is reported. All channels of a kind add up: a meter
that comes back on another channel after a replacement carries on the same statistics.

Only hours that hold captures have statistics: any other hour adds nothing. Captures that
arrive later for past hours (a datalogger catching up) are filed in their own hours.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from ..store.model import CaptureKind
from ..store.schema import HOUR_US, mbus_capture
from .hours import CHUNK_HOURS, Replacement, hour_floor


@dataclass(frozen=True, slots=True)
class CaptureHour:
    """What the water or heat meters used in one UTC hour (billionths of m³ or GJ)."""

    # µs since the epoch, a whole hour.
    start: int
    used: int
    # The position of the last capture in the hour.
    position: int
    replacements: tuple[Replacement, ...] = ()


def capture_hour(captured: int) -> int:
    """Return the start of the hour a capture (µs) belongs to: the one it falls in or ends."""
    return hour_floor(captured - 1)


def capture_history(
    connection: Connection, meter: str, kind: CaptureKind
) -> tuple[int, int] | None:
    """Return the start of the first hour holding captures and the end of the last (µs).

    None without captures.
    """
    captures = mbus_capture.c
    first, last = connection.execute(
        select(func.min(captures.captured), func.max(captures.captured)).where(
            captures.meter == meter, captures.kind == kind
        )
    ).one()
    if first is None:
        return None
    return capture_hour(first), capture_hour(last) + HOUR_US


def capture_chunk_end(
    connection: Connection, meter: str, start: int, end: int, *, kind: CaptureKind
) -> int:
    """Return where the chunk of water or heat hours from start (µs) ends, at most end.

    CHUNK_HOURS hours on from the hour of the next capture, found by an index seek: the hours
    without captures before it, however many, cost nothing.
    """
    captures = mbus_capture.c
    following = connection.scalar(
        select(func.min(captures.captured)).where(
            captures.meter == meter, captures.kind == kind, captures.captured > start
        )
    )
    if following is None:
        return end
    return min(end, capture_hour(following) + CHUNK_HOURS * HOUR_US)


def capture_hour_before(
    connection: Connection, meter: str, kind: CaptureKind, at: int
) -> int | None:
    """Return the start of the last hour holding captures that ends at or before at (µs).

    at is the start of an hour; None when no capture is at or before it.
    """
    captures = mbus_capture.c
    last = connection.scalar(
        select(func.max(captures.captured)).where(
            captures.meter == meter, captures.kind == kind, captures.captured <= at
        )
    )
    return None if last is None else capture_hour(last)


def capture_hours(
    connection: Connection, meter: str, kind: CaptureKind, start: int, stop: int | None = None
) -> Iterator[CaptureHour]:
    """Yield the hours holding captures that end after start and at or before stop (µs).

    start is a whole hour; stop None goes on to the newest captures.
    """
    if start % HOUR_US:
        raise ValueError(f"{start} is not the start of an hour")
    captures = mbus_capture.c
    query = (
        select(captures.captured, captures.channel, captures.value)
        .where(captures.meter == meter, captures.kind == kind, captures.captured > start)
        .order_by(captures.captured, captures.channel)
    )
    if stop is not None:
        query = query.where(captures.captured <= stop)
    hour: int | None = None
    used = position = 0
    replacements: list[Replacement] = []
    # Per channel, once it shows up: its position at start, or its first capture's.
    positions: dict[int, int] = {}
    for captured, channel, value in connection.execute(query).tuples():
        this_hour = capture_hour(captured)
        if hour is not None and this_hour != hour:
            yield CaptureHour(hour, used, position, tuple(replacements))
            used, replacements = 0, []
        hour = this_hour
        before = positions.get(channel)
        if before is None:
            before = _position_at(connection, meter, kind, channel, start)
            if before is None:
                before = value
        if value >= before:
            used += value - before
        else:
            replacements.append(Replacement(kind, captured, before, value))
        positions[channel] = position = value
    if hour is not None:
        yield CaptureHour(hour, used, position, tuple(replacements))


def _position_at(
    connection: Connection, meter: str, kind: CaptureKind, channel: int, at: int
) -> int | None:
    """Return a channel's position at a time: its last capture at or before it."""
    captures = mbus_capture.c
    return connection.scalar(
        select(captures.value)
        .where(
            captures.meter == meter,
            captures.kind == kind,
            captures.channel == channel,
            captures.captured <= at,
        )
        .order_by(captures.captured.desc())
        .limit(1)
    )
