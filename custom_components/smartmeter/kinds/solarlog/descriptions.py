"""The sensors a plant, its components and MPP trackers get from the API's channels.

A channel's sensor shows its newest value (power, level, temperature: stale after an hour
without a newer one) or its energy added up over today, this month, this year or the
lifetime. Energy is in kWh, usable in the energy dashboard.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Literal

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfIrradiance,
    UnitOfPower,
    UnitOfTemperature,
)

from ...solarlog import endpoints
from ...solarlog.history import ENERGY_UNITS, POWER_UNITS

# How a channel's points become a state: the newest value, or the energy of a period.
type Reading = Literal["latest", "today", "month", "year", "lifetime"]
PERIODS: Final[tuple[Reading, ...]] = ("today", "month", "year", "lifetime")


@dataclass(frozen=True, kw_only=True)
class ChannelDescription(SensorEntityDescription):
    """A sensor of one channel; key is also the end of its unique id."""

    channel: str
    reading: Reading = "latest"
    # What the series' units are worth in the native unit, a series without a unit taken in
    # the first; None: values taken as they are.
    units: Mapping[str, Decimal] | None = None


# kWh per unit of a series; the first is that of a series without a unit.
KILOWATT_HOURS: Final = {unit: factor / 1000 for unit, factor in ENERGY_UNITS.items()}


def _power(key: str, channel: str, **extra: object) -> ChannelDescription:
    return ChannelDescription(
        key=key,
        translation_key=key,
        channel=channel,
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        units=POWER_UNITS,
        **extra,  # type: ignore[arg-type]
    )


def _energy(key: str, channel: str, reading: Reading, **extra: object) -> ChannelDescription:
    return ChannelDescription(
        key=key,
        translation_key=key,
        channel=channel,
        reading=reading,
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=3,
        units=KILOWATT_HOURS,
        **extra,  # type: ignore[arg-type]
    )


def _level(key: str, channel: str) -> ChannelDescription:
    return ChannelDescription(
        key=key,
        translation_key=key,
        channel=channel,
        device_class=SensorDeviceClass.BATTERY,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=0,
    )


def _measurement(
    key: str, channel: str, device_class: SensorDeviceClass, unit: str, precision: int
) -> ChannelDescription:
    """Return a sensor of a measured value in one unit (irradiance, temperature)."""
    return ChannelDescription(
        key=key,
        translation_key=key,
        channel=channel,
        device_class=device_class,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=unit,
        suggested_display_precision=precision,
        units={unit: Decimal(1)},
    )


def _periods(prefix: str, channel: str) -> list[ChannelDescription]:
    """Return today's, this month's, this year's and the lifetime's energy of a channel."""
    return [
        _energy(
            f"{prefix}_{reading}",
            channel,
            reading,
            entity_registry_enabled_default=reading in ("today", "lifetime"),
        )
        for reading in PERIODS
    ]


# The plant-level sensors (Basic package).
PLANT_CHANNELS: Final = (
    _power("solar_power", endpoints.PRODUCTION_POWER),
    _power("consumption_power", endpoints.CONSUMPTION_POWER),
    _power("battery_charge_power", endpoints.BATTERY_CHARGE_POWER),
    _power("battery_discharge_power", endpoints.BATTERY_DISCHARGE_POWER),
    _level("battery_level", endpoints.BATTERY_LEVEL),
    *_periods("solar_energy", endpoints.PRODUCTION_ENERGY),
    *_periods("consumption_energy", endpoints.CONSUMPTION_ENERGY),
    *_periods("battery_charged_energy", endpoints.BATTERY_CHARGED_ENERGY),
    *_periods("battery_discharged_energy", endpoints.BATTERY_DISCHARGED_ENERGY),
)

# A component's sensors by channel (Advanced package): today's values.
COMPONENT_CHANNELS: Final[Mapping[str, ChannelDescription]] = {
    description.channel: description
    for description in (
        _power("ac_power", "ProdPac"),
        _power("dc_power", "ProdPdc"),
        _energy("energy_today", "ProdEtotal", "today"),
        _power("component_consumption_power", "ConsPac"),
        _energy("consumption_today", "ConsEtotal", "today"),
        _power("charge_power", "BatPcharge"),
        _power("discharge_power", "BatPdischarge"),
        _level("state_of_charge", "BatSoc"),
        _measurement(
            "irradiance",
            "Irradiation",
            SensorDeviceClass.IRRADIANCE,
            UnitOfIrradiance.WATTS_PER_SQUARE_METER,
            0,
        ),
        ChannelDescription(
            key="insolation_today",
            translation_key="insolation_today",
            channel="Insolation",
            reading="today",
            state_class=SensorStateClass.TOTAL_INCREASING,
            native_unit_of_measurement="Wh/m²",
            suggested_display_precision=0,
            units={"Wh/m²": Decimal(1), "kWh/m²": Decimal(1000)},
        ),
        _measurement(
            "module_temperature",
            "TempModule",
            SensorDeviceClass.TEMPERATURE,
            UnitOfTemperature.CELSIUS,
            1,
        ),
        _measurement(
            "ambient_temperature",
            "TempAmbient",
            SensorDeviceClass.TEMPERATURE,
            UnitOfTemperature.CELSIUS,
            1,
        ),
    )
}

# An MPP tracker's sensors by channel, on its inverter's device; {tracker} is its index.
TRACKER_CHANNELS: Final[Mapping[str, ChannelDescription]] = {
    description.channel: description
    for description in (
        _power("tracker_power", "ProdPdc"),
        ChannelDescription(
            key="tracker_voltage",
            translation_key="tracker_voltage",
            channel="ProdUdc",
            device_class=SensorDeviceClass.VOLTAGE,
            state_class=SensorStateClass.MEASUREMENT,
            native_unit_of_measurement=UnitOfElectricPotential.VOLT,
            suggested_display_precision=0,
            units={"V": Decimal(1)},
            entity_registry_enabled_default=False,
        ),
        ChannelDescription(
            key="tracker_current",
            translation_key="tracker_current",
            channel="ProdIdc",
            device_class=SensorDeviceClass.CURRENT,
            state_class=SensorStateClass.MEASUREMENT,
            native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
            suggested_display_precision=2,
            units={"A": Decimal(1)},
            entity_registry_enabled_default=False,
        ),
    )
}

PLANT_SIZE: Final = SensorEntityDescription(
    key="plant_size",
    translation_key="plant_size",
    device_class=SensorDeviceClass.POWER,
    native_unit_of_measurement=UnitOfPower.WATT,
    suggested_unit_of_measurement=UnitOfPower.KILO_WATT,
    entity_category=EntityCategory.DIAGNOSTIC,
)
LAST_TRANSFER: Final = SensorEntityDescription(
    key="last_data_transfer",
    translation_key="last_data_transfer",
    device_class=SensorDeviceClass.TIMESTAMP,
    entity_category=EntityCategory.DIAGNOSTIC,
)
API_PACKAGE: Final = SensorEntityDescription(
    key="api_package",
    translation_key="api_package",
    device_class=SensorDeviceClass.ENUM,
    options=["basic", "advanced"],
    entity_category=EntityCategory.DIAGNOSTIC,
)
COMPONENT_EVENTS: Final = SensorEntityDescription(
    key="component_events",
    translation_key="component_events",
    state_class=SensorStateClass.MEASUREMENT,
    entity_category=EntityCategory.DIAGNOSTIC,
)
KPI: Final = SensorEntityDescription(
    key="kpi",
    translation_key="kpi",
    state_class=SensorStateClass.MEASUREMENT,
)
