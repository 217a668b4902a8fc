"""Sensors: those of the entry's kind, and those of its running subentries."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .kinds import entry_kind
from .models import AnyConfigEntry
from .subentries import add_subentry_sensors

# Entities only write state when their data arrives: nothing to throttle.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AnyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of the entry's kind and of its subentries."""
    entry_kind(entry).add_sensors(entry, async_add_entities)
    add_subentry_sensors(entry, async_add_entities)
