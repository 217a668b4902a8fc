"""scripts/develop's seed: the simulator's history fills the energy dashboard at the first start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from functools import partial
import json
from pathlib import Path
import re
from typing import Any
from unittest.mock import patch

from homeassistant.components.energy.validate import async_validate
from homeassistant.components.recorder.core import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from scripts import develop_seed
from solarlog_simulator.demo import PLANT_ID, demo_portal
from solarlog_simulator.portal import TOKEN_PATH

from .meters import TELEGRAMS
from .test_statistics import hourly


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(recorder_db_url: str, enable_custom_integrations: None) -> None:
    """Prepare the recorder's database before hass starts, then load our integration."""


@pytest.mark.parametrize(
    ("now", "hours"),
    [
        # The first reading ends the hour before its own, which gets a row of 0, when it lies
        # exactly on the hour; else the two days touch 49 hours.
        (datetime(2026, 12, 5, 16, 25, tzinfo=UTC), 2 * 24 + 1),
        (datetime(2026, 12, 5, 17, 0, tzinfo=UTC), 2 * 24 + 2),
    ],
)
@pytest.mark.usefixtures("socket_enabled")
async def test_seeded_history_fills_the_energy_dashboard(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    now: datetime,
    hours: int,
) -> None:
    config = Path(hass.config.config_dir)
    # The demo portal of python -m solarlog_simulator, its plant installed three days ago.
    portal = demo_portal(datetime.now(UTC).date() - timedelta(days=3))
    solarlog_port = await portal.start()

    class SeededAt(datetime):
        """The clock the seed reads: the history ends at now."""

        @classmethod
        def now(cls, tz: tzinfo | None = None) -> SeededAt:
            return cls.fromtimestamp(now.timestamp(), tz)

    with (
        patch.object(develop_seed, "HISTORY", timedelta(days=2)),
        patch.object(develop_seed, "datetime", SeededAt),
    ):
        await hass.async_add_executor_job(
            develop_seed.main, config, 2001, TELEGRAMS / "v5.txt", solarlog_port
        )
    seeded, plant = json.loads((config / ".storage/core.config_entries").read_text())["data"][
        "entries"
    ]
    assert seeded["data"]["port"] == 2001
    # A key to turn the API on with, as for a meter added through the UI.
    assert seeded["options"]["api_enabled"] is False
    assert re.fullmatch(r"[A-Z0-9]{64}", seeded["options"]["api_key"])
    # configuration.yaml sets the location: the onboarding does not ask for it.
    onboarding = json.loads((config / ".storage/onboarding").read_text())
    assert (onboarding["key"], onboarding["version"], onboarding["data"]) == (
        "onboarding",
        4,
        {"done": ["core_config"]},
    )
    assert (config / "simulator_start").read_text() == seeded_start(config)
    # Home Assistant reads the energy dashboard's settings from its storage (mocked in tests).
    hass_storage["energy"] = json.loads((config / ".storage/energy").read_text())
    entry = MockConfigEntry(
        domain=seeded["domain"],
        entry_id=seeded["entry_id"],
        title=seeded["title"],
        unique_id=seeded["unique_id"],
        # No reader here: the history alone.
        data={**seeded["data"], "connection_type": "push"},
        subentries_data=seeded["subentries"],
    )
    entry.add_to_hass(hass)
    # The Solar-Log plant, as the flow saves one, of the demo portal.
    assert plant["data"] == {
        "kind": "solarlog",
        "portal": "demo",
        "client_id": "demo-client",
        "client_secret": "demo-secret",
        "plant_id": PLANT_ID,
        "api_url": f"http://127.0.0.1:{solarlog_port}",
        "token_url": f"http://127.0.0.1:{solarlog_port}{TOKEN_PATH}",
    }
    plant_entry = MockConfigEntry(
        domain=plant["domain"],
        entry_id=plant["entry_id"],
        title=plant["title"],
        unique_id=plant["unique_id"],
        minor_version=plant["minor_version"],
        data=plant["data"],
    )
    plant_entry.add_to_hass(hass)
    # Setting the first entry up sets the integration up, with both.
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(hass)
    assert await async_setup_component(hass, "energy", {})

    # Two tariffs, gas, the plant's solar production and its battery: statistics for each.
    validation = await async_validate(hass)
    assert validation.as_dict()["energy_sources"] == [[], [], [], [], []]
    assert hass.states.get("sensor.demo_plant_solar_power") is not None
    await hass.config_entries.async_unload(plant_entry.entry_id)
    await portal.close()
    # The hours add up to what the meter counted, and the costs to the contract's prices.
    store = entry.runtime_data.store
    meter = entry.runtime_data.meter_id
    count, (first,) = await hass.async_add_executor_job(
        partial(store.list_readings, meter, limit=1)
    )
    _, (last,) = await hass.async_add_executor_job(
        partial(store.list_readings, meter, limit=1, descending=True)
    )
    assert count == 2 * 24 * 4 + 1
    tariff_1 = float(last.electricity_delivered_1 - first.electricity_delivered_1)
    tariff_2 = float(last.electricity_delivered_2 - first.electricity_delivered_2)
    assert tariff_1 + tariff_2 > 0
    delivered = await hourly(hass, "energy_delivered")
    assert len(delivered) == hours
    assert sum(delivered) == pytest.approx(tariff_1 + tariff_2, abs=1e-9)
    assert sum(await hourly(hass, "energy_delivered_1")) == pytest.approx(tariff_1, abs=1e-9)
    assert sum(await hourly(hass, "energy_delivered_1_cost")) == pytest.approx(
        tariff_1 * 0.21, abs=1e-6
    )
    assert sum(await hourly(hass, "energy_delivered_2_cost")) == pytest.approx(
        tariff_2 * 0.25, abs=1e-6
    )
    assert first.extra_device_delivered is not None
    assert last.extra_device_delivered is not None
    gas = float(last.extra_device_delivered - first.extra_device_delivered)
    assert sum(await hourly(hass, "gas")) == pytest.approx(gas, abs=1e-9)


def seeded_start(config: Path) -> str:
    return (config / "simulator_start").read_text()
