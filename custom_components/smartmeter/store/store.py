"""The reading database: queries, and one writer thread that commits readings in groups.

Everything but GroupCommitWriter.submit blocks: Home Assistant runs it in its executor, and
awaits the writer's futures through asyncio.wrap_future.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, tzinfo
import logging
import queue
import sqlite3
import threading
from time import monotonic
from typing import Any, Final, Literal, cast

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Engine,
    Select,
    Table,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    make_url,
    select,
    text,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError, SQLAlchemyError

from . import processing
from .driver import DriverStatement, execute, execute_many, returned
from .errors import DuplicateDay, StoreBusy, StoreError
from .frozen import frozen_file
from .migrations import migrate
from .model import (
    Capture,
    MeterStatistics,
    Reading,
    StatisticsValue,
    StoredReading,
    capture_to_row,
    datetime_to_us,
    reading_to_row,
    record_to_row,
    row_to_reading,
    row_to_record,
    row_to_statistics,
    statistics_to_row,
    us_to_datetime,
)
from .processing import Processor
from .records import (
    DayConsumption,
    DayStatistics,
    ElectricityConsumption,
    EnergySupplierPrice,
    GasConsumption,
    HourStatistics,
    ProcessingStatus,
    QuarterHourPeak,
    StoredDayStatistics,
    StoredEnergySupplierPrice,
)
from .schema import (
    HOUR_US,
    day_statistics,
    dsmr_reading,
    electricity_consumption,
    energy_supplier_price,
    gas_consumption,
    hour_statistics,
    mbus_capture,
    meter_statistics,
    processing_state,
    quarter_hour_peak,
    reading_count,
    record_count,
)
from .sql import upsert

_LOGGER: Final = logging.getLogger(__name__)

DEFAULT_MAX_QUEUE: Final = 10_000
# Processing runs at most this often (seconds) while readings keep coming: a meter sends one a
# second, so its records stay as fresh, and a burst (a datalogger catching up) is processed in
# a few large runs instead of one per commit, which would cost more than the writes. A run that
# left a backlog is followed at once, after the commits queued meanwhile.
PROCESS_EVERY: Final = 1.0
# The one driver each database is used with: the one installed and tested.
_DRIVERS: Final = {"sqlite": "sqlite+pysqlite", "postgresql": "postgresql+psycopg"}
_BEGIN: Final = DriverStatement(text("BEGIN"), sqlite.dialect())
_INSERT_READING: Final = insert(dsmr_reading).returning(dsmr_reading.c.id)


@dataclass(slots=True)
class _Submission:
    meter: str
    rows: list[dict[str, object]]
    statistics: dict[str, StatisticsValue] | None
    captures: list[dict[str, object]]
    future: Future[list[int]]


@dataclass(slots=True)
class _Task:
    """Work for the writer thread, once processing has caught up."""

    run: Callable[[], object]
    future: Future[Any] = field(default_factory=Future)


# What RecordType may be: the records list_records lists.
type Record = (
    ElectricityConsumption
    | GasConsumption
    | QuarterHourPeak
    | HourStatistics
    | StoredDayStatistics
    | StoredEnergySupplierPrice
)
type FilterOperator = Literal["gte", "lte", "exact"]


class CommitStatements:
    """The statements of every commit of readings, compiled for one database's driver."""

    def __init__(self, engine: Engine) -> None:
        """Compile for the engine's dialect."""
        self._dialect = engine.dialect
        self.insert_reading = DriverStatement(
            _INSERT_READING, self._dialect, _columns(dsmr_reading, "id")
        )
        self.add_to_count = DriverStatement(_ADD_TO_COUNT, self._dialect)
        self.insert_capture = DriverStatement(
            upsert(engine, mbus_capture).on_conflict_do_nothing(),
            self._dialect,
            _columns(mbus_capture),
        )
        # Per set of statistics updated together: the few sets that the code writes.
        self._update_statistics: dict[tuple[str, ...], DriverStatement] = {}

    def update_statistics(self, names: tuple[str, ...]) -> DriverStatement:
        """Return the UPDATE of a meter's statistics that sets the named ones."""
        statement = self._update_statistics.get(names)
        if statement is None:
            statement = DriverStatement(_UPDATE_STATISTICS, self._dialect, names)
            self._update_statistics[names] = statement
        return statement


def _columns(table: Table, *leaving_out: str) -> list[str]:
    return [column.key for column in table.columns if column.key not in leaving_out]


class GroupCommitWriter:
    """Write submissions on one thread; each transaction takes all that queued meanwhile.

    A commit has a fixed cost however few rows it holds (on PostgreSQL a WAL flush), so
    grouping the submissions that arrive during one transaction keeps up with many concurrent
    writers.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        processor: Processor | None = None,
        max_queue: int = DEFAULT_MAX_QUEUE,
    ) -> None:
        """Start the writer thread on a migrated engine.

        With a processor, the thread processes the readings of each committed batch once their
        futures are resolved, and catches up with what is left whenever its queue is empty.
        Processing goes a run at a time (see Processor.process), and what is submitted meanwhile
        is committed before the next run: a submission waits for one run at most.
        """
        self._engine = engine
        self.statements = CommitStatements(engine)
        self._processor = processor
        # None, queued by close(), tells the thread to stop once everything before it is written.
        self._queue: queue.Queue[_Submission | _Task | None] = queue.Queue(max_queue)
        # Makes "not closed, so queue" atomic: nothing may follow close()'s None.
        self._lock = threading.Lock()
        self._closed = False
        self._transactions = 0
        self._processed_at = -PROCESS_EVERY
        self._listeners: tuple[Callable[[Mapping[str, int]], None], ...] = ()
        # The newest committed capture (time, value) per meter, kind and channel: what a
        # capture must differ from to be worth writing.
        self._newest_captures: dict[tuple[str, str, int], tuple[int, int]] = {}
        # Set to end the current hold (see hold()).
        self._resumed: threading.Event | None = None
        self._thread = threading.Thread(target=self._run, name="smartmeter-store-writer")
        self._thread.start()

    @property
    def transactions(self) -> int:
        """Return the number of transactions begun so far, failed ones included."""
        return self._transactions

    def add_listener(self, listener: Callable[[Mapping[str, int]], None]) -> Callable[[], None]:
        """Call listener on the writer thread after each commit of readings; return its remover.

        It gets, per meter, the earliest time (µs) among the committed readings' timestamps
        and the new water and heat captures: what the meter's readings tell may have changed
        from then on, give or take the two hours in which a later telegram may show a gas
        capture (longterm.affected_from). A gas capture time itself is left out: a meter whose
        gas stopped reporting years ago shows that old capture in every telegram.
        """
        self._listeners = (*self._listeners, listener)

        def remove() -> None:
            self._listeners = tuple(other for other in self._listeners if other is not listener)

        return remove

    def submit(
        self,
        meter: str,
        readings: Sequence[Reading],
        statistics: Mapping[str, StatisticsValue] | None = None,
        captures: Sequence[Capture] = (),
    ) -> Future[list[int]]:
        """Queue readings, a partial update of the meter's statistics and captures, together.

        They are written in one transaction. A water or heat capture already stored, or later
        than its channel's newest and at the same position, is left out: it adds nothing.

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
            [capture_to_row(meter, capture) for capture in captures],
            Future(),
        )
        self._queue_item(submission)
        return submission.future

    def run(self, task: Callable[[], object]) -> Future[Any]:
        """Queue work for the writer thread, after everything queued before and its processing.

        The future resolves with the work's result or exception; with StoreError when the
        writer is closed before processing caught up. Raises StoreBusy when the queue is full
        and StoreError once closed.
        """
        job = _Task(task)
        self._queue_item(job)
        return job.future

    def hold[T](self, frozen: Callable[[], AbstractContextManager[T]]) -> Future[T]:
        """Stop writing until resume(), once everything queued before is written and processed.

        The writer thread enters frozen() and stays in it until resumed; the future resolves
        with what it yields once the writer holds, or fails with its exception; cancelling it
        before the writer comes to it drops the hold. Submissions queue meanwhile, within the
        queue's bound, and are written once resumed. A new hold and close() resume an earlier
        one. Raises StoreBusy when the queue is full and StoreError once closed.
        """
        held: Future[T] = Future()
        resumed = threading.Event()

        def hold() -> None:
            if not held.set_running_or_notify_cancel():
                return  # given up before the writer came to it
            with frozen() as value:
                held.set_result(value)
                resumed.wait()

        def ended(job: Future[Any]) -> None:
            if (err := job.exception()) is None:
                return
            if held.done():
                _LOGGER.error("Ending a hold of the writer failed: %s", err)
            else:
                held.set_exception(err)

        self.resume()
        # Before queueing, so that a close() from now on resumes it.
        with self._lock:
            self._resumed = resumed
        try:
            job = self.run(hold)
        except StoreError:
            resumed.set()
            raise
        job.add_done_callback(ended)
        return held

    def resume(self) -> bool:
        """End the hold; return whether there was one (False: resumed or closed since)."""
        with self._lock:
            resumed, self._resumed = self._resumed, None
        if resumed is None:
            return False
        resumed.set()
        return True

    def _queue_item(self, item: _Submission | _Task) -> None:
        with self._lock:
            if self._closed:
                raise StoreError("the reading database is closed")
            try:
                self._queue.put_nowait(item)
            except queue.Full:
                raise StoreBusy("too many readings are waiting to be written") from None

    def close(self) -> None:
        """Write everything queued, then stop the thread.

        Processing stops after its current run, and a run for the late readings that only it
        knows of; the rest is resumed on the next start, from processing_state. Work queued
        with run() that still waits for processing fails with StoreError.
        """
        with self._lock:
            closing = not self._closed
            self._closed = True
        self.resume()
        # Outside the lock, so that a submit() meanwhile fails at once instead of waiting for
        # room in a full queue; every submission it let in is already queued.
        if closing:
            self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        processor = self._processor
        # Work taken from the queue that waits for processing to catch up, in order, and
        # close()'s None after it.
        waiting: deque[_Task | None] = deque()
        while True:
            batch = self._take(wait=not waiting)
            submissions = [
                item
                for item in batch
                if isinstance(item, _Submission) and item.future.set_running_or_notify_cancel()
            ]
            if submissions:
                self._commit(submissions)
            waiting.extend(item for item in batch if not isinstance(item, _Submission))
            if waiting and waiting[-1] is None:
                self._stop(waiting)
                return
            if waiting:
                if processor is not None and processor.due:
                    # Catching up for the work waiting: a run at a time, commits in between.
                    self._process(processor)
                else:
                    self._run_tasks(waiting)
            elif processor is not None and (not batch or self._processing_wait() == 0):
                self._process(processor)

    def _take(self, *, wait: bool) -> list[_Submission | _Task | None]:
        """Return what is queued; with wait, wait for it until processing may run.

        Empty only when the wait ended with nothing queued: processing may run.
        """
        batch: list[_Submission | _Task | None] = []
        if wait:
            try:
                batch.append(self._queue.get(timeout=self._processing_wait()))
            except queue.Empty:
                return batch
        while True:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                return batch

    def _processing_wait(self) -> float | None:
        """Return the seconds until processing may run, None when it has nothing to do."""
        if self._processor is None or not self._processor.due:
            return None
        if self._processor.behind:
            return 0.0
        return max(0.0, self._processed_at + PROCESS_EVERY - monotonic())

    def _process(self, processor: Processor) -> None:
        """Run the processing of each due meter once; stop early when something is queued."""
        self._processed_at = monotonic()
        for index, meter in enumerate(sorted(processor.due)):
            if index and not self._queue.empty():
                # Committed first; the other meters follow in the next round.
                return
            self._process_meter(processor, meter)

    def _process_meter(self, processor: Processor, meter: str) -> None:
        try:
            processor.process(meter)
        except Exception:
            # The readings are stored: the next batch of the meter retries.
            _LOGGER.exception("Processing the readings of meter %s failed", meter)
            processor.defer(meter)

    def _run_tasks(self, tasks: deque[_Task | None]) -> None:
        while tasks:
            task = tasks.popleft()
            if task is not None and task.future.set_running_or_notify_cancel():
                try:
                    task.future.set_result(task.run())
                except Exception as err:  # the caller gets it
                    task.future.set_exception(err)

    def _stop(self, waiting: deque[_Task | None]) -> None:
        """Process the late readings only this thread knows of; run or fail what waits."""
        processor = self._processor
        if processor is not None:
            for meter in sorted(processor.noted):
                self._process_meter(processor, meter)
            if processor.due:
                error = StoreError("the reading database closed before processing caught up")
                for task in waiting:
                    if task is not None and task.future.set_running_or_notify_cancel():
                        task.future.set_exception(error)
                return
        self._run_tasks(waiting)

    def _commit(self, submissions: list[_Submission]) -> None:
        try:
            ids, captures, newest = self._write(submissions)
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
            self._newest_captures = newest
            if self._processor is not None:
                self._processor.readings_written(
                    row for submission in submissions for row in submission.rows
                )
            if self._listeners:
                self._notify(submissions, captures)

    def _notify(self, submissions: list[_Submission], captures: list[dict[str, object]]) -> None:
        earliest: dict[str, int] = {}

        def note(meter: str, time_us: int) -> None:
            if time_us < earliest.get(meter, time_us + 1):
                earliest[meter] = time_us

        for submission in submissions:
            for row in submission.rows:
                note(submission.meter, cast(int, row["timestamp"]))
        for capture in captures:
            note(cast(str, capture["meter"]), cast(int, capture["captured"]))
        if not earliest:
            return
        for listener in self._listeners:
            try:
                listener(earliest)
            except Exception:
                # A listener's failure is its own: the readings are stored.
                _LOGGER.exception("A listener of committed readings failed")

    def _write(
        self, submissions: list[_Submission]
    ) -> tuple[list[int], list[dict[str, object]], dict[_CaptureKey, tuple[int, int]]]:
        """Commit submissions; return the readings' ids, the captures written, the newest ones."""
        rows = [row for submission in submissions for row in submission.rows]
        captures, newest = _new_captures(
            [row for submission in submissions for row in submission.captures],
            self._newest_captures,
        )
        # Partial updates applied in order amount to one update with the later values winning.
        statistics: dict[str, dict[str, StatisticsValue]] = {}
        for submission in submissions:
            if submission.statistics is not None:
                statistics.setdefault(submission.meter, {}).update(submission.statistics)
        statements = self.statements
        with self._engine.begin() as connection:
            self._transactions += 1
            ids = [returned(connection, statements.insert_reading, row) for row in rows]
            _count_readings(connection, statements, rows)
            for meter, values in statistics.items():
                _update_statistics(connection, statements, meter, values)
            if captures:
                execute_many(connection, statements.insert_capture, captures)
        return ids, captures, newest


class ReadingStore:
    """The integration's reading database, on SQLite or PostgreSQL.

    Readings come in through the writer, which also processes them into DSMR-reader's records
    (see processing.py); everything else here blocks, for an executor.
    """

    def __init__(
        self, engine: Engine, *, time_zone: tzinfo = UTC, max_queue: int = DEFAULT_MAX_QUEUE
    ) -> None:
        """Use a migrated engine; ReadingStore.open makes one from a URL."""
        self._engine = engine
        self._time_zone = time_zone
        self._processor = Processor(engine, time_zone)
        # What an earlier run left: readings stored but not processed.
        self._processor.resume()
        self._writer = GroupCommitWriter(engine, processor=self._processor, max_queue=max_queue)

    @classmethod
    def open(
        cls, url: str, *, time_zone: tzinfo = UTC, max_queue: int = DEFAULT_MAX_QUEUE
    ) -> ReadingStore:
        """Connect to a SQLAlchemy URL and bring its schema up to date.

        For example sqlite:////config/smartmeter.db (WAL mode) or
        postgresql+psycopg://user:password@host/database. Day statistics are made for local
        days in time_zone. Raises StoreError for anything else, an unreachable database or one
        written by a newer release.
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
        try:
            return cls(engine, time_zone=time_zone, max_queue=max_queue)
        except SQLAlchemyError as err:
            engine.dispose()
            raise StoreError(f"cannot use the reading database {engine.url}: {err}") from err

    @property
    def writer(self) -> GroupCommitWriter:
        """Return the writer that adds readings."""
        return self._writer

    def read(self) -> AbstractContextManager[Connection]:
        """Return a connection in a transaction whose statements all see the same rows.

        For the queries of modules built on the store (long-term statistics); blocks.
        """
        return self._snapshot()

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
        long for a year as for a day. A deep offset skips whole hours by their counts too.
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
        with self._snapshot() as connection:
            count = connection.execute(select(_count(_READINGS, meter, low, high))).scalar_one()
            if offset >= _SEEK_FROM:
                low, high, offset = _seek(
                    connection, _READINGS, meter, low, high, offset=offset, descending=descending
                )
            # Both use the (meter, timestamp) index; SQLite's holds the id too, as the rowid,
            # and PostgreSQL sorts the rare readings of equal timestamp by id (incremental sort).
            page = (
                select(dsmr_reading)
                .where(*_in_range(_READINGS, meter, low, high))
                .order_by(*order)
                .limit(limit)
                .offset(offset)
            )
            rows = connection.execute(page).mappings().all()
        return count, [row_to_reading(row) for row in rows]

    def list_records[RecordT: Record](
        self,
        record_type: type[RecordT],
        meter: str,
        *,
        filters: Sequence[tuple[str, FilterOperator, datetime | date]] = (),
        ordering: Sequence[tuple[str, bool]] = (),
        limit: int = 25,
        offset: int = 0,
    ) -> tuple[int, list[RecordT]]:
        """Return how many of a meter's records match and one page of them, in one transaction.

        record_type is ElectricityConsumption, GasConsumption, QuarterHourPeak,
        HourStatistics, StoredDayStatistics or StoredEnergySupplierPrice. filters are
        (field, "gte" | "lte" | "exact", value) on the record's datetime fields (aware
        datetimes) or date fields (dates: day, start, end), bounds inclusive. ordering is
        (field, descending) pairs, any field of the record; without one the records come by
        their time or day (read_at, read_at_start, hour_start, day, start), ascending; the id
        breaks ties in the direction of the last pair. Counts of minute and gas records take
        about as long for a year as for a day, as list_readings's. Raises ValueError for an
        unknown record type, field or operator, a negative limit or offset.
        """
        if limit < 0 or offset < 0:
            raise ValueError(f"limit {limit} and offset {offset} must not be negative")
        listed = _LISTED.get(record_type)
        if listed is None:
            raise ValueError(f"{record_type.__name__} records are not listed")
        table = listed.table
        conditions, count = _record_filters(listed, meter, filters)
        for name, _ in ordering:
            if name not in listed.fields:
                raise ValueError(f"no field {name!r} to order by")
        order = [
            (table.c[name].desc() if descending else table.c[name]) for name, descending in ordering
        ] or [table.c[listed.default_order]]
        last_descending = bool(ordering) and ordering[-1][1]
        order.append(table.c.id.desc() if last_descending else table.c.id)
        page = select(table).where(*conditions).order_by(*order).limit(limit).offset(offset)
        with self._snapshot() as connection:
            matching = connection.execute(select(count)).scalar_one()
            rows = connection.execute(page).mappings().all()
        return matching, [row_to_record(record_type, row) for row in rows]

    def latest_reading(self, meter: str) -> StoredReading | None:
        """Return a meter's newest reading (by timestamp, then id), None without any."""
        with self._engine.connect() as connection:
            row = (
                connection.execute(
                    select(dsmr_reading)
                    .where(dsmr_reading.c.meter == meter)
                    .order_by(dsmr_reading.c.timestamp.desc(), dsmr_reading.c.id.desc())
                    .limit(1)
                )
                .mappings()
                .first()
            )
        return None if row is None else row_to_reading(row)

    def latest_gas(self, meter: str) -> GasConsumption | None:
        """Return a meter's newest gas record (by read_at), None without any."""
        with self._engine.connect() as connection:
            row = (
                connection.execute(
                    select(gas_consumption)
                    .where(gas_consumption.c.meter == meter)
                    .order_by(gas_consumption.c.read_at.desc())
                    .limit(1)
                )
                .mappings()
                .first()
            )
        return None if row is None else row_to_record(GasConsumption, row)

    def day_consumption(self, meter: str, day: date) -> DayConsumption | None:
        """Return DSMR-reader's day_consumption of a local day, None without minute records.

        The day's energy and gas are the boundary differences the day statistics use (see
        processing.py), today's up to the latest records; gas is 0 without gas records. Costs
        use the day's merged prices, all 0 without a contract.
        """
        with self._snapshot() as connection:
            contracts = processing.load_contracts(connection, meter)
            return processing.day_consumption(connection, meter, day, self._time_zone, contracts)

    def day_prices(self, meter: str, day: date) -> EnergySupplierPrice | None:
        """Return a meter's prices of a day, merged as DSMR-reader's get_day_prices.

        None when no contract covers the day.
        """
        with self._engine.connect() as connection:
            contracts = processing.load_contracts(connection, meter)
        return processing.merge_prices(day, contracts)

    def add_day_statistics(self, meter: str, statistics: DayStatistics) -> StoredDayStatistics:
        """Store day statistics from elsewhere (imported history); processing never changes them.

        Runs on the writer thread, after what is queued. Raises DuplicateDay when the meter has
        statistics of that day, ValueError for a naive datetime or a value with more decimals
        than its column keeps (2 for costs, 3 for energy and gas, 1 for temperatures).
        """
        row = {"meter": meter, "imported": True, **record_to_row(statistics)}

        def add() -> StoredDayStatistics:
            with self._engine.begin() as connection:
                inserted = (
                    connection.execute(
                        upsert(connection, day_statistics)
                        .values(row)
                        .on_conflict_do_nothing()
                        .returning(day_statistics)
                    )
                    .mappings()
                    .first()
                )
            if inserted is None:
                raise DuplicateDay(f"meter {meter} has day statistics of {statistics.day}")
            return row_to_record(StoredDayStatistics, inserted)

        return cast(StoredDayStatistics, self._writer.run(add).result())

    def replace_prices(self, meter: str, contracts: Sequence[EnergySupplierPrice]) -> None:
        """Replace a meter's energy contracts and recompute the costs they change.

        The costs of the generated day statistics of every day an old or new contract covers
        are recomputed with the new contracts; imported ones are left as they are. Runs on the
        writer thread, after what is queued. Raises ValueError for a price with more than 6
        decimals.
        """
        for contract in contracts:
            record_to_row(contract)

        def replace() -> None:
            with self._engine.begin() as connection:
                self._processor.replace_prices(connection, meter, contracts)

        self._writer.run(replace).result()

    def processing_status(self, meter: str) -> ProcessingStatus:
        """Return how far processing got: DSMR-reader's monitoring needs.

        Unprocessed readings are those at or after the minute frontier: the newest minute's
        always, until a later reading comes.
        """
        with self._snapshot() as connection:
            frontier = connection.scalar(
                select(processing_state.c.minute_frontier).where(processing_state.c.meter == meter)
            )
            count = connection.execute(select(_count(_READINGS, meter, frontier, None))).scalar()
            oldest = connection.scalar(
                select(func.min(dsmr_reading.c.timestamp)).where(
                    *_in_range(_READINGS, meter, frontier, None)
                )
            )
            latest_day = connection.scalar(
                select(func.max(day_statistics.c.day)).where(day_statistics.c.meter == meter)
            )
        return ProcessingStatus(
            unprocessed_readings=count or 0,
            oldest_unprocessed=None if oldest is None else us_to_datetime(oldest),
            latest_day=latest_day,
        )

    def apply_retention(self, meter: str, older_than: datetime, max_hours: int = 24) -> int:
        """Thin a meter's old readings, minute and gas records; return how many were deleted.

        As DSMR-reader's retention: every UTC hour before older_than with more than 2 rows
        keeps only its first and last, at most max_hours hours of each table per call. Only
        what processing is done with is thinned: readings made into minute records and peaks,
        records made into hour statistics. The counts stay exact; statistics are kept. Runs on
        the writer thread, after what is queued and its processing.
        """
        limit = datetime_to_us(older_than)

        def thin() -> int:
            with self._engine.begin() as connection:
                state = processing_state.c
                processed = connection.execute(
                    select(
                        state.minute_frontier, state.quarter_frontier, state.hour_frontier
                    ).where(state.meter == meter)
                ).first()
                if processed is None:
                    return 0
                # Readings the peaks are made of, records the hours are made of.
                readings_until = min(limit, processed.minute_frontier, processed.quarter_frontier)
                records_until = min(limit, processed.hour_frontier)
                return sum(
                    _thin(connection, counted, meter, until, max_hours)
                    for counted, until in (
                        (_READINGS, readings_until),
                        (_COUNTED_MINUTES, records_until),
                        (_COUNTED_GAS, records_until),
                    )
                )

        return cast(int, self._writer.run(thin).result())

    def wait_processed(self) -> None:
        """Wait until everything submitted before is written and processed.

        Raises what the writer raised; StoreError once closed.
        """
        self._writer.run(lambda: None).result()

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
            _update_statistics(connection, self._writer.statements, meter, values)
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

    def hold_for_backup(self) -> Future[bool]:
        """Keep a SQLite file unchanged for a copy, once the readings queued are written.

        The writer checkpoints the write-ahead log into the file and holds until
        resume_after_backup() or close(): readings submitted meanwhile queue and are written
        then. The future resolves once it holds, with whether the file alone has every commit
        and stays unchanged (see frozen_file). A database on PostgreSQL is not a file to copy:
        nothing is held, and the future is resolved with True.
        """
        if self._engine.dialect.name != "sqlite":
            nothing: Future[bool] = Future()
            nothing.set_result(True)
            return nothing
        return self._writer.hold(self._frozen_file)

    def resume_after_backup(self) -> bool:
        """Write again; return whether the hold lasted until now (False: resumed or closed since).

        Always True on PostgreSQL, where nothing is held.
        """
        return self._engine.dialect.name != "sqlite" or self._writer.resume()

    @contextmanager
    def _frozen_file(self) -> Iterator[bool]:
        with self._engine.connect() as connection:
            driver = cast(sqlite3.Connection, connection.connection.driver_connection)
            try:
                with frozen_file(driver) as complete:
                    yield complete
            except sqlite3.Error as err:
                raise StoreError(f"cannot hold the reading database: {err}") from err

    def close(self) -> None:
        """Write what is queued, stop the writer and close the connections."""
        self._writer.close()
        self._engine.dispose()

    @contextmanager
    def _snapshot(self) -> Iterator[Connection]:
        """Yield a connection in a transaction whose statements all see the same rows."""
        with self._engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                # Its default, READ COMMITTED, takes a snapshot per statement.
                connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                yield connection


@dataclass(frozen=True, slots=True)
class _Counted:
    """Rows counted per meter and UTC hour of a time column, for fast counts of a range."""

    table: Table
    time: str
    counts: Table
    number: str
    # Further key columns of the counts' rows: which table they count.
    key: Mapping[str, str]


_READINGS: Final = _Counted(dsmr_reading, "timestamp", reading_count, "readings", {})
_COUNTED_MINUTES: Final = _Counted(
    electricity_consumption,
    "read_at",
    record_count,
    "records",
    {"record": electricity_consumption.name},
)
_COUNTED_GAS: Final = _Counted(
    gas_consumption, "read_at", record_count, "records", {"record": gas_consumption.name}
)


@dataclass(frozen=True, slots=True)
class _Listed:
    """How list_records finds one kind of record."""

    table: Table
    default_order: str
    # Datetime fields, kept as µs, and date fields.
    times: frozenset[str]
    dates: frozenset[str]
    fields: frozenset[str]
    counted: _Counted | None = None


def _listed(
    record_type: type[Any],
    table: Table,
    default_order: str,
    *,
    times: frozenset[str] = frozenset(),
    dates: frozenset[str] = frozenset(),
    counted: _Counted | None = None,
) -> _Listed:
    names = frozenset(f.name for f in fields(record_type))
    return _Listed(table, default_order, times, dates, names, counted)


_LISTED: Final[Mapping[type[Any], _Listed]] = {
    ElectricityConsumption: _listed(
        ElectricityConsumption,
        electricity_consumption,
        "read_at",
        times=frozenset({"read_at"}),
        counted=_COUNTED_MINUTES,
    ),
    GasConsumption: _listed(
        GasConsumption,
        gas_consumption,
        "read_at",
        times=frozenset({"read_at"}),
        counted=_COUNTED_GAS,
    ),
    QuarterHourPeak: _listed(
        QuarterHourPeak,
        quarter_hour_peak,
        "read_at_start",
        times=frozenset({"read_at_start", "read_at_end"}),
    ),
    HourStatistics: _listed(
        HourStatistics, hour_statistics, "hour_start", times=frozenset({"hour_start"})
    ),
    StoredDayStatistics: _listed(
        StoredDayStatistics,
        day_statistics,
        "day",
        times=frozenset({"electricity_reading_timestamp", "gas_reading_timestamp"}),
        dates=frozenset({"day"}),
    ),
    StoredEnergySupplierPrice: _listed(
        StoredEnergySupplierPrice,
        energy_supplier_price,
        "start",
        dates=frozenset({"start", "end"}),
    ),
}


def _record_filters(
    listed: _Listed, meter: str, filters: Sequence[tuple[str, FilterOperator, datetime | date]]
) -> tuple[list[ColumnElement[bool]], ColumnElement[int]]:
    """Return the conditions of a meter's records that pass filters, and how to count them."""
    table = listed.table
    conditions: list[ColumnElement[bool]] = [table.c.meter == meter]
    # Bounds of the counted time column, for the fast count.
    low: int | None = None
    high: int | None = None
    only_counted_time = True
    for name, operator, value in filters:
        if operator not in ("gte", "lte", "exact"):
            raise ValueError(f"unknown filter operator {operator!r}")
        column, bound = _filter_value(listed, name, value)
        if operator != "lte":
            conditions.append(column >= bound)
        if operator != "gte":
            conditions.append(column <= bound)
        if listed.counted is None or name != listed.counted.time:
            only_counted_time = False
        elif isinstance(bound, int):
            if operator != "lte":
                low = bound if low is None else max(low, bound)
            if operator != "gte":
                high = bound if high is None else min(high, bound)
    if listed.counted is not None and only_counted_time:
        return conditions, _count(listed.counted, meter, low, high)
    return conditions, select(func.count()).select_from(table).where(*conditions).scalar_subquery()


def _filter_value(
    listed: _Listed, name: str, value: datetime | date
) -> tuple[Column[Any], int | date]:
    """Return the column a filter compares and the value it compares it with."""
    if name in listed.times:
        if not isinstance(value, datetime):
            raise ValueError(f"{name} is compared with a datetime, not {value!r}")
        return listed.table.c[name], datetime_to_us(value)
    if name in listed.dates:
        if isinstance(value, datetime) or not isinstance(value, date):
            raise ValueError(f"{name} is compared with a date, not {value!r}")
        return listed.table.c[name], value
    raise ValueError(f"no datetime or date field {name!r} to filter on")


def _thin(connection: Connection, counted: _Counted, meter: str, until: int, max_hours: int) -> int:
    """Keep the first and last row of a meter's hours before until with more than 2 rows.

    At most max_hours hours; return how many rows were deleted.
    """
    counts = counted.counts.c
    key = [counts[name] == value for name, value in counted.key.items()]
    hours = connection.scalars(
        select(counts.hour)
        .where(
            *key,
            counts.meter == meter,
            counts[counted.number] > 2,
            counts.hour < until // HOUR_US,
        )
        .order_by(counts.hour)
        .limit(max_hours)
    ).all()
    table = counted.table
    time = table.c[counted.time]
    deleted = 0
    for hour in hours:
        in_hour = _in_range(counted, meter, hour * HOUR_US, (hour + 1) * HOUR_US - 1)
        first = select(table.c.id).where(*in_hour).order_by(time, table.c.id).limit(1)
        last = select(table.c.id).where(*in_hour).order_by(time.desc(), table.c.id.desc()).limit(1)
        kept = [connection.scalar(first), connection.scalar(last)]
        deleted += connection.execute(
            delete(table).where(*in_hour, table.c.id.not_in(kept))
        ).rowcount
        connection.execute(
            update(counted.counts)
            .where(*key, counts.meter == meter, counts.hour == hour)
            .values({counted.number: 2})
        )
    return deleted


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
    # On the driver's cursor: SQLAlchemy's execution would cost more than the BEGIN itself.
    execute(connection, _BEGIN, {})


def _in_range(
    counted: _Counted, meter: str, low: int | None, high: int | None
) -> list[ColumnElement[bool]]:
    """Return the conditions of a meter's rows from low to high (inclusive, µs)."""
    table = counted.table
    conditions = [table.c.meter == meter]
    if low is not None:
        conditions.append(table.c[counted.time] >= low)
    if high is not None:
        conditions.append(table.c[counted.time] <= high)
    return conditions


def _count(counted: _Counted, meter: str, low: int | None, high: int | None) -> ColumnElement[int]:
    """Return an expression of how many of a meter's rows lie from low to high (inclusive).

    It adds up the counts of the whole hours in the range and counts the rows of the partial
    hours at its ends. One statement, so that PostgreSQL takes one snapshot for all its parts.
    """

    def counted_rows(low: int | None, high: int | None) -> ColumnElement[int]:
        query = (
            select(func.count())
            .select_from(counted.table)
            .where(*_in_range(counted, meter, low, high))
        )
        return query.scalar_subquery()

    # The whole hours in the range: those from first to last.
    first = None if low is None else -(-low // HOUR_US)
    last = None if high is None else (high + 1) // HOUR_US - 1
    if first is not None and last is not None and first > last:
        # Less than two hours (or nothing, when low > high): count the rows themselves.
        return counted_rows(low, high)
    counts = counted.counts.c
    hours = [counts.meter == meter, *(counts[name] == value for name, value in counted.key.items())]
    if first is not None:
        hours.append(counts.hour >= first)
    if last is not None:
        hours.append(counts.hour <= last)
    whole = select(func.sum(counts[counted.number])).where(*hours).scalar_subquery()
    total: ColumnElement[int] = func.coalesce(whole, 0)
    if low is not None and first is not None and low < first * HOUR_US:
        total += counted_rows(low, first * HOUR_US - 1)
    if high is not None and last is not None and high >= (last + 1) * HOUR_US:
        total += counted_rows((last + 1) * HOUR_US, high)
    return total


# Offsets from which list_readings skips whole hours by their counts. The databases step through
# the rows an offset skips, about 0.1 µs each on SQLite and 0.3-1.5 µs on PostgreSQL (which
# visits each row): 1-2 s and 20-25 s for half a year of one-second readings. Adding up the
# counts takes 5-15 ms for a year's hours, as long as skipping ~10,000 rows.
_SEEK_FROM: Final = 10_000


def _seek(
    connection: Connection,
    counted: _Counted,
    meter: str,
    low: int | None,
    high: int | None,
    *,
    offset: int,
    descending: bool,
) -> tuple[int | None, int | None, int]:
    """Return a narrower range and smaller offset that select the same rows as those given.

    The rows skipped are the partial hour at the range's start (its end when descending),
    counted, then the whole hours that the offset passes, added up from their counts in the
    order of the page. Needs the counts of the transaction's snapshot.
    """
    unchanged = (low, high, offset)
    first = None if low is None else -(-low // HOUR_US)
    last = None if high is None else (high + 1) // HOUR_US - 1
    # The partial hour the page starts in, before any whole one.
    if descending:
        partial = None if high is None or last is None else ((last + 1) * HOUR_US, high)
    else:
        partial = None if low is None or first is None else (low, first * HOUR_US - 1)
    if partial is not None and partial[0] <= partial[1]:
        offset -= connection.execute(
            select(func.count())
            .select_from(counted.table)
            .where(*_in_range(counted, meter, *partial))
        ).scalar_one()
        if offset < 0:
            return unchanged
    counts = counted.counts.c
    hours = [counts.meter == meter, *(counts[name] == value for name, value in counted.key.items())]
    if first is not None:
        hours.append(counts.hour >= first)
    if last is not None:
        hours.append(counts.hour <= last)
    number = counts[counted.number]
    direction = counts.hour.desc() if descending else counts.hour
    # Per hour, the rows of the whole hours before it in the page's order.
    walked = (
        select(
            counts.hour,
            number,
            (func.sum(number).over(order_by=direction) - number).label("before"),
        )
        .where(*hours)
        .subquery()
    )
    found = connection.execute(
        select(walked.c.hour, walked.c.before)
        .where(walked.c.before + walked.c[counted.number] > offset)
        .order_by(walked.c.hour.desc() if descending else walked.c.hour)
        .limit(1)
    ).first()
    if found is None:
        # Past every whole hour: on into the partial hour at the other end, if any.
        end, total = connection.execute(
            select(
                func.min(counts.hour) if descending else func.max(counts.hour), func.sum(number)
            ).where(*hours)
        ).one()
        if end is None:
            return unchanged
        hour, before = (end - 1 if descending else end + 1), total
    else:
        hour, before = found
    if descending:
        return low, (hour + 1) * HOUR_US - 1, offset - before
    return hour * HOUR_US, high, offset - before


# Adds to an hour's count.
_ADD_TO_COUNT: Final = (
    update(reading_count)
    .where(
        reading_count.c.meter == bindparam("count_meter"),
        reading_count.c.hour == bindparam("count_hour"),
    )
    .values(readings=reading_count.c.readings + bindparam("count_readings"))
)


def _count_readings(
    connection: Connection, statements: CommitStatements, rows: list[dict[str, object]]
) -> None:
    """Add new dsmr_reading rows to reading_count, in their transaction."""
    counts = Counter(
        (cast(str, row["meter"]), cast(int, row["timestamp"]) // HOUR_US) for row in rows
    )
    # In key order, so that two writers on one PostgreSQL database cannot deadlock here.
    for (meter, hour), n in sorted(counts.items()):
        added, _ = execute(
            connection,
            statements.add_to_count,
            {"count_meter": meter, "count_hour": hour, "count_readings": n},
        )
        if added == 0:
            # The hour's first readings; an upsert, should another writer make the row meanwhile.
            statement = upsert(connection, reading_count)
            connection.execute(
                statement.values(meter=meter, hour=hour, readings=n).on_conflict_do_update(
                    index_elements=[reading_count.c.meter, reading_count.c.hour],
                    set_={"readings": reading_count.c.readings + statement.excluded.readings},
                )
            )


def _select_statistics(meter: str) -> Select[Any]:
    return select(meter_statistics).where(meter_statistics.c.meter == meter)


def _ensure_statistics(connection: Connection, meter: str) -> None:
    """Create a meter's statistics row with its defaults unless it exists (django-solo's way)."""
    values = {"meter": meter, "timestamp": datetime_to_us(datetime.now(UTC))}
    # ON CONFLICT, so that two first calls at once do not both insert.
    connection.execute(upsert(connection, meter_statistics).values(values).on_conflict_do_nothing())


# The SET clause follows the names of the values it is compiled for.
_UPDATE_STATISTICS: Final = update(meter_statistics).where(
    meter_statistics.c.meter == bindparam("statistics_meter")
)


type _CaptureKey = tuple[str, str, int]


def _capture_key(row: Mapping[str, object]) -> _CaptureKey:
    return cast(str, row["meter"]), cast(str, row["kind"]), cast(int, row["channel"])


def _new_captures(
    rows: list[dict[str, object]], newest: Mapping[_CaptureKey, tuple[int, int]]
) -> tuple[list[dict[str, object]], dict[_CaptureKey, tuple[int, int]]]:
    """Return the capture rows that add to the newest ones, and the newest ones with them.

    A meter repeats its last capture in every telegram until the next, and a heat meter may
    stamp each telegram anew at the same position: only what may change a position is kept.
    An earlier capture is kept whatever its value (a datalogger catching up); one already
    stored is ignored by the insert.
    """
    seen = dict(newest)
    kept: list[dict[str, object]] = []
    for row in rows:
        key = _capture_key(row)
        captured, value = cast(int, row["captured"]), cast(int, row["value"])
        known = seen.get(key)
        if known is not None and (
            captured == known[0] or (captured > known[0] and value == known[1])
        ):
            continue
        kept.append(row)
        if known is None or captured > known[0]:
            seen[key] = (captured, value)
    return kept, seen


def _update_statistics(
    connection: Connection,
    statements: CommitStatements,
    meter: str,
    values: Mapping[str, StatisticsValue],
) -> None:
    if not values:
        _ensure_statistics(connection, meter)
        return
    statement = statements.update_statistics(tuple(values))
    parameters = {**values, "statistics_meter": meter}
    # The row exists but for a meter's first telegram: update first, create when missing.
    if execute(connection, statement, parameters)[0] == 0:
        _ensure_statistics(connection, meter)
        execute(connection, statement, parameters)


def check_connection(url: str) -> None:
    """Connect to a SQLAlchemy URL and disconnect, creating or changing nothing in it (blocks).

    Raises StoreError for a URL the store does not take, SQLAlchemyError for a database that
    cannot be reached.
    """
    engine = _create_engine(url)
    try:
        with engine.connect():
            pass
    finally:
        engine.dispose()
