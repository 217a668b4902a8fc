"""Hourly energy, gas and costs from the reading store (longterm/), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, timedelta
from decimal import Decimal
from unittest.mock import patch
from zoneinfo import ZoneInfo

import pytest

from custom_components.smartmeter.longterm import (
    CAPTURE_SERIES,
    ELECTRICITY,
    Accumulator,
    CaptureHour,
    Gas,
    HourEnergy,
    Replacement,
    affected_from,
    capture_chunk_end,
    capture_history,
    capture_hour_before,
    capture_hours,
    captures as captures_module,
    chunk_end,
    compute,
    compute_captures,
    exact_sum,
    history,
    hour_before,
    hourly_energy,
    hours as hours_module,
    series_for,
)
from custom_components.smartmeter.longterm.series import ENERGY_COST_SERIES, GAS, GAS_COST
from custom_components.smartmeter.statistic_metadata import statistic_object_id
from custom_components.smartmeter.store import (
    EnergySupplierPrice,
    ReadingStore,
    writer as writer_module,
)
from custom_components.smartmeter.store.model import (
    Capture,
    CaptureKind,
    Reading,
    datetime_to_us,
)
from tests.common import wait_processed
from tests.streams import START, reading, stream

METER = "E0012345678901234"
HOUR = 3_600_000_000
T0 = datetime_to_us(START)


@pytest.fixture
def store(store_url: str) -> Iterator[ReadingStore]:
    store = ReadingStore.open(store_url)
    yield store
    store.close()


def add(store: ReadingStore, readings: list[Reading], meter: str = METER) -> None:
    store.writer.submit(meter, readings).result()


def hours(store: ReadingStore, start: int, stop: int | None = None) -> list[HourEnergy]:
    with store.read() as connection:
        return list(hourly_energy(connection, METER, start, stop))


def test_the_same_hours_whatever_the_range(store: ReadingStore) -> None:
    """Hours computed in pieces equal those computed at once, gaps and all."""
    minutes = [m for m in range(30 * 60 + 1) if not 7 * 60 < m < 10 * 60 + 17]
    add(store, stream(minutes))
    with store.read() as connection:
        first, end = history(connection, METER) or (0, 0)
    assert (first, end) == (T0 - HOUR, T0 + 31 * HOUR)
    whole = hours(store, first)
    assert whole == hours(store, first, end)
    # Hour 7 holds the reading of 07:00, hour 9 ends where the readings resume: both get 0.
    assert [hour.start for hour in whole] == [
        T0 + hour * HOUR for hour in (-1, *range(8), *range(9, 31))
    ]
    for cut in range(first, end, HOUR):
        assert hours(store, first, cut) + hours(store, cut) == whole, cut
    # The energy of the gap is in the hour that ends with the first reading after it.
    assert sum(hour.electricity[0] + hour.electricity[1] for hour in whole) == sum(
        (60 * (1 + (hour * 7) % 5) for hour in range(30)), 0
    )


def test_history_and_the_hour_before(store: ReadingStore) -> None:
    with store.read() as connection:
        assert history(connection, METER) is None
        assert hour_before(connection, METER, T0) is None
    # Readings in hours 0 and 3; the one of 05:00 exactly ends hour 4.
    add(store, stream([10, 20, 190, 300]))
    with store.read() as connection:
        assert history(connection, METER) == (T0 - HOUR, T0 + 6 * HOUR)
        assert hour_before(connection, METER, T0) is None
        assert hour_before(connection, METER, T0 + HOUR) == T0
        # Hour 1 has no row; hour 2 ends where readings resume, so it has one (of 0).
        assert hour_before(connection, METER, T0 + 3 * HOUR) == T0 + 2 * HOUR
        assert hour_before(connection, METER, T0 + 4 * HOUR) == T0 + 3 * HOUR
        assert hour_before(connection, METER, T0 + 5 * HOUR) == T0 + 4 * HOUR
        assert hour_before(connection, METER, T0 + 9 * HOUR) == T0 + 5 * HOUR
    assert [hour.start for hour in hours(store, T0 - HOUR)] == [
        T0 + hour * HOUR for hour in (0, 2, 3, 4, 5)
    ]


def test_affected_from() -> None:
    # Two hours of gas window, and the hour a boundary ends.
    assert affected_from(T0) == T0 - 4 * HOUR
    assert affected_from(T0 + 1) == T0 - 3 * HOUR


def test_dsmr4_gas_captured_on_the_hour_and_shown_later(store: ReadingStore) -> None:
    """Every 10 s; the hourly capture shows from 3 minutes past the hour."""
    readings = []
    for second in range(0, 4 * 3600 + 1, 10):
        shown = (second - 180) // 3600
        readings.append(
            reading(
                START + timedelta(seconds=second),
                [second, 0, 0, 0],
                (START + timedelta(hours=shown), 50_000 + 1000 * shown + shown * shown),
            )
        )
    add(store, readings)
    found = hours(store, T0 - HOUR)
    assert [(hour.start, hour.gas) for hour in found] == [
        (T0 - HOUR, 999),
        (T0, 1001),
        (T0 + HOUR, 1003),
        (T0 + 2 * HOUR, 1005),
        # 04:00's capture is not shown yet.
        (T0 + 3 * HOUR, 0),
        (T0 + 4 * HOUR, 0),
    ]
    assert found[2].end_gas == Gas(T0 + 2 * HOUR, 52_004)
    assert [hour.electricity[0] for hour in found] == [0, 3600, 3600, 3600, 3600, 0]


def test_a_drop_is_a_replacement(store: ReadingStore) -> None:
    """Only the rises count; the new meter's first positions are not consumption."""
    add(
        store,
        [
            reading(START + timedelta(minutes=10), [5000, 7000, 100, 0]),
            reading(START + timedelta(minutes=20), [5010, 7000, 100, 0]),
            reading(START + timedelta(minutes=40), [3, 2, 0, 0]),
            reading(START + timedelta(minutes=50), [8, 2, 4, 0]),
            reading(START + timedelta(minutes=70), [9, 2, 4, 0]),
        ],
    )
    found = hours(store, T0 - HOUR)
    assert [(hour.start, hour.electricity, hour.end_electricity) for hour in found] == [
        (T0, (15, 0, 4, 0), (8, 2, 4, 0)),
        (T0 + HOUR, (1, 0, 0, 0), (9, 2, 4, 0)),
    ]
    assert found[0].replacements == (Replacement("electricity", T0 + 40 * 60_000_000, 12_010, 5),)
    assert found[0].gas is None


def test_readings_of_other_meters_do_not_count(store: ReadingStore) -> None:
    add(store, stream(range(0, 121, 30)))
    add(store, [reading(START + timedelta(minutes=45), [1, 1, 1, 1])], meter="other")
    assert [hour.electricity[0] for hour in hours(store, T0 - HOUR)] == [0, 60, 0, 0]


def test_the_writer_tells_listeners_the_earliest_time_per_meter(store: ReadingStore) -> None:
    told: list[Mapping[str, int]] = []

    def failing(_earliest: Mapping[str, int]) -> None:
        raise RuntimeError("a listener's own failure")

    remove = store.writer.add_listener(told.append)
    remove_failing = store.writer.add_listener(failing)
    late_gas = reading(
        START + timedelta(minutes=30), [1, 2, 3, 4], (START + timedelta(minutes=25), 1000)
    )
    with patch.object(writer_module._LOGGER, "exception") as log:
        first = store.writer.submit(METER, [reading(START + timedelta(hours=2), [1, 2, 3, 4])])
        second = store.writer.submit(METER, [late_gas])
        other = store.writer.submit("other", [reading(START, [1, 2, 3, 4])])
        for future in (first, second, other):
            future.result()
        wait_processed(store)
    merged: dict[str, int] = {}
    for earliest in told:
        for meter, time_us in earliest.items():
            merged[meter] = min(time_us, merged.get(meter, time_us))
    # Not the gas capture time: affected_from's gas window before the reading covers what a
    # capture may change, and a capture dated years back (a gas meter that stopped reporting)
    # would make every commit recompute years.
    assert merged == {METER: T0 + 30 * 60_000_000, "other": T0}
    assert affected_from(T0 + 30 * 60_000_000) < T0 + 25 * 60_000_000 - HOUR
    log.assert_called_with("A listener of committed readings failed")
    remove()
    remove_failing()
    told.clear()
    add(store, [reading(START + timedelta(hours=3), [1, 2, 3, 4])])
    wait_processed(store)
    assert told == []


AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def hour_energy(start: int, electricity: tuple[int, int, int, int], gas: int | None) -> HourEnergy:
    return HourEnergy(
        start=start,
        electricity=electricity,
        end_electricity=(1000, 2000, 300, 400),
        gas=gas,
        end_gas=None if gas is None else Gas(start, 5000),
    )


def test_costs_of_overlapping_contracts_merge_as_dsmr_reader_does() -> None:
    """Two contracts on one day: each price is the one non-zero among them, else 0."""
    contracts = [
        EnergySupplierPrice(
            start=date(2026, 1, 1),
            end=date(2026, 1, 10),
            electricity_delivered_1_price=Decimal("0.211111"),
            gas_price=Decimal("1.100000"),
        ),
        EnergySupplierPrice(
            start=date(2026, 1, 10),
            end=date(2026, 1, 31),
            electricity_delivered_2_price=Decimal("0.250000"),
            electricity_returned_1_price=Decimal("0.070000"),
            gas_price=Decimal("1.200000"),
        ),
    ]
    accumulator = Accumulator(contracts, AMSTERDAM, {"energy_delivered_1_cost": 5})
    # Local 9 January: the first contract alone.
    first = dict(accumulator.add(hour_energy(T0 + 96 * HOUR, (1234, 100, 10, 1), 7)))
    # Local 10 January (from 23:00 UTC on the 9th): both, and two gas prices make 0.
    second = dict(accumulator.add(hour_energy(T0 + 119 * HOUR, (1000, 100, 10, 1), 7)))
    by_key = {series.key: row for series, row in first.items()}
    assert by_key["energy_delivered_1_cost"].sum == (5 + 1234 * 211_111) / 1e9
    assert by_key["energy_delivered_2_cost"].sum == 0.0
    assert by_key["gas_cost"].sum == 7 * 1_100_000 / 1e9
    assert by_key["energy_delivered_1"].state == 1.0
    assert by_key["energy_delivered"].state == 3.0
    assert by_key["gas"].state == 5.0
    by_key = {series.key: row for series, row in second.items()}
    assert by_key["energy_delivered_1_cost"].sum == (5 + 1234 * 211_111 + 1000 * 211_111) / 1e9
    assert by_key["energy_delivered_2_cost"].sum == 100 * 250_000 / 1e9
    assert by_key["energy_returned_1_compensation"].sum == 10 * 70_000 / 1e9
    assert by_key["gas_cost"].sum == 7 * 1_100_000 / 1e9
    assert accumulator.sums()["energy_delivered"] == 1334 + 1100
    assert set(first) == set(series_for(gas=True, costs=True))
    # Outside every contract, costs are 0.
    later = dict(accumulator.add(hour_energy(T0 + 2000 * HOUR, (1000, 0, 0, 0), None)))
    assert GAS not in later
    assert GAS_COST not in later
    assert {series.key: row.sum for series, row in later.items() if series.kind == "money"} == {
        series.key: accumulator.sums()[series.key] / 1e9 for series in ENERGY_COST_SERIES
    }


def test_sums_read_back_are_exact() -> None:
    (series, *_) = series_for(gas=False, costs=False)
    assert exact_sum(series, 123456.789) == 123_456_789
    assert exact_sum(GAS_COST, 1234.567891234) == 1_234_567_891_234


def test_compute_collects_rows_and_replacements(store: ReadingStore) -> None:
    add(
        store,
        [
            reading(START, [5000, 0, 0, 0]),
            reading(START + timedelta(minutes=30), [1, 0, 0, 0]),
            reading(START + timedelta(minutes=90), [11, 0, 0, 0]),
        ],
    )
    accumulator = Accumulator([], UTC)
    with store.read() as connection:
        computed = compute(connection, METER, accumulator, T0 - HOUR)
    assert [row.sum for row in computed.rows[series_for(gas=False, costs=False)[0]]] == [
        0.0,
        0.0,
        0.01,
    ]
    assert [replacement.at for replacement in computed.replacements] == [T0 + 1_800_000_000]
    assert len(ELECTRICITY) == 4


def test_statistic_object_id() -> None:
    assert statistic_object_id("4B384547303034303436333935353037") == (
        "4b384547303034303436333935353037"
    )
    assert statistic_object_id("127.0.0.1:2001") == "127_0_0_1_2001"
    assert statistic_object_id("_x__Y-é_") == "x_y"
    assert statistic_object_id("---") == "meter"


def test_an_hour_start_is_required(store: ReadingStore) -> None:
    with store.read() as connection, pytest.raises(ValueError, match="start of an hour"):
        list(hourly_energy(connection, METER, T0 + 1))


def capture(kind: CaptureKind, channel: int, minutes: int, value: str) -> Capture:
    return Capture(
        channel=channel,
        kind=kind,
        captured=START + timedelta(minutes=minutes),
        value=Decimal(value),
    )


# Water on channel 2 until the meter is replaced at 03:25, then on channel 3 from 03:40; a heat
# meter on channel 1 throughout. Billionths of m³ or GJ.
M3 = 1_000_000_000
CAPTURES = [
    capture("water", 2, 0, "100.000"),
    capture("heat", 1, 0, "240.860"),
    capture("water", 2, 30, "100.010"),
    # On the hour: the end of hour 0.
    capture("water", 2, 60, "100.030"),
    capture("heat", 1, 60, "240.866"),
    capture("water", 2, 65, "100.031"),
    # Nothing for two hours, then a new meter (a drop) that moves to channel 3.
    capture("water", 2, 200, "100.100"),
    capture("water", 2, 205, "5.000"),
    capture("water", 2, 210, "5.004"),
    capture("water", 3, 220, "50.000"),
    capture("water", 3, 240, "50.002"),
]


def capture_hours_of(
    store: ReadingStore, kind: CaptureKind, start: int, stop: int | None = None
) -> list[CaptureHour]:
    with store.read() as connection:
        return list(capture_hours(connection, METER, kind, start, stop))


def test_water_and_heat_hours_from_captures(store: ReadingStore) -> None:
    """Each hour gets what its captures add per channel; a drop is a replaced meter."""
    store.writer.submit(METER, [], captures=CAPTURES).result()
    store.writer.submit("other", [], captures=[capture("water", 2, 90, "999.000")]).result()
    with store.read() as connection:
        assert capture_history(connection, METER, "water") == (T0 - HOUR, T0 + 4 * HOUR)
        assert capture_history(connection, METER, "heat") == (T0 - HOUR, T0 + HOUR)
        assert capture_history(connection, "nobody", "heat") is None
        assert capture_hour_before(connection, METER, "water", T0 + 3 * HOUR) == T0 + HOUR
        assert capture_hour_before(connection, METER, "water", T0) == T0 - HOUR
        assert capture_hour_before(connection, METER, "water", T0 - HOUR) is None
    whole = capture_hours_of(store, "water", T0 - HOUR)
    assert whole == [
        # The first capture counts from itself.
        CaptureHour(T0 - HOUR, 0, 100 * M3),
        CaptureHour(T0, 30_000_000, 100_030_000_000),
        CaptureHour(T0 + HOUR, 1_000_000, 100_031_000_000),
        # 69 l to the old meter's last position, 4 l on the new one, 2 l on channel 3, which
        # counts from its first capture.
        CaptureHour(
            T0 + 3 * HOUR,
            75_000_000,
            50_002_000_000,
            (Replacement("water", T0 + 205 * 60_000_000, 100_100_000_000, 5 * M3),),
        ),
    ]
    for cut in range(T0 - HOUR, T0 + 5 * HOUR, HOUR):
        assert (
            capture_hours_of(store, "water", T0 - HOUR, cut) + capture_hours_of(store, "water", cut)
            == whole
        ), cut
    assert capture_hours_of(store, "heat", T0 - HOUR) == [
        CaptureHour(T0 - HOUR, 0, 240_860_000_000),
        CaptureHour(T0, 6_000_000, 240_866_000_000),
    ]
    with store.read() as connection, pytest.raises(ValueError, match="start of an hour"):
        list(capture_hours(connection, METER, "heat", T0 + 1))


def test_compute_captures_continues_a_sum(store: ReadingStore) -> None:
    store.writer.submit(METER, [], captures=CAPTURES).result()
    water = CAPTURE_SERIES["water"]
    accumulator = Accumulator([], UTC, {"water": 7 * M3})
    with store.read() as connection:
        computed = compute_captures(connection, METER, accumulator, T0, kind="water")
    assert [(row.start, row.state, row.sum) for row in computed.rows[water]] == [
        (T0, 100.03, 7.03),
        (T0 + HOUR, 100.031, 7.031),
        (T0 + 3 * HOUR, 50.002, 7.106),
    ]
    assert [replacement.at for replacement in computed.replacements] == [T0 + 205 * 60_000_000]
    assert exact_sum(water, 7.106) == accumulator.sums()["water"] == 7_106_000_000


TEN_YEARS = timedelta(days=3652)
TEN_YEARS_US = TEN_YEARS // timedelta(microseconds=1)


def test_chunks_end_after_hours_with_data_however_far_apart(
    store: ReadingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reading ten years back adds one hour with readings to a chunk, not 87,600."""
    monkeypatch.setattr(hours_module, "CHUNK_HOURS", 2)
    add(store, [reading(START - TEN_YEARS + timedelta(minutes=20), [1, 2, 3, 4])])
    add(store, stream(range(0, 4 * 60 + 1, 30)))
    with store.read() as connection:
        first, end = history(connection, METER) or (0, 0)
        stops = []
        start = first
        while start < end:
            start = chunk_end(connection, METER, start, end)
            stops.append(start)
    # Hours with readings: ten years back, then 0 to 4 (04:00's); two a chunk.
    assert stops == [T0 + HOUR, T0 + 3 * HOUR, T0 + 5 * HOUR]
    in_chunks = [
        hour
        for chunk_start, stop in zip([first, *stops], stops, strict=False)
        for hour in hours(store, chunk_start, stop)
    ]
    assert in_chunks == hours(store, first)
    # The hour holding the reading ten years back, then the hour ending with 00:00's.
    assert [hour.start for hour in in_chunks] == [
        T0 - TEN_YEARS_US,
        *(T0 + hour * HOUR for hour in range(-1, 5)),
    ]


def test_capture_chunks_end_after_captures_however_far_apart(
    store: ReadingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Water captured ten years back: the years until the next capture are skipped."""
    monkeypatch.setattr(captures_module, "CHUNK_HOURS", 2)
    water = [
        capture("water", 2, minutes, f"{100 + index}.000")
        for index, minutes in enumerate((5 - TEN_YEARS_US // 60_000_000, 5, 65, 125, 185))
    ]
    store.writer.submit(METER, [], captures=water).result()
    with store.read() as connection:
        first, end = capture_history(connection, METER, "water") or (0, 0)
        stops = []
        start = first
        while start < end:
            start = capture_chunk_end(connection, METER, start, end, kind="water")
            stops.append(start)
        # Past the last capture, up to where it is asked.
        assert capture_chunk_end(connection, METER, end, end + HOUR, kind="water") == end + HOUR
    # Two hours from each next capture.
    assert stops == [T0 - TEN_YEARS_US + 2 * HOUR, T0 + 2 * HOUR, T0 + 4 * HOUR]
    in_chunks = [
        hour
        for chunk_start, stop in zip([first, *stops], stops, strict=False)
        for hour in capture_hours_of(store, "water", chunk_start, stop)
    ]
    assert in_chunks == capture_hours_of(store, "water", first)
    assert [hour.start for hour in in_chunks] == [
        T0 - TEN_YEARS_US,
        *(T0 + hour * HOUR for hour in range(4)),
    ]
