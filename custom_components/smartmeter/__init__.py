"""The smartmeter integration: smart meters in Home Assistant, each kind of entry in kinds/."""

from __future__ import annotations

import asyncio

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.typing import ConfigType

from .const import CONF_KIND, DOMAIN
from .frontend import async_register_card
from .kinds import entry_kind
from .models import AnyConfigEntry
from .services import async_setup_services
from .views import async_register_views

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Serve the DSMR-reader compatible API (each request finds its meter by its key)."""
    async_register_views(hass)
    async_setup_services(hass)
    await async_register_card(hass)
    return True


async def async_migrate_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Bring an entry of an older release up to date, keeping its entities and history."""
    # Home Assistant sets up no entry of a newer major version: it is never migrated.
    kind = entry_kind(entry)
    await kind.async_migrate(hass, entry)
    if entry.minor_version < 3:
        # 1.3: an entry says its kind.
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, CONF_KIND: kind.key}, minor_version=3
        )
    return True


async def async_setup_entry(hass: HomeAssistant, entry: AnyConfigEntry) -> bool:
    """Set the entry up as its kind does."""
    try:
        await entry_kind(entry).async_setup_entry(hass, entry)
    except asyncio.CancelledError:
        if hass.state in (CoreState.running, CoreState.starting):
            raise
        # Home Assistant stopping cancels a setup still under way (a retry waiting on a slow
        # database, say). That is no error: the setup ends as not ready, and the unload
        # callbacks close what it opened.
        if (task := asyncio.current_task()) is not None:
            task.uncancel()
        raise ConfigEntryNotReady(translation_domain=DOMAIN, translation_key="stopping") from None
    return True


async def async_unload_entry(hass: HomeAssistant, entry: AnyConfigEntry) -> bool:
    """Unload the entry's platforms; what it runs stops with its unload callbacks."""
    return await hass.config_entries.async_unload_platforms(entry, entry_kind(entry).platforms)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: AnyConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Let the user remove a device the entry's kind no longer uses.

    A subentry's devices (an export's) go with their subentry, never on their own.
    """
    if device.config_subentry_id is not None:
        return False
    return entry_kind(entry).device_removable(entry, device)
