"""Bringing a P1 meter's entry of an older release up to date."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er

from ...const import CONF_METER_ID, DOMAIN
from ...meter.reading import mbus_key
from ...subentries.pvoutput.sensor import PVOUTPUT_DEVICE_PREFIX
from .connection import endpoint_from_data
from .coordinator import entry_meter_id
from .entity import mbus_device_id
from .mbus_descriptions import MBUS_SENSOR_KEYS


async def async_migrate_meter(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Bring the entry's ids up to config entry 1.2."""
    if entry.minor_version < 2:
        await _async_migrate_to_meter_keyed_ids(hass, entry)


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
