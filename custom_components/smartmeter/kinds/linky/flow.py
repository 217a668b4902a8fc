"""Set up a Linky meter: its access path, usage point (PRM) and measurements, checked."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
import logging
import random
from typing import Any, Final

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntry, ConfigFlowResult
from homeassistant.const import CONF_TOKEN
from homeassistant.helpers import config_entry_oauth2_flow, selector
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util import dt as dt_util
import probatio as vol

from ...const import CONF_KIND, DOMAIN, LOGGER
from ...enedis import (
    PARIS,
    AccessDenied,
    ConsoApiClient,
    DataConnectClient,
    EnedisConnectionError,
    EnedisError,
    LinkyClient,
    Measurement,
    PrmNotAllowed,
    RateLimited,
    WrongMeasurementType,
)
from ..kind import KindFlow
from .client import token_client
from .const import (
    ACCESS_CONSO_API,
    ACCESS_DATA_CONNECT,
    ACCESS_MYELECTRICALDATA,
    CONF_ACCESS,
    CONF_MEASUREMENT,
    CONF_POLL_MINUTE,
    CONF_PRM,
    CONF_SERVICE_URL,
    KIND_LINKY,
    MEASUREMENTS,
    SERVICE_URLS,
)

_PRM_SELECTOR: Final = selector.TextSelector()
_TOKEN_SELECTOR: Final = selector.TextSelector(
    selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
)
_MEASUREMENT_SELECTOR: Final = selector.SelectSelector(
    selector.SelectSelectorConfig(
        options=list(MEASUREMENTS),
        translation_key=CONF_MEASUREMENT,
        mode=selector.SelectSelectorMode.LIST,
    )
)
_METER_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_PRM): _PRM_SELECTOR,
        vol.Required(
            CONF_MEASUREMENT, default=Measurement.CONSUMPTION.value
        ): _MEASUREMENT_SELECTOR,
    }
)
_TOKEN_SCHEMA: Final = _METER_SCHEMA.extend({vol.Required(CONF_TOKEN): _TOKEN_SELECTOR})
_REAUTH_SCHEMA: Final = vol.Schema({vol.Required(CONF_TOKEN): _TOKEN_SELECTOR})


_CHECK_ERRORS: Final[tuple[tuple[type[EnedisError], str], ...]] = (
    (WrongMeasurementType, "wrong_measurement"),
    (RateLimited, "rate_limited"),
    (EnedisConnectionError, "enedis_unreachable"),
)


def _valid_prm(prm: str) -> bool:
    return len(prm) == 14 and prm.isascii() and prm.isdigit()


async def async_check_access(
    client: LinkyClient, measurements: tuple[Measurement, ...]
) -> str | None:
    """Ask for a recent day of each measurement; return the error key, None if all answer."""
    today = dt_util.now(PARIS).date()
    try:
        if isinstance(client, ConsoApiClient):
            client.check_token()
        for measurement in measurements:
            await client.daily(measurement, today - timedelta(days=2), today)
    except AccessDenied as err:
        if isinstance(err, PrmNotAllowed):
            return "prm_not_allowed"
        return "consent_revoked" if isinstance(client, DataConnectClient) else "invalid_token"
    except EnedisError as err:
        for error_type, key in _CHECK_ERRORS:
            if isinstance(err, error_type):
                return key
        LOGGER.warning("Enedis refused the check of %s: %s", client.prm, err)
        return "unknown"
    return None


class LinkyFlow(KindFlow, config_entry_oauth2_flow.AbstractOAuth2FlowHandler):
    """Add a Linky meter: through the Conso API, MyElectricalData or Data-Connect (OAuth2)."""

    DOMAIN = DOMAIN

    def __init__(self) -> None:
        """Start with no meter chosen."""
        super().__init__()
        self._meter: dict[str, Any] = {}

    @property
    def logger(self) -> logging.Logger:
        """Return the logger of the OAuth2 steps."""
        return LOGGER

    async def async_step_linky(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask how the meter's data is had."""
        return self.async_show_menu(
            step_id=KIND_LINKY,
            menu_options=[f"linky_{access}" for access in SERVICE_URLS],
        )

    async def async_step_linky_conso_api(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the Conso API token and the meter."""
        return await self._async_token_step(ACCESS_CONSO_API, user_input)

    async def async_step_linky_myelectricaldata(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the MyElectricalData token and the meter."""
        return await self._async_token_step(ACCESS_MYELECTRICALDATA, user_input)

    async def _async_token_step(
        self, access: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {
                CONF_KIND: KIND_LINKY,
                CONF_ACCESS: access,
                CONF_SERVICE_URL: SERVICE_URLS[access],
                CONF_PRM: user_input[CONF_PRM].strip(),
                CONF_MEASUREMENT: user_input[CONF_MEASUREMENT],
                CONF_TOKEN: user_input[CONF_TOKEN].strip(),
            }
            if (error := await self._async_check_meter(data)) is not None:
                errors["base"] = error
            else:
                return self._async_create_meter(data)
        return self.async_show_form(
            step_id=f"linky_{access}",
            data_schema=self.add_suggested_values_to_schema(_TOKEN_SCHEMA, user_input),
            errors=errors,
        )

    async def async_step_linky_data_connect(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the meter, then for the customer's consent on Enedis' page."""
        errors: dict[str, str] = {}
        if user_input is not None:
            prm = user_input[CONF_PRM].strip()
            if not _valid_prm(prm):
                errors[CONF_PRM] = "invalid_prm"
            else:
                await self.async_set_unique_id(prm)
                self._abort_if_unique_id_configured()
                self._meter = {
                    CONF_KIND: KIND_LINKY,
                    CONF_ACCESS: ACCESS_DATA_CONNECT,
                    CONF_SERVICE_URL: SERVICE_URLS[ACCESS_DATA_CONNECT],
                    CONF_PRM: prm,
                    CONF_MEASUREMENT: user_input[CONF_MEASUREMENT],
                }
                return await self.async_step_pick_implementation()
        return self.async_show_form(
            step_id="linky_data_connect",
            data_schema=self.add_suggested_values_to_schema(_METER_SCHEMA, user_input),
            errors=errors,
        )

    async def async_oauth_create_entry(self, data: dict[str, Any]) -> ConfigFlowResult:
        """Check the consent with a request, then add the meter (or update it on reauth)."""
        if self.source == SOURCE_REAUTH:
            entry = self._get_reauth_entry()
            return self._async_update_and_reload(entry, {**entry.data, **data})
        meter = {**self._meter, **data}
        client = DataConnectClient(
            async_get_clientsession(self.hass),
            meter[CONF_PRM],
            _fixed_token(data["token"]["access_token"]),
            meter[CONF_SERVICE_URL],
        )
        error = await async_check_access(client, MEASUREMENTS[meter[CONF_MEASUREMENT]])
        if error is not None:
            return self.async_abort(reason=error)
        return self._async_create_meter(meter)

    async def _async_check_meter(self, data: dict[str, Any]) -> str | None:
        if not _valid_prm(data[CONF_PRM]):
            return "invalid_prm"
        await self.async_set_unique_id(data[CONF_PRM])
        self._abort_if_unique_id_configured()
        return await async_check_access(
            token_client(self.hass, data), MEASUREMENTS[data[CONF_MEASUREMENT]]
        )

    def _async_create_meter(self, data: dict[str, Any]) -> ConfigFlowResult:
        return self.async_create_entry(
            title=f"Linky {data[CONF_PRM]}",
            data=data,
            # A random minute spreads the users' polls over the hour (Enedis asks for it).
            options={CONF_POLL_MINUTE: random.randrange(60)},
        )

    async def async_kind_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Ask for a new token, or the consent again."""
        if entry_data[CONF_ACCESS] == ACCESS_DATA_CONNECT:
            return await self.async_step_linky_reauth_consent()
        return await self.async_step_linky_reauth()

    async def async_step_linky_reauth_consent(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Say why the consent is asked for again, then open Enedis' page.

        Only the user's confirmation comes with the request that Enedis' page returns to.
        """
        entry = self._get_reauth_entry()
        if user_input is None:
            return self.async_show_form(
                step_id="linky_reauth_consent", description_placeholders={"title": entry.title}
            )
        return await self.async_step_pick_implementation(
            {"implementation": entry.data["auth_implementation"]}
        )

    async def async_step_linky_reauth(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for a new token and try it."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**entry.data, CONF_TOKEN: user_input[CONF_TOKEN].strip()}
            error = await async_check_access(
                token_client(self.hass, data), MEASUREMENTS[data[CONF_MEASUREMENT]]
            )
            if error is None:
                return self._async_update_and_reload(entry, data)
            errors["base"] = error
        return self.async_show_form(
            step_id="linky_reauth",
            data_schema=_REAUTH_SCHEMA,
            errors=errors,
            description_placeholders={"title": entry.title},
        )

    def _async_update_and_reload(
        self, entry: ConfigEntry, data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Save new credentials and start again with them.

        The entry's update listener reloads it for new options only, not for a token (Data-Connect
        refreshes its token in the entry's data).
        """
        self.hass.config_entries.async_schedule_reload(entry.entry_id)
        return self.async_update_and_abort(entry, data=data)


def _fixed_token(token: str) -> Any:
    async def access_token() -> str:
        return token

    return access_token
