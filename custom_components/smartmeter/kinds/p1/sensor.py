"""Sensors of a P1 meter: the electricity meter's values, and each M-Bus meter's."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Self

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorEntityDescription,
    SensorExtraStoredData,
)
from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from ...meter.reading import MBusReading, MeterReading
from ...models import SmartMeterConfigEntry
from .coordinator import SmartMeterCoordinator
from .descriptions import (
    METER_SENSORS_BY_KEY,
    PRECISION,
    REJECTED_TELEGRAMS,
    TOTAL_INCREASING,
    UNIT_DEVICE_CLASS,
    MeterSensorDescription,
)
from .entity import SmartMeterEntity, mbus_device_id, mbus_device_info, meter_device_info
from .mbus_descriptions import MBusSensorDescription, mbus_descriptions

_MAX_STATE_LENGTH: Final = 255


@dataclass
class OwnedSensorData(SensorExtraStoredData):
    """A sensor's last value, with the entry and the unique id of the entity that wrote it.

    Restored states are found by entity id, which a deleted meter's entity may have had.
    """

    config_entry_id: str | None
    unique_id: str | None

    def as_dict(self) -> dict[str, Any]:
        """Return the value and whose it is."""
        return {
            **super().as_dict(),
            "config_entry_id": self.config_entry_id,
            "unique_id": self.unique_id,
        }

    @classmethod
    def from_dict(cls, restored: dict[str, Any]) -> Self | None:
        """Return the stored data; None if unreadable or stored without its owner."""
        value = SensorExtraStoredData.from_dict(restored)
        if value is None or "config_entry_id" not in restored:
            return None
        return cls(
            value.native_value,
            value.native_unit_of_measurement,
            restored["config_entry_id"],
            restored.get("unique_id"),
        )


class SmartMeterSensor(SmartMeterEntity, RestoreSensor):
    """A sensor that writes its state only when its value or availability changes.

    Meter totals never go back to zero: a zero after a non-zero value is a
    meter glitch and is ignored, so the energy dashboard shows no spike.
    """

    _last_total: float = 0.0

    def __init__(
        self,
        coordinator: SmartMeterCoordinator,
        description: SensorEntityDescription,
        unique_id: str,
        device_info: DeviceInfo,
    ) -> None:
        """Set up and take the current value."""
        super().__init__(coordinator)
        self.entity_description = description
        self._attr_unique_id = unique_id
        self._attr_device_info = device_info
        self._written_available = False
        self._take(coordinator.data)

    def _value(self, reading: MeterReading) -> StateType | datetime:
        raise NotImplementedError

    def _take(self, reading: MeterReading | None) -> bool:
        """Take the reading's value; return whether the state changed."""
        value = None if reading is None else self._value(reading)
        if isinstance(value, float) and self.state_class is TOTAL_INCREASING:
            if value == 0.0 and self._last_total > 0.0:
                return False
            self._last_total = value
        elif isinstance(value, str) and len(value) > _MAX_STATE_LENGTH:
            value = value[:_MAX_STATE_LENGTH]
        if value == self._attr_native_value:
            return False
        self._attr_native_value = value
        return True

    @property
    def extra_restore_state_data(self) -> OwnedSensorData:
        """Return the value to restore, marked with whose it is."""
        return OwnedSensorData(
            self.native_value,
            self.native_unit_of_measurement,
            self.coordinator.config_entry.entry_id,
            self.unique_id,
        )

    async def async_added_to_hass(self) -> None:
        """Remember the last total across restarts, for the zero guard."""
        await super().async_added_to_hass()
        self._written_available = self.available
        if self.state_class is TOTAL_INCREASING and (restored := await self._own_last_total()):
            if self._attr_native_value == 0.0:
                # the first telegram after a restart was a zero glitch
                self._attr_native_value = restored
            self._last_total = max(self._last_total, restored)

    async def _own_last_total(self) -> float | None:
        """Return the last total this entity showed, not one another meter's entity left.

        Deleting a meter and adding another gives the new entities the old entity ids, and
        with them the old states. A state is this entity's if it was written for this entry
        and unique id; one stored before these were (by an older release) if it was written
        after this entity was registered.
        """
        if (last := await self.async_get_last_extra_data()) is None:
            return None
        restored = last.as_dict()
        if "config_entry_id" in restored:
            owned = OwnedSensorData.from_dict(restored)
            if owned is None or (owned.config_entry_id, owned.unique_id) != (
                self.coordinator.config_entry.entry_id,
                self.unique_id,
            ):
                return None
            value = owned.native_value
        else:
            state = await self.async_get_last_state()
            registered = self.registry_entry
            if state is None or registered is None or state.last_updated < registered.created_at:
                return None
            value = restored.get("native_value")
        return float(value) if isinstance(value, (int, float)) else None

    @callback
    def _handle_coordinator_update(self) -> None:
        changed = self._take(self.coordinator.data)
        available = self.available
        if changed or available != self._written_available:
            self._written_available = available
            self.async_write_ha_state()


class MeterSensor(SmartMeterSensor):
    """A value of the electricity meter."""

    entity_description: MeterSensorDescription

    def __init__(
        self,
        coordinator: SmartMeterCoordinator,
        description: MeterSensorDescription,
        unit: str | None,
    ) -> None:
        """Set up with the unit the meter layer exposes this value in."""
        if unit and not description.native_unit_of_measurement:
            self._attr_native_unit_of_measurement = unit
            self._attr_device_class = description.device_class or UNIT_DEVICE_CLASS.get(unit)
            self._attr_suggested_display_precision = PRECISION.get(unit)
        super().__init__(
            coordinator,
            description,
            f"{coordinator.meter_id}_{description.key.lower()}",
            meter_device_info(coordinator),
        )

    def _value(self, reading: MeterReading) -> StateType | datetime:
        value = reading.values.get(self.entity_description.key)
        if (value_fn := self.entity_description.value_fn) is not None:
            return value_fn(value) if value is not None else None
        assert not isinstance(value, list)
        return value

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Return the peak history for the 13-month peak sensor."""
        attributes_fn = self.entity_description.attributes_fn
        reading = self.coordinator.data
        if attributes_fn is None or reading is None:
            return None
        value = reading.values.get(self.entity_description.key)
        return attributes_fn(value) if value is not None else None


class MBusSensor(SmartMeterSensor):
    """A value of a meter on the M-Bus, whichever channel it is on."""

    entity_description: MBusSensorDescription

    def __init__(
        self,
        coordinator: SmartMeterCoordinator,
        description: MBusSensorDescription,
        key: str,
        mbus: MBusReading,
        removed: Callable[[str], None],
    ) -> None:
        """Set up for the M-Bus meter with this key; ``removed`` is told of its deletion."""
        self._key = key
        self._removed = removed
        super().__init__(
            coordinator,
            description,
            f"{mbus_device_id(coordinator.meter_id, key)}_{description.key}",
            mbus_device_info(coordinator, key, mbus),
        )

    async def async_removed_from_registry(self) -> None:
        """Let the meter's entities be made again if it comes back after its device was deleted."""
        self._removed(self._key)

    def _value(self, reading: MeterReading) -> StateType | datetime:
        mbus = reading.mbus.get(self._key)
        if mbus is None:
            return None
        value = self.entity_description.value_fn(mbus)
        assert not isinstance(value, list)
        return value


class RejectedTelegramsSensor(SmartMeterSensor):
    """How many telegrams failed their CRC or could not be parsed, since start."""

    def __init__(self, coordinator: SmartMeterCoordinator) -> None:
        """Set up for the electricity meter."""
        super().__init__(
            coordinator,
            REJECTED_TELEGRAMS,
            f"{coordinator.meter_id}_rejected_telegrams",
            meter_device_info(coordinator),
        )

    def _value(self, reading: MeterReading) -> StateType | datetime:
        return self.coordinator.rejected_telegrams


def add_meter_sensors(
    entry: SmartMeterConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add sensors for the values the meter sends, as they first appear."""
    coordinator = entry.runtime_data.coordinator
    known: set[str] = set()
    known_mbus: set[str] = set()

    @callback
    def add_new_sensors() -> None:
        reading = coordinator.data
        if reading is None:
            return
        entities: list[SmartMeterSensor] = []
        if not known:
            entities.append(RejectedTelegramsSensor(coordinator))
        for key in reading.values.keys() - known:
            known.add(key)
            if (description := METER_SENSORS_BY_KEY.get(key)) is not None:
                entities.append(MeterSensor(coordinator, description, reading.units.get(key)))
        for key in reading.mbus.keys() - known_mbus:
            mbus = reading.mbus[key]
            if mbus.reading is None or mbus.unit is None:  # an empty channel
                continue
            known_mbus.add(key)
            entities.extend(
                MBusSensor(coordinator, description, key, mbus, known_mbus.discard)
                for description in mbus_descriptions(mbus)
            )
        if entities:
            async_add_entities(entities)

    add_new_sensors()
    entry.async_on_unload(coordinator.async_add_listener(add_new_sensors))
