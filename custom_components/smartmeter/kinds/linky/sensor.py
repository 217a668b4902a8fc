"""A Linky meter's sensors: the latest complete values of each measurement, and the polls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfApparentPower,
    UnitOfEnergy,
    UnitOfPower,
)
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ...const import DOMAIN
from ...enedis import Data, Measurement, offers
from ...models import LinkyConfigEntry
from .const import CONF_PRM
from .runtime import LinkyRuntime

type StateAndAttributes = tuple[Any, dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class LinkySensorDescription(SensorEntityDescription):
    """A sensor of one measurement (or of the meter, measurement None)."""

    value_fn: Callable[[LinkyRuntime, Measurement], StateAndAttributes]
    data: Data | None = None


def _kwh(wh: int) -> float:
    return wh / 1000


def _latest_day(runtime: LinkyRuntime, measurement: Measurement) -> date | None:
    return runtime.data.of(measurement).latest_day()


def _daily(runtime: LinkyRuntime, measurement: Measurement) -> StateAndAttributes:
    day = _latest_day(runtime, measurement)
    if day is None:
        return None, {}
    return _kwh(runtime.data.of(measurement).daily[day]), {"day": day.isoformat()}


def _monthly(runtime: LinkyRuntime, measurement: Measurement) -> StateAndAttributes:
    day = _latest_day(runtime, measurement)
    if day is None:
        return None, {}
    energy = runtime.data.of(measurement).month_energy(day)
    return _kwh(energy), {"month": day.strftime("%Y-%m"), "until": day.isoformat()}


def _annual(runtime: LinkyRuntime, measurement: Measurement) -> StateAndAttributes:
    day = _latest_day(runtime, measurement)
    if day is None:
        return None, {}
    energy = runtime.data.of(measurement).year_energy(day)
    return _kwh(energy), {"year": day.year, "until": day.isoformat()}


def _load_curve(runtime: LinkyRuntime, measurement: Measurement) -> StateAndAttributes:
    latest = runtime.data.of(measurement).curve.latest
    if latest is None:
        return None, {}
    return latest.watts / 1000, {"start": latest.start.isoformat(), "end": latest.end.isoformat()}


def _max_power(runtime: LinkyRuntime, measurement: Measurement) -> StateAndAttributes:
    powers = runtime.data.of(measurement).max_power
    if not powers:
        return None, {}
    value = powers[max(powers)]
    at = None if value.at is None else value.at.isoformat()
    return value.value / 1000, {"day": value.day.isoformat(), "at": at}


MEASUREMENT_SENSORS: Final = (
    LinkySensorDescription(
        key="load_curve",
        data=Data.LOAD_CURVE,
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        suggested_display_precision=3,
        value_fn=_load_curve,
    ),
    LinkySensorDescription(
        key="daily",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=3,
        value_fn=_daily,
    ),
    LinkySensorDescription(
        key="monthly",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=3,
        value_fn=_monthly,
    ),
    LinkySensorDescription(
        key="annual",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=3,
        value_fn=_annual,
    ),
    LinkySensorDescription(
        key="max_power",
        data=Data.MAX_POWER,
        device_class=SensorDeviceClass.APPARENT_POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfApparentPower.KILO_VOLT_AMPERE,
        suggested_display_precision=3,
        value_fn=_max_power,
    ),
)


def _progress(runtime: LinkyRuntime, measurement: Measurement) -> StateAndAttributes:
    return runtime.progress(), {
        "requests": runtime.sync.client.requests,
        "missing_days": len(runtime.sync.missing_days(runtime.today())),
    }


def _next_poll(runtime: LinkyRuntime, measurement: Measurement) -> StateAndAttributes:
    return runtime.next_poll, {"minute": runtime.minute, "last_error": runtime.last_error}


METER_SENSORS: Final = (
    LinkySensorDescription(
        key="history_import",
        entity_category=EntityCategory.DIAGNOSTIC,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_progress,
    ),
    LinkySensorDescription(
        key="next_poll",
        entity_category=EntityCategory.DIAGNOSTIC,
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=_next_poll,
    ),
)


def add_linky_sensors(
    entry: LinkyConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the meter's sensors: five of consumption, four of production, two of the polls."""
    runtime = entry.runtime_data.runtime
    prm = entry.data[CONF_PRM]
    device = DeviceInfo(
        identifiers={(DOMAIN, f"linky_{prm}")},
        manufacturer="Enedis",
        model="Linky",
        name=entry.title,
        serial_number=prm,
    )
    entities = [
        LinkySensor(runtime, device, prm, description, measurement)
        for measurement in runtime.measurements
        for description in MEASUREMENT_SENSORS
        if description.data is None or offers(measurement, description.data)
    ]
    entities += [
        LinkySensor(runtime, device, prm, description, None) for description in METER_SENSORS
    ]
    async_add_entities(entities)


class LinkySensor(SensorEntity):
    """A value of the meter, updated when its data comes."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    entity_description: LinkySensorDescription

    def __init__(
        self,
        runtime: LinkyRuntime,
        device: DeviceInfo,
        prm: str,
        description: LinkySensorDescription,
        measurement: Measurement | None,
    ) -> None:
        """Name it after its measurement and value."""
        self.entity_description = description
        self._runtime = runtime
        self._measurement = measurement or Measurement.CONSUMPTION
        key = description.key if measurement is None else f"{measurement}_{description.key}"
        self._attr_translation_key = key
        self._attr_unique_id = f"linky_{prm}_{key}"
        self._attr_device_info = device

    async def async_added_to_hass(self) -> None:
        """Follow the meter's data."""
        self.async_on_remove(self._runtime.add_listener(self.async_write_ha_state))

    @property
    def native_value(self) -> float | datetime | None:
        """Return the value."""
        value: float | datetime | None = self.entity_description.value_fn(
            self._runtime, self._measurement
        )[0]
        return value

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return when the value is of."""
        return self.entity_description.value_fn(self._runtime, self._measurement)[1]
