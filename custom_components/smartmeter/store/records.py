"""What processing makes of the readings: DSMR-reader's consumption and statistics records.

Plain values as the API shows them (kWh, kW and m³ with 3 decimals, V with 1, money with 2,
prices with 6); the database keeps scaled integers (see model.py). Field order is the order of
DSMR-reader's serializers, so the API renders records field by field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class ElectricityConsumption:
    """One minute of readings, stamped at the minute's end: highest positions, average powers."""

    id: int
    read_at: datetime
    delivered_1: Decimal
    returned_1: Decimal
    delivered_2: Decimal
    returned_2: Decimal
    currently_delivered: Decimal
    currently_returned: Decimal
    phase_currently_delivered_l1: Decimal | None = None
    phase_currently_delivered_l2: Decimal | None = None
    phase_currently_delivered_l3: Decimal | None = None
    phase_currently_returned_l1: Decimal | None = None
    phase_currently_returned_l2: Decimal | None = None
    phase_currently_returned_l3: Decimal | None = None
    phase_voltage_l1: Decimal | None = None
    phase_voltage_l2: Decimal | None = None
    phase_voltage_l3: Decimal | None = None
    phase_power_current_l1: int | None = None
    phase_power_current_l2: int | None = None
    phase_power_current_l3: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GasConsumption:
    """One new gas position (m³) and the gas used since the previous one."""

    id: int
    read_at: datetime
    delivered: Decimal
    currently_delivered: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class QuarterHourPeak:
    """Average power delivered (kW) over one quarter of an hour, from its first to last reading."""

    id: int
    read_at_start: datetime
    read_at_end: datetime
    average_delivered: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class HourStatistics:
    """Energy (kWh) and gas (m³) of one hour."""

    id: int
    hour_start: datetime
    electricity1: Decimal
    electricity2: Decimal
    electricity1_returned: Decimal
    electricity2_returned: Decimal
    gas: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class DayStatistics:
    """Energy, gas and costs of one local day, and the meter positions at its start."""

    day: date
    electricity1: Decimal
    electricity2: Decimal
    electricity1_returned: Decimal
    electricity2_returned: Decimal
    electricity1_cost: Decimal
    electricity2_cost: Decimal
    gas: Decimal | None = None
    gas_cost: Decimal | None = None
    lowest_temperature: Decimal | None = None
    highest_temperature: Decimal | None = None
    average_temperature: Decimal | None = None
    fixed_cost: Decimal = Decimal("0.00")
    total_cost: Decimal
    electricity_reading_timestamp: datetime | None = None
    electricity1_reading: Decimal | None = None
    electricity2_reading: Decimal | None = None
    electricity1_returned_reading: Decimal | None = None
    electricity2_returned_reading: Decimal | None = None
    gas_reading_timestamp: datetime | None = None
    gas_reading: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredDayStatistics(DayStatistics):
    """Day statistics as read back from the database, with their row id."""

    id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class EnergySupplierPrice:
    """One energy contract: prices per kWh and m³ from start to end (both inclusive)."""

    start: date
    end: date
    description: str = ""
    electricity_delivered_1_price: Decimal = Decimal("0.000000")
    electricity_delivered_2_price: Decimal = Decimal("0.000000")
    gas_price: Decimal = Decimal("0.000000")
    electricity_returned_1_price: Decimal = Decimal("0.000000")
    electricity_returned_2_price: Decimal = Decimal("0.000000")
    # May be negative, unlike the prices.
    fixed_daily_cost: Decimal = Decimal("0.000000")


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredEnergySupplierPrice(EnergySupplierPrice):
    """An energy contract as read back from the database, with its row id."""

    id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DayConsumption:
    """DSMR-reader's day_consumption(day): what /consumption/today shows, in its key order.

    Costs are rounded half up to 2 decimals; ``prices`` is the contract of the day, merged as
    DSMR-reader merges overlapping ones, or all zero without one.
    """

    day: date
    electricity1: Decimal
    electricity2: Decimal
    electricity1_returned: Decimal
    electricity2_returned: Decimal
    electricity_merged: Decimal
    electricity_returned_merged: Decimal
    electricity1_cost: Decimal
    electricity2_cost: Decimal
    total_cost: Decimal
    gas: Decimal
    gas_cost: Decimal
    fixed_cost: Decimal
    prices: EnergySupplierPrice


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcessingStatus:
    """How far processing got for a meter: what DSMR-reader's monitoring checks.

    ``unprocessed_readings`` counts the readings not yet made into minute records (the newest
    minute's always wait for a later reading), ``oldest_unprocessed`` is the first one's time,
    ``latest_day`` the newest day statistics' day (None without any).
    """

    unprocessed_readings: int
    oldest_unprocessed: datetime | None
    latest_day: date | None
