"""Adding a Linky meter by each access path, and the errors the flow shows."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.application_credentials import (
    ClientCredential,
    async_import_client_credential,
)
from homeassistant.config_entries import SOURCE_USER, ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import config_entry_oauth2_flow
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.smartmeter.const import DOMAIN
from enedis_simulator import (
    CONSO_TOKEN,
    DATA_CONNECT_CLIENT_ID,
    DATA_CONNECT_CLIENT_SECRET,
    MED_TOKEN,
    PRM,
    conso_token,
)

from .common import NOW, linky_service, settled


@pytest.fixture(autouse=True)
def frozen(freezer: FrozenDateTimeFactory) -> None:
    freezer.move_to(NOW)


async def start(hass: HomeAssistant, access: str) -> ConfigFlowResult:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "linky"}
    )
    assert result["menu_options"] == [
        "linky_conso_api",
        "linky_myelectricaldata",
        "linky_data_connect",
    ]
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": f"linky_{access}"}
    )


@pytest.mark.parametrize(
    ("access", "token"), [("conso_api", CONSO_TOKEN), ("myelectricaldata", MED_TOKEN)]
)
async def test_token_paths_check_the_token_and_prm(
    hass: HomeAssistant, socket_enabled: None, access: str, token: str
) -> None:
    async with linky_service() as service:
        result = await start(hass, access)
        assert (result["type"], result["step_id"]) == (FlowResultType.FORM, f"linky_{access}")

        async def submit(**values: Any) -> ConfigFlowResult:
            return await hass.config_entries.flow.async_configure(
                result["flow_id"],
                {"prm": PRM, "measurement": "both", "token": token, **values},
            )

        assert (await submit(prm="1234"))["errors"] == {"base": "invalid_prm"}
        assert (await submit(token="wrong"))["errors"] == {"base": "invalid_token"}
        if access == "conso_api":
            other = conso_token(["11111111111111"])
            assert (await submit(token=other))["errors"] == {"base": "prm_not_allowed"}
        service.simulator.failures = [(429, {"fault": {"code": 900807}})]
        assert (await submit())["errors"] == {"base": "rate_limited"}
        service.simulator.failures = [(503, {"error": "Service Unavailable"})]
        assert (await submit())["errors"] == {"base": "enedis_unreachable"}
        service.simulator.failures = [(400, {"error": "ADAM-ERR0069"})]
        assert (await submit())["errors"] == {"base": "wrong_measurement"}
        requests = len(service.simulator.requests)
        with patch(
            "custom_components.smartmeter.kinds.linky.flow.random.randrange", return_value=42
        ):
            result = await submit(token=f" {token} ")
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["title"] == f"Linky {PRM}"
        assert result["data"] == {
            "kind": "linky",
            "access": access,
            "service_url": service.url,
            "prm": PRM,
            "measurement": "both",
            "token": token,
        }
        assert result["options"] == {"poll_minute": 42}
        # One day of each measurement checked.
        assert len(service.simulator.requests) - requests == 2
        await settled(hass)
        await hass.config_entries.async_unload(result["result"].entry_id)

        # The same meter again is refused.
        result = await start(hass, access)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"prm": PRM, "measurement": "both", "token": token}
        )
        assert (result["type"], result["reason"]) == (FlowResultType.ABORT, "already_configured")


@pytest.mark.allow_log("Enedis refused the check")
async def test_an_unknown_refusal_is_logged(hass: HomeAssistant, socket_enabled: None) -> None:
    async with linky_service() as service:
        result = await start(hass, "conso_api")
        service.simulator.failures = [
            (400, {"error": "Invalid_request", "error_description": "odd"})
        ]
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"prm": PRM, "measurement": "consumption", "token": CONSO_TOKEN}
        )
        assert result["errors"] == {"base": "unknown"}


@pytest.mark.usefixtures("current_request_with_host")
async def test_data_connect_by_consent(
    hass: HomeAssistant,
    socket_enabled: None,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """The consent page, then a token by the client credentials, checked with a request."""
    assert await async_setup_component(hass, DOMAIN, {})
    assert await async_setup_component(hass, "application_credentials", {})
    async with linky_service() as service:
        await async_import_client_credential(
            hass,
            DOMAIN,
            ClientCredential(DATA_CONNECT_CLIENT_ID, DATA_CONNECT_CLIENT_SECRET),
        )
        result = await start(hass, "data_connect")
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"prm": "12", "measurement": "consumption"}
        )
        assert result["errors"] == {"prm": "invalid_prm"}
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"prm": PRM, "measurement": "consumption"}
        )
        assert result["type"] is FlowResultType.EXTERNAL_STEP
        state = config_entry_oauth2_flow._encode_jwt(
            hass,
            {
                "flow_id": result["flow_id"],
                "redirect_uri": "https://example.com/auth/external/callback",
            },
        )
        assert result["url"].startswith(
            "https://mon-compte-particulier.enedis.fr/dataconnect/v1/oauth2/authorize?"
        )
        assert f"state={state}" in result["url"]
        assert "duration=P3Y" in result["url"]
        client = await hass_client_no_auth()
        response = await client.get(f"/auth/external/callback?code=abcd&state={state}")
        assert response.status == 200
        result = await hass.config_entries.flow.async_configure(result["flow_id"])
        assert result["type"] is FlowResultType.CREATE_ENTRY
        data = result["data"]
        assert data["token"]["access_token"] == "simulated-access-token"
        assert data["auth_implementation"] == DOMAIN
        assert {key: data[key] for key in ("kind", "access", "prm", "measurement")} == {
            "kind": "linky",
            "access": "data_connect",
            "prm": PRM,
            "measurement": "consumption",
        }
        assert service.simulator.requests[-1].startswith(
            f"/metering_data_dc/v5/daily_consumption?usage_point_id={PRM}&start=2026-03-29"
        )
        await settled(hass)
        await hass.config_entries.async_unload(result["result"].entry_id)


async def test_data_connect_without_credentials(hass: HomeAssistant) -> None:
    assert await async_setup_component(hass, "application_credentials", {})
    result = await start(hass, "data_connect")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"prm": PRM, "measurement": "consumption"}
    )
    assert (result["type"], result["reason"]) == (FlowResultType.ABORT, "missing_credentials")


async def test_options_show_and_change_the_minute(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    from .common import linky_entry

    async with linky_service():
        entry = linky_entry()
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await settled(hass)
        result = await hass.config_entries.options.async_init(entry.entry_id)
        assert (result["type"], result["step_id"]) == (FlowResultType.FORM, "linky_poll")
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"poll_minute": 3.0}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await settled(hass)
        assert entry.options == {"poll_minute": 3}
        assert entry.runtime_data.runtime.minute == 3
        await hass.config_entries.async_unload(entry.entry_id)


_ = AiohttpClientMocker
