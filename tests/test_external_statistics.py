"""Statistics of a source that gives its hours' increments (an API), in the real recorder."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from unittest.mock import patch
from zoneinfo import ZoneInfo

from homeassistant.components.recorder.core import Recorder
from homeassistant.components.recorder.statistics import get_metadata
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.smartmeter.external_statistics import (
    ExternalStatistics,
    IncrementStatistics,
    StatisticsSettings,
)
from custom_components.smartmeter.longterm import Increment, Priced, Series
from custom_components.smartmeter.store.records import EnergySupplierPrice
from tests.common import statistic_rows

HOUR = 3_600_000_000
# 2026-03-01 00:00 UTC.
T0 = round(datetime(2026, 3, 1, tzinfo=UTC).timestamp()) * 1_000_000
USED = Series("used", "energy", "used")
MADE = Series("made", "energy", "made")
USED_COST = Series("used_cost", "money", "used cost")
CONTRACT = EnergySupplierPrice(
    start=date(2026, 1, 1),
    end=date(2026, 12, 31),
    electricity_delivered_1_price=Decimal("0.251234"),
)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(recorder_db_url: str, enable_custom_integrations: None) -> None:
    """Prepare the recorder's database before hass starts."""


class Hours:
    """A source keeping its hours' Wh in memory: (start µs) -> {series key: Wh}."""

    def __init__(self, hours: dict[int, dict[str, int]]) -> None:
        self.hours = hours

    def first_hour(self) -> int | None:
        return min(self.hours, default=None)

    def hour_before(self, at: int) -> int | None:
        return max((hour for hour in self.hours if hour < at), default=None)

    def increments(self, start: int) -> Iterable[Increment]:
        return [Increment(hour, self.hours[hour]) for hour in sorted(self.hours) if hour >= start]


def statistics(hass: HomeAssistant, source: Hours, version: int = 1) -> IncrementStatistics:
    zone = ZoneInfo("Europe/Paris")
    return IncrementStatistics(
        hass,
        recorded=ExternalStatistics(
            hass, object_id="linky_1", title="Home", names={"used": "{title} used energy"}
        ),
        settings=StatisticsSettings(
            hass, "entry", version=version, contracts=[CONTRACT], time_zone=zone
        ),
        source=source,
        series=lambda: (USED, MADE),
        priced=lambda: (Priced(USED_COST, USED, 0),),
        contracts=[CONTRACT],
        time_zone=zone,
    )


async def rows(hass: HomeAssistant, key: str) -> list[tuple[int, float, float]]:
    """Return (start µs, state, sum) of every row of a series."""
    return [
        (round(row["start"] * 1_000_000), row["state"] or 0.0, row["sum"] or 0.0)
        for row in await statistic_rows(hass, f"smartmeter:linky_1_{key}")
    ]


async def test_changed_hours_continue_the_recorded_sums(
    recorder_mock: Recorder, hass: HomeAssistant
) -> None:
    """Hours filed, then a later hour changed and a new one: the sums before are read back."""
    source = Hours({T0: {"used": 1500, "made": 0}, T0 + 24 * HOUR: {"used": 250, "made": 1001}})
    filed = statistics(hass, source)
    await filed.async_start()
    assert await rows(hass, "used") == [(T0, 1.5, 1.5), (T0 + 24 * HOUR, 1.75, 1.75)]
    # 1.5 kWh at 0.251234: 0.376851; 0.25 kWh: 0.0628085.
    assert await rows(hass, "used_cost") == [
        (T0, 0.376851, 0.376851),
        (T0 + 24 * HOUR, 0.4396595, 0.4396595),
    ]

    source.hours[T0 + 24 * HOUR] = {"used": 333, "made": 1001}
    source.hours[T0 + 25 * HOUR] = {"used": 7, "made": 2}
    with patch.object(
        Recorder, "async_clear_statistics", wraps=recorder_mock.async_clear_statistics
    ) as clear:
        await filed.async_update(T0 + 24 * HOUR)
    clear.assert_not_called()
    assert await rows(hass, "used") == [
        (T0, 1.5, 1.5),
        (T0 + 24 * HOUR, 1.833, 1.833),
        (T0 + 25 * HOUR, 1.84, 1.84),
    ]
    assert await rows(hass, "made") == [
        (T0, 0.0, 0.0),
        (T0 + 24 * HOUR, 1.001, 1.001),
        (T0 + 25 * HOUR, 1.003, 1.003),
    ]
    # 1.840 kWh at 0.251234, exactly.
    assert (await rows(hass, "used_cost"))[-1][2] == 0.46227056


async def test_a_missing_sum_makes_everything_again(
    recorder_mock: Recorder, hass: HomeAssistant
) -> None:
    """A series cleared behind the source's back: the next update starts from the first hour."""
    source = Hours({T0: {"used": 1000, "made": 5}, T0 + HOUR: {"used": 2000, "made": 5}})
    filed = statistics(hass, source)
    await filed.async_start()
    get_instance(hass).async_clear_statistics(["smartmeter:linky_1_made"])
    await async_wait_recording_done(hass)
    source.hours[T0 + 2 * HOUR] = {"used": 1, "made": 1}
    await filed.async_update(T0 + 2 * HOUR)
    assert await rows(hass, "made") == [
        (T0, 0.005, 0.005),
        (T0 + HOUR, 0.01, 0.01),
        (T0 + 2 * HOUR, 0.011, 0.011),
    ]
    assert [row[2] for row in await rows(hass, "used")] == [1.0, 3.0, 3.001]


async def test_settings_changed_rebuild_on_start(
    recorder_mock: Recorder, hass: HomeAssistant
) -> None:
    """Unchanged settings leave the rows be on start; a new computation makes them again."""
    source = Hours({T0: {"used": 1000, "made": 0}})
    await statistics(hass, source).async_start()
    source.hours[T0] = {"used": 4000, "made": 0}
    await statistics(hass, source).async_start()
    assert await rows(hass, "used") == [(T0, 1.0, 1.0)]
    await statistics(hass, source, version=2).async_start()
    assert await rows(hass, "used") == [(T0, 4.0, 4.0)]
    metadata = await get_instance(hass).async_add_executor_job(
        partial(get_metadata, hass, statistic_ids={"smartmeter:linky_1_used"})
    )
    assert metadata["smartmeter:linky_1_used"][1]["name"] == "Home used energy"
