"""Config subentry flow "Add energy contract": its dates and its prices."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import ConfigSubentryFlow, SubentryFlowResult
from homeassistant.const import UnitOfEnergy, UnitOfVolume
from homeassistant.helpers import selector
import probatio as vol

from .contracts import (
    CONF_DESCRIPTION,
    CONF_END,
    CONF_START,
    FIXED_DAILY_COST,
    PRICE_FIELDS,
    InvalidContract,
    contract_data,
    contract_form_values,
    contract_title,
)


def _contract_schema(currency: str) -> vol.Schema:
    """Return the contract form, its prices in ``currency`` per kWh or m³, its fixed costs in it."""
    units = dict.fromkeys(PRICE_FIELDS, f"{currency}/{UnitOfEnergy.KILO_WATT_HOUR}") | {
        "gas_price": f"{currency}/{UnitOfVolume.CUBIC_METERS}",
        FIXED_DAILY_COST: currency,
    }
    return vol.Schema(
        {
            vol.Optional(CONF_DESCRIPTION, default=""): selector.TextSelector(),
            vol.Required(CONF_START): selector.DateSelector(),
            vol.Required(CONF_END): selector.DateSelector(),
            **{
                vol.Required(name, default=0): selector.NumberSelector(
                    selector.NumberSelectorConfig(
                        step="any", mode=selector.NumberSelectorMode.BOX, unit_of_measurement=unit
                    )
                )
                for name, unit in units.items()
            },
        }
    )


class EnergyContractFlow(ConfigSubentryFlow):
    """Add or change an energy contract: prices per kWh and m³ between two dates."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Ask for the contract's dates and prices."""
        return await self._async_contract_step("user", user_input, {})

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change a contract; the costs of the days it covers are computed again."""
        return await self._async_contract_step(
            "reconfigure", user_input, contract_form_values(self._get_reconfigure_subentry().data)
        )

    async def _async_contract_step(
        self, step_id: str, user_input: dict[str, Any] | None, current: Mapping[str, Any]
    ) -> SubentryFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                data = contract_data(user_input)
            except InvalidContract as err:
                field, error = err.args[0]
                errors[field] = error
            else:
                if step_id == "user":
                    return self.async_create_entry(title=contract_title(data), data=data)
                return self.async_update_and_abort(
                    self._get_entry(),
                    self._get_reconfigure_subentry(),
                    title=contract_title(data),
                    data=data,
                )
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(
                _contract_schema(self.hass.config.currency), user_input or current
            ),
            errors=errors,
        )
