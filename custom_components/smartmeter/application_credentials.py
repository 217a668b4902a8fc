"""Application credentials for Enedis Data-Connect: the consent page and the token endpoint.

Enedis' token endpoint gives application tokens (client credentials); the customer's consent,
given on the consent page, lets the application read the meter. So the code the consent
returns is not exchanged: a token is asked with the client credentials, then and whenever the
one held expires (3.5 hours).
"""

from __future__ import annotations

from typing import Any, cast

from homeassistant.components.application_credentials import (
    AuthImplementation,
    AuthorizationServer,
    ClientCredential,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_entry_oauth2_flow

from .kinds.linky.const import (
    ACCESS_DATA_CONNECT,
    CONSENT_DURATION,
    DATA_CONNECT_AUTHORIZE_URL,
    DATA_CONNECT_TOKEN_PATH,
    SERVICE_URLS,
)


class DataConnectImplementation(AuthImplementation):
    """Consent on Enedis' page; tokens by the client credentials grant."""

    @property
    def extra_authorize_data(self) -> dict[str, Any]:
        """Ask for the longest consent."""
        return {"duration": CONSENT_DURATION}

    async def async_resolve_external_data(self, external_data: Any) -> dict[str, Any]:
        """Get a token once the customer consented."""
        return cast(dict[str, Any], await self._token_request({"grant_type": "client_credentials"}))

    async def _async_refresh_token(self, token: dict[str, Any]) -> dict[str, Any]:
        """Get a new token: application tokens have no refresh token."""
        new_token = await self._token_request({"grant_type": "client_credentials"})
        return {**token, **new_token}


async def async_get_authorization_server(hass: HomeAssistant) -> AuthorizationServer:
    """Return Enedis' consent page and token endpoint."""
    return AuthorizationServer(
        authorize_url=DATA_CONNECT_AUTHORIZE_URL,
        token_url=SERVICE_URLS[ACCESS_DATA_CONNECT] + DATA_CONNECT_TOKEN_PATH,
    )


async def async_get_auth_implementation(
    hass: HomeAssistant, auth_domain: str, credential: ClientCredential
) -> config_entry_oauth2_flow.AbstractOAuth2Implementation:
    """Return the Data-Connect implementation of the credentials."""
    return DataConnectImplementation(
        hass, auth_domain, credential, await async_get_authorization_server(hass)
    )


async def async_get_description_placeholders(hass: HomeAssistant) -> dict[str, str]:
    """Say where the credentials come from."""
    return {"more_info_url": "https://datahub-enedis.fr/services-api/data-connect/"}
