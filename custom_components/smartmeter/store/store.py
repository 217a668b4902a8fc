"""The reading database's facade: its queries, and the work it queues for the writer thread.

Everything here blocks: Home Assistant runs it in its executor. Readings go to the writer
(ReadingStore.writer), whose submit never blocks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, date, datetime, tzinfo
import sqlite3
from typing import cast

from sqlalchemy import Connection, Engine, func, select, update
from sqlalchemy.exc import SQLAlchemyError

from .commit import ensure_statistics, select_statistics, update_statistics
from .engine import open_engine
from .errors import DuplicateDay, StoreError
from .frozen import frozen_file
from .hour_counts import READINGS, count_in_range, in_range
from .listing import FilterOperator, Record, list_readings, record_queries
from .migrations import Progress, migrate
from .model import (
    MeterStatistics,
    StatisticsValue,
    StoredReading,
    datetime_to_us,
    record_to_row,
    row_to_reading,
    row_to_record,
    row_to_statistics,
    statistics_to_row,
    us_to_datetime,
)
from .processing import Processor
from .processing.boundaries import day_consumption
from .processing.pricing import load_contracts, merge_prices
from .records import (
    DayConsumption,
    DayStatistics,
    EnergySupplierPrice,
    GasConsumption,
    ProcessingStatus,
    StoredDayStatistics,
)
from .retention import thin_processed
from .schema import (
    day_statistics,
    dsmr_reading,
    gas_consumption,
    meter_key,
    meter_statistics,
    processing_state,
)
from .sql import upsert
from .writer import DEFAULT_MAX_QUEUE, GroupCommitWriter


class ReadingStore:
    """The integration's reading database, on SQLite or PostgreSQL.

    Readings come in through the writer, which also processes them into DSMR-reader's records
    (see the processing package); everything else here blocks, for an executor.
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
        cls,
        url: str,
        *,
        time_zone: tzinfo = UTC,
        max_queue: int = DEFAULT_MAX_QUEUE,
        progress: Progress | None = None,
    ) -> ReadingStore:
        """Connect to a SQLAlchemy URL and bring its schema up to date.

        For example sqlite:////config/smartmeter.db (WAL mode) or
        postgresql+psycopg://user:password@host/database. Day statistics are made for local
        days in time_zone. A migration that copies the readings calls progress after each
        chunk (see migrations.migrate); an interrupted one resumes on the next open. Raises
        StoreError for anything else, an unreachable database or one written by a newer
        release.
        """
        engine = open_engine(url)
        try:
            migrate(engine, progress)
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
        with self._snapshot() as connection:
            return list_readings(
                connection, meter, low, high, descending=descending, limit=limit, offset=offset
            )

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
        count, page = record_queries(
            record_type, meter, filters, ordering, limit=limit, offset=offset
        )
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
                    .where(dsmr_reading.c.meter_key == meter_key(meter))
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

        The day's energy and gas are the boundary differences the day statistics use (see the
        processing package), today's up to the latest records; gas is 0 without gas records.
        Costs use the day's merged prices, all 0 without a contract.
        """
        with self._snapshot() as connection:
            contracts = load_contracts(connection, meter)
            return day_consumption(connection, meter, day, self._time_zone, contracts)

    def day_prices(self, meter: str, day: date) -> EnergySupplierPrice | None:
        """Return a meter's prices of a day, merged as DSMR-reader's get_day_prices.

        None when no contract covers the day.
        """
        with self._engine.connect() as connection:
            contracts = load_contracts(connection, meter)
        return merge_prices(day, contracts)

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
            count = connection.execute(
                select(count_in_range(READINGS, meter, frontier, None))
            ).scalar()
            oldest = connection.scalar(
                select(func.min(dsmr_reading.c.timestamp)).where(
                    *in_range(READINGS, meter, frontier, None)
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
                return thin_processed(connection, meter, limit, max_hours)

        return cast(int, self._writer.run(thin).result())

    def get_statistics(self, meter: str) -> MeterStatistics:
        """Return a meter's statistics, created with their defaults the first time."""
        with self._engine.connect() as connection:
            row = connection.execute(select_statistics(meter)).mappings().first()
        if row is None:
            return self.update_statistics(meter)
        return row_to_statistics(row)

    def update_statistics(self, meter: str, **fields: StatisticsValue) -> MeterStatistics:
        """Set some of a meter's statistics and return them all.

        Raises ValueError for a name that is not a MeterStatistics field.
        """
        values = statistics_to_row(fields)
        with self._engine.begin() as connection:
            update_statistics(connection, self._writer.statements, meter, values)
            row = connection.execute(select_statistics(meter)).mappings().one()
        return row_to_statistics(row)

    def count_rejected(self, meter: str, n: int = 1) -> None:
        """Add n to a meter's rejected telegrams, in the database so no increment is lost."""
        column = meter_statistics.c.rejected_telegrams
        with self._engine.begin() as connection:
            ensure_statistics(connection, meter)
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
