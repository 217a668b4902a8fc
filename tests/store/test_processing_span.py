"""Processing whose work follows the readings, never the time between them; and never holds up
the writer. On a SQLite file and a real PostgreSQL server.

Each case dates readings far apart: a gas meter that stopped reporting (its capture stays years
behind), a DSMR 2.2 meter whose gas clock is years off, two readings 200 days apart, a telegram
dated 2016 posted into recent data, a reading ten years back into a year of data. Each is
processed exactly (test_processing.py's reference model), and its work, the SQL statements of
the processing runs, is the same whether the dates lie ten days or years apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
import threading
from time import perf_counter

from homeassistant.core import HomeAssistant
import pytest
from sqlalchemy import Engine, event

from custom_components.smartmeter.store import (
    Reading,
    ReadingStore,
    StoreError,
    processing,
)
from custom_components.smartmeter.store.processing import run as processing_run
from custom_components.smartmeter.store.writer import GroupCommitWriter
from tests.common import setup_entry, wait_processed
from tests.store.test_processing import (
    AMSTERDAM,
    EVENING,
    HOUR,
    METER,
    Meter,
    Segment,
    assert_processed,
    local,
    reference,
    submit,
    us,
)
from tests.views.test_through_http import push_entry

# The same case with its dates ten days apart (NEAR) and far apart (FAR), side by side.
NEAR = "01JCNFD1A2B3C4D5E6F7G8H9J0"
FAR = "01JCNFE1K2M3N4P5Q6R7S8T9V0"
OTHER = "01JCNFF1W2X3Y4Z5A6B7C8D9E0"
TEN_DAYS = timedelta(days=10)


@dataclass
class Work:
    """Processing runs so far, the SQL statements they executed and their seconds."""

    runs: int = 0
    statements: int = 0
    # Not asserted on: the benchmark's.
    seconds: float = 0.0
    # Called on the writer thread as each run starts, with its number.
    before_run: Callable[[int], None] | None = None
    _running_on: int | None = None

    def reset(self) -> None:
        """Count from 0 again."""
        self.runs, self.statements, self.seconds = 0, 0, 0.0


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> Iterator[Work]:
    """Count the runs of Processor.process and the statements they execute."""
    yield from counted_work(monkeypatch)


def counted_work(monkeypatch: pytest.MonkeyPatch) -> Iterator[Work]:
    """Yield a Work counting the runs of Processor.process while it is patched."""
    counted = Work()
    process = processing.Processor.process

    def counting(self: processing.Processor, meter: str) -> None:
        counted.runs += 1
        if counted.before_run is not None:
            counted.before_run(counted.runs)
        counted._running_on = threading.get_ident()
        started = perf_counter()
        try:
            process(self, meter)
        finally:
            counted.seconds += perf_counter() - started
            counted._running_on = None

    def statement(*_: object) -> None:
        if counted._running_on == threading.get_ident():
            counted.statements += 1

    monkeypatch.setattr(processing.Processor, "process", counting)
    event.listen(Engine, "before_cursor_execute", statement)
    yield counted
    event.remove(Engine, "before_cursor_execute", statement)


@pytest.fixture
def store(store_url: str) -> Iterator[ReadingStore]:
    store = ReadingStore.open(store_url, time_zone=AMSTERDAM)
    yield store
    store.close()


def processed(store: ReadingStore, work: Work, meter: str, readings: Sequence[Reading]) -> int:
    """Submit readings and wait until they are processed; return the statements it took."""
    before = work.statements
    # In one commit: one run, whenever it starts.
    store.writer.submit(meter, readings).result(timeout=30)
    wait_processed(store)
    return work.statements - before


def evening(start: datetime = EVENING[0].start) -> list[Reading]:
    """Return 5.5 hours of readings every 20 s, across a local midnight."""
    return Meter(step=20, gas_minutes=5).run([Segment(start, start + timedelta(hours=5.5))])


def test_two_streams_200_days_apart(store: ReadingStore, work: Work) -> None:
    statements = {}
    for meter, gap in ((NEAR, TEN_DAYS), (FAR, timedelta(days=200))):
        generator = Meter(step=20, gas_minutes=5)
        start = local(2026, 1, 10, 10, 0, 10)
        first = generator.run([Segment(start, start + timedelta(minutes=10))])
        processed(store, work, meter, first)
        later = start + gap
        second = generator.run([Segment(later, later + timedelta(minutes=10))])
        statements[meter] = processed(store, work, meter, second)
        assert_processed(store, meter, reference([*first, *second], dsmr4=False, contracts=()))
    # Hours and days between them are skipped by index seeks: nothing is done per empty hour.
    assert statements[NEAR] == statements[FAR] < 50


def test_gas_capture_stuck_years_back(store: ReadingStore, work: Work) -> None:
    """A gas meter that stopped reporting: every telegram shows its last capture, years old."""
    statements = {}
    for meter, behind in ((NEAR, TEN_DAYS), (FAR, timedelta(days=3 * 365))):
        stuck = local(2026, 11, 21, 20) - behind
        readings = [
            replace(
                reading, extra_device_timestamp=stuck, extra_device_delivered=Decimal("1234.567")
            )
            for reading in evening()
        ]
        statements[meter] = processed(store, work, meter, readings)
        assert_processed(store, meter, reference(readings, dsmr4=False, contracts=()))
    assert statements[NEAR] == statements[FAR] < 60


def gas_clock_off(readings: Sequence[Reading], off: timedelta) -> list[Reading]:
    """Return readings whose gas is captured hourly by a clock off by so much, as DSMR 2.2's."""
    first_hour = us(readings[0].timestamp) // HOUR
    moved = []
    for reading in readings:
        hour = us(reading.timestamp) // HOUR
        captured = datetime.fromtimestamp(hour * 3600, UTC) - off
        position = Decimal(100_000 + 123 * (hour - first_hour)).scaleb(-3)
        moved.append(
            replace(reading, extra_device_timestamp=captured, extra_device_delivered=position)
        )
    return moved


def test_dsmr_2_2_gas_dated_years_back(store: ReadingStore, work: Work) -> None:
    """The gas is used in the hours and days of its capture times, years before the readings."""
    statements = {}
    for meter, off in ((NEAR, TEN_DAYS), (FAR, timedelta(days=9 * 365))):
        readings = gas_clock_off(evening(), off)
        statements[meter] = processed(store, work, meter, readings)
        expected = reference(readings, dsmr4=False, contracts=())
        assert_processed(store, meter, expected)
        # The gas of the hours between the first capture and the last, on their own days.
        captured = {us(r.extra_device_timestamp) // HOUR for r in readings}  # type: ignore[arg-type]
        assert [us(hour["hour_start"]) // HOUR for hour in expected.hours[:5]] == sorted(captured)[
            :5
        ]
        assert [hour["gas"] for hour in expected.hours[:5]] == [Decimal("0.123")] * 5
        assert expected.days[0]["day"] == (local(2026, 11, 21) - off).date()
    assert statements[NEAR] == statements[FAR] < 100


def late_reading(moment: datetime, kwh: str) -> Reading:
    """Return a reading of some other time: positions of kwh, gas of its 5-minute mark."""
    return Reading(
        timestamp=moment,
        electricity_delivered_1=Decimal(kwh),
        electricity_returned_1=Decimal("1.001"),
        electricity_delivered_2=Decimal(kwh),
        electricity_returned_2=Decimal("1.001"),
        electricity_currently_delivered=Decimal("1.010"),
        electricity_currently_returned=Decimal("0.000"),
        phase_currently_delivered_l1=Decimal("1.010"),
        phase_voltage_l1=Decimal("230.0"),
        phase_power_current_l1=4,
        extra_device_timestamp=moment.replace(minute=moment.minute - moment.minute % 5, second=0),
        extra_device_delivered=Decimal("1.001"),
    )


def test_telegram_dated_2016_into_recent_data(store: ReadingStore, work: Work) -> None:
    """DSMR 2.2's sample telegram (its gas of 7 November 2016) posted with its own date."""
    statements = {}
    for meter, moment in (
        (NEAR, local(2026, 11, 11, 19, 0, 5)),
        (FAR, local(2016, 11, 7, 19, 0, 5)),
    ):
        recent = evening()
        processed(store, work, meter, recent)
        dated = late_reading(moment, "1.001")
        statements[meter] = processed(store, work, meter, [dated])
        assert_processed(store, meter, reference([dated, *recent], dsmr4=False, contracts=()))
    assert statements[NEAR] == statements[FAR] < 60


def test_reading_ten_years_back_into_a_year(store: ReadingStore, work: Work) -> None:
    """A year of readings (one every 73 hours, at every hour of the day in turn: cheap to
    process), then one 10 days before it, and one 10 years before that."""
    start = local(2025, 1, 1, 12, 34, 10)
    year = Meter(step=73 * 3600, gas_minutes=5).run([Segment(start, local(2026, 1, 1))])
    processed(store, work, METER, year)
    near = late_reading(local(2024, 12, 22, 12, 34, 10), "500.000")
    far = late_reading(local(2014, 12, 22, 12, 34, 10), "400.000")
    statements = [processed(store, work, METER, [late]) for late in (near, far)]
    assert_processed(store, METER, reference([far, near, *year], dsmr4=False, contracts=()))
    assert statements[0] == statements[1] < 50


# ------------------------------------------------------------------------------------------------
# Processing never holds up the writer.


def wait_until_queued(writer: GroupCommitWriter, before: int) -> None:
    """Wait until more than before items were ever put on the writer's queue."""
    queued = writer._queue
    with queued.not_empty:
        assert queued.not_empty.wait_for(lambda: queued.unfinished_tasks > before, timeout=30)


def test_a_submission_waits_for_one_run_of_a_backlog(
    store_url: str, work: Work, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While processing catches up with a backlog, each submission is committed after the run
    going on: counted in runs, not seconds."""
    monkeypatch.setattr(processing_run, "CATCH_UP_READINGS", 30)
    readings = evening()
    store = ReadingStore.open(store_url, time_zone=AMSTERDAM)
    try:
        committed_after: list[int] = []

        def at_run(number: int) -> None:
            if number == 3:
                future = store.writer.submit(OTHER, readings[:1])
                future.add_done_callback(lambda _: committed_after.append(work.runs))

        work.before_run = at_run
        store.writer.submit(METER, readings).result(timeout=30)
        # Work that waits for processing to catch up, as wait_processed does.
        caught_up = store.writer.run(lambda: work.runs)
        assert caught_up.result(timeout=60) >= len(readings) // 30
        assert committed_after == [3]
        assert_processed(store, METER, reference(readings, dsmr4=False, contracts=()))
    finally:
        store.close()


def test_close_stops_after_the_current_run(
    store_url: str, work: Work, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Closing in the middle of a backlog ends after the run going on, and a run for the late
    readings committed meanwhile; the next start goes on from there, exactly."""
    monkeypatch.setattr(processing_run, "CATCH_UP_READINGS", 30)
    readings = evening()
    # Late for the first run's minutes: a higher position in its third minute.
    late = replace(
        readings[7],
        timestamp=readings[7].timestamp + timedelta(seconds=5),
        electricity_delivered_2=readings[8].electricity_delivered_2,
    )
    store = ReadingStore.open(store_url, time_zone=AMSTERDAM)
    closing = threading.Thread(target=store.close)

    def at_run(number: int) -> None:
        if number == 3:
            store.writer.submit(METER, [late])
            before = store.writer._queue.unfinished_tasks
            closing.start()
            wait_until_queued(store.writer, before)

    work.before_run = at_run
    try:
        store.writer.submit(METER, readings).result(timeout=30)
        waiting = store.writer.run(lambda: None)
        # Fails once the writer stops: it waited for processing to catch up.
        with pytest.raises(StoreError, match="before processing caught up"):
            waiting.result(timeout=60)
    finally:
        if closing.ident is None:
            store.close()
        closing.join()
    # The run going on, then one for the late reading: nothing more.
    assert work.runs == 4

    store = ReadingStore.open(store_url, time_zone=AMSTERDAM)
    try:
        assert store.processing_status(METER).unprocessed_readings > len(readings) // 2
        wait_processed(store)
        assert_processed(store, METER, reference([*readings, late], dsmr4=False, contracts=()))
    finally:
        store.close()


async def test_unload_while_processing_catches_up(
    hass: HomeAssistant, store_url: str, work: Work, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An entry unloads after the run going on, whatever backlog processing has."""
    monkeypatch.setattr(processing_run, "CATCH_UP_READINGS", 30)
    readings = evening()
    meter = "push-meter"
    with monkeypatch.context() as patched:
        # Readings stored while processing had no time for them: a backlog for the next start.
        patched.setattr(processing.Processor, "due", frozenset())
        backlog = ReadingStore.open(store_url, time_zone=AMSTERDAM)
        try:
            submit(backlog, meter, readings)
        finally:
            backlog.close()
    work.runs = 0
    reached, release = threading.Event(), threading.Event()

    def at_run(number: int) -> None:
        if number == 3:
            reached.set()
            assert release.wait(timeout=30)

    work.before_run = at_run
    entry = push_entry(store_url)
    await setup_entry(hass, entry)
    assert await hass.async_add_executor_job(reached.wait, 30)
    writer = entry.runtime_data.store.writer
    # Work waiting for processing to catch up, as retention's does.
    waiting = writer.run(lambda: None)
    before = writer._queue.unfinished_tasks
    unload = hass.async_create_task(hass.config_entries.async_unload(entry.entry_id))
    # The store's close is queued while the third run goes on.
    await hass.async_add_executor_job(wait_until_queued, writer, before)
    release.set()
    assert await unload
    assert work.runs == 3
    with pytest.raises(StoreError, match="before processing caught up"):
        waiting.result(timeout=0)

    reopened = ReadingStore.open(store_url, time_zone=AMSTERDAM)
    try:
        assert reopened.processing_status(meter).unprocessed_readings > len(readings) // 2
        wait_processed(reopened)
        assert_processed(reopened, meter, reference(readings, dsmr4=False, contracts=()))
    finally:
        reopened.close()
