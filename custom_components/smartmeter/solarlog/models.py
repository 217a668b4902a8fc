"""The Enerest API's answers as typed values: plants, components, series of data points.

Numbers are read as Decimal (JSON's floats too), so that energies add up exactly. An answer
that lacks what a value needs raises ResponseError, naming what was wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .endpoints import COMPONENT_CLASSES, COMPONENT_TYPES
from .errors import ResponseError


def _object(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ResponseError(f"{what} is not a JSON object")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ResponseError(f"{what} is not a JSON list")
    return value


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _required_text(data: Mapping[str, Any], key: str, what: str) -> str:
    value = _text(data.get(key))
    if value is None:
        raise ResponseError(f"{what} has no {key}")
    return value


def parse_time(value: Any) -> datetime | None:
    """Return an ISO 8601 time with its offset; None for none or a time without offset."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def parse_number(value: Any) -> Decimal | None:
    """Return a number (or a numeric string) as Decimal; None for null.

    Raises ResponseError for anything else, such as text, so bad data is not taken as 0.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ResponseError(f"not a number: {value!r}")
    if isinstance(value, Decimal | int):
        return Decimal(value)
    if isinstance(value, float | str):
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            pass
        else:
            if number.is_finite():
                return number
    raise ResponseError(f"not a number: {value!r}")


@dataclass(frozen=True, slots=True)
class PlantSummary:
    """A plant of the user's, as the plants list gives it."""

    id: str
    label: str | None
    size_w: Decimal | None


@dataclass(frozen=True, slots=True)
class Plant:
    """A plant's information (GET administration/plant/{id})."""

    id: str
    label: str | None
    size_w: Decimal | None
    status: str | None
    device: str | None
    vendor: str | None
    identifier: str | None
    firmware: str | None
    firmware_version: str | None
    installed: datetime | None
    last_transfer: datetime | None
    last_transfer_type: str | None
    package: str | None


def parse_plant_summaries(data: Any) -> list[PlantSummary]:
    """Read the plants list."""
    plants = []
    for item in _list(data, "the plants list"):
        plant = _object(item, "a plant")
        plants.append(
            PlantSummary(
                id=_required_text(plant, "id", "a plant"),
                label=_text(plant.get("label")),
                size_w=_optional_number(plant.get("plantSize")),
            )
        )
    return plants


def _optional_number(value: Any) -> Decimal | None:
    try:
        return parse_number(value)
    except ResponseError:
        return None


def parse_plant(data: Any) -> Plant:
    """Read a plant's information."""
    plant = _object(data, "the plant")
    transfer = plant.get("lastDataTransfer")
    transfer = transfer if isinstance(transfer, dict) else {}
    return Plant(
        id=_required_text(plant, "id", "the plant"),
        label=_text(plant.get("label")),
        size_w=_optional_number(plant.get("plantSize")),
        status=_text(plant.get("plantStatus")),
        device=_text(plant.get("deviceFullName")),
        vendor=_text(plant.get("vendor")),
        identifier=_text(plant.get("identifier")),
        firmware=_text(plant.get("firmware")),
        firmware_version=_text(plant.get("firmwareVersion")),
        installed=parse_time(plant.get("installationDate")),
        last_transfer=parse_time(transfer.get("lastTransfer")),
        last_transfer_type=_text(transfer.get("lastTransferType")),
        package=_text(plant.get("package")),
    )


@dataclass(frozen=True, slots=True)
class Tracker:
    """An MPP tracker of an inverter: its id of the epoch and its index, which stays."""

    id: str
    index: int
    name: str | None


@dataclass(frozen=True, slots=True)
class ComponentError:
    """A status error of a component (a component event); raw is the API's own object."""

    key: str
    code: str | None
    text: str | None
    since: datetime | None
    raw: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Component:
    """A component of a plant's epoch; cross_epoch_id stays while the component does."""

    id: str
    cross_epoch_id: str | None
    type: str | None
    name: str | None
    classes: tuple[str, ...]
    trackers: tuple[Tracker, ...]
    errors: tuple[ComponentError, ...] = field(default=())

    @property
    def kind(self) -> str | None:
        """Return what it is (endpoints' INVERTER, METER, ...) by type, else by class."""
        if self.type in COMPONENT_TYPES:
            return COMPONENT_TYPES[self.type]
        return next(
            (COMPONENT_CLASSES[one] for one in self.classes if one in COMPONENT_CLASSES), None
        )


# [unverified] The names a status error's code, text and start may have (open question 7).
_ERROR_CODE_KEYS = ("errorCode", "code", "statusCode", "id")
_ERROR_TEXT_KEYS = ("errorText", "message", "description", "text", "name")
_ERROR_SINCE_KEYS = ("start", "startDate", "from", "timestamp", "date", "createdAt")


def _first(data: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    return next((data[key] for key in keys if data.get(key) is not None), None)


def _component_error(data: Any) -> ComponentError | None:
    if not isinstance(data, dict):
        return None
    code = _first(data, _ERROR_CODE_KEYS)
    text = _first(data, _ERROR_TEXT_KEYS)
    since = parse_time(_first(data, _ERROR_SINCE_KEYS))
    key = data.get("id")
    return ComponentError(
        key=str(key) if key is not None else f"{code}|{text}|{since}",
        code=None if code is None else str(code),
        text=None if text is None else str(text),
        since=since,
        raw=data,
    )


def _tracker(data: Any, position: int) -> Tracker | None:
    if not isinstance(data, dict) or (tracker_id := _text(data.get("id"))) is None:
        return None
    index = data.get("trackerindex")
    return Tracker(
        id=tracker_id,
        index=index if isinstance(index, int) and not isinstance(index, bool) else position,
        name=_text(data.get("name")),
    )


def parse_components(data: Any) -> list[Component]:
    """Read the components of an epoch."""
    components = []
    for item in _list(data, "the components"):
        component = _object(item, "a component")
        classes = component.get("classes")
        trackers = component.get("mpptrackers")
        errors = component.get("componentstatuserrors")
        components.append(
            Component(
                id=_required_text(component, "id", "a component"),
                cross_epoch_id=_text(component.get("crossEpochId")),
                type=_text(component.get("type")),
                name=_text(component.get("name")),
                classes=tuple(one for one in classes if isinstance(one, str))
                if isinstance(classes, list)
                else (),
                trackers=tuple(
                    tracker
                    for position, one in enumerate(trackers, start=1)
                    if (tracker := _tracker(one, position)) is not None
                )
                if isinstance(trackers, list)
                else (),
                errors=tuple(
                    error for one in errors if (error := _component_error(one)) is not None
                )
                if isinstance(errors, list)
                else (),
            )
        )
    return components


@dataclass(frozen=True, slots=True)
class ChannelSeries:
    """One channel of one device (or the plant) over a period: its points, oldest first.

    A point is None where the API has null (no value for that time).
    """

    name: str
    device_id: str | None
    unit: str | None
    day: date | None
    points: tuple[tuple[datetime, Decimal | None], ...]

    def latest(self) -> tuple[datetime, Decimal] | None:
        """Return the newest point with a value, if any."""
        for moment, value in reversed(self.points):
            if value is not None:
                return moment, value
        return None


def parse_series(data: Any) -> list[ChannelSeries]:
    """Read a list of channel series (every visualization call answers with one)."""
    found = []
    for item in _list(data, "the channel series"):
        series = _object(item, "a channel series")
        name = _required_text(series, "name", "a channel series")
        raw_points = _object(series.get("dataPoints") or {}, f"the data points of {name}")
        points = []
        for key, value in raw_points.items():
            moment = parse_time(key)
            if moment is None:
                raise ResponseError(f"a data point of {name} has no time with offset: {key!r}")
            points.append((moment, parse_number(value)))
        points.sort(key=lambda point: point[0])
        day = series.get("date")
        try:
            parsed_day = date.fromisoformat(day) if isinstance(day, str) else None
        except ValueError:
            parsed_day = None
        found.append(
            ChannelSeries(
                name=name,
                device_id=_text(series.get("deviceId")),
                unit=_text(series.get("unit")),
                day=parsed_day,
                points=tuple(points),
            )
        )
    return found


@dataclass(frozen=True, slots=True)
class Kpi:
    """A plant KPI [unverified shape]: its name, value and unit."""

    name: str
    value: Decimal | None
    unit: str | None


def parse_kpis(data: Any) -> list[Kpi]:
    """Read a plant's KPIs: a list of objects with name, value and unit."""
    kpis = []
    for item in _list(data, "the KPIs"):
        kpi = _object(item, "a KPI")
        kpis.append(
            Kpi(
                name=_required_text(kpi, "name", "a KPI"),
                value=parse_number(kpi.get("value")),
                unit=_text(kpi.get("unit")),
            )
        )
    return kpis
