"""Long-term statistics in Home Assistant's real recorder (SQLite), from the reading store."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.recorder import get_instance
from homeassistant.components.recorder.statistics import (
    list_statistic_ids,
    statistics_during_period,
)
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.smartmeter.const import DOMAIN
from custom_components.smartmeter.statistics import LongTermStatistics, statistic_object_id
from custom_components.smartmeter.store.model import Reading

from .common import setup_entry

METER = "4B384547303034303436333935353037"
OBJECT_ID = "4b384547303034303436333935353037"
START = datetime(2026, 1, 5, tzinfo=UTC)
ENERGY = (
    "energy_delivered_1",
    "energy_delivered_2",
    "energy_delivered",
    "energy_returned_1",
    "energy_returned_2",
    "energy_returned",
)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(recorder_db_url: str, enable_custom_integrations: None) -> None:
    """Prepare the recorder's database before hass starts, then load our integration."""


def push_entry(unique_id: str = METER, **options: Any) -> MockConfigEntry:
    """Return an entry without a reader: readings come through the store's writer."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Test meter",
        unique_id=unique_id,
        data={"connection_type": "push", "specification": "5"},
        options=options,
    )


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


def stream(minutes: Iterable[int], *, gas: bool = True) -> list[Reading]:
    """Return the readings at these minutes from START.

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
                START + timedelta(minutes=wanted),
                positions,
                (START + timedelta(minutes=5 * capture), gas_position(capture)) if gas else None,
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


def statistics_of(hass: HomeAssistant, entry: MockConfigEntry) -> LongTermStatistics:
    statistics = entry.runtime_data.statistics
    assert statistics is not None
    return statistics


async def store(hass: HomeAssistant, entry: MockConfigEntry, readings: list[Reading]) -> None:
    """Store readings as the API and the reader do, and file them in the statistics."""
    coordinator = entry.runtime_data
    await asyncio.wrap_future(coordinator.store.writer.submit(coordinator.meter_id, readings))
    await settle(hass, entry)


async def settle(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Wait until what the store committed is in the recorder."""
    # After the commit's listeners ran, and their callbacks on the loop.
    await hass.async_add_executor_job(entry.runtime_data.store.wait_processed)
    await hass.async_block_till_done()
    await statistics_of(hass, entry).async_flush()
    await async_wait_recording_done(hass)


async def rows(
    hass: HomeAssistant, key: str, object_id: str = OBJECT_ID
) -> list[tuple[datetime, float, float]]:
    """Return (start, state, sum) of every hour of a series."""
    statistic_id = f"{DOMAIN}:{object_id}_{key}"
    found = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        datetime(2000, 1, 1, tzinfo=UTC),
        None,
        {statistic_id},
        "hour",
        None,
        {"state", "sum"},
    )
    return [
        (datetime.fromtimestamp(row["start"], UTC), row["state"], row["sum"])
        for row in found.get(statistic_id, [])
    ]


async def hourly(hass: HomeAssistant, key: str, object_id: str = OBJECT_ID) -> list[float]:
    """Return the amount of each hour of a series: the differences of its sums."""
    sums = [row[2] for row in await rows(hass, key, object_id)]
    return [round(now - before, 9) for before, now in zip([0.0, *sums], sums, strict=False)]


def expected_energy(hours: range) -> dict[str, list[float]]:
    """Return the kWh of each series in each hour of the stream (the hour before START first)."""
    values: dict[str, list[float]] = {key: [0.0] for key in ENERGY}
    for hour in hours:
        delivered = 60 * delivered_per_minute(hour)
        per_tariff = [delivered if tariff(hour) == 1 else 0, delivered if tariff(hour) == 2 else 0]
        returned = 60 * returned_per_minute(hour)
        for key, wh in zip(ENERGY, [*per_tariff, delivered, returned, 0, returned], strict=True):
            values[key].append(wh / 1000)
    return values


def expected_gas(hours: range) -> list[float]:
    """Return the m³ of each hour: the first is the capture before START's to START's."""
    return [
        (gas_position(12 * (hour + 1)) - gas_position(12 * hour if hour >= 0 else -1)) / 1000
        for hour in (-1, *hours)
    ]


async def test_hourly_rows_of_a_multi_day_stream(
    recorder_mock: Recorder, hass: HomeAssistant
) -> None:
    """Three days of minute readings: each hour holds exactly its kWh and m³."""
    entry = push_entry()
    await setup_entry(hass, entry)
    # Up to a minute past the third day, whose reading shows the gas captured at its end.
    await store(hass, entry, stream(range(3 * 24 * 60 + 2)))

    delivered = await rows(hass, "energy_delivered")
    # From the hour ending with the first reading to the one holding the last.
    assert [row[0] for row in delivered] == [
        START + timedelta(hours=hour) for hour in range(-1, 73)
    ]
    # The state is the meter's position at the hour's end.
    assert delivered[0][1] == 3000.0
    expected = expected_energy(range(73))
    # The last hour holds one minute so far.
    for key in ENERGY:
        *whole, last = expected[key]
        assert await hourly(hass, key) == [*whole, round(last / 60, 9)], key
    assert await hourly(hass, "gas") == [*expected_gas(range(72)), 0.0]
    gas_rows = await rows(hass, "gas")
    assert gas_rows[-1][1] == gas_position(12 * 72) / 1000
    # Without contracts there are no cost series.
    assert await rows(hass, "energy_delivered_cost") == []
