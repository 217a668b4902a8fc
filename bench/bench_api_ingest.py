"""API v1 ingest: telegrams/s sustained by 4 concurrent clients, next to the bare parse rate.

Home Assistant's real http server (the test harness's) with a push-only meter whose API is on;
four aiohttp clients in another process (bench/ingest_client.py) post v5 telegrams (changing
power, valid CRCs) as fast as the 201s come.
Run: .venv/bin/python -m pytest bench/bench_api_ingest.py -s -q --no-cov -p no:cacheprovider
It prints figures; it asserts nothing about speed.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
import sys
from time import perf_counter
from typing import Any

from dsmr_parser.parsers import TelegramParser
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.smartmeter.meter.decode import TelegramDecoder
from custom_components.smartmeter.meter.specifications import SPECIFICATIONS
from tests.common import setup_entry

TELEGRAMS = Path(__file__).resolve().parents[2] / "shared" / "telegrams"
KEY = "B" * 64
CLIENTS = 4
PER_CLIENT = 500


def _frames(count: int) -> list[str]:
    raw = (TELEGRAMS / "v5.txt").read_bytes().decode()
    frames = []
    for i in range(count):
        text = raw.replace("1-0:1.7.0(00.244*kW)", f"1-0:1.7.0(00.{i % 900 + 100:03d}*kW)")
        # distinct, increasing meter times, as a datalogger catching up would send
        text = text.replace(
            "0-0:1.0.0(170102192002W)",
            f"0-0:1.0.0(1701{2 + i // 86400:02d}"
            f"{i // 3600 % 24:02d}{i // 60 % 60:02d}{i % 60:02d}W)",
        )
        body = text[: text.index("!") + 1]
        frames.append(f"{body}{TelegramParser.crc16(body):04X}\r\n")
    return frames


async def test_api_ingest(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, tmp_path: Any
) -> None:
    # The test harness runs the loop in debug mode, which slows every callback several fold.
    asyncio.get_running_loop().set_debug(False)
    frames = _frames(CLIENTS * PER_CLIENT)
    bare = TelegramParser(SPECIFICATIONS["5"].objects)
    start = perf_counter()
    for frame in frames:
        bare.parse(frame)
    bare_rate = len(frames) / (perf_counter() - start)
    # The integration's own decoder (table CRC, one pass over the lines), the same Telegram.
    decoder = TelegramDecoder(SPECIFICATIONS["5"])
    start = perf_counter()
    for frame in frames:
        decoder.decode(frame)
    decode_rate = len(frames) / (perf_counter() - start)

    entry = MockConfigEntry(
        domain="smartmeter",
        unique_id="ingest",
        data={"connection_type": "push", "specification": "5"},
        options={"api_enabled": True, "api_key": KEY},
    )
    await setup_entry(hass, entry)
    client = await hass_client_no_auth()

    start = perf_counter()
    for _ in range(200):
        await client.get("/api/v2/application/version", headers={"X-AUTHKEY": KEY})
    print(f"\nbaseline GET version: {(perf_counter() - start) / 200 * 1000:.2f} ms/request")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(Path(__file__).with_name("ingest_client.py")),
        str(client.make_url("/api/v1/datalogger/dsmrreading")),
        KEY,
        str(CLIENTS),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    output, _ = await process.communicate(json.dumps(frames).encode())
    rate = float(output)
    stored, _ = await hass.async_add_executor_job(
        entry.runtime_data.store.list_readings, entry.runtime_data.meter_id
    )
    print()
    print(f"dsmr-parser bare parse rate:        {bare_rate:8.0f} telegrams/s")
    print(f"smartmeter decoder rate:            {decode_rate:8.0f} telegrams/s")
    print(f"API v1 ingest, {CLIENTS} clients, SQLite: {rate:8.0f} telegrams/s ({stored} stored)")
    print(f"ratio: {rate / bare_rate:.2f} of the bare parse rate (target >= 0.8)")
    print(f"       {rate / decode_rate:.2f} of the decoder's rate")
    await hass.config_entries.async_unload(entry.entry_id)
