"""A meter's long-term statistics in Home Assistant's recorder, for the energy dashboard.

External statistics (``smartmeter:<meter>_energy_delivered`` and so on) computed from the
reading store by longterm/, stamped with the meter's own timestamps: energy, gas and costs from
the readings, water and heat from the M-Bus meters' captures, each group on its own. Whatever
the readings of a past hour change (a datalogger catching up, an API import, the reader back
after an outage) is filed where it belongs: the store reports the earliest time each commit
touches, and the hours from there on are computed again and written over, every later sum with
them. The sum before them is read back from the recorder, so the sums continue across restarts
and reloads; when it cannot be (the statistics were deleted, or never made), everything is made
again.

When: readings that only add to the running hour (the newest with readings) refresh it every
RUNNING_HOUR_EVERY; a reading that starts a new hour (the one before ended) or falls before the
running hour (late data) files everything it changes UPDATE_COOLDOWN later. A meter sends a
telegram a second: filing each half minute cost more than storing the readings.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta, tzinfo
from functools import partial
from typing import Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.debounce import Debouncer
from homeassistant.helpers.recorder import get_instance
from sqlalchemy import Connection

from .const import DOMAIN, LOGGER
from .external_statistics import ExternalStatistics, StatisticsSettings
from .longterm import (
    ALL_SERIES,
    CAPTURE_SERIES,
    GAS,
    GAS_COST,
    Accumulator,
    Computed,
    Replacement,
    Series,
    affected_from,
    capture_chunk_end,
    capture_history,
    capture_hour_before,
    chunk_end,
    compute,
    compute_captures,
    history,
    hour_before,
    hour_floor,
    series_for,
)
from .statistic_metadata import statistic_object_id
from .store.model import CAPTURE_PLACES, CaptureKind, datetime_to_us, us_to_datetime
from .store.records import EnergySupplierPrice
from .store.schema import HOUR_US
from .store.store import ReadingStore

# An ended hour and late readings are filed this long after they arrive, and at most this
# often; an unload files what is pending at once.
UPDATE_COOLDOWN: Final = timedelta(seconds=30)
# The running hour is filed again at most this often while readings only add to it: as often
# as Home Assistant compiles its own short-term statistics.
RUNNING_HOUR_EVERY: Final = timedelta(minutes=5)
# Bumped when the statistics computed from the same readings change: everything is made again.
COMPUTATION_VERSION: Final = 1
ISSUE_METER_REPLACED: Final = "meter_replaced"


class LongTermStatistics:
    """Keeps one meter's external statistics in step with its readings."""

    def __init__(
        self,
        hass: HomeAssistant,
        *,
        entry_id: str,
        title: str,
        store: ReadingStore,
        meter_id: str,
        contracts: list[EnergySupplierPrice],
        time_zone: tzinfo,
        names: Mapping[str, str],
    ) -> None:
        """Set up for one meter of an entry; nothing happens before async_start."""
        self._hass = hass
        self._entry_id = entry_id
        self._title = title
        self._store = store
        self._meter_id = meter_id
        self._contracts = contracts
        self._time_zone = time_zone
        # names by series key, as statistic_names gives them.
        self._recorded = ExternalStatistics(
            hass, object_id=statistic_object_id(meter_id), title=title, names=names
        )
        self._settings = StatisticsSettings(
            hass,
            entry_id,
            version=COMPUTATION_VERSION,
            contracts=contracts,
            time_zone=time_zone,
        )
        # The earliest time (µs) the readings changed at since the last update.
        self._changed_since: int | None = None
        # The start of the newest hour the readings reached (µs), as far as commits told.
        self._running_hour: int | None = None
        self._lock = asyncio.Lock()
        self._debouncer = self._updates_at_most_every(UPDATE_COOLDOWN)
        self._running_hour_debouncer = self._updates_at_most_every(RUNNING_HOUR_EVERY)
        self._remove_listener: Any = None
        self._catch_up: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def _updates_at_most_every(self, cooldown: timedelta) -> Debouncer[Any]:
        """Return a debouncer that updates once cooldown has passed, and at most that often."""
        return Debouncer(
            self._hass,
            LOGGER,
            cooldown=cooldown.total_seconds(),
            immediate=False,
            function=self._async_update,
        )

    def statistic_id(self, series: Series) -> str:
        """Return the external statistic id of one of the meter's series."""
        return self._recorded.statistic_id(series)

    @callback
    def async_start(self) -> None:
        """Follow the store's commits, and bring the statistics up to date in the background.

        On the first start (or when contracts, currency, time zone or the computation changed)
        that is everything the store holds; otherwise the hours from the last one imported.
        """
        self._remove_listener = self._store.writer.add_listener(self._written)
        self._catch_up = self._hass.async_create_background_task(
            self._async_catch_up(), f"{DOMAIN} statistics catch-up {self._meter_id}"
        )

    async def async_stop(self) -> None:
        """File what is pending and stop following the store; before the store closes."""
        self._stopping.set()
        if self._remove_listener is not None:
            self._remove_listener()
            self._remove_listener = None
        if self._catch_up is not None and not self._catch_up.done():
            self._catch_up.cancel()
        self._debouncer.async_shutdown()
        self._running_hour_debouncer.async_shutdown()
        await self._async_update()

    async def async_rebuild(self, start: date | None = None) -> None:
        """Compute the statistics again from the store, from a local day on or all of them."""
        async with self._lock:
            if start is None:
                await self._async_import(None)
                return
            midnight = datetime.combine(start, time(), tzinfo=self._time_zone)
            await self._async_import(hour_floor(datetime_to_us(midnight)))

    def _written(self, earliest: Mapping[str, int]) -> None:
        """Note a commit of readings; called on the store's writer thread."""
        time_us = earliest.get(self._meter_id)
        if time_us is not None:
            self._hass.loop.call_soon_threadsafe(self._async_changed, time_us)

    @callback
    def _async_changed(self, time_us: int) -> None:
        """Schedule filing the readings committed from time_us (µs) on (see the module's doc)."""
        if self._changed_since is None or time_us < self._changed_since:
            self._changed_since = time_us
        hour = hour_floor(time_us)
        if self._running_hour is not None and hour == self._running_hour:
            self._running_hour_debouncer.async_schedule_call()
            return
        if self._running_hour is None or hour > self._running_hour:
            self._running_hour = hour
        self._debouncer.async_schedule_call()

    async def _async_update(self) -> None:
        async with self._lock:
            if self._changed_since is None:
                return
            start = affected_from(self._changed_since)
            self._changed_since = None
            await self._async_import(start)

    async def _async_catch_up(self) -> None:
        async with self._lock:
            if not await get_instance(self._hass).async_db_ready:
                return
            if await self._settings.async_changed():
                await self._async_import(None)
                return
            # Each group from its last hour imported; all of it when it has none.
            last = await self._recorded.async_last_hour(ALL_SERIES[0])
            if await self._async_import_readings(last):
                await self._settings.async_save()
            for kind, series in CAPTURE_SERIES.items():
                # Without rows in the recorder, from the first capture on: nothing to clear.
                last = await self._recorded.async_last_hour(series)
                await self._async_import_captures(kind, 0 if last is None else last)

    async def _async_import(self, start: int | None) -> None:
        """Compute the hours from start (µs; None: all) and hand them to the recorder."""
        if await self._async_import_readings(start):
            # Made from the first hour on: with the settings of now.
            await self._settings.async_save()
        for kind in CAPTURE_SERIES:
            await self._async_import_captures(kind, start)

    async def _async_import_readings(self, start: int | None) -> bool:
        """Import the series of the readings from start (µs; None: all).

        Return whether they were made from the first hour on (or there are no readings).
        """
        base = None if start is None else await self._async_sums_before(start)
        bounds = await self._hass.async_add_executor_job(self._history)
        if bounds is None:
            return True
        first, end = bounds
        if start is None or base is None:
            start, base = first, {}
            # Series that no longer exist (no contracts any more) go too.
            self._recorded.clear(ALL_SERIES)
        accumulator = Accumulator(self._contracts, self._time_zone, base)
        await self._async_add_hours(
            partial(compute, accumulator=accumulator), chunk_end, start, end
        )
        return not base

    async def _async_import_captures(self, kind: CaptureKind, start: int | None) -> None:
        """Import the water or heat series from start (µs; None: all)."""
        series = CAPTURE_SERIES[kind]
        base = None if start is None else await self._async_capture_sum_before(kind, start)
        bounds = await self._hass.async_add_executor_job(self._capture_history, kind)
        if start is None or base is None:
            self._recorded.clear((series,))
            if bounds is None:
                return
            start, base = bounds[0], 0
        elif bounds is None:
            return
        else:
            start = max(start, bounds[0])
        accumulator = Accumulator((), self._time_zone, {series.key: base})
        await self._async_add_hours(
            partial(compute_captures, accumulator=accumulator, kind=kind),
            partial(capture_chunk_end, kind=kind),
            start,
            bounds[1],
        )

    async def _async_add_hours(
        self,
        computation: Callable[..., Computed],
        chunk: Callable[[Connection, str, int, int], int],
        start: int,
        end: int,
    ) -> None:
        """Compute the hours from start to end (µs) a chunk at a time, and add them.

        chunk gives where each chunk ends: after so many hours with data, so that the hours
        without any, years of them for a reading dated far back, cost nothing.
        """
        while start < end:
            computed, start = await self._hass.async_add_executor_job(
                self._compute, computation, chunk, start, end
            )
            self._add(computed)
        await self._async_flush()

    async def _async_flush(self) -> None:
        """Wait until the recorder wrote the rows: the next update reads back their sums.

        Not once stopping, when no update follows: the recorder may be busy for minutes (other
        sources' years of history), and an unload or Home Assistant's stop would wait for it.
        """
        if self._stopping.is_set():
            return
        flushed = asyncio.create_task(self._recorded.async_flush())
        stopping = asyncio.create_task(self._stopping.wait())
        await asyncio.wait((flushed, stopping), return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if flushed.done():
            await flushed  # its error, if any, is the update's
        else:
            flushed.cancel()

    def _history(self) -> tuple[int, int] | None:
        with self._store.read() as connection:
            return history(connection, self._meter_id)

    def _capture_history(self, kind: CaptureKind) -> tuple[int, int] | None:
        with self._store.read() as connection:
            return capture_history(connection, self._meter_id, kind)

    def _compute(
        self,
        computation: Callable[..., Computed],
        chunk: Callable[[Connection, str, int, int], int],
        start: int,
        end: int,
    ) -> tuple[Computed, int]:
        """Compute the chunk of hours from start; return it and where it ends (µs)."""
        with self._store.read() as connection:
            stop = chunk(connection, self._meter_id, start, end)
            return computation(connection, self._meter_id, start=start, stop=stop), stop

    def _hour_before(self, at: int) -> int | None:
        with self._store.read() as connection:
            return hour_before(connection, self._meter_id, at)

    async def _async_sums_before(self, start: int) -> dict[str, int] | None:
        """Return the exact sums of the series before start (µs), from the recorder.

        None when the recorder lacks a sum it should have: everything must be made again.
        """
        hour = await self._hass.async_add_executor_job(self._hour_before, start)
        if hour is None:
            return {}
        expected = series_for(gas=True, costs=bool(self._contracts))
        sums = await self._recorded.async_sums_at(hour, expected)
        missing = {series for series in expected if series.key not in sums}
        if not missing:
            return sums
        # Gas (and its cost) counts from the first gas the readings show: without a gas row
        # in or before that hour, both start from 0 after it. Anything else missing is lost.
        if missing - {GAS, GAS_COST} or GAS not in missing:
            return None
        earlier = await self._recorded.async_has_rows_until(GAS, hour + HOUR_US)
        return None if earlier else sums

    async def _async_capture_sum_before(self, kind: CaptureKind, start: int) -> int | None:
        """Return the exact sum of the water or heat series before start (µs), from the recorder.

        None when the recorder lacks the sum it should have.
        """
        hour = await self._hass.async_add_executor_job(self._capture_hour_before, kind, start)
        if hour is None:
            return 0
        series = CAPTURE_SERIES[kind]
        return (await self._recorded.async_sums_at(hour, (series,))).get(series.key)

    def _capture_hour_before(self, kind: CaptureKind, at: int) -> int | None:
        with self._store.read() as connection:
            return capture_hour_before(connection, self._meter_id, kind, at)

    @callback
    def _add(self, computed: Computed) -> None:
        self._recorded.add(computed)
        for replacement in computed.replacements:
            self._report(replacement)

    @callback
    def _report(self, replacement: Replacement) -> None:
        """Raise a repair issue telling the user that a meter's positions dropped."""
        at = us_to_datetime(replacement.at).astimezone(self._time_zone)
        # Positions in Wh or dm³, or in billionths of m³ or GJ for water and heat.
        scale = 10**CAPTURE_PLACES if replacement.kind in CAPTURE_SERIES else 1000
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            f"{ISSUE_METER_REPLACED}_{self._entry_id}_{replacement.kind}_{replacement.at}",
            is_fixable=False,
            # Raised once, when its hours are computed: kept across restarts until dismissed.
            is_persistent=True,
            severity=ir.IssueSeverity.WARNING,
            translation_key=f"{replacement.kind}_{ISSUE_METER_REPLACED}",
            translation_placeholders={
                "title": self._title,
                "time": at.strftime("%Y-%m-%d %H:%M:%S"),
                "before": f"{replacement.before / scale:.3f}",
                "after": f"{replacement.after / scale:.3f}",
            },
        )
