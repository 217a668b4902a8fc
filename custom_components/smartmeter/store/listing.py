"""Listing a meter's readings and records a page at a time, with DSMR-reader's filters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, Final, Literal

from sqlalchemy import Column, ColumnElement, Connection, Select, Table, func, select

from .hour_counts import (
    COUNTED_GAS,
    COUNTED_MINUTES,
    READINGS,
    SEEK_FROM,
    Counted,
    count_in_range,
    in_range,
    seek,
)
from .model import StoredReading, datetime_to_us, row_to_reading
from .records import (
    ElectricityConsumption,
    GasConsumption,
    HourStatistics,
    QuarterHourPeak,
    StoredDayStatistics,
    StoredEnergySupplierPrice,
)
from .schema import (
    day_statistics,
    dsmr_reading,
    electricity_consumption,
    energy_supplier_price,
    gas_consumption,
    hour_statistics,
    quarter_hour_peak,
)

# What RecordType may be: the records list_records lists.
type Record = (
    ElectricityConsumption
    | GasConsumption
    | QuarterHourPeak
    | HourStatistics
    | StoredDayStatistics
    | StoredEnergySupplierPrice
)
type FilterOperator = Literal["gte", "lte", "exact"]


@dataclass(frozen=True, slots=True)
class _Listed:
    """How list_records finds one kind of record."""

    table: Table
    default_order: str
    # Datetime fields, kept as µs, and date fields.
    times: frozenset[str]
    dates: frozenset[str]
    fields: frozenset[str]
    counted: Counted | None = None


def _listed(
    record_type: type[Any],
    table: Table,
    default_order: str,
    *,
    times: frozenset[str] = frozenset(),
    dates: frozenset[str] = frozenset(),
    counted: Counted | None = None,
) -> _Listed:
    names = frozenset(f.name for f in fields(record_type))
    return _Listed(table, default_order, times, dates, names, counted)


_LISTED: Final[Mapping[type[Any], _Listed]] = {
    ElectricityConsumption: _listed(
        ElectricityConsumption,
        electricity_consumption,
        "read_at",
        times=frozenset({"read_at"}),
        counted=COUNTED_MINUTES,
    ),
    GasConsumption: _listed(
        GasConsumption,
        gas_consumption,
        "read_at",
        times=frozenset({"read_at"}),
        counted=COUNTED_GAS,
    ),
    QuarterHourPeak: _listed(
        QuarterHourPeak,
        quarter_hour_peak,
        "read_at_start",
        times=frozenset({"read_at_start", "read_at_end"}),
    ),
    HourStatistics: _listed(
        HourStatistics, hour_statistics, "hour_start", times=frozenset({"hour_start"})
    ),
    StoredDayStatistics: _listed(
        StoredDayStatistics,
        day_statistics,
        "day",
        times=frozenset({"electricity_reading_timestamp", "gas_reading_timestamp"}),
        dates=frozenset({"day"}),
    ),
    StoredEnergySupplierPrice: _listed(
        StoredEnergySupplierPrice,
        energy_supplier_price,
        "start",
        dates=frozenset({"start", "end"}),
    ),
}


def _record_filters(
    listed: _Listed, meter: str, filters: Sequence[tuple[str, FilterOperator, datetime | date]]
) -> tuple[list[ColumnElement[bool]], ColumnElement[int]]:
    """Return the conditions of a meter's records that pass filters, and how to count them."""
    table = listed.table
    conditions: list[ColumnElement[bool]] = [table.c.meter == meter]
    # Bounds of the counted time column, for the fast count.
    low: int | None = None
    high: int | None = None
    only_counted_time = True
    for name, operator, value in filters:
        if operator not in ("gte", "lte", "exact"):
            raise ValueError(f"unknown filter operator {operator!r}")
        column, bound = _filter_value(listed, name, value)
        if operator != "lte":
            conditions.append(column >= bound)
        if operator != "gte":
            conditions.append(column <= bound)
        if listed.counted is None or name != listed.counted.time:
            only_counted_time = False
        elif isinstance(bound, int):
            if operator != "lte":
                low = bound if low is None else max(low, bound)
            if operator != "gte":
                high = bound if high is None else min(high, bound)
    if listed.counted is not None and only_counted_time:
        return conditions, count_in_range(listed.counted, meter, low, high)
    return conditions, select(func.count()).select_from(table).where(*conditions).scalar_subquery()


def _filter_value(
    listed: _Listed, name: str, value: datetime | date
) -> tuple[Column[Any], int | date]:
    """Return the column a filter compares and the value it compares it with."""
    if name in listed.times:
        if not isinstance(value, datetime):
            raise ValueError(f"{name} is compared with a datetime, not {value!r}")
        return listed.table.c[name], datetime_to_us(value)
    if name in listed.dates:
        if isinstance(value, datetime) or not isinstance(value, date):
            raise ValueError(f"{name} is compared with a date, not {value!r}")
        return listed.table.c[name], value
    raise ValueError(f"no datetime or date field {name!r} to filter on")


def list_readings(
    connection: Connection,
    meter: str,
    low: int | None,
    high: int | None,
    *,
    descending: bool,
    limit: int,
    offset: int,
) -> tuple[int, list[StoredReading]]:
    """Return how many of a meter's readings lie from low to high (µs, inclusive), and a page.

    Needs a connection whose statements all see the same rows.
    """
    timestamp = dsmr_reading.c.timestamp
    order = (
        (timestamp.desc(), dsmr_reading.c.id.desc())
        if descending
        else (timestamp, dsmr_reading.c.id)
    )
    count = connection.execute(select(count_in_range(READINGS, meter, low, high))).scalar_one()
    if offset >= SEEK_FROM:
        low, high, offset = seek(
            connection, READINGS, meter, low, high, offset=offset, descending=descending
        )
    # The order of the readings' primary key (meter_key, timestamp, id), on both databases.
    page = (
        select(dsmr_reading)
        .where(*in_range(READINGS, meter, low, high))
        .order_by(*order)
        .limit(limit)
        .offset(offset)
    )
    rows = connection.execute(page).mappings().all()
    return count, [row_to_reading(row) for row in rows]


def record_queries(
    record_type: type[Any],
    meter: str,
    filters: Sequence[tuple[str, FilterOperator, datetime | date]],
    ordering: Sequence[tuple[str, bool]],
    *,
    limit: int,
    offset: int,
) -> tuple[ColumnElement[int], Select[Any]]:
    """Return how to count a meter's records that pass filters, and the page of them.

    Raises ValueError for a record type that is not listed, an unknown field or operator.
    """
    listed = _LISTED.get(record_type)
    if listed is None:
        raise ValueError(f"{record_type.__name__} records are not listed")
    table = listed.table
    conditions, count = _record_filters(listed, meter, filters)
    for name, _ in ordering:
        if name not in listed.fields:
            raise ValueError(f"no field {name!r} to order by")
    order = [
        (table.c[name].desc() if descending else table.c[name]) for name, descending in ordering
    ] or [table.c[listed.default_order]]
    last_descending = bool(ordering) and ordering[-1][1]
    order.append(table.c.id.desc() if last_descending else table.c.id)
    return count, select(table).where(*conditions).order_by(*order).limit(limit).offset(offset)
