"""Diagnostic sensors of each PVOutput export, on a service device of its own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import EntityCategory
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from ...const import DOMAIN
from ...models import SmartMeterConfigEntry, SubentryRuntime
from ...pvoutput import ExportStatus
from .runtime import PVOutputRuntime

_MAX_STATE_LENGTH: Final = 255

# The device of an export is this and its subentry id.
PVOUTPUT_DEVICE_PREFIX: Final = "pvoutput_"


@dataclass(frozen=True, kw_only=True)
class PVOutputSensorDescription(SensorEntityDescription):
    """A figure of an export's status."""

    value_fn: Callable[[ExportStatus], StateType | datetime]


PVOUTPUT_SENSORS: Final = (
    PVOutputSensorDescription(
        key="last_upload",
        translation_key="pvoutput_last_upload",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda status: status.last_success,
    ),
    PVOutputSensorDescription(
        key="last_error",
        translation_key="pvoutput_last_error",
        value_fn=lambda status: (
            None if status.last_error is None else status.last_error[:_MAX_STATE_LENGTH]
        ),
    ),
    PVOutputSensorDescription(
        key="waiting",
        translation_key="pvoutput_waiting",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda status: status.waiting,
    ),
)


class PVOutputSensor(SensorEntity):
    """A diagnostic figure of one export, written whenever the export's state changes."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    _attr_entity_category = EntityCategory.DIAGNOSTIC
    entity_description: PVOutputSensorDescription

    def __init__(
        self,
        runtime: PVOutputRuntime,
        description: PVOutputSensorDescription,
        device_info: DeviceInfo,
    ) -> None:
        """Show one figure of the runtime's status."""
        self.entity_description = description
        self._runtime = runtime
        self._attr_unique_id = f"{runtime.subentry.subentry_id}_{description.key}"
        self._attr_device_info = device_info

    @property
    def native_value(self) -> StateType | datetime:
        """Return the figure now."""
        return self.entity_description.value_fn(self._runtime.status())

    async def async_added_to_hass(self) -> None:
        """Follow the export."""
        self.async_on_remove(self._runtime.exporter.add_listener(self.async_write_ha_state))


def add_pvoutput_sensors(
    entry: SmartMeterConfigEntry,
    subentry: ConfigSubentry,
    runtime: SubentryRuntime,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of a running export, on a device of its own, to its subentry."""
    meter_device_entry_id = entry.runtime_data.coordinator.meter_device_entry_id
    assert meter_device_entry_id is not None  # made before the platforms
    assert isinstance(runtime, PVOutputRuntime)
    device_info = DeviceInfo(
        identifiers={(DOMAIN, f"{PVOUTPUT_DEVICE_PREFIX}{subentry.subentry_id}")},
        name=subentry.title,
        entry_type=DeviceEntryType.SERVICE,
        manufacturer="PVOutput",
        via_device_id=meter_device_entry_id,
    )
    async_add_entities(
        [PVOutputSensor(runtime, description, device_info) for description in PVOUTPUT_SENSORS],
        config_subentry_id=subentry.subentry_id,
    )
