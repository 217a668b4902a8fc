"""Importing a Linky meter's history: three years of consumption and production.

Against the simulated Enedis service (enedis_simulator) on a local port, through the Conso API
path: the history import as the integration runs it (3 years of daily values and maximum
powers, 2 years of half-hourly load curve in 7-day requests), then its statistics and costs in
the recorder (the test harness's SQLite). It prints the requests made against the fewest that
Enedis' limits allow, the wall time of the import alone and of the whole setup, the memory, the
size of what is kept, and checks the statistics' last sums against the service's days, exactly.
The requests go back to back here; the integration spaces them by REQUEST_INTERVAL (0.5 s), which
adds that much per request to a real import.
Run: .venv/bin/python -m pytest bench/bench_linky_import.py -s -q --no-cov -p no:cacheprovider
"""

from __future__ import annotations

from datetime import datetime, timedelta
import json
import resource
from time import perf_counter
import tracemalloc
from unittest.mock import patch

import aiohttp
from homeassistant.components.recorder.core import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.smartmeter.enedis import (
    PARIS,
    ConsoApiClient,
    LinkySync,
    Measurement,
    MeterData,
)
from custom_components.smartmeter.kinds.linky import const
from enedis_simulator import CONSO_TOKEN, PRM
from tests.common import statistic_rows
from tests.enedis.server import enedis_service
from tests.kinds.linky.common import energy_contract

pytestmark = pytest.mark.timeout(0)
BOTH = (Measurement.CONSUMPTION, Measurement.PRODUCTION)
# 3 + 3 daily, 3 maximum power, 105 + 105 load curve: 365 days a request, 7 of load curve.
FEWEST = 2 * 3 + 3 + 2 * -(-730 // 7)
CONTRACT = energy_contract(delivered="0.251600", returned="0.130000", end="2099-12-31")


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(recorder_db_url: str, enable_custom_integrations: None) -> None:
    """Prepare the recorder's database before hass starts, then load our integration."""


async def test_import_alone(socket_enabled: None) -> None:
    """The requests and what is kept, without Home Assistant: time and Python's allocations."""
    today = datetime.now(PARIS).date()
    async with enedis_service(lambda: today) as service, aiohttp.ClientSession() as session:

        async def no_pause() -> None:
            """Back to back."""

        client = ConsoApiClient(session, PRM, CONSO_TOKEN, service.url)
        tracemalloc.start()
        started = perf_counter()
        sync = LinkySync(client, BOTH, MeterData(), no_pause)
        await sync.import_history(today, lambda day: None)
        seconds = perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        kept = len(json.dumps(sync.data.to_json()))
        assert client.requests == FEWEST
        print(
            f"\nLinky import alone: {client.requests} requests (fewest the limits allow: "
            f"{FEWEST}) in {seconds:.2f} s under tracemalloc, Python allocations peak "
            f"{peak / 2**20:.1f} MiB; kept as {kept / 2**20:.2f} MiB of JSON; "
            f"{len(sync.data.of(Measurement.CONSUMPTION).daily)} days, "
            f"{len(sync.data.of(Measurement.CONSUMPTION).curve.watt_minutes)} load-curve hours "
            f"per measurement"
        )


async def _last_sum(hass: HomeAssistant, key: str) -> tuple[int, float]:
    found = await statistic_rows(hass, f"smartmeter:linky_{PRM}_{key}")
    return len(found), found[-1]["sum"] or 0.0


async def test_setup_with_statistics(
    recorder_mock: Recorder, hass: HomeAssistant, socket_enabled: None
) -> None:
    """Adding the meter: the import, then 4 series of statistics (energy and costs)."""
    today = dt_util.now(PARIS).date()
    async with enedis_service(lambda: today) as service:
        with (
            patch.dict(const.SERVICE_URLS, dict.fromkeys(const.SERVICE_URLS, service.url)),
            patch.object(const, "REQUEST_INTERVAL", 0),
        ):
            entry = MockConfigEntry(
                domain="smartmeter",
                title=f"Linky {PRM}",
                unique_id=PRM,
                minor_version=3,
                data={
                    "kind": "linky",
                    "access": "conso_api",
                    "service_url": service.url,
                    "prm": PRM,
                    "measurement": "both",
                    "token": CONSO_TOKEN,
                },
                options={"poll_minute": 17},
                subentries_data=[CONTRACT],
            )
            entry.add_to_hass(hass)
            rss_before = _rss_mib()
            started = perf_counter()
            assert await hass.config_entries.async_setup(entry.entry_id)
            await hass.async_block_till_done(wait_background_tasks=True)
            await async_wait_recording_done(hass)
            seconds = perf_counter() - started
            days = [today - timedelta(days=n) for n in range(1, 3 * 365 + 1)]
            simulator = service.simulator
            used = sum(simulator.daily_wh("consumption", day) for day in days)
            made = sum(simulator.daily_wh("production", day) for day in days)
            checks = {
                "consumption": used / 1000,
                "production": made / 1000,
                "consumption_cost": used * 251_600 / 1e9,
                "production_compensation": made * 130_000 / 1e9,
            }
            counts = {}
            for key, expected in checks.items():
                counts[key], total = await _last_sum(hass, key)
                assert total == expected, key
            assert len(simulator.requests) == FEWEST
            await hass.config_entries.async_unload(entry.entry_id)
    print(
        f"\nLinky setup: {len(simulator.requests)} requests, import and statistics in "
        f"{seconds:.1f} s; {sum(counts.values())} rows of {len(counts)} series "
        f"({counts['consumption']} each), last sums exact; peak resident memory "
        f"{rss_before:.0f} MiB before, {_rss_mib():.0f} MiB after"
    )
