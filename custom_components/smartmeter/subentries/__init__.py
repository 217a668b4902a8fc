"""The types of config subentry, and what runs them while their entry is loaded.

Adding a type: a folder here with its flow (and, for one that runs, its runtime and sensors)
and a SubentryType, one line in SUBENTRY_TYPES, and its key in the subentry_types of each
kind of entry that takes it.
"""

from __future__ import annotations

from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..models import AnyConfigEntry, EntryData
from .contract import ENERGY_CONTRACT
from .pvoutput import PVOUTPUT_EXPORT
from .subentry_type import SubentryType

SUBENTRY_TYPES: Final[dict[str, SubentryType[Any]]] = {
    subentry_type.key: subentry_type for subentry_type in (ENERGY_CONTRACT, PVOUTPUT_EXPORT)
}


async def async_start_subentries[DataT: EntryData](
    hass: HomeAssistant, entry: ConfigEntry[DataT]
) -> None:
    """Start the entry's subentries of the types that run, into its runtime data."""
    for subentry in entry.subentries.values():
        subentry_type = SUBENTRY_TYPES.get(subentry.subentry_type)
        if subentry_type is not None and subentry_type.async_start is not None:
            entry.runtime_data.subentries[subentry.subentry_id] = await subentry_type.async_start(
                hass, entry, subentry
            )


def add_subentry_sensors(
    entry: AnyConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the sensors of each running subentry."""
    for subentry_id, runtime in entry.runtime_data.subentries.items():
        subentry = entry.subentries[subentry_id]
        add_sensors = SUBENTRY_TYPES[subentry.subentry_type].add_sensors
        if add_sensors is not None:
            add_sensors(entry, subentry, runtime, async_add_entities)


def subentry_diagnostics(
    entry: AnyConfigEntry, subentry_types: tuple[str, ...]
) -> dict[str, dict[str, Any]]:
    """Return the running subentries' diagnostics, by type (of those that run) and id."""
    running = entry.runtime_data.subentries
    return {
        key: {
            subentry_id: runtime.diagnostics()
            for subentry_id, runtime in running.items()
            if entry.subentries[subentry_id].subentry_type == key
        }
        for key in subentry_types
        if SUBENTRY_TYPES[key].async_start is not None
    }
