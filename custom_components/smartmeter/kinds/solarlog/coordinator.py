"""The coordinator of a Solar-Log plant: an update every 5 minutes, the history, the events.

Each update (solarlog.poller) reads what the logger has transferred; its hours go into the
ledger, kept on disk, from which the long-term statistics are filed. The history from before
the first start is read once, in the background, a month per call (solarlog.history). A
component's status errors that appear or go are fired as events.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from ...const import DOMAIN, LOGGER
from ...external_statistics import IncrementStatistics
from ...solarlog.errors import (
    AccessDeniedError,
    AuthenticationError,
    NotFoundError,
    SolarLogError,
)
from ...solarlog.history import HourLedger, backfill_hours, history_start
from ...solarlog.models import Component, ComponentError
from ...solarlog.poller import PlantPoller, Snapshot
from .const import BACKFILL_RETRY, EVENT_COMPONENT, MOST_BACK_OFF, UPDATE_INTERVAL
from .data import SolarLogConfigEntry

# The ledger is written this long after it changed (and when the entry unloads).
_SAVE_DELAY: Final = 30

type ErrorKey = tuple[str, str]


def _component_key(component: Component) -> str:
    return component.cross_epoch_id or component.id


class SolarLogCoordinator(DataUpdateCoordinator[Snapshot]):
    """Polls a plant, keeps its hours, files its statistics and fires its events."""

    config_entry: SolarLogConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SolarLogConfigEntry,
        poller: PlantPoller,
        ledger: HourLedger,
        store: Store[dict[str, Any]],
    ) -> None:
        """Poll through poller; keep the hours in ledger, saved to store."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"Solar-Log {entry.title}",
            update_interval=UPDATE_INTERVAL,
            # An update without new data still ages the newest values (stale after an hour).
            always_update=True,
        )
        self.poller = poller
        self.ledger = ledger
        self._store = store
        self.statistics: IncrementStatistics | None = None
        self._statistics_lock = asyncio.Lock()
        # The first hour that changed since the statistics were last filed.
        self._unfiled: int | None = None
        self.failures = 0
        self._errors: dict[ErrorKey, tuple[Component, ComponentError]] | None = None
        self._backfill: asyncio.Task[None] | None = None
        self._backfill_failed: datetime | None = None
        self.backfill_error: str | None = None
        # The plant's device, which its components' devices are linked to (set up first).
        self.plant_device_entry_id: str | None = None

    @property
    def active_errors(self) -> list[tuple[Component, ComponentError]]:
        """Return the components' status errors of the last update."""
        return list((self._errors or {}).values())

    async def _async_update_data(self) -> Snapshot:
        now = dt_util.utcnow()
        today = dt_util.as_local(now).date()
        newest = self.ledger.newest_hour()
        start = history_start(
            today, None if newest is None else datetime.fromtimestamp(newest / 1e6, UTC)
        )
        try:
            snapshot = await self.poller.poll(now, today, start)
        except (AuthenticationError, AccessDeniedError) as err:
            # Wrong credentials, or credentials that no longer reach the plant.
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN,
                translation_key="solarlog_auth_failed",
                translation_placeholders={"error": str(err)},
            ) from err
        except SolarLogError as err:
            self.failures += 1
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="solarlog_plant_not_found"
                if isinstance(err, NotFoundError)
                else "solarlog_unavailable",
                translation_placeholders={"error": str(err)},
                retry_after=self._back_off(getattr(err, "retry_after", None)),
            ) from err
        self.failures = 0
        self._take_hours(snapshot.hours)
        self._fire_events(snapshot)
        if self.statistics is not None:
            await self.async_file()
        if not self.ledger.backfilled and self._backfill is None and self._may_backfill(now):
            self._backfill = self.config_entry.async_create_background_task(
                self.hass, self._async_backfill(), f"{self.name} history"
            )
        return snapshot

    def _back_off(self, asked: float | None) -> float:
        """Return the seconds to the next try: the interval, doubling with each failure."""
        interval = min(UPDATE_INTERVAL * (1 << max(self.failures - 1, 0)), MOST_BACK_OFF)
        return max(interval.total_seconds(), asked or 0.0)

    def _may_backfill(self, now: datetime) -> bool:
        return self._backfill_failed is None or now - self._backfill_failed >= BACKFILL_RETRY

    def _take_hours(self, hours: Mapping[int, Mapping[str, int]]) -> None:
        """Merge hours into the ledger; note where the statistics must be filed from."""
        changed = self.ledger.merge(hours)
        if changed is not None:
            self._unfiled = changed if self._unfiled is None else min(self._unfiled, changed)
            self._store.async_delay_save(self.ledger.as_data, _SAVE_DELAY)

    async def async_start_statistics(self, statistics: IncrementStatistics) -> None:
        """File the statistics: everything when their settings changed, else what changed."""
        self.statistics = statistics
        async with self._statistics_lock:
            await statistics.async_start()
        await self.async_file()

    async def async_file(self) -> None:
        """File the hours that changed since the statistics were last filed."""
        async with self._statistics_lock:
            start, self._unfiled = self._unfiled, None
            if start is not None and self.statistics is not None:
                await self.statistics.async_update(start)

    async def _async_backfill(self) -> None:
        """Read the days before the first hour known, once; file them."""
        first = self.ledger.first_hour()
        before = (
            dt_util.as_local(dt_util.utcnow()).date()
            if first is None
            else dt_util.as_local(datetime.fromtimestamp(first / 1e6, UTC)).date()
        )
        try:
            hours = await backfill_hours(self.poller.client, self.poller.plant_id, before)
        except SolarLogError as err:
            self._backfill_failed = dt_util.utcnow()
            self.backfill_error = str(err)
            LOGGER.warning(
                "The history of %s could not be read; trying again in an hour: %s",
                self.config_entry.title,
                err,
            )
            return
        finally:
            self._backfill = None
        self.backfill_error = None
        self.ledger.backfilled = True
        self._take_hours(hours)
        # Months of history are worth writing at once.
        await self._store.async_save(self.ledger.as_data())
        if self.statistics is not None:
            await self.async_file()
        LOGGER.debug("History of %s read: %d days before %s", self.name, len(hours), before)

    async def async_save(self) -> None:
        """Write the ledger now (the entry unloads)."""
        if self._backfill is not None:
            self._backfill.cancel()
        await self._store.async_save(self.ledger.as_data())

    def _fire_events(self, snapshot: Snapshot) -> None:
        """Fire an event for each status error that appeared or went since the last update.

        Those present at the first update after a start are known, not new: their events
        may have been fired before the restart.
        """
        errors = {
            (_component_key(component), error.key): (component, error)
            for component in snapshot.components
            for error in component.errors
        }
        before, self._errors = self._errors, errors
        if before is None:
            return
        for key in errors.keys() - before.keys():
            self._fire(*errors[key], "raised")
        for key in before.keys() - errors.keys():
            self._fire(*before[key], "cleared")

    def _fire(self, component: Component, error: ComponentError, state: str) -> None:
        self.hass.bus.async_fire(
            EVENT_COMPONENT,
            {
                "entry_id": self.config_entry.entry_id,
                "plant_id": self.poller.plant_id,
                "component_id": _component_key(component),
                "component_name": component.name,
                "component_type": component.type,
                "state": state,
                "code": error.code,
                "text": error.text,
                "since": error.since.isoformat() if error.since else None,
            },
        )
