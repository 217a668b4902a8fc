"""The smartmeter integration: a DSMR P1 smart meter in Home Assistant."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
import os
from pathlib import Path

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import (
    CONF_DEVICE,
    CONF_HOST,
    CONF_PORT,
    EVENT_HOMEASSISTANT_STOP,
    Platform,
)
from homeassistant.core import CoreState, HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ConfigEntryNotReady, ServiceValidationError
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.typing import ConfigType
from homeassistant.util import dt as dt_util
import probatio as vol
from sqlalchemy.exc import SQLAlchemyError

from .const import (
    CONF_CONNECTION_TYPE,
    CONF_DATABASE_URL,
    CONF_ENCRYPTION_KEY,
    CONF_FORWARD_TARGETS,
    CONF_METER_ID,
    CONF_RETENTION_HOURS,
    CONF_SERIAL_SETTINGS,
    CONF_SPECIFICATION,
    CONNECTION_NETWORK,
    CONNECTION_SERIAL,
    DOMAIN,
    RETENTION_INTERVAL,
    RETENTION_OFF,
)
from .contracts import entry_contracts, sync_contracts
from .coordinator import SmartMeterCoordinator, entry_meter_id
from .entity import mbus_device_id
from .forward import Forwarder, ForwardQueue, Target
from .meter.decode import TelegramDecoder
from .meter.reading import mbus_key
from .meter.specifications import SPECIFICATIONS, SerialSettings
from .models import SmartMeterConfigEntry, SmartMeterData
from .pvoutput_flow import SUBENTRY_PVOUTPUT
from .pvoutput_runtime import async_start_pvoutput
from .pvoutput_sensor import PVOUTPUT_DEVICE_PREFIX
from .pvoutput_source import interval_source
from .reader.connection import Endpoint, NetworkPort, SerialPort
from .reader.reader import MeterReader
from .sensor import MBUS_SENSOR_KEYS
from .statistics import LongTermStatistics
from .store.errors import StoreError
from .store.store import ReadingStore
from .views import async_register_views

PLATFORMS = [Platform.SENSOR]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)
SERVICE_REBUILD_STATISTICS = "rebuild_statistics"
ATTR_CONFIG_ENTRY_ID = "config_entry_id"
ATTR_START_DATE = "start_date"
REBUILD_STATISTICS_SCHEMA = vol.Schema(
    {vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string, vol.Optional(ATTR_START_DATE): cv.date}
)


def endpoint_from_data(data: dict[str, object]) -> Endpoint | None:
    """Return where the entry reads from; None in push-only mode."""
    connection_type = data[CONF_CONNECTION_TYPE]
    if connection_type == CONNECTION_SERIAL:
        settings = data[CONF_SERIAL_SETTINGS]
        assert isinstance(settings, dict)
        return SerialPort(str(data[CONF_DEVICE]), SerialSettings(**settings))
    if connection_type == CONNECTION_NETWORK:
        return NetworkPort(str(data[CONF_HOST]), int(str(data[CONF_PORT])))
    return None


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Serve the DSMR-reader compatible API; each request finds its meter by its key."""
    async_register_views(hass)

    async def _async_rebuild_statistics(call: ServiceCall) -> None:
        entry = hass.config_entries.async_get_entry(call.data[ATTR_CONFIG_ENTRY_ID])
        if entry is None or entry.domain != DOMAIN or entry.state is not ConfigEntryState.LOADED:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="meter_not_loaded"
            )
        statistics = entry.runtime_data.statistics
        if statistics is None:
            raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_recorder")
        await statistics.async_rebuild(call.data.get(ATTR_START_DATE))

    hass.services.async_register(
        DOMAIN,
        SERVICE_REBUILD_STATISTICS,
        _async_rebuild_statistics,
        schema=REBUILD_STATISTICS_SCHEMA,
    )
    return True


def forward_targets(text: str) -> list[Target]:
    """Parse the forwarding option: one ``<datalogger URL> <API key>`` per line.

    Raises ValueError for a line that is not a URL and a key.
    """
    targets = []
    for line in text.splitlines():
        if not line.strip():
            continue
        url, _, key = line.strip().partition(" ")
        targets.append(Target(url, key.strip()))
    return targets


@callback
def _async_on_unload_or_stop(
    hass: HomeAssistant, entry: ConfigEntry, stop: Callable[[], Awaitable[None]]
) -> None:
    """Run ``stop`` once, when the entry unloads or Home Assistant stops, whichever is first.

    Also when a later step of the entry's setup fails: Home Assistant then runs the entry's
    unload callbacks only.
    """
    stopped = False

    async def _async_stop_once(*_args: object) -> None:
        nonlocal stopped
        if not stopped:
            stopped = True
            await stop()

    entry.async_on_unload(_async_stop_once)
    # Not a one-time listener: removing one that has run logs an error.
    entry.async_on_unload(hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, _async_stop_once))


async def _async_start_forwarding(
    hass: HomeAssistant, entry: SmartMeterConfigEntry, targets: list[Target]
) -> Forwarder:
    """Open the entry's forward queue and start delivering it."""
    path = Path(hass.config.path(f"smartmeter_{entry.entry_id}_forward.db"))
    queue = await hass.async_add_executor_job(ForwardQueue.open, path)
    forwarder = Forwarder(
        async_get_clientsession(hass), queue, targets, hass.async_add_executor_job
    )
    await forwarder.run()
    remove_listener = forwarder.add_listener(
        lambda: _sync_forward_issues(hass, entry, forwarder, stopped=False)
    )

    async def _async_stop() -> None:
        remove_listener()
        await forwarder.stop()
        await hass.async_add_executor_job(queue.close)
        # Raised again by the next refusal if the targets still refuse after a reload.
        _sync_forward_issues(hass, entry, forwarder, stopped=True)

    _async_on_unload_or_stop(hass, entry, _async_stop)
    return forwarder


def _sync_forward_issues(
    hass: HomeAssistant, entry: SmartMeterConfigEntry, forwarder: Forwarder, *, stopped: bool
) -> None:
    """Keep a repair issue for each target that refuses telegrams until its settings change."""
    stats = forwarder.stats()
    for target in forwarder.targets:
        issue_id = f"forward_blocked_{entry.entry_id}_{target.id}"
        reason = None if stopped else stats[target.id].blocked_reason
        if reason is None:
            ir.async_delete_issue(hass, DOMAIN, issue_id)
            continue
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=f"forward_{reason}",
            translation_placeholders={"title": entry.title, "url": target.name},
        )


async def async_migrate_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Bring an entry of an older release up to date, keeping its entities and history."""
    if entry.version > 1:
        return False  # from a newer release
    if entry.minor_version < 2:
        await _async_migrate_to_meter_keyed_ids(hass, entry)
    return True


async def _async_migrate_to_meter_keyed_ids(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Version 1.2: M-Bus ids hold the entry's meter; an address is no unique id.

    M-Bus devices were identified, and their entities' unique ids began, with the M-Bus
    meter's own equipment id alone: they clashed with the electricity meter's when both sent
    the same id, and between entries that see the same M-Bus meter. A meter without an
    equipment id had its address as unique id; it keeps it as its meter id, which the reading
    store and the long-term statistics know it by.
    """
    meter_id = entry_meter_id(entry)
    data = dict(entry.data)
    unique_id = entry.unique_id
    endpoint = endpoint_from_data(data)
    if endpoint is not None and unique_id == str(endpoint):
        data[CONF_METER_ID] = unique_id
        unique_id = None

    def _old_mbus_id(identifier: str) -> bool:
        return not (
            identifier == meter_id
            or identifier.startswith((f"{meter_id}_", PVOUTPUT_DEVICE_PREFIX))
        )

    device_registry = dr.async_get(hass)
    for device in dr.async_entries_for_config_entry(device_registry, entry.entry_id):
        old = [identifier for domain, identifier in device.identifiers if domain == DOMAIN]
        if len(old) == 1 and _old_mbus_id(old[0]):
            device_registry.async_update_device(
                device.id,
                new_identifiers={(DOMAIN, mbus_device_id(meter_id, mbus_key(old[0])))},
            )

    @callback
    def _new_unique_id(registered: er.RegistryEntry) -> dict[str, str] | None:
        if registered.config_subentry_id is not None or not _old_mbus_id(registered.unique_id):
            return None
        for key in MBUS_SENSOR_KEYS:
            suffix = f"_{key}"
            if registered.unique_id.endswith(suffix):
                equipment_id = registered.unique_id.removesuffix(suffix)
                device_id = mbus_device_id(meter_id, mbus_key(equipment_id))
                return {"new_unique_id": f"{device_id}{suffix}"}
        return None

    await er.async_migrate_entries(hass, entry.entry_id, _new_unique_id)
    hass.config_entries.async_update_entry(entry, data=data, unique_id=unique_id, minor_version=2)


async def _async_reload(hass: HomeAssistant, entry: ConfigEntry) -> None:
    hass.config_entries.async_schedule_reload(entry.entry_id)


def _start_retention(hass: HomeAssistant, entry: SmartMeterConfigEntry, age: timedelta) -> None:
    """Thin readings older than age now and then, as DSMR-reader's retention process does."""
    data = entry.runtime_data

    async def _async_thin(_now: datetime | None = None) -> None:
        older_than = dt_util.utcnow() - age
        await hass.async_add_executor_job(data.store.apply_retention, data.meter_id, older_than)

    entry.async_on_unload(async_track_time_interval(hass, _async_thin, RETENTION_INTERVAL))


def default_database_url(hass: HomeAssistant, entry: ConfigEntry) -> str:
    """Return the SQLite file in HA's config directory that holds this meter's readings."""
    return f"sqlite:///{hass.config.path(f'smartmeter_{entry.entry_id}.db')}"


async def async_setup_entry(hass: HomeAssistant, entry: SmartMeterConfigEntry) -> bool:
    """Start reading the meter; entities appear with its first telegram."""
    try:
        return await _async_setup_entry(hass, entry)
    except asyncio.CancelledError:
        if hass.state in (CoreState.running, CoreState.starting):
            raise
        # Home Assistant stopping cancels a setup still under way (a retry waiting on a slow
        # database, say). That is no error: the setup ends as not ready, and the unload
        # callbacks close what it opened.
        if (task := asyncio.current_task()) is not None:
            task.uncancel()
        raise ConfigEntryNotReady(translation_domain=DOMAIN, translation_key="stopping") from None


async def _async_setup_entry(hass: HomeAssistant, entry: SmartMeterConfigEntry) -> bool:
    specification = SPECIFICATIONS[entry.data[CONF_SPECIFICATION]]
    endpoint = endpoint_from_data(dict(entry.data))
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
    store = await _async_database_step(
        hass, partial(ReadingStore.open, url, time_zone=dt_util.get_default_time_zone())
    )
    decoder = TelegramDecoder(specification, entry.data.get(CONF_ENCRYPTION_KEY))
    coordinator = SmartMeterCoordinator(hass, entry, specification, decoder, store)
    data = entry.runtime_data = SmartMeterData(
        coordinator=coordinator, store=store, meter_id=coordinator.meter_id
    )

    # The writer's thread must end before Home Assistant can exit, and with the entry.
    async def _async_close_store() -> None:
        await _async_stop_store_readers(data)
        await hass.async_add_executor_job(store.close)

    _async_on_unload_or_stop(hass, entry, _async_close_store)
    await _async_database_step(
        hass, partial(sync_contracts, store, data.meter_id, entry_contracts(entry))
    )
    # Options and energy contracts (subentries) take effect through a reload.
    entry.async_on_unload(entry.add_update_listener(_async_reload))
    if (retention := entry.options.get(CONF_RETENTION_HOURS, RETENTION_OFF)) != RETENTION_OFF:
        _start_retention(hass, entry, timedelta(hours=int(retention)))
    if targets := forward_targets(entry.options.get(CONF_FORWARD_TARGETS, "")):
        data.forwarder = await _async_start_forwarding(hass, entry, targets)
    for subentry in entry.subentries.values():
        if subentry.subentry_type == SUBENTRY_PVOUTPUT:
            data.subentries[subentry.subentry_id] = await async_start_pvoutput(
                hass, entry, subentry, interval_source(hass, entry, subentry)
            )
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
    return True


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


async def async_unload_entry(hass: HomeAssistant, entry: SmartMeterConfigEntry) -> bool:
    """Unload the sensors.

    The store closes, flushing queued readings, with the entry's unload callbacks; the reader
    is a background task of the entry, which HA cancels then.
    """
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def _async_stop_store_readers(data: SmartMeterData) -> None:
    """Stop the running subentries and the long-term statistics, before the store closes.

    The exports save their state; the statistics file the readings not taken yet, once.
    """
    for runtime in data.subentries.values():
        await runtime.async_stop()
    statistics, data.statistics = data.statistics, None
    if statistics is not None:
        await statistics.async_stop()


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: SmartMeterConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Let the user remove an M-Bus meter the telegrams no longer carry (e.g. a replaced one).

    The electricity meter stays, and so do the PVOutput exports' devices (removed with their
    export); so does every M-Bus meter while no telegram has come since the start.
    """
    coordinator = entry.runtime_data.coordinator
    reading = coordinator.data
    if reading is None:
        return False
    meter_id = coordinator.meter_id
    in_use = {meter_id} | {mbus_device_id(meter_id, key) for key in reading.mbus}
    own = {identifier for domain, identifier in device.identifiers if domain == DOMAIN}
    return not own & in_use and not any(
        identifier.startswith(PVOUTPUT_DEVICE_PREFIX) for identifier in own
    )
