"""Times of processing, in µs since the epoch: minutes, quarters, hours and local days."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from typing import Final

from ..model import datetime_to_us, us_to_datetime
from ..schema import HOUR_US

MINUTE_US: Final = 60_000_000
QUARTER_US: Final = 15 * MINUTE_US
# How long an hour waits for the gas record at its end, in minute records' time.
GAS_WAIT_US: Final = 2 * HOUR_US


def floor_to(value: int, unit: int) -> int:
    """Return value rounded down to a multiple of unit."""
    return value - value % unit


def local_date(timestamp: int, time_zone: tzinfo) -> date:
    """Return the local date of a time (µs)."""
    return us_to_datetime(timestamp).astimezone(time_zone).date()


def day_bounds(day: date, time_zone: tzinfo) -> tuple[int, int]:
    """Return the start and end (µs) of a local day."""
    start = datetime.combine(day, time(), tzinfo=time_zone)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=time_zone)
    return datetime_to_us(start), datetime_to_us(end)
