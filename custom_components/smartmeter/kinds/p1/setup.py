"""Setting up a P1 meter: its reading store, coordinator, reader and what runs on them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
import os
from typing import Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util
from sqlalchemy.exc import SQLAlchemyError

from ...const import (
    CONF_DATABASE_URL,
    CONF_ENCRYPTION_KEY,
    CONF_FORWARD_TARGETS,
    CONF_RETENTION_HOURS,
    CONF_SPECIFICATION,
    DOMAIN,
    ISSUE_DATABASE_UPGRADE,
    LOGGER,
    RETENTION_INTERVAL,
    RETENTION_OFF,
)
from ...lifecycle import async_on_unload_or_stop
from ...meter.decode import TelegramDecoder
from ...meter.specifications import SPECIFICATIONS
from ...models import SmartMeterConfigEntry, SmartMeterData
from ...reader.connection import SerialPort
from ...reader.reader import MeterReader
from ...statistic_metadata import async_statistic_names
from ...statistics import LongTermStatistics
from ...store.errors import StoreError
from ...store.store import ReadingStore
from ...subentries import async_start_subentries
from ...subentries.contract.contracts import entry_contracts, sync_contracts
from .connection import endpoint_from_data
from .coordinator import SmartMeterCoordinator
from .forwarding import async_start_forwarding, forward_targets

PLATFORMS: Final = (Platform.SENSOR,)


def default_database_url(hass: HomeAssistant, entry: ConfigEntry) -> str:
    """Return the SQLite file in HA's config directory that holds this meter's readings."""
    return f"sqlite:///{hass.config.path(f'smartmeter_{entry.entry_id}.db')}"


async def async_setup_meter(hass: HomeAssistant, entry: SmartMeterConfigEntry) -> None:
    """Open the meter's store, start what runs on it, then read the meter.

    Its entities appear with its first telegram.
    """
    specification = SPECIFICATIONS[entry.data[CONF_SPECIFICATION]]
    endpoint = endpoint_from_data(entry.data)
    if isinstance(endpoint, SerialPort) and not await hass.async_add_executor_job(
        os.path.exists, endpoint.device
    ):
        # e.g. a USB cable not plugged in yet: HA retries the setup with backoff
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="port_missing",
            translation_placeholders={"port": endpoint.device},
        )
    url = entry.options.get(CONF_DATABASE_URL) or default_database_url(hass, entry)
    # Day statistics are for local days, as DSMR-reader's TIME_ZONE.
    try:
        store = await _async_database_step(
            hass,
            partial(
                ReadingStore.open,
                url,
                time_zone=dt_util.get_default_time_zone(),
                progress=_upgrade_progress(hass, entry),
            ),
        )
    finally:
        ir.async_delete_issue(hass, DOMAIN, _upgrade_issue_id(entry))
    decoder = TelegramDecoder(specification, entry.data.get(CONF_ENCRYPTION_KEY))
    coordinator = SmartMeterCoordinator(hass, entry, specification, decoder, store)
    data = entry.runtime_data = SmartMeterData(
        coordinator=coordinator, store=store, meter_id=coordinator.meter_id
    )

    # The writer's thread must end before Home Assistant can exit, and with the entry.
    async def _async_close_store() -> None:
        await _async_stop_store_readers(data)
        await coordinator.async_store_rejected()
        await hass.async_add_executor_job(store.close)

    async_on_unload_or_stop(hass, entry, _async_close_store)
    await _async_database_step(
        hass, partial(sync_contracts, store, data.meter_id, entry_contracts(entry))
    )
    # Options and energy contracts (subentries) take effect through a reload.
    entry.async_on_unload(entry.add_update_listener(_async_reload))
    if (retention := entry.options.get(CONF_RETENTION_HOURS, RETENTION_OFF)) != RETENTION_OFF:
        _start_retention(hass, entry, timedelta(hours=int(retention)))
    if targets := forward_targets(entry.options.get(CONF_FORWARD_TARGETS, "")):
        data.forwarder = await async_start_forwarding(hass, entry, targets)
    await async_start_subentries(hass, entry)
    coordinator.meter_device_entry_id = (
        dr.async_get(hass)
        .async_get_or_create(
            config_entry_id=entry.entry_id,
            identifiers={(DOMAIN, coordinator.meter_id)},
            translation_key="electricity_meter",
        )
        .id
    )
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    if "recorder" in hass.config.components:
        data.statistics = LongTermStatistics(
            hass,
            entry_id=entry.entry_id,
            title=entry.title,
            store=store,
            meter_id=data.meter_id,
            contracts=entry_contracts(entry),
            time_zone=dt_util.get_default_time_zone(),
            names=await async_statistic_names(hass),
        )
        data.statistics.async_start()
    if endpoint is not None:
        coordinator.async_start(
            MeterReader(
                endpoint,
                decoder,
                coordinator.handle_telegram,
                coordinator.handle_disconnect,
            )
        )


async def _async_reload(hass: HomeAssistant, entry: ConfigEntry) -> None:
    hass.config_entries.async_schedule_reload(entry.entry_id)


def _start_retention(hass: HomeAssistant, entry: SmartMeterConfigEntry, age: timedelta) -> None:
    """Thin readings older than age now and then, as DSMR-reader's retention process does."""
    data = entry.runtime_data

    async def _async_thin(_now: datetime | None = None) -> None:
        older_than = dt_util.utcnow() - age
        await hass.async_add_executor_job(data.store.apply_retention, data.meter_id, older_than)

    entry.async_on_unload(async_track_time_interval(hass, _async_thin, RETENTION_INTERVAL))


def _upgrade_issue_id(entry: ConfigEntry) -> str:
    return f"{ISSUE_DATABASE_UPGRADE}_{entry.entry_id}"


def _upgrade_progress(hass: HomeAssistant, entry: ConfigEntry) -> Callable[[int, int], None]:
    """Return what shows how far a migration copying the readings got: a log line, a repair.

    It is called on the executor's thread that opens the store, after each chunk of readings;
    it shows each whole percent once.
    """
    shown: set[int] = set()

    def progress(copied: int, highest: int) -> None:
        percent = copied * 100 // highest if highest else 100
        if percent in shown:
            return
        shown.add(percent)
        LOGGER.info("Upgrading the reading database of %s: %d %% copied", entry.title, percent)
        ir.create_issue(
            hass,
            DOMAIN,
            _upgrade_issue_id(entry),
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_DATABASE_UPGRADE,
            translation_placeholders={"title": entry.title, "percent": str(percent)},
        )

    return progress


async def _async_database_step[T](hass: HomeAssistant, step: Callable[[], T]) -> T:
    """Run a step of the setup on the reading database; retry the setup if it fails."""
    try:
        return await hass.async_add_executor_job(step)
    except (StoreError, SQLAlchemyError) as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="database_unavailable",
            translation_placeholders={"error": str(err)},
        ) from err


async def _async_stop_store_readers(data: SmartMeterData) -> None:
    """Stop the running subentries and the long-term statistics, before the store closes.

    The exports save their state; the statistics file the readings not taken yet, once.
    """
    for runtime in data.subentries.values():
        await runtime.async_stop()
    statistics, data.statistics = data.statistics, None
    if statistics is not None:
        await statistics.async_stop()
