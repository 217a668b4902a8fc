"""The retention option thins old readings now and then, as DSMR-reader does."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.smartmeter.const import DOMAIN, RETENTION_INTERVAL
from custom_components.smartmeter.store import Reading
from custom_components.smartmeter.store.records import ElectricityConsumption
from tests.common import setup_entry, wait_processed


def reading(at: timedelta, kwh: int) -> Reading:
    return Reading(
        timestamp=dt_util.utcnow().replace(minute=0, second=0, microsecond=0) - at,
        electricity_delivered_1=Decimal(kwh),
        electricity_returned_1=Decimal(0),
        electricity_delivered_2=Decimal(0),
        electricity_returned_2=Decimal(0),
        electricity_currently_delivered=Decimal(0),
        electricity_currently_returned=Decimal(0),
    )


async def counts(hass: HomeAssistant, entry: MockConfigEntry) -> tuple[int, int]:
    store, meter = entry.runtime_data.store, entry.runtime_data.meter_id

    def count() -> tuple[int, int]:
        wait_processed(store)
        readings, _ = store.list_readings(meter, limit=0)
        minutes, _ = store.list_records(ElectricityConsumption, meter, limit=0)
        return readings, minutes

    return await hass.async_add_executor_job(count)


async def test_retention_thins_old_hours(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Pushed meter",
        data={"connection_type": "push", "specification": "5"},
        options={"retention_hours": "168"},
    )
    await setup_entry(hass, entry)
    # Three whole hours ten days ago, a reading a minute; and two recent ones.
    old = [reading(timedelta(days=10, minutes=-minute), minute) for minute in range(180)]
    recent = [reading(timedelta(minutes=2), 1000), reading(timedelta(minutes=1), 1001)]
    await hass.async_add_executor_job(
        lambda: entry.runtime_data.store.writer.submit(
            entry.runtime_data.meter_id, old + recent
        ).result()
    )
    # Every old minute is a minute record; the newest minute waits for a later reading.
    assert await counts(hass, entry) == (182, 181)

    async_fire_time_changed(hass, dt_util.utcnow() + RETENTION_INTERVAL + timedelta(seconds=1))
    # The timer runs its job as a background task, which a plain block_till_done leaves running.
    await hass.async_block_till_done(wait_background_tasks=True)
    # The first and last of each old hour stay. Minute records are stamped at the minute's end:
    # the old ones fall in four hours, the last of which holds only one.
    assert await counts(hass, entry) == (3 * 2 + 2, 3 * 2 + 1 + 1)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_retention_is_off_by_default(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Pushed meter",
        data={"connection_type": "push", "specification": "5"},
    )
    await setup_entry(hass, entry)
    old = [reading(timedelta(days=10, minutes=-minute), minute) for minute in range(120)]
    await hass.async_add_executor_job(
        lambda: entry.runtime_data.store.writer.submit(
            entry.runtime_data.meter_id, [*old, reading(timedelta(0), 1000)]
        ).result()
    )
    async_fire_time_changed(hass, dt_util.utcnow() + RETENTION_INTERVAL + timedelta(seconds=1))
    # The timer runs its job as a background task, which a plain block_till_done leaves running.
    await hass.async_block_till_done(wait_background_tasks=True)
    assert await counts(hass, entry) == (121, 120)
    await hass.config_entries.async_unload(entry.entry_id)
