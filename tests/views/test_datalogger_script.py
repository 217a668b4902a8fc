"""DSMR-reader's own remote datalogger script, run unchanged against Home Assistant."""

from __future__ import annotations

import asyncio
from pathlib import Path
import re
import sys
from typing import Any

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.smartmeter.const import DOMAIN
from tests.common import has_state, setup_entry, until
from tests.meters import TELEGRAMS, PtyMeter, telegram

KEY = "D" * 64
SEED = TELEGRAMS.parent / "seeds" / "dsmr-reader-api-older.rst"


def datalogger_script(url: str, device: str) -> str:
    """The seed's client script, with only what its docs tell the user to fill in."""
    text = SEED.read_text()
    block = text.split("Client file in ``/home/dsmr/dsmr_datalogger_api_client.py``::", 1)[1]
    block = block.split("Supervisor config in", 1)[0]
    lines = [line[4:] if line.startswith("    ") else line for line in block.splitlines()]
    script = "\n".join(lines)
    script = script.replace(
        "'http://HOST-OR-IP-ONE/api/v1/datalogger/dsmrreading', 'APIKEY-BLABLABLA-ABCDEFGHI'",
        f"'{url}', '{KEY}'",
    )
    script = script.replace("'/dev/ttyUSB0'", f"'{device}'")
    assert re.search(r"API_SERVERS = \(\n\s+\('http://127", script)
    return script


async def test_seed_datalogger_script(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    pty_meter: PtyMeter,
    tmp_path: Path,
) -> None:
    """Telegrams read by the script from a serial port arrive in the API and the entities."""
    await hass.config.async_set_time_zone("Europe/Amsterdam")
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="datalogger",
        data={"connection_type": "push", "specification": "5"},
        options={"api_enabled": True, "api_key": KEY},
    )
    await setup_entry(hass, entry)
    client = await hass_client_no_auth()
    url = str(client.make_url("/api/v1/datalogger/dsmrreading"))
    script = tmp_path / "dsmr_datalogger_api_client.py"
    script.write_text(datalogger_script(url, pty_meter.device))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        # The script has opened the port once it has set the line speed.
        await until(hass, lambda: pty_meter.line_speed() == pty_meter.baudrate)
        for name in ("v5.txt", "v5_two_mbus.txt"):
            pty_meter.send(telegram(name))
        await until(
            hass, lambda: has_state(hass, "sensor.electricity_meter_power_consumption", "111.0")
        )
    finally:
        process.terminate()
        output, _ = await process.communicate()
    assert b"API error" not in output
    response = await client.get(
        "/api/v2/datalogger/dsmrreading?ordering=-timestamp", headers={"X-AUTHKEY": KEY}
    )
    body: dict[str, Any] = await response.json()
    assert body["count"] == 2
    assert [row["timestamp"] for row in body["results"]] == [
        "2020-04-26T22:33:25+02:00",
        "2017-01-02T19:20:02+01:00",
    ]
    assert body["results"][0]["extra_device_delivered"] == "246.138"
    await hass.config_entries.async_unload(entry.entry_id)
