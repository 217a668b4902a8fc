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
from custom_components.smartmeter.kinds.p1.setup import default_database_url
from custom_components.smartmeter.store.store import ReadingStore
from tests.common import (
    REFUSED_FOR_A_MISSING_REGISTER,
    has_state,
    network_entry,
    setup_entry,
    state_of,
    until,
    wait_processed,
)
from tests.meter.test_detection_and_values import LUXEMBOURG, SWEDEN
from tests.meters import TcpMeter, edited, telegram

POWER = "sensor.electricity_meter_power_consumption"
REJECTED = "sensor.electricity_meter_rejected_telegrams"
V5 = telegram("v5.txt")
V4 = telegram("v4_2.txt")
BAD_CRC = telegram("seed_kaifa_v42_masked_badcrc.txt")
# V5 with another power (and so another CRC), to tell it arrived.
V5_1500 = edited("v5.txt", ("1-0:1.7.0(00.244*kW)", "1-0:1.7.0(01.500*kW)")).encode("latin-1")

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


async def stored_rejected(hass: HomeAssistant) -> int:
    """Return the meter's rejected telegrams in the store (the API's meter statistics)."""
    coordinator = hass.config_entries.async_entries(DOMAIN)[0].runtime_data.coordinator
    statistics = await hass.async_add_executor_job(
        coordinator.store.get_statistics, coordinator.meter_id
    )
    return int(statistics.rejected_telegrams)


async def until_rejected_stored(hass: HomeAssistant, count: int) -> None:
    """Wait until the store counts this many rejected telegrams."""
    async with asyncio.timeout(5):
        while await stored_rejected(hass) != count:
            await hass.async_block_till_done()


async def test_garbage_and_bad_crc(hass: HomeAssistant, running: TcpMeter) -> None:
    """Bad-CRC telegrams and noise are counted, once per run of noise; good ones still count.

    The store counts them too, as DSMR-reader's datalogger does, for the API's meter statistics.
    """
    await running.send(b"\x00\xff garbage !!\r\n" * 20 + BAD_CRC + b"noise/" + BAD_CRC + V4)
    await until(hass, lambda: has_state(hass, POWER, "2027.0"))
    # The garbage run, two bad CRCs, and the '/' of "noise/" (a telegram that never ended).
    assert _state(hass, REJECTED) == "4"
    await until_rejected_stored(hass, 4)
    assert state_of(hass, "sensor.electricity_meter_energy_consumption") == "3016.829"


@pytest.mark.allow_log(r"^Meter at .* is unavailable: ")
async def test_refusals_without_a_valid_telegram_after_them_are_stored(
    hass: HomeAssistant, running: TcpMeter
) -> None:
    """Counted in the store at the outage they end in, and at an unload."""
    await running.send(BAD_CRC + BAD_CRC)
    await until(hass, lambda: has_state(hass, POWER, STATE_UNAVAILABLE))
    await until_rejected_stored(hass, 2)
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    coordinator = entry.runtime_data.coordinator
    meter_id, reader = coordinator.meter_id, coordinator.reader
    assert reader is not None
    await running.wait_connected(2)
    await running.send(BAD_CRC)
    await until(hass, lambda: reader.stats.rejected == 3)
    assert await hass.config_entries.async_unload(entry.entry_id)
    url = default_database_url(hass, entry)
    reopened = await hass.async_add_executor_job(ReadingStore.open, url)
    try:
        statistics = await hass.async_add_executor_job(reopened.get_statistics, meter_id)
    finally:
        await hass.async_add_executor_job(reopened.close)
    assert statistics.rejected_telegrams == 3


async def stored_powers(hass: HomeAssistant) -> list[str]:
    """Return the power of every reading stored for the meter, in order.

    What the reader handed on is committed first: a live reading may wait for the next ones.
    """
    coordinator = hass.config_entries.async_entries(DOMAIN)[0].runtime_data
    await hass.async_add_executor_job(wait_processed, coordinator.store)
    _, readings = await hass.async_add_executor_job(
        lambda: coordinator.store.list_readings(coordinator.meter_id, limit=100)
    )
    return [str(reading.electricity_currently_delivered) for reading in readings]


async def until_stored(hass: HomeAssistant, powers: list[str]) -> None:
    """Wait until exactly these readings are stored."""
    async with asyncio.timeout(5):
        while await stored_powers(hass) != powers:
            await hass.async_block_till_done()


@pytest.mark.parametrize(
    ("noise", "refused"),
    [(b"xx!yy", 1), (b"/xx!yy", 1), (b"xx!\r\n!yy!", 1), (b"\r\n", 0), (b"/", 1)],
)
async def test_noise_costs_only_itself(
    hass: HomeAssistant, running: TcpMeter, noise: bytes, refused: int
) -> None:
    """Noise between two telegrams, with a '!' or a '/' in it: both telegrams arrive whole."""
    await until_stored(hass, ["0.244"])
    await running.send(V4 + noise + V5_1500)
    await until(hass, lambda: has_state(hass, POWER, "1500.0"))
    assert _state(hass, REJECTED) == str(refused)
    await until_stored(hass, ["2.027", "0.244", "1.500"])


@pytest.mark.parametrize(
    "refused",
    [
        pytest.param(V5[: V5.index(b"!") + 1] + b"\r\n", id="no-crc"),
        pytest.param(V5.replace(b"!6EEE", b"!6eee"), id="lower-case-crc"),
        pytest.param(
            edited("v5.txt", ("1-0:1.8.1(000004.426*kWh)\r\n", "")).encode(), id="no-tariff-1"
        ),
        pytest.param(
            edited("v5.txt", ("1-0:1.8.1(000004.426*kWh)", "1-0:1.8.1(0.004.426*kWh)")).encode(),
            id="invalid-decimal",
        ),
        pytest.param(
            edited(
                "v5.txt", ("1-0:1.7.0(00.244*kW)", "1-0:1.7.0(1234567890123456789012*kW)")
            ).encode(),
            id="22-digits",
        ),
        pytest.param(LUXEMBOURG.encode(), id="smarty"),
        pytest.param(SWEDEN.encode(), id="sweden"),
    ],
)
@pytest.mark.allow_log(REFUSED_FOR_A_MISSING_REGISTER)
async def test_refused_as_through_the_api(
    hass: HomeAssistant, running: TcpMeter, refused: bytes
) -> None:
    """What API v1 refuses, the reader refuses and counts: not shown, not stored."""
    await until_stored(hass, ["0.244"])
    await running.send(refused + V5_1500)
    await until(hass, lambda: has_state(hass, POWER, "1500.0"))
    assert _state(hass, REJECTED) == "1"
    await until_stored(hass, ["0.244", "1.500"])


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
    reader = hass.config_entries.async_entries(DOMAIN)[0].runtime_data.coordinator.reader
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
        "custom_components.smartmeter.kinds.p1.coordinator.NO_TELEGRAMS_AFTER",
        timedelta(seconds=0.5),
    ):
        reader = entry.runtime_data.coordinator.reader
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
