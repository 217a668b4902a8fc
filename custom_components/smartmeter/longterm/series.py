"""The long-term statistics of a meter: hourly series of energy, gas, water, heat and costs.

Every value is kept as an exact integer of its smallest unit (Wh, dm³, billionths of m³ or GJ,
and billionths of the currency for money: Wh x millionths per kWh), so that sums never drift;
floats are made only for the rows Home Assistant stores, each the nearest float to its exact
value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, tzinfo
from decimal import Decimal
from typing import Final, Literal

from sqlalchemy import Connection

from ..store.model import CAPTURE_PLACES, CaptureKind, us_to_datetime
from ..store.processing.pricing import merge_prices
from ..store.records import EnergySupplierPrice
from .captures import CaptureHour, capture_hours
from .hours import HourEnergy, Replacement, hourly_energy

type Kind = Literal["energy", "gas", "water", "heat", "money"]

# Smallest units per unit of each kind: Wh per kWh, dm³ per m³, billionths of m³ (water), GJ
# (heat) and the currency.
SCALE: Final[Mapping[Kind, int]] = {
    "energy": 1000,
    "gas": 1000,
    "water": 10**CAPTURE_PLACES,
    "heat": 10**CAPTURE_PLACES,
    "money": 1_000_000_000,
}
_PRICE_PLACES: Final = 6


@dataclass(frozen=True, slots=True)
class Series:
    """One statistic of a meter: its key (the end of its id), kind and name."""

    key: str
    kind: Kind
    name: str


# Positions of hours.ELECTRICITY that make up each energy series.
_DELIVERED: Final = (0, 1)
_RETURNED: Final = (2, 3)
ENERGY_SERIES: Final[Mapping[Series, tuple[int, ...]]] = {
    Series("energy_delivered_1", "energy", "energy delivered tariff 1"): (0,),
    Series("energy_delivered_2", "energy", "energy delivered tariff 2"): (1,),
    Series("energy_delivered", "energy", "energy delivered"): _DELIVERED,
    Series("energy_returned_1", "energy", "energy returned tariff 1"): (2,),
    Series("energy_returned_2", "energy", "energy returned tariff 2"): (3,),
    Series("energy_returned", "energy", "energy returned"): _RETURNED,
}
GAS: Final = Series("gas", "gas", "gas delivered")
ENERGY_COST_SERIES: Final[Mapping[Series, tuple[int, ...]]] = {
    Series("energy_delivered_1_cost", "money", "energy delivered tariff 1 cost"): (0,),
    Series("energy_delivered_2_cost", "money", "energy delivered tariff 2 cost"): (1,),
    Series("energy_delivered_cost", "money", "energy delivered cost"): _DELIVERED,
    Series("energy_returned_1_compensation", "money", "energy returned tariff 1 compensation"): (
        2,
    ),
    Series("energy_returned_2_compensation", "money", "energy returned tariff 2 compensation"): (
        3,
    ),
    Series("energy_returned_compensation", "money", "energy returned compensation"): _RETURNED,
}
GAS_COST: Final = Series("gas_cost", "money", "gas cost")
# The series made from the readings, and those made from the water and heat captures.
ALL_SERIES: Final = (*ENERGY_SERIES, GAS, *ENERGY_COST_SERIES, GAS_COST)
CAPTURE_SERIES: Final[Mapping[CaptureKind, Series]] = {
    "water": Series("water", "water", "water delivered"),
    "heat": Series("heat", "heat", "heat delivered"),
}


def series_for(*, gas: bool, costs: bool) -> tuple[Series, ...]:
    """Return the series of a meter with or without gas and costs (energy contracts)."""
    chosen = [*ENERGY_SERIES]
    if gas:
        chosen.append(GAS)
    if costs:
        chosen += ENERGY_COST_SERIES
        if gas:
            chosen.append(GAS_COST)
    return tuple(chosen)


@dataclass(frozen=True, slots=True)
class Row:
    """One hour of one series, as Home Assistant stores it.

    ``state`` is the meter's position at the hour's end for energy and gas (as a sensor's
    statistics have it), the running total for money; ``sum`` the running total.
    """

    start: int
    state: float
    sum: float


@dataclass(frozen=True, slots=True)
class Increment:
    """What a source measured in one hour (or a day filed at its first hour): by series key.

    Amounts in the smallest unit of each series' kind (Wh for energy); ``states`` the positions
    at the hour's end where the source has a meter's (else a row's state is its running total).
    """

    start: int
    used: Mapping[str, int]
    states: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Priced:
    """A cost series of an energy series: its energy at the price of a position of ELECTRICITY.

    The positions are those of the energy contracts' prices: 0 and 1 delivered (tariff 1, 2), 2
    and 3 returned.
    """

    series: Series
    energy: Series
    position: int


@dataclass(frozen=True, slots=True)
class _Prices:
    """A day's prices in millionths per kWh (by position of hours.ELECTRICITY) and per m³."""

    electricity: tuple[int, int, int, int]
    gas: int


_NO_PRICES: Final = _Prices((0, 0, 0, 0), 0)


def _millionths(price: Decimal) -> int:
    return int(price.scaleb(_PRICE_PLACES))


class Accumulator:
    """Running sums of a meter's series, fed with its hours in order.

    Costs are each hour's energy (and gas) times the price of the local day the hour starts
    in, from the energy contracts merged as DSMR-reader merges overlapping ones.
    """

    def __init__(
        self,
        contracts: Sequence[EnergySupplierPrice],
        time_zone: tzinfo,
        sums: Mapping[str, int] | None = None,
    ) -> None:
        """Start from the sums (exact, by series key) before the first hour; 0 for the rest."""
        self._contracts = tuple(contracts)
        self._time_zone = time_zone
        self._sums: dict[str, int] = dict(sums or {})
        self._prices: dict[date, _Prices] = {}

    @property
    def costs(self) -> bool:
        """Return whether the meter has energy contracts, so cost series."""
        return bool(self._contracts)

    def sums(self) -> dict[str, int]:
        """Return the exact running sums by series key."""
        return dict(self._sums)

    def add(self, hour: HourEnergy) -> list[tuple[Series, Row]]:
        """Add an hour; return its row of each series it has."""
        rows = []
        for series, positions in ENERGY_SERIES.items():
            used = sum(hour.electricity[index] for index in positions)
            state = sum(hour.end_electricity[index] for index in positions)
            rows.append((series, self._row(series, hour.start, used, state)))
        prices = self._day_prices(hour.start) if self._contracts else None
        if hour.gas is not None and hour.end_gas is not None:
            rows.append((GAS, self._row(GAS, hour.start, hour.gas, hour.end_gas.position)))
        if prices is None:
            return rows
        for series, positions in ENERGY_COST_SERIES.items():
            cost = sum(hour.electricity[i] * prices.electricity[i] for i in positions)
            rows.append((series, self._row(series, hour.start, cost, None)))
        if hour.gas is not None:
            rows.append((GAS_COST, self._row(GAS_COST, hour.start, hour.gas * prices.gas, None)))
        return rows

    def add_increment(
        self, increment: Increment, series: Sequence[Series], priced: Sequence[Priced]
    ) -> list[tuple[Series, Row]]:
        """Add an hour of a source's increments; return its row of each series it has."""
        rows = []
        for one in series:
            used = increment.used.get(one.key)
            if used is not None:
                state = increment.states.get(one.key)
                rows.append((one, self._row(one, increment.start, used, state)))
        prices = self._day_prices(increment.start) if self._contracts else None
        if prices is None:
            return rows
        for cost in priced:
            used = increment.used.get(cost.energy.key)
            if used is not None:
                amount = used * prices.electricity[cost.position]
                rows.append((cost.series, self._row(cost.series, increment.start, amount, None)))
        return rows

    def add_captures(self, series: Series, hour: CaptureHour) -> Row:
        """Add an hour of water or heat; return its row."""
        return self._row(series, hour.start, hour.used, hour.position)

    def _row(self, series: Series, start: int, used: int, state: int | None) -> Row:
        total = self._sums.get(series.key, 0) + used
        self._sums[series.key] = total
        scale = SCALE[series.kind]
        return Row(start, (total if state is None else state) / scale, total / scale)

    def _day_prices(self, start: int) -> _Prices:
        day = us_to_datetime(start).astimezone(self._time_zone).date()
        prices = self._prices.get(day)
        if prices is None:
            merged = merge_prices(day, self._contracts)
            prices = (
                _NO_PRICES
                if merged is None
                else _Prices(
                    (
                        _millionths(merged.electricity_delivered_1_price),
                        _millionths(merged.electricity_delivered_2_price),
                        _millionths(merged.electricity_returned_1_price),
                        _millionths(merged.electricity_returned_2_price),
                    ),
                    _millionths(merged.gas_price),
                )
            )
            self._prices[day] = prices
        return prices


def exact_sum(series: Series, value: float) -> int:
    """Return a stored (float) sum as the exact integer it was made from."""
    return round(value * SCALE[series.kind])


@dataclass(slots=True)
class Computed:
    """The rows of a range of hours by series, and the meter replacements found in it."""

    rows: dict[Series, list[Row]] = field(default_factory=dict)
    replacements: list[Replacement] = field(default_factory=list)


def compute(
    connection: Connection,
    meter: str,
    accumulator: Accumulator,
    start: int,
    stop: int | None = None,
) -> Computed:
    """Add the hours ending after start and at or before stop (µs) to the accumulator."""
    computed = Computed()
    for hour in hourly_energy(connection, meter, start, stop):
        for series, row in accumulator.add(hour):
            computed.rows.setdefault(series, []).append(row)
        computed.replacements.extend(hour.replacements)
    return computed


def compute_increments(
    accumulator: Accumulator,
    increments: Iterable[Increment],
    series: Sequence[Series],
    priced: Sequence[Priced],
) -> Computed:
    """Add a source's hours to the accumulator, in order; return their rows."""
    computed = Computed()
    for increment in increments:
        for one, row in accumulator.add_increment(increment, series, priced):
            computed.rows.setdefault(one, []).append(row)
    return computed


def compute_captures(
    connection: Connection,
    meter: str,
    accumulator: Accumulator,
    start: int,
    stop: int | None = None,
    *,
    kind: CaptureKind,
) -> Computed:
    """Add the water or heat hours ending after start and at or before stop (µs)."""
    series = CAPTURE_SERIES[kind]
    computed = Computed()
    for hour in capture_hours(connection, meter, kind, start, stop):
        computed.rows.setdefault(series, []).append(accumulator.add_captures(series, hour))
        computed.replacements.extend(hour.replacements)
    return computed
