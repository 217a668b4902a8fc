"""One transaction of one meter's processing: its records, peaks, hours and days."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta, tzinfo
from typing import Final, cast

from sqlalchemy import Connection, bindparam, func, insert, select, update

from ..hour_counts import add_record_counts
from ..records import EnergySupplierPrice
from ..schema import (
    HOUR_US,
    day_statistics,
    dsmr_reading,
    electricity_consumption,
    gas_consumption,
    hour_statistics,
    meter_key,
    meter_statistics,
)
from ..sql import upsert
from .aggregates import day_start, minute_records, write_peaks
from .boundaries import Boundaries
from .pricing import cost_columns, day_costs, merge_prices, wh
from .state import Gas, MeterState, save_state
from .times import GAS_WAIT_US, MINUTE_US, QUARTER_US, day_bounds, floor_to, local_date

# Readings past the minute frontier that one run processes at most (six hours of a meter that
# sends one a second), counted by an index seek: catching up with a backlog (readings stored
# before processing existed, or readings far apart) takes runs in proportion to the readings,
# whatever time they span, and the writer commits what was submitted between two runs.
CATCH_UP_READINGS: Final = 21_600


class Run:
    """One transaction of one meter's processing."""

    def __init__(
        self,
        connection: Connection,
        meter: str,
        state: MeterState,
        time_zone: tzinfo,
        contracts: Sequence[EnergySupplierPrice],
    ) -> None:
        """Process a meter from state on, in the connection's transaction."""
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

    def process(self, late: Sequence[int]) -> MeterState:
        """Process the late readings (timestamps, µs) and those past the frontiers; save them.

        Return how far processing got.
        """
        state = self._state
        frontier = self._catch_up_frontier()
        if late:
            self._late_minutes(late)
        if frontier > state.minute_frontier:
            records = minute_records(self._connection, self._meter, state.minute_frontier, frontier)
            self._write_minutes(records, update_existing=False)
            self._add_gas(state.minute_frontier, frontier, only_new=True)
        quarter_frontier = max(state.quarter_frontier, floor_to(frontier, QUARTER_US))
        write_peaks(self._connection, self._meter, state.quarter_frontier, quarter_frontier)
        for quarter in sorted(self._late_quarters(late)):
            write_peaks(self._connection, self._meter, quarter, quarter + QUARTER_US)
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
        save_state(self._connection, self._meter, new_state)
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
            .where(
                reading.meter_key == meter_key(self._meter),
                reading.timestamp >= state.minute_frontier,
            )
            .order_by(reading.timestamp)
            .offset(CATCH_UP_READINGS)
            .limit(1)
        )
        if beyond is None:
            return frontier
        return min(frontier, max(floor_to(beyond, MINUTE_US), state.minute_frontier + MINUTE_US))

    # Minutes and gas.

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
            records = minute_records(self._connection, self._meter, start, end)
            self._write_minutes(records, update_existing=True)
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
            reading.meter_key == meter_key(self._meter),
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
        gas = Gas(measured_at - self._gas_shift, measured_at, delivered)
        used = 0 if latest is None else delivered - latest.delivered
        if self._insert_gas(gas, used):
            self._latest_gas = gas
            if latest is None:
                self._first_gas = True
            if measured_at <= self._state.hour_frontier:
                # The hour that gave up waiting for this gas record (G(t) holds from it on).
                self._changed.add(measured_at)

    def _insert_gas(self, gas: Gas, used: int) -> bool:
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
        gas = Gas(measured_at - self._gas_shift, measured_at, delivered)
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
            # its reading's gas timestamp, which the day keeps (day_start).
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
            {name: wh(value) for name, value in energy.items()},
            None if gas is None else wh(gas),
            merge_prices(day, self._contracts),
        )
        values: dict[str, object] = {**energy, "gas": gas, **cost_columns(costs)}
        values.update(
            day_start(
                self._connection, self._meter, start, end, with_gas=self._latest_gas is not None
            )
        )
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
