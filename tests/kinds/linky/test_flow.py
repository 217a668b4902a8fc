"""Adding a Linky meter by each access path, and the errors the flow shows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from unittest.mock import patch

from aiohttp.test_utils import TestClient
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

from .common import MINUTE, NOW, linky_entry, linky_service, move_to, settled


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


async def consent(
    hass: HomeAssistant, client: TestClient[Any, Any], result: ConfigFlowResult
) -> ConfigFlowResult:
    """Consent on Enedis' page: its redirect back to Home Assistant, then the flow goes on."""
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
    response = await client.get(f"/auth/external/callback?code=abcd&state={state}")
    assert response.status == 200
    return await hass.config_entries.flow.async_configure(result["flow_id"])


def data_connect_requests(start: str, end: str) -> list[str]:
    """Return an update's requests of consumption from start to end (excluded)."""
    return [
        f"/metering_data_{path}?usage_point_id={PRM}&start={start}&end={end}"
        for path in (
            "dc/v5/daily_consumption",
            "dcmp/v5/daily_consumption_max_power",
            "clc/v5/consumption_load_curve",
        )
    ]


@pytest.mark.usefixtures("current_request_with_host")
@pytest.mark.allow_log("Enedis refuses the data")
async def test_data_connect_by_consent(
    hass: HomeAssistant,
    socket_enabled: None,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The consent page, then a token by the client credentials, checked with a request; a
    consent revoked later asks for it again."""
    assert await async_setup_component(hass, DOMAIN, {})
    assert await async_setup_component(hass, "application_credentials", {})
    async with linky_service() as service:
        simulator = service.simulator
        await async_import_client_credential(
            hass,
            DOMAIN,
            ClientCredential(DATA_CONNECT_CLIENT_ID, DATA_CONNECT_CLIENT_SECRET),
        )
        client = await hass_client_no_auth()
        result = await start(hass, "data_connect")
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"prm": "12", "measurement": "consumption"}
        )
        assert result["errors"] == {"prm": "invalid_prm"}
        # Consent given on the page but not (or no longer) at Enedis: said so.
        simulator.consent = False
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"prm": PRM, "measurement": "consumption"}
        )
        result = await consent(hass, client, result)
        assert (result["type"], result["reason"]) == (FlowResultType.ABORT, "consent_revoked")
        simulator.consent = True
        result = await start(hass, "data_connect")
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"prm": PRM, "measurement": "consumption"}
        )
        with patch(
            "custom_components.smartmeter.kinds.linky.flow.random.randrange", return_value=MINUTE
        ):
            result = await consent(hass, client, result)
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["options"] == {"poll_minute": MINUTE}
        data = result["data"]
        assert data["token"]["access_token"] == "simulated-access-token"
        assert data["auth_implementation"] == DOMAIN
        assert {key: data[key] for key in ("kind", "access", "prm", "measurement")} == {
            "kind": "linky",
            "access": "data_connect",
            "prm": PRM,
            "measurement": "consumption",
        }
        assert simulator.requests[-1].startswith(
            f"/metering_data_dc/v5/daily_consumption?usage_point_id={PRM}&start=2026-03-29"
        )
        await settled(hass)
        entry = result["result"]
        runtime = entry.runtime_data.runtime
        assert runtime.sync.history_complete
        # The flow's check, then 3 daily, 3 maximum power and 105 load curve requests.
        assert len(simulator.requests) == 2 + 3 + 3 + 105

        # The next morning (the token expired meanwhile: a new one is asked for first), the
        # consent is gone: a reauthentication asks for it on Enedis' page again.
        simulator.consent = False
        assert runtime.next_poll == datetime(2026, 4, 1, 3, MINUTE, tzinfo=UTC)
        await move_to(hass, freezer, runtime.next_poll)
        assert runtime.last_error == (
            "No consent can be found for this customer and this usage point."
        )
        (flow,) = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        assert (flow["context"]["source"], flow["step_id"]) == ("reauth", "linky_reauth_consent")
        simulator.consent = True
        result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
        result = await consent(hass, client, result)
        assert (result["type"], result["reason"]) == (FlowResultType.ABORT, "reauth_successful")
        await settled(hass)
        # Reloaded: yesterday asked for again, and had.
        assert simulator.requests[-3:] == data_connect_requests("2026-03-31", "2026-04-01")
        runtime = entry.runtime_data.runtime
        assert runtime.last_error is None
        assert runtime.sync.complete(date(2026, 4, 1))

        await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.allow_log("Enedis refuses the data", "Linky data of .* not had: no token")
async def test_data_connect_token_not_had(
    hass: HomeAssistant, socket_enabled: None, freezer: FrozenDateTimeFactory
) -> None:
    """A token that cannot be had is asked for again the next hour; refused credentials ask
    for the consent again."""
    assert await async_setup_component(hass, "application_credentials", {})
    async with linky_service() as service:
        simulator = service.simulator
        await async_import_client_credential(
            hass, DOMAIN, ClientCredential(DATA_CONNECT_CLIENT_ID, DATA_CONNECT_CLIENT_SECRET)
        )
        token = {"access_token": "simulated-access-token", "token_type": "Bearer"}
        entry = linky_entry(
            access="data_connect",
            measurement="consumption",
            auth_implementation=DOMAIN,
            token={**token, "expires_in": 12600, "expires_at": NOW.timestamp() + 12600},
        )
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await settled(hass)
        runtime = entry.runtime_data.runtime
        assert runtime.sync.history_complete
        # The next morning the token expired, and Enedis' token endpoint fails: the next hour.
        simulator.failures = [(503, {"error": "temporarily_unavailable"})]
        count = len(simulator.requests)
        await move_to(hass, freezer, datetime(2026, 4, 1, 3, MINUTE, tzinfo=UTC))
        token_url = f"{service.url}/oauth2/v3/token"
        assert runtime.last_error == (
            f"no token: 503, message='Service Unavailable', url='{token_url}'"
        )
        assert len(simulator.requests) == count
        assert runtime.next_poll == datetime(2026, 4, 1, 4, MINUTE, tzinfo=UTC)
        await move_to(hass, freezer, runtime.next_poll)
        assert runtime.last_error is None
        assert simulator.requests[count:] == data_connect_requests("2026-03-31", "2026-04-01")
        # The morning after, the application's credentials are refused: reauthenticate.
        simulator.failures = [(401, {"error": "invalid_client"})]
        await move_to(hass, freezer, datetime(2026, 4, 2, 3, MINUTE, tzinfo=UTC))
        # Read afresh (mypy would keep it None from the check above).
        refused = entry.runtime_data.runtime.last_error
        assert refused == f"no token: 401, message='Unauthorized', url='{token_url}'"
        (flow,) = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        assert (flow["context"]["source"], flow["step_id"]) == ("reauth", "linky_reauth_consent")
        await hass.config_entries.async_unload(entry.entry_id)


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
    async with linky_service():
        entry = linky_entry()
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await settled(hass)
        # Yesterday is in: tomorrow at 05:17 Paris time, shown with its minute.
        poll = hass.states.get("sensor.linky_12345678901234_next_poll")
        assert poll is not None
        assert (poll.state, poll.attributes["minute"]) == ("2026-04-01T03:17:00+00:00", MINUTE)
        result = await hass.config_entries.options.async_init(entry.entry_id)
        assert (result["type"], result["step_id"]) == (FlowResultType.FORM, "linky_poll")
        # The form shows the minute in use.
        schema = result["data_schema"]
        assert schema is not None
        (key,) = schema.schema
        assert (str(key), key.description) == ("poll_minute", {"suggested_value": MINUTE})
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"poll_minute": 3.0}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await settled(hass)
        assert entry.options == {"poll_minute": 3}
        assert entry.runtime_data.runtime.minute == 3
        poll = hass.states.get("sensor.linky_12345678901234_next_poll")
        assert poll is not None
        assert (poll.state, poll.attributes["minute"]) == ("2026-04-01T03:03:00+00:00", 3)
        await hass.config_entries.async_unload(entry.entry_id)
