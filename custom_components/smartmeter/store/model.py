"""Readings and meter statistics in plain units, and the scaled integers the database holds.

Every conversion between the two lives here. Decimals become integers of their smallest unit
(kWh with 3 decimals -> Wh, V with 1 decimal -> dV), datetimes microseconds since the Unix epoch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final, cast

# What a telegram gives to keep; defined with the meter, kept here.
from ..meter.records import (
    CAPTURE_PLACES as CAPTURE_PLACES,
    Capture as Capture,
    CaptureKind as CaptureKind,
    Reading as Reading,
    StatisticsValue as StatisticsValue,
)

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredReading(Reading):
    """A reading as read back from the database, with its row id."""

    id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MeterStatistics:
    """One meter's DSMR-reader MeterStatistics."""

    timestamp: datetime | None = None
    dsmr_version: str | None = None
    electricity_tariff: int | None = None
    power_failure_count: int | None = None
    long_power_failure_count: int | None = None
    voltage_sag_count_l1: int | None = None
    voltage_sag_count_l2: int | None = None
    voltage_sag_count_l3: int | None = None
    voltage_swell_count_l1: int | None = None
    voltage_swell_count_l2: int | None = None
    voltage_swell_count_l3: int | None = None
    rejected_telegrams: int = 0
    latest_telegram: str | None = None


_READING_FIELDS: Final = tuple(field.name for field in fields(Reading))
_STATISTICS_FIELDS: Final = frozenset(field.name for field in fields(MeterStatistics))
_TIMESTAMPS: Final = frozenset({"timestamp", "extra_device_timestamp"})
# Decimal places of each Decimal field: the database holds value * 10**places.
_PLACES: Final[Mapping[str, int]] = {
    "electricity_delivered_1": 3,
    "electricity_returned_1": 3,
    "electricity_delivered_2": 3,
    "electricity_returned_2": 3,
    "electricity_currently_delivered": 3,
    "electricity_currently_returned": 3,
    "phase_currently_delivered_l1": 3,
    "phase_currently_delivered_l2": 3,
    "phase_currently_delivered_l3": 3,
    "extra_device_delivered": 3,
    "phase_currently_returned_l1": 3,
    "phase_currently_returned_l2": 3,
    "phase_currently_returned_l3": 3,
    "phase_voltage_l1": 1,
    "phase_voltage_l2": 1,
    "phase_voltage_l3": 1,
}


def datetime_to_us(value: datetime) -> int:
    """Return microseconds since the Unix epoch of an aware datetime."""
    if value.utcoffset() is None:
        raise ValueError(f"{value} has no time zone")
    return (value - _EPOCH) // _MICROSECOND


def us_to_datetime(value: int) -> datetime:
    """Return the UTC datetime of microseconds since the Unix epoch."""
    return _EPOCH + timedelta(microseconds=value)


def _to_scaled(value: Decimal, places: int) -> int:
    scaled = value.scaleb(places)
    if not scaled.is_finite() or scaled != scaled.to_integral_value():
        raise ValueError(f"{value} does not fit in {places} decimal places")
    return int(scaled)


def reading_to_row(meter: str, reading: Reading) -> dict[str, object]:
    """Return the dsmr_reading row of a reading (without id).

    Raises ValueError for a naive datetime or a value with more decimals than its column keeps.
    """
    row: dict[str, object] = {"meter": meter}
    for name in _READING_FIELDS:
        value = getattr(reading, name)
        if value is not None and name in _TIMESTAMPS:
            value = datetime_to_us(value)
        elif value is not None and name in _PLACES:
            value = _to_scaled(value, _PLACES[name])
        row[name] = value
    return row


def capture_to_row(meter: str, capture: Capture) -> dict[str, object]:
    """Return the mbus_capture row of a capture.

    Raises ValueError for a naive datetime or a value with more than CAPTURE_PLACES decimals.
    """
    return {
        "meter": meter,
        "kind": capture.kind,
        "captured": datetime_to_us(capture.captured),
        "channel": capture.channel,
        "value": _to_scaled(capture.value, CAPTURE_PLACES),
    }


def row_to_reading(row: Mapping[Any, Any]) -> StoredReading:
    """Return the reading of a dsmr_reading row."""
    values: dict[str, Any] = {}
    for name in _READING_FIELDS:
        value = row[name]
        if value is not None and name in _TIMESTAMPS:
            value = us_to_datetime(value)
        elif value is not None and name in _PLACES:
            value = Decimal(value).scaleb(-_PLACES[name])
        values[name] = value
    return StoredReading(id=row["id"], **values)


def statistics_to_row(values: Mapping[str, StatisticsValue]) -> dict[str, StatisticsValue]:
    """Return the meter_statistics columns of some MeterStatistics fields.

    Raises ValueError for a name that is not a field, TypeError for a timestamp that is not a
    datetime.
    """
    if unknown := values.keys() - _STATISTICS_FIELDS:
        raise ValueError(f"not meter statistics fields: {', '.join(sorted(unknown))}")
    row = dict(values)
    timestamp = row.get("timestamp")
    if timestamp is not None:
        if not isinstance(timestamp, datetime):
            raise TypeError(f"timestamp {timestamp!r} is not a datetime")
        row["timestamp"] = datetime_to_us(timestamp)
    return row


def row_to_statistics(row: Mapping[Any, Any]) -> MeterStatistics:
    """Return the MeterStatistics of a meter_statistics row."""
    values = {name: row[name] for name in _STATISTICS_FIELDS}
    if values["timestamp"] is not None:
        values["timestamp"] = us_to_datetime(values["timestamp"])
    return MeterStatistics(**values)


# Record fields (records.py) kept as microseconds since the epoch; dates, text and whole amperes
# are stored as they are, and every other number scaled by _record_places.
_RECORD_TIMES: Final = frozenset(
    {
        "read_at",
        "read_at_start",
        "read_at_end",
        "hour_start",
        "electricity_reading_timestamp",
        "gas_reading_timestamp",
    }
)
_RECORD_UNSCALED: Final = frozenset(
    {
        "id",
        "day",
        "start",
        "end",
        "description",
        "phase_power_current_l1",
        "phase_power_current_l2",
        "phase_power_current_l3",
    }
)


def record_places(name: str) -> int | None:
    """Return the decimal places a record field's column keeps, None if it is not a Decimal.

    Prices and the fixed daily cost have 6 (millionths), costs 2 (cents), voltages and
    temperatures 1 (tenths), energy, power and gas 3 (Wh, W, dm³).
    """
    if name in _RECORD_UNSCALED or name in _RECORD_TIMES:
        return None
    if name.endswith("_price") or name == "fixed_daily_cost":
        return 6
    if name.endswith("_cost"):
        return 2
    if "voltage" in name or name.endswith("_temperature"):
        return 1
    return 3


def record_to_row(record: object) -> dict[str, object]:
    """Return the columns of a record dataclass's fields (without meter).

    Raises ValueError for a naive datetime or a value with more decimals than its column keeps.
    """
    row: dict[str, object] = {}
    for field in fields(cast(Any, record)):
        value = getattr(record, field.name)
        places = record_places(field.name)
        if value is not None and field.name in _RECORD_TIMES:
            value = datetime_to_us(value)
        elif value is not None and places is not None:
            value = _to_scaled(value, places)
        row[field.name] = value
    return row


def row_to_record[RecordT](record_type: type[RecordT], row: Mapping[Any, Any]) -> RecordT:
    """Return the record of a row holding the columns of its fields."""
    values: dict[str, Any] = {}
    for field in fields(cast(Any, record_type)):
        value = row[field.name]
        places = record_places(field.name)
        if value is not None and field.name in _RECORD_TIMES:
            value = us_to_datetime(value)
        elif value is not None and places is not None:
            value = Decimal(value).scaleb(-places)
        values[field.name] = value
    return record_type(**values)
