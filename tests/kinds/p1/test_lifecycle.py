"""Setting up, failing, unloading and stopping leave no thread, listener or error behind."""

from __future__ import annotations

import asyncio
import threading
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from sqlalchemy.exc import OperationalError

from custom_components.smartmeter.subentries.contract.contracts import sync_contracts
from tests.common import has_state, network_entry, until
from tests.meters import TcpMeter, telegram

POWER = "sensor.electricity_meter_power_consumption"


def _writers() -> int:
    """Return how many reading stores have their writer thread running."""
    return sum(thread.name == "smartmeter-store-writer" for thread in threading.enumerate())


async def test_setup_failing_after_the_store_opened(
    hass: HomeAssistant, tcp_meter: TcpMeter
) -> None:
    """A database that fails after opening: the setup is retried, and the store closed."""
    entry = network_entry(tcp_meter.port)
    failure = OperationalError("SELECT", {}, Exception("server closed the connection"))
    states = []
    with patch("custom_components.smartmeter.kinds.p1.setup.sync_contracts", side_effect=failure):
        entry.add_to_hass(hass)
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        states.append((entry.state, _writers()))
        assert entry.reason == "The reading database cannot be opened: " + str(failure)
        # again, as Home Assistant's retries do
        await hass.config_entries.async_reload(entry.entry_id)
        states.append((entry.state, _writers()))
    await hass.config_entries.async_reload(entry.entry_id)
    states.append((entry.state, _writers()))
    assert states == [
        (ConfigEntryState.SETUP_RETRY, 0),
        (ConfigEntryState.SETUP_RETRY, 0),
        (ConfigEntryState.LOADED, 1),
    ]
    await tcp_meter.send(telegram("v5.txt"))
    await until(hass, lambda: has_state(hass, POWER, "244.0"))


async def test_stop_while_an_entry_is_set_up(hass: HomeAssistant, tcp_meter: TcpMeter) -> None:
    """Home Assistant stopping while a setup waits on the database logs no error.

    A retry of the setup (a background task, which Home Assistant cancels when it stops)
    waits on a slow database; the stop closes the store, the setup ends.
    """
    entry = network_entry(tcp_meter.port)
    entry.add_to_hass(hass)
    entered, release = threading.Event(), threading.Event()

    def slow_sync(*args: object) -> None:
        entered.set()
        release.wait(5)
        sync_contracts(*args)  # type: ignore[arg-type]

    with patch("custom_components.smartmeter.kinds.p1.setup.sync_contracts", slow_sync):
        setup = hass.async_create_background_task(
            hass.config_entries.async_setup(entry.entry_id), "retry"
        )
        await until(hass, entered.is_set)
        stop = asyncio.create_task(hass.async_stop())
        await until(hass, setup.done)
        release.set()
        await stop
    assert _writers() == 0
