"""Values computed from several telegrams: derived totals, averages, gas per hour."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Final

from .reading import MeterReading

# Instantaneous quantities: averaged over an update interval rather than sampled.
AVERAGED_UNITS: Final = frozenset({"W", "V", "A", "var"})
_TARIFFS: Final = range(1, 5)
_HOUR: Final = timedelta(hours=1)


def _sum_of(values: Mapping[str, object], prefix: str) -> float | None:
    parts = [part for t in _TARIFFS if isinstance(part := values.get(f"{prefix}{t}"), float)]
    return sum(parts) if parts else None


def add_derived_values(reading: MeterReading, tariff_codes_swapped: bool) -> None:
    """Name the active tariff; add totals across tariffs and the net power."""
    values = reading.values
    if "ELECTRICITY_ACTIVE_TARIFF" in values:
        code = values["ELECTRICITY_ACTIVE_TARIFF"]
        values["ELECTRICITY_ACTIVE_TARIFF"] = (
            None
            if code not in ("0001", "0002")
            else "low"
            if (code == "0001") != tariff_codes_swapped
            else "normal"
        )
    for total, prefix in (
        ("ELECTRICITY_IMPORTED_TOTAL", "ELECTRICITY_USED_TARIFF_"),
        ("ELECTRICITY_EXPORTED_TOTAL", "ELECTRICITY_DELIVERED_TARIFF_"),
    ):
        if total not in values and (summed := _sum_of(values, prefix)) is not None:
            # Rounded to the meter's Wh resolution: float sums add noise digits.
            values[total] = round(summed, 3)
            reading.units[total] = "kWh"
    usage = values.get("CURRENT_ELECTRICITY_USAGE")
    if isinstance(usage, float):
        delivery = values.get("CURRENT_ELECTRICITY_DELIVERY")
        values["NET_POWER"] = usage - (delivery if isinstance(delivery, float) else 0.0)
        reading.units["NET_POWER"] = "W"


class HourlyConsumption:
    """Consumption of one M-Bus meter over the last hour, by the meter's own clock.

    It is the newest reading minus the newest reading at least an hour older,
    so hourly (DSMR 4) and five-minutely (DSMR 5) gas meters both work.
    """

    __slots__ = ("_history",)

    def __init__(self) -> None:
        """Start with no history: unknown until an hour has been seen."""
        self._history: deque[tuple[datetime, float]] = deque()

    def update(self, measured_at: datetime, reading: float) -> float | None:
        """Record a reading and return the consumption in the hour before it."""
        history = self._history
        if history and measured_at <= history[-1][0]:
            measured_at, reading = history[-1]
        else:
            history.append((measured_at, reading))
        cutoff = measured_at - _HOUR
        while len(history) > 1 and history[1][0] <= cutoff:
            history.popleft()
        start, start_reading = history[0]
        if start > cutoff:
            return None
        # Never negative: a meter swap restarts the count.
        return round(max(reading - start_reading, 0.0), 3)


class UpdateThrottle:
    """Lets at most one reading through per interval, averaging what it held back.

    With no interval every reading passes untouched. With one, the reading that
    passes carries the mean of each instantaneous value (power, voltage, current)
    over the readings since the previous one, so a 30 s interval shows the 30 s
    average power instead of a single sample.
    """

    __slots__ = ("_count", "_interval", "_last_emit", "_sums")

    def __init__(self, interval: float) -> None:
        """Set the minimum seconds between readings that pass."""
        self._interval = interval
        self._last_emit: float | None = None
        self._sums: dict[str, float] = {}
        self._count = 0

    def add(self, reading: MeterReading, now: float) -> MeterReading | None:
        """Take a reading received at monotonic time ``now``; return one to publish."""
        if self._interval <= 0:
            return reading
        sums = self._sums
        units = reading.units
        for name, value in reading.values.items():
            if isinstance(value, float) and units.get(name) in AVERAGED_UNITS:
                sums[name] = sums.get(name, 0.0) + value
        self._count += 1
        if self._last_emit is not None and now - self._last_emit < self._interval:
            return None
        for name, total in sums.items():
            reading.values[name] = round(total / self._count, 3)
        self._last_emit = now
        self._sums = {}
        self._count = 0
        return reading


class GasTracker:
    """Adds the last hour's consumption to each M-Bus meter's reading."""

    __slots__ = ("_per_meter",)

    def __init__(self) -> None:
        """Track nothing yet."""
        # By meter key: a meter replaced on the same channel starts afresh.
        self._per_meter: dict[str, HourlyConsumption] = {}

    def apply(self, reading: MeterReading) -> None:
        """Set ``last_hour`` on every M-Bus device that has a timed reading."""
        for key, mbus in reading.mbus.items():
            if mbus.measured_at is None or mbus.reading is None:
                continue
            tracker = self._per_meter.get(key)
            if tracker is None:
                tracker = self._per_meter[key] = HourlyConsumption()
            mbus.last_hour = tracker.update(mbus.measured_at, mbus.reading)
