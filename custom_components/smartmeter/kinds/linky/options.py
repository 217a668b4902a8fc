"""A Linky meter's options: the minute of the hourly polls."""

from __future__ import annotations

from typing import Any, Final

from homeassistant.config_entries import ConfigFlowResult, OptionsFlow
from homeassistant.helpers import selector
import probatio as vol

from .const import CONF_POLL_MINUTE

_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_POLL_MINUTE): selector.NumberSelector(
            selector.NumberSelectorConfig(
                min=0, max=59, step=1, mode=selector.NumberSelectorMode.BOX
            )
        )
    }
)


class LinkyOptionsFlow(OptionsFlow):
    """Show the poll minute (chosen at random) and let the user change it."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Start with the poll step (init is the P1 meters' step's name in the strings)."""
        return await self.async_step_linky_poll()

    async def async_step_linky_poll(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the minute."""
        if user_input is not None:
            return self.async_create_entry(
                data={CONF_POLL_MINUTE: int(user_input[CONF_POLL_MINUTE])}
            )
        return self.async_show_form(
            step_id="linky_poll",
            data_schema=self.add_suggested_values_to_schema(_SCHEMA, self.config_entry.options),
        )
