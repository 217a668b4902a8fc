"""The sensors a P1 meter's electricity values get: what each is, its unit, how it is shown."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any, Final

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    EntityCategory,
    UnitOfApparentPower,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfFrequency,
    UnitOfPower,
    UnitOfReactiveEnergy,
    UnitOfReactivePower,
    UnitOfTime,
    UnitOfVolume,
)
from homeassistant.helpers.typing import StateType

from ...meter.reading import (
    Peak,
    PowerFailure,
    equipment_id_text,
)

MEASUREMENT = SensorStateClass.MEASUREMENT
TOTAL_INCREASING = SensorStateClass.TOTAL_INCREASING
DIAGNOSTIC = EntityCategory.DIAGNOSTIC

# The device class follows from the unit the meter layer exposes.
UNIT_DEVICE_CLASS: Final[dict[str, SensorDeviceClass]] = {
    UnitOfPower.WATT: SensorDeviceClass.POWER,
    UnitOfEnergy.KILO_WATT_HOUR: SensorDeviceClass.ENERGY,
    UnitOfEnergy.GIGA_JOULE: SensorDeviceClass.ENERGY,
    UnitOfReactivePower.VOLT_AMPERE_REACTIVE: SensorDeviceClass.REACTIVE_POWER,
    UnitOfReactiveEnergy.KILO_VOLT_AMPERE_REACTIVE_HOUR: SensorDeviceClass.REACTIVE_ENERGY,
    UnitOfApparentPower.VOLT_AMPERE: SensorDeviceClass.APPARENT_POWER,
    UnitOfElectricPotential.VOLT: SensorDeviceClass.VOLTAGE,
    UnitOfElectricCurrent.AMPERE: SensorDeviceClass.CURRENT,
    UnitOfFrequency.HERTZ: SensorDeviceClass.FREQUENCY,
    UnitOfVolume.CUBIC_METERS: SensorDeviceClass.GAS,
    UnitOfTime.SECONDS: SensorDeviceClass.DURATION,
}
PRECISION: Final[dict[str, int]] = {
    UnitOfPower.WATT: 0,
    UnitOfReactivePower.VOLT_AMPERE_REACTIVE: 0,
    UnitOfApparentPower.VOLT_AMPERE: 0,
    UnitOfEnergy.KILO_WATT_HOUR: 3,
    UnitOfReactiveEnergy.KILO_VOLT_AMPERE_REACTIVE_HOUR: 3,
    UnitOfElectricPotential.VOLT: 1,
    UnitOfElectricCurrent.AMPERE: 2,
}


@dataclass(frozen=True, kw_only=True)
class MeterSensorDescription(SensorEntityDescription):
    """A value of the electricity meter; ``key`` is its dsmr-parser name."""

    # Turns the meter's value into the state; without it, the value is the state.
    value_fn: Callable[[Any], StateType | datetime] | None = None
    attributes_fn: Callable[[Any], Mapping[str, Any]] | None = None


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
        native_unit_of_measurement=UnitOfPower.WATT,
        value_fn=_highest_peak,
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
        native_unit_of_measurement=UnitOfTime.SECONDS,
        value_fn=_last_failure,
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
        _diagnostic(key, "equipment_identifier", value_fn=equipment_id_text)
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
METER_SENSORS_BY_KEY: Final = {description.key: description for description in METER_SENSORS}
