"""A loaded Linky meter: its data, the polls on Enedis' schedule, its statistics.

The first run imports the history (resumable: what came is saved as it comes); later runs
ask for the days still missing, hourly from 05:00 to 20:00 Paris time at the entry's minute
until yesterday is in. Each run files the statistics from the first day that changed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from ...const import DOMAIN, LOGGER
from ...enedis import (
    PARIS,
    AccessDenied,
    EnedisError,
    LinkyClient,
    LinkySync,
    Measurement,
    MeterData,
    RateLimited,
    day_hours,
    next_poll,
)
from ...external_statistics import IncrementStatistics
from . import const
from .statistics import LinkyHours

_STORAGE_VERSION: Final = 1
# What came is saved at most this long after it came (and at each run's end).
_SAVE_DELAY: Final = 30


class LinkyRuntime:
    """Runs one Linky meter's polls."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        client: LinkyClient,
        measurements: tuple[Measurement, ...],
        minute: int,
    ) -> None:
        """Set up; async_start loads what is known and starts the first run."""
        self._hass = hass
        self._entry = entry
        self.measurements = measurements
        self.minute = minute
        self._store: Store[dict[str, Any]] = Store(
            hass, _STORAGE_VERSION, f"{DOMAIN}.{entry.entry_id}.linky"
        )
        self.data = MeterData()
        self.sync = LinkySync(client, measurements, self.data, self._async_pause)
        self.hours = LinkyHours(self.data, measurements)
        self.statistics: IncrementStatistics | None = None
        self.next_poll: datetime | None = None
        self.last_error: str | None = None
        self._changed_from: date | None = None
        self._statistics_started = False
        # The days given up on, logged once each.
        self._given_up: set[date] = set()
        self._listeners: list[CALLBACK_TYPE] = []
        self._lock = asyncio.Lock()
        self._unsub_poll: CALLBACK_TYPE | None = None
        self._run: asyncio.Task[None] | None = None

    async def async_load(self) -> None:
        """Load what is known of the meter."""
        if (saved := await self._store.async_load()) is not None:
            self.data = self.sync.data = MeterData.from_json(saved)
            self.hours = LinkyHours(self.data, self.measurements)

    @callback
    def async_start(self) -> None:
        """Start the first run in the background."""
        self._start_run()

    async def async_stop(self) -> None:
        """Stop polling and save what is known."""
        if self._unsub_poll is not None:
            self._unsub_poll()
            self._unsub_poll = None
        if self._run is not None and not self._run.done():
            self._run.cancel()
        await self._store.async_save(self.data.to_json())

    @callback
    def add_listener(self, listener: CALLBACK_TYPE) -> Callable[[], None]:
        """Call listener when the data or the state changed."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def today(self) -> date:
        """Return today in Paris."""
        return dt_util.now(PARIS).date()

    def progress(self) -> float:
        """Return how far the history import got, in percent."""
        made, total = self.sync.history_requests(self.today())
        return round(100 * made / total, 1) if total else 100.0

    @callback
    def _start_run(self, _now: datetime | None = None) -> None:
        self._unsub_poll = None
        self._run = self._entry.async_create_background_task(
            self._hass, self._async_run(), f"{DOMAIN} Linky {self.sync.client.prm}"
        )

    async def _async_pause(self) -> None:
        await asyncio.sleep(const.REQUEST_INTERVAL)

    async def _async_run(self) -> None:
        async with self._lock:
            if not self._statistics_started and self.statistics is not None:
                # Made again from the data kept when what they depend on changed.
                self._statistics_started = True
                await self._async_refresh_hours()
                await self.statistics.async_start()
            today = self.today()
            not_before: datetime | None = None
            try:
                if not self.sync.history_complete:
                    await self.sync.import_history(today, self._changed)
                await self.sync.update(today, self._changed)
                self.last_error = None
            except AccessDenied as err:
                self.last_error = str(err)
                LOGGER.warning("Enedis refuses the data of %s: %s", self._entry.title, err)
                self._entry.async_start_reauth(self._hass)
            except RateLimited as err:
                self.last_error = str(err)
                not_before = err.next_access
                LOGGER.warning("Enedis limits requests of %s: %s", self._entry.title, err)
            except EnedisError as err:
                self.last_error = str(err)
                LOGGER.warning("Linky data of %s not had: %s", self._entry.title, err)
            self._report_load_curve()
            self._report_given_up(today)
            await self._store.async_save(self.data.to_json())
            await self._async_file_statistics()
            self._schedule(today, not_before)
            self._notify()

    @callback
    def _changed(self, first: date | None) -> None:
        if first is not None and (self._changed_from is None or first < self._changed_from):
            self._changed_from = first
        self._store.async_delay_save(self.data.to_json, _SAVE_DELAY)
        self._notify()

    async def _async_file_statistics(self) -> None:
        changed, self._changed_from = self._changed_from, None
        if self.statistics is None or changed is None:
            return
        await self._async_refresh_hours()
        await self.statistics.async_update(day_hours(changed)[0])

    async def _async_refresh_hours(self) -> None:
        """Make the hours again, off the event loop: years of them take a while.

        Safe there: only this run, which waits for it, changes the data.
        """
        await self._hass.async_add_executor_job(self.hours.refresh)

    @callback
    def _schedule(self, today: date, not_before: datetime | None) -> None:
        now = dt_util.utcnow()
        # An unfinished history import goes on at the next poll, even with yesterday in.
        done = self.sync.history_complete and self.sync.complete(today)
        when = next_poll(now, self.minute, done)
        if not_before is not None and not_before > when:
            when = next_poll(not_before, self.minute, False)
        self.next_poll = when
        self._unsub_poll = async_track_point_in_utc_time(self._hass, self._start_run, when)

    @callback
    def _report_load_curve(self) -> None:
        issue_id = f"{const.ISSUE_LOAD_CURVE_DISABLED}_{self._entry.entry_id}"
        if self.data.no_load_curve:
            ir.async_create_issue(
                self._hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key=const.ISSUE_LOAD_CURVE_DISABLED,
                translation_placeholders={"title": self._entry.title},
            )
        else:
            ir.async_delete_issue(self._hass, DOMAIN, issue_id)

    @callback
    def _report_given_up(self, today: date) -> None:
        """Log, once each, the days without data that updates no longer ask for."""
        if given_up := [day for day in self.sync.given_up(today) if day not in self._given_up]:
            self._given_up.update(given_up)
            LOGGER.warning(
                "Enedis has no data of %s for %s; not asked for again",
                self._entry.title,
                ", ".join(str(day) for day in given_up),
            )

    @callback
    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()

    def diagnostics(self) -> dict[str, Any]:
        """Return what helps to debug the meter's polls."""
        today = self.today()
        made, total = self.sync.history_requests(today)
        return {
            "measurements": [str(measurement) for measurement in self.measurements],
            "poll_minute": self.minute,
            "next_poll": None if self.next_poll is None else self.next_poll.isoformat(),
            "last_error": self.last_error,
            "requests": self.sync.client.requests,
            "history_requests": {"made": made, "total": total},
            "history_complete": self.sync.history_complete,
            "yesterday_complete": self.sync.complete(today),
            "missing_days": [str(day) for day in self.sync.missing_days(today)],
            "load_curve_disabled": sorted(str(one) for one in self.data.no_load_curve),
            "days": {
                str(measurement): len(self.data.of(measurement).daily)
                for measurement in self.measurements
            },
        }
