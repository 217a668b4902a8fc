"""Adding a Solar-Log plant, re-authenticating and reconfiguring, against the simulated portal."""

from __future__ import annotations

from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigEntryState,
    ConfigFlowResult,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.smartmeter.config_flow import SmartMeterConfigFlow
from custom_components.smartmeter.const import DOMAIN
from custom_components.smartmeter.kinds.solarlog.flow import portal_name
from solarlog_simulator import PortalSimulator
from tests.enerest import (
    CLIENT_ID,
    PLANT_ID,
    POLL,
    PORTAL,
    SECRET,
    move_on,
    plant_entry,
    setup_plant,
)

CREDENTIALS = {"portal": PORTAL, "client_id": CLIENT_ID, "client_secret": SECRET}
TOKEN = "/auth/realms/quotaapi/protocol/openid-connect/token"


async def _solarlog_form(hass: HomeAssistant) -> ConfigFlowResult:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert (result["type"], result["step_id"], result["menu_options"]) == (
        FlowResultType.MENU,
        "user",
        ["p1", "linky", "solarlog"],
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "solarlog"}
    )
    assert (result["type"], result["step_id"], result["errors"]) == (
        FlowResultType.FORM,
        "solarlog",
        {},
    )
    return result


def test_portal_names() -> None:
    assert portal_name(" solarcompanyxyz ") == "solarcompanyxyz"
    assert portal_name("https://solarCompanyXYZ.enerest.world/plants") == "solarCompanyXYZ"
    assert portal_name("solar-company.enerest.world") == "solar-company"
    for wrong in ("", "solar company", "-solar", "a.b.example.com"):
        assert portal_name(wrong) is None


async def test_add_a_plant_picked_from_the_users_plants(
    hass: HomeAssistant, enerest: PortalSimulator
) -> None:
    result = await _solarlog_form(hass)
    flow_id = result["flow_id"]
    for given, error, status in [
        ({"portal": "not a portal"}, {"portal": "invalid_portal"}, None),
        ({"client_secret": "wrong"}, {"base": "invalid_auth"}, None),
        ({}, {"base": "portal_unreachable"}, 503),  # the token endpoint's answer
    ]:
        if status is not None:
            enerest.fail(TOKEN, status)
        result = await hass.config_entries.flow.async_configure(flow_id, {**CREDENTIALS, **given})
        assert (result["step_id"], result["errors"]) == ("solarlog", error)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {**CREDENTIALS, "portal": f"https://{PORTAL}.enerest.world/"}
    )
    assert (result["type"], result["step_id"]) == (FlowResultType.FORM, "solarlog_plant")
    schema = result["data_schema"]
    assert schema is not None
    options = schema.schema["plant_id"].config["options"]
    assert options == [
        {"value": PLANT_ID, "label": "2x Inverter, 1x Battery, 1x Meter, 1x Sensor (9.8 kWp)"}
    ]
    result = await hass.config_entries.flow.async_configure(flow_id, {"plant_id": PLANT_ID})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "2x Inverter, 1x Battery, 1x Meter, 1x Sensor"
    assert result["result"].unique_id == PLANT_ID
    assert result["data"] == {
        "kind": "solarlog",
        "portal": PORTAL,
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "plant_id": PLANT_ID,
        "api_url": enerest.url,
        "token_url": enerest.token_url,
    }
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED
    assert SmartMeterConfigFlow.async_supports_options_flow(result["result"]) is False
    assert SmartMeterConfigFlow.async_get_supported_subentry_types(result["result"]) == {}


@pytest.mark.parametrize("status", [404, 500])
async def test_typed_plant_id_while_the_plants_call_is_unavailable(
    hass: HomeAssistant, enerest: PortalSimulator, status: int
) -> None:
    enerest.plants_status = status
    other = "11111111-2222-3333-4444-555555555555"
    enerest.plants[other] = enerest.plants[PLANT_ID]
    result = await _solarlog_form(hass)
    flow_id = result["flow_id"]
    result = await hass.config_entries.flow.async_configure(flow_id, CREDENTIALS)
    assert (result["step_id"], result["description_placeholders"]) == (
        "solarlog_plant_id",
        {"portal": PORTAL},
    )
    for plant_id, error in [
        ("00000000-0000-0000-0000-000000000000", "plant_not_found"),
        (other, "plant_not_assigned"),
    ]:
        result = await hass.config_entries.flow.async_configure(flow_id, {"plant_id": plant_id})
        assert (result["step_id"], result["errors"]) == ("solarlog_plant_id", {"base": error})
    enerest.fail(f"/administration/plant/{PLANT_ID}", 502)
    result = await hass.config_entries.flow.async_configure(flow_id, {"plant_id": PLANT_ID})
    assert result["errors"] == {"base": "portal_unreachable"}
    result = await hass.config_entries.flow.async_configure(flow_id, {"plant_id": f" {PLANT_ID} "})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["plant_id"] == PLANT_ID


async def test_a_plant_is_added_once(hass: HomeAssistant, enerest: PortalSimulator) -> None:
    plant_entry(enerest).add_to_hass(hass)
    result = await _solarlog_form(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], CREDENTIALS)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"plant_id": PLANT_ID}
    )
    assert (result["type"], result["reason"]) == (FlowResultType.ABORT, "plant_already_configured")


@pytest.mark.allow_log(r"^Authentication failed while fetching Solar-Log Zonnedak data")
async def test_reauthentication_when_the_secret_changes(
    hass: HomeAssistant, enerest: PortalSimulator, freezer: FrozenDateTimeFactory
) -> None:
    entry = plant_entry(enerest)
    await setup_plant(hass, entry)
    enerest.clients[CLIENT_ID].secret = "renewed"
    await move_on(hass, freezer, POLL)
    (flow,) = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert (flow["context"]["source"], flow["step_id"]) == (SOURCE_REAUTH, "solarlog_reauth")
    assert flow["context"]["entry_id"] == entry.entry_id
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {"client_id": CLIENT_ID, "client_secret": "wrong"}
    )
    assert (result["step_id"], result["errors"]) == ("solarlog_reauth", {"base": "invalid_auth"})
    placeholders = result["description_placeholders"]
    assert placeholders is not None
    assert (placeholders["title"], placeholders["portal"]) == ("Zonnedak", PORTAL)
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {"client_id": CLIENT_ID, "client_secret": "renewed"}
    )
    assert (result["type"], result["reason"]) == (
        FlowResultType.ABORT,
        "solarlog_reauth_successful",
    )
    await hass.async_block_till_done()
    assert entry.data["client_secret"] == "renewed"
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get("sensor.zonnedak_solar_power") is not None


async def test_reconfigure_must_reach_the_same_plant(
    hass: HomeAssistant, enerest: PortalSimulator
) -> None:
    entry = plant_entry(enerest)
    await setup_plant(hass, entry)
    enerest.add_client("client-2", "other", plants=[])
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    assert result["step_id"] == "solarlog_reconfigure"
    for given, error in [
        ({"portal": "elsewhere"}, "plant_not_found"),  # another portal: the API answers 404
        ({"client_id": "client-2", "client_secret": "other"}, "plant_not_assigned"),
    ]:
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {**CREDENTIALS, **given}
        )
        assert result["errors"] == {"base": error}
    enerest.add_client("client-3", "third", plants=[PLANT_ID])
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**CREDENTIALS, "client_id": "client-3", "client_secret": "third"}
    )
    assert result["reason"] == "solarlog_reconfigure_successful"
    await hass.async_block_till_done()
    changed: dict[str, Any] = dict(entry.data)
    assert (changed["client_id"], changed["client_secret"]) == ("client-3", "third")
    assert entry.state is ConfigEntryState.LOADED
