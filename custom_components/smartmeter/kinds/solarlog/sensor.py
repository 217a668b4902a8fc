"""A plant's sensors: its values, its components' and MPP trackers', KPIs and diagnostics.

Sensors are added as their data first appears (a battery's when its channels do, a
component's when the Advanced package answers), and stay: a component replaced in a new
epoch keeps its cross-epoch id, so its device and entities carry on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from functools import partial
import re
from typing import Any, Final

from homeassistant.components.sensor import SensorEntity, SensorEntityDescription
from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from ...solarlog.models import ChannelSeries, Component
from ...solarlog.poller import Snapshot
from .const import CONF_PLANT_ID, STALE_AFTER, component_device_id, plant_device_id
from .coordinator import SolarLogCoordinator
from .data import SolarLogConfigEntry
from .descriptions import (
    API_PACKAGE,
    COMPONENT_CHANNELS,
    COMPONENT_EVENTS,
    KPI,
    LAST_TRANSFER,
    PLANT_CHANNELS,
    PLANT_SIZE,
    TRACKER_CHANNELS,
    ChannelDescription,
)
from .entity import SolarLogEntity, component_device_info, plant_device_info

# The series a sensor's channel is found in: the plant's, a component's, a tracker's.
type SeriesOf = Callable[[Snapshot], Mapping[str, ChannelSeries]]

_WATT_HOURS_PER_KWH: Final = Decimal(1000)


def _factor(description: ChannelDescription, unit: str | None) -> Decimal | None:
    """Return what a series' unit is worth in the sensor's; None for a unit it cannot take."""
    if description.units is None:
        return Decimal(1)
    if unit is None:
        return next(iter(description.units.values()))
    return description.units.get(unit)


def series_amount(
    description: ChannelDescription, series: ChannelSeries | None, now: datetime
) -> Decimal | None:
    """Return a series' newest value (None once stale), or the sum of today's points."""
    if series is None or (factor := _factor(description, series.unit)) is None:
        return None
    if description.reading == "latest":
        latest = series.latest()
        if latest is None or now - latest[0] > STALE_AFTER:
            return None
        return latest[1] * factor
    return sum((value for _, value in series.points if value is not None), Decimal(0)) * factor


class ChannelSensor(SolarLogEntity, SensorEntity):
    """A channel's newest value, or its energy of today, this month, year or lifetime."""

    entity_description: ChannelDescription

    def __init__(
        self,
        coordinator: SolarLogCoordinator,
        description: ChannelDescription,
        *,
        unique_id: str,
        device_info: DeviceInfo,
        series_of: SeriesOf,
        placeholders: Mapping[str, str] | None = None,
    ) -> None:
        """Show description's channel of the series series_of finds."""
        super().__init__(coordinator)
        self.entity_description = description
        self._attr_unique_id = unique_id
        self._attr_device_info = device_info
        self._series_of = series_of
        if placeholders:
            self._attr_translation_placeholders = dict(placeholders)

    def _amount(self) -> Decimal | None:
        description = self.entity_description
        snapshot = self.coordinator.data
        series = self._series_of(snapshot).get(description.channel)
        if description.reading in ("latest", "today"):
            return series_amount(description, series, dt_util.utcnow())
        earlier = (snapshot.earlier or {}).get(description.channel)
        if earlier is None:
            return None
        today = series_amount(replace(description, reading="today"), series, dt_util.utcnow())
        month, year, lifetime = earlier.with_today((today or Decimal(0)) * _WATT_HOURS_PER_KWH)
        chosen = {"month": month, "year": year, "lifetime": lifetime}[description.reading]
        return chosen / _WATT_HOURS_PER_KWH

    @property
    def native_value(self) -> float | None:
        """Return the value; None when unknown."""
        amount = self._amount()
        return None if amount is None else float(amount)

    @property
    def available(self) -> bool:
        """Tell whether the plant answers and, for a newest value, whether it is recent."""
        return super().available and (
            self.entity_description.reading != "latest" or self._amount() is not None
        )


class PlantSensor(SolarLogEntity, SensorEntity):
    """A sensor of the plant's own information (size, last transfer, package, events)."""

    def __init__(
        self,
        coordinator: SolarLogCoordinator,
        description: SensorEntityDescription,
        value: Callable[[SolarLogCoordinator], StateType | datetime],
        attributes: Callable[[SolarLogCoordinator], Mapping[str, Any]] | None = None,
    ) -> None:
        """Show what value gives of the coordinator."""
        super().__init__(coordinator)
        self.entity_description = description
        plant_id = coordinator.config_entry.data[CONF_PLANT_ID]
        self._attr_unique_id = f"{plant_device_id(plant_id)}_{description.key}"
        self._attr_device_info = plant_device_info(coordinator)
        self._value = value
        self._attributes = attributes

    @property
    def native_value(self) -> StateType | datetime:
        """Return the value."""
        return self._value(self.coordinator)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Return the attributes, if the sensor has any."""
        return None if self._attributes is None else self._attributes(self.coordinator)


class KpiSensor(SolarLogEntity, SensorEntity):
    """A plant KPI (Advanced package), named and measured as the API gives it."""

    def __init__(self, coordinator: SolarLogCoordinator, name: str, unit: str | None) -> None:
        """Show the KPI called name."""
        super().__init__(coordinator)
        self.entity_description = KPI
        plant_id = coordinator.config_entry.data[CONF_PLANT_ID]
        self._attr_unique_id = f"{plant_device_id(plant_id)}_kpi_{_slug(name)}"
        self._attr_device_info = plant_device_info(coordinator)
        self._attr_translation_placeholders = {"name": _words(name)}
        self._attr_native_unit_of_measurement = unit
        self._name = name

    @property
    def native_value(self) -> float | None:
        """Return the KPI's value of the last update; None when it had none."""
        for kpi in self.coordinator.data.kpis:
            if kpi.name == self._name and kpi.value is not None:
                return float(kpi.value)
        return None


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", _words(name).lower()).strip("_")


def _words(name: str) -> str:
    """Return a camelCase name as words: specificYield -> specific yield."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).lower()


def _events(coordinator: SolarLogCoordinator) -> Mapping[str, Any]:
    return {
        "events": [
            {
                "component": component.name,
                "component_id": component.cross_epoch_id or component.id,
                "code": error.code,
                "text": error.text,
                "since": error.since.isoformat() if error.since else None,
            }
            for component, error in coordinator.active_errors
        ]
    }


def _size(coordinator: SolarLogCoordinator) -> float | None:
    size = coordinator.data.plant.size_w
    return None if size is None else float(size)


def _last_transfer(coordinator: SolarLogCoordinator) -> datetime | None:
    return coordinator.data.plant.last_transfer


def _package(coordinator: SolarLogCoordinator) -> str | None:
    advanced = coordinator.data.advanced
    return None if advanced is None else "advanced" if advanced else "basic"


def _event_count(coordinator: SolarLogCoordinator) -> int:
    return len(coordinator.active_errors)


# The plant's own sensors: description, value and attributes.
_PLANT_INFORMATION: Final[
    tuple[
        tuple[
            SensorEntityDescription,
            Callable[[SolarLogCoordinator], StateType | datetime],
            Callable[[SolarLogCoordinator], Mapping[str, Any]] | None,
        ],
        ...,
    ]
] = (
    (PLANT_SIZE, _size, None),
    (LAST_TRANSFER, _last_transfer, None),
    (API_PACKAGE, _package, None),
    (COMPONENT_EVENTS, _event_count, _events),
)


def _today(snapshot: Snapshot) -> Mapping[str, ChannelSeries]:
    return snapshot.today


def _of_component(cross_epoch_id: str) -> SeriesOf:
    return lambda snapshot: snapshot.component_series.get(cross_epoch_id, {})


def _of_tracker(cross_epoch_id: str, index: int) -> SeriesOf:
    return lambda snapshot: snapshot.tracker_series.get((cross_epoch_id, index), {})


def _candidates(
    coordinator: SolarLogCoordinator, snapshot: Snapshot
) -> Iterator[tuple[str, Callable[[], SensorEntity]]]:
    """Yield the unique id and maker of every sensor the snapshot's data calls for."""
    plant_id = coordinator.config_entry.data[CONF_PLANT_ID]
    plant_device = plant_device_id(plant_id)
    for key, value, attributes in _PLANT_INFORMATION:
        yield (
            f"{plant_device}_{key.key}",
            partial(PlantSensor, coordinator, key, value, attributes),
        )
    earlier = snapshot.earlier or {}
    for description in PLANT_CHANNELS:
        if description.channel in snapshot.today or (
            description.reading not in ("latest", "today") and description.channel in earlier
        ):
            unique_id = f"{plant_device}_{description.key}"
            yield (
                unique_id,
                partial(
                    ChannelSensor,
                    coordinator,
                    description,
                    unique_id=unique_id,
                    device_info=plant_device_info(coordinator),
                    series_of=_today,
                ),
            )
    components: dict[str, Component] = {
        component.cross_epoch_id: component
        for component in snapshot.components
        if component.cross_epoch_id is not None
    }
    for cross_epoch_id, found in snapshot.component_series.items():
        if (component := components.get(cross_epoch_id)) is None:
            continue
        device = component_device_id(plant_id, cross_epoch_id)
        for channel in found:
            if (of_component := COMPONENT_CHANNELS.get(channel)) is not None:
                unique_id = f"{device}_{of_component.key}"
                yield (
                    unique_id,
                    partial(
                        ChannelSensor,
                        coordinator,
                        of_component,
                        unique_id=unique_id,
                        device_info=component_device_info(coordinator, component),
                        series_of=_of_component(cross_epoch_id),
                    ),
                )
    for (cross_epoch_id, index), found in snapshot.tracker_series.items():
        if (component := components.get(cross_epoch_id)) is None:
            continue
        device = component_device_id(plant_id, cross_epoch_id)
        for channel in found:
            if (of_tracker := TRACKER_CHANNELS.get(channel)) is not None:
                unique_id = f"{device}_mpp{index}_{of_tracker.key}"
                yield (
                    unique_id,
                    partial(
                        ChannelSensor,
                        coordinator,
                        of_tracker,
                        unique_id=unique_id,
                        device_info=component_device_info(coordinator, component),
                        series_of=_of_tracker(cross_epoch_id, index),
                        placeholders={"tracker": str(index)},
                    ),
                )
    for kpi in snapshot.kpis:
        yield (
            f"{plant_device}_kpi_{_slug(kpi.name)}",
            partial(KpiSensor, coordinator, kpi.name, kpi.unit),
        )


def add_plant_sensors(
    entry: SolarLogConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the sensors the plant's data calls for, now and as more of it appears."""
    coordinator = entry.runtime_data.coordinator
    added: set[str] = set()

    @callback
    def add_new() -> None:
        new = []
        for unique_id, make in _candidates(coordinator, coordinator.data):
            if unique_id not in added:
                added.add(unique_id)
                new.append(make())
        if new:
            async_add_entities(new)

    add_new()
    entry.async_on_unload(coordinator.async_add_listener(add_new))
