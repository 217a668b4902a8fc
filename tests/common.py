"""Helpers of the tests: meter entries, waiting for states, and for the store's processing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from homeassistant.components.recorder.statistics import (
    StatisticsRow,
    statistics_during_period,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.smartmeter.const import DOMAIN
from custom_components.smartmeter.store import ReadingStore


def network_entry(
    port: int,
    specification: str = "5",
    *,
    unique_id: str | None = "4B384547303034303436333935353037",
    options: dict[str, Any] | None = None,
    **data: Any,
) -> MockConfigEntry:
    """Return an entry reading a meter on localhost; ``data`` adds to its data."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Test meter",
        unique_id=unique_id,
        data={
            "connection_type": "network",
            "host": "127.0.0.1",
            "port": port,
            "specification": specification,
            **data,
        },
        options=options or {},
    )


def serial_entry(device: str, specification: str = "5", baudrate: int = 115200) -> MockConfigEntry:
    """Return an entry reading a meter on a (pseudo-terminal) serial port."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Test meter",
        unique_id="serial-meter",
        data={
            "connection_type": "serial",
            "device": device,
            "serial_settings": {"baudrate": baudrate, "bytesize": 8, "parity": "N"},
            "specification": specification,
        },
    )


async def unload_meters(hass: HomeAssistant) -> None:
    """Unload the meters still loaded, as a user would before unplugging the meter."""
    for entry in hass.config_entries.async_loaded_entries(DOMAIN):
        await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add and set up the entry."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


def states(hass: HomeAssistant, prefix: str = "sensor.") -> dict[str, str]:
    """Return entity_id -> state for our entities."""
    return {
        state.entity_id: state.state
        for state in hass.states.async_all("sensor")
        if state.entity_id.startswith(prefix)
    }


# What the decoder logs, once per register, when it refuses telegrams that lack one.
REFUSED_FOR_A_MISSING_REGISTER = r"^Telegrams without .* are refused: "
# Generous, for a machine busy with other work: a condition that holds ends the wait at once.
UNTIL_TIMEOUT = 30


async def until(hass: HomeAssistant, condition: Callable[[], bool]) -> None:
    """Let the loop run until the condition holds; fail after UNTIL_TIMEOUT seconds."""
    async with asyncio.timeout(UNTIL_TIMEOUT):
        while not condition():
            await asyncio.sleep(0.01)
            await hass.async_block_till_done()


def state_of(hass: HomeAssistant, entity_id: str) -> str:
    """Return an entity's state; fail if it does not exist."""
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


def has_state(hass: HomeAssistant, entity_id: str, value: str) -> bool:
    """Tell whether the entity exists and has this state."""
    state = hass.states.get(entity_id)
    return state is not None and state.state == value


async def until_handled(hass: HomeAssistant, entry: MockConfigEntry, telegrams: int) -> None:
    """Wait until the entry's reader has handed on this many valid telegrams."""
    await until(
        hass,
        lambda: (
            (reader := entry.runtime_data.coordinator.reader) is not None
            and reader.stats.telegrams == telegrams
        ),
    )


# The options form's sections and the fields each holds, as the frontend sends them.
OPTION_SECTIONS = {
    "updates": ("min_update_interval",),
    "api": ("api_enabled", "api_key"),
    "database": ("database_url", "retention_hours"),
    "forwarding": ("forward_targets",),
}


def options_input(**fields: Any) -> dict[str, dict[str, Any]]:
    """Return the options form's input: ``fields`` in their sections, every section sent."""
    sections = {
        name: {key: fields.pop(key) for key in keys if key in fields}
        for name, keys in OPTION_SECTIONS.items()
    }
    assert not fields, f"in no section: {fields}"
    return sections


def wait_processed(store: ReadingStore) -> None:
    """Wait until everything submitted before is written and processed (blocks).

    Work queued on the writer runs once processing has caught up. Raises what the writer
    raised; StoreError once closed.
    """
    store.writer.run(lambda: None).result()


async def statistic_rows(hass: HomeAssistant, statistic_id: str) -> list[StatisticsRow]:
    """Return every hourly row of a statistic (start, state, sum), once the recorder wrote."""
    await async_wait_recording_done(hass)
    found = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        datetime(2000, 1, 1, tzinfo=UTC),
        None,
        {statistic_id},
        "hour",
        None,
        {"state", "sum"},
    )
    return found.get(statistic_id, [])
