"""A Linky meter's long-term statistics: its hours (or days) and their costs, by measurement.

External statistics ``smartmeter:linky_<prm>_consumption`` (and ``_production``) in kWh, and
with energy contracts ``_consumption_cost`` at the contracts' tariff 1 delivered price and
``_production_compensation`` at their tariff 1 returned price. Hourly from the load curve
where it covers a day, else the day's energy at its first hour. Every series has a row at each
hour any of them has, so the sums before a change read back from one hour.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from typing import Final

from ...enedis import Measurement, MeterData
from ...longterm import Increment, Priced, Series

ENERGY: Final = {
    Measurement.CONSUMPTION: Series("consumption", "energy", "consumption"),
    Measurement.PRODUCTION: Series("production", "energy", "production"),
}
# Positions of the contracts' prices: tariff 1 delivered, tariff 1 returned.
PRICED: Final = {
    Measurement.CONSUMPTION: Priced(
        Series("consumption_cost", "money", "consumption cost"), ENERGY[Measurement.CONSUMPTION], 0
    ),
    Measurement.PRODUCTION: Priced(
        Series("production_compensation", "money", "production compensation"),
        ENERGY[Measurement.PRODUCTION],
        2,
    ),
}


class LinkyHours:
    """The hours of a meter's measurements, made again by refresh() when the data changed."""

    def __init__(self, data: MeterData, measurements: tuple[Measurement, ...]) -> None:
        """Give the hours of these measurements of data."""
        self._data = data
        self._measurements = measurements
        self._starts: list[int] = []
        self._used: list[dict[str, int]] = []

    def refresh(self) -> None:
        """Make the hours from the data as it is now."""
        hours: dict[int, dict[str, int]] = {}
        keys = [ENERGY[measurement].key for measurement in self._measurements]
        for measurement in self._measurements:
            key = ENERGY[measurement].key
            for hour, wh in self._data.of(measurement).hours():
                hours.setdefault(hour, dict.fromkeys(keys, 0))[key] = wh
        self._starts = sorted(hours)
        self._used = [hours[hour] for hour in self._starts]

    def first_hour(self) -> int | None:
        """Return the first hour, None without any."""
        return self._starts[0] if self._starts else None

    def hour_before(self, at: int) -> int | None:
        """Return the last hour starting before at."""
        index = bisect_left(self._starts, at)
        return self._starts[index - 1] if index else None

    def increments(self, start: int) -> Iterator[Increment]:
        """Yield the hours from start on."""
        index = bisect_left(self._starts, start)
        for hour, used in zip(self._starts[index:], self._used[index:], strict=True):
            yield Increment(hour, used)

    def series(self) -> tuple[Series, ...]:
        """Return the energy series."""
        return tuple(ENERGY[measurement] for measurement in self._measurements)

    def priced(self) -> tuple[Priced, ...]:
        """Return the cost series."""
        return tuple(PRICED[measurement] for measurement in self._measurements)
