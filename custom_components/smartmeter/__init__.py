"""The smartmeter integration: a DSMR P1 smart meter in Home Assistant."""

from __future__ import annotations

import os

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_DEVICE, CONF_HOST, CONF_PORT, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import device_registry as dr

from .const import (
    CONF_CONNECTION_TYPE,
    CONF_ENCRYPTION_KEY,
    CONF_SERIAL_SETTINGS,
    CONF_SPECIFICATION,
    CONNECTION_NETWORK,
    CONNECTION_SERIAL,
    DOMAIN,
)
from .coordinator import SmartMeterCoordinator
from .meter.decode import TelegramDecoder
from .meter.specifications import SPECIFICATIONS, SerialSettings
from .reader.connection import Endpoint, NetworkPort, SerialPort
from .reader.reader import MeterReader

PLATFORMS = [Platform.SENSOR]

type SmartMeterConfigEntry = ConfigEntry[SmartMeterCoordinator]


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


async def async_setup_entry(hass: HomeAssistant, entry: SmartMeterConfigEntry) -> bool:
    """Start reading the meter; entities appear with its first telegram."""
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
    coordinator = SmartMeterCoordinator(hass, entry, specification)
    entry.runtime_data = coordinator
    coordinator.meter_device_entry_id = (
        dr.async_get(hass)
        .async_get_or_create(
            config_entry_id=entry.entry_id,
            identifiers={(DOMAIN, entry.unique_id or entry.entry_id)},
            translation_key="electricity_meter",
        )
        .id
    )
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    if endpoint is not None:
        coordinator.async_start(
            MeterReader(
                endpoint,
                TelegramDecoder(specification, entry.data.get(CONF_ENCRYPTION_KEY)),
                coordinator.handle_telegram,
                coordinator.handle_disconnect,
            )
        )
    return True


async def async_unload_entry(hass: HomeAssistant, entry: SmartMeterConfigEntry) -> bool:
    """Stop the reader (a background task of the entry) and unload the sensors."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
