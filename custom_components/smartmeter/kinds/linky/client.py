"""The Linky client of an entry, by its access path, on Home Assistant's aiohttp session."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import ClientError
from homeassistant.const import CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import OAuth2TokenRequestBaseError, OAuth2TokenRequestReauthError
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.config_entry_oauth2_flow import OAuth2Session

from ...enedis import (
    AccessDenied,
    ConsoApiClient,
    DataConnectClient,
    EnedisConnectionError,
    LinkyClient,
    MyElectricalDataClient,
)
from .const import (
    ACCESS_CONSO_API,
    ACCESS_MYELECTRICALDATA,
    CONF_ACCESS,
    CONF_PRM,
    CONF_SERVICE_URL,
)


def token_client(hass: HomeAssistant, data: Mapping[str, Any]) -> LinkyClient:
    """Return the client of a Conso API or MyElectricalData entry (or flow) data."""
    session = async_get_clientsession(hass)
    if data[CONF_ACCESS] == ACCESS_CONSO_API:
        return ConsoApiClient(session, data[CONF_PRM], data[CONF_TOKEN], data[CONF_SERVICE_URL])
    assert data[CONF_ACCESS] == ACCESS_MYELECTRICALDATA
    return MyElectricalDataClient(session, data[CONF_PRM], data[CONF_TOKEN], data[CONF_SERVICE_URL])


def data_connect_client(
    hass: HomeAssistant, data: Mapping[str, Any], oauth: OAuth2Session
) -> LinkyClient:
    """Return the Data-Connect client of an entry whose token the OAuth2 session keeps valid."""

    async def access_token() -> str:
        try:
            await oauth.async_ensure_token_valid()
        except OAuth2TokenRequestReauthError as err:
            # The session started the reauthentication.
            raise AccessDenied(f"no token: {err}") from err
        except (OAuth2TokenRequestBaseError, ClientError) as err:
            raise EnedisConnectionError(f"no token: {err}") from err
        return str(oauth.token["access_token"])

    return DataConnectClient(
        async_get_clientsession(hass), data[CONF_PRM], access_token, data[CONF_SERVICE_URL]
    )
