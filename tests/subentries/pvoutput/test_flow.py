"""The "Add PVOutput export" subentry flow, against the local PVOutput.

The local PVOutput reads HA's clock, frozen: a key's hour of requests does not end mid-test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util
import probatio as vol
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smartmeter.pvoutput import ExportSettings
from custom_components.smartmeter.subentries.pvoutput.flow import SUBENTRY_PVOUTPUT, export_settings
from tests.common import network_entry
from tests.pvoutput_server import PVOutputServer
from tests.subentries.pvoutput.test_runtime import NOW

KEY = "a" * 40
DONOR_KEY = "d" * 40
SYSTEM = 12345


@pytest.fixture
async def server(
    socket_enabled: None, monkeypatch: pytest.MonkeyPatch, freezer: FrozenDateTimeFactory
) -> AsyncIterator[PVOutputServer]:
    """A local PVOutput the flow talks to, on HA's clock frozen at NOW."""
    freezer.move_to(NOW)
    server = PVOutputServer(now=dt_util.utcnow, zone=ZoneInfo("Europe/Amsterdam"))
    server.add_system(SYSTEM, "Zonnedak", status_interval=10)
    server.add_key(KEY, SYSTEM)
    server.add_key(DONOR_KEY, SYSTEM, donor=True)
    await server.start()
    monkeypatch.setattr("custom_components.smartmeter.subentries.pvoutput.flow.API_URL", server.url)
    yield server
    await server.close()


async def start(hass: HomeAssistant) -> tuple[MockConfigEntry, str]:
    entry = network_entry(1)
    entry.add_to_hass(hass)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_PVOUTPUT), context={"source": "user"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    return entry, result["flow_id"]


async def configure(hass: HomeAssistant, flow_id: str, data: dict[str, Any]) -> Any:
    return await hass.config_entries.subentries.async_configure(flow_id, data)


async def test_add_export(hass: HomeAssistant, server: PVOutputServer) -> None:
    entry, flow_id = await start(hass)
    result = await configure(hass, flow_id, {"api_key": f" {KEY} ", "system_id": SYSTEM})
    assert result["step_id"] == "settings"
    schema = result["data_schema"].schema
    defaults = {str(key): key.default() for key in schema if key.default is not vol.UNDEFINED}
    # The system's own status interval; no delays; no voltage.
    assert defaults == {"upload_interval": "10", "upload_delay": 0, "voltage": False}
    assert result["description_placeholders"] == {"system": "Zonnedak", "status_interval": "10"}
    settings = {
        "upload_interval": "5",
        "upload_delay": 3,
        "generation_energy": "sensor.solar_energy",
        "generation_power": "sensor.solar_power",
        "voltage": True,
    }
    result = await configure(hass, flow_id, settings)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    (subentry,) = entry.subentries.values()
    assert subentry.title == "PVOutput Zonnedak"
    assert subentry.unique_id == str(SYSTEM)
    assert subentry.data == {"api_key": KEY, "system_id": SYSTEM, **settings, "donor": False}
    assert export_settings(dict(subentry.data)) == ExportSettings(
        interval=5, upload_delay=3, generation=True
    )
    assert server.accepted == []
    # The same system again.
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_PVOUTPUT), context={"source": "user"}
    )
    result = await configure(hass, result["flow_id"], {"api_key": KEY, "system_id": SYSTEM})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_credentials_errors(hass: HomeAssistant, server: PVOutputServer) -> None:
    _, flow_id = await start(hass)
    good = {"api_key": KEY, "system_id": SYSTEM}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"api_key": "wrong"}, "invalid_api_key"),
        ({"system_id": 999}, "invalid_system_id"),
    ]
    for change, error in cases:
        result = await configure(hass, flow_id, good | change)
        assert result["errors"] == {"base": error}
    key = server.keys[KEY]
    for flag, error in [("read_only", "read_only_key"), ("disabled", "api_key_disabled")]:
        setattr(key, flag, True)
        result = await configure(hass, flow_id, good)
        assert result["errors"] == {"base": error}
        setattr(key, flag, False)
    server.answers = [(503, "Service Unavailable")]
    result = await configure(hass, flow_id, good)
    assert result["errors"] == {"base": "cannot_connect"}
    server.spend(KEY, 60)
    result = await configure(hass, flow_id, good)
    assert result["errors"] == {"base": "rate_limited"}
    result = await configure(hass, flow_id, good | {"api_key": DONOR_KEY})
    assert result["step_id"] == "settings"


async def test_settings_errors_and_processing_delay(
    hass: HomeAssistant, server: PVOutputServer
) -> None:
    _, flow_id = await start(hass)
    await configure(hass, flow_id, {"api_key": KEY, "system_id": SYSTEM})
    base = {"upload_interval": "10", "upload_delay": 0, "voltage": False}
    result = await configure(hass, flow_id, base | {"generation_energy": "sensor.solar"})
    assert result["errors"] == {"base": "generation_incomplete"}
    result = await configure(hass, flow_id, base | {"processing_delay": 30})
    assert result["errors"] == {"processing_delay": "donation_required"}
    # A donor may set it.
    entry, flow_id = await start(hass)
    await configure(hass, flow_id, {"api_key": DONOR_KEY, "system_id": SYSTEM})
    result = await configure(hass, flow_id, base | {"processing_delay": 30})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    (subentry,) = entry.subentries.values()
    assert subentry.data["donor"] is True
    assert export_settings(dict(subentry.data)) == ExportSettings(interval=10, processing_delay=30)
