"""A plant's energy over time: today's and the periods' totals, and the hours for statistics.

Energy channels give the energy of each point's period (endpoints.py, open question 4): a
5-minute slot of a day, a day of a month, a month of a year, a year of the lifetime. The
hours of the long-term statistics are the sums of the 5-minute values in each UTC hour;
history from before that (the backfill) comes from the month, year and lifetime calls, a
day's energy filed at the day's first hour.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from ..longterm import Increment
from .client import EnerestClient
from .endpoints import (
    BATTERY_CHARGED_ENERGY,
    BATTERY_DISCHARGED_ENERGY,
    CONSUMPTION_ENERGY,
    PLANT_ENERGY_CHANNELS,
    PRODUCTION_ENERGY,
)
from .errors import ResponseError
from .models import ChannelSeries

ENERGY_UNITS: Final[Mapping[str, Decimal]] = {
    "Wh": Decimal(1),
    "kWh": Decimal(1000),
    "MWh": Decimal(1_000_000),
}
POWER_UNITS: Final[Mapping[str, Decimal]] = {
    "W": Decimal(1),
    "kW": Decimal(1000),
    "MW": Decimal(1_000_000),
}
# The long-term statistic (its series key) of each plant-level energy channel.
STATISTIC_KEYS: Final[Mapping[str, str]] = {
    PRODUCTION_ENERGY: "solar_production",
    CONSUMPTION_ENERGY: "home_consumption",
    BATTERY_CHARGED_ENERGY: "battery_charged",
    BATTERY_DISCHARGED_ENERGY: "battery_discharged",
}
# Days of 5-minute values read at the first start; before them, the days of the backfill.
FIRST_DAYS: Final = 7
# At most this many days of 5-minute values are asked for in one call (after an outage, the
# days since the newest data known are read in calls of this many).
DAYS_PER_CALL: Final = 31
HOUR_US: Final = 3_600_000_000

type Hours = dict[int, dict[str, int]]


def unit_factor(series: ChannelSeries, units: Mapping[str, Decimal]) -> Decimal:
    """Return what a series' unit is worth in the base unit (Wh or W) of units.

    A series without a unit is taken to be in the base unit; one in another unit is refused.
    """
    if series.unit is None:
        return Decimal(1)
    factor = units.get(series.unit)
    if factor is None:
        raise ResponseError(f"{series.name} is in {series.unit!r}, not in {', '.join(units)}")
    return factor


def energy_wh(series: ChannelSeries) -> Decimal:
    """Return the energy a series' points add up to, in Wh."""
    factor = unit_factor(series, ENERGY_UNITS)
    return sum((value * factor for _, value in series.points if value is not None), Decimal(0))


def hour_of(moment: datetime) -> int:
    """Return the start of the UTC hour a moment lies in, in µs since the epoch."""
    microseconds = round(moment.astimezone(UTC).timestamp() * 1_000_000)
    return microseconds - microseconds % HOUR_US


def _filed(sums: Mapping[int, Mapping[str, Decimal]]) -> Hours:
    return {
        hour: {key: int(value.to_integral_value()) for key, value in values.items()}
        for hour, values in sums.items()
    }


def energy_hours(series: Iterable[ChannelSeries]) -> Hours:
    """Return each UTC hour's energy in Wh by statistic key, from points of any resolution.

    A day's (or month's) point counts in the hour its period starts in. Hours without a value
    of a series leave that series out.
    """
    sums: dict[int, dict[str, Decimal]] = {}
    for one in series:
        key = STATISTIC_KEYS.get(one.name)
        if key is None:
            continue
        factor = unit_factor(one, ENERGY_UNITS)
        for moment, value in one.points:
            if value is not None:
                hour = sums.setdefault(hour_of(moment), {})
                hour[key] = hour.get(key, Decimal(0)) + value * factor
    return _filed(sums)


def add_hours(hours: Hours, more: Mapping[int, Mapping[str, int]]) -> None:
    """Add more hours' energy to hours (an hour may lie in two calls' days)."""
    for hour, used in more.items():
        target = hours.setdefault(hour, {})
        for key, wh in used.items():
            target[key] = target.get(key, 0) + wh


def split_days(series: Iterable[ChannelSeries]) -> dict[tuple[str, date], ChannelSeries]:
    """Return the series cut into local days, by channel name and day."""
    days: dict[tuple[str, date], list[tuple[datetime, Decimal | None]]] = {}
    templates: dict[str, ChannelSeries] = {}
    for one in series:
        templates.setdefault(one.name, one)
        for point in one.points:
            days.setdefault((one.name, point[0].date()), []).append(point)
    return {
        (name, day): ChannelSeries(
            name=name,
            device_id=templates[name].device_id,
            unit=templates[name].unit,
            day=day,
            points=tuple(sorted(points, key=lambda point: point[0])),
        )
        for (name, day), points in days.items()
    }


def history_start(today: date, newest: datetime | None) -> date:
    """Return the first day to read 5-minute values of: from the newest data known on.

    Yesterday at least (a logger's late transfer around midnight); FIRST_DAYS back when
    nothing is known yet (the days before come from the backfill). After an outage, however
    long, every day since is read again: no hour is left out of the statistics.
    """
    if newest is None:
        return today - timedelta(days=FIRST_DAYS - 1)
    return min(newest.date(), today - timedelta(days=1))


class HourLedger:
    """Each hour's energy (Wh) by statistic key: where the long-term statistics come from.

    The glue keeps it on disk. Hours are UTC hours in µs; a backfilled day is at its first
    hour.
    """

    def __init__(self, hours: Hours | None = None, *, backfilled: bool = False) -> None:
        """Start from hours kept before; backfilled says whether the backfill was done."""
        self._hours: Hours = dict(sorted((hours or {}).items()))
        self.backfilled = backfilled

    def first_hour(self) -> int | None:
        """Return the first hour with energy, None without any."""
        return next(iter(self._hours), None)

    def hour_before(self, at: int) -> int | None:
        """Return the last hour before at."""
        return max((hour for hour in self._hours if hour < at), default=None)

    def newest_hour(self) -> int | None:
        """Return the last hour with energy, None without any."""
        return next(reversed(self._hours), None)

    def increments(self, start: int) -> list[Increment]:
        """Return the hours from start on, in order."""
        return [Increment(hour, used) for hour, used in self._hours.items() if hour >= start]

    def series_keys(self) -> set[str]:
        """Return the statistic keys that have energy in some hour."""
        return {key for used in self._hours.values() for key in used}

    def merge(self, hours: Mapping[int, Mapping[str, int]]) -> int | None:
        """Take these hours' energy; return the first hour that changed, None if none did.

        A key an hour had and these hours lack is kept: the API leaves out what it lost.
        """
        changed: int | None = None
        for hour, used in hours.items():
            before = self._hours.get(hour, {})
            after = {**before, **used}
            if after != before:
                self._hours[hour] = after
                changed = hour if changed is None else min(changed, hour)
        if changed is not None:
            self._hours = dict(sorted(self._hours.items()))
        return changed

    def as_data(self) -> dict[str, Any]:
        """Return the ledger as JSON data: hours in seconds, energy by key."""
        return {
            "backfilled": self.backfilled,
            "hours": [[hour // 1_000_000, used] for hour, used in self._hours.items()],
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any] | None) -> HourLedger:
        """Return the ledger as_data gave; an empty one for none."""
        if not data:
            return cls()
        return cls(
            {
                int(seconds) * 1_000_000: {str(key): int(wh) for key, wh in used.items()}
                for seconds, used in data.get("hours", [])
            },
            backfilled=bool(data.get("backfilled")),
        )


def _with_energy(series: Iterable[ChannelSeries]) -> set[datetime]:
    """Return the moments at which some series has energy (not null, not 0)."""
    return {moment for one in series for moment, value in one.points if value}


async def backfill_hours(client: EnerestClient, plant_id: str, before: date) -> Hours:
    """Return the energy of the plant's days before a day, from the lifetime on.

    The lifetime call gives the years with energy, a year call their months, a month call
    their days: a call per month of history, not one per day.
    """
    channels = PLANT_ENERGY_CHANNELS
    years = sorted(
        {moment.year for moment in _with_energy(await client.lifetime(plant_id, channels))}
    )
    days: list[ChannelSeries] = []
    for year in (year for year in years if year <= before.year):
        months = sorted(
            {
                moment.month
                for moment in _with_energy(await client.year(plant_id, year, channels))
                if (year, moment.month) <= (before.year, before.month)
            }
        )
        for month in months:
            days += [
                ChannelSeries(
                    name=one.name,
                    device_id=one.device_id,
                    unit=one.unit,
                    day=one.day,
                    points=tuple(point for point in one.points if point[0].date() < before),
                )
                for one in await client.month(plant_id, year, month, channels)
            ]
    return energy_hours(days)


@dataclass(frozen=True, slots=True)
class EarlierTotals:
    """A channel's energy (Wh) before today: of this month, this year, the lifetime.

    month is this month's before today, year this year's before this month, lifetime the
    lifetime's before this year: today's energy added gives the periods' totals.
    """

    month: Decimal
    year: Decimal
    lifetime: Decimal

    def with_today(self, today: Decimal) -> tuple[Decimal, Decimal, Decimal]:
        """Return this month's, this year's and the lifetime's energy with today's."""
        month = self.month + today
        year = self.year + month
        return month, year, self.lifetime + year


async def earlier_totals(
    client: EnerestClient, plant_id: str, today: date
) -> dict[str, EarlierTotals]:
    """Return the earlier totals of each plant-level energy channel the plant has."""
    channels = PLANT_ENERGY_CHANNELS

    def before(series: list[ChannelSeries], earlier: Any) -> dict[str, Decimal]:
        found: dict[str, Decimal] = {}
        for one in series:
            kept = ChannelSeries(
                name=one.name,
                device_id=one.device_id,
                unit=one.unit,
                day=one.day,
                points=tuple(point for point in one.points if earlier(point[0])),
            )
            found[one.name] = found.get(one.name, Decimal(0)) + energy_wh(kept)
        return found

    month = before(
        await client.month(plant_id, today.year, today.month, channels),
        lambda moment: moment.date() < today,
    )
    year = before(
        await client.year(plant_id, today.year, channels),
        lambda moment: moment.year == today.year and moment.month < today.month,
    )
    lifetime = before(
        await client.lifetime(plant_id, channels), lambda moment: moment.year < today.year
    )
    return {
        name: EarlierTotals(
            month.get(name, Decimal(0)), year.get(name, Decimal(0)), lifetime.get(name, Decimal(0))
        )
        for name in {*month, *year, *lifetime}
    }
