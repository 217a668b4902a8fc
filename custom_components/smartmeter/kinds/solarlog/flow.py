"""A Solar-Log plant's config flow: the portal and API credentials, then the plant.

The plant is picked from the user's plants, or typed while the plants call is unavailable
(the wiki: "currently in development"); either way it is read once before it is saved.
Re-authentication and reconfiguration ask for the credentials again, for the same plant.
"""

from __future__ import annotations

from collections.abc import Mapping
import re
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry, ConfigFlowResult
from homeassistant.helpers import selector
import probatio as vol

from ...const import CONF_KIND
from ...solarlog.client import EnerestClient
from ...solarlog.endpoints import API_URL, TOKEN_URL
from ...solarlog.errors import (
    AccessDeniedError,
    AuthenticationError,
    NotFoundError,
    SolarLogError,
)
from ...solarlog.models import Plant, PlantSummary
from ..kind import KindFlow
from .const import (
    CONF_API_URL,
    CONF_CLIENT_ID,
    CONF_CLIENT_SECRET,
    CONF_PLANT_ID,
    CONF_PORTAL,
    CONF_TOKEN_URL,
    KIND_SOLARLOG,
)
from .setup import enerest_client

# A portal's name: the first label of <portal>.enerest.world.
_PORTAL: Final = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_SECRET: Final = selector.TextSelector(
    selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
)
_CREDENTIALS: Final = {
    vol.Required(CONF_CLIENT_ID): selector.TextSelector(),
    vol.Required(CONF_CLIENT_SECRET): _SECRET,
}
_PORTAL_SCHEMA: Final = vol.Schema(
    {vol.Required(CONF_PORTAL): selector.TextSelector(), **_CREDENTIALS}
)
_CREDENTIALS_SCHEMA: Final = vol.Schema(_CREDENTIALS)
_PLANT_ID_SCHEMA: Final = vol.Schema({vol.Required(CONF_PLANT_ID): selector.TextSelector()})


def portal_name(text: str) -> str | None:
    """Return the portal's name from what the user typed: a name, a domain or a URL."""
    name = text.strip().removeprefix("https://").removeprefix("http://").split("/")[0]
    name = name.removesuffix(".enerest.world")
    return name if _PORTAL.fullmatch(name) else None


def _plant_label(plant: PlantSummary) -> str:
    size = f" ({plant.size_w / 1000:g} kWp)" if plant.size_w else ""
    return f"{plant.label or plant.id}{size}"


class SolarLogFlow(KindFlow):
    """Set up a Solar-Log plant of a WEB Enerest portal."""

    def __init__(self) -> None:
        """Start without credentials."""
        super().__init__()
        self._data: dict[str, Any] = {}
        self._plants: list[PlantSummary] = []

    def _client(self, data: Mapping[str, Any]) -> EnerestClient:
        return enerest_client(self.hass, data)

    def _credentials(self, user_input: Mapping[str, Any], errors: dict[str, str]) -> bool:
        """Take the portal and credentials typed; False (errors filled) if unusable."""
        data = {**self._data, **user_input}
        if CONF_PORTAL in user_input:
            portal = portal_name(user_input[CONF_PORTAL])
            if portal is None:
                errors[CONF_PORTAL] = "invalid_portal"
                return False
            data[CONF_PORTAL] = portal
        data[CONF_CLIENT_ID] = str(data[CONF_CLIENT_ID]).strip()
        data[CONF_CLIENT_SECRET] = str(data[CONF_CLIENT_SECRET]).strip()
        self._data = data
        return True

    async def async_step_solarlog(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the portal and the API client's id and secret; check them."""
        errors: dict[str, str] = {}
        if user_input is not None:
            self._data = {
                CONF_KIND: KIND_SOLARLOG,
                CONF_API_URL: API_URL,
                CONF_TOKEN_URL: TOKEN_URL,
            }
            if self._credentials(user_input, errors):
                result = await self._async_find_plants(errors)
                if result is not None:
                    return result
        return self.async_show_form(
            step_id=KIND_SOLARLOG,
            data_schema=self.add_suggested_values_to_schema(
                _PORTAL_SCHEMA, {CONF_PORTAL: user_input.get(CONF_PORTAL)} if user_input else None
            ),
            errors=errors,
        )

    async def _async_find_plants(self, errors: dict[str, str]) -> ConfigFlowResult | None:
        """Get a token, then the user's plants; None (errors filled) if refused."""
        client = self._client(self._data)
        try:
            await client.authenticate()
            self._plants = await client.plants()
        except AuthenticationError:
            errors["base"] = "invalid_auth"
            return None
        except SolarLogError:
            if client.tokens.grants == 0:
                errors["base"] = "portal_unreachable"
                return None
            # The plants call is "currently in development": the user types the plant's id.
            self._plants = []
        if self._plants:
            return await self.async_step_solarlog_plant()
        return await self.async_step_solarlog_plant_id()

    async def async_step_solarlog_plant(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask which of the user's plants to add."""
        errors: dict[str, str] = {}
        if user_input is not None:
            result = await self._async_add_plant(user_input[CONF_PLANT_ID], errors)
            if result is not None:
                return result
        schema = vol.Schema(
            {
                vol.Required(CONF_PLANT_ID): selector.SelectSelector(
                    selector.SelectSelectorConfig(
                        options=[
                            selector.SelectOptionDict(value=plant.id, label=_plant_label(plant))
                            for plant in self._plants
                        ],
                        mode=selector.SelectSelectorMode.LIST,
                    )
                )
            }
        )
        return self.async_show_form(step_id="solarlog_plant", data_schema=schema, errors=errors)

    async def async_step_solarlog_plant_id(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the plant's id, while the API cannot list the plants."""
        errors: dict[str, str] = {}
        if user_input is not None:
            result = await self._async_add_plant(user_input[CONF_PLANT_ID].strip(), errors)
            if result is not None:
                return result
        return self.async_show_form(
            step_id="solarlog_plant_id",
            data_schema=self.add_suggested_values_to_schema(_PLANT_ID_SCHEMA, user_input),
            errors=errors,
            description_placeholders={"portal": self._data[CONF_PORTAL]},
        )

    async def _async_read_plant(self, plant_id: str, errors: dict[str, str]) -> Plant | None:
        """Read the plant with the credentials taken; None (errors filled) if it fails."""
        try:
            return await self._client(self._data).plant(plant_id)
        except AuthenticationError:
            errors["base"] = "invalid_auth"
        except AccessDeniedError:
            errors["base"] = "plant_not_assigned"
        except NotFoundError:
            errors["base"] = "plant_not_found"
        except SolarLogError:
            errors["base"] = "portal_unreachable"
        return None

    async def _async_add_plant(
        self, plant_id: str, errors: dict[str, str]
    ) -> ConfigFlowResult | None:
        """Read the plant and add it; None (errors filled) if it cannot be read."""
        plant = await self._async_read_plant(plant_id, errors)
        if plant is None:
            return None
        await self.async_set_unique_id(plant.id, raise_on_progress=False)
        if any(entry.unique_id == plant.id for entry in self._async_current_entries()):
            return self.async_abort(reason="plant_already_configured")
        return self.async_create_entry(
            title=plant.label or "Solar-Log",
            data={**self._data, CONF_PLANT_ID: plant.id},
        )

    async def _async_update_credentials(
        self,
        entry: ConfigEntry,
        step_id: str,
        user_input: dict[str, Any] | None,
        schema: vol.Schema,
    ) -> ConfigFlowResult:
        """Ask for credentials again; save them once they read the entry's plant."""
        errors: dict[str, str] = {}
        if user_input is not None:
            self._data = dict(entry.data)
            if (
                self._credentials(user_input, errors)
                and await self._async_read_plant(entry.data[CONF_PLANT_ID], errors) is not None
            ):
                return self.async_update_reload_and_abort(
                    entry, data=self._data, reason=f"{step_id}_successful"
                )
        suggested = {
            CONF_PORTAL: entry.data[CONF_PORTAL],
            CONF_CLIENT_ID: entry.data[CONF_CLIENT_ID],
        }
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(schema, user_input or suggested),
            errors=errors,
            description_placeholders={"title": entry.title, "portal": entry.data[CONF_PORTAL]},
        )

    async def async_kind_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Ask for new credentials: the portal refuses the ones saved."""
        return await self.async_step_solarlog_reauth()

    async def async_step_solarlog_reauth(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the API client's new id and secret."""
        return await self._async_update_credentials(
            self._get_reauth_entry(), "solarlog_reauth", user_input, _CREDENTIALS_SCHEMA
        )

    async def async_kind_reconfigure(self, user_input: dict[str, Any] | None) -> ConfigFlowResult:
        """Change the portal or credentials of the plant."""
        return await self.async_step_solarlog_reconfigure(user_input)

    async def async_step_solarlog_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the portal and credentials; they must read the same plant."""
        return await self._async_update_credentials(
            self._get_reconfigure_entry(), "solarlog_reconfigure", user_input, _PORTAL_SCHEMA
        )
