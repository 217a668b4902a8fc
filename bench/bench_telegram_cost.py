"""Event-loop time per telegram (CRC, parse, states, store queue) next to the bare parse.

Uses Home Assistant's test harness for a real core, with all entities enabled.
Run: .venv/bin/python -m pytest bench/bench_telegram_cost.py -s -q --no-cov -p no:cacheprovider
It prints figures; it asserts nothing about speed.
"""

from __future__ import annotations

import asyncio
import statistics
from time import perf_counter

from dsmr_parser.parsers import TelegramParser
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smartmeter.meter.decode import TelegramDecoder
from custom_components.smartmeter.meter.specifications import SPECIFICATIONS
from tests.common import setup_entry

from .simulated import simulated_telegrams

ROUNDS = 3000


async def test_telegram_cost(hass: HomeAssistant, all_entities_enabled: None) -> None:
    # The test harness runs the loop in debug mode, which slows every callback several fold.
    asyncio.get_running_loop().set_debug(False)
    spec = SPECIFICATIONS["5"]
    frames = simulated_telegrams(0, ROUNDS)
    bare = TelegramParser(spec.objects)
    entry = MockConfigEntry(
        domain="smartmeter",
        unique_id="bench",
        data={"connection_type": "push", "specification": "5"},
    )
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data
    decoder = TelegramDecoder(spec)
    # Interleaved, so all see the same caches and machine load.
    bare_times: list[float] = []
    live_times: list[float] = []  # what issue 2 measures: decode and entity states
    stored_times: list[float] = []  # the same plus queueing the reading for the store
    for frame in frames:
        t0 = perf_counter()
        bare.parse(frame)
        t1 = perf_counter()
        telegram = decoder.decode(frame)
        coordinator.update_entities(telegram, frame)
        t2 = perf_counter()
        stored = coordinator.store_telegram(telegram, frame)
        t3 = perf_counter()
        bare_times.append(t1 - t0)
        live_times.append(t2 - t1)
        stored_times.append(t3 - t1)
        await hass.async_block_till_done()
        # A meter sends once a second: its commit is long done when the next telegram comes.
        await asyncio.wrap_future(stored)
    bare_each = statistics.median(bare_times)
    entities = len(hass.states.async_all("sensor"))
    print()
    print(f"v5.txt, {entities} sensor entities, {ROUNDS} simulated telegrams")
    print(f"dsmr-parser bare parse, median:          {bare_each * 1e6:8.1f} us/telegram")
    for label, timings in (
        ("decode + entity states", live_times),
        ("... + reading queued for the store", stored_times),
    ):
        median = statistics.median(timings)
        p95 = sorted(timings)[int(ROUNDS * 0.95)]
        print(
            f"{label:36s} median {median * 1e6:8.1f} us, p95 {p95 * 1e6:8.1f} us, "
            f"ratio {median / bare_each:.2f} x bare parse"
        )
    print("target: decode + entity states <= 1.5 x bare parse")
    await hass.config_entries.async_unload(entry.entry_id)
