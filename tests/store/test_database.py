"""The reading database, on a SQLite file and on a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
import threading
import time
from typing import Any, cast

import pytest
from sqlalchemy import (
    Connection,
    bindparam,
    create_engine,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError, OperationalError

from custom_components.smartmeter.store import (
    GroupCommitWriter,
    MeterStatistics,
    Reading,
    ReadingStore,
    StoreBusy,
    StoredReading,
    StoreError,
    migrations,
)
from custom_components.smartmeter.store.driver import DriverStatement, execute, execute_many
from custom_components.smartmeter.store.engine import open_engine
from custom_components.smartmeter.store.model import (
    Capture,
    CaptureKind,
    reading_to_row,
    row_to_reading,
    statistics_to_row,
)
from custom_components.smartmeter.store.schema import reading_count
from custom_components.smartmeter.store.writer import COMMIT_EVERY
from tests.store.versions import database_at_version

METER = "01JCNF8MZ3Q4W6V5XK9T2B7H1D"
OTHER = "01JCNF9A4R8S2P6M0E3G5Y7C9K"
T0 = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
LATEST = len(migrations.MIGRATIONS)

# Every field set, at the edges of what DSMR-reader's columns hold.
FULL = Reading(
    timestamp=datetime(2026, 11, 22, 4, 34, 48, 912850, tzinfo=UTC),
    electricity_delivered_1=Decimal("1581.123"),
    electricity_returned_1=Decimal("10.000"),
    electricity_delivered_2=Decimal("999999.999"),
    electricity_returned_2=Decimal("-0.001"),
    electricity_currently_delivered=Decimal("0.244"),
    electricity_currently_returned=Decimal("0.000"),
    phase_currently_delivered_l1=Decimal("0.100"),
    phase_currently_delivered_l2=Decimal("0.120"),
    phase_currently_delivered_l3=Decimal("0.024"),
    extra_device_timestamp=datetime(2026, 11, 22, 4, 30, tzinfo=UTC),
    extra_device_delivered=Decimal("500.123"),
    phase_currently_returned_l1=Decimal("0.000"),
    phase_currently_returned_l2=Decimal("1.500"),
    phase_currently_returned_l3=Decimal("3.001"),
    phase_voltage_l1=Decimal("230.0"),
    phase_voltage_l2=Decimal("231.4"),
    phase_voltage_l3=Decimal("999.9"),
    phase_power_current_l1=2,
    phase_power_current_l2=0,
    phase_power_current_l3=999,
)
FULL_ROW = {
    "meter": METER,
    "timestamp": 1795322088912850,
    "electricity_delivered_1": 1581123,
    "electricity_returned_1": 10000,
    "electricity_delivered_2": 999999999,
    "electricity_returned_2": -1,
    "electricity_currently_delivered": 244,
    "electricity_currently_returned": 0,
    "phase_currently_delivered_l1": 100,
    "phase_currently_delivered_l2": 120,
    "phase_currently_delivered_l3": 24,
    "extra_device_timestamp": 1795321800000000,
    "extra_device_delivered": 500123,
    "phase_currently_returned_l1": 0,
    "phase_currently_returned_l2": 1500,
    "phase_currently_returned_l3": 3001,
    "phase_voltage_l1": 2300,
    "phase_voltage_l2": 2314,
    "phase_voltage_l3": 9999,
    "phase_power_current_l1": 2,
    "phase_power_current_l2": 0,
    "phase_power_current_l3": 999,
}


def reading(minute: int, kwh: str = "1.000") -> Reading:
    """Return a reading with only the required fields, told apart by its time and kWh."""
    return Reading(
        timestamp=T0 + timedelta(minutes=minute),
        electricity_delivered_1=Decimal(kwh),
        electricity_returned_1=Decimal("0.000"),
        electricity_delivered_2=Decimal("0.000"),
        electricity_returned_2=Decimal("0.000"),
        electricity_currently_delivered=Decimal("0.000"),
        electricity_currently_returned=Decimal("0.000"),
    )


def stored(id_: int, value: Reading) -> StoredReading:
    return StoredReading(id=id_, **asdict(value))


def decimals(value: Reading) -> dict[str, str]:
    """Return the Decimal fields as text, which shows their decimal places."""
    return {name: str(v) for name, v in asdict(value).items() if isinstance(v, Decimal)}


@pytest.fixture
def store(store_url: str) -> Iterator[ReadingStore]:
    store = ReadingStore.open(store_url)
    yield store
    store.close()


@contextmanager
def database(url: str) -> Iterator[Connection]:
    """Connect to the test database behind the store's back, in autocommit mode."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            yield connection.execution_options(isolation_level="AUTOCOMMIT")
    finally:
        engine.dispose()


@contextmanager
def blocked_writer(url: str, writer: GroupCommitWriter) -> Iterator[Future[list[int]]]:
    """Keep the writer inside a transaction, so that what is submitted meanwhile queues up.

    Another connection holds the write lock until the block ends; the writer waits for it
    inside the transaction of a first submission, which this yields.
    """
    with database(url) as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")
            connection.exec_driver_sql("LOCK TABLE dsmr_reading IN EXCLUSIVE MODE")
        before = writer.transactions
        blocker = writer.submit(METER, [reading(-1)])
        while writer.transactions == before:
            time.sleep(0.001)
        try:
            yield blocker
        finally:
            connection.exec_driver_sql("ROLLBACK")


def kwh_of(store: ReadingStore, meter: str = METER) -> list[str]:
    """Return the electricity_delivered_1 of a meter's readings, in timestamp order."""
    count, readings = store.list_readings(meter, limit=1000)
    assert count == len(readings)
    return [str(value.electricity_delivered_1) for value in readings]


def test_reading_to_row_scales_exactly() -> None:
    row = reading_to_row(METER, FULL)
    assert row == FULL_ROW
    assert list(row) == list(FULL_ROW)
    assert row_to_reading({**row, "id": 7}) == stored(7, FULL)
    assert decimals(row_to_reading({**row, "id": 7})) == decimals(FULL)


@pytest.mark.parametrize(
    "change",
    [
        {"timestamp": datetime(2026, 11, 22, 4, 0)},
        {"extra_device_timestamp": datetime(2026, 11, 22, 4, 0)},
        {"electricity_delivered_1": Decimal("1.0005")},
        {"phase_voltage_l1": Decimal("230.05")},
        {"electricity_currently_delivered": Decimal("NaN")},
        {"extra_device_delivered": Decimal("Infinity")},
    ],
)
def test_reading_to_row_refuses_inexact_values(change: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"time zone|decimal places"):
        reading_to_row(METER, replace(reading(0), **change))


def test_statistics_to_row_checks_names_and_timestamp() -> None:
    assert statistics_to_row({"timestamp": FULL.timestamp, "dsmr_version": "50"}) == {
        "timestamp": 1795322088912850,
        "dsmr_version": "50",
    }
    with pytest.raises(ValueError, match="not meter statistics fields: id, meter"):
        statistics_to_row({"meter": "x", "id": 1, "electricity_tariff": 2})
    with pytest.raises(TypeError, match="is not a datetime"):
        statistics_to_row({"timestamp": "2026-11-22T04:00:00Z"})


def test_round_trip_every_field(store: ReadingStore) -> None:
    minimal = replace(
        reading(0),
        timestamp=datetime(2026, 11, 22, 6, 0, 0, 1, tzinfo=timezone(timedelta(hours=2))),
    )
    ids = store.writer.submit(METER, [FULL, minimal]).result(timeout=10)
    assert len(ids) == 2
    assert ids[0] < ids[1]

    count, readings = store.list_readings(METER, descending=True)

    assert count == 2
    assert readings == [stored(ids[0], FULL), stored(ids[1], minimal)]
    assert [decimals(value) for value in readings] == [decimals(FULL), decimals(minimal)]
    assert readings[0].timestamp.tzinfo is UTC
    assert readings[0].timestamp.microsecond == 912850
    assert readings[1].timestamp == datetime(2026, 11, 22, 4, 0, 0, 1, tzinfo=UTC)
    assert readings[1].timestamp.tzinfo is UTC
    assert readings[1].extra_device_timestamp is None
    assert readings[1].phase_voltage_l1 is None
    assert readings[1].phase_power_current_l3 is None


def test_list_filters_order_and_pages(store: ReadingStore) -> None:
    store.writer.submit(
        METER,
        [reading(3, "3.000"), reading(1, "1.000"), reading(2, "2.000"), reading(0, "0.000")],
    ).result(timeout=10)
    store.writer.submit(METER, [reading(4, "4.000"), reading(2, "2.500")]).result(timeout=10)
    store.writer.submit(OTHER, [reading(2, "9.000")]).result(timeout=10)
    minute = [T0 + timedelta(minutes=n) for n in range(5)]

    def kwh(**query: Any) -> tuple[int, list[str]]:
        count, readings = store.list_readings(METER, **query)
        return count, [str(value.electricity_delivered_1) for value in readings]

    # Equal timestamps keep the order they were written in.
    assert kwh() == (6, ["0.000", "1.000", "2.000", "2.500", "3.000", "4.000"])
    assert kwh(descending=True) == (6, ["4.000", "3.000", "2.500", "2.000", "1.000", "0.000"])
    assert kwh(timestamp_gte=minute[1], timestamp_lte=minute[3]) == (
        4,
        ["1.000", "2.000", "2.500", "3.000"],
    )
    assert kwh(timestamp_gte=minute[1] + timedelta(microseconds=1)) == (
        4,
        ["2.000", "2.500", "3.000", "4.000"],
    )
    assert kwh(timestamp_lte=minute[1] - timedelta(microseconds=1)) == (1, ["0.000"])
    assert kwh(timestamp_exact=minute[2]) == (2, ["2.000", "2.500"])
    assert kwh(timestamp_exact=minute[2].astimezone(timezone(timedelta(hours=1)))) == (
        2,
        ["2.000", "2.500"],
    )
    assert kwh(timestamp_exact=minute[2] + timedelta(microseconds=1)) == (0, [])
    assert kwh(limit=2, offset=1) == (6, ["1.000", "2.000"])
    assert kwh(limit=2, offset=1, descending=True) == (6, ["3.000", "2.500"])
    assert kwh(limit=25, offset=5) == (6, ["4.000"])
    assert kwh(offset=6) == (6, [])
    assert kwh(limit=0) == (6, [])
    assert kwh(timestamp_gte=minute[2], limit=1, offset=1) == (4, ["2.500"])
    assert kwh_of(store, OTHER) == ["9.000"]
    assert store.list_readings("no such meter") == (0, [])

    with pytest.raises(ValueError, match="time zone"):
        store.list_readings(METER, timestamp_gte=datetime(2026, 11, 22))
    with pytest.raises(ValueError, match="must not be negative"):
        store.list_readings(METER, limit=-1)
    with pytest.raises(ValueError, match="must not be negative"):
        store.list_readings(METER, offset=-1)


def test_group_commit(store: ReadingStore, store_url: str) -> None:
    writer = store.writer
    start = threading.Barrier(8)

    def post(thread: int) -> list[tuple[int, Future[list[int]]]]:
        start.wait()
        return [
            (n, writer.submit(METER, [reading(n, f"{n}.001"), reading(n, f"{n}.002")]))
            for n in range(thread * 25, thread * 25 + 25)
        ]

    with blocked_writer(store_url, writer) as blocker, ThreadPoolExecutor(8) as pool:
        submitted = [item for items in pool.map(post, range(8)) for item in items]

    blocker.result(timeout=10)
    results = {n: future.result(timeout=10) for n, future in submitted}
    # The blocked first submission, then all 200 that queued behind it in one transaction.
    assert writer.transactions == 2
    assert len(results) == 200
    _, readings = store.list_readings(METER, limit=1000)
    by_id = {value.id: value for value in readings}
    assert len(by_id) == 401
    all_ids = [id_ for ids in results.values() for id_ in ids]
    assert len(set(all_ids)) == 400
    for n, ids in results.items():
        assert len(ids) == 2
        assert ids[0] < ids[1]
        assert by_id[ids[0]].electricity_delivered_1 == Decimal(f"{n}.001")
        assert by_id[ids[1]].electricity_delivered_1 == Decimal(f"{n}.002")


class Clock:
    """Monotonic seconds that move only when a test moves them; counts the writer's looks."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.looks = 0
        self._looked = threading.Condition()

    def __call__(self) -> float:
        if threading.current_thread().name == "smartmeter-store-writer":
            with self._looked:
                self.looks += 1
                self._looked.notify_all()
        return self.now

    def wait_for_looks(self, looks: int) -> None:
        """Wait until the writer has looked at the clock this many times in all."""
        with self._looked:
            assert self._looked.wait_for(lambda: self.looks >= looks, timeout=30)


def test_live_readings_wait_for_the_next_to_share_a_commit(store_url: str) -> None:
    """Readings that may wait are committed together COMMIT_EVERY seconds after the first.

    Anything else queued meanwhile (a submission that may not wait, work, close()) commits
    them at once, before it.
    """
    ReadingStore.open(store_url).close()
    engine = open_engine(store_url)
    clock = Clock()
    writer = GroupCommitWriter(engine, clock=clock)
    try:
        waiting = []
        for n in range(2):
            looks = clock.looks
            waiting.append(writer.submit(METER, [reading(n)], may_wait=True))
            # Taken, found not due, and waited for with the time left.
            clock.wait_for_looks(looks + 2)
            assert writer.transactions == 0
            clock.now += COMMIT_EVERY - 1
        # The first one's time is up: taken with the one that wakes the writer.
        waiting.append(writer.submit(METER, [reading(2)], may_wait=True))
        ids = [future.result(timeout=30) for future in waiting]
        assert writer.transactions == 1
        assert [len(one) for one in ids] == [1] * 3
        assert sorted(ids) == ids
        # Before work queued after it, in one transaction with a submission that may not wait.
        live = writer.submit(METER, [reading(3)], may_wait=True)
        assert writer.run(live.done).result(timeout=30) is True
        live = writer.submit(METER, [reading(4)], may_wait=True)
        posted = writer.submit(METER, [reading(5)])
        assert posted.result(timeout=30)[0] > live.result(timeout=30)[0]
        assert writer.transactions == 3
        # And before the writer stops.
        last = writer.submit(METER, [reading(6)], may_wait=True)
        writer.close()
        assert last.done()
        assert writer.transactions == 4
    finally:
        writer.close()
        engine.dispose()
    with database(store_url) as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM dsmr_reading").scalar() == 7


def test_failing_submission_fails_alone(store: ReadingStore, store_url: str) -> None:
    writer = store.writer
    bad = replace(reading(3, "3.000"), electricity_delivered_1=cast(Decimal, None))

    with blocked_writer(store_url, writer) as blocker:
        good = writer.submit(METER, [reading(1, "1.000")])
        failing = writer.submit(METER, [reading(2, "2.000"), bad], {"electricity_tariff": 1})
        also_good = writer.submit(METER, [reading(4, "4.000")], {"dsmr_version": "50"})

    blocker.result(timeout=10)
    assert len(good.result(timeout=10)) == 1
    assert len(also_good.result(timeout=10)) == 1
    with pytest.raises(IntegrityError):
        failing.result(timeout=10)
    # The blocker; the three together, which failed; then each of them alone.
    assert writer.transactions == 5
    assert kwh_of(store) == ["1.000", "1.000", "4.000"]
    statistics = store.get_statistics(METER)
    assert statistics.dsmr_version == "50"
    assert statistics.electricity_tariff is None

    writer.submit(METER, [reading(5, "5.000")]).result(timeout=10)
    assert kwh_of(store)[-1] == "5.000"


def test_failing_database_fails_the_batch_at_once(
    store: ReadingStore, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = store.writer
    error = OperationalError("INSERT", {}, Exception("disk I/O error"))

    def broken(_submissions: object) -> list[int]:
        raise error

    with blocked_writer(store_url, writer):
        monkeypatch.setattr(writer, "_write", broken)
        futures = [writer.submit(METER, [reading(n)]) for n in range(3)]

    for future in futures:
        assert future.exception(timeout=10) is error


def test_driver_statement_parameters_in_the_drivers_style() -> None:
    """SQLite's driver takes the values in the SQL's order, psycopg takes them by name."""
    statement = (
        update(reading_count)
        .where(reading_count.c.meter == bindparam("meter_name"))
        .values(readings=bindparam("number"))
    )
    values = {"meter_name": "m", "number": 3}

    positional = DriverStatement(statement, sqlite.dialect())
    assert positional.sql == "UPDATE reading_count SET readings=? WHERE reading_count.meter = ?"
    assert positional.parameters(values) == (3, "m")
    assert positional.parameters_of_rows([values, {**values, "number": 4}]) == [
        (3, "m"),
        (4, "m"),
    ]
    # An engine connects only when used: this one stands for its dialect.
    named = DriverStatement(statement, create_engine("postgresql+psycopg://").dialect)
    assert named.sql == (
        "UPDATE reading_count SET readings=%(number)s::INTEGER "
        "WHERE reading_count.meter = %(meter_name)s::VARCHAR"
    )
    assert named.parameters(values) is values


@pytest.mark.parametrize("many", [False, True])
def test_driver_errors_are_sqlalchemys(store_url: str, many: bool) -> None:
    """A driver's error, one row or many, is raised as SQLAlchemy's, the statement rolled back."""
    ReadingStore.open(store_url).close()  # the schema
    engine = create_engine(store_url)
    good = {"meter": METER, "hour": 1, "readings": 2}
    rows = [good, {**good, "hour": 2, "readings": None}]

    def write() -> None:
        with engine.begin() as connection:
            statement = DriverStatement(
                insert(reading_count), connection.dialect, ["meter", "hour", "readings"]
            )
            if many:
                execute_many(connection, statement, rows)
            else:
                for row in rows:
                    execute(connection, statement, row)

    try:
        with pytest.raises(IntegrityError, match="readings"):
            write()
        with engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(reading_count)).one() == (0,)
    finally:
        engine.dispose()


def test_connection_lost_in_a_transaction_is_replaced(postgres_url: str) -> None:
    """The server ends the writer's connection mid-batch: that batch fails, the next one lands."""
    store = ReadingStore.open(postgres_url)
    try:
        writer = store.writer
        writer.submit(METER, [reading(1, "1.000")]).result(timeout=10)
        with (
            blocked_writer(postgres_url, writer) as blocker,
            database(postgres_url) as connection,
        ):
            connection.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        error = blocker.exception(timeout=10)
        assert isinstance(error, OperationalError)
        assert error.connection_invalidated
        assert "terminating connection" in str(error.orig)

        writer.submit(METER, [reading(2, "2.000")]).result(timeout=10)
        assert kwh_of(store) == ["1.000", "2.000"]
    finally:
        store.close()


def test_store_busy_when_the_queue_is_full(store_url: str) -> None:
    store = ReadingStore.open(store_url, max_queue=3)
    try:
        with blocked_writer(store_url, store.writer):
            queued = [store.writer.submit(METER, [reading(n)]) for n in range(3)]
            with pytest.raises(StoreBusy, match="too many readings"):
                store.writer.submit(METER, [reading(3)])
        assert [len(future.result(timeout=10)) for future in queued] == [1, 1, 1]
        assert len(kwh_of(store)) == 4
    finally:
        store.close()


def test_cancelled_submission_is_not_written(store: ReadingStore, store_url: str) -> None:
    with blocked_writer(store_url, store.writer):
        cancelled = store.writer.submit(METER, [reading(1, "5.000")])
        kept = store.writer.submit(METER, [reading(2, "2.000")])
        assert cancelled.cancel()
    kept.result(timeout=10)
    assert cancelled.cancelled()
    # The blocker's reading and the kept one.
    assert kwh_of(store) == ["1.000", "2.000"]


def test_close_writes_what_is_queued(store_url: str) -> None:
    store = ReadingStore.open(store_url)
    with blocked_writer(store_url, store.writer):
        futures = [store.writer.submit(METER, [reading(n, f"{n}.000")]) for n in range(3)]
        closing = threading.Thread(target=store.close)
        closing.start()
    closing.join(timeout=10)
    assert not closing.is_alive()
    assert [len(future.result(timeout=0)) for future in futures] == [1, 1, 1]
    with pytest.raises(StoreError, match="closed"):
        store.writer.submit(METER, [reading(4)])
    store.close()

    reopened = ReadingStore.open(store_url)
    try:
        assert kwh_of(reopened) == ["1.000", "0.000", "1.000", "2.000"]
    finally:
        reopened.close()


def test_statistics_default_row(store: ReadingStore) -> None:
    before = datetime.now(UTC)
    statistics = store.get_statistics(METER)
    after = datetime.now(UTC)

    assert statistics.timestamp is not None
    assert before <= statistics.timestamp <= after
    assert statistics.timestamp.tzinfo is UTC
    assert replace(statistics, timestamp=None) == MeterStatistics()
    assert statistics.rejected_telegrams == 0
    # Created once: asking again returns the same row.
    assert store.get_statistics(METER) == statistics


def test_update_statistics(store: ReadingStore) -> None:
    moment = datetime(2026, 11, 22, 4, 34, 48, 912850, tzinfo=UTC)
    first = store.update_statistics(
        METER, timestamp=moment, dsmr_version="50", power_failure_count=3, voltage_sag_count_l2=1
    )
    assert first == MeterStatistics(
        timestamp=moment, dsmr_version="50", power_failure_count=3, voltage_sag_count_l2=1
    )
    telegram = "/ISK5\\2M550T-1012\r\n\r\n1-3:0.2.8(50)\r\n!A1B2"
    second = store.update_statistics(METER, latest_telegram=telegram, power_failure_count=None)
    assert second == replace(first, latest_telegram=telegram, power_failure_count=None)
    assert store.get_statistics(METER) == second
    assert store.get_statistics(OTHER).dsmr_version is None

    with pytest.raises(ValueError, match="not meter statistics fields: voltage"):
        store.update_statistics(METER, voltage=230)


def test_count_rejected(store: ReadingStore) -> None:
    store.count_rejected(METER)
    assert store.get_statistics(METER).rejected_telegrams == 1
    store.count_rejected(METER, 3)
    assert store.get_statistics(METER).rejected_telegrams == 4

    def reject(_: int) -> None:
        for _ in range(10):
            store.count_rejected(METER)

    # Increments from several threads, and a first call for a meter from each at once.
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(reject, range(4)))
        list(pool.map(lambda _: store.count_rejected(OTHER), range(4)))
    assert store.get_statistics(METER).rejected_telegrams == 44
    assert store.get_statistics(OTHER).rejected_telegrams == 4


def test_submit_updates_statistics_in_the_same_transaction(
    store: ReadingStore, store_url: str
) -> None:
    writer = store.writer
    assert writer.submit(METER, [], {"timestamp": T0}).result(timeout=10) == []
    assert store.get_statistics(METER).timestamp == T0

    with blocked_writer(store_url, writer):
        first = writer.submit(
            METER, [reading(1)], {"electricity_tariff": 1, "power_failure_count": 5}
        )
        second = writer.submit(METER, [reading(2)], {"electricity_tariff": 2})
        other = writer.submit(OTHER, [], {"dsmr_version": "42"})
    for future in (first, second, other):
        future.result(timeout=10)

    assert writer.transactions == 3
    assert store.get_statistics(METER) == MeterStatistics(
        timestamp=T0, electricity_tariff=2, power_failure_count=5
    )
    assert store.get_statistics(OTHER).dsmr_version == "42"


def test_submit_refuses_values_before_queueing(store: ReadingStore) -> None:
    with pytest.raises(ValueError, match="decimal places"):
        store.writer.submit(METER, [replace(reading(0), electricity_delivered_1=Decimal("0.0001"))])
    with pytest.raises(ValueError, match="not meter statistics fields"):
        store.writer.submit(METER, [], {"rejected": 1})
    assert store.writer.transactions == 0


def capture(kind: CaptureKind, channel: int, minute: int, value: str) -> Capture:
    return Capture(
        channel=channel, kind=kind, captured=T0 + timedelta(minutes=minute), value=Decimal(value)
    )


def captures_in(url: str) -> list[tuple[str, str, int, int, int]]:
    """Return (meter, kind, minutes from T0, channel, value) of every stored capture."""
    with database(url) as connection:
        rows = connection.execute(
            text(
                "SELECT meter, kind, captured, channel, value FROM mbus_capture"
                " ORDER BY meter, kind, captured, channel"
            )
        ).tuples()
        start = int(T0.timestamp()) * 1_000_000
        return [
            (meter, kind, (captured - start) // 60_000_000, channel, value)
            for meter, kind, captured, channel, value in rows
        ]


def test_captures_are_written_once_and_only_when_they_move(
    store: ReadingStore, store_url: str
) -> None:
    """Each telegram repeats its M-Bus captures: only those that may move a position stay."""
    earliest: list[dict[str, int]] = []
    store.writer.add_listener(lambda found: earliest.append(dict(found)))
    water = [capture("water", 2, minute, "872.234") for minute in (0, 0, 5)]
    # Two telegrams showing the capture of 04:00, and a later one at the same position.
    assert store.writer.submit(METER, [reading(1)], captures=water[:1]).result() == [1]
    assert store.writer.submit(METER, [reading(2)], captures=water[1:]).result() == [2]
    # A heat meter alone: no reading, its capture all the same; water moves, in one batch.
    moved = [
        capture("heat", 1, 10, "240.861"),
        capture("water", 2, 10, "872.250"),
        capture("water", 2, 10, "872.250"),
    ]
    assert store.writer.submit(METER, [], captures=moved).result() == []
    # A datalogger catching up: an earlier capture is kept whatever its position.
    assert store.writer.submit(OTHER, [], captures=[capture("water", 2, 0, "1.000")]).result() == []
    assert (
        store.writer.submit(METER, [], captures=[capture("water", 2, -5, "872.234")]).result() == []
    )
    assert captures_in(store_url) == [
        (METER, "heat", 10, 1, 240_861_000_000),
        (METER, "water", -5, 2, 872_234_000_000),
        (METER, "water", 0, 2, 872_234_000_000),
        (METER, "water", 10, 2, 872_250_000_000),
        (OTHER, "water", 0, 2, 1_000_000_000),
    ]
    t0 = int(T0.timestamp()) * 1_000_000
    minute = 60_000_000
    # The earliest time each commit may have changed: readings and new captures.
    assert earliest == [
        {METER: t0},
        {METER: t0 + 2 * minute},
        {METER: t0 + 10 * minute},
        {OTHER: t0},
        {METER: t0 - 5 * minute},
    ]


def test_captures_already_stored_are_ignored(store_url: str) -> None:
    """A new writer knows no captures yet: the database leaves out those it holds."""
    heat = [capture("heat", 1, minute, "240.860") for minute in (0, 1)]
    for _ in range(2):
        store = ReadingStore.open(store_url)
        try:
            store.writer.submit(METER, [], captures=heat).result()
            # More decimals than a capture keeps: refused before queueing.
            with pytest.raises(ValueError, match="decimal places"):
                store.writer.submit(METER, [], captures=[capture("heat", 1, 2, "240.8600000001")])
        finally:
            store.close()
    assert captures_in(store_url) == [(METER, "heat", 0, 1, 240_860_000_000)]


VERSION_3_TABLES = (
    "day_statistics",
    "electricity_consumption",
    "energy_supplier_price",
    "gas_consumption",
    "hour_statistics",
    "processing_state",
    "quarter_hour_peak",
    "record_count",
)


def test_fresh_database_gets_the_latest_version(store: ReadingStore, store_url: str) -> None:
    with database(store_url) as connection:
        assert connection.scalars(text("SELECT version FROM schema_version")).all() == [LATEST]
        schema = inspect(connection)
        assert set(schema.get_table_names()) == {
            "dsmr_reading",
            "meter_statistics",
            "reading_count",
            "schema_version",
            *VERSION_3_TABLES,
            "mbus_capture",
            "meter",
            "reading_id",
        }
        columns = {column["name"] for column in schema.get_columns("dsmr_reading")}
        assert columns == {"id", "meter_key", *FULL_ROW} - {"meter"}
        # The rows are the primary key's B-tree: no second index.
        assert schema.get_pk_constraint("dsmr_reading")["constrained_columns"] == [
            "meter_key",
            "timestamp",
            "id",
        ]
        assert schema.get_indexes("dsmr_reading") == []


def test_reopening_is_a_no_op(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store = ReadingStore.open(store_url)
    store.writer.submit(METER, [reading(0, "7.000")]).result(timeout=10)
    store.close()
    applied: list[int] = []
    steps = tuple(lambda _: applied.append(1) for _ in migrations.MIGRATIONS)
    monkeypatch.setattr(migrations, "MIGRATIONS", steps)

    store = ReadingStore.open(store_url)
    try:
        assert applied == []
        assert kwh_of(store) == ["7.000"]
    finally:
        store.close()


def test_newer_database_is_refused(store_url: str) -> None:
    ReadingStore.open(store_url).close()
    with database(store_url) as connection:
        connection.execute(text(f"UPDATE schema_version SET version = {LATEST + 1}"))

    with pytest.raises(
        StoreError, match=f"schema version {LATEST + 1}, newer than this code's {LATEST}"
    ):
        ReadingStore.open(store_url)


def test_failed_migration_changes_nothing(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(connection: Connection) -> None:
        connection.execute(text("CREATE TABLE half_done (id INTEGER)"))
        connection.execute(text("SELECT no_such_column FROM dsmr_reading"))

    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, broken))
    with pytest.raises(StoreError, match="cannot use the reading database"):
        ReadingStore.open(store_url)

    with database(store_url) as connection:
        assert connection.scalars(text("SELECT version FROM schema_version")).all() == [LATEST]
        assert "half_done" not in inspect(connection).get_table_names()


def test_migrations_apply_in_order(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    ReadingStore.open(store_url).close()

    def add_table(connection: Connection) -> None:
        connection.execute(text("CREATE TABLE added (id INTEGER)"))

    steps: tuple[Callable[[Connection], None], ...] = (*migrations.MIGRATIONS, add_table)
    monkeypatch.setattr(migrations, "MIGRATIONS", steps)
    ReadingStore.open(store_url).close()

    with database(store_url) as connection:
        assert connection.scalars(text("SELECT version FROM schema_version")).all() == [LATEST + 1]
        assert "added" in inspect(connection).get_table_names()


def test_postgresql_url_without_driver(postgres_url: str) -> None:
    store = ReadingStore.open(postgres_url.replace("postgresql+psycopg:", "postgresql:"))
    try:
        assert store.list_readings(METER) == (0, [])
    finally:
        store.close()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/config/smartmeter.db", "needs a SQLAlchemy URL"),
        ("sqlite://", "needs a file"),
        ("sqlite:///:memory:", "needs a file"),
        ("mysql://user@localhost/readings", "unsupported database mysql"),
        ("postgresql+psycopg2://user@localhost/readings", r"database postgresql\+psycopg2: use"),
        ("sqlite+aiosqlite:////config/smartmeter.db", r"database sqlite\+aiosqlite: use"),
        ("postgresql://user:secret@/readings?host=/nonexistent", r"cannot use .*user:\*\*\*@"),
    ],
)
def test_open_refuses(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message) as caught:
        ReadingStore.open(url)
    assert "secret" not in str(caught.value)


# Minutes from T0 (an hour boundary): on both sides of hour boundaries, far before 1970, and a
# minute that holds two readings.
COUNTED_MINUTES = (-60 * 24 * 365 * 60, -61, -60, -1, 0, 0, 1, 59, 60, 119, 120, 121, 300)


def expected_count(low: datetime | None, high: datetime | None) -> int:
    times = [T0 + timedelta(minutes=minute) for minute in COUNTED_MINUTES]
    return sum((low is None or low <= t) and (high is None or t <= high) for t in times)


def test_counts_add_whole_hours_and_count_partial_ones(store: ReadingStore) -> None:
    store.writer.submit(METER, [reading(minute) for minute in COUNTED_MINUTES]).result(timeout=10)
    store.writer.submit(OTHER, [reading(minute) for minute in (0, 30, 90)]).result(timeout=10)
    microsecond = timedelta(microseconds=1)
    bounds = [None] + [
        T0 + timedelta(minutes=minute) + shift
        for minute in (-60 * 24 * 365 * 61, -61, -60, -30, 0, 1, 60, 90, 120, 121, 1000)
        for shift in (-microsecond, timedelta(0), microsecond)
    ]
    for low in bounds:
        for high in bounds:
            count, _ = store.list_readings(METER, timestamp_gte=low, timestamp_lte=high, limit=0)
            assert count == expected_count(low, high), (low, high)
    assert store.list_readings(METER, timestamp_exact=T0, limit=0) == (2, [])
    assert store.list_readings(OTHER, limit=0) == (3, [])


def test_version_2_counts_the_readings_already_stored(store_url: str) -> None:
    # A version-1 database: readings, no counts (nor processing, version 3, nor captures,
    # version 4), nor meter keys (version 5).
    database_at_version(
        store_url, 1, [reading_to_row(METER, reading(minute)) for minute in COUNTED_MINUTES]
    )

    store = ReadingStore.open(store_url)
    try:
        assert store.list_readings(METER, limit=0) == (len(COUNTED_MINUTES), [])
        for low, high in ((T0, None), (None, T0 + timedelta(minutes=119)), (T0, T0)):
            count, _ = store.list_readings(METER, timestamp_gte=low, timestamp_lte=high, limit=0)
            assert count == expected_count(low, high)
        with database(store_url) as connection:
            hours = connection.execute(
                text("SELECT hour, readings FROM reading_count ORDER BY hour")
            ).all()
        t0_hour = int(T0.timestamp()) // 3600
        assert [(hour - t0_hour, n) for hour, n in hours] == [
            (-24 * 365 * 60, 1),
            (-2, 1),
            (-1, 2),
            (0, 4),
            (1, 2),
            (2, 2),
            (5, 1),
        ]
    finally:
        store.close()


def test_deep_offsets_skip_whole_hours_exactly(store: ReadingStore) -> None:
    # 200 hours of minute readings, none in hours 10-12, two readings at some minutes (one on
    # an hour's first): offsets from 10,000 on skip whole hours by their counts.
    minutes = [minute for minute in range(200 * 60) if not 600 <= minute < 780]
    minutes += [0, 59, 60, 61, 1500, 11000]
    ids = store.writer.submit(METER, [reading(minute) for minute in minutes]).result(timeout=10)
    store.writer.submit(OTHER, [reading(minute) for minute in range(0, 12000, 7)]).result(10)
    rows = sorted(zip((T0 + timedelta(minutes=m) for m in minutes), ids, strict=True))
    microsecond = timedelta(microseconds=1)
    bounds = [
        (None, None),
        (T0 + timedelta(minutes=30), None),
        (None, T0 + timedelta(minutes=11700, seconds=30)),
        (T0 + timedelta(minutes=59, seconds=59), T0 + timedelta(hours=190) - microsecond),
        (T0 + timedelta(hours=1), T0 + timedelta(hours=199)),
    ]
    for low, high in bounds:
        matching = [
            (t, id_) for t, id_ in rows if (low is None or low <= t) and (high is None or t <= high)
        ]
        for descending in (False, True):
            ordered = matching[::-1] if descending else matching
            for offset in (
                999,
                1000,
                1001,
                1020,
                1100,
                1234,
                len(ordered) - 1,
                len(ordered),
                10**6,
            ):
                count, page = store.list_readings(
                    METER,
                    timestamp_gte=low,
                    timestamp_lte=high,
                    descending=descending,
                    limit=30,
                    offset=offset,
                )
                assert count == len(ordered)
                expected = [id_ for _, id_ in ordered[offset : offset + 30]]
                assert [r.id for r in page] == expected, (low, high, descending, offset)


def test_deep_offsets_within_partial_hours(store: ReadingStore) -> None:
    # 10,050 readings a tenth of a second apart in the range's first, partial hour, none in the
    # whole hours after it, 20 in the partial hour at its end.
    dense = [
        replace(reading(0), timestamp=T0 + timedelta(minutes=10, seconds=n / 10))
        for n in range(10_050)
    ]
    late = [reading(4 * 60 + minute) for minute in range(20)]
    ids = store.writer.submit(METER, dense + late).result(timeout=10)
    low, high = T0 + timedelta(minutes=5), T0 + timedelta(hours=4, minutes=30)
    for offset, expected in (
        (10_040, ids[10_040:10_050] + ids[10_050:10_065]),
        (10_060, ids[10_060:]),
    ):
        count, page = store.list_readings(
            METER, timestamp_gte=low, timestamp_lte=high, limit=25, offset=offset
        )
        assert (count, [r.id for r in page]) == (10_070, expected)
    count, page = store.list_readings(
        METER, timestamp_gte=low, timestamp_lte=high, descending=True, limit=5, offset=10_065
    )
    assert (count, [r.id for r in page]) == (10_070, ids[4::-1])
