"""API v1 ingest: telegrams/s sustained by 4 concurrent clients, next to the bare parse rate.

Home Assistant's real http server (the test harness's) with a push-only meter whose API is on;
four clients in another process (bench/ingest_client.py) post telegrams of the built-in meter
simulator (DSMR 5, one a second of meter time) as fast as the 201s come, in rounds, each next
to the bare parse rate of its telegrams. The clients write plain HTTP/1.1 requests; the run
ends with aiohttp clients, whose own CPU (about 0.5 ms a request) shares the machine with the
server.
Run: .venv/bin/python -m pytest bench/bench_api_ingest.py -s -q --no-cov -p no:cacheprovider
It prints figures; it asserts nothing about speed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import json
from pathlib import Path
import statistics
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

from .simulated import simulated_telegrams

KEY = "B" * 64
CLIENTS = 4
WARM_UP = 400  # the first telegram sets up the entities; the store warms its caches
ROUNDS = 5
PER_ROUND = 1500  # about a second of posting
REFERENCE_FRAMES = 2000  # for the aiohttp clients


def _parse_rate(parse: Callable[[str], object], frames: list[str]) -> float:
    start = perf_counter()
    for frame in frames:
        parse(frame)
    return len(frames) / (perf_counter() - start)


async def _post(url: str, mode: str, frames: list[str]) -> float:
    """Post frames from the client process; return its telegrams/s."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(Path(__file__).with_name("ingest_client.py")),
        url,
        KEY,
        str(CLIENTS),
        mode,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    output, _ = await process.communicate(json.dumps(frames).encode())
    return float(output)


async def test_api_ingest(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, tmp_path: Any
) -> None:
    # The test harness runs the loop in debug mode, which slows every callback several fold.
    asyncio.get_running_loop().set_debug(False)
    entry = MockConfigEntry(
        domain="smartmeter",
        unique_id="ingest",
        data={"connection_type": "push", "specification": "5"},
        options={"api_enabled": True, "api_key": KEY},
    )
    await setup_entry(hass, entry)
    client = await hass_client_no_auth()
    url = str(client.make_url("/api/v1/datalogger/dsmrreading"))

    start = perf_counter()
    for _ in range(200):
        await client.get("/api/v2/application/version", headers={"X-AUTHKEY": KEY})
    print(f"\nbaseline GET version: {(perf_counter() - start) / 200 * 1000:.2f} ms/request")
    await _post(url, "raw", simulated_telegrams(0, WARM_UP))
    # Round by round, each parse rate right before the ingest it is compared with: the machine's
    # speed drifts (other work shares it), and so would a ratio of figures taken far apart.
    bare = TelegramParser(SPECIFICATIONS["5"].objects)
    ratios = []
    print()
    for round_number in range(ROUNDS):
        frames = simulated_telegrams(WARM_UP + round_number * PER_ROUND, PER_ROUND)
        bare_rate = _parse_rate(bare.parse, frames)
        # The integration's own decoder (pair-table CRC, one pass over the lines, a line as in
        # the telegram before not parsed again), the same Telegram.
        decode_rate = _parse_rate(TelegramDecoder(SPECIFICATIONS["5"]).decode, frames)
        rate = await _post(url, "raw", frames)
        ratios.append(rate / bare_rate)
        print(
            f"round {round_number + 1}: dsmr-parser bare parse {bare_rate:5.0f}/s, "
            f"our decoder {decode_rate:5.0f}/s, API v1 ingest ({CLIENTS} clients, SQLite) "
            f"{rate:5.0f}/s: {rate / bare_rate:.2f} of the bare parse rate"
        )
    print(f"median ratio: {statistics.median(ratios):.2f} (target >= 0.8)")
    later = simulated_telegrams(WARM_UP + ROUNDS * PER_ROUND, REFERENCE_FRAMES)
    bare_rate = _parse_rate(bare.parse, later)
    reference_rate = await _post(url, "aiohttp", later)
    print(
        f"with {CLIENTS} aiohttp clients: {reference_rate:.0f}/s, "
        f"{reference_rate / bare_rate:.2f} of the bare parse rate ({bare_rate:.0f}/s)"
    )
    stored, _ = await hass.async_add_executor_job(
        entry.runtime_data.store.list_readings, entry.runtime_data.meter_id
    )
    print(f"stored: {stored} readings")
    await hass.config_entries.async_unload(entry.entry_id)
