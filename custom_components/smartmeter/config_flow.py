"""Config flow: the kinds of entry, each with its own steps, options and subentry types."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
import types
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
)
from homeassistant.core import callback

from .const import DOMAIN
from .kinds import KINDS, entry_kind
from .kinds.kind import KindFlow
from .subentries import SUBENTRY_TYPES

if TYPE_CHECKING:
    _KindFlows = KindFlow
else:
    # Every kind's steps in one class: Home Assistant finds a step by its method's name.
    _KindFlows = types.new_class("KindFlows", tuple(kind.flow for kind in KINDS.values()))


class SmartMeterConfigFlow(_KindFlows, domain=DOMAIN):
    """Add a meter or portal of one of the kinds; its kind's steps do the rest."""

    VERSION = 1
    # 2: meters without an equipment id have no unique id; M-Bus unique ids hold the meter's.
    # 3: an entry says its kind.
    MINOR_VERSION = 3

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Return the subentry types the entry's kind takes."""
        return {key: SUBENTRY_TYPES[key].flow for key in entry_kind(config_entry).subentry_types}

    @classmethod
    @callback
    def async_supports_options_flow(cls, config_entry: ConfigEntry) -> bool:
        """Tell whether the entry's kind has options."""
        return entry_kind(config_entry).options_flow is not None

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        """Return the options flow of the entry's kind."""
        options_flow = entry_kind(config_entry).options_flow
        assert options_flow is not None  # asked only when supported
        return options_flow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask what to add; with one kind of entry, start its steps straight away."""
        if len(KINDS) > 1:
            return self.async_show_menu(step_id="user", menu_options=list(KINDS))
        (key,) = KINDS
        first_step: Callable[[], Awaitable[ConfigFlowResult]] = getattr(self, f"async_step_{key}")
        return await first_step()

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change how a configured entry connects, as its kind asks."""
        kind = entry_kind(self._get_reconfigure_entry())
        return await kind.flow.async_kind_reconfigure(self, user_input)

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Ask for new credentials, as the entry's kind needs."""
        kind = entry_kind(self._get_reauth_entry())
        return await kind.flow.async_kind_reauth(self, entry_data)
