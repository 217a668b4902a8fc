"""Long-term statistics in Home Assistant's real recorder (SQLite), from the reading store."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
import itertools
import re
import threading
from typing import Any, Literal
from unittest.mock import patch
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.energy.data import (
    GasSourceType,
    WaterSourceType,
    async_get_manager,
)
from homeassistant.components.energy.validate import async_validate
from homeassistant.components.recorder.core import Recorder
from homeassistant.components.recorder.statistics import (
    list_statistic_ids,
)
from homeassistant.components.recorder.tasks import RecorderTask
from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.recorder import get_instance
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.smartmeter.const import DOMAIN
from custom_components.smartmeter.kinds.p1.coordinator import SmartMeterCoordinator
from custom_components.smartmeter.kinds.p1.setup import default_database_url
from custom_components.smartmeter.longterm import ALL_SERIES, affected_from
from custom_components.smartmeter.statistics import (
    RUNNING_HOUR_EVERY,
    UPDATE_COOLDOWN,
    LongTermStatistics,
)
from custom_components.smartmeter.store.errors import StoreError
from custom_components.smartmeter.store.model import Capture, Reading, datetime_to_us
from custom_components.smartmeter.store.store import ReadingStore
from meter_simulator.simulator import MeterSimulator
from tests.common import wait_processed

from .common import network_entry, setup_entry, statistic_rows, until
from .meters import TcpMeter, telegram
from .streams import (
    START,
    delivered_per_minute,
    gas_position,
    reading,
    returned_per_minute,
    stream,
    tariff,
)

METER = "4B384547303034303436333935353037"
OBJECT_ID = "4b384547303034303436333935353037"
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


def push_entry(unique_id: str = METER, specification: str = "5", **options: Any) -> MockConfigEntry:
    """Return an entry without a reader: readings come through the store's writer."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Test meter",
        unique_id=unique_id,
        data={"connection_type": "push", "specification": specification},
        options=options,
    )


def statistics_of(hass: HomeAssistant, entry: MockConfigEntry) -> LongTermStatistics:
    statistics: LongTermStatistics | None = entry.runtime_data.statistics
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
    await hass.async_add_executor_job(wait_processed, entry.runtime_data.store)
    await hass.async_block_till_done()
    # The update the commits scheduled, without its cool-down.
    statistics = statistics_of(hass, entry)
    statistics._debouncer.async_cancel()
    await statistics._async_update()
    await async_wait_recording_done(hass)


async def rows(
    hass: HomeAssistant, key: str, object_id: str = OBJECT_ID
) -> list[tuple[datetime, float, float]]:
    """Return (start, state, sum) of every hour of a series."""
    result = []
    for row in await statistic_rows(hass, f"{DOMAIN}:{object_id}_{key}"):
        state, total = row["state"], row["sum"]
        assert state is not None
        assert total is not None
        result.append((datetime.fromtimestamp(row["start"], UTC), state, total))
    return result


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


async def test_statistic_names_in_the_language_of_home_assistant(
    recorder_mock: Recorder, hass: HomeAssistant
) -> None:
    """Statistics are named as entities are: in Home Assistant's language, after the meter."""
    hass.config.language = "nl"
    entry = push_entry()
    await setup_entry(hass, entry)
    await store(hass, entry, stream(range(61)))
    assert (await statistic_metadata(hass, "energy_delivered"))[1] == (
        "Test meter elektriciteit geleverd"
    )
    assert (await statistic_metadata(hass, "gas"))[1] == "Test meter gas geleverd"


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


async def all_rows(
    hass: HomeAssistant, object_id: str = OBJECT_ID, keys: Sequence[str] = (*ENERGY, "gas")
) -> dict[str, list[tuple[datetime, float, float]]]:
    return {key: await rows(hass, key, object_id) for key in keys}


def no_negative_hours(series: dict[str, list[tuple[datetime, float, float]]]) -> bool:
    return all(
        now[2] >= before[2]
        for found in series.values()
        for before, now in itertools.pairwise(found)
    )


KEY = "K" * 64
V1 = "/api/v1/datalogger/dsmrreading"
V2_READINGS = "/api/v2/datalogger/dsmrreading"


async def test_outage_caught_up_through_api_v1_equals_no_outage(
    recorder_mock: Recorder, hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator
) -> None:
    """Two meters get the same telegrams through API v1, one with a 3-hour gap sent later."""
    steady = push_entry("steady", api_enabled=True, api_key=KEY)
    late = push_entry("late", api_enabled=True, api_key=KEY.lower())
    await setup_entry(hass, steady)
    await setup_entry(hass, late)
    client = await hass_client_no_auth()
    start = datetime(2026, 1, 5, 10, tzinfo=UTC)
    simulator = MeterSimulator(telegram("v5.txt"), start=start)
    # A telegram every 5 minutes, for 8 hours.
    frames = {
        minute: simulator.telegram_at(start + timedelta(minutes=minute)).decode()
        for minute in range(0, 8 * 60 + 1, 5)
    }

    async def post(key: str, first: int, end: int) -> None:
        for minute in range(first, end, 5):
            response = await client.post(
                V1, data={"telegram": frames[minute]}, headers={"X-AUTHKEY": key}
            )
            assert response.status == 201, await response.text()

    await post(KEY, 0, 8 * 60 + 1)
    await settle(hass, steady)
    await post(KEY.lower(), 0, 3 * 60)
    # The link drops for three hours; the local reader is back at 16:00.
    await post(KEY.lower(), 6 * 60, 8 * 60 + 1)
    await settle(hass, late)
    expected = await all_rows(hass, "steady")
    during = await all_rows(hass, "late")
    assert no_negative_hours(during)
    hours = [row[0] for row in during["energy_delivered"]]
    # No hour ends in the gap: its energy is in the hour that ends with the first reading after.
    assert start + timedelta(hours=4) not in hours
    assert during["energy_delivered"][-1][2] == expected["energy_delivered"][-1][2]
    # The datalogger catches up.
    await post(KEY.lower(), 3 * 60, 6 * 60)
    await settle(hass, late)
    assert await all_rows(hass, "late") == expected
    assert len(expected["energy_delivered"]) == 10
    assert no_negative_hours(expected)


async def test_v2_post_of_past_readings(
    recorder_mock: Recorder, hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator
) -> None:
    """A past reading moves energy to its hour; one before all others raises every later sum."""
    entry = push_entry(api_enabled=True, api_key=KEY)
    await setup_entry(hass, entry)
    client = await hass_client_no_auth()
    full = stream(range(6 * 60 + 1), gas=False)
    # Hour 2 lost its readings, and the first hour is not there yet.
    await store(hass, entry, [item for i, item in enumerate(full) if i >= 60 and i // 60 != 2])
    # Per hour from the one before the stream.
    expected = expected_energy(range(6))["energy_delivered"]
    before = await hourly(hass, "energy_delivered")
    # Hour 1 ends with the reading of 01:59; the hour ending with 03:00's holds the rest.
    assert before[:3] == [
        0.0,
        round(expected[2] * 59 / 60, 9),
        round(expected[2] / 60 + expected[3], 9),
    ]
    assert before[3:] == [*expected[4:], 0.0]

    async def post(item: Reading) -> None:
        body = {
            "timestamp": item.timestamp.isoformat(),
            "electricity_delivered_1": str(item.electricity_delivered_1),
            "electricity_delivered_2": str(item.electricity_delivered_2),
            "electricity_returned_1": str(item.electricity_returned_1),
            "electricity_returned_2": str(item.electricity_returned_2),
            "electricity_currently_delivered": "0",
            "electricity_currently_returned": "0",
        }
        response = await client.post(V2_READINGS, json=body, headers={"X-AUTHKEY": KEY})
        assert response.status == 201, await response.text()

    sums_before = [row[2] for row in await rows(hass, "energy_delivered")]
    # The reading of 02:00 arrives: hour 1 is whole, hour 2 holds the rest.
    await post(full[120])
    await settle(hass, entry)
    assert await hourly(hass, "energy_delivered") == [0.0, *expected[2:], 0.0]
    sums = [row[2] for row in await rows(hass, "energy_delivered")]
    assert sums[1] != sums_before[1]
    assert sums[2:] == sums_before[2:]
    # The first hour's readings arrive: it gets its row, and every later sum rises by it.
    for item in full[:60]:
        await post(item)
    await settle(hass, entry)
    assert await hourly(hass, "energy_delivered") == [*expected, 0.0]
    sums_now = [row[2] for row in await rows(hass, "energy_delivered")]
    assert [round(now - then, 9) for now, then in zip(sums_now[1:], sums, strict=True)] == [
        expected[1]
    ] * len(sums)


async def test_sums_continue_across_reloads_and_readings_stored_meanwhile(
    recorder_mock: Recorder, hass: HomeAssistant
) -> None:
    """Reload in the middle; readings stored while unloaded are taken at the next start."""
    entry = push_entry()
    await setup_entry(hass, entry)
    full = stream(range(3 * 24 * 60 + 2))
    await store(hass, entry, full[: 24 * 60 + 30])
    url = default_database_url(hass, entry)
    assert await hass.config_entries.async_unload(entry.entry_id)
    # Another writer of the same database (a second Home Assistant on PostgreSQL, a crash
    # before the statistics took the last readings): the next start takes them.
    outside = await hass.async_add_executor_job(ReadingStore.open, url)
    await hass.async_add_executor_job(
        lambda: outside.writer.submit(METER, full[24 * 60 + 30 : 2 * 24 * 60]).result()
    )
    await hass.async_add_executor_job(outside.close)
    with patch.object(
        Recorder, "async_clear_statistics", wraps=recorder_mock.async_clear_statistics
    ) as clear:
        assert await hass.config_entries.async_setup(entry.entry_id)
        # The catch-up runs in the background.
        await hass.async_block_till_done(wait_background_tasks=True)
        await async_wait_recording_done(hass)
    # It continued from the last hour in the recorder: nothing was cleared and made again.
    clear.assert_not_called()
    assert (await rows(hass, "energy_delivered"))[-1][0] == START + timedelta(hours=47)
    await store(hass, entry, full[2 * 24 * 60 :])

    expected = expected_energy(range(73))
    for key in ENERGY:
        *whole, last = expected[key]
        assert await hourly(hass, key) == [*whole, round(last / 60, 9)], key
    assert await hourly(hass, "gas") == [*expected_gas(range(72)), 0.0]
    # Everything was made once, on the first start; later starts continued from the recorder.
    rebuilt = await all_rows(hass)
    await statistics_of(hass, entry).async_rebuild()
    await async_wait_recording_done(hass)
    assert await all_rows(hass) == rebuilt


@dataclass(slots=True)
class HoldRecorder(RecorderTask):
    """Keep the recorder's thread busy until released, as another source's years would."""

    held: threading.Event
    released: threading.Event

    def run(self, instance: Recorder) -> None:
        self.held.set()
        self.released.wait()


async def test_an_unload_does_not_wait_for_a_busy_recorder(
    recorder_mock: Recorder, hass: HomeAssistant
) -> None:
    """The stop files the last readings; the recorder writes them when it gets to them."""
    entry = push_entry()
    await setup_entry(hass, entry)
    full = stream(range(3 * 60 + 2))
    await store(hass, entry, full[:90])
    hold = HoldRecorder(threading.Event(), threading.Event())
    recorder_mock.queue_task(hold)
    await hass.async_add_executor_job(hold.held.wait)
    try:
        writer = entry.runtime_data.store.writer
        await asyncio.wrap_future(writer.submit(METER, full[90:]))
        await hass.async_add_executor_job(wait_processed, entry.runtime_data.store)
        # Home Assistant gives up waiting for an unload's tasks after 10 s, leaving them running.
        assert await hass.config_entries.async_unload(entry.entry_id)
        with pytest.raises(StoreError, match="closed"):
            writer.submit(METER, full[:1])
    finally:
        hold.released.set()
    await async_wait_recording_done(hass)
    # Three hours and the first minute of the fourth.
    expected = expected_energy(range(4))
    for key in ENERGY:
        *whole, last = expected[key]
        assert await hourly(hass, key) == [*whole, round(last / 60, 9)], key


async def test_backfill_of_history_stored_before_setup(
    recorder_mock: Recorder, hass: HomeAssistant
) -> None:
    """History in the store before the integration first runs (e.g. imported): all of it."""
    entry = push_entry()
    entry.add_to_hass(hass)
    url = default_database_url(hass, entry)
    history = await hass.async_add_executor_job(ReadingStore.open, url)
    # And a water meter's captures on every hour, 10 litres apart.
    water = [
        Capture(
            channel=2,
            kind="water",
            captured=START + timedelta(hours=hour),
            value=Decimal(100_000 + 10 * hour).scaleb(-3),
        )
        for hour in range(40 * 24 + 1)
    ]
    await hass.async_add_executor_job(
        lambda: history.writer.submit(
            METER, stream(range(0, 40 * 24 * 60 + 1, 15)), captures=water
        ).result()
    )
    await hass.async_add_executor_job(history.close)
    assert await hass.config_entries.async_setup(entry.entry_id)
    # The catch-up runs in the background.
    await hass.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(hass)

    expected = expected_energy(range(40 * 24))
    # More than a chunk: computed and handed over month by month.
    assert len(expected["energy_delivered"]) > 31 * 24
    for key in ENERGY:
        assert await hourly(hass, key) == [*expected[key], 0.0], key
    # The capture of 00:00 ends the hour before START, and counts from itself.
    assert await hourly(hass, "water") == [0.0] + [0.01] * 40 * 24


def replacement_issue(
    hass: HomeAssistant, entry: MockConfigEntry, kind: str, at: datetime
) -> dict[str, str]:
    """Return the placeholders of the repair issue about a meter of a kind replaced at a time."""
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"meter_replaced_{entry.entry_id}_{kind}_{int(at.timestamp() * 1_000_000)}"
    )
    assert issue is not None
    assert issue.translation_key == f"{kind}_meter_replaced"
    # Told once, when the hours are computed: it must outlive a restart.
    assert issue.is_persistent
    assert issue.translation_placeholders is not None
    return dict(issue.translation_placeholders)


async def test_meter_replacement(recorder_mock: Recorder, hass: HomeAssistant) -> None:
    """Positions drop to a new meter's: the sums keep rising and a repair issue says why."""
    entry = push_entry()
    await setup_entry(hass, entry)
    start = START
    old = [
        reading(start + timedelta(minutes=minute), [1_000_000 + 10 * minute, 5000, 0, 0])
        for minute in range(91)
    ]
    # At 01:35 the new meter shows 0.007 kWh on tariff 1 and counts on from there.
    new = [
        reading(start + timedelta(minutes=minute), [7 + 10 * (minute - 95), 0, 0, 0])
        for minute in range(95, 181)
    ]
    await store(hass, entry, [*old, *new])

    # Hour 1: 30 minutes on the old meter, 25 on the new one; 5 minutes unseen.
    assert await hourly(hass, "energy_delivered_1") == [0.0, 0.6, 0.55, 0.6, 0.0]
    assert await hourly(hass, "energy_delivered") == [0.0, 0.6, 0.55, 0.6, 0.0]
    states = [row[1] for row in await rows(hass, "energy_delivered")]
    assert states == [1005.0, 1005.6, 0.257, 0.857, 0.857]
    assert replacement_issue(hass, entry, "electricity", start + timedelta(minutes=95)) == {
        "title": "Test meter",
        "time": "2026-01-04 17:35:00",
        "before": "1005.900",
        "after": "0.007",
    }


async def test_gas_meter_replacement(recorder_mock: Recorder, hass: HomeAssistant) -> None:
    entry = push_entry()
    await setup_entry(hass, entry)
    readings = [
        reading(
            START + timedelta(minutes=minute),
            [1000, 0, 0, 0],
            (
                START + timedelta(minutes=minute),
                5000 + minute if minute < 90 else 30 + minute - 90,
            ),
        )
        for minute in range(0, 181, 30)
    ]
    await store(hass, entry, readings)
    assert await hourly(hass, "gas") == [0.0, 0.06, 0.0, 0.06, 0.0]
    issues = [
        issue
        for (domain, _), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN and issue.translation_key == "gas_meter_replaced"
    ]
    assert [issue.translation_placeholders for issue in issues] == [
        {"title": "Test meter", "time": "2026-01-04 18:00:00", "before": "5.060", "after": "0.060"}
    ]


AMSTERDAM = ZoneInfo("Europe/Amsterdam")
PRICE_NAMES = (
    "electricity_delivered_1_price",
    "electricity_delivered_2_price",
    "electricity_returned_1_price",
    "electricity_returned_2_price",
)


def contract(start: date, end: date, prices: Sequence[str], gas: str) -> dict[str, Any]:
    """Return the subentry of an energy contract (prices per kWh by PRICE_NAMES, gas per m³)."""
    return {
        "data": {
            "description": f"From {start}",
            "start": start.isoformat(),
            "end": end.isoformat(),
            **dict(zip(PRICE_NAMES, prices, strict=True)),
            "gas_price": gas,
            "fixed_daily_cost": "0.500000",
        },
        "subentry_type": "energy_contract",
        "title": f"From {start}",
        "unique_id": None,
    }


FIRST_PRICES = ("0.210000", "0.250000", "0.070000", "0.090000")
SECOND_PRICES = ("0.223400", "0.310000", "0.050000", "0.060000")
COSTS = {
    "energy_delivered_1_cost": (0,),
    "energy_delivered_2_cost": (1,),
    "energy_delivered_cost": (0, 1),
    "energy_returned_1_compensation": (2,),
    "energy_returned_2_compensation": (3,),
    "energy_returned_compensation": (2, 3),
}


def energy_of_hour(hour: int) -> list[int]:
    """Return the Wh of hour (from the stream's start) per position: delivered 1, 2, returned."""
    delivered = 60 * delivered_per_minute(hour)
    return [
        delivered if tariff(hour) == 1 else 0,
        delivered if tariff(hour) == 2 else 0,
        60 * returned_per_minute(hour),
        0,
    ]


async def test_costs_are_consumption_times_price(
    recorder_mock: Recorder, hass: HomeAssistant
) -> None:
    """Per tariff, with the prices changing at a local midnight in the middle."""
    await hass.config.async_set_time_zone("Europe/Amsterdam")
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Test meter",
        unique_id=METER,
        data={"connection_type": "push", "specification": "5"},
        subentries_data=[
            contract(date(2026, 1, 1), date(2026, 1, 5), FIRST_PRICES, "1.300000"),
            contract(date(2026, 1, 6), date(2026, 12, 31), SECOND_PRICES, "1.450000"),
        ],
    )
    await setup_entry(hass, entry)
    await store(hass, entry, stream(range(2 * 24 * 60 + 2)))

    def price_of(hour: int) -> tuple[list[Decimal], Decimal]:
        day = (START + timedelta(hours=hour)).astimezone(AMSTERDAM).date()
        prices, gas = (FIRST_PRICES, "1.3") if day <= date(2026, 1, 5) else (SECOND_PRICES, "1.45")
        return [Decimal(price) for price in prices], Decimal(gas)

    # Local 6 January starts at 23:00 UTC: the second contract's prices from hour 23 on.
    assert price_of(22)[0][0] == Decimal("0.21")
    assert price_of(23)[0][0] == Decimal("0.2234")
    hours = range(-1, 49)
    for key, positions in COSTS.items():
        expected = []
        for hour in hours:
            prices, _ = price_of(hour)
            wh = energy_of_hour(hour) if 0 <= hour < 48 else [0, 0, 0, 0]
            if hour == 48:  # one minute so far
                wh = [value // 60 for value in energy_of_hour(48)]
            cost = sum(wh[index] * prices[index] for index in positions) / 1000
            expected.append(float(round(Decimal(cost), 9)))
        assert await hourly(hass, key) == expected, key
    gas = [*expected_gas(range(48)), 0.0]
    assert await hourly(hass, "gas_cost") == [
        float(round(Decimal(str(m3)) * price_of(hour)[1], 9))
        for hour, m3 in zip(hours, gas, strict=True)
    ]
    # Money is in the configured currency, without a unit class.
    listed = await get_instance(hass).async_add_executor_job(
        list_statistic_ids, hass, {f"{DOMAIN}:{OBJECT_ID}_gas_cost", f"{DOMAIN}:{OBJECT_ID}_gas"}
    )
    assert sorted(
        (item["statistic_id"], item["unit_class"], item["statistics_unit_of_measurement"])
        for item in listed
    ) == [
        (f"{DOMAIN}:{OBJECT_ID}_gas", "volume", "m³"),
        (f"{DOMAIN}:{OBJECT_ID}_gas_cost", None, "EUR"),
    ]


@pytest.mark.parametrize(
    ("first_hour", "day", "hours_in_day"),
    [
        (datetime(2026, 3, 28, 12, tzinfo=UTC), date(2026, 3, 29), 23),
        (datetime(2026, 10, 24, 12, tzinfo=UTC), date(2026, 10, 25), 25),
    ],
)
async def test_dst_days_hold_their_hours(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    first_hour: datetime,
    day: date,
    hours_in_day: int,
) -> None:
    """The 23- and 25-hour days get their hours, priced with that local day's contract."""
    await hass.config.async_set_time_zone("Europe/Amsterdam")
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Test meter",
        unique_id=METER,
        data={"connection_type": "push", "specification": "5"},
        subentries_data=[
            contract(date(2026, 1, 1), day - timedelta(days=1), FIRST_PRICES, "1.300000"),
            contract(day, date(2026, 12, 31), SECOND_PRICES, "1.450000"),
        ],
    )
    await setup_entry(hass, entry)
    await store(hass, entry, stream(range(48 * 60 + 1), start=first_hour))

    delivered = await rows(hass, "energy_delivered")
    amounts = dict(
        zip([row[0] for row in delivered], await hourly(hass, "energy_delivered"), strict=True)
    )
    costs = dict(
        zip([row[0] for row in delivered], await hourly(hass, "energy_delivered_cost"), strict=True)
    )
    in_day = [start for start in amounts if start.astimezone(AMSTERDAM).date() == day]
    assert len(in_day) == hours_in_day
    assert in_day[0].astimezone(AMSTERDAM).hour == 0
    for start in in_day:
        hour = (start - first_hour) // timedelta(hours=1)
        wh = energy_of_hour(hour)
        assert amounts[start] == (wh[0] + wh[1]) / 1000
        assert costs[start] == float(
            round((wh[0] * Decimal(SECOND_PRICES[0]) + wh[1] * Decimal(SECOND_PRICES[1])) / 1000, 9)
        )
    # The hour before the day's first is the day before's, at its prices.
    before = in_day[0] - timedelta(hours=1)
    wh = energy_of_hour((before - first_hour) // timedelta(hours=1))
    assert costs[before] == float(
        round((wh[0] * Decimal(FIRST_PRICES[0]) + wh[1] * Decimal(FIRST_PRICES[1])) / 1000, 9)
    )


async def test_rebuild_service(recorder_mock: Recorder, hass: HomeAssistant) -> None:
    """Rebuilding from a day or from the start gives the same rows: imports are idempotent."""
    entry = push_entry()
    await setup_entry(hass, entry)
    await store(hass, entry, stream(range(3 * 24 * 60 + 2)))
    made = await all_rows(hass)

    await hass.services.async_call(
        DOMAIN,
        "rebuild_statistics",
        {"config_entry_id": entry.entry_id, "start_date": "2026-01-06"},
        blocking=True,
    )
    await async_wait_recording_done(hass)
    assert await all_rows(hass) == made
    with patch.object(
        Recorder, "async_clear_statistics", wraps=recorder_mock.async_clear_statistics
    ) as clear:
        await hass.services.async_call(
            DOMAIN, "rebuild_statistics", {"config_entry_id": entry.entry_id}, blocking=True
        )
        await async_wait_recording_done(hass)
    # Everything was cleared and made again: each group of series on its own.
    cleared = [sorted(call.args[0]) for call in clear.call_args_list]
    assert cleared == [
        sorted(f"{DOMAIN}:{OBJECT_ID}_{series.key}" for series in ALL_SERIES),
        [f"{DOMAIN}:{OBJECT_ID}_water"],
        [f"{DOMAIN}:{OBJECT_ID}_heat"],
    ]
    assert await all_rows(hass) == made


async def test_rebuild_of_a_meter_that_is_not_there(
    recorder_mock: Recorder, hass: HomeAssistant
) -> None:
    entry = push_entry()
    await setup_entry(hass, entry)
    assert await hass.config_entries.async_unload(entry.entry_id)
    for entry_id in (entry.entry_id, "nonsense"):
        with pytest.raises(ServiceValidationError) as raised:
            await hass.services.async_call(
                DOMAIN, "rebuild_statistics", {"config_entry_id": entry_id}, blocking=True
            )
        assert raised.value.translation_key == "meter_not_loaded"


async def test_without_the_recorder_there_are_no_statistics(hass: HomeAssistant) -> None:
    entry = push_entry()
    await setup_entry(hass, entry)
    assert entry.runtime_data.statistics is None
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN, "rebuild_statistics", {"config_entry_id": entry.entry_id}, blocking=True
        )
    assert raised.value.translation_key == "no_recorder"


async def test_rebuild_that_fails_says_why(
    recorder_mock: Recorder, hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reading database that fails mid-rebuild is a translated error, not a stack trace."""
    entry = push_entry()
    await setup_entry(hass, entry)
    await settle(hass, entry)

    def gone() -> None:
        raise StoreError("the database is gone")

    monkeypatch.setattr(entry.runtime_data.store, "read", gone)
    with pytest.raises(HomeAssistantError) as raised:
        await hass.services.async_call(
            DOMAIN, "rebuild_statistics", {"config_entry_id": entry.entry_id}, blocking=True
        )
    assert raised.value.translation_key == "rebuild_failed"
    assert raised.value.translation_placeholders == {"error": "the database is gone"}


async def test_changed_contracts_remake_everything(
    recorder_mock: Recorder, hass: HomeAssistant
) -> None:
    """A new contract reloads the entry; its costs cover all hours, and go with it."""
    await hass.config.async_set_time_zone("Europe/Amsterdam")
    entry = push_entry()
    await setup_entry(hass, entry)
    await store(hass, entry, stream(range(24 * 60 + 1), gas=False))
    energy = await all_rows(hass, keys=ENERGY)
    assert await rows(hass, "energy_delivered_cost") == []
    subentry = ConfigSubentry(**contract(date(2026, 1, 1), date(2026, 12, 31), FIRST_PRICES, "1.3"))
    hass.config_entries.async_add_subentry(entry, subentry)
    await hass.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(hass)
    assert await all_rows(hass, keys=ENERGY) == energy
    delivered = await hourly(hass, "energy_delivered_1")
    costs = await hourly(hass, "energy_delivered_1_cost")
    assert costs == [round(kwh * 0.21, 9) for kwh in delivered]
    assert sum(costs) > 0
    hass.config_entries.async_remove_subentry(entry, subentry.subentry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(hass)
    assert await rows(hass, "energy_delivered_1_cost") == []
    assert await all_rows(hass, keys=ENERGY) == energy


async def test_gas_arriving_late_and_a_meter_without_gas(
    recorder_mock: Recorder, hass: HomeAssistant
) -> None:
    """Gas counts from its first capture; a DSMR 4 meter passes the hourly capture on late."""
    entry = push_entry()
    await setup_entry(hass, entry)
    # Two hours without gas, then a gas meter captured on the hour, shown 7 minutes later.
    readings = []
    for minute in range(0, 6 * 60 + 1, 1):
        hour = (minute - 7) // 60
        gas = None
        if minute >= 2 * 60:
            gas = (START + timedelta(hours=hour), 20_000 + 100 * hour * hour)
        readings.append(reading(START + timedelta(minutes=minute), [minute, 0, 0, 0], gas))
    await store(hass, entry, readings)
    # 02:00's reading shows the capture of 01:00, the first: gas counts from there. The
    # capture of 06:00 is not shown yet.
    assert await hourly(hass, "gas") == [0.3, 0.5, 0.7, 0.9, 0.0, 0.0]
    assert [row[0] for row in await rows(hass, "gas")] == [
        START + timedelta(hours=hour) for hour in range(1, 7)
    ]
    assert (await rows(hass, "energy_delivered"))[0][0] == START - timedelta(hours=1)


async def test_dates_years_apart_cost_the_hours_with_readings(
    recorder_mock: Recorder, hass: HomeAssistant
) -> None:
    """A gas clock ten years off, then a reading ten years back: each update computes one
    chunk, not one a month of the years between, and files rows only for hours with readings,
    exactly as a rebuild makes them."""
    entry = push_entry()
    await setup_entry(hass, entry)
    ten_years = timedelta(days=3652)
    await store(hass, entry, stream(range(3 * 60 + 1)))
    chunks: list[tuple[Any, ...]] = []
    compute = LongTermStatistics._compute

    def counted(self: LongTermStatistics, *arguments: Any) -> Any:
        chunks.append(arguments)
        return compute(self, *arguments)

    with patch.object(LongTermStatistics, "_compute", counted):
        # A DSMR 2.2 meter's gas, captured by a clock ten years behind.
        off = [
            reading(START + timedelta(minutes=minute), [9000, 9000, 0, 0], (START - ten_years, 5))
            for minute in (181, 182)
        ]
        await store(hass, entry, off)
        off_chunks = len(chunks)
        await store(hass, entry, [reading(START - ten_years, [1, 2, 3, 4])])
    assert (off_chunks, len(chunks)) == (1, 2)
    updated = await all_rows(hass)
    # The hours ending with the reading ten years back, and the one holding it; then the hour
    # before START and the stream's hours.
    assert [row[0] for row in updated["energy_delivered"]] == [
        START - ten_years - timedelta(hours=1),
        START - ten_years,
        *(START + timedelta(hours=hour) for hour in range(-1, 4)),
    ]
    await statistics_of(hass, entry).async_rebuild()
    await async_wait_recording_done(hass)
    assert await all_rows(hass) == updated


# An M-Bus meter's capture in a telegram: channel, local time with S (summer) or W, position.
MBUS_CAPTURE = re.compile(r"0-(\d):24\.2\.1\((\d{12})([SW])\)\(([\d.]+)\*(?:m3|GJ)\)")


def captures_of(frames: Sequence[str], channel: int) -> dict[datetime, Decimal]:
    """Return the positions a channel's meter captured, by time, as the telegrams show them."""
    found = {}
    for frame in frames:
        for match in MBUS_CAPTURE.finditer(frame):
            if int(match[1]) == channel:
                local = datetime.strptime(match[2], "%y%m%d%H%M%S")
                offset = timedelta(hours=2 if match[3] == "S" else 1)
                found[(local - offset).replace(tzinfo=UTC)] = Decimal(match[4])
    return found


def expected_hours(captures: dict[datetime, Decimal]) -> list[tuple[datetime, float, float]]:
    """Return (start, position, sum) of each hour holding captures: what its captures add.

    A capture on the hour ends the hour before it; the first one counts from itself.
    """
    hours: dict[datetime, tuple[Decimal, Decimal]] = {}
    total = Decimal(0)
    previous: Decimal | None = None
    for captured, position in sorted(captures.items()):
        hour = (captured - timedelta(microseconds=1)).replace(minute=0, second=0, microsecond=0)
        total += position - (position if previous is None else previous)
        previous = position
        hours[hour] = (position, total)
    return [(hour, float(position), float(total)) for hour, (position, total) in hours.items()]


async def statistic_metadata(hass: HomeAssistant, key: str) -> tuple[Any, ...]:
    listed = await get_instance(hass).async_add_executor_job(
        list_statistic_ids, hass, {f"{DOMAIN}:{OBJECT_ID}_{key}"}
    )
    (item,) = listed
    return (
        item["source"],
        item["name"],
        item["unit_class"],
        item["statistics_unit_of_measurement"],
        item["mean_type"],
        item["has_sum"],
    )


async def dashboard_issues(
    hass: HomeAssistant, source: Literal["gas", "water"], statistic_id: str
) -> list[Any]:
    """Return what the energy dashboard (set up) finds wrong with a gas or water source."""
    manager = await async_get_manager(hass)
    chosen: GasSourceType | WaterSourceType
    if source == "gas":
        chosen = GasSourceType(
            type="gas",
            stat_energy_from=statistic_id,
            stat_cost=None,
            entity_energy_price=None,
            number_energy_price=None,
        )
    else:
        chosen = WaterSourceType(
            type="water",
            stat_energy_from=statistic_id,
            stat_cost=None,
            entity_energy_price=None,
            number_energy_price=None,
        )
    await manager.async_update({"energy_sources": [chosen], "device_consumption": []})
    validation = (await async_validate(hass)).as_dict()
    issues: list[Any] = validation["energy_sources"][0]
    return issues


async def test_water_of_a_belgian_meter_through_api_v1(
    recorder_mock: Recorder, hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator
) -> None:
    """Water (M-Bus channel 2) gets hourly statistics; a 3-hour gap caught up changes nothing."""
    # Before the test client freezes the http routes.
    assert await async_setup_component(hass, "energy", {})
    steady = push_entry(METER, "5B", api_enabled=True, api_key=KEY)
    late = push_entry("late", "5B", api_enabled=True, api_key=KEY.lower())
    await setup_entry(hass, steady)
    await setup_entry(hass, late)
    client = await hass_client_no_auth()
    start = datetime(2026, 7, 6, 10, tzinfo=UTC)
    simulator = MeterSimulator(telegram("fluvius_v171.txt"), seed=3, start=start)
    frames = [
        simulator.telegram_at(start + timedelta(minutes=minute)).decode()
        for minute in range(0, 8 * 60 + 1, 5)
    ]

    async def post(key: str, sent: Sequence[str]) -> None:
        for frame in sent:
            response = await client.post(V1, data={"telegram": frame}, headers={"X-AUTHKEY": key})
            assert response.status == 201, await response.text()

    await post(KEY, frames[:50])
    await settle(hass, steady)
    # Restarted in the middle: the sums carry on from the recorder's.
    with patch.object(
        Recorder, "async_clear_statistics", wraps=recorder_mock.async_clear_statistics
    ) as clear:
        assert await hass.config_entries.async_reload(steady.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)
    clear.assert_not_called()
    await post(KEY, frames[50:])
    await settle(hass, steady)
    water = captures_of(frames, 2)
    assert len(water) == 97
    assert await rows(hass, "water") == expected_hours(water)
    assert len(await rows(hass, "water")) == 9
    assert (await rows(hass, "water"))[-1][1:] == (
        float(water[start + timedelta(hours=8)]),
        float(water[start + timedelta(hours=8)] - water[start]),
    )
    assert await statistic_metadata(hass, "water") == (
        DOMAIN,
        "Test meter water delivered",
        "volume",
        "m³",
        0,
        True,
    )
    assert await dashboard_issues(hass, "water", f"{DOMAIN}:{OBJECT_ID}_water") == []
    # The other meter loses 13:00-16:00 and gets it later, from a datalogger catching up.
    await post(KEY.lower(), frames[:36])
    await post(KEY.lower(), frames[72:])
    await settle(hass, late)
    gap = await rows(hass, "water", "late")
    lost = {at for at in water if start + timedelta(hours=3) <= at < start + timedelta(hours=6)}
    assert gap == expected_hours({at: value for at, value in water.items() if at not in lost})
    await post(KEY.lower(), frames[36:72])
    await settle(hass, late)
    assert await rows(hass, "water", "late") == await rows(hass, "water")


async def test_heat_meter_alone_through_the_reader(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    socket_enabled: None,
) -> None:
    """A heat meter sends telegrams without electricity: DSMR-reader keeps no reading of
    them, the heat statistics come from its captures all the same."""
    assert await async_setup_component(hass, "energy", {})
    meter = TcpMeter()
    await meter.start()
    entry = network_entry(
        meter.port, unique_id="ADC3100000158491", options={"api_enabled": True, "api_key": KEY}
    )
    await setup_entry(hass, entry)
    object_id = "adc3100000158491"
    start = datetime(2026, 2, 15, 19, tzinfo=UTC)
    simulator = MeterSimulator(telegram("unpadded_crc.txt"), start=start)
    frames = [
        simulator.telegram_at(start + timedelta(minutes=minute)).decode()
        for minute in range(0, 3 * 60 + 1, 5)
    ]
    coordinator: SmartMeterCoordinator = entry.runtime_data.coordinator

    async def send(sent: Sequence[str]) -> None:
        for frame in sent:
            await meter.send(frame.encode())

            def shown(frame: str = frame) -> bool:
                return coordinator.last_frame == frame

            await until(hass, shown)

    # The energy dashboard misses the statistic until the first hours are in.
    assert [
        issue["type"] for issue in await dashboard_issues(hass, "gas", f"{DOMAIN}:{object_id}_heat")
    ] == ["statistics_not_defined"]
    await send(frames[:20])
    await settle(hass, entry)
    await send(frames[20:36])
    await settle(hass, entry)
    # Through API v1 the telegram is refused as DSMR-reader does, its heat kept all the same.
    client = await hass_client_no_auth()
    response = await client.post(V1, data={"telegram": frames[36]}, headers={"X-AUTHKEY": KEY})
    assert (response.status, await response.text()) == (500, "Failed to parse telegram")
    await settle(hass, entry)
    heat = captures_of(frames, 1)
    assert await rows(hass, "heat", object_id) == expected_hours(heat)
    assert (await rows(hass, "heat", object_id))[-1][1:] == (240.879, 0.019)
    listed = await get_instance(hass).async_add_executor_job(list_statistic_ids, hass, None, "sum")
    assert sorted(
        (item["statistic_id"], item["unit_class"], item["statistics_unit_of_measurement"])
        for item in listed
        if item["source"] == DOMAIN
    ) == [(f"{DOMAIN}:{object_id}_heat", "energy", "GJ")]
    # The energy dashboard has no heat field; a gas source takes energy units.
    assert await dashboard_issues(hass, "gas", f"{DOMAIN}:{object_id}_heat") == []
    assert await hass.async_add_executor_job(coordinator.store.list_readings, entry.unique_id) == (
        0,
        [],
    )
    await hass.config_entries.async_unload(entry.entry_id)
    await meter.stop()


async def test_water_meter_replacement(recorder_mock: Recorder, hass: HomeAssistant) -> None:
    """A water meter's position drops: the sum keeps rising and a repair issue says why."""
    entry = push_entry()
    await setup_entry(hass, entry)
    data = entry.runtime_data

    def water(minutes: int, value: str) -> Capture:
        return Capture(
            channel=2,
            kind="water",
            captured=START + timedelta(minutes=minutes),
            value=Decimal(value),
        )

    captures = [water(0, "100.000"), water(60, "100.050"), water(90, "3.000"), water(120, "3.020")]
    await asyncio.wrap_future(data.store.writer.submit(METER, [], captures=captures))
    await settle(hass, entry)
    assert [row[1:] for row in await rows(hass, "water")] == [
        (100.0, 0.0),
        (100.05, 0.05),
        (3.02, 0.07),
    ]
    assert replacement_issue(hass, entry, "water", START + timedelta(minutes=90)) == {
        "title": "Test meter",
        "time": "2026-01-04 17:30:00",
        "before": "100.050",
        "after": "3.000",
    }


async def test_running_hour_every_five_minutes_ended_hour_and_late_readings_sooner(
    recorder_mock: Recorder, hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Readings that only add to the running hour are filed every 5 minutes, not each 30 s.

    A reading that starts a new hour, and one for an hour before the running one, are filed
    30 s after they arrive. Filed a bit at a time, the rows equal those made at once.
    """
    entry = push_entry()
    await setup_entry(hass, entry)
    await hass.async_block_till_done()
    statistics = statistics_of(hass, entry)
    imported = statistics._async_import
    starts: list[int | None] = []

    async def counted(start: int | None) -> None:
        starts.append(start)
        await imported(start)

    async def commit(minutes: Sequence[int]) -> None:
        coordinator = entry.runtime_data
        every = stream(range(max(minutes) + 1))
        readings = [every[minute] for minute in minutes]
        await asyncio.wrap_future(coordinator.store.writer.submit(coordinator.meter_id, readings))
        await hass.async_add_executor_job(wait_processed, coordinator.store)
        await hass.async_block_till_done()

    async def later(delay: timedelta) -> None:
        freezer.tick(delay)
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        await async_wait_recording_done(hass)

    def affected(minute: int) -> int:
        return affected_from(datetime_to_us(START + timedelta(minutes=minute)))

    with patch.object(statistics, "_async_import", counted):
        # The first readings since the start: filed after the cool-down.
        await commit(range(3))
        await later(timedelta(seconds=29))
        assert starts == []
        await later(timedelta(seconds=1))
        assert starts == [affected(0)]
        # Only the running hour grows: nothing for 5 minutes, however often readings come.
        for minute in range(3, 10):
            await commit([minute])
            await later(timedelta(seconds=30))
        assert starts == [affected(0)]
        await later(RUNNING_HOUR_EVERY - 7 * timedelta(seconds=30))
        assert starts == [affected(0), affected(3)]
        # A reading in the next hour: the one before ended.
        await commit([61])
        await later(UPDATE_COOLDOWN)
        assert starts == [affected(0), affected(3), affected(61)]
        # A late reading, for the hour before the running one.
        await commit([30])
        await later(UPDATE_COOLDOWN)
        assert starts == [affected(0), affected(3), affected(61), affected(30)]
        # Nothing new: the running hour's turn finds nothing to file.
        await later(RUNNING_HOUR_EVERY)
        assert len(starts) == 4
    filed = await all_rows(hass)
    assert [row[0] for row in filed["energy_delivered"]] == [
        START + timedelta(hours=hour) for hour in (-1, 0, 1)
    ]
    await statistics.async_rebuild()
    await async_wait_recording_done(hass)
    assert await all_rows(hass) == filed
