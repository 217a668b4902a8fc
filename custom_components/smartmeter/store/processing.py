"""DSMR-reader's processing of readings into consumption records and statistics, per meter.

The writer thread runs it after each committed batch of readings, in transactions of its own,
so a reading is stored (and its request answered) before it is processed. Each run does a few
indexed queries per meter and persists how far it got (processing_state), with what it made.

Work follows the readings, never the time between them: a run takes the late readings noted
since the last one and at most CATCH_UP_READINGS readings past its frontier (counted by an index
seek), the writer commits what was submitted in between, hours and days without records are
skipped by index seeks, and a late reading recomputes the hours and days holding the records it
changes and the record after them, not those in between (where nothing changed). Two readings
years apart, or a gas capture years from its reading, cost what two readings cost.

What a run makes, as DSMR-reader does:

- ElectricityConsumption per minute with readings, stamped at the minute's end (``read_at``),
  once a reading at or after that end exists: the highest meter positions and the average of
  the powers, voltages and currents of the minute's readings.
- GasConsumption per new gas timestamp (skipping a gas value of 0 or none), stamped at the
  gas timestamp, one hour earlier for a DSMR 4 meter (MeterStatistics.dsmr_version "4x"), with
  the gas used since the previous record (0 for the first).
- QuarterHourPeak per quarter of an hour with at least two readings from its start to its end
  (both inclusive), once a reading at or after its end exists.
- HourStatistics and DayStatistics (local days of the store's time zone: 23, 24 or 25 hours).
  A day keeps the positions of its first reading, and the gas of the first reading (up to two
  hours past the day) whose gas timestamp falls in it.

Deliberate differences from DSMR-reader 5.11:

- Hour and day statistics are the difference of boundary positions, not of the first and last
  record inside the window: B(t), the positions of the latest minute record stamped at or before
  t (the very first record for a t before all of them), and likewise G(t) for gas over the gas
  records' measurement times (a DSMR 4 record's position is the meter's at its read_at + 1 h).
  An hour is B(end) - B(start), a day too, so no consumption between the last record of one
  window and the first of the next is lost, and the hours of a day add up to the day exactly.
  DSMR-reader loses that consumption (0.383 kWh an hour at a constant 0.4 kW).
- A day's gas is G(end) - G(start), and its gas cost is computed from that gas. DSMR-reader
  stores the sum of the day's hours as gas but prices the first-to-last difference of the day's
  gas records, so the two disagree.
- A minute record at exactly an hour's (or day's) end belongs to that hour (day): it holds the
  minute before. An hour (day) gets statistics when a minute record falls in it by that rule, or
  gas was used in it (so hours without electricity records lose no gas either); DSMR-reader
  needs minute records stamped in [start, end).
- Temperatures of generated day statistics are null (there is no weather source); DSMR-reader
  writes 0.0 when it has no weather data.
- A day without gas records (the meter has none at all) has null gas and gas cost; once the
  meter has gas records, gas is G(end) - G(start), 0 when unchanged (days made before its first
  gas record included).
- A gas timestamp far from its reading's (a gas meter whose clock is years off, as DSMR 2.2
  meters may have, or one that stopped reporting and repeats its last capture) is data like any
  other: its gas record is stamped at it, and the gas it shows is used in the hours and days
  of its gas timestamps.
- Late readings (stamped before what has been processed, e.g. posted through API v2 or sent by a
  datalogger catching up) are processed too: their minute record is recomputed, and with it the
  quarter-hour peaks, hour and day statistics whose values depend on it. DSMR-reader processes
  them but never revisits a minute, peak, hour or day that exists. Day statistics added through
  the API (imported history) are never overwritten.
- An hour waits for a gas record measured at or after its end (when the meter has gas), but at
  most until minute records two hours past its end exist; DSMR-reader waits for the next day's
  gas before it makes a day. Everything waits for data, never for the clock: readings from the
  future (DSMR-reader refuses them past now + 24 h) are processed as they come.
- Rounding: the averages of a minute are rounded half to even to the column's places (3 for
  kW, 1 for V), like Django storing an Avg in a DecimalField; the average current is truncated
  to a whole ampere, like Django storing it in an IntegerField. A quarter-hour peak is rounded
  half up to 3 places, and costs half up to 2 (DSMR-reader's round_decimal). Averages are exact
  (integer sums), where DSMR-reader's SQLite Avg goes through a float.
- Merged prices (overlapping contracts) carry the day itself as start and end.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, Final, cast

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    delete,
    distinct,
    func,
    insert,
    select,
    update,
)

from .model import datetime_to_us, record_to_row, row_to_record, us_to_datetime
from .records import DayConsumption, EnergySupplierPrice
from .schema import (
    HOUR_US,
    day_statistics,
    dsmr_reading,
    electricity_consumption,
    energy_supplier_price,
    gas_consumption,
    hour_statistics,
    meter_statistics,
    processing_state,
    quarter_hour_peak,
    reading_count,
    record_count,
)
from .sql import div_floor, upsert

MINUTE_US: Final = 60_000_000
QUARTER_US: Final = 15 * MINUTE_US
# How long an hour waits for the gas record at its end, in minute records' time.
GAS_WAIT_US: Final = 2 * HOUR_US
# Readings past the minute frontier that one run processes at most (six hours of a meter that
# sends one a second), counted by an index seek: catching up with a backlog (readings stored
# before processing existed, or readings far apart) takes runs in proportion to the readings,
# whatever time they span, and the writer commits what was submitted between two runs.
CATCH_UP_READINGS: Final = 21_600
_MICROSECOND: Final = timedelta(microseconds=1)
_CENT: Final = Decimal("0.01")
_ZERO_PRICES_DESCRIPTION: Final = "Zero priced contract"

# Minute records: the highest of each position, the average of the rest (reading column names).
_POSITIONS: Final = {
    "delivered_1": "electricity_delivered_1",
    "returned_1": "electricity_returned_1",
    "delivered_2": "electricity_delivered_2",
    "returned_2": "electricity_returned_2",
}
_AVERAGED: Final = {
    "currently_delivered": "electricity_currently_delivered",
    "currently_returned": "electricity_currently_returned",
    **{
        name: name
        for name in (
            "phase_currently_delivered_l1",
            "phase_currently_delivered_l2",
            "phase_currently_delivered_l3",
            "phase_currently_returned_l1",
            "phase_currently_returned_l2",
            "phase_currently_returned_l3",
            "phase_voltage_l1",
            "phase_voltage_l2",
            "phase_voltage_l3",
        )
    },
}
_TRUNCATED: Final = ("phase_power_current_l1", "phase_power_current_l2", "phase_power_current_l3")
_ELECTRICITY: Final = (
    "electricity1",
    "electricity2",
    "electricity1_returned",
    "electricity2_returned",
)
# The minute record's position behind each statistics field.
_POSITION_OF: Final = {
    "electricity1": "delivered_1",
    "electricity2": "delivered_2",
    "electricity1_returned": "returned_1",
    "electricity2_returned": "returned_2",
}
_PRICE_FIELDS: Final = (
    "electricity_delivered_1_price",
    "electricity_delivered_2_price",
    "gas_price",
    "electricity_returned_1_price",
    "electricity_returned_2_price",
    "fixed_daily_cost",
)


def floor_to(value: int, unit: int) -> int:
    """Return value rounded down to a multiple of unit."""
    return value - value % unit


def round_half_up(value: Fraction) -> int:
    """Round to a whole number, halves away from zero."""
    magnitude = int(abs(value) + Fraction(1, 2))
    return magnitude if value >= 0 else -magnitude


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
    return EnergySupplierPrice(start=day, end=day, description=_ZERO_PRICES_DESCRIPTION, **merged)


@dataclass(frozen=True, slots=True)
class _Costs:
    electricity1_cost: Decimal
    electricity2_cost: Decimal
    gas_cost: Decimal | None
    fixed_cost: Decimal
    total_cost: Decimal


def day_costs(
    electricity: Mapping[str, Decimal], gas: Decimal | None, prices: EnergySupplierPrice | None
) -> _Costs:
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
    return _Costs(cost1, cost2, gas_cost, round_cents(prices.fixed_daily_cost), total)


@dataclass(frozen=True, slots=True)
class _Gas:
    """A gas record's times (µs) and position (dm³)."""

    read_at: int
    measured_at: int
    delivered: int


@dataclass(frozen=True, slots=True)
class _MeterState:
    """How far processing got for a meter (µs), and what it needs to know of its records."""

    minute_frontier: int
    quarter_frontier: int
    hour_frontier: int
    day_frontier: date
    latest_reading: int
    latest_minute: int | None
    latest_gas: _Gas | None


@dataclass(slots=True)
class _Pending:
    """Readings committed since the meter's last successful run."""

    latest: int | None = None
    # Timestamps before the minute frontier at the time: their minutes need recomputing.
    late: set[int] = field(default_factory=set)
    # Timestamps noted while the frontier was not known: late if before it once loaded.
    unsorted: list[int] = field(default_factory=list)


class Processor:
    """Processing of every meter; used by the writer thread only."""

    def __init__(self, engine: Engine, time_zone: tzinfo) -> None:
        """Process on a migrated engine, with local days in time_zone."""
        self._engine = engine
        self._time_zone = time_zone
        self._states: dict[str, _MeterState] = {}
        self._pending: dict[str, _Pending] = {}
        # Meters with work to do: readings arrived, or a run stopped before catching up.
        self._due: set[str] = set()
        # Of those, the meters whose last run stopped before catching up.
        self._behind: set[str] = set()
        self._prices: dict[str, tuple[EnergySupplierPrice, ...]] = {}

    @property
    def due(self) -> frozenset[str]:
        """Return the meters with work to do."""
        return frozenset(self._due)

    @property
    def behind(self) -> frozenset[str]:
        """Return the meters whose last run left a backlog: their next may follow at once."""
        return frozenset(self._behind)

    @property
    def noted(self) -> frozenset[str]:
        """Return the meters with readings noted that a restart would not find unprocessed.

        Readings stamped before the minute frontier (late ones) are known only here until a
        run has processed them; those past it are found again from processing_state.
        """
        return frozenset(
            meter
            for meter, pending in self._pending.items()
            if meter in self._due and (pending.late or pending.unsorted)
        )

    def resume(self) -> None:
        """Make every meter with readings due, to process what an earlier run left."""
        with self._engine.connect() as connection:
            meters = connection.scalars(select(distinct(reading_count.c.meter))).all()
        self._due.update(meters)
        self._behind.update(meters)

    def readings_written(self, rows: Iterable[Mapping[str, object]]) -> None:
        """Note committed dsmr_reading rows: their meters are due."""
        for row in rows:
            meter = cast(str, row["meter"])
            timestamp = cast(int, row["timestamp"])
            pending = self._pending.setdefault(meter, _Pending())
            state = self._states.get(meter)
            if state is None:
                pending.unsorted.append(timestamp)
            elif timestamp < state.minute_frontier:
                pending.late.add(timestamp)
            if pending.latest is None or timestamp > pending.latest:
                pending.latest = timestamp
            self._due.add(meter)

    def defer(self, meter: str) -> None:
        """Leave a meter whose run failed until more readings arrive; its late ones stay noted."""
        self._due.discard(meter)
        self._behind.discard(meter)
        # Loaded again on the next run, from what was committed.
        self._states.pop(meter, None)

    def process(self, meter: str) -> None:
        """Run one transaction of a meter's processing; it stays due while a backlog remains.

        A run processes the late readings noted since the previous one and at most
        CATCH_UP_READINGS readings past the minute frontier, so its work is bounded by
        readings, never by the time they span.
        """
        state = self._states.get(meter)
        pending = self._pending.get(meter, _Pending())
        if state is not None and not pending.late:
            latest = state.latest_reading
            if pending.latest is not None:
                latest = max(latest, pending.latest)
            if floor_to(latest, MINUTE_US) <= state.minute_frontier:
                # Only the newest minute got readings: nothing is ready.
                self._states[meter] = replace(state, latest_reading=latest)
                pending.latest = None
                self._caught_up(meter)
                return
        with self._engine.begin() as connection:
            if state is None:
                state = _load_state(connection, meter, self._time_zone)
                if state is None:
                    self._caught_up(meter)
                    return
                frontier = state.minute_frontier
                pending.late.update(
                    timestamp for timestamp in pending.unsorted if timestamp < frontier
                )
            if pending.latest is not None and pending.latest > state.latest_reading:
                state = replace(state, latest_reading=pending.latest)
            late = sorted(pending.late)
            run = _Run(
                connection, meter, state, self._time_zone, self._contracts(connection, meter)
            )
            state = run.process(late)
        self._states[meter] = state
        pending.late.difference_update(late)
        pending.unsorted.clear()
        pending.latest = None
        if floor_to(state.latest_reading, MINUTE_US) <= state.minute_frontier:
            self._caught_up(meter)
        else:
            self._behind.add(meter)

    def _caught_up(self, meter: str) -> None:
        self._due.discard(meter)
        self._behind.discard(meter)

    def replace_prices(
        self, connection: Connection, meter: str, contracts: Sequence[EnergySupplierPrice]
    ) -> None:
        """Replace a meter's contracts and recompute the costs of the days either covers."""
        old = self._contracts(connection, meter)
        connection.execute(
            delete(energy_supplier_price).where(energy_supplier_price.c.meter == meter)
        )
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
        # Loaded again from what the caller's transaction leaves, committed or rolled back.
        self._prices.pop(meter, None)

    def _contracts(self, connection: Connection, meter: str) -> tuple[EnergySupplierPrice, ...]:
        contracts = self._prices.get(meter)
        if contracts is None:
            contracts = load_contracts(connection, meter)
            self._prices[meter] = contracts
        return contracts


def load_contracts(connection: Connection, meter: str) -> tuple[EnergySupplierPrice, ...]:
    """Return a meter's contracts, by start."""
    rows = connection.execute(
        select(energy_supplier_price)
        .where(energy_supplier_price.c.meter == meter)
        .order_by(energy_supplier_price.c.start, energy_supplier_price.c.id)
    ).mappings()
    return tuple(row_to_record(EnergySupplierPrice, row) for row in rows)


def _load_state(connection: Connection, meter: str, time_zone: tzinfo) -> _MeterState | None:
    """Return a meter's state from the database, None while it has no readings."""
    timestamp = dsmr_reading.c.timestamp
    latest = connection.scalar(select(func.max(timestamp)).where(dsmr_reading.c.meter == meter))
    if latest is None:
        return None
    saved = (
        connection.execute(select(processing_state).where(processing_state.c.meter == meter))
        .mappings()
        .first()
    )
    if saved is None:
        first: int = connection.scalar(
            select(func.min(timestamp)).where(dsmr_reading.c.meter == meter)
        )
        minute = floor_to(first, MINUTE_US)
        frontiers: dict[str, Any] = {
            "minute_frontier": minute,
            "quarter_frontier": floor_to(first, QUARTER_US),
            "hour_frontier": floor_to(minute, HOUR_US),
            "day_frontier": local_date(minute, time_zone),
        }
    else:
        frontiers = {name: saved[name] for name in saved if name != "meter"}
    latest_minute = connection.scalar(
        select(func.max(electricity_consumption.c.read_at)).where(
            electricity_consumption.c.meter == meter
        )
    )
    gas = connection.execute(
        select(
            gas_consumption.c.read_at, gas_consumption.c.measured_at, gas_consumption.c.delivered
        )
        .where(gas_consumption.c.meter == meter)
        .order_by(gas_consumption.c.measured_at.desc())
        .limit(1)
    ).first()
    return _MeterState(
        **frontiers,
        latest_reading=latest,
        latest_minute=latest_minute,
        latest_gas=None if gas is None else _Gas(*gas),
    )


def local_date(timestamp: int, time_zone: tzinfo) -> date:
    """Return the local date of a time (µs)."""
    return us_to_datetime(timestamp).astimezone(time_zone).date()


def day_bounds(day: date, time_zone: tzinfo) -> tuple[int, int]:
    """Return the start and end (µs) of a local day."""
    start = datetime.combine(day, time(), tzinfo=time_zone)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=time_zone)
    return datetime_to_us(start), datetime_to_us(end)


def add_record_counts(
    connection: Connection, record: str, meter: str, times: Iterable[int], sign: int = 1
) -> None:
    """Add (or with sign -1 subtract) records at these times (µs) to record_count."""
    counts = Counter(time_us // HOUR_US for time_us in times)
    statement = upsert(connection, record_count)
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=[record_count.c.record, record_count.c.meter, record_count.c.hour],
            set_={"records": record_count.c.records + statement.excluded.records},
        ),
        # In key order, so that two writers on one PostgreSQL database cannot deadlock here.
        [
            {"record": record, "meter": meter, "hour": hour, "records": sign * n}
            for hour, n in sorted(counts.items())
        ],
    )


@dataclass(frozen=True, slots=True)
class _Boundary:
    """B(t) or G(t): the record's time (µs) and its positions (Wh or dm³ by field)."""

    time: int
    positions: Mapping[str, int]


class Boundaries:
    """B(t) and G(t) of a meter, memoised within one transaction's statistics."""

    def __init__(self, connection: Connection, meter: str) -> None:
        """Look up a meter's boundary positions on a connection."""
        self._connection = connection
        self._meter = meter
        self._electricity: dict[int, _Boundary | None] = {}
        self._gas: dict[int, _Boundary | None] = {}

    def electricity(self, at: int) -> _Boundary | None:
        """Return B(at): the latest minute record at or before it, else the first; None if none."""
        if at not in self._electricity:
            table = electricity_consumption
            columns = [table.c.read_at, *(table.c[name] for name in _POSITIONS)]
            self._electricity[at] = self._lookup(table, table.c.read_at, columns, at)
        return self._electricity[at]

    def gas(self, at: int) -> _Boundary | None:
        """Return G(at): the latest gas record measured at or before it, else the first."""
        if at not in self._gas:
            table = gas_consumption
            columns = [table.c.measured_at, table.c.delivered]
            self._gas[at] = self._lookup(table, table.c.measured_at, columns, at)
        return self._gas[at]

    def _lookup(
        self, table: Any, time_column: Any, columns: list[Any], at: int
    ) -> _Boundary | None:
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
        return _Boundary(row[0], dict(row._mapping))

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
            return dict.fromkeys(_ELECTRICITY, 0)
        return {
            name: high.positions[_POSITION_OF[name]] - low.positions[_POSITION_OF[name]]
            for name in _ELECTRICITY
        }

    def gas_used(self, start: int, end: int) -> int | None:
        """Return G(end) - G(start), dm³; None without gas records."""
        low = self.gas(start)
        high = self.gas(end)
        if low is None or high is None:
            return None
        return high.positions["delivered"] - low.positions["delivered"]


def _wh(value: int) -> Decimal:
    return Decimal(value).scaleb(-3)


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
    energy = {name: _wh(value) for name, value in boundaries.energy(start, end).items()}
    gas_dm3 = boundaries.gas_used(start, end)
    gas = Decimal("0.000") if gas_dm3 is None else _wh(gas_dm3)
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
        or EnergySupplierPrice(start=day, end=day, description=_ZERO_PRICES_DESCRIPTION),
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
            table.c.id, table.c.day, table.c.gas, *(table.c[name] for name in _ELECTRICITY)
        ).where(
            table.c.meter == meter,
            table.c.imported.is_(False),
            table.c.day >= first,
            table.c.day <= last,
        )
    ).mappings()
    updates = []
    for row in rows:
        energy = {name: _wh(row[name]) for name in _ELECTRICITY}
        gas = None if row["gas"] is None else _wh(row["gas"])
        costs = day_costs(energy, gas, merge_prices(row["day"], contracts))
        updates.append(
            {"row_id": row["id"], **{f"new_{k}": v for k, v in _cost_columns(costs).items()}}
        )
    if updates:
        connection.execute(
            update(table)
            .where(table.c.id == bindparam("row_id"))
            # Parameters named apart from the columns, which SQLAlchemy reserves.
            .values({name: bindparam(f"new_{name}") for name in _COST_COLUMNS}),
            updates,
        )


_COST_COLUMNS: Final = (
    "electricity1_cost",
    "electricity2_cost",
    "gas_cost",
    "fixed_cost",
    "total_cost",
)


def _cost_columns(costs: _Costs) -> dict[str, int | None]:
    return {
        "electricity1_cost": int(costs.electricity1_cost.scaleb(2)),
        "electricity2_cost": int(costs.electricity2_cost.scaleb(2)),
        "gas_cost": None if costs.gas_cost is None else int(costs.gas_cost.scaleb(2)),
        "fixed_cost": int(costs.fixed_cost.scaleb(2)),
        "total_cost": int(costs.total_cost.scaleb(2)),
    }


class _Run:
    """One transaction of one meter's processing."""

    def __init__(
        self,
        connection: Connection,
        meter: str,
        state: _MeterState,
        time_zone: tzinfo,
        contracts: Sequence[EnergySupplierPrice],
    ) -> None:
        self._connection = connection
        self._meter = meter
        self._state = state
        self._time_zone = time_zone
        self._contracts = contracts
        self._latest_minute = state.latest_minute
        self._latest_gas = state.latest_gas
        version = connection.scalar(
            select(meter_statistics.c.dsmr_version).where(meter_statistics.c.meter == meter)
        )
        self._gas_shift = HOUR_US if version is not None and version.startswith("4") else 0
        # Times at which B(t) or G(t) may have changed under what is already made: the times of
        # the records recomputed or added there, and of the record after each (up to which the
        # earlier one holds). Between two such times both are constant, before and after.
        self._changed: set[int] = set()
        # Whether this run made the meter's first gas record: days made before had no gas.
        self._first_gas = False

    def process(self, late: Sequence[int]) -> _MeterState:
        state = self._state
        frontier = self._catch_up_frontier()
        if late:
            self._late_minutes(late)
        if frontier > state.minute_frontier:
            aggregates = self._aggregate(state.minute_frontier, frontier)
            self._write_minutes(aggregates, update_existing=False)
            self._add_gas(state.minute_frontier, frontier, only_new=True)
        quarter_frontier = max(state.quarter_frontier, floor_to(frontier, QUARTER_US))
        self._peaks(state.quarter_frontier, quarter_frontier)
        for quarter in sorted(self._late_quarters(late)):
            self._peaks(quarter, quarter + QUARTER_US)
        boundaries = Boundaries(self._connection, self._meter)
        hour_frontier = self._advance_hours(boundaries)
        for hour in sorted(self._changed_hours()):
            if boundaries.has_records(hour, hour + HOUR_US):
                self._write_hour(boundaries, hour)
        if self._first_gas:
            self._gas_for_days_made()
        day_frontier = self._advance_days(boundaries, hour_frontier)
        for day in sorted(self._changed_days(late)):
            self._write_day(boundaries, day)
        new_state = replace(
            state,
            minute_frontier=max(frontier, state.minute_frontier),
            quarter_frontier=quarter_frontier,
            hour_frontier=hour_frontier,
            day_frontier=day_frontier,
            latest_minute=self._latest_minute,
            latest_gas=self._latest_gas,
        )
        values = {
            "minute_frontier": new_state.minute_frontier,
            "quarter_frontier": new_state.quarter_frontier,
            "hour_frontier": new_state.hour_frontier,
            "day_frontier": new_state.day_frontier,
        }
        statement = upsert(self._connection, processing_state)
        self._connection.execute(
            statement.values(meter=self._meter, **values).on_conflict_do_update(
                index_elements=[processing_state.c.meter], set_=values
            )
        )
        return new_state

    def _catch_up_frontier(self) -> int:
        """Return the minute frontier of this run: the latest reading's minute, or earlier.

        It stops before the minute of the CATCH_UP_READINGS-th reading past the frontier, found
        by one index seek, and moves a minute at least.
        """
        state = self._state
        frontier = floor_to(state.latest_reading, MINUTE_US)
        if frontier <= state.minute_frontier:
            return frontier
        reading = dsmr_reading.c
        beyond = self._connection.scalar(
            select(reading.timestamp)
            .where(reading.meter == self._meter, reading.timestamp >= state.minute_frontier)
            .order_by(reading.timestamp)
            .offset(CATCH_UP_READINGS)
            .limit(1)
        )
        if beyond is None:
            return frontier
        return min(frontier, max(floor_to(beyond, MINUTE_US), state.minute_frontier + MINUTE_US))

    # Minutes and gas.

    def _aggregate(self, start: int, end: int) -> list[dict[str, object]]:
        """Return the minute records of the readings from start to end (µs, end excluded)."""
        reading = dsmr_reading.c
        minute = div_floor(reading.timestamp, MINUTE_US)
        columns: list[Any] = [minute.label("minute")]
        columns += [func.max(reading[column]).label(name) for name, column in _POSITIONS.items()]
        for name in (*_AVERAGED, *_TRUNCATED):
            column = reading[_AVERAGED.get(name, name)]
            columns += [
                func.sum(column).label(f"{name}_sum"),
                func.count(column).label(f"{name}_n"),
            ]
        rows = self._connection.execute(
            select(*columns)
            .where(
                reading.meter == self._meter, reading.timestamp >= start, reading.timestamp < end
            )
            .group_by(minute)
            .order_by(minute)
        ).mappings()
        records = []
        for row in rows:
            record: dict[str, object] = {"read_at": (row["minute"] + 1) * MINUTE_US}
            record.update({name: row[name] for name in _POSITIONS})
            for name in (*_AVERAGED, *_TRUNCATED):
                total, n = row[f"{name}_sum"], row[f"{name}_n"]
                if not n:
                    record[name] = None
                elif name in _TRUNCATED:
                    record[name] = int(Fraction(int(total), n))
                else:
                    record[name] = round(Fraction(int(total), n))
            records.append(record)
        return records

    def _write_minutes(self, records: list[dict[str, object]], *, update_existing: bool) -> None:
        if not records:
            return
        table = electricity_consumption
        existing: dict[int, int] = {}
        if update_existing:
            times = [cast(int, record["read_at"]) for record in records]
            existing = dict(
                self._connection.execute(
                    select(table.c.read_at, table.c.id).where(
                        table.c.meter == self._meter, table.c.read_at.in_(times)
                    )
                )
                .tuples()
                .all()
            )
        new = [{"meter": self._meter, **r} for r in records if r["read_at"] not in existing]
        changed = [
            {"row_id": existing[r["read_at"]], **{f"new_{k}": v for k, v in r.items()}}
            for r in records
            if r["read_at"] in existing
        ]
        if new:
            self._connection.execute(insert(table), new)
            add_record_counts(
                self._connection, table.name, self._meter, (cast(int, r["read_at"]) for r in new)
            )
        if changed:
            self._connection.execute(
                update(table)
                .where(table.c.id == bindparam("row_id"))
                .values({name: bindparam(f"new_{name}") for name in records[0]}),
                changed,
            )
        latest = max(cast(int, record["read_at"]) for record in records)
        if self._latest_minute is None or latest > self._latest_minute:
            self._latest_minute = latest

    def _late_minutes(self, late: Sequence[int]) -> None:
        """Recompute the minutes of late readings, and note what that changes."""
        minutes = sorted({floor_to(timestamp, MINUTE_US) for timestamp in late})
        spans: list[list[int]] = []
        for minute in minutes:
            if spans and spans[-1][1] == minute:
                spans[-1][1] = minute + MINUTE_US
            else:
                spans.append([minute, minute + MINUTE_US])
        table = electricity_consumption
        for start, end in spans:
            self._write_minutes(self._aggregate(start, end), update_existing=True)
            following = self._connection.scalar(
                select(func.min(table.c.read_at)).where(
                    table.c.meter == self._meter, table.c.read_at > end
                )
            )
            # The span's records, stamped at its minutes' ends; B(t) holds from the last of them
            # up to the following record, however far that is.
            self._changed.update(range(start + MINUTE_US, end + MINUTE_US, MINUTE_US))
            if following is not None:
                self._changed.add(following)
            self._add_gas(start, end, only_new=False)

    def _add_gas(self, start: int, end: int, *, only_new: bool) -> None:
        """Make the gas records of new gas timestamps among the readings from start to end."""
        reading = dsmr_reading.c
        conditions = [
            reading.meter == self._meter,
            reading.timestamp >= start,
            reading.timestamp < end,
            reading.extra_device_timestamp.is_not(None),
            reading.extra_device_delivered.is_not(None),
            reading.extra_device_delivered != 0,
        ]
        if only_new and self._latest_gas is not None:
            conditions.append(reading.extra_device_timestamp > self._latest_gas.measured_at)
        rows = self._connection.execute(
            select(
                reading.extra_device_timestamp,
                reading.extra_device_delivered,
                func.min(reading.timestamp),
            )
            .where(*conditions)
            .group_by(reading.extra_device_timestamp, reading.extra_device_delivered)
        ).all()
        # Per gas timestamp, the value of its first reading, as DSMR-reader takes it.
        first: dict[int, tuple[int, int]] = {}
        for measured_at, delivered, seen in rows:
            if measured_at not in first or seen < first[measured_at][1]:
                first[measured_at] = (delivered, seen)
        for measured_at in sorted(first):
            delivered = first[measured_at][0]
            latest = self._latest_gas
            if latest is None or measured_at > latest.measured_at:
                self._append_gas(measured_at, delivered)
            else:
                self._insert_late_gas(measured_at, delivered)

    def _append_gas(self, measured_at: int, delivered: int) -> None:
        latest = self._latest_gas
        gas = _Gas(measured_at - self._gas_shift, measured_at, delivered)
        used = 0 if latest is None else delivered - latest.delivered
        if self._insert_gas(gas, used):
            self._latest_gas = gas
            if latest is None:
                self._first_gas = True
            if measured_at <= self._state.hour_frontier:
                # The hour that gave up waiting for this gas record (G(t) holds from it on).
                self._changed.add(measured_at)

    def _insert_gas(self, gas: _Gas, used: int) -> bool:
        statement = upsert(self._connection, gas_consumption).values(
            meter=self._meter,
            read_at=gas.read_at,
            delivered=gas.delivered,
            currently_delivered=used,
            measured_at=gas.measured_at,
        )
        # RETURNING tells whether it was inserted: psycopg's rowcount of an INSERT is -1 here.
        inserted = self._connection.execute(
            statement.on_conflict_do_nothing().returning(gas_consumption.c.id)
        ).first()
        if inserted is None:
            return False
        add_record_counts(self._connection, gas_consumption.name, self._meter, [gas.read_at])
        return True

    def _insert_late_gas(self, measured_at: int, delivered: int) -> None:
        table = gas_consumption
        mine = table.c.meter == self._meter
        gas = _Gas(measured_at - self._gas_shift, measured_at, delivered)
        if not self._insert_gas(gas, 0):
            return
        previous = self._connection.scalar(
            select(table.c.delivered)
            .where(mine, table.c.read_at < gas.read_at)
            .order_by(table.c.read_at.desc())
            .limit(1)
        )
        if previous is not None:
            self._connection.execute(
                update(table)
                .where(mine, table.c.read_at == gas.read_at)
                .values(currently_delivered=delivered - previous)
            )
        following = self._connection.execute(
            select(table.c.id, table.c.delivered, table.c.measured_at)
            .where(mine, table.c.read_at > gas.read_at)
            .order_by(table.c.read_at)
            .limit(1)
        ).first()
        if following is not None:
            self._connection.execute(
                update(table)
                .where(table.c.id == following.id)
                .values(currently_delivered=following.delivered - delivered)
            )
        # G(t) changed from it up to the following record.
        self._changed.add(measured_at)
        if following is not None:
            self._changed.add(following.measured_at)

    # Quarter-hour peaks.

    def _late_quarters(self, late: Sequence[int]) -> set[int]:
        quarters = set()
        for timestamp in late:
            quarter = floor_to(timestamp, QUARTER_US)
            quarters.add(quarter)
            if quarter == timestamp:
                # Also the end of the quarter before.
                quarters.add(quarter - QUARTER_US)
        return {quarter for quarter in quarters if quarter < self._state.quarter_frontier}

    def _peaks(self, start: int, end: int) -> None:
        """Make (or remake) the peaks of the quarters from start to end (µs, end excluded)."""
        if start >= end:
            return
        reading = dsmr_reading.c
        mine = reading.meter == self._meter
        quarter = div_floor(reading.timestamp, QUARTER_US)
        buckets = {
            index * QUARTER_US: (first, last, n)
            for index, first, last, n in self._connection.execute(
                select(
                    quarter, func.min(reading.timestamp), func.max(reading.timestamp), func.count()
                )
                .where(mine, reading.timestamp >= start, reading.timestamp <= end)
                .group_by(quarter)
            ).tuples()
        }
        spans: dict[int, tuple[int, int]] = {}
        for quarter_start, (first, latest, n) in buckets.items():
            if quarter_start >= end:
                continue
            following = buckets.get(quarter_start + QUARTER_US)
            # A reading at the quarter's end belongs to it too.
            at_end = following is not None and following[0] == quarter_start + QUARTER_US
            last = quarter_start + QUARTER_US if at_end else latest
            if n + at_end >= 2 and last > first:
                spans[quarter_start] = (first, last)
        if not spans:
            return
        times = {time_us for span in spans.values() for time_us in span}
        # Of readings with equal timestamps, the first is the first and the last the last.
        positions: dict[int, list[int]] = {}
        for timestamp, position in self._connection.execute(
            select(
                reading.timestamp, reading.electricity_delivered_1 + reading.electricity_delivered_2
            )
            .where(mine, reading.timestamp.in_(times))
            .order_by(reading.timestamp, reading.id)
        ).tuples():
            positions.setdefault(timestamp, []).append(position)
        peaks = []
        for quarter_start, (first, last) in sorted(spans.items()):
            used_wh = positions[last][-1] - positions[first][0]
            # Wh per µs to W, rounded half up to a whole W (3 decimals of kW).
            watts = round_half_up(Fraction(used_wh * 3_600_000_000, last - first))
            peaks.append(
                {
                    "meter": self._meter,
                    "read_at_start": first,
                    "read_at_end": last,
                    "average_delivered": watts,
                    "quarter_start": quarter_start,
                }
            )
        statement = upsert(self._connection, quarter_hour_peak)
        self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=[quarter_hour_peak.c.meter, quarter_hour_peak.c.quarter_start],
                set_={
                    name: statement.excluded[name]
                    for name in ("read_at_start", "read_at_end", "average_delivered")
                },
            ),
            peaks,
        )

    # Hours and days.

    def _hour_ready(self, end: int) -> bool:
        latest = self._latest_minute
        if latest is None or latest < end:
            return False
        gas = self._latest_gas
        return gas is None or gas.measured_at >= end or latest >= end + GAS_WAIT_US

    def _advance_hours(self, boundaries: Boundaries) -> int:
        hour = self._state.hour_frontier
        while self._hour_ready(hour + HOUR_US):
            end = hour + HOUR_US
            if boundaries.has_records(hour, end):
                self._write_hour(boundaries, hour)
                hour = end
                continue
            # Skip the hours without records: ready means a later record exists.
            following = cast(int, boundaries.next_time(end))
            hour = max(end, floor_to(following - 1, HOUR_US))
        return hour

    def _write_hour(self, boundaries: Boundaries, hour: int) -> None:
        end = hour + HOUR_US
        gas = boundaries.gas_used(hour, end)
        values = {**boundaries.energy(hour, end), "gas": gas or 0}
        statement = upsert(self._connection, hour_statistics)
        self._connection.execute(
            statement.values(meter=self._meter, hour_start=hour, **values).on_conflict_do_update(
                index_elements=[hour_statistics.c.meter, hour_statistics.c.hour_start], set_=values
            )
        )

    def _changed_hours(self) -> set[int]:
        """Return the hours already made that hold a changed time in (start, end].

        Any other hour has both boundaries where B(t) and G(t) are what they were (or changed
        alike between two changed times, where both are constant): its statistics stay. So the
        work follows the records changed, not the time between them.
        """
        made = self._state.hour_frontier
        hours = {floor_to(changed - 1, HOUR_US) for changed in self._changed}
        return {hour for hour in hours if hour < made}

    def _advance_days(self, boundaries: Boundaries, hour_frontier: int) -> date:
        day = self._state.day_frontier
        while True:
            start, end = day_bounds(day, self._time_zone)
            if end > hour_frontier:
                return day
            if boundaries.has_records(start, end):
                self._write_day(boundaries, day)
                day += timedelta(days=1)
                continue
            following = cast(int, boundaries.next_time(end))
            day = max(day + timedelta(days=1), local_date(following - 1, self._time_zone))

    def _changed_days(self, late: Sequence[int]) -> set[date]:
        """Return the days already made that hold a changed time, or a late reading."""
        made = self._state.day_frontier
        days = set()
        for changed in self._changed:
            # The day it ends (its statistics) and the one it starts: a gas record's time is
            # its reading's gas timestamp, which the day keeps (_day_start).
            days.add(local_date(changed - 1, self._time_zone))
            days.add(local_date(changed, self._time_zone))
        # The late reading may be its day's first, whose positions the day keeps.
        days.update(local_date(timestamp, self._time_zone) for timestamp in late)
        return {day for day in days if day < made}

    def _gas_for_days_made(self) -> None:
        """Give the days made without gas records the gas of a meter that now has them: 0.

        G(t) is the first gas record's position before it, so those days used none.
        """
        table = day_statistics
        self._connection.execute(
            update(table)
            .where(
                table.c.meter == self._meter,
                table.c.imported.is_(False),
                table.c.gas.is_(None),
                table.c.day < self._state.day_frontier,
            )
            .values(gas=0, gas_cost=0)
        )

    def _write_day(self, boundaries: Boundaries, day: date) -> None:
        start, end = day_bounds(day, self._time_zone)
        if not boundaries.has_records(start, end):
            return
        energy = boundaries.energy(start, end)
        gas = boundaries.gas_used(start, end)
        costs = day_costs(
            {name: _wh(value) for name, value in energy.items()},
            None if gas is None else _wh(gas),
            merge_prices(day, self._contracts),
        )
        values: dict[str, object] = {**energy, "gas": gas, **_cost_columns(costs)}
        values.update(self._day_start(start, end))
        table = day_statistics
        statement = upsert(self._connection, table)
        self._connection.execute(
            statement.values(
                meter=self._meter, day=day, imported=False, **values
            ).on_conflict_do_update(
                index_elements=[table.c.meter, table.c.day],
                set_=values,
                where=table.c.imported.is_(False),
            )
        )

    def _day_start(self, start: int, end: int) -> dict[str, object]:
        """Return the meter positions of the day's first reading, and of its first gas."""
        reading = dsmr_reading.c
        mine = reading.meter == self._meter
        first = self._connection.execute(
            select(
                reading.timestamp,
                reading.electricity_delivered_1,
                reading.electricity_delivered_2,
                reading.electricity_returned_1,
                reading.electricity_returned_2,
            )
            .where(mine, reading.timestamp >= start, reading.timestamp < end)
            .order_by(reading.timestamp, reading.id)
            .limit(1)
        ).first()
        values: dict[str, object] = dict.fromkeys(
            (
                "electricity_reading_timestamp",
                "electricity1_reading",
                "electricity2_reading",
                "electricity1_returned_reading",
                "electricity2_returned_reading",
                "gas_reading_timestamp",
                "gas_reading",
            )
        )
        if first is not None:
            values.update(
                zip(
                    (
                        "electricity_reading_timestamp",
                        "electricity1_reading",
                        "electricity2_reading",
                        "electricity1_returned_reading",
                        "electricity2_returned_reading",
                    ),
                    first,
                    strict=True,
                )
            )
        if self._latest_gas is not None:
            # A gas timestamp is never after its reading's, and at most an hour before it.
            gas = self._connection.execute(
                select(reading.extra_device_timestamp, reading.extra_device_delivered)
                .where(
                    mine,
                    reading.timestamp >= start,
                    reading.timestamp < end + GAS_WAIT_US,
                    reading.extra_device_timestamp >= start,
                    reading.extra_device_timestamp < end,
                )
                .order_by(reading.timestamp, reading.id)
                .limit(1)
            ).first()
            if gas is not None:
                values["gas_reading_timestamp"], values["gas_reading"] = gas
        return values
