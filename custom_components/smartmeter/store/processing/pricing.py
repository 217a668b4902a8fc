"""Energy contracts and costs: DSMR-reader's day prices and its rounding of costs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from ..model import record_to_row, row_to_record
from ..records import EnergySupplierPrice
from ..schema import day_statistics, energy_supplier_price

_CENT: Final = Decimal("0.01")
ZERO_PRICES_DESCRIPTION: Final = "Zero priced contract"
# The energy fields of hour and day statistics, which the costs price.
ELECTRICITY: Final = (
    "electricity1",
    "electricity2",
    "electricity1_returned",
    "electricity2_returned",
)
_PRICE_FIELDS: Final = (
    "electricity_delivered_1_price",
    "electricity_delivered_2_price",
    "gas_price",
    "electricity_returned_1_price",
    "electricity_returned_2_price",
    "fixed_daily_cost",
)


def round_cents(value: Decimal) -> Decimal:
    """Round half up to 2 decimals, as DSMR-reader's round_decimal."""
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def merge_prices(day: date, contracts: Sequence[EnergySupplierPrice]) -> EnergySupplierPrice | None:
    """Return the prices of a day as DSMR-reader's get_day_prices, None without a contract.

    One contract covering the day is used as it is; of several, each price is the one non-zero
    value among them, or 0 when none or more than one is non-zero.
    """
    covering = [contract for contract in contracts if contract.start <= day <= contract.end]
    if not covering:
        return None
    if len(covering) == 1:
        return covering[0]
    merged: dict[str, Decimal] = {}
    for name in _PRICE_FIELDS:
        values = [getattr(contract, name) for contract in covering if getattr(contract, name)]
        merged[name] = values[0] if len(values) == 1 else Decimal("0.000000")
    return EnergySupplierPrice(start=day, end=day, description=ZERO_PRICES_DESCRIPTION, **merged)


@dataclass(frozen=True, slots=True)
class Costs:
    """A day's costs, in euros with 2 decimals."""

    electricity1_cost: Decimal
    electricity2_cost: Decimal
    gas_cost: Decimal | None
    fixed_cost: Decimal
    total_cost: Decimal


def day_costs(
    electricity: Mapping[str, Decimal], gas: Decimal | None, prices: EnergySupplierPrice | None
) -> Costs:
    """Return a day's costs from its energy (kWh by statistics field) and gas, as §4.5."""
    if prices is None:
        prices = EnergySupplierPrice(start=date.min, end=date.max)
    cost1 = round_cents(
        electricity["electricity1"] * prices.electricity_delivered_1_price
        - electricity["electricity1_returned"] * prices.electricity_returned_1_price
    )
    cost2 = round_cents(
        electricity["electricity2"] * prices.electricity_delivered_2_price
        - electricity["electricity2_returned"] * prices.electricity_returned_2_price
    )
    gas_cost = None if gas is None else round_cents(gas * prices.gas_price)
    total = round_cents(cost1 + cost2 + (gas_cost or 0) + prices.fixed_daily_cost)
    return Costs(cost1, cost2, gas_cost, round_cents(prices.fixed_daily_cost), total)


def wh(value: int) -> Decimal:
    """Return Wh (or dm³) as kWh (m³)."""
    return Decimal(value).scaleb(-3)


_COST_COLUMNS: Final = (
    "electricity1_cost",
    "electricity2_cost",
    "gas_cost",
    "fixed_cost",
    "total_cost",
)


def cost_columns(costs: Costs) -> dict[str, int | None]:
    """Return the costs as day_statistics keeps them: in cents."""
    return {
        "electricity1_cost": int(costs.electricity1_cost.scaleb(2)),
        "electricity2_cost": int(costs.electricity2_cost.scaleb(2)),
        "gas_cost": None if costs.gas_cost is None else int(costs.gas_cost.scaleb(2)),
        "fixed_cost": int(costs.fixed_cost.scaleb(2)),
        "total_cost": int(costs.total_cost.scaleb(2)),
    }


def load_contracts(connection: Connection, meter: str) -> tuple[EnergySupplierPrice, ...]:
    """Return a meter's contracts, by start."""
    rows = connection.execute(
        select(energy_supplier_price)
        .where(energy_supplier_price.c.meter == meter)
        .order_by(energy_supplier_price.c.start, energy_supplier_price.c.id)
    ).mappings()
    return tuple(row_to_record(EnergySupplierPrice, row) for row in rows)


def replace_contracts(
    connection: Connection,
    meter: str,
    old: Sequence[EnergySupplierPrice],
    contracts: Sequence[EnergySupplierPrice],
) -> None:
    """Replace a meter's old contracts and recompute the costs of the days either covers."""
    connection.execute(delete(energy_supplier_price).where(energy_supplier_price.c.meter == meter))
    if contracts:
        connection.execute(
            insert(energy_supplier_price),
            [{"meter": meter, **record_to_row(contract)} for contract in contracts],
        )
    covered = [*old, *contracts]
    if covered:
        _recompute_costs(
            connection,
            meter,
            tuple(contracts),
            min(contract.start for contract in covered),
            max(contract.end for contract in covered),
        )


def _recompute_costs(
    connection: Connection,
    meter: str,
    contracts: Sequence[EnergySupplierPrice],
    first: date,
    last: date,
) -> None:
    """Recompute the costs of a meter's generated day statistics from first to last day."""
    table = day_statistics
    rows = connection.execute(
        select(
            table.c.id, table.c.day, table.c.gas, *(table.c[name] for name in ELECTRICITY)
        ).where(
            table.c.meter == meter,
            table.c.imported.is_(False),
            table.c.day >= first,
            table.c.day <= last,
        )
    ).mappings()
    updates = []
    for row in rows:
        energy = {name: wh(row[name]) for name in ELECTRICITY}
        gas = None if row["gas"] is None else wh(row["gas"])
        costs = day_costs(energy, gas, merge_prices(row["day"], contracts))
        updates.append(
            {"row_id": row["id"], **{f"new_{k}": v for k, v in cost_columns(costs).items()}}
        )
    if updates:
        connection.execute(
            update(table)
            .where(table.c.id == bindparam("row_id"))
            # Parameters named apart from the columns, which SQLAlchemy reserves.
            .values({name: bindparam(f"new_{name}") for name in _COST_COLUMNS}),
            updates,
        )
