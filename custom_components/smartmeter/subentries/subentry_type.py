"""What a type of config subentry brings: its flow and, for one that runs, its runtime."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry, ConfigSubentry, ConfigSubentryFlow
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..models import EntryData, SubentryRuntime

type SubentryStart[DataT: EntryData] = Callable[
    [HomeAssistant, ConfigEntry[DataT], ConfigSubentry], Awaitable[SubentryRuntime]
]
type SubentrySensors[DataT: EntryData] = Callable[
    [ConfigEntry[DataT], ConfigSubentry, SubentryRuntime, AddConfigEntryEntitiesCallback], None
]


@dataclass(frozen=True, kw_only=True)
class SubentryType[DataT: EntryData]:
    """A type of config subentry: one line of the registry in subentries/__init__.py.

    One that is data only (an energy contract) has a flow, and its entry's kind reads its
    data; one that runs while its entry is loaded (an export) also starts and has sensors.
    DataT is the runtime data of the kinds of entry it runs on.
    """

    # Its subentry_type: the key of its strings in strings.json's config_subentries.
    key: str
    flow: type[ConfigSubentryFlow]
    # Starts a subentry once its entry's kind is up; the runtime is stopped by the kind,
    # before what it reads from closes.
    async_start: SubentryStart[DataT] | None = None
    # Adds the sensors of a running subentry, to that subentry.
    add_sensors: SubentrySensors[DataT] | None = None
