"""Runs a PVOutput export subentry in Home Assistant.

The exporter runs on Home Assistant's clock: HA's time and HA's timers, which tests freeze
and move. Its state lives in a Store of its own, saved shortly after every change and on
stop; PVOutput refusing the key, the system or a setting raises a repair issue, removed once
uploads work again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
import contextlib
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import partial
import logging
from typing import Any, Final

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.const import CONF_API_KEY, EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from ...const import DOMAIN
from ...models import SmartMeterConfigEntry
from ...pvoutput import (
    API_URL,
    ExportState,
    ExportStatus,
    IntervalSource,
    Problem,
    PVOutputClient,
    PVOutputExporter,
)
from .flow import CONF_DONOR, CONF_SYSTEM_ID, export_settings
from .source import interval_source

LOGGER = logging.getLogger(__package__)

STORAGE_VERSION: Final = 1
# 2: the state no longer repeats its version inside; the store's versions say it.
STORAGE_MINOR_VERSION: Final = 2
# Seconds to gather changes before writing the state: a catch-up changes it every request.
SAVE_DELAY: Final = 5.0


@dataclass(frozen=True)
class PVOutputRuntime:
    """A running export: its status for entities and diagnostics, and how to stop it."""

    subentry: ConfigSubentry
    exporter: PVOutputExporter
    stop: Callable[[], Coroutine[Any, Any, None]]

    async def async_stop(self) -> None:
        """Stop exporting and save the export's state."""
        await self.stop()

    def status(self) -> ExportStatus:
        """Return the export's status."""
        return self.exporter.status()

    def diagnostics(self) -> dict[str, Any]:
        """Return the settings, API key redacted, and the status."""
        return {
            "settings": async_redact_data(dict(self.subentry.data), {CONF_API_KEY}),
            "status": asdict(self.status()),
        }


class ExportStateStore(Store[dict[str, Any]]):
    """Where an export's state is kept; a state an older release saved is brought up to date.

    Home Assistant refuses a state of a newer major version (a downgrade) rather than lose it.
    """

    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: dict[str, Any]
    ) -> dict[str, Any]:
        if old_minor_version < 2:
            old_data = {key: value for key, value in old_data.items() if key != "version"}
        return old_data


def issue_id(subentry: ConfigSubentry) -> str:
    """Return the id of the subentry's repair issue."""
    return f"pvoutput_{subentry.subentry_id}"


def _load_state(data: dict[str, Any] | None, subentry: ConfigSubentry) -> ExportState:
    """Return the stored state, or a fresh one (donor as the flow found) if unreadable."""
    if data is not None:
        try:
            return ExportState.from_dict(data)
        except ValueError as err:
            LOGGER.warning("Starting the PVOutput export afresh: stored state unreadable: %s", err)
    return ExportState(donor=bool(subentry.data.get(CONF_DONOR, False)))


async def _async_sleep(hass: HomeAssistant, seconds: float) -> None:
    """Sleep the exporter's seconds on Home Assistant's clock.

    The wake-up is a point in UTC, as the exporter's intervals are, which HA never fires
    early; a timer of HA's, it fires when a test moves frozen time past it.
    """
    woken: asyncio.Future[None] = hass.loop.create_future()

    @callback
    def _wake(_now: datetime) -> None:
        if not woken.done():
            woken.set_result(None)

    cancel = async_track_point_in_utc_time(
        hass, _wake, dt_util.utcnow() + timedelta(seconds=seconds)
    )
    try:
        await woken
    finally:
        cancel()  # when cancelled (unload, stop) the timer goes with the sleep


async def async_start_export(
    hass: HomeAssistant, entry: SmartMeterConfigEntry, subentry: ConfigSubentry
) -> PVOutputRuntime:
    """Start exporting the entry's meter for the subentry."""
    return await async_run_export(hass, entry, subentry, interval_source(hass, entry, subentry))


async def async_run_export(
    hass: HomeAssistant, entry: ConfigEntry, subentry: ConfigSubentry, source: IntervalSource
) -> PVOutputRuntime:
    """Start exporting what source gives for the subentry's intervals.

    It stops when the entry unloads or HA stops, or when the entry's kind stops it before
    closing what source reads.
    """
    store = ExportStateStore(
        hass,
        STORAGE_VERSION,
        f"{DOMAIN}.pvoutput.{subentry.subentry_id}",
        minor_version=STORAGE_MINOR_VERSION,
    )
    state = _load_state(await store.async_load(), subentry)
    client = PVOutputClient(
        async_get_clientsession(hass),
        subentry.data[CONF_API_KEY],
        int(subentry.data[CONF_SYSTEM_ID]),
        base_url=API_URL,
    )
    exporter = PVOutputExporter(
        client,
        export_settings(dict(subentry.data)),
        source,
        dt_util.get_default_time_zone(),
        state,
        now=dt_util.utcnow,
        sleep=partial(_async_sleep, hass),
    )
    shown: list[Problem | None] = [None]  # the problem the repair issue shows

    @callback
    def _changed() -> None:
        store.async_delay_save(exporter.state.as_dict, SAVE_DELAY)
        problem = exporter.status().problem
        if problem is shown[0]:
            return
        shown[0] = problem
        if problem is None:
            ir.async_delete_issue(hass, DOMAIN, issue_id(subentry))
            return
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id(subentry),
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=f"pvoutput_{problem.value}",
            translation_placeholders={"title": subentry.title},
        )

    remove_listener = exporter.add_listener(_changed)
    task = entry.async_create_background_task(
        hass, exporter.run(), f"PVOutput export {subentry.title}"
    )
    stopped = asyncio.Event()

    async def _async_stop(*_args: object) -> None:
        if stopped.is_set():
            return
        stopped.set()
        remove_listener()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await store.async_save(exporter.state.as_dict())
        ir.async_delete_issue(hass, DOMAIN, issue_id(subentry))

    entry.async_on_unload(_async_stop)
    # Not a one-time listener: removing one that has run logs an error.
    entry.async_on_unload(hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, _async_stop))
    return PVOutputRuntime(subentry, exporter, _async_stop)
