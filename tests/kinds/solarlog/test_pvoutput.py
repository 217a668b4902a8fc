"""A Solar-Log plant's production feeding a meter's PVOutput export (its generation, v1 and v2).

The plant is set up just before midnight, so its "solar energy today" sensor has history
from the day's start; the export's interval ending 12:00 takes the energy it shows then (the
logger's transfer up to 11:55) and the newest power.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from solarlog_simulator import PortalSimulator
from tests.enerest import PLANT_ID, POLL, TODAY, local, move_on, plant_entry, setup_plant
from tests.pvoutput_server import PVOutputServer
from tests.subentries.pvoutput.test_export_of_a_meter import (  # noqa: F401 (fixtures)
    local as interval_end,
    meter_entry,
    newest,
    reading,
    server,
    start_export,
)
from tests.subentries.pvoutput.test_runtime import NEWEST, STEP, SYSTEM, export_until


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_db_url: str, integration_log_is_clean: None, enable_custom_integrations: None
) -> None:
    """Prepare the recorder's database before hass starts."""


@pytest.mark.usefixtures("recorder_mock")
async def test_solarlog_production_as_pvoutput_generation(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    enerest: PortalSimulator,
    server: PVOutputServer,  # noqa: F811
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(local(TODAY, 0) - timedelta(minutes=2, seconds=30))
    await setup_plant(hass, plant_entry(enerest))
    await move_on(hass, freezer, timedelta(hours=12))  # 11:57:30: transferred up to 11:55
    await move_on(hass, freezer, POLL)  # 12:02:31
    await async_wait_recording_done(hass)
    plant = enerest.plants[PLANT_ID]
    generated = sum(
        (
            plant.value("ProdEtotal", None, slot) or Decimal(0)
            for slot in plant.slots(TODAY)
            if slot < local(TODAY, 11, 50) + timedelta(minutes=1)
        ),
        Decimal(0),
    )
    power = plant.value("ProdPac", None, local(TODAY, 11, 50))
    assert power is not None
    entry = meter_entry(
        generation_energy="sensor.zonnedak_solar_energy_today",
        generation_power="sensor.zonnedak_solar_power",
    )
    readings = [
        reading(NEWEST - timedelta(minutes=30), 0, 0, 0),
        reading(NEWEST - timedelta(seconds=30), 48, 20, 300),
    ]
    runtime = await start_export(hass, hass_storage, entry, readings, NEWEST - STEP)
    await export_until(hass, runtime.exporter, lambda: len(server.accepted) == 1)
    v1, v2 = int(generated), int(power)
    assert server.statuses(SYSTEM) == [
        (
            *interval_end(NEWEST),
            {"v1": str(v1), "v2": str(v2), "v3": str(48 - 20 + v1), "v4": str(300 + v2)},
        )
    ]
    await hass.config_entries.async_unload(entry.entry_id)
