"""Setting up a Solar-Log plant: its client, ledger of hours, coordinator and statistics."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from ...const import DOMAIN
from ...lifecycle import async_on_unload_or_stop
from ...solarlog.client import EnerestClient
from ...solarlog.endpoints import API_URL, TOKEN_URL
from ...solarlog.history import HourLedger
from ...solarlog.poller import PlantPoller
from ...statistic_metadata import async_statistic_names
from .const import (
    CONF_API_URL,
    CONF_CLIENT_ID,
    CONF_CLIENT_SECRET,
    CONF_PLANT_ID,
    CONF_PORTAL,
    CONF_TOKEN_URL,
)
from .coordinator import SolarLogCoordinator
from .data import SolarLogConfigEntry, SolarLogData
from .entity import plant_device_info
from .statistics import plant_statistics

PLATFORMS: Final = (Platform.SENSOR,)
_STORAGE_VERSION: Final = 1


def history_store(hass: HomeAssistant, entry: ConfigEntry) -> Store[dict[str, Any]]:
    """Return where a plant's hours are kept."""
    return Store(hass, _STORAGE_VERSION, f"{DOMAIN}.{entry.entry_id}.solarlog_history")


def enerest_client(hass: HomeAssistant, data: Mapping[str, Any]) -> EnerestClient:
    """Return a client of the portal and credentials an entry's data (or a flow's) holds."""
    return EnerestClient(
        async_get_clientsession(hass),
        data[CONF_PORTAL],
        data[CONF_CLIENT_ID],
        data[CONF_CLIENT_SECRET],
        api_url=data.get(CONF_API_URL, API_URL),
        token_url=data.get(CONF_TOKEN_URL, TOKEN_URL),
        now=dt_util.utcnow,
    )


async def async_setup_plant(hass: HomeAssistant, entry: SolarLogConfigEntry) -> None:
    """Read the plant, add its sensors, then file statistics and history in the background.

    A first update that fails makes the setup wait (ConfigEntryNotReady), or asks for new
    credentials (re-authentication).
    """
    data = entry.data
    client = enerest_client(hass, data)
    store = history_store(hass, entry)
    ledger = HourLedger.from_data(await store.async_load())
    coordinator = SolarLogCoordinator(
        hass, entry, PlantPoller(client, data[CONF_PLANT_ID]), ledger, store
    )
    entry.runtime_data = SolarLogData(coordinator=coordinator)
    await coordinator.async_config_entry_first_refresh()
    async_on_unload_or_stop(hass, entry, coordinator.async_save)
    coordinator.plant_device_entry_id = (
        dr.async_get(hass)
        .async_get_or_create(config_entry_id=entry.entry_id, **plant_device_info(coordinator))
        .id
    )
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    if "recorder" in hass.config.components:
        statistics = plant_statistics(
            hass,
            entry_id=entry.entry_id,
            plant_id=data[CONF_PLANT_ID],
            title=entry.title,
            ledger=ledger,
            names=await async_statistic_names(hass),
        )
        entry.async_create_background_task(
            hass, coordinator.async_start_statistics(statistics), f"{coordinator.name} statistics"
        )


async def async_migrate_plant(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Nothing to do: Solar-Log entries began with config entry 1.3."""
