"""A plant's devices: the plant (the logger), and each component by its cross-epoch id."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceEntry, DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from ...const import DOMAIN
from ...solarlog.models import Component
from .const import CONF_PLANT_ID, CONF_PORTAL, component_device_id, plant_device_id
from .coordinator import SolarLogCoordinator
from .data import SolarLogConfigEntry

# The manufacturer the devices show (the API's vendor field is the logger's maker's code).
MANUFACTURER = "Solar-Log"


def plant_device_info(coordinator: SolarLogCoordinator) -> DeviceInfo:
    """Describe the plant: its logger's model, firmware and serial, the portal's page of it."""
    entry = coordinator.config_entry
    plant_id = entry.data[CONF_PLANT_ID]
    plant = coordinator.data.plant if coordinator.data else None
    return DeviceInfo(
        identifiers={(DOMAIN, plant_device_id(plant_id))},
        name=entry.title,
        manufacturer=MANUFACTURER,
        model=plant.device if plant else None,
        sw_version=plant.firmware if plant else None,
        serial_number=plant.identifier if plant else None,
        configuration_url=(
            f"https://{entry.data[CONF_PORTAL]}.enerest.world/administration/plants/detail/"
            f"{plant_id}"
        ),
    )


def component_device_info(coordinator: SolarLogCoordinator, component: Component) -> DeviceInfo:
    """Describe a component, keyed on its cross-epoch id, linked to its plant."""
    assert component.cross_epoch_id is not None  # only those get devices
    assert coordinator.plant_device_entry_id is not None  # made before the entities
    plant_id = coordinator.config_entry.data[CONF_PLANT_ID]
    return DeviceInfo(
        identifiers={(DOMAIN, component_device_id(plant_id, component.cross_epoch_id))},
        name=component.name or component.type or component.cross_epoch_id,
        model=component.type,
        via_device_id=coordinator.plant_device_entry_id,
    )


class SolarLogEntity(CoordinatorEntity[SolarLogCoordinator]):
    """An entity of a plant."""

    _attr_has_entity_name = True


def plant_device_removable(entry: SolarLogConfigEntry, device: DeviceEntry) -> bool:
    """Tell whether the device is a component the plant no longer has (the plant stays)."""
    snapshot = entry.runtime_data.coordinator.data
    plant_id = entry.data[CONF_PLANT_ID]
    in_use = {plant_device_id(plant_id)} | {
        component_device_id(plant_id, component.cross_epoch_id)
        for component in snapshot.components
        if component.cross_epoch_id is not None
    }
    return not {identifier for domain, identifier in device.identifiers if domain == DOMAIN} & (
        in_use
    )
