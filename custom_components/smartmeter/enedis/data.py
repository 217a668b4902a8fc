"""What is known of a Linky meter: its days, hours and maximum powers, and the import's progress.

Kept as JSON between runs (to_json/from_json). Energy of the load curve is kept per UTC hour
in W x minutes (exact; 60 to a Wh), daily energy in Wh, maximum power in VA.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from .client import Data, Measurement
from .readings import PARIS, DailyValue, LoadCurvePoint

HOUR_US: Final = 3_600_000_000
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def hour_us(time: datetime) -> int:
    """Return the start of the UTC hour holding a time, in µs since the epoch."""
    micros = (time - _EPOCH) // timedelta(microseconds=1)
    return micros - micros % HOUR_US


def day_hours(day: date) -> tuple[int, int]:
    """Return the UTC hours (µs) of a Paris day's start and end: 23, 24 or 25 hours apart."""
    start = datetime.combine(day, datetime.min.time(), PARIS)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), PARIS)
    return hour_us(start), hour_us(end)


@dataclass(slots=True)
class Curve:
    """A load curve: energy per UTC hour, the minutes each hour holds, and the latest point."""

    watt_minutes: dict[int, int] = field(default_factory=dict)
    minutes: dict[int, int] = field(default_factory=dict)
    latest: LoadCurvePoint | None = None

    def add(self, points: Iterable[LoadCurvePoint]) -> None:
        """Add points, replacing the hours they fall in (a request covers whole days)."""
        hours: dict[int, tuple[int, int]] = {}
        for point in points:
            hour = hour_us(point.start)
            energy, minutes = hours.get(hour, (0, 0))
            hours[hour] = (energy + point.watt_minutes, minutes + point.minutes)
            if self.latest is None or point.start > self.latest.start:
                self.latest = point
        for hour, (energy, minutes) in hours.items():
            self.watt_minutes[hour] = energy
            self.minutes[hour] = minutes

    def complete(self, day: date) -> bool:
        """Return whether the curve covers every minute of a Paris day."""
        start, end = day_hours(day)
        return sum(self.minutes.get(hour, 0) for hour in range(start, end, HOUR_US)) == (
            (end - start) // 60_000_000
        )


@dataclass(slots=True)
class MeasurementData:
    """What is known of one measurement (consumption or production)."""

    daily: dict[date, int] = field(default_factory=dict)
    curve: Curve = field(default_factory=Curve)
    # Consumption only: Enedis has no maximum power of production.
    max_power: dict[date, DailyValue] = field(default_factory=dict)

    def latest_day(self) -> date | None:
        """Return the latest day with a daily value."""
        return max(self.daily, default=None)

    def month_energy(self, day: date) -> int:
        """Return the Wh of the month of a day, up to that day."""
        return sum(
            wh
            for one, wh in self.daily.items()
            if (one.year, one.month) == (day.year, day.month) and one <= day
        )

    def year_energy(self, day: date) -> int:
        """Return the Wh of the year of a day, up to that day."""
        return sum(wh for one, wh in self.daily.items() if one.year == day.year and one <= day)

    def hours(self) -> Iterator[tuple[int, int]]:
        """Yield (UTC hour µs, Wh) in order, from the load curve where it covers a day whole.

        Other days give one row of the day's energy at its first hour.

        A day's hours from the curve are rounded so that their Wh add up to the day's W x
        minutes / 60, rounded down: no energy drifts from one hour to the next.
        """
        days = set(self.daily)
        days.update(_day_of(hour) for hour in self.curve.watt_minutes)
        for day in sorted(days):
            start, end = day_hours(day)
            if self.curve.complete(day):
                total = 0
                filed = 0
                for hour in range(start, end, HOUR_US):
                    total += self.curve.watt_minutes.get(hour, 0)
                    wh = total // 60 - filed
                    filed += wh
                    yield hour, wh
            elif day in self.daily:
                yield start, self.daily[day]


def _day_of(hour: int) -> date:
    return (_EPOCH + timedelta(microseconds=hour)).astimezone(PARIS).date()


@dataclass(slots=True)
class MeterData:
    """Everything known of a meter, and how far the history import got."""

    measurements: dict[Measurement, MeasurementData] = field(default_factory=dict)
    # Of each (measurement, data) the import goes back through: the oldest day it asked for,
    # and whether it reached the end of the history.
    imported_from: dict[tuple[Measurement, Data], date] = field(default_factory=dict)
    history_done: set[tuple[Measurement, Data]] = field(default_factory=set)
    # The load curve the customer did not enable (asked again once a day).
    no_load_curve: set[Measurement] = field(default_factory=set)

    def of(self, measurement: Measurement) -> MeasurementData:
        """Return a measurement's data, made empty if new."""
        return self.measurements.setdefault(measurement, MeasurementData())

    def to_json(self) -> dict[str, Any]:
        """Return the data as JSON-able values."""
        return {
            "measurements": {
                str(measurement): {
                    "daily": {str(day): wh for day, wh in data.daily.items()},
                    "hours": [
                        [hour, data.curve.watt_minutes[hour], data.curve.minutes[hour]]
                        for hour in sorted(data.curve.watt_minutes)
                    ],
                    "latest": None
                    if (latest := data.curve.latest) is None
                    else [latest.start.isoformat(), latest.minutes, latest.watts],
                    "max_power": {
                        str(day): [value.value, None if value.at is None else value.at.isoformat()]
                        for day, value in data.max_power.items()
                    },
                }
                for measurement, data in self.measurements.items()
            },
            "imported_from": [
                [str(measurement), str(kind), str(day)]
                for (measurement, kind), day in self.imported_from.items()
            ],
            "history_done": sorted([str(m), str(k)] for m, k in self.history_done),
            "no_load_curve": sorted(str(m) for m in self.no_load_curve),
        }

    @classmethod
    def from_json(cls, saved: dict[str, Any]) -> MeterData:
        """Return the data saved by to_json."""
        meter = cls()
        for name, values in saved["measurements"].items():
            data = meter.of(Measurement(name))
            data.daily = {date.fromisoformat(day): wh for day, wh in values["daily"].items()}
            for hour, energy, minutes in values["hours"]:
                data.curve.watt_minutes[hour] = energy
                data.curve.minutes[hour] = minutes
            if (latest := values["latest"]) is not None:
                data.curve.latest = LoadCurvePoint(
                    datetime.fromisoformat(latest[0]), latest[1], latest[2]
                )
            data.max_power = {
                date.fromisoformat(day): DailyValue(
                    date.fromisoformat(day), va, None if at is None else datetime.fromisoformat(at)
                )
                for day, (va, at) in values["max_power"].items()
            }
        meter.imported_from = {
            (Measurement(m), Data(k)): date.fromisoformat(day)
            for m, k, day in saved["imported_from"]
        }
        meter.history_done = {(Measurement(m), Data(k)) for m, k in saved["history_done"]}
        meter.no_load_curve = {Measurement(m) for m in saved["no_load_curve"]}
        return meter
