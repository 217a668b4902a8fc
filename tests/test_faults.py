"""A meter that misbehaves: the integration recovers and loses nothing it accepted."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from unittest.mock import patch

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.smartmeter.const import DOMAIN

from .common import has_state, network_entry, setup_entry, state_of, until
from .meters import TcpMeter, telegram

POWER = "sensor.electricity_meter_power_consumption"
REJECTED = "sensor.electricity_meter_rejected_telegrams"
V5 = telegram("v5.txt")
V4 = telegram("v4_2.txt")
BAD_CRC = telegram("seed_kaifa_v42_masked_badcrc.txt")

pytestmark = pytest.mark.usefixtures("short_silence")


def _state(hass: HomeAssistant, entity_id: str) -> str | None:
    state = hass.states.get(entity_id)
    return state.state if state else None


@pytest.fixture
async def running(hass: HomeAssistant, tcp_meter: TcpMeter) -> TcpMeter:
    """An entry reading the TCP meter, with one good telegram taken."""
    await setup_entry(hass, network_entry(tcp_meter.port))
    await tcp_meter.send(V5)
    await until(hass, lambda: has_state(hass, POWER, "244.0"))
    return tcp_meter


@pytest.mark.allow_log(r"^Meter at .* is unavailable: ")
async def test_closed_mid_telegram(hass: HomeAssistant, running: TcpMeter) -> None:
    """Half a telegram then a closed socket: unavailable, then back on reconnect."""
    await running.send(V4[:300])
    await running.drop_clients()
    await until(hass, lambda: has_state(hass, POWER, STATE_UNAVAILABLE))
    await running.wait_connected(2)
    await running.send(V4)
    await until(hass, lambda: has_state(hass, POWER, "2027.0"))
    assert _state(hass, REJECTED) == "0"


async def test_garbage_and_bad_crc(hass: HomeAssistant, running: TcpMeter) -> None:
    """Noise is dropped, bad-CRC telegrams are counted, good ones still count."""
    await running.send(b"\x00\xff garbage !!\r\n" * 20 + BAD_CRC + b"noise/" + BAD_CRC + V4)
    await until(hass, lambda: has_state(hass, POWER, "2027.0"))
    assert _state(hass, REJECTED) == "2"
    assert state_of(hass, "sensor.electricity_meter_energy_consumption") == "3016.829"


@pytest.mark.allow_log(r"^Meter at .* is unavailable: ")
async def test_silence_reconnects(hass: HomeAssistant, running: TcpMeter) -> None:
    """No telegram for the silence timeout: the reader reconnects by itself."""
    await until(hass, lambda: has_state(hass, POWER, STATE_UNAVAILABLE))
    await running.wait_connected(2)
    await running.send(V4)
    await until(hass, lambda: has_state(hass, POWER, "2027.0"))


@pytest.mark.allow_log(r"^Meter at .* is unavailable: ")
async def test_refused_then_back(
    hass: HomeAssistant, running: TcpMeter, caplog: pytest.LogCaptureFixture
) -> None:
    """Connections refused for a while: one warning, retries, and recovery."""
    reader = hass.config_entries.async_entries(DOMAIN)[0].runtime_data.reader
    await running.stop()
    await until(hass, lambda: has_state(hass, POWER, STATE_UNAVAILABLE))
    refused = reader.stats.reconnects
    await until(hass, lambda: reader.stats.reconnects >= refused + 3)
    await running.start()
    await running.send(V4)
    await until(hass, lambda: has_state(hass, POWER, "2027.0"))
    warnings = [r for r in caplog.records if "is unavailable" in r.getMessage()]
    assert len(warnings) == 1
    assert sum("is available again" in r.getMessage() for r in caplog.records) == 1


async def test_repair_issue_when_connected_but_mute(
    hass: HomeAssistant, running: TcpMeter, issue_registry: ir.IssueRegistry
) -> None:
    """Connected but no valid telegram: a repair issue, gone when data returns."""
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    issue_id = f"no_telegrams_{entry.entry_id}"
    with patch(
        "custom_components.smartmeter.coordinator.NO_TELEGRAMS_AFTER", timedelta(seconds=0.5)
    ):
        reader = entry.runtime_data.reader
        await running.send(BAD_CRC)
        await until(hass, lambda: reader.silent_while_connected(0.5))
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=1))
        await hass.async_block_till_done()
        issue = issue_registry.async_get_issue(DOMAIN, issue_id)
        assert issue is not None
        assert issue.translation_key == "no_telegrams"
        assert issue.translation_placeholders == {
            "title": "Test meter",
            "port": f"127.0.0.1:{running.port}",
            "minutes": "0",
        }
        await running.wait_connected()
        await running.send(V4)
        await until(hass, lambda: has_state(hass, POWER, "2027.0"))
        assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_unload_and_reload_leave_nothing(hass: HomeAssistant, running: TcpMeter) -> None:
    """Unload closes the connection and stops the reader; reload starts one again."""
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await running.wait_connected(2)
    await running.send(V4)
    await until(hass, lambda: has_state(hass, POWER, "2027.0"))
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    await until(hass, lambda: not running._writers)
    assert not [t for t in asyncio.all_tasks() if "smartmeter" in t.get_name()]
