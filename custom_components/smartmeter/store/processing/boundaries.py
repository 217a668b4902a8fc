"""Boundary positions: B(t) and G(t), and the energy and gas between two of them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, tzinfo
from decimal import Decimal
from typing import Any, Final, cast

from sqlalchemy import Connection, func, select

from ..records import DayConsumption, EnergySupplierPrice
from ..schema import electricity_consumption, gas_consumption
from .aggregates import POSITIONS
from .pricing import ELECTRICITY, ZERO_PRICES_DESCRIPTION, day_costs, merge_prices, wh
from .times import day_bounds

# The minute record's position behind each statistics field.
_POSITION_OF: Final = {
    "electricity1": "delivered_1",
    "electricity2": "delivered_2",
    "electricity1_returned": "returned_1",
    "electricity2_returned": "returned_2",
}


@dataclass(frozen=True, slots=True)
class Boundary:
    """B(t) or G(t): the record's time (µs) and its positions (Wh or dm³ by field)."""

    time: int
    positions: Mapping[str, int]


class Boundaries:
    """B(t) and G(t) of a meter, memoised within one transaction's statistics."""

    def __init__(self, connection: Connection, meter: str) -> None:
        """Look up a meter's boundary positions on a connection."""
        self._connection = connection
        self._meter = meter
        self._electricity: dict[int, Boundary | None] = {}
        self._gas: dict[int, Boundary | None] = {}

    def electricity(self, at: int) -> Boundary | None:
        """Return B(at): the latest minute record at or before it, else the first; None if none."""
        if at not in self._electricity:
            table = electricity_consumption
            columns = [table.c.read_at, *(table.c[name] for name in POSITIONS)]
            self._electricity[at] = self._lookup(table, table.c.read_at, columns, at)
        return self._electricity[at]

    def gas(self, at: int) -> Boundary | None:
        """Return G(at): the latest gas record measured at or before it, else the first."""
        if at not in self._gas:
            table = gas_consumption
            columns = [table.c.measured_at, table.c.delivered]
            self._gas[at] = self._lookup(table, table.c.measured_at, columns, at)
        return self._gas[at]

    def _lookup(self, table: Any, time_column: Any, columns: list[Any], at: int) -> Boundary | None:
        mine = table.c.meter == self._meter
        row = self._connection.execute(
            select(*columns).where(mine, time_column <= at).order_by(time_column.desc()).limit(1)
        ).first()
        if row is None:
            row = self._connection.execute(
                select(*columns).where(mine).order_by(time_column).limit(1)
            ).first()
        if row is None:
            return None
        return Boundary(row[0], dict(row._mapping))

    def has_records(self, start: int, end: int) -> bool:
        """Return whether a minute record falls in (start, end], or gas was used in it."""
        electricity = self.electricity(end)
        if electricity is not None and start < electricity.time <= end:
            return True
        return bool(self.gas_used(start, end))

    def next_time(self, after: int) -> int | None:
        """Return the time of the first minute or gas record after a time (µs)."""
        times = [
            self._connection.scalar(
                select(func.min(time_column)).where(
                    table.c.meter == self._meter, time_column > after
                )
            )
            for table, time_column in (
                (electricity_consumption, electricity_consumption.c.read_at),
                (gas_consumption, gas_consumption.c.measured_at),
            )
        ]
        return min((value for value in times if value is not None), default=None)

    def energy(self, start: int, end: int) -> dict[str, int]:
        """Return B(end) - B(start) per statistics field, Wh."""
        low = self.electricity(start)
        high = self.electricity(end)
        if low is None or high is None:
            return dict.fromkeys(ELECTRICITY, 0)
        return {
            name: high.positions[_POSITION_OF[name]] - low.positions[_POSITION_OF[name]]
            for name in ELECTRICITY
        }

    def gas_used(self, start: int, end: int) -> int | None:
        """Return G(end) - G(start), dm³; None without gas records."""
        low = self.gas(start)
        high = self.gas(end)
        if low is None or high is None:
            return None
        return high.positions["delivered"] - low.positions["delivered"]


def day_consumption(
    connection: Connection,
    meter: str,
    day: date,
    time_zone: tzinfo,
    contracts: Sequence[EnergySupplierPrice],
) -> DayConsumption | None:
    """Return what DSMR-reader's day_consumption gives, by boundary positions.

    None when the day has no minute records.
    """
    start, end = day_bounds(day, time_zone)
    boundaries = Boundaries(connection, meter)
    electricity_end = boundaries.electricity(end)
    if electricity_end is None or electricity_end.time <= start:
        return None
    energy = {name: wh(value) for name, value in boundaries.energy(start, end).items()}
    gas_dm3 = boundaries.gas_used(start, end)
    gas = Decimal("0.000") if gas_dm3 is None else wh(gas_dm3)
    prices = merge_prices(day, contracts)
    costs = day_costs(energy, gas, prices)
    return DayConsumption(
        day=day,
        **energy,
        electricity_merged=energy["electricity1"] + energy["electricity2"],
        electricity_returned_merged=energy["electricity1_returned"]
        + energy["electricity2_returned"],
        electricity1_cost=costs.electricity1_cost,
        electricity2_cost=costs.electricity2_cost,
        total_cost=costs.total_cost,
        gas=gas,
        gas_cost=cast(Decimal, costs.gas_cost),
        fixed_cost=costs.fixed_cost,
        prices=prices
        or EnergySupplierPrice(start=day, end=day, description=ZERO_PRICES_DESCRIPTION),
    )
