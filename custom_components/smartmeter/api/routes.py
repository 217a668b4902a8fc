"""The one table of the API's routes: what the views serve and the OpenAPI schema describes.

Each view takes its path, methods, filters and ordering from its Route here, and the schema
(openapi.py) is built from the same table, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from ..store.listing import FilterOperator
from ..store.model import MeterStatistics, StoredReading
from ..store.records import (
    ElectricityConsumption,
    GasConsumption,
    HourStatistics,
    QuarterHourPeak,
    StoredDayStatistics,
    StoredEnergySupplierPrice,
)
from .params import FilterKind
from .validation import DAY_STATISTICS_BODY, READING_BODY, STATISTICS_PATCH_BODY, BodyField


@dataclass(frozen=True, slots=True)
class Filter:
    """A filter parameter and what it compares: a record field with an operator."""

    param: str
    kind: FilterKind
    field: str
    operator: FilterOperator


def _time_filters(name: str, kind: FilterKind = FilterKind.DATETIME) -> tuple[Filter, ...]:
    """Return the ``name``, ``name__gte`` and ``name__lte`` filters of a DSMR-reader filter set.

    The exact one (a deprecated ``Meta.fields`` filter) comes first, as django-filter puts it;
    for a datetime it is an ``IsoDateTimeFilter``.
    """
    exact = FilterKind.ISO_DATETIME if kind is FilterKind.DATETIME else kind
    return (
        Filter(name, exact, name, "exact"),
        Filter(f"{name}__gte", kind, name, "gte"),
        Filter(f"{name}__lte", kind, name, "lte"),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    """One path: its operations (method to DSMR-reader's operation id) and parameters.

    A route with ``ordering`` is a paginated list (``limit``/``offset``) of ``record`` rows,
    ordered by default by the first ordering field. ``record`` is also the object a GET
    without a list, a PATCH or a POST answers; ``body`` the fields a POST or PATCH takes.
    """

    path: str
    operations: Mapping[str, str]
    description: str
    filters: tuple[Filter, ...] = ()
    ordering: tuple[str, ...] = ()
    record: type | None = None
    body: tuple[BodyField, ...] = ()
    form_body: tuple[str, ...] = ()
    public: bool = False
    text_response: bool = False
    filter_kinds: Mapping[str, FilterKind] = field(init=False)

    def __post_init__(self) -> None:
        """Index the filters by parameter, in their order, for the parser."""
        kinds = {item.param: item.kind for item in self.filters}
        object.__setattr__(self, "filter_kinds", kinds)

    @property
    def paginated(self) -> bool:
        """Return whether the route lists records a page at a time."""
        return bool(self.ordering)


V1_DSMRREADING: Final = Route(
    path="/api/v1/datalogger/dsmrreading",
    operations={"post": "Telegram: Create"},
    description="Stores a raw telegram, as a remote datalogger sends it (form field telegram).",
    form_body=("telegram",),
    text_response=True,
)
DSMRREADING: Final = Route(
    path="/api/v2/datalogger/dsmrreading",
    operations={"get": "DSMR readings: List", "post": "DSMR readings: Create"},
    description="Lists the readings stored, or creates one from separate values.",
    filters=_time_filters("timestamp"),
    ordering=("timestamp",),
    record=StoredReading,
    body=READING_BODY,
)
METER_STATISTICS: Final = Route(
    path="/api/v2/datalogger/meter-statistics",
    operations={"get": "Meter statistics: Get", "patch": "Meter statistics: Partial update"},
    description="The meter statistics the datalogger extracts, and the latest telegram.",
    record=MeterStatistics,
    body=STATISTICS_PATCH_BODY,
)
ENERGY_SUPPLIER_PRICES: Final = Route(
    path="/api/v2/consumption/energy-supplier-prices",
    operations={"get": "Energy supplier prices: List"},
    description="Lists the energy supplier prices (contracts).",
    filters=(
        Filter("start__gte", FilterKind.DATE, "start", "gte"),
        Filter("start__lte", FilterKind.DATE, "start", "lte"),
        Filter("end__gte", FilterKind.DATE, "end", "gte"),
        Filter("end__lte", FilterKind.DATE, "end", "lte"),
    ),
    ordering=("start", "end"),
    record=StoredEnergySupplierPrice,
)
ELECTRICITY: Final = Route(
    path="/api/v2/consumption/electricity",
    operations={"get": "Electricity consumption: List"},
    description="Lists the electricity consumption per minute, made from the readings.",
    filters=_time_filters("read_at"),
    ordering=("read_at",),
    record=ElectricityConsumption,
)
QUARTER_HOUR_PEAKS: Final = Route(
    path="/api/v2/consumption/quarter-hour-peak-electricity",
    operations={"get": "Quarter-hour peak electricity consumption: List"},
    description=(
        "Lists the quarter-hour peaks. As in DSMR-reader, average_delivered__gte and "
        "average_delivered__lte take a date/time and compare read_at_start."
    ),
    filters=(
        Filter("read_at_start__gte", FilterKind.DATETIME, "read_at_start", "gte"),
        Filter("read_at_start__lte", FilterKind.DATETIME, "read_at_start", "lte"),
        Filter("average_delivered__gte", FilterKind.DATETIME, "read_at_start", "gte"),
        Filter("average_delivered__lte", FilterKind.DATETIME, "read_at_start", "lte"),
    ),
    ordering=("read_at_start", "average_delivered"),
    record=QuarterHourPeak,
)
ELECTRICITY_LIVE: Final = Route(
    path="/api/v2/consumption/electricity-live",
    operations={"get": "Electricity consumption: Live"},
    description="The live electricity consumption (W) of the newest reading, and its cost.",
)
GAS: Final = Route(
    path="/api/v2/consumption/gas",
    operations={"get": "Gas consumption: List"},
    description="Lists the gas consumption, made from the readings.",
    filters=_time_filters("read_at"),
    ordering=("read_at",),
    record=GasConsumption,
)
GAS_LIVE: Final = Route(
    path="/api/v2/consumption/gas-live",
    operations={"get": "Gas consumption: Live"},
    description="The latest gas consumption, and its cost.",
)
TODAY: Final = Route(
    path="/api/v2/consumption/today",
    operations={"get": "Today's consumption: Get"},
    description="The consumption of the current day so far.",
)
DAY_STATISTICS: Final = Route(
    path="/api/v2/statistics/day",
    operations={"get": "Day statistics: List", "post": "Day statistics: Create"},
    description="Lists the day statistics, or imports those of a day.",
    filters=_time_filters("day", FilterKind.DATE),
    ordering=("day",),
    record=StoredDayStatistics,
    body=DAY_STATISTICS_BODY,
)
HOUR_STATISTICS: Final = Route(
    path="/api/v2/statistics/hour",
    operations={"get": "Hour statistics: List"},
    description="Lists the hour statistics.",
    filters=_time_filters("hour_start"),
    ordering=("hour_start",),
    record=HourStatistics,
)
VERSION: Final = Route(
    path="/api/v2/application/version",
    operations={"get": "Application: Version"},
    description="The DSMR-reader version this API follows.",
)
MONITORING: Final = Route(
    path="/api/v2/application/monitoring",
    operations={"get": "Application: Monitoring"},
    description="The monitoring issues found.",
)
STATUS: Final = Route(
    path="/api/v2/application/status",
    operations={"get": "Application: Status"},
    description="The status overview, in the shape of DSMR-reader 3.12 (removed in 4.0).",
)
SCHEMA: Final = Route(
    path="/api/v2/schema",
    operations={"get": "Schema"},
    description="This OpenAPI schema (no key needed).",
    public=True,
)

ROUTES: Final = (
    V1_DSMRREADING,
    DSMRREADING,
    METER_STATISTICS,
    ENERGY_SUPPLIER_PRICES,
    ELECTRICITY,
    QUARTER_HOUR_PEAKS,
    ELECTRICITY_LIVE,
    GAS,
    GAS_LIVE,
    TODAY,
    DAY_STATISTICS,
    HOUR_STATISTICS,
    VERSION,
    MONITORING,
    STATUS,
    SCHEMA,
)
