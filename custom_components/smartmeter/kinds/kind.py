"""What a kind of config entry brings: its flow, setup, sensors and diagnostics section."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigFlow, ConfigFlowResult, OptionsFlow
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..models import EntryData


class KindFlow(ConfigFlow):
    """The steps of one kind of entry; the integration's config flow has every kind's.

    Home Assistant finds a step by its method's name: async_step_<kind key> starts the kind's
    steps (its choice in the user step's menu), and the kind's other steps need names no other
    kind uses. Reconfiguration and reauthentication start in the integration's flow, which
    hands an entry's to its kind.
    """

    async def async_kind_reconfigure(self, user_input: dict[str, Any] | None) -> ConfigFlowResult:
        """Change how a configured entry of this kind connects."""
        raise NotImplementedError

    async def async_kind_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Ask for new credentials of an entry of this kind."""
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class EntryKind[DataT: EntryData]:
    """A kind of config entry (a P1 meter, say): one line of the registry in kinds/__init__.py.

    The integration's __init__, config flow, sensor platform and diagnostics hand an entry to
    its kind through this. DataT is the runtime data its entries hold.
    """

    # Saved in the entry's data; the menu option and first step of its flow.
    key: str
    flow: type[KindFlow]
    options_flow: Callable[[], OptionsFlow] | None
    # The types of subentry its entries take (keys of subentries.SUBENTRY_TYPES).
    subentry_types: tuple[str, ...]
    # Sets the entry's runtime data and forwards its platforms; raises ConfigEntryNotReady.
    async_setup_entry: Callable[[HomeAssistant, ConfigEntry[DataT]], Awaitable[None]]
    platforms: tuple[Platform, ...]
    add_sensors: Callable[[ConfigEntry[DataT], AddConfigEntryEntitiesCallback], None]
    # Keys of the entry's data and options that diagnostics redact, and its section there.
    redact: frozenset[str]
    diagnostics: Callable[[ConfigEntry[DataT]], dict[str, Any]]
    # Brings an entry of an older minor version up to date (before it says its kind).
    async_migrate: Callable[[HomeAssistant, ConfigEntry], Awaitable[None]]
    # Whether the user may remove a device of the entry (one of no subentry).
    device_removable: Callable[[ConfigEntry[DataT], dr.DeviceEntry], bool]
