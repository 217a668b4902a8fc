"""Sensors for every value the meter sends, and a few derived from them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any, Final, Self

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntityDescription,
    SensorExtraStoredData,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, UnitOfVolumeFlowRate
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .coordinator import SmartMeterCoordinator
from .entity import SmartMeterEntity, mbus_device_id, mbus_device_info, meter_device_info
from .meter.reading import (
    MBUS_GAS,
    MBUS_HEAT,
    MBUS_HEAT_COOL,
    MBUS_WATER,
    MBusReading,
    MeterReading,
    Peak,
    PowerFailure,
    Value,
    equipment_id_text,
)
from .models import SmartMeterConfigEntry
from .pvoutput_sensor import add_pvoutput_sensors

# Entities only write state when a telegram arrives: nothing to throttle.
PARALLEL_UPDATES = 0

_MAX_STATE_LENGTH: Final = 255
MEASUREMENT = SensorStateClass.MEASUREMENT
TOTAL_INCREASING = SensorStateClass.TOTAL_INCREASING
DIAGNOSTIC = EntityCategory.DIAGNOSTIC

# The device class follows from the unit the meter layer exposes.
_UNIT_DEVICE_CLASS: Final = {
    "W": SensorDeviceClass.POWER,
    "kWh": SensorDeviceClass.ENERGY,
    "GJ": SensorDeviceClass.ENERGY,
    "var": SensorDeviceClass.REACTIVE_POWER,
    "kvarh": SensorDeviceClass.REACTIVE_ENERGY,
    "VA": SensorDeviceClass.APPARENT_POWER,
    "V": SensorDeviceClass.VOLTAGE,
    "A": SensorDeviceClass.CURRENT,
    "Hz": SensorDeviceClass.FREQUENCY,
    "m³": SensorDeviceClass.GAS,
    "s": SensorDeviceClass.DURATION,
}
_PRECISION: Final = {"W": 0, "var": 0, "VA": 0, "kWh": 3, "kvarh": 3, "V": 1, "A": 2}


@dataclass(frozen=True, kw_only=True)
class MeterSensorDescription(SensorEntityDescription):
    """A value of the electricity meter; ``key`` is its dsmr-parser name."""

    state_fn: Callable[[Any], StateType | datetime] | None = None
    attributes_fn: Callable[[Any], Mapping[str, Any]] | None = None


@dataclass(frozen=True, kw_only=True)
class MBusSensorDescription(SensorEntityDescription):
    """A value of a meter on the M-Bus (gas, water, heat)."""

    value_fn: Callable[[MBusReading], Value]


def _last_failure(failures: list[PowerFailure]) -> float | None:
    ended = [failure for failure in failures if failure.ended is not None]
    return max(ended, key=attrgetter("ended")).seconds if ended else None


def _failure_list(failures: list[PowerFailure]) -> Mapping[str, Any]:
    return {
        "failures": [
            {
                "ended": failure.ended.isoformat() if failure.ended else None,
                "duration": failure.seconds,
            }
            for failure in failures
        ]
    }


def _highest_peak(peaks: list[Peak]) -> float | None:
    return max((peak.power for peak in peaks), default=None)


def _peak_list(peaks: list[Peak]) -> Mapping[str, Any]:
    return {
        "peaks": [
            {
                # stamped at local midnight starting the next month, which in
                # UTC is still the last day of the month the peak belongs to
                "month": peak.month.strftime("%Y-%m"),
                "occurred": peak.occurred.isoformat() if peak.occurred else None,
                "power": peak.power,
            }
            for peak in peaks
        ]
    }


def _meter(key: str, translation_key: str | None = None, **kwargs: Any) -> MeterSensorDescription:
    kwargs.setdefault("state_class", MEASUREMENT)
    return MeterSensorDescription(key=key, translation_key=translation_key or key.lower(), **kwargs)


def _diagnostic(
    key: str, translation_key: str | None = None, **kwargs: Any
) -> MeterSensorDescription:
    kwargs.setdefault("state_class", None)
    kwargs.setdefault("entity_registry_enabled_default", False)
    return _meter(key, translation_key, entity_category=DIAGNOSTIC, **kwargs)


def _per_phase(key: str, translation_key: str, **kwargs: Any) -> list[MeterSensorDescription]:
    return [
        _meter(
            key.format(phase=phase),
            translation_key,
            translation_placeholders={"phase": f"L{phase}"},
            **kwargs,
        )
        for phase in (1, 2, 3)
    ]


def _per_tariff(key: str, translation_key: str, tariffs: range) -> list[MeterSensorDescription]:
    return [
        _meter(
            f"{key}{tariff}",
            translation_key,
            translation_placeholders={"tariff": str(tariff)},
            state_class=TOTAL_INCREASING,
        )
        for tariff in tariffs
    ]


METER_SENSORS: Final[tuple[MeterSensorDescription, ...]] = (
    _meter("CURRENT_ELECTRICITY_USAGE", "power_consumption"),
    _meter("CURRENT_ELECTRICITY_DELIVERY", "power_production"),
    _meter("NET_POWER"),
    _meter(
        "ELECTRICITY_ACTIVE_TARIFF",
        "active_tariff",
        state_class=None,
        device_class=SensorDeviceClass.ENUM,
        options=["low", "normal"],
    ),
    _meter("ELECTRICITY_IMPORTED_TOTAL", "energy_consumption_total", state_class=TOTAL_INCREASING),
    _meter("ELECTRICITY_EXPORTED_TOTAL", "energy_production_total", state_class=TOTAL_INCREASING),
    *_per_tariff("ELECTRICITY_USED_TARIFF_", "energy_consumption_tariff", range(1, 5)),
    *_per_tariff("ELECTRICITY_DELIVERED_TARIFF_", "energy_production_tariff", range(1, 5)),
    _meter("ELECTRICITY_COMBINED", "energy_combined", state_class=SensorStateClass.TOTAL),
    *_per_phase(
        "INSTANTANEOUS_ACTIVE_POWER_L{phase}_POSITIVE",
        "power_consumption_phase",
        entity_registry_enabled_default=False,
    ),
    *_per_phase(
        "INSTANTANEOUS_ACTIVE_POWER_L{phase}_NEGATIVE",
        "power_production_phase",
        entity_registry_enabled_default=False,
    ),
    *_per_phase(
        "INSTANTANEOUS_VOLTAGE_L{phase}", "voltage_phase", entity_registry_enabled_default=False
    ),
    *_per_phase(
        "INSTANTANEOUS_CURRENT_L{phase}", "current_phase", entity_registry_enabled_default=False
    ),
    _meter(
        "INSTANTANEOUS_POWER_FACTOR_TOTAL",
        "power_factor",
        device_class=SensorDeviceClass.POWER_FACTOR,
        entity_registry_enabled_default=False,
    ),
    *_per_phase(
        "INSTANTANEOUS_POWER_FACTOR_L{phase}",
        "power_factor_phase",
        device_class=SensorDeviceClass.POWER_FACTOR,
        entity_registry_enabled_default=False,
    ),
    _meter("FREQUENCY", "frequency", entity_registry_enabled_default=False),
    _meter(
        "CURRENT_REACTIVE_IMPORTED",
        "reactive_power_consumption",
        entity_registry_enabled_default=False,
    ),
    _meter(
        "CURRENT_REACTIVE_EXPORTED",
        "reactive_power_production",
        entity_registry_enabled_default=False,
    ),
    _meter(
        "ELECTRICITY_REACTIVE_IMPORTED_TOTAL",
        "reactive_energy_consumption_total",
        state_class=TOTAL_INCREASING,
        entity_registry_enabled_default=False,
    ),
    _meter(
        "ELECTRICITY_REACTIVE_EXPORTED_TOTAL",
        "reactive_energy_production_total",
        state_class=TOTAL_INCREASING,
        entity_registry_enabled_default=False,
    ),
    *(
        _meter(
            f"ELECTRICITY_REACTIVE_{direction}_TARIFF_{tariff}",
            f"reactive_energy_{label}_tariff",
            translation_placeholders={"tariff": str(tariff)},
            state_class=TOTAL_INCREASING,
            entity_registry_enabled_default=False,
        )
        for direction, label in (("IMPORTED", "consumption"), ("EXPORTED", "production"))
        for tariff in (1, 2)
    ),
    *(
        _meter(
            f"ELECTRICITY_REACTIVE_TOTAL_Q{quadrant}",
            "reactive_energy_quadrant",
            translation_placeholders={"quadrant": f"Q{quadrant}"},
            state_class=TOTAL_INCREASING,
            entity_registry_enabled_default=False,
        )
        for quadrant in (1, 2, 3, 4)
    ),
    *(
        _meter(
            f"INSTANTANEOUS_REACTIVE_POWER_Q{quadrant}",
            "reactive_power_quadrant",
            translation_placeholders={"quadrant": f"Q{quadrant}"},
            entity_registry_enabled_default=False,
        )
        for quadrant in (1, 2, 3, 4)
    ),
    *_per_phase(
        "INSTANTANEOUS_REACTIVE_POWER_L{phase}_POSITIVE",
        "reactive_power_consumption_phase",
        entity_registry_enabled_default=False,
    ),
    *_per_phase(
        "INSTANTANEOUS_REACTIVE_POWER_L{phase}_NEGATIVE",
        "reactive_power_production_phase",
        entity_registry_enabled_default=False,
    ),
    _meter(
        "MSN_INSTANTANEOUS_APPARENT_POWER_POSITIVE",
        "apparent_power_consumption",
        entity_registry_enabled_default=False,
    ),
    _meter(
        "MSN_INSTANTANEOUS_APPARENT_POWER_NEGATIVE",
        "apparent_power_production",
        entity_registry_enabled_default=False,
    ),
    # Belgian capacity tariff: what the bill is based on.
    _meter("BELGIUM_CURRENT_AVERAGE_DEMAND", "current_average_demand"),
    _meter("BELGIUM_MAXIMUM_DEMAND_MONTH", "maximum_demand_month"),
    _meter(
        "BELGIUM_MAXIMUM_DEMAND_13_MONTHS",
        "maximum_demand_13_months",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement="W",
        state_fn=_highest_peak,
        attributes_fn=_peak_list,
    ),
    _diagnostic(
        "SHORT_POWER_FAILURE_COUNT",
        "short_power_failure_count",
        state_class=TOTAL_INCREASING,
        entity_registry_enabled_default=True,
    ),
    _diagnostic(
        "LONG_POWER_FAILURE_COUNT",
        "long_power_failure_count",
        state_class=TOTAL_INCREASING,
        entity_registry_enabled_default=True,
    ),
    *(
        _diagnostic(
            f"VOLTAGE_{kind}_L{phase}_COUNT",
            f"voltage_{kind.lower()}_count",
            translation_placeholders={"phase": f"L{phase}"},
            state_class=TOTAL_INCREASING,
        )
        for kind in ("SAG", "SWELL")
        for phase in (1, 2, 3)
    ),
    _diagnostic(
        "POWER_EVENT_FAILURE_LOG",
        "last_power_failure",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement="s",
        state_fn=_last_failure,
        attributes_fn=_failure_list,
    ),
    _diagnostic(
        "P1_MESSAGE_TIMESTAMP", "telegram_timestamp", device_class=SensorDeviceClass.TIMESTAMP
    ),
    _diagnostic("P1_MESSAGE_HEADER", "dsmr_version"),
    _diagnostic("BELGIUM_VERSION_INFORMATION", "dsmr_version"),
    _diagnostic("TEXT_MESSAGE", "text_message"),
    _diagnostic("TEXT_MESSAGE_CODE", "text_message_code"),
    *(
        _diagnostic(
            f"MSN_TEXT_MESSAGE_{line}",
            "text_message_line",
            translation_placeholders={"line": str(line)},
        )
        for line in (2, 3, 4, 5)
    ),
    _diagnostic("MSN_MBUS_SWITCH_POSITION", "mbus_switch_position"),
    *(
        _diagnostic(key, "equipment_identifier", state_fn=equipment_id_text)
        for key in (
            "EQUIPMENT_IDENTIFIER",
            "BELGIUM_EQUIPMENT_IDENTIFIER",
            "LUXEMBOURG_EQUIPMENT_IDENTIFIER",
            "Q3D_EQUIPMENT_IDENTIFIER",
            "COSEM_LOGICAL_DEVICE_NAME",
            "EQUIPMENT_IDENTIFIER_GAS",  # Iskra IE sends its own id on this line
        )
    ),
    _diagnostic("EQUIPMENT_SERIAL_NUMBER", "equipment_serial_number"),
    _diagnostic("Q3D_EQUIPMENT_SERIALNUMBER", "equipment_serial_number"),
    _diagnostic("Q3D_EQUIPMENT_STATE", "equipment_state"),
    _diagnostic("ACTUAL_SWITCH_POSITION", "switch_position"),
    _diagnostic("ACTUAL_TRESHOLD_ELECTRICITY", "threshold", state_class=MEASUREMENT),
    *(
        _diagnostic(
            f"FUSE_THRESHOLD_L{phase}",
            "fuse_threshold_phase",
            translation_placeholders={"phase": f"L{phase}"},
            state_class=MEASUREMENT,
        )
        for phase in (1, 2, 3)
    ),
    _diagnostic("MSN_CT_RATIO", "ct_ratio"),
)
REJECTED_TELEGRAMS: Final = SensorEntityDescription(
    key="rejected_telegrams",
    translation_key="rejected_telegrams",
    entity_category=DIAGNOSTIC,
)
_METER_SENSORS_BY_KEY: Final = {description.key: description for description in METER_SENSORS}

_MBUS_READINGS: Final = {
    MBUS_GAS: ("gas_consumption", SensorDeviceClass.GAS),
    MBUS_WATER: ("water_consumption", SensorDeviceClass.WATER),
    MBUS_HEAT: ("heat_energy", SensorDeviceClass.ENERGY),
    MBUS_HEAT_COOL: ("heat_energy", SensorDeviceClass.ENERGY),
}


def _mbus_equipment_id(mbus: MBusReading) -> str | None:
    return equipment_id_text(mbus.equipment_id) if mbus.equipment_id else None


_MBUS_DIAGNOSTICS: Final = tuple(
    MBusSensorDescription(
        key=key,
        translation_key=key,
        device_class=device_class,
        entity_category=DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=value_fn,
    )
    for key, value_fn, device_class in (
        ("measured_at", attrgetter("measured_at"), SensorDeviceClass.TIMESTAMP),
        ("equipment_identifier", _mbus_equipment_id, None),
        ("valve_position", attrgetter("valve_position"), None),
    )
)


# What an M-Bus meter's unique ids end in.
MBUS_SENSOR_KEYS: Final = ("reading", "last_hour", *(each.key for each in _MBUS_DIAGNOSTICS))


def mbus_descriptions(mbus: MBusReading) -> list[MBusSensorDescription]:
    """Return what an M-Bus meter of this type and unit gets as sensors."""
    translation_key, device_class = _MBUS_READINGS.get(
        mbus.device_type or 0, ("meter_reading", None)
    )
    if mbus.unit in ("GJ", "kWh"):  # some "gas" meters count energy
        device_class = SensorDeviceClass.ENERGY
    descriptions = [
        MBusSensorDescription(
            key="reading",
            translation_key=translation_key,
            device_class=device_class,
            state_class=TOTAL_INCREASING,
            native_unit_of_measurement=mbus.unit,
            suggested_display_precision=3,
            value_fn=lambda mbus: mbus.reading,
        )
    ]
    if mbus.unit == "m³":
        descriptions.append(
            MBusSensorDescription(
                key="last_hour",
                translation_key=f"{translation_key}_last_hour",
                device_class=SensorDeviceClass.VOLUME_FLOW_RATE,
                state_class=MEASUREMENT,
                native_unit_of_measurement=UnitOfVolumeFlowRate.CUBIC_METERS_PER_HOUR,
                suggested_display_precision=3,
                value_fn=lambda mbus: mbus.last_hour,
            )
        )
    descriptions.extend(_MBUS_DIAGNOSTICS)
    return descriptions


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
            self._attr_device_class = description.device_class or _UNIT_DEVICE_CLASS.get(unit)
            self._attr_suggested_display_precision = _PRECISION.get(unit)
        super().__init__(
            coordinator,
            description,
            f"{coordinator.meter_id}_{description.key.lower()}",
            meter_device_info(coordinator),
        )

    def _value(self, reading: MeterReading) -> StateType | datetime:
        value = reading.values.get(self.entity_description.key)
        if (state_fn := self.entity_description.state_fn) is not None:
            return state_fn(value) if value is not None else None
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


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SmartMeterConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add sensors for the values the meter sends, as they first appear, and the exports'."""
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
            if (description := _METER_SENSORS_BY_KEY.get(key)) is not None:
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
    add_pvoutput_sensors(entry, async_add_entities)
