"""Base entity: one electricity meter device, and a device per M-Bus meter."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import SmartMeterCoordinator
from .meter.reading import MBUS_GAS, MBUS_HEAT, MBUS_HEAT_COOL, MBUS_WATER, MBusReading

_MBUS_DEVICE_KEYS = {
    MBUS_GAS: "gas_meter",
    MBUS_HEAT: "heat_meter",
    MBUS_HEAT_COOL: "heat_meter",
    MBUS_WATER: "water_meter",
}


def meter_device_id(coordinator: SmartMeterCoordinator) -> str:
    """Return the electricity meter's device id: its equipment id if it has one."""
    entry = coordinator.config_entry
    return entry.unique_id or entry.entry_id


def mbus_device_id(coordinator: SmartMeterCoordinator, mbus: MBusReading) -> str:
    """Return an M-Bus meter's device id: its own equipment id if it sends one."""
    return mbus.equipment_id or f"{meter_device_id(coordinator)}_mbus_{mbus.channel}"


def meter_device_info(coordinator: SmartMeterCoordinator) -> DeviceInfo:
    """Describe the electricity meter from the telegram's identification line."""
    reading = coordinator.data
    return DeviceInfo(
        identifiers={(DOMAIN, meter_device_id(coordinator))},
        translation_key="electricity_meter",
        manufacturer=reading.manufacturer if reading else None,
        model=reading.model if reading else None,
        model_id=coordinator.specification.label,
        serial_number=coordinator.config_entry.unique_id,
    )


def mbus_device_info(coordinator: SmartMeterCoordinator, mbus: MBusReading) -> DeviceInfo:
    """Describe an M-Bus meter, linked to the electricity meter it talks through."""
    assert coordinator.meter_device_entry_id is not None
    return DeviceInfo(
        identifiers={(DOMAIN, mbus_device_id(coordinator, mbus))},
        translation_key=_MBUS_DEVICE_KEYS.get(mbus.device_type or 0, "mbus_device"),
        translation_placeholders={"channel": str(mbus.channel)},
        serial_number=mbus.equipment_id,
        via_device_id=coordinator.meter_device_entry_id,
    )


class SmartMeterEntity(CoordinatorEntity[SmartMeterCoordinator]):
    """An entity of a meter; available while the meter's data is current."""

    _attr_has_entity_name = True
