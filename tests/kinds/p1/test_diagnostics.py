"""Diagnostics show the reader and the latest telegram, without identifiers or keys."""

from __future__ import annotations

from homeassistant.core import HomeAssistant

from custom_components.smartmeter.diagnostics import async_get_config_entry_diagnostics
from tests.common import network_entry, setup_entry, until
from tests.meters import TcpMeter, telegram


async def test_diagnostics_redacted(hass: HomeAssistant, tcp_meter: TcpMeter) -> None:
    """Keys, hosts and equipment ids are redacted everywhere."""
    entry = network_entry(
        tcp_meter.port,
        encryption_key="00112233445566778899AABBCCDDEEFF",
        options={"api_key": "SECRETKEY", "database_url": "", "api_enabled": True},
    )
    await setup_entry(hass, entry)
    await tcp_meter.send(telegram("v5.txt"))
    await until(
        hass, lambda: hass.states.get("sensor.electricity_meter_power_consumption") is not None
    )
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["entry"]["data"]["encryption_key"] == "**REDACTED**"
    assert diagnostics["entry"]["data"]["host"] == "**REDACTED**"
    assert diagnostics["entry"]["unique_id"] == "**REDACTED**"
    assert diagnostics["entry"]["options"]["api_key"] == "**REDACTED**"
    assert "SECRETKEY" not in str(diagnostics)
    assert diagnostics["reading"]["values"]["EQUIPMENT_IDENTIFIER"] == "**REDACTED**"
    assert diagnostics["reading"]["values"]["CURRENT_ELECTRICITY_USAGE"] == "244.0"
    assert diagnostics["reading"]["mbus"][0]["equipment_id"] == "**REDACTED**"
    assert "0-0:96.1.1(**REDACTED**)" in diagnostics["telegram"]
    assert "0-1:96.1.0(**REDACTED**)" in diagnostics["telegram"]
    assert "4B3845" not in str(diagnostics)
    assert diagnostics["reader"]["telegrams"] == 1
    assert diagnostics["reader"]["rejected"] == 0
    assert diagnostics["available"] is True
    await hass.config_entries.async_unload(entry.entry_id)
