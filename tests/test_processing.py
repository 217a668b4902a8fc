"""Processing readings into DSMR-reader's records, on a SQLite file and a real PostgreSQL server.

The expected records come from a plain reference model of the rules in processing.py's
docstring, computed here from the generated readings, and from totals the generator knows.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

import pytest
from sqlalchemy import text
from zoneinfo import ZoneInfo

from custom_components.smartmeter.store import (
    DayConsumption,
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
    StoredReading,
)
from tests.test_store import database

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


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMSTERDAM)  # type: ignore[misc]


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


def reference(
    readings: Sequence[Reading],
    *,
    dsmr4: bool,
    contracts: Sequence[EnergySupplierPrice],
    imported: Sequence[DayStatistics] = (),
) -> Expected:
    """Return what processing should have made of these readings, by the documented rules."""
    rows = sorted(readings, key=lambda r: r.timestamp)
    ts = [us(r.timestamp) for r in rows]
    frontier = max(ts) - max(ts) % MINUTE
    processed = [(t, r) for t, r in zip(ts, rows, strict=True) if t < frontier]

    def wh(value: Decimal) -> int:
        return int(value.scaleb(3))

    # Minute records, in integers: Wh, W, dV, A.
    by_minute: dict[int, list[Reading]] = defaultdict(list)
    for t, r in processed:
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

    # Gas records: per new gas timestamp, the value of its first reading.
    firsts: dict[int, int] = {}
    for _, r in processed:
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

    # Quarter-hour peaks.
    peaks = []
    quarter = ts[0] - ts[0] % QUARTER
    while quarter + QUARTER <= max(ts):
        low, high = bisect_left(ts, quarter), bisect_right(ts, quarter + QUARTER)
        if high - low >= 2 and ts[high - 1] > ts[low]:
            (t1, r1), (t2, r2) = (ts[low], rows[low]), (ts[high - 1], rows[high - 1])
            used = wh(r2.electricity_delivered_1 + r2.electricity_delivered_2) - wh(
                r1.electricity_delivered_1 + r1.electricity_delivered_2
            )
            watts = half_up(Decimal(used * 3_600_000_000) / Decimal(t2 - t1), "1")
            peaks.append({"read_at_start": t1, "read_at_end": t2, "average_delivered": watts})
        quarter += QUARTER

    minute_times = [m["read_at"] for m in minutes]
    gas_times = [g["measured"] for g in gas]

    def boundary(records: list[dict[str, Any]], times: list[int], moment: int) -> dict[str, Any]:
        before = bisect_right(times, moment)
        return records[before - 1] if before else records[0]

    def energy(start: int, end: int) -> dict[str, int]:
        low, high = boundary(minutes, minute_times, start), boundary(minutes, minute_times, end)
        return {
            "electricity1": high["delivered_1"] - low["delivered_1"],
            "electricity2": high["delivered_2"] - low["delivered_2"],
            "electricity1_returned": high["returned_1"] - low["returned_1"],
            "electricity2_returned": high["returned_2"] - low["returned_2"],
        }

    def gas_used(start: int, end: int) -> int:
        return (
            boundary(gas, gas_times, end)["delivered"]
            - boundary(gas, gas_times, start)["delivered"]
        )

    def has_records(start: int, end: int) -> bool:
        return any(
            bisect_right(times, end) > bisect_right(times, start)
            for times in (minute_times, gas_times)
        )

    latest_minute = minutes[-1]["read_at"]
    latest_gas = gas[-1]["measured"]

    def ready(end: int) -> bool:
        return latest_minute >= end and (latest_gas >= end or latest_minute >= end + 2 * HOUR)

    first_minute = ts[0] - ts[0] % MINUTE
    hours = []
    hour = first_minute - first_minute % HOUR
    while ready(hour + HOUR):
        if has_records(hour, hour + HOUR):
            e = energy(hour, hour + HOUR)
            hours.append({"hour_start": hour, **e, "gas": gas_used(hour, hour + HOUR)})
        hour += HOUR

    imported_days = {day.day: day for day in imported}
    days = []
    day = at(first_minute).astimezone(AMSTERDAM).date()
    while ready(local_bounds(day)[1]):
        start, end = local_bounds(day)
        if day in imported_days:
            days.append(asdict(imported_days[day]))
        elif has_records(start, end):
            e = {name: Decimal(v).scaleb(-3) for name, v in energy(start, end).items()}
            day_gas = Decimal(gas_used(start, end)).scaleb(-3)
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
            first = next((r for t, r in zip(ts, rows, strict=True) if start <= t < end), None)
            first_gas = next(
                (
                    r
                    for t, r in zip(ts, rows, strict=True)
                    if t >= start
                    and r.extra_device_timestamp is not None
                    and start <= us(r.extra_device_timestamp) < end
                ),
                None,
            )
            days.append(
                {
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
            )
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
        peaks=[
            {
                "read_at_start": at(p["read_at_start"]),
                "read_at_end": at(p["read_at_end"]),
                "average_delivered": p["average_delivered"].scaleb(-3),
            }
            for p in peaks
        ],
        hours=[
            {"hour_start": at(h.pop("hour_start"))} | {k: scaled(v, 3) for k, v in h.items()}
            for h in hours
        ],
        days=days,
        unprocessed=[r for t, r in zip(ts, rows, strict=True) if t >= frontier],
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


def test_stream_across_dst_restart_late_data_and_prices(store_url: str) -> None:
    five = Meter(step=20, gas_minutes=5).run(FIVE_SEGMENTS)
    four = Meter(step=30, gas_minutes=60).run(FOUR_SEGMENTS)
    # Posted before its day is processed: processing must leave it as it is.
    imported = DayStatistics(
        day=date(2026, 10, 25),
        electricity1=Decimal("1.000"),
        electricity2=Decimal("2.000"),
        electricity1_returned=Decimal("0.000"),
        electricity2_returned=Decimal("0.500"),
        electricity1_cost=Decimal("0.21"),
        electricity2_cost=Decimal("0.50"),
        total_cost=Decimal("0.71"),
    )
    half = len(five) // 2

    store = ReadingStore.open(store_url, time_zone=AMSTERDAM)
    try:
        store.replace_prices(FIVE, CONTRACTS)
        store.replace_prices(FOUR, CONTRACTS)
        store.update_statistics(FOUR, dsmr_version="42")
        stored = store.add_day_statistics(FOUR, imported)
        assert asdict(stored) == asdict(imported) | {"id": stored.id}
        submit(store, FIVE, five[:half])
        store.wait_processed()
        assert_processed(store, FIVE, reference(five[:half], dsmr4=False, contracts=CONTRACTS))
    finally:
        # A restart in the middle: the rest must continue from where it stopped.
        store.close()
    store = ReadingStore.open(store_url, time_zone=AMSTERDAM)
    try:
        submit(store, FIVE, five[half:])
        submit(store, FOUR, four, size=250)
        store.wait_processed()
        assert_processed(store, FIVE, reference(five, dsmr4=False, contracts=CONTRACTS))
        expected_four = reference(four, dsmr4=True, contracts=CONTRACTS, imported=[imported])
        assert_processed(store, FOUR, expected_four)

        # DSMR 4: hourly gas records, an hour before the meter's gas timestamp.
        gas = store.list_records(GasConsumption, FOUR, limit=2)[1]
        assert [g.read_at for g in gas] == [local(2026, 10, 24, 4), local(2026, 10, 24, 5)]

        # Whole local days: 23 hours in March, 25 in October, all of them with readings.
        for day, n in ((date(2026, 3, 29), 23), (date(2026, 10, 25), 25)):
            start, end = local_bounds(day)
            count, _ = store.list_records(
                HourStatistics,
                FIVE,
                filters=[("hour_start", "gte", at(start)), ("hour_start", "lte", at(end - 1))],
                limit=0,
            )
            assert count == n

        # Known totals: a day is the positions at the last readings before its midnights
        # (a record stamped at midnight holds them), and its hours add up to it.
        days = {d.day: d for d in store.list_records(StoredDayStatistics, FIVE, limit=100)[1]}
        by_time = {r.timestamp: r for r in five}
        for day in (date(2026, 3, 29), date(2026, 10, 25)):
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
            # Gas cost agrees with gas.
            assert statistics.gas_cost == half_up(
                cast_decimal(statistics.gas) * merged_prices(day, CONTRACTS).gas_price
            )
        # Oct 26 had two hours offline: those hours have no statistics, the next hour with
        # records gets what they used, and the day still adds up.
        start = us(local(2026, 10, 26, 11))
        hours = store.list_records(
            HourStatistics, FIVE, filters=[("hour_start", "gte", at(start))], limit=2
        )[1]
        assert [h.hour_start for h in hours] == [local(2026, 10, 26, 12), local(2026, 10, 26, 13)]
        assert hours[0].electricity2 > hours[1].electricity2
        assert hour_sums(store, FIVE, date(2026, 10, 26))["electricity2"] == (
            days[date(2026, 10, 26)].electricity2
        )

        # Late readings: one into the offline hours (a new minute), one at the end of an hour
        # raising its last minute's positions, with a gas position the meter had then.
        after_gap = next(r for r in five if r.timestamp >= local(2026, 10, 26, 12, 50))
        late_gap = replace(
            after_gap,
            timestamp=local(2026, 10, 26, 11, 30, 5),
            electricity_delivered_2=after_gap.electricity_delivered_2 - Decimal("0.100"),
            extra_device_timestamp=local(2026, 10, 26, 11, 30),
        )
        following = next(r for r in five if r.timestamp == local(2026, 10, 25, 9, 0, 10))
        late_end = replace(following, timestamp=local(2026, 10, 25, 8, 59, 55))
        late = [late_end, late_gap, replace(late_gap, timestamp=late_gap.timestamp + US)]
        store.writer.submit(FIVE, late).result(timeout=10)
        store.wait_processed()
        assert_processed(store, FIVE, reference([*five, *late], dsmr4=False, contracts=CONTRACTS))
        hour_8 = store.list_records(
            HourStatistics, FIVE, filters=[("hour_start", "exact", local(2026, 10, 25, 8))]
        )[1][0]
        assert hour_8.electricity2 == (
            following.electricity_delivered_2
            - next(
                r for r in five if r.timestamp == local(2026, 10, 25, 7, 59, 50)
            ).electricity_delivered_2
        )

        # New prices: every generated day's costs follow, the imported day stays.
        new_prices = (replace(CONTRACTS[0], end=date(2099, 12, 31), gas_price=Decimal("2.5")),)
        store.replace_prices(FOUR, new_prices)
        assert_processed(
            store, FOUR, reference(four, dsmr4=True, contracts=new_prices, imported=[imported])
        )
    finally:
        store.close()


def cast_decimal(value: Decimal | None) -> Decimal:
    assert value is not None
    return value
