"""The sensors an M-Bus meter (gas, water, heat) gets, by its type and unit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import Final

from homeassistant.components.sensor import SensorDeviceClass, SensorEntityDescription
from homeassistant.const import UnitOfEnergy, UnitOfVolume, UnitOfVolumeFlowRate

from ...meter.reading import (
    MBUS_GAS,
    MBUS_HEAT,
    MBUS_HEAT_COOL,
    MBUS_WATER,
    MBusReading,
    Value,
    equipment_id_text,
)
from .descriptions import DIAGNOSTIC, MEASUREMENT, TOTAL_INCREASING


@dataclass(frozen=True, kw_only=True)
class MBusSensorDescription(SensorEntityDescription):
    """A value of a meter on the M-Bus (gas, water, heat)."""

    value_fn: Callable[[MBusReading], Value]


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
    if mbus.unit in (UnitOfEnergy.GIGA_JOULE, UnitOfEnergy.KILO_WATT_HOUR):
        # some "gas" meters count energy
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
    if mbus.unit == UnitOfVolume.CUBIC_METERS:
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
