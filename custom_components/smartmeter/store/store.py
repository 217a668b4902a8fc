"""The reading database: queries, and one writer thread that commits readings in groups.

Everything but GroupCommitWriter.submit blocks: Home Assistant runs it in its executor, and
awaits the writer's futures through asyncio.wrap_future.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
import queue
import sqlite3
import threading
from typing import Any, Final, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    Table,
    create_engine,
    event,
    func,
    insert,
    make_url,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError, SQLAlchemyError

from .errors import StoreBusy, StoreError
from .migrations import migrate
from .model import (
    MeterStatistics,
    Reading,
    StatisticsValue,
    StoredReading,
    datetime_to_us,
    reading_to_row,
    row_to_reading,
    row_to_statistics,
    statistics_to_row,
)
from .schema import HOUR_US, dsmr_reading, meter_statistics, reading_count

DEFAULT_MAX_QUEUE: Final = 10_000
# The one driver each database is used with: the one installed and tested.
_DRIVERS: Final = {"sqlite": "sqlite+pysqlite", "postgresql": "postgresql+psycopg"}
_INSERT_READINGS: Final = insert(dsmr_reading).returning(
    dsmr_reading.c.id, sort_by_parameter_order=True
)


@dataclass(slots=True)
class _Submission:
    meter: str
    rows: list[dict[str, object]]
    statistics: dict[str, StatisticsValue] | None
    future: Future[list[int]]


class GroupCommitWriter:
    """Write submissions on one thread; each transaction takes all that queued meanwhile.

    A commit has a fixed cost however few rows it holds (on PostgreSQL a WAL flush), so
    grouping the submissions that arrive during one transaction keeps up with many concurrent
    writers.
    """

    def __init__(self, engine: Engine, *, max_queue: int = DEFAULT_MAX_QUEUE) -> None:
        """Start the writer thread on a migrated engine."""
        self._engine = engine
        # None, queued by close(), tells the thread to stop once everything before it is written.
        self._queue: queue.Queue[_Submission | None] = queue.Queue(max_queue)
        # Makes "not closed, so queue" atomic: nothing may follow close()'s None.
        self._lock = threading.Lock()
        self._closed = False
        self._transactions = 0
        self._thread = threading.Thread(target=self._run, name="smartmeter-store-writer")
        self._thread.start()

    @property
    def transactions(self) -> int:
        """Return the number of transactions begun so far, failed ones included."""
        return self._transactions

    def submit(
        self,
        meter: str,
        readings: Sequence[Reading],
        statistics: Mapping[str, StatisticsValue] | None = None,
    ) -> Future[list[int]]:
        """Queue readings, and a partial update of the meter's statistics, for one transaction.

        Never blocks, so the event loop may call it. The future resolves with the readings'
        new ids, in order, once their transaction has committed, or fails with the database's
        exception. Cancelling it before the writer takes it up drops the submission. Raises
        ValueError or TypeError for values the database cannot hold, StoreBusy when the queue
        is full and StoreError once closed.
        """
        submission = _Submission(
            meter,
            [reading_to_row(meter, reading) for reading in readings],
            None if statistics is None else statistics_to_row(statistics),
            Future(),
        )
        with self._lock:
            if self._closed:
                raise StoreError("the reading database is closed")
            try:
                self._queue.put_nowait(submission)
            except queue.Full:
                raise StoreBusy("too many readings are waiting to be written") from None
        return submission.future

    def close(self) -> None:
        """Write everything queued, then stop the thread."""
        with self._lock:
            closing = not self._closed
            self._closed = True
        # Outside the lock, so that a submit() meanwhile fails at once instead of waiting for
        # room in a full queue; every submission it let in is already queued.
        if closing:
            self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch = [self._queue.get()]
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stopping = batch[-1] is None
            submissions = [
                submission
                for submission in batch
                if submission is not None and submission.future.set_running_or_notify_cancel()
            ]
            if submissions:
                self._commit(submissions)

    def _commit(self, submissions: list[_Submission]) -> None:
        try:
            ids = self._write(submissions)
        except (OperationalError, InterfaceError) as err:
            # The database itself is failing: retrying each submission would only wait longer.
            for submission in submissions:
                submission.future.set_exception(err)
        except Exception as err:
            if len(submissions) == 1:
                submissions[0].future.set_exception(err)
                return
            # One bad submission must not fail those that happened to share its transaction.
            for submission in submissions:
                self._commit([submission])
        else:
            start = 0
            for submission in submissions:
                end = start + len(submission.rows)
                submission.future.set_result(ids[start:end])
                start = end

    def _write(self, submissions: list[_Submission]) -> list[int]:
        rows = [row for submission in submissions for row in submission.rows]
        # Partial updates applied in order amount to one update with the later values winning.
        statistics: dict[str, dict[str, StatisticsValue]] = {}
        for submission in submissions:
            if submission.statistics is not None:
                statistics.setdefault(submission.meter, {}).update(submission.statistics)
        with self._engine.begin() as connection:
            self._transactions += 1
            ids = list(connection.scalars(_INSERT_READINGS, rows)) if rows else []
            _count_readings(connection, rows)
            for meter, values in statistics.items():
                _update_statistics(connection, meter, values)
        return ids


class ReadingStore:
    """The integration's reading database, on SQLite or PostgreSQL."""

    def __init__(self, engine: Engine, *, max_queue: int = DEFAULT_MAX_QUEUE) -> None:
        """Use a migrated engine; ReadingStore.open makes one from a URL."""
        self._engine = engine
        self._writer = GroupCommitWriter(engine, max_queue=max_queue)

    @classmethod
    def open(cls, url: str, *, max_queue: int = DEFAULT_MAX_QUEUE) -> ReadingStore:
        """Connect to a SQLAlchemy URL and bring its schema up to date.

        For example sqlite:////config/smartmeter.db (WAL mode) or
        postgresql+psycopg://user:password@host/database. Raises StoreError for anything
        else, an unreachable database or one written by a newer release.
        """
        engine = _create_engine(url)
        try:
            migrate(engine)
        except SQLAlchemyError as err:
            engine.dispose()
            raise StoreError(f"cannot use the reading database {engine.url}: {err}") from err
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, max_queue=max_queue)

    @property
    def writer(self) -> GroupCommitWriter:
        """Return the writer that adds readings."""
        return self._writer

    def list_readings(
        self,
        meter: str,
        *,
        timestamp_gte: datetime | None = None,
        timestamp_lte: datetime | None = None,
        timestamp_exact: datetime | None = None,
        descending: bool = False,
        limit: int = 25,
        offset: int = 0,
    ) -> tuple[int, list[StoredReading]]:
        """Return how many readings match (bounds inclusive) and one page of them.

        Ordered by timestamp, then by id. The count adds up reading_count's whole hours in the
        range and counts the readings of the partial hours at its ends, so it takes about as
        long for a year as for a day.
        """
        if limit < 0 or offset < 0:
            raise ValueError(f"limit {limit} and offset {offset} must not be negative")
        # The exact timestamp is a range of one microsecond.
        lows = [
            datetime_to_us(bound) for bound in (timestamp_gte, timestamp_exact) if bound is not None
        ]
        highs = [
            datetime_to_us(bound) for bound in (timestamp_lte, timestamp_exact) if bound is not None
        ]
        low = max(lows, default=None)
        high = min(highs, default=None)
        timestamp = dsmr_reading.c.timestamp
        order = (
            (timestamp.desc(), dsmr_reading.c.id.desc())
            if descending
            else (timestamp, dsmr_reading.c.id)
        )
        # Both use the (meter, timestamp) index; SQLite's holds the id too, as the rowid, and
        # PostgreSQL sorts the rare readings of equal timestamp by id (incremental sort).
        page = (
            select(dsmr_reading)
            .where(*_in_range(meter, low, high))
            .order_by(*order)
            .limit(limit)
            .offset(offset)
        )
        with self._engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                # Its default, READ COMMITTED, takes a snapshot per statement.
                connection.execution_options(isolation_level="REPEATABLE READ")
            # One transaction, so that the count and the page see the same rows.
            with connection.begin():
                count = connection.execute(select(_count(meter, low, high))).scalar_one()
                rows = connection.execute(page).mappings().all()
        return count, [row_to_reading(row) for row in rows]

    def get_statistics(self, meter: str) -> MeterStatistics:
        """Return a meter's statistics, created with their defaults the first time."""
        with self._engine.connect() as connection:
            row = connection.execute(_select_statistics(meter)).mappings().first()
        if row is None:
            return self.update_statistics(meter)
        return row_to_statistics(row)

    def update_statistics(self, meter: str, **fields: StatisticsValue) -> MeterStatistics:
        """Set some of a meter's statistics and return them all.

        Raises ValueError for a name that is not a MeterStatistics field.
        """
        values = statistics_to_row(fields)
        with self._engine.begin() as connection:
            _update_statistics(connection, meter, values)
            row = connection.execute(_select_statistics(meter)).mappings().one()
        return row_to_statistics(row)

    def count_rejected(self, meter: str, n: int = 1) -> None:
        """Add n to a meter's rejected telegrams, in the database so no increment is lost."""
        column = meter_statistics.c.rejected_telegrams
        with self._engine.begin() as connection:
            _ensure_statistics(connection, meter)
            connection.execute(
                update(meter_statistics)
                .where(meter_statistics.c.meter == meter)
                .values(rejected_telegrams=column + n)
            )

    def close(self) -> None:
        """Write what is queued, stop the writer and close the connections."""
        self._writer.close()
        self._engine.dispose()


def _create_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as err:
        raise StoreError(
            "the reading database needs a SQLAlchemy URL, such as sqlite:////path/to/file.db"
        ) from err
    backend = parsed.get_backend_name()
    driver = _DRIVERS.get(backend)
    if driver is None or parsed.drivername not in (backend, driver):
        raise StoreError(
            f"unsupported database {parsed.drivername}: use {' or '.join(_DRIVERS.values())}"
        )
    parsed = parsed.set(drivername=driver)
    if backend == "postgresql":
        # Connections idle in the pool may have been closed by a server restart.
        return create_engine(parsed, pool_pre_ping=True)
    if parsed.database in (None, "", ":memory:"):
        # SQLite gives every connection its own memory database: the writer would see nothing.
        raise StoreError("the SQLite reading database needs a file")
    engine = create_engine(parsed)
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(connection: sqlite3.Connection, _record: object) -> None:
    # pysqlite opens transactions itself but not before DDL, so a failed migration would keep
    # half its changes: turn that off and BEGIN in _sqlite_begin instead.
    connection.isolation_level = None
    cursor = connection.cursor()
    # Readers do not block the writer; NORMAL syncs at checkpoints, not at every commit, and a
    # power cut can cost the last commits but never consistency.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # SQLite enforces foreign keys only when asked, per connection.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")


def _in_range(meter: str, low: int | None, high: int | None) -> list[ColumnElement[bool]]:
    """Return the conditions of a meter's readings from low to high (inclusive, µs)."""
    conditions = [dsmr_reading.c.meter == meter]
    if low is not None:
        conditions.append(dsmr_reading.c.timestamp >= low)
    if high is not None:
        conditions.append(dsmr_reading.c.timestamp <= high)
    return conditions


def _count(meter: str, low: int | None, high: int | None) -> ColumnElement[int]:
    """Return an expression of how many of a meter's readings lie from low to high (inclusive).

    One statement, so that PostgreSQL takes one snapshot for all its parts.
    """

    def counted(low: int | None, high: int | None) -> ColumnElement[int]:
        query = select(func.count()).select_from(dsmr_reading).where(*_in_range(meter, low, high))
        return query.scalar_subquery()

    # The whole hours in the range: those from first to last.
    first = None if low is None else -(-low // HOUR_US)
    last = None if high is None else (high + 1) // HOUR_US - 1
    if first is not None and last is not None and first > last:
        # Less than two hours (or nothing, when low > high): count the readings themselves.
        return counted(low, high)
    hours = [reading_count.c.meter == meter]
    if first is not None:
        hours.append(reading_count.c.hour >= first)
    if last is not None:
        hours.append(reading_count.c.hour <= last)
    whole = select(func.sum(reading_count.c.readings)).where(*hours).scalar_subquery()
    total: ColumnElement[int] = func.coalesce(whole, 0)
    if low is not None and first is not None and low < first * HOUR_US:
        total += counted(low, first * HOUR_US - 1)
    if high is not None and last is not None and high >= (last + 1) * HOUR_US:
        total += counted((last + 1) * HOUR_US, high)
    return total


def _count_readings(connection: Connection, rows: list[dict[str, object]]) -> None:
    """Add new dsmr_reading rows to reading_count, in their transaction."""
    counts = Counter(
        (cast(str, row["meter"]), cast(int, row["timestamp"]) // HOUR_US) for row in rows
    )
    if not counts:
        return
    statement = _upsert(connection, reading_count)
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=[reading_count.c.meter, reading_count.c.hour],
            set_={"readings": reading_count.c.readings + statement.excluded.readings},
        ),
        # In key order, so that two writers on one PostgreSQL database cannot deadlock here.
        [
            {"meter": meter, "hour": hour, "readings": n}
            for (meter, hour), n in sorted(counts.items())
        ],
    )


def _upsert(connection: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """Return the INSERT of the connection's database, which has ON CONFLICT."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _select_statistics(meter: str) -> Select[Any]:
    return select(meter_statistics).where(meter_statistics.c.meter == meter)


def _ensure_statistics(connection: Connection, meter: str) -> None:
    """Create a meter's statistics row with its defaults unless it exists (django-solo's way)."""
    values = {"meter": meter, "timestamp": datetime_to_us(datetime.now(UTC))}
    # ON CONFLICT, so that two first calls at once do not both insert.
    connection.execute(
        _upsert(connection, meter_statistics).values(values).on_conflict_do_nothing()
    )


def _update_statistics(
    connection: Connection, meter: str, values: Mapping[str, StatisticsValue]
) -> None:
    _ensure_statistics(connection, meter)
    if values:
        connection.execute(
            update(meter_statistics).where(meter_statistics.c.meter == meter).values(values)
        )
