"""Processing of every meter: which are due, and a run at a time for the writer thread."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import tzinfo
from typing import cast

from sqlalchemy import Connection, Engine, distinct, select

from ..records import EnergySupplierPrice
from ..schema import reading_count
from .pricing import load_contracts, replace_contracts
from .run import Run
from .state import MeterState, load_state
from .times import MINUTE_US, floor_to


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
        self._states: dict[str, MeterState] = {}
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
                state = load_state(connection, meter, self._time_zone)
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
            run = Run(connection, meter, state, self._time_zone, self._contracts(connection, meter))
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
        replace_contracts(connection, meter, self._contracts(connection, meter), contracts)
        # Loaded again from what the caller's transaction leaves, committed or rolled back.
        self._prices.pop(meter, None)

    def _contracts(self, connection: Connection, meter: str) -> tuple[EnergySupplierPrice, ...]:
        contracts = self._prices.get(meter)
        if contracts is None:
            contracts = load_contracts(connection, meter)
            self._prices[meter] = contracts
        return contracts
