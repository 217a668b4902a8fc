"""Helpers for what an entry runs until it unloads or Home Assistant stops."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant, callback


@callback
def async_on_unload_or_stop(
    hass: HomeAssistant, entry: ConfigEntry, stop: Callable[[], Awaitable[None]]
) -> Callable[[], Awaitable[None]]:
    """Run ``stop`` once, when the entry unloads or Home Assistant stops, whichever is first.

    Also when a later step of the entry's setup fails: Home Assistant then runs the entry's
    unload callbacks only. Return the function that runs it once, for an earlier stop.
    """
    stopped = False

    async def _async_stop_once(*_args: object) -> None:
        nonlocal stopped
        if not stopped:
            stopped = True
            await stop()

    entry.async_on_unload(_async_stop_once)
    # Not a one-time listener: removing one that has run logs an error.
    entry.async_on_unload(hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, _async_stop_once))
    return _async_stop_once
