"""Linky data as Enedis' Metering Data v5 gives it, turned into exact values in UTC.

Values are strings: Wh for daily energy, W (average over the interval) for the load curve, VA
for the daily maximum power. Times are French local time without an offset; a load-curve
point is stamped at the END of its interval (``00:30:00`` covers 00:00-00:30), so it is moved
back by its interval length; the October change repeats local times, told apart by order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from .errors import EnedisConnectionError

PARIS: Final = ZoneInfo("Europe/Paris")
_LENGTHS: Final = {"PT5M": 5, "PT10M": 10, "PT15M": 15, "PT30M": 30, "PT60M": 60}


@dataclass(frozen=True, slots=True)
class DailyValue:
    """A day's value: Wh of energy, or VA of maximum power reached at ``at`` (UTC)."""

    day: date
    value: int
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class LoadCurvePoint:
    """The average power (W) over an interval starting at ``start`` (UTC) of so many minutes."""

    start: datetime
    minutes: int
    watts: int

    @property
    def end(self) -> datetime:
        """Return the end of the interval."""
        return self.start + timedelta(minutes=self.minutes)

    @property
    def watt_minutes(self) -> int:
        """Return the energy of the interval, exact: W x minutes (60 to a Wh)."""
        return self.watts * self.minutes


def _readings(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    reading = body.get("meter_reading", body)
    items = reading.get("interval_reading") if isinstance(reading, Mapping) else None
    if not isinstance(items, list):
        raise EnedisConnectionError(f"unreadable answer: {body!r:.200}")
    return items


def _local(text: str, previous: datetime | None) -> datetime:
    """Return a naive Paris time as UTC: the second of a repeated hour when the first is past."""
    naive = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    first = naive.replace(tzinfo=PARIS).astimezone(UTC)
    if previous is not None and first <= previous:
        second = naive.replace(tzinfo=PARIS, fold=1).astimezone(UTC)
        if second > previous:
            return second
    return first


def parse_daily(body: Mapping[str, Any]) -> list[DailyValue]:
    """Return the daily values (energy, or maximum power with the time it was reached)."""
    values = []
    try:
        for item in _readings(body):
            stamp = str(item["date"])
            if len(stamp) > 10:
                at = _local(stamp, None)
                values.append(DailyValue(date.fromisoformat(stamp[:10]), int(item["value"]), at))
            else:
                values.append(DailyValue(date.fromisoformat(stamp), int(item["value"])))
    except (KeyError, ValueError, TypeError) as err:
        raise EnedisConnectionError(f"unreadable daily value: {err}") from err
    return values


def parse_load_curve(body: Mapping[str, Any]) -> list[LoadCurvePoint]:
    """Return the load curve's points by the start of their interval, in UTC."""
    points: list[LoadCurvePoint] = []
    previous: datetime | None = None
    try:
        for item in _readings(body):
            minutes = _LENGTHS[item.get("interval_length", "PT30M")]
            end = _local(str(item["date"]), previous)
            previous = end
            points.append(
                LoadCurvePoint(end - timedelta(minutes=minutes), minutes, int(item["value"]))
            )
    except (KeyError, ValueError, TypeError) as err:
        raise EnedisConnectionError(f"unreadable load curve point: {err}") from err
    return points
