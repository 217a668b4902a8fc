"""Processing readings into DSMR-reader's records, on a SQLite file and a real PostgreSQL server.

The expected records come from a plain reference model of the rules in the processing
package's docstring, computed here from the generated readings, and from totals the generator
knows.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from custom_components.smartmeter.store import (
    DayStatistics,
    DuplicateDay,
    ElectricityConsumption,
    EnergySupplierPrice,
    GasConsumption,
    HourStatistics,
    ProcessingStatus,
    QuarterHourPeak,
    Reading,
    ReadingStore,
    StoredDayStatistics,
    StoredEnergySupplierPrice,
    writer as writer_module,
)
from custom_components.smartmeter.store.model import reading_to_row
from custom_components.smartmeter.store.processing.run import Run
from tests.common import wait_processed
from tests.store.test_database import database
from tests.store.versions import database_at_version

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)
MINUTE = 60_000_000
QUARTER = 15 * MINUTE
HOUR = 60 * MINUTE
FIVE = "01JCNF8MZ3Q4W6V5XK9T2B7H1D"  # DSMR 5: gas every 5 minutes
FOUR = "01JCNF9A4R8S2P6M0E3G5Y7C9K"  # DSMR 4: hourly gas, shifted an hour back


def us(moment: datetime) -> int:
    return (moment - EPOCH) // US


def at(micros: int) -> datetime:
    return EPOCH + micros * US


def local(*fields: int) -> datetime:
    """Return the Amsterdam time of year, month, day[, hour[, minute[, second]]]."""
    year, month, day, hour, minute, second = (*fields, 0, 0, 0)[:6]
    return datetime(year, month, day, hour, minute, second, tzinfo=AMSTERDAM)


def scaled(value: int | None, places: int) -> Decimal | None:
    return None if value is None else Decimal(value).scaleb(-places)


@pytest.fixture
def store(store_url: str) -> Iterator[ReadingStore]:
    store = ReadingStore.open(store_url, time_zone=AMSTERDAM)
    yield store
    store.close()


# ------------------------------------------------------------------------------------------------
# The generated stream.


@dataclass(frozen=True)
class Segment:
    """Readings every step seconds from start to end; offline windows count but send nothing."""

    start: datetime
    end: datetime
    offline: tuple[tuple[datetime, datetime], ...] = ()


class Meter:
    """A meter whose positions (Wh, dm³) advance deterministically with each step."""

    def __init__(self, step: int, gas_minutes: int) -> None:
        self.step = step
        self.gas_minutes = gas_minutes
        self.delivered = [0, 1_000_000, 2_000_000]  # by tariff, index 0 unused
        self.returned = [0, 10_000, 20_000]
        self.gas = 500_000
        self.gas_slot: int | None = None
        self.index = 0

    def advance(self, moment: datetime) -> Reading:
        """Move the meter to moment and return its reading then."""
        hour = moment.astimezone(AMSTERDAM).hour
        tariff = 1 if hour >= 23 or hour < 7 else 2
        wh = 1 + (self.index // 37) % 4
        self.delivered[tariff] += wh
        solar = 11 <= hour < 14
        if solar:
            self.returned[tariff] += 1
        slot = us(moment) // (self.gas_minutes * MINUTE)
        if slot != self.gas_slot:
            if self.gas_slot is not None and (6 <= hour < 9 or 17 <= hour < 22):
                self.gas += 3 * self.gas_minutes // 5
            self.gas_slot = slot
        self.index += 1
        watts = wh * 3600 // self.step
        return Reading(
            timestamp=moment,
            electricity_delivered_1=Decimal(self.delivered[1]).scaleb(-3),
            electricity_returned_1=Decimal(self.returned[1]).scaleb(-3),
            electricity_delivered_2=Decimal(self.delivered[2]).scaleb(-3),
            electricity_returned_2=Decimal(self.returned[2]).scaleb(-3),
            electricity_currently_delivered=Decimal(watts).scaleb(-3),
            electricity_currently_returned=Decimal(3600 // self.step if solar else 0).scaleb(-3),
            phase_currently_delivered_l1=Decimal(watts).scaleb(-3),
            extra_device_timestamp=at(slot * self.gas_minutes * MINUTE),
            extra_device_delivered=Decimal(self.gas).scaleb(-3),
            phase_voltage_l1=Decimal(2290 + self.index % 5).scaleb(-1),
            phase_power_current_l1=self.index % 4,
        )

    def run(self, segments: Sequence[Segment]) -> list[Reading]:
        readings = []
        for segment in segments:
            # In UTC: adding to a local time would step by the wall clock across DST.
            moment = segment.start.astimezone(UTC)
            while moment < segment.end:
                reading = self.advance(moment)
                if not any(start <= moment < end for start, end in segment.offline):
                    readings.append(reading)
                moment += timedelta(seconds=self.step)
        return readings


# Meter FIVE: March's 23-hour day, then October's 25-hour day with two offline hours on Oct 26.
FIVE_SEGMENTS = (
    Segment(local(2026, 3, 28, 21, 0, 10), local(2026, 3, 30, 0, 30)),
    Segment(
        local(2026, 10, 24, 0, 0, 10),
        local(2026, 10, 27, 2, 0),
        offline=((local(2026, 10, 26, 10, 10), local(2026, 10, 26, 12, 50)),),
    ),
)
FOUR_SEGMENTS = (Segment(local(2026, 10, 24, 5, 0, 5), local(2026, 10, 27, 1, 0)),)

CONTRACTS = (
    EnergySupplierPrice(
        start=date(2026, 1, 1),
        end=date(2026, 10, 24),
        description="Old",
        electricity_delivered_1_price=Decimal("0.210000"),
        electricity_delivered_2_price=Decimal("0.250000"),
        gas_price=Decimal("1.300000"),
        electricity_returned_1_price=Decimal("0.070000"),
        electricity_returned_2_price=Decimal("0.090000"),
        fixed_daily_cost=Decimal("0.854321"),
    ),
    # The price change, in the middle of the stream.
    EnergySupplierPrice(
        start=date(2026, 10, 25),
        end=date(2099, 12, 31),
        description="New",
        electricity_delivered_1_price=Decimal("0.223456"),
        electricity_delivered_2_price=Decimal("0.261234"),
        gas_price=Decimal("1.312345"),
        electricity_returned_1_price=Decimal("0.081111"),
        electricity_returned_2_price=Decimal("0.092222"),
        fixed_daily_cost=Decimal("-0.105555"),
    ),
    # Overlaps the new one on Oct 26: its gas price collides, its fixed cost is the only one... no,
    # the new one has one too: collides as well; its returned 1 price fills in nothing (0).
    EnergySupplierPrice(
        start=date(2026, 10, 26),
        end=date(2026, 10, 26),
        description="Overlap",
        gas_price=Decimal("1.400000"),
        fixed_daily_cost=Decimal("0.500000"),
    ),
)


# ------------------------------------------------------------------------------------------------
# The reference model.


def merged_prices(day: date, contracts: Sequence[EnergySupplierPrice]) -> EnergySupplierPrice:
    covering = [c for c in contracts if c.start <= day <= c.end]
    if len(covering) == 1:
        return covering[0]
    values = {}
    for name in (
        "electricity_delivered_1_price",
        "electricity_delivered_2_price",
        "gas_price",
        "electricity_returned_1_price",
        "electricity_returned_2_price",
        "fixed_daily_cost",
    ):
        nonzero = [getattr(c, name) for c in covering if getattr(c, name) != 0]
        values[name] = nonzero[0] if len(nonzero) == 1 else Decimal("0.000000")
    return EnergySupplierPrice(start=day, end=day, description="Zero priced contract", **values)


def half_up(value: Decimal, places: str = "0.01") -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def local_bounds(day: date) -> tuple[int, int]:
    start = datetime.combine(day, time(), tzinfo=AMSTERDAM)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=AMSTERDAM)
    return us(start), us(end)


@dataclass
class Expected:
    minutes: list[dict[str, Any]]
    gas: list[dict[str, Any]]
    peaks: list[dict[str, Any]]
    hours: list[dict[str, Any]]
    days: list[dict[str, Any]]
    unprocessed: list[Reading]


def wh(value: Decimal) -> int:
    return int(value.scaleb(3))


def minute_records(processed: Sequence[Reading]) -> list[dict[str, Any]]:
    """Return the minute records in integers (Wh, W, dV, A) with read_at in µs."""
    by_minute: dict[int, list[Reading]] = defaultdict(list)
    for r in processed:
        t = us(r.timestamp)
        by_minute[t - t % MINUTE].append(r)
    minutes = []
    for minute, group in sorted(by_minute.items()):
        record: dict[str, Any] = {"read_at": minute + MINUTE}
        for name in ("delivered_1", "returned_1", "delivered_2", "returned_2"):
            record[name] = max(wh(getattr(r, f"electricity_{name}")) for r in group)
        for name, source, places in (
            ("currently_delivered", "electricity_currently_delivered", 3),
            ("currently_returned", "electricity_currently_returned", 3),
            ("phase_currently_delivered_l1", "phase_currently_delivered_l1", 3),
            ("phase_voltage_l1", "phase_voltage_l1", 1),
        ):
            values = [int(getattr(r, source).scaleb(places)) for r in group]
            # Python rounds a Fraction half to even.
            record[name] = round(Fraction(sum(values), len(values)))
        currents = [r.phase_power_current_l1 or 0 for r in group]
        record["phase_power_current_l1"] = sum(currents) // len(currents)
        minutes.append(record)
    return minutes


def gas_records(processed: Sequence[Reading], *, dsmr4: bool) -> list[dict[str, Any]]:
    """Return per new gas timestamp the value of its first reading, in dm³ and µs."""
    firsts: dict[int, int] = {}
    for r in processed:
        assert r.extra_device_timestamp is not None
        assert r.extra_device_delivered is not None
        firsts.setdefault(us(r.extra_device_timestamp), wh(r.extra_device_delivered))
    gas = []
    previous = None
    for measured, delivered in sorted(firsts.items()):
        gas.append(
            {
                "read_at": measured - (HOUR if dsmr4 else 0),
                "measured": measured,
                "delivered": delivered,
                "currently_delivered": 0 if previous is None else delivered - previous,
            }
        )
        previous = delivered
    return gas


def quarter_peaks(rows: Sequence[Reading]) -> list[dict[str, Any]]:
    ts = [us(r.timestamp) for r in rows]
    peaks = []
    # A quarter with two readings from its start to its end holds one before its end.
    for quarter in sorted({t - t % QUARTER for t in ts}):
        if quarter + QUARTER > ts[-1]:
            break
        low, high = bisect_left(ts, quarter), bisect_right(ts, quarter + QUARTER)
        if high - low >= 2 and ts[high - 1] > ts[low]:
            first, last = rows[low], rows[high - 1]
            used = wh(last.electricity_delivered_1 + last.electricity_delivered_2) - wh(
                first.electricity_delivered_1 + first.electricity_delivered_2
            )
            watts = half_up(Decimal(used * 3_600_000_000) / Decimal(ts[high - 1] - ts[low]), "1")
            peaks.append(
                {
                    "read_at_start": first.timestamp,
                    "read_at_end": last.timestamp,
                    "average_delivered": watts.scaleb(-3),
                }
            )
    return peaks


class Positions:
    """B(t) and G(t) over the expected records, and which hours and days are ready."""

    def __init__(self, minutes: list[dict[str, Any]], gas: list[dict[str, Any]]) -> None:
        self.minutes = minutes
        self.gas = gas
        self.minute_times = [m["read_at"] for m in minutes]
        self.gas_times = [g["measured"] for g in gas]

    @staticmethod
    def boundary(records: list[dict[str, Any]], times: list[int], moment: int) -> dict[str, Any]:
        before = bisect_right(times, moment)
        return records[before - 1] if before else records[0]

    def energy(self, start: int, end: int) -> dict[str, int]:
        low = self.boundary(self.minutes, self.minute_times, start)
        high = self.boundary(self.minutes, self.minute_times, end)
        return {
            "electricity1": high["delivered_1"] - low["delivered_1"],
            "electricity2": high["delivered_2"] - low["delivered_2"],
            "electricity1_returned": high["returned_1"] - low["returned_1"],
            "electricity2_returned": high["returned_2"] - low["returned_2"],
        }

    def gas_used(self, start: int, end: int) -> int:
        high: int = self.boundary(self.gas, self.gas_times, end)["delivered"]
        low: int = self.boundary(self.gas, self.gas_times, start)["delivered"]
        return high - low

    def has_records(self, start: int, end: int) -> bool:
        """Return whether a minute record falls in (start, end], or gas was used in it."""
        times = self.minute_times
        return bisect_right(times, end) > bisect_right(times, start) or bool(
            self.gas_used(start, end)
        )

    def ready(self, end: int) -> bool:
        latest_minute = self.minute_times[-1]
        return latest_minute >= end and bool(
            self.gas_times[-1] >= end or latest_minute >= end + 2 * HOUR
        )


def day_statistics(
    rows: Sequence[Reading],
    positions: Positions,
    day: date,
    contracts: Sequence[EnergySupplierPrice],
) -> dict[str, Any]:
    start, end = local_bounds(day)
    e = {name: Decimal(v).scaleb(-3) for name, v in positions.energy(start, end).items()}
    day_gas = Decimal(positions.gas_used(start, end)).scaleb(-3)
    prices = merged_prices(day, contracts)
    cost1 = half_up(
        e["electricity1"] * prices.electricity_delivered_1_price
        - e["electricity1_returned"] * prices.electricity_returned_1_price
    )
    cost2 = half_up(
        e["electricity2"] * prices.electricity_delivered_2_price
        - e["electricity2_returned"] * prices.electricity_returned_2_price
    )
    gas_cost = half_up(day_gas * prices.gas_price)
    # A day may have records but no readings: a gas position measured at its end.
    first = next((r for r in rows if start <= us(r.timestamp) < end), None)
    # Shown by a reading up to two hours after the day: a gas clock years off shows none.
    first_gas = next(
        (
            r
            for r in rows
            if start <= us(r.timestamp) < end + 2 * HOUR
            and r.extra_device_timestamp is not None
            and start <= us(r.extra_device_timestamp) < end
        ),
        None,
    )
    return {
        "day": day,
        **e,
        "electricity1_cost": cost1,
        "electricity2_cost": cost2,
        "gas": day_gas,
        "gas_cost": gas_cost,
        "lowest_temperature": None,
        "highest_temperature": None,
        "average_temperature": None,
        "fixed_cost": half_up(prices.fixed_daily_cost),
        "total_cost": half_up(cost1 + cost2 + gas_cost + prices.fixed_daily_cost),
        "electricity_reading_timestamp": first and first.timestamp,
        "electricity1_reading": first and first.electricity_delivered_1,
        "electricity2_reading": first and first.electricity_delivered_2,
        "electricity1_returned_reading": first and first.electricity_returned_1,
        "electricity2_returned_reading": first and first.electricity_returned_2,
        "gas_reading_timestamp": first_gas and first_gas.extra_device_timestamp,
        "gas_reading": first_gas and first_gas.extra_device_delivered,
    }


def reference(
    readings: Sequence[Reading],
    *,
    dsmr4: bool,
    contracts: Sequence[EnergySupplierPrice],
    imported: Sequence[DayStatistics] = (),
) -> Expected:
    """Return what processing should have made of these readings, by the documented rules."""
    rows = sorted(readings, key=lambda r: r.timestamp)
    latest = us(rows[-1].timestamp)
    frontier = latest - latest % MINUTE
    processed = [r for r in rows if us(r.timestamp) < frontier]
    minutes = minute_records(processed)
    gas = gas_records(processed, dsmr4=dsmr4)
    positions = Positions(minutes, gas)

    first_minute = us(rows[0].timestamp) - us(rows[0].timestamp) % MINUTE
    # Gas measured before the first reading (a gas clock behind) is used in its own hours.
    first_time = min([first_minute, *positions.gas_times[:1]])
    hours = []
    hour = first_time - first_time % HOUR
    while positions.ready(hour + HOUR):
        if positions.has_records(hour, hour + HOUR):
            energy = positions.energy(hour, hour + HOUR)
            hours.append(
                {"hour_start": at(hour)}
                | {name: scaled(value, 3) for name, value in energy.items()}
                | {"gas": scaled(positions.gas_used(hour, hour + HOUR), 3)}
            )
        hour += HOUR

    imported_days = {day.day: day for day in imported}
    days = []
    day = at(first_time).astimezone(AMSTERDAM).date()
    while positions.ready(local_bounds(day)[1]):
        if day in imported_days:
            days.append(asdict(imported_days[day]))
        elif positions.has_records(*local_bounds(day)):
            days.append(day_statistics(rows, positions, day, contracts))
        day += timedelta(days=1)

    return Expected(
        minutes=[
            {
                "read_at": at(m["read_at"]),
                **{
                    name: scaled(m[name], 3)
                    for name in ("delivered_1", "returned_1", "delivered_2", "returned_2")
                },
                "currently_delivered": scaled(m["currently_delivered"], 3),
                "currently_returned": scaled(m["currently_returned"], 3),
                "phase_currently_delivered_l1": scaled(m["phase_currently_delivered_l1"], 3),
                "phase_voltage_l1": scaled(m["phase_voltage_l1"], 1),
                "phase_power_current_l1": m["phase_power_current_l1"],
            }
            for m in minutes
        ],
        gas=[
            {
                "read_at": at(g["read_at"]),
                "delivered": scaled(g["delivered"], 3),
                "currently_delivered": scaled(g["currently_delivered"], 3),
            }
            for g in gas
        ],
        peaks=quarter_peaks(rows),
        hours=hours,
        days=days,
        unprocessed=[r for r in rows if us(r.timestamp) >= frontier],
    )


# ------------------------------------------------------------------------------------------------
# Reading back.


def everything(store: ReadingStore, record_type: type[Any], meter: str) -> list[dict[str, Any]]:
    """Return all of a meter's records of a type, without ids or empty phases."""
    count, records = store.list_records(record_type, meter, limit=100_000)
    assert count == len(records)
    assert len({record.id for record in records}) == count
    return [
        {
            name: value
            for name, value in asdict(record).items()
            if name != "id" and not (value is None and name.startswith("phase_"))
        }
        for record in records
    ]


def assert_processed(store: ReadingStore, meter: str, expected: Expected) -> None:
    assert everything(store, ElectricityConsumption, meter) == expected.minutes
    assert everything(store, GasConsumption, meter) == expected.gas
    assert everything(store, QuarterHourPeak, meter) == expected.peaks
    assert everything(store, HourStatistics, meter) == expected.hours
    assert everything(store, StoredDayStatistics, meter) == expected.days
    status = store.processing_status(meter)
    assert status.unprocessed_readings == len(expected.unprocessed)
    assert status.oldest_unprocessed == expected.unprocessed[0].timestamp


def submit(store: ReadingStore, meter: str, readings: Sequence[Reading], size: int = 600) -> None:
    for start in range(0, len(readings), size):
        store.writer.submit(meter, readings[start : start + size]).result(timeout=30)


def hour_sums(store: ReadingStore, meter: str, day: date) -> dict[str, Decimal]:
    start, end = local_bounds(day)
    _, hours = store.list_records(
        HourStatistics,
        meter,
        filters=[("hour_start", "gte", at(start)), ("hour_start", "lte", at(end - 1))],
        limit=100,
    )
    return {
        name: sum((getattr(hour, name) for hour in hours), Decimal("0.000"))
        for name in ("electricity1", "electricity2", "electricity1_returned", "gas")
    }


# ------------------------------------------------------------------------------------------------
# Tests.


IMPORTED = DayStatistics(
    day=date(2026, 10, 25),
    electricity1=Decimal("1.000"),
    electricity2=Decimal("2.000"),
    electricity1_returned=Decimal("0.000"),
    electricity2_returned=Decimal("0.500"),
    electricity1_cost=Decimal("0.21"),
    electricity2_cost=Decimal("0.50"),
    total_cost=Decimal("0.71"),
)


def test_stream_across_dst_restart_late_data_and_prices(store_url: str) -> None:
    five = Meter(step=20, gas_minutes=5).run(FIVE_SEGMENTS)
    four = Meter(step=30, gas_minutes=60).run(FOUR_SEGMENTS)
    half = len(five) // 2

    store = ReadingStore.open(store_url, time_zone=AMSTERDAM)
    try:
        store.replace_prices(FIVE, CONTRACTS)
        store.replace_prices(FOUR, CONTRACTS)
        store.update_statistics(FOUR, dsmr_version="42")
        # Posted before its day is processed: processing must leave it as it is.
        stored = store.add_day_statistics(FOUR, IMPORTED)
        assert asdict(stored) == asdict(IMPORTED) | {"id": stored.id}
        submit(store, FIVE, five[:half])
        wait_processed(store)
        assert_processed(store, FIVE, reference(five[:half], dsmr4=False, contracts=CONTRACTS))
    finally:
        # A restart in the middle: the rest must continue from where it stopped.
        store.close()
    store = ReadingStore.open(store_url, time_zone=AMSTERDAM)
    try:
        submit(store, FIVE, five[half:])
        submit(store, FOUR, four, size=250)
        wait_processed(store)
        assert_processed(store, FIVE, reference(five, dsmr4=False, contracts=CONTRACTS))
        expected_four = reference(four, dsmr4=True, contracts=CONTRACTS, imported=[IMPORTED])
        assert_processed(store, FOUR, expected_four)
        # DSMR 4: hourly gas records, an hour before the meter's gas timestamp.
        gas = store.list_records(GasConsumption, FOUR, limit=2)[1]
        assert [g.read_at for g in gas] == [local(2026, 10, 24, 4), local(2026, 10, 24, 5)]
        check_days(store, five)
        check_late_readings(store, five)
        # New prices: every generated day's costs follow, the imported day stays.
        new_prices = (replace(CONTRACTS[0], end=date(2099, 12, 31), gas_price=Decimal("2.5")),)
        store.replace_prices(FOUR, new_prices)
        assert_processed(
            store, FOUR, reference(four, dsmr4=True, contracts=new_prices, imported=[IMPORTED])
        )
    finally:
        store.close()


def check_days(store: ReadingStore, five: Sequence[Reading]) -> None:
    """Check whole local days across DST, known totals, and days with offline hours."""
    # 23 hours in March, 25 in October, all of them with readings.
    for day, n in ((date(2026, 3, 29), 23), (date(2026, 10, 25), 25)):
        start, end = local_bounds(day)
        count, _ = store.list_records(
            HourStatistics,
            FIVE,
            filters=[("hour_start", "gte", at(start)), ("hour_start", "lte", at(end - 1))],
            limit=0,
        )
        assert count == n

    # Known totals: a day is the positions at the last readings before its midnights (a record
    # stamped at midnight holds them), its hours add up to it, its gas cost is its gas's.
    days = {d.day: d for d in store.list_records(StoredDayStatistics, FIVE, limit=100)[1]}
    by_time = {r.timestamp: r for r in five}
    for day in (date(2026, 3, 29), date(2026, 10, 25), date(2026, 10, 26)):
        last_before = [
            by_time[datetime.combine(d, time(), tzinfo=AMSTERDAM) - timedelta(seconds=10)]
            for d in (day, day + timedelta(days=1))
        ]
        delivered = [r.electricity_delivered_1 + r.electricity_delivered_2 for r in last_before]
        statistics = days[day]
        assert statistics.electricity1 + statistics.electricity2 == delivered[1] - delivered[0]
        assert hour_sums(store, FIVE, day) == {
            "electricity1": statistics.electricity1,
            "electricity2": statistics.electricity2,
            "electricity1_returned": statistics.electricity1_returned,
            "gas": statistics.gas,
        }
        assert statistics.gas is not None
        assert statistics.gas_cost == half_up(
            statistics.gas * merged_prices(day, CONTRACTS).gas_price
        )
        # What /consumption/today shows of a past day is its statistics.
        consumption = store.day_consumption(FIVE, day)
        assert consumption is not None
        shown = asdict(consumption)
        merged = ("electricity_merged", "electricity_returned_merged", "prices")
        assert {name: value for name, value in shown.items() if name not in merged} == {
            name: getattr(statistics, name) for name in shown if name not in merged
        }
        assert consumption.electricity_merged == statistics.electricity1 + statistics.electricity2
        assert consumption.electricity_returned_merged == (
            statistics.electricity1_returned + statistics.electricity2_returned
        )
        assert consumption.prices == merged_prices(day, CONTRACTS)

    # Oct 26 had hours offline: those have no statistics, the next hour with records gets what
    # they used.
    hours = store.list_records(
        HourStatistics, FIVE, filters=[("hour_start", "gte", local(2026, 10, 26, 10))], limit=3
    )[1]
    assert [h.hour_start for h in hours] == [
        local(2026, 10, 26, 10),
        local(2026, 10, 26, 12),
        local(2026, 10, 26, 13),
    ]
    assert hours[1].electricity2 == (
        by_time[local(2026, 10, 26, 12, 59, 50)].electricity_delivered_2
        - by_time[local(2026, 10, 26, 10, 9, 50)].electricity_delivered_2
    )


def check_late_readings(store: ReadingStore, five: Sequence[Reading]) -> None:
    """Late readings: into the offline hours (new minutes, gas) and into an hour's last minute."""
    after_gap = next(r for r in five if r.timestamp >= local(2026, 10, 26, 12, 50))
    late_gap = replace(
        after_gap,
        timestamp=local(2026, 10, 26, 11, 30, 5),
        electricity_delivered_2=after_gap.electricity_delivered_2 - Decimal("0.100"),
        extra_device_timestamp=local(2026, 10, 26, 11, 30),
    )
    following = next(r for r in five if r.timestamp == local(2026, 10, 25, 9, 0, 10))
    # Raises the positions of 8:59's record: hour 8 gets what hour 9 had.
    late_end = replace(following, timestamp=local(2026, 10, 25, 8, 59, 55))
    late = [late_end, late_gap, replace(late_gap, timestamp=late_gap.timestamp + US)]
    store.writer.submit(FIVE, late).result(timeout=10)
    wait_processed(store)
    assert_processed(store, FIVE, reference([*five, *late], dsmr4=False, contracts=CONTRACTS))
    hour_8 = store.list_records(
        HourStatistics, FIVE, filters=[("hour_start", "exact", local(2026, 10, 25, 8))]
    )[1]
    before = next(r for r in five if r.timestamp == local(2026, 10, 25, 7, 59, 50))
    assert hour_8[0].electricity2 == (
        following.electricity_delivered_2 - before.electricity_delivered_2
    )
    hour_11 = store.list_records(
        HourStatistics, FIVE, filters=[("hour_start", "exact", local(2026, 10, 26, 11))]
    )[1]
    assert (
        hour_11[0].electricity2
        == late_gap.electricity_delivered_2
        - (
            next(r for r in five if r.timestamp == local(2026, 10, 26, 10, 9, 50))
        ).electricity_delivered_2
    )


def test_minute_averages_and_quarter_hour_peaks_round(store: ReadingStore) -> None:
    def reading(
        moment: datetime, wh: int, watts: int = 0, dv: int = 2300, amps: int = 0
    ) -> Reading:
        return Reading(
            timestamp=moment,
            electricity_delivered_1=Decimal(wh).scaleb(-3),
            electricity_returned_1=Decimal("0.000"),
            electricity_delivered_2=Decimal("2.000"),
            electricity_returned_2=Decimal("0.000"),
            electricity_currently_delivered=Decimal(watts).scaleb(-3),
            electricity_currently_returned=Decimal("0.000"),
            phase_voltage_l1=Decimal(dv).scaleb(-1),
            phase_power_current_l1=amps,
        )

    t0 = datetime(2026, 11, 22, 10, tzinfo=UTC)

    def t(minutes: int, seconds: int = 0) -> datetime:
        return t0 + timedelta(minutes=minutes, seconds=seconds)

    readings = [
        # Averages 1.5 W, 2301.5 dV, 1.5 A, then 2.5 W, 2302.5 dV, 2.5 A.
        reading(t(0), 1000, 1, 2301, 1),
        reading(t(0, 30), 1000, 2, 2302, 2),
        reading(t(1), 1000, 2, 2302, 2),
        reading(t(1, 30), 1000, 3, 2303, 3),
        # 1 Wh in 800 s: 4.5 W, half up to 0.005 kW.
        reading(t(13, 20), 1001),
        # 3 Wh from 10:15:01 to the reading at the quarter's end: 12.0133 W.
        reading(t(15, 1), 1001),
        reading(t(30), 1004),
        # Nothing used.
        reading(t(45), 1004),
        # 1 Wh in 900 s: 4 W. The quarters after have one reading each: no peak.
        reading(t(60), 1005),
        reading(t(80), 1005),
        reading(t(110), 1006),
    ]
    # In two submissions, the second late for the first: the same records as at once.
    store.writer.submit(METER, readings[1::2]).result(timeout=10)
    store.writer.submit(METER, readings[0::2]).result(timeout=10)
    wait_processed(store)

    minutes = store.list_records(ElectricityConsumption, METER, limit=2)[1]
    assert [
        (m.read_at, m.currently_delivered, m.phase_voltage_l1, m.phase_power_current_l1)
        for m in minutes
    ] == [
        (t(1), Decimal("0.002"), Decimal("230.2"), 1),
        (t(2), Decimal("0.002"), Decimal("230.2"), 2),
    ]
    assert store.list_records(ElectricityConsumption, METER, limit=0)[0] == 8
    peaks = store.list_records(QuarterHourPeak, METER)[1]
    assert [(p.read_at_start, p.read_at_end, p.average_delivered) for p in peaks] == [
        (t(0), t(13, 20), Decimal("0.005")),
        (t(15, 1), t(30), Decimal("0.012")),
        (t(30), t(45), Decimal("0.000")),
        (t(45), t(60), Decimal("0.004")),
    ]
    assert store.processing_status(METER) == ProcessingStatus(
        unprocessed_readings=1, oldest_unprocessed=t(110), latest_day=None
    )
    # A reading in the newest minute (DSMR 5's next second) has nothing made ready.
    store.writer.submit(METER, [reading(t(110, 1), 1006)]).result(timeout=10)
    wait_processed(store)
    assert store.processing_status(METER) == ProcessingStatus(
        unprocessed_readings=2, oldest_unprocessed=t(110), latest_day=None
    )
    assert store.list_records(ElectricityConsumption, METER, limit=0)[0] == 8
    # No gas to wait for: hour 10 is made (from its first record, nothing before it), hour 11
    # waits for a record at or after its end.
    hours = store.list_records(HourStatistics, METER)[1]
    assert [(h.hour_start, h.electricity1, h.gas) for h in hours] == [
        (t(0), Decimal("0.004"), Decimal("0.000"))
    ]
    assert store.list_records(GasConsumption, METER) == (0, [])


def test_a_burst_is_processed_once_a_second_at_most(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Commits in quick succession wait for the next run; an idle queue or a wait runs it."""
    # "A second" made an hour: the writer is never idle that long in this test.
    monkeypatch.setattr(writer_module, "PROCESS_EVERY", 3600.0)
    start = datetime(2026, 11, 22, 10, tzinfo=UTC)

    def reading_at(minute: int) -> Reading:
        return Reading(
            timestamp=start + timedelta(minutes=minute),
            electricity_delivered_1=Decimal(1000 + minute).scaleb(-3),
            electricity_returned_1=Decimal("0.000"),
            electricity_delivered_2=Decimal("2.000"),
            electricity_returned_2=Decimal("0.000"),
            electricity_currently_delivered=Decimal("0.060"),
            electricity_currently_returned=Decimal("0.000"),
        )

    store = ReadingStore.open(store_url, time_zone=AMSTERDAM)
    try:
        # The first commit is processed at once: minute 10:00 waits for a later reading.
        store.writer.submit(METER, [reading_at(0)]).result(timeout=10)
        store.writer.run(lambda: None).result(timeout=10)
        assert store.processing_status(METER).unprocessed_readings == 1
        for minute in (1, 2, 3):
            store.writer.submit(METER, [reading_at(minute)]).result(timeout=10)
        # Committed, not processed yet.
        assert store.processing_status(METER).unprocessed_readings == 4
        assert store.list_records(ElectricityConsumption, METER, limit=0)[0] == 0
        wait_processed(store)
        assert store.processing_status(METER).unprocessed_readings == 1
        assert store.list_records(ElectricityConsumption, METER, limit=0)[0] == 3
    finally:
        store.close()


METER = "01JCNFB7Q2W4E6R8T0Y2U4I6O8"
OTHER = "01JCNFC3X5Z7V9B1N3M5K7J9H1"
# Nov 21 21:00 to Nov 22 02:30 local (UTC+1): one whole day's end, hours on both sides.
EVENING = (Segment(local(2026, 11, 21, 21, 0, 10), local(2026, 11, 22, 2, 30)),)


def evening(store: ReadingStore) -> list[Reading]:
    readings = Meter(step=20, gas_minutes=5).run(EVENING)
    submit(store, METER, readings)
    wait_processed(store)
    return readings


def test_list_records_filters_order_pages_and_counts(store: ReadingStore) -> None:
    store.replace_prices(METER, CONTRACTS)
    evening(store)
    minutes = store.list_records(ElectricityConsumption, METER, limit=1000)[1]
    assert len(minutes) == 329
    gas = store.list_records(GasConsumption, METER, limit=1000)[1]
    assert len(gas) == 66
    hour = local(2026, 11, 21, 22)
    bounds: list[datetime | None] = [None] + [
        hour + timedelta(minutes=minutes) + shift
        for minutes in (-61, -60, 0, 1, 60, 61, 180, 400)
        for shift in (-US, timedelta(0))
    ]
    for records, record_type in ((minutes, ElectricityConsumption), (gas, GasConsumption)):
        for low in bounds:
            for high in bounds:
                filters: list[tuple[str, Any, datetime | date]] = []
                if low is not None:
                    filters.append(("read_at", "gte", low))
                if high is not None:
                    filters.append(("read_at", "lte", high))
                count, _ = store.list_records(record_type, METER, filters=filters, limit=0)
                assert count == sum(
                    (low is None or low <= r.read_at) and (high is None or r.read_at <= high)
                    for r in records
                ), (record_type, low, high)
    assert store.list_records(
        ElectricityConsumption, METER, filters=[("read_at", "exact", minutes[5].read_at)]
    ) == (1, [minutes[5]])
    assert store.list_records(
        ElectricityConsumption, METER, ordering=[("read_at", True)], limit=7, offset=3
    ) == (329, minutes[::-1][3:10])
    assert store.list_records(ElectricityConsumption, OTHER) == (0, [])

    peaks = store.list_records(QuarterHourPeak, METER, limit=100)[1]
    assert len(peaks) == 21
    by_power = sorted(peaks, key=lambda p: (p.average_delivered, p.id), reverse=True)
    assert store.list_records(
        QuarterHourPeak, METER, ordering=[("average_delivered", True)], limit=5, offset=2
    ) == (21, by_power[2:7])
    late = [p for p in peaks if p.read_at_start >= local(2026, 11, 22, 1)]
    assert store.list_records(
        QuarterHourPeak, METER, filters=[("read_at_start", "gte", local(2026, 11, 22, 1))]
    ) == (len(late), late)

    days = store.list_records(StoredDayStatistics, METER)[1]
    assert [d.day for d in days] == [date(2026, 11, 21)]
    assert store.list_records(
        StoredDayStatistics, METER, filters=[("day", "exact", date(2026, 11, 21))]
    ) == (1, days)
    assert store.list_records(
        StoredDayStatistics, METER, filters=[("day", "gte", date(2026, 11, 22))]
    ) == (0, [])

    prices = store.list_records(StoredEnergySupplierPrice, METER)[1]
    assert [asdict(p) for p in prices] == [
        asdict(c) | {"id": p.id} for c, p in zip(CONTRACTS, prices, strict=True)
    ]
    assert store.list_records(
        StoredEnergySupplierPrice,
        METER,
        filters=[("end", "lte", date(2026, 12, 31)), ("start", "gte", date(2026, 10, 25))],
        ordering=[("end", True)],
    ) == (1, [prices[2]])
    assert store.list_records(StoredEnergySupplierPrice, METER, ordering=[("end", True)]) == (
        3,
        [prices[1], prices[2], prices[0]],
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"filters": [("day", "gte", date(2026, 1, 1))]}, "no datetime or date field 'day'"),
        ({"filters": [("read_at", "gte", date(2026, 1, 1))]}, "compared with a datetime"),
        ({"filters": [("read_at", "above", datetime(2026, 1, 1, tzinfo=UTC))]}, "operator"),
        ({"ordering": [("meter", False)]}, "no field 'meter' to order by"),
        ({"limit": -1}, "must not be negative"),
    ],
)
def test_list_records_refuses(store: ReadingStore, arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        store.list_records(ElectricityConsumption, METER, **arguments)


def test_list_records_refuses_dates_for_datetimes_and_unlisted_types(store: ReadingStore) -> None:
    with pytest.raises(ValueError, match="compared with a date"):
        store.list_records(
            StoredDayStatistics, METER, filters=[("day", "lte", datetime(2026, 1, 1, tzinfo=UTC))]
        )
    with pytest.raises(ValueError, match="DayStatistics records are not listed"):
        store.list_records(DayStatistics, METER)  # type: ignore[type-var]


def test_latest_prices_day_consumption_and_imported_days(store: ReadingStore) -> None:
    assert store.latest_reading(METER) is None
    assert store.latest_gas(METER) is None
    assert store.day_prices(METER, date(2026, 11, 21)) is None
    store.replace_prices(METER, CONTRACTS)
    readings = evening(store)

    latest = store.latest_reading(METER)
    assert latest is not None
    assert asdict(latest) == asdict(readings[-1]) | {"id": len(readings)}
    gas = store.latest_gas(METER)
    assert gas == store.list_records(GasConsumption, METER, ordering=[("read_at", True)])[1][0]
    assert gas is not None
    assert gas.read_at == local(2026, 11, 22, 2, 25)

    assert store.day_prices(METER, date(2026, 10, 24)) == CONTRACTS[0]
    assert store.day_prices(METER, date(2026, 10, 26)) == EnergySupplierPrice(
        start=date(2026, 10, 26),
        end=date(2026, 10, 26),
        description="Zero priced contract",
        electricity_delivered_1_price=Decimal("0.223456"),
        electricity_delivered_2_price=Decimal("0.261234"),
        gas_price=Decimal("0.000000"),
        electricity_returned_1_price=Decimal("0.081111"),
        electricity_returned_2_price=Decimal("0.092222"),
        fixed_daily_cost=Decimal("0.000000"),
    )

    # Today, up to the latest minute record: 02:29 local.
    today = store.day_consumption(METER, date(2026, 11, 22))
    by_time = {r.timestamp: r for r in readings}
    start, end = by_time[local(2026, 11, 21, 23, 59, 50)], by_time[local(2026, 11, 22, 2, 28, 50)]
    assert today is not None
    assert today.electricity1 == end.electricity_delivered_1 - start.electricity_delivered_1
    assert today.electricity1 == Decimal("1.119")
    assert today.gas == cast_decimal(end.extra_device_delivered) - cast_decimal(
        start.extra_device_delivered
    )
    prices = CONTRACTS[1]
    assert today.electricity1_cost == half_up(
        today.electricity1 * prices.electricity_delivered_1_price
    )
    assert today.total_cost == half_up(
        today.electricity1_cost + today.gas_cost + prices.fixed_daily_cost
    )
    assert today.fixed_cost == Decimal("-0.11")
    assert store.day_consumption(METER, date(2026, 11, 23)) is None
    assert store.day_consumption(OTHER, date(2026, 11, 22)) is None

    generated = store.list_records(StoredDayStatistics, METER)[1][0]
    with pytest.raises(DuplicateDay, match="2026-11-21"):
        store.add_day_statistics(METER, replace(IMPORTED, day=date(2026, 11, 21)))
    assert store.list_records(StoredDayStatistics, METER)[1] == [generated]
    added = store.add_day_statistics(OTHER, replace(IMPORTED, day=date(2026, 11, 21)))
    with pytest.raises(DuplicateDay):
        store.add_day_statistics(OTHER, replace(IMPORTED, day=date(2026, 11, 21)))
    assert store.list_records(StoredDayStatistics, OTHER) == (1, [added])
    assert store.processing_status(OTHER) == ProcessingStatus(
        unprocessed_readings=0, oldest_unprocessed=None, latest_day=date(2026, 11, 21)
    )


def cast_decimal(value: Decimal | None) -> Decimal:
    assert value is not None
    return value


def by_utc_hour(times: Sequence[datetime]) -> dict[int, int]:
    counts: dict[int, int] = defaultdict(int)
    for moment in times:
        counts[us(moment) // HOUR] += 1
    return counts


def test_retention_thins_old_hours_exactly(store: ReadingStore) -> None:
    evening(store)
    readings = store.list_readings(METER, limit=10_000)[1]
    minutes = store.list_records(ElectricityConsumption, METER, limit=1000)[1]
    gas = store.list_records(GasConsumption, METER, limit=1000)[1]
    hours = store.list_records(HourStatistics, METER, limit=100)
    days = store.list_records(StoredDayStatistics, METER)
    older_than = local(2026, 11, 22, 0, 30)

    def thinned(records: Sequence[Any], time: str, max_hours: int) -> tuple[list[Any], int]:
        """Return the records retention keeps, and how many it deletes."""
        counts = by_utc_hour([getattr(r, time) for r in records])
        old = [h for h, n in sorted(counts.items()) if n > 2 and (h + 1) * HOUR <= us(older_than)]
        thin = set(old[:max_hours])
        kept = [
            r
            for i, r in enumerate(records)
            if us(getattr(r, time)) // HOUR not in thin
            or i == 0
            or i == len(records) - 1
            or us(getattr(records[i - 1], time)) // HOUR != us(getattr(r, time)) // HOUR
            or us(getattr(records[i + 1], time)) // HOUR != us(getattr(r, time)) // HOUR
        ]
        return kept, len(records) - len(kept)

    expected = [
        thinned(readings, "timestamp", 2),
        thinned(minutes, "read_at", 2),
        thinned(gas, "read_at", 2),
    ]
    assert store.apply_retention(METER, older_than, max_hours=2) == sum(n for _, n in expected)
    # Minute records of 20:01 to 20:59 UTC, then 21:00 to 21:59.
    assert [n for _, n in expected] == [178 * 2, 57 + 58, 10 * 2]
    assert store.list_readings(METER, limit=10_000) == (len(expected[0][0]), expected[0][0])
    assert store.list_records(ElectricityConsumption, METER, limit=1000) == (
        len(expected[1][0]),
        expected[1][0],
    )
    assert store.list_records(GasConsumption, METER, limit=1000) == (
        len(expected[2][0]),
        expected[2][0],
    )
    # Counts from whole hours stay exact.
    for moment in (local(2026, 11, 21, 22), local(2026, 11, 21, 22, 30)):
        for record_type, records in (
            (ElectricityConsumption, expected[1][0]),
            (GasConsumption, expected[2][0]),
        ):
            assert store.list_records(
                record_type, METER, filters=[("read_at", "gte", moment)], limit=0
            )[0] == sum(r.read_at >= moment for r in records)
        assert store.list_readings(METER, timestamp_gte=moment, limit=0)[0] == sum(
            r.timestamp >= moment for r in expected[0][0]
        )

    # The rest of the old hours, then nothing left to do; statistics stay.
    rest = [
        thinned(expected[0][0], "timestamp", 24),
        thinned(expected[1][0], "read_at", 24),
        thinned(expected[2][0], "read_at", 24),
    ]
    assert store.apply_retention(METER, older_than) == sum(n for _, n in rest)
    assert [n for _, n in rest] == [178, 58, 10]
    assert store.apply_retention(METER, older_than) == 0
    assert store.list_records(HourStatistics, METER, limit=100) == hours
    assert store.list_records(StoredDayStatistics, METER) == days
    assert store.apply_retention(OTHER, older_than) == 0


def test_retention_leaves_what_processing_still_needs(store: ReadingStore) -> None:
    readings = evening(store)
    hours = store.list_records(HourStatistics, METER, limit=100)[1]
    store.apply_retention(METER, local(2026, 12, 1), max_hours=100)
    # The hour statistics end at 02:00 local: later records and readings stay whole.
    assert hours[-1].hour_start == local(2026, 11, 22, 1)
    since = local(2026, 11, 22, 2)
    assert store.list_readings(METER, timestamp_gte=since, limit=0)[0] == sum(
        r.timestamp >= since for r in readings
    )
    assert store.list_records(
        ElectricityConsumption, METER, filters=[("read_at", "gte", since)], limit=0
    ) == (30, [])


@pytest.mark.allow_log(r"^Processing the readings of meter .* failed$")
def test_failed_processing_loses_nothing_and_is_retried(
    store: ReadingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    readings = Meter(step=20, gas_minutes=5).run(EVENING)[:400]
    submit(store, METER, readings[:300])
    wait_processed(store)
    expected = reference(readings[:300], dsmr4=False, contracts=())
    assert everything(store, ElectricityConsumption, METER) == expected.minutes

    def fail(*_: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(Run, "process", fail)
    # A late reading raising an old minute's position, and new ones: all stored at once.
    late = replace(
        readings[8],
        timestamp=readings[8].timestamp + timedelta(seconds=5),
        electricity_delivered_2=readings[9].electricity_delivered_2,
    )
    ids = store.writer.submit(METER, [late, *readings[300:350]]).result(timeout=10)
    assert len(ids) == 51
    wait_processed(store)
    assert everything(store, ElectricityConsumption, METER) == expected.minutes
    assert store.processing_status(METER).unprocessed_readings == 51 - 1 + len(expected.unprocessed)

    monkeypatch.undo()
    submit(store, METER, readings[350:])
    wait_processed(store)
    expected = reference([*readings, late], dsmr4=False, contracts=())
    assert everything(store, ElectricityConsumption, METER) == expected.minutes
    assert everything(store, HourStatistics, METER) == expected.hours


def test_readings_stored_before_processing_are_processed(store_url: str) -> None:
    readings = Meter(step=20, gas_minutes=5).run(EVENING)
    # Version 2: the readings, nothing processed (nor captures, version 4).
    database_at_version(store_url, 2, [reading_to_row(METER, r) for r in readings])

    store = ReadingStore.open(store_url, time_zone=AMSTERDAM)
    try:
        wait_processed(store)
        assert_processed(store, METER, reference(readings, dsmr4=False, contracts=()))
    finally:
        store.close()


def test_hours_wait_two_hours_for_gas_and_take_it_when_it_comes(store: ReadingStore) -> None:
    t0 = datetime(2026, 11, 22, 10, tzinfo=UTC)

    def reading(seconds: int, gas_hour: int, gas_dm3: int) -> Reading:
        return Reading(
            timestamp=t0 + timedelta(seconds=seconds),
            electricity_delivered_1=Decimal(seconds // 30).scaleb(-3),
            electricity_returned_1=Decimal("0.000"),
            electricity_delivered_2=Decimal("0.000"),
            electricity_returned_2=Decimal("0.000"),
            electricity_currently_delivered=Decimal("0.120"),
            electricity_currently_returned=Decimal("0.000"),
            extra_device_timestamp=t0 + timedelta(hours=gas_hour),
            extra_device_delivered=Decimal(100_000 + gas_dm3).scaleb(-3),
        )

    def hours() -> list[tuple[datetime, Decimal, Decimal]]:
        found = store.list_records(HourStatistics, METER)[1]
        return [(h.hour_start, h.electricity1, h.gas) for h in found]

    # The gas position stays at 10:00's until 13:30.
    submit(store, METER, [reading(s, 0, 0) for s in range(0, 3 * 3600 + 1800, 30)])
    wait_processed(store)
    # Hour 10 waited for minute records until 12:00 + 2 h; hour 11 waits still.
    assert hours() == [(t0, Decimal("0.118"), Decimal("0.000"))]
    # 11:00's gas comes late: hour 10 ends with it.
    submit(store, METER, [reading(s, 1, 5) for s in range(12600, 14700, 30)])
    wait_processed(store)
    assert hours() == [
        (t0, Decimal("0.118"), Decimal("0.005")),
        (t0 + timedelta(hours=1), Decimal("0.120"), Decimal("0.000")),
    ]


def test_readings_deleted_behind_its_back_leave_nothing_to_process(store_url: str) -> None:
    store = ReadingStore.open(store_url)
    store.writer.submit(METER, Meter(step=20, gas_minutes=5).run(EVENING)[:10]).result(10)
    store.close()
    with database(store_url) as connection:
        connection.execute(text("DELETE FROM dsmr_reading"))

    store = ReadingStore.open(store_url)
    try:
        wait_processed(store)
        assert store.processing_status(METER) == ProcessingStatus(
            unprocessed_readings=0, oldest_unprocessed=None, latest_day=None
        )
    finally:
        store.close()


def test_days_made_before_the_first_gas_record_get_gas(store: ReadingStore) -> None:
    """A gas meter added later: the days made before have 0 gas once the meter has gas records,
    as when all readings are processed at once."""
    readings = Meter(step=60, gas_minutes=5).run(
        [Segment(local(2026, 11, 19, 12), local(2026, 11, 22, 2))]
    )
    added = next(i for i, r in enumerate(readings) if r.timestamp >= local(2026, 11, 21, 18))
    without_gas = [
        replace(r, extra_device_timestamp=None, extra_device_delivered=None)
        for r in readings[:added]
    ]
    submit(store, OTHER, [*without_gas, *readings[added:]])
    wait_processed(store)
    submit(store, METER, without_gas)
    wait_processed(store)
    made = store.list_records(StoredDayStatistics, METER)[1]
    assert [(day.day, day.gas, day.gas_cost) for day in made] == [
        (date(2026, 11, 19), None, None),
        (date(2026, 11, 20), None, None),
    ]
    submit(store, METER, readings[added:])
    wait_processed(store)
    days = store.list_records(StoredDayStatistics, METER)[1]
    assert [(day.day, day.gas, day.gas_cost) for day in days] == [
        (date(2026, 11, 19), Decimal("0.000"), Decimal("0.00")),
        (date(2026, 11, 20), Decimal("0.000"), Decimal("0.00")),
        # From the first gas record, 18:00, to 22:00: 47 five-minute steps of 3 dm³.
        (date(2026, 11, 21), Decimal("0.141"), Decimal("0.00")),
    ]
    assert [replace(day, id=0) for day in days] == [
        replace(day, id=0) for day in store.list_records(StoredDayStatistics, OTHER)[1]
    ]
