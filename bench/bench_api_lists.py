"""API v2 list pages: time and size of /consumption/electricity pages of 25 and 10,000 rows.

Home Assistant's real http server (the test harness's) with a push-only meter whose API is on,
12,000 readings a minute apart stored and processed into minute records first (SQLite).
Run: .venv/bin/python -m pytest bench/bench_api_lists.py -s -q --no-cov -p no:cacheprovider
It prints figures; it asserts nothing about speed.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from statistics import median
from time import perf_counter
from typing import Any

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.smartmeter.store.model import Reading
from tests.common import setup_entry, wait_processed

KEY = "C" * 64
READINGS = 12_000
RUNS = 5
START = datetime(2026, 1, 1, tzinfo=UTC)


def _reading(minute: int) -> Reading:
    return Reading(
        timestamp=START + timedelta(minutes=minute),
        electricity_delivered_1=Decimal(1000) + Decimal(minute) / 100,
        electricity_returned_1=Decimal(0),
        electricity_delivered_2=Decimal(2000),
        electricity_returned_2=Decimal(0),
        electricity_currently_delivered=Decimal("0.6"),
        electricity_currently_returned=Decimal(0),
        phase_voltage_l1=Decimal("230.1"),
    )


async def test_api_lists(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, tmp_path: Any
) -> None:
    # The test harness runs the loop in debug mode, which slows every callback several fold.
    asyncio.get_running_loop().set_debug(False)
    await hass.config.async_set_time_zone("Europe/Amsterdam")
    entry = MockConfigEntry(
        domain="smartmeter",
        unique_id="bench-lists",
        data={"connection_type": "push", "specification": "5"},
        options={
            "api_enabled": True,
            "api_key": KEY,
            "database_url": f"sqlite:///{tmp_path / 'bench.db'}",
        },
    )
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data
    store = coordinator.store
    readings = [_reading(minute) for minute in range(READINGS)]
    start = perf_counter()
    await hass.async_add_executor_job(
        lambda: store.writer.submit(coordinator.meter_id, readings).result()
    )
    await hass.async_add_executor_job(wait_processed, store)
    print(f"\n{READINGS} readings stored and processed in {perf_counter() - start:.1f} s")
    client = await hass_client_no_auth()
    headers = {"X-AUTHKEY": KEY}
    for query in ("limit=25", "limit=25&offset=11000", "limit=10000", "limit=1000000"):
        times = []
        size = 0
        for _ in range(RUNS):
            start = perf_counter()
            response = await client.get(f"/api/v2/consumption/electricity?{query}", headers=headers)
            body = await response.read()
            times.append(perf_counter() - start)
            size = len(body)
        print(
            f"GET /api/v2/consumption/electricity?{query}: median {median(times) * 1000:.1f} ms "
            f"of {RUNS}, {size / 1024:.0f} KiB"
        )
    await hass.config_entries.async_unload(entry.entry_id)
