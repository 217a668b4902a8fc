"""Consistent backups: the meters' SQLite files stay unchanged while a backup copies them.

Home Assistant's backups copy the configuration folder, with each meter's reading database and
forward queue. Before, every loaded meter writes the readings queued, checkpoints the files'
write-ahead logs into them and holds: readings arriving meanwhile queue (an API client waits
for its answer) and are written after the backup.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_call_later
from homeassistant.util.hass_dict import HassKey
from sqlalchemy.exc import SQLAlchemyError

from .const import DOMAIN, LOGGER
from .forward import ForwardQueue, ForwardQueueError
from .models import loaded_meters
from .store.errors import StoreError
from .store.store import ReadingStore

# A backup not ended by then lets the meters write again, rather than hold their readings for
# ever (a backup that failed without telling).
HOLD_TIMEOUT: Final = timedelta(minutes=30)
_HOLD_MINUTES: Final = int(HOLD_TIMEOUT.total_seconds()) // 60
# How long the writers may take to write and process what is queued before they hold.
HOLD_START_TIMEOUT: Final = 60.0


@dataclass(slots=True)
class _Hold:
    """What one backup holds."""

    stores: list[ReadingStore]
    queues: list[ForwardQueue]
    cancel_timeout: CALLBACK_TYPE | None = None
    expired: bool = False


_DATA_HOLD: HassKey[_Hold] = HassKey(f"{DOMAIN}_backup")


async def async_pre_backup(hass: HomeAssistant) -> None:
    """Write what is queued, then hold every loaded meter's database and forward queue."""
    if (unfinished := hass.data.pop(_DATA_HOLD, None)) is not None:
        # The end of the last backup never came.
        await _async_resume(hass, unfinished)
    entries = loaded_meters(hass)
    hold = hass.data[_DATA_HOLD] = _Hold(
        [entry.runtime_data.store for entry in entries],
        [
            forwarder.queue
            for entry in entries
            if (forwarder := entry.runtime_data.forwarder) is not None
        ],
    )
    try:
        complete = await _async_hold(hass, hold)
    except BaseException as err:
        # Cancelled too: nothing may stay held.
        hass.data.pop(_DATA_HOLD, None)
        await _async_resume(hass, hold)
        if isinstance(err, TimeoutError):
            error = f"the readings queued were not written within {HOLD_START_TIMEOUT:g} s"
        elif isinstance(err, StoreError | SQLAlchemyError | ForwardQueueError):
            error = str(err)
        else:
            raise
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="backup_hold_failed",
            translation_placeholders={"error": error},
        ) from err
    if not complete:
        LOGGER.warning(
            "Another program reading a meter's database or forward queue kept it from being "
            "checkpointed before the backup: the backup's copy is consistent only together "
            "with its -wal file"
        )
    hold.cancel_timeout = async_call_later(hass, HOLD_TIMEOUT, partial(_expire, hass, hold))


async def async_post_backup(hass: HomeAssistant) -> None:
    """Let the meters write again, the readings queued meanwhile first.

    Raises HomeAssistantError when a meter was written during the backup (reloaded, or the
    backup outlasted HOLD_TIMEOUT): its copies in the backup may be inconsistent.
    """
    hold = hass.data.pop(_DATA_HOLD, None)
    if hold is None:
        return
    if not await _async_resume(hass, hold) or hold.expired:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="backup_not_held",
            translation_placeholders={"minutes": str(_HOLD_MINUTES)},
        )


async def _async_hold(hass: HomeAssistant, hold: _Hold) -> bool:
    """Hold the stores, then the queues (readings written may be forwarded).

    Return whether every file alone has all that was written before.
    """
    async with asyncio.timeout(HOLD_START_TIMEOUT):
        complete = await asyncio.gather(
            *(asyncio.wrap_future(store.hold_for_backup()) for store in hold.stores)
        )
    # Every one to its end, so that none holds after a failure's resume.
    queued = await asyncio.gather(
        *(hass.async_add_executor_job(queue.hold_for_backup) for queue in hold.queues),
        return_exceptions=True,
    )
    for result in queued:
        if isinstance(result, BaseException):
            raise result
    return all(complete) and all(queued)


@callback
def _expire(hass: HomeAssistant, hold: _Hold, _now: datetime) -> None:
    hold.cancel_timeout = None
    hold.expired = True
    LOGGER.warning(
        "The backup has not ended within %d minutes: the meters write their readings again, "
        "so its copies of their databases may be inconsistent",
        _HOLD_MINUTES,
    )
    hass.async_create_task(_async_resume(hass, hold), "smartmeter resume after backup")


async def _async_resume(hass: HomeAssistant, hold: _Hold) -> bool:
    """End the hold; return whether everything was held until now."""
    if hold.cancel_timeout is not None:
        hold.cancel_timeout()
        hold.cancel_timeout = None
    resumed = [store.resume_after_backup() for store in hold.stores]
    resumed += await asyncio.gather(
        *(hass.async_add_executor_job(queue.resume_after_backup) for queue in hold.queues)
    )
    return all(resumed)
