"""Generated readings whose hourly energy and gas are known exactly."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from custom_components.smartmeter.store.model import Reading

START = datetime(2026, 1, 5, tzinfo=UTC)


def delivered_per_minute(hour: int) -> int:
    """Return the Wh delivered each minute of hour (counted from START)."""
    return 1 + (hour * 7) % 5


def tariff(hour: int) -> int:
    return 1 if hour % 3 == 0 else 2


def returned_per_minute(hour: int) -> int:
    return 2 if hour % 4 == 1 else 0


def gas_increment(capture: int) -> int:
    """Return the dm³ between gas capture `capture` (every 5 minutes from START) and the next."""
    return 1 + (capture // 12) % 4 if capture >= 0 else 1


def gas_position(capture: int) -> int:
    """Return the gas meter's position (dm³) captured at START + 5 minutes x capture."""
    if capture < 0:
        return 100_000 + capture
    return 100_000 + sum(gas_increment(index) for index in range(capture))


def stream(minutes: Iterable[int], *, start: datetime = START, gas: bool = True) -> list[Reading]:
    """Return the readings at these minutes from start.

    Each minute of an hour adds that hour's Wh to its tariff; a reading shows the gas captured
    at the last 5-minute mark at least a minute before it, as a DSMR 5 meter passes it on.
    """
    positions = [1_000_000, 2_000_000, 300_000, 400_000]
    minute = 0
    readings = []
    for wanted in sorted(minutes):
        while minute < wanted:
            hour = minute // 60
            positions[tariff(hour) - 1] += delivered_per_minute(hour)
            positions[2] += returned_per_minute(hour)
            minute += 1
        capture = (wanted - 1) // 5
        readings.append(
            reading(
                start + timedelta(minutes=wanted),
                positions,
                (start + timedelta(minutes=5 * capture), gas_position(capture)) if gas else None,
            )
        )
    return readings


def reading(
    timestamp: datetime, positions: Sequence[int], gas: tuple[datetime, int] | None = None
) -> Reading:
    """Return a reading with positions (Wh: delivered 1, 2, returned 1, 2) and gas (dm³)."""
    wh = [Decimal(value).scaleb(-3) for value in positions]
    return Reading(
        timestamp=timestamp,
        electricity_delivered_1=wh[0],
        electricity_delivered_2=wh[1],
        electricity_returned_1=wh[2],
        electricity_returned_2=wh[3],
        electricity_currently_delivered=Decimal("0.000"),
        electricity_currently_returned=Decimal("0.000"),
        extra_device_timestamp=None if gas is None else gas[0],
        extra_device_delivered=None if gas is None else Decimal(gas[1]).scaleb(-3),
    )
