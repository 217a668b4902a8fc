"""Base entity: one electricity meter device, and a device per M-Bus meter."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceEntry, DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from ...const import DOMAIN
from ...meter.reading import (
    MBUS_GAS,
    MBUS_HEAT,
    MBUS_HEAT_COOL,
    MBUS_WATER,
    MBusReading,
    equipment_id_text,
)
from ...models import SmartMeterConfigEntry
from .coordinator import SmartMeterCoordinator

_MBUS_DEVICE_KEYS = {
    MBUS_GAS: "gas_meter",
    MBUS_HEAT: "heat_meter",
    MBUS_HEAT_COOL: "heat_meter",
    MBUS_WATER: "water_meter",
}


def mbus_device_id(meter_id: str, key: str) -> str:
    """Return an M-Bus meter's device id, which also starts its entities' unique ids.

    It holds the electricity meter's id, so two entries that see the same M-Bus meter (read
    locally and pushed, say) each have their own, and the meter's key (its equipment id), so
    it never equals the electricity meter's id even when both send the same equipment id.
    """
    return f"{meter_id}_mbus_{key}"


def meter_device_info(coordinator: SmartMeterCoordinator) -> DeviceInfo:
    """Describe the electricity meter from the telegram's identification line."""
    reading = coordinator.data
    equipment_id = coordinator.equipment_id
    return DeviceInfo(
        identifiers={(DOMAIN, coordinator.meter_id)},
        translation_key="electricity_meter",
        manufacturer=reading.manufacturer if reading else None,
        model=reading.model if reading else None,
        model_id=coordinator.specification.label,
        serial_number=equipment_id_text(equipment_id) if equipment_id else None,
    )


def mbus_device_info(coordinator: SmartMeterCoordinator, key: str, mbus: MBusReading) -> DeviceInfo:
    """Describe an M-Bus meter, linked to the electricity meter it talks through."""
    assert coordinator.meter_device_entry_id is not None
    return DeviceInfo(
        identifiers={(DOMAIN, mbus_device_id(coordinator.meter_id, key))},
        translation_key=_MBUS_DEVICE_KEYS.get(mbus.device_type or 0, "mbus_device"),
        translation_placeholders={"channel": str(mbus.channel)},
        serial_number=equipment_id_text(mbus.equipment_id) if mbus.equipment_id else None,
        via_device_id=coordinator.meter_device_entry_id,
    )


class SmartMeterEntity(CoordinatorEntity[SmartMeterCoordinator]):
    """An entity of a meter; available while the meter's data is current."""

    _attr_has_entity_name = True


def meter_device_removable(entry: SmartMeterConfigEntry, device: DeviceEntry) -> bool:
    """Tell whether the device is an M-Bus meter the telegrams no longer carry (a replaced one).

    The electricity meter stays; so does every M-Bus meter while no telegram has come since
    the start.
    """
    coordinator = entry.runtime_data.coordinator
    reading = coordinator.data
    if reading is None:
        return False
    meter_id = coordinator.meter_id
    in_use = {meter_id} | {mbus_device_id(meter_id, key) for key in reading.mbus}
    own = {identifier for domain, identifier in device.identifiers if domain == DOMAIN}
    return not own & in_use
