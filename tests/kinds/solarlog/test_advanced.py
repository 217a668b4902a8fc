"""The Advanced package: a device per component by cross-epoch id, MPP trackers, KPIs, events.

HA's clock stands at 12:02:30 in Amsterdam; the logger has transferred up to 12:00.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.smartmeter import async_remove_config_entry_device
from custom_components.smartmeter.const import DOMAIN
from solarlog_simulator import BASIC, PortalSimulator, SimulatedComponent, default_components
from tests.enerest import PLANT_ID, POLL, TODAY, local, move_on, plant_entry, setup_plant

SHORT = PLANT_ID[:8]
EVENT = "smartmeter_solarlog_component_event"


def state(hass: HomeAssistant, entity_id: str) -> str:
    found = hass.states.get(entity_id)
    assert found is not None, entity_id
    return found.state


def component_devices(hass: HomeAssistant, entry_id: str) -> dict[str, dr.DeviceEntry]:
    """Return the entry's devices by their identifier, the plant's left out."""
    return {
        identifier: device
        for device in dr.async_entries_for_config_entry(dr.async_get(hass), entry_id)
        for domain, identifier in device.identifiers
        if domain == DOMAIN and identifier != f"solarlog_{PLANT_ID}"
    }


def power(enerest: PortalSimulator, channel: str, device: str, hour: int, minute: int) -> str:
    """Return the simulated value of a device's channel in a slot, as its sensor shows it."""
    found = enerest.plants[PLANT_ID].value(channel, device, local(TODAY, hour, minute))
    assert found is not None
    return str(float(found))


async def test_components_trackers_and_kpis(hass: HomeAssistant, enerest: PortalSimulator) -> None:
    entry = plant_entry(enerest)
    await setup_plant(hass, entry)
    devices = component_devices(hass, entry.entry_id)
    assert sorted(devices) == [
        f"solarlog_{PLANT_ID}_{SHORT}-x-{name}"
        for name in ("battery", "meter", "sensor", "wr1", "wr2")
    ]
    plant = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"solarlog_{PLANT_ID}"), entry.entry_id
    )
    assert plant is not None
    assert (plant.name, plant.manufacturer, plant.model, plant.sw_version, plant.serial_number) == (
        "Zonnedak",
        "Solar-Log",
        "Solar-Log Base 15",
        "6.1.0 Build 163",
        "SL0012345",
    )
    wr1 = devices[f"solarlog_{PLANT_ID}_{SHORT}-x-wr1"]
    assert (wr1.name, wr1.model, wr1.via_device_id) == ("WR 1", "Inverter", plant.id)
    # A component's values by its cross-epoch id: the 11:55 slot's, the newest.
    cross = f"{SHORT}-x-wr1"
    assert state(hass, "sensor.wr_1_ac_power") == power(enerest, "ProdPac", cross, 11, 55)
    assert state(hass, "sensor.wr_1_dc_power") == power(enerest, "ProdPdc", cross, 11, 55)
    tracker = f"{SHORT}-wr1-mpp2-epoch1"
    assert state(hass, "sensor.wr_1_mpp_tracker_2_dc_power") == power(
        enerest, "ProdPdc", tracker, 11, 55
    )
    assert state(hass, "sensor.battery_state_of_charge") == power(
        enerest, "BatSoc", f"{SHORT}-x-battery", 11, 55
    )
    assert state(hass, "sensor.irradiation_sensor_module_temperature") == power(
        enerest, "TempModule", f"{SHORT}-x-sensor", 11, 55
    )
    wr2_today = sum(
        (
            enerest.plants[PLANT_ID].value("ProdEtotal", f"{SHORT}-x-wr2", slot) or Decimal(0)
            for slot in enerest.plants[PLANT_ID].slots(TODAY)
            if slot < local(TODAY, 12)
        ),
        Decimal(0),
    )
    assert state(hass, "sensor.wr_2_energy_today") == str(float(wr2_today / 1000))
    # The MPP trackers' voltage and current are there, disabled until the user wants them.
    registry = er.async_get(hass)
    voltage = registry.async_get("sensor.wr_1_mpp_tracker_1_dc_voltage")
    assert voltage is not None
    assert voltage.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    # KPIs as the API names them; specific yield is today's kWh per kWp.
    assert state(hass, "sensor.zonnedak_kpi_specific_yield") == "1.12"
    assert state(hass, "sensor.zonnedak_kpi_performance_ratio") == "84.5"
    assert state(hass, "sensor.zonnedak_api_package") == "advanced"


async def test_a_new_epoch_keeps_devices_and_entities(
    hass: HomeAssistant, enerest: PortalSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Reconfigured overnight: new component ids, same cross-epoch ids; WR 2 replaced by WR 3."""
    entry = plant_entry(enerest)
    await setup_plant(hass, entry)
    registry = er.async_get(hass)
    before = {
        entity.unique_id: entity.entity_id
        for entity in er.async_entries_for_config_entry(registry, entry.entry_id)
    }
    tomorrow = TODAY + timedelta(days=1)
    components = default_components(PLANT_ID, tag="2")
    replaced = components[1]
    components[1] = SimulatedComponent(
        id=f"{SHORT}-wr3-epoch2",
        cross_epoch_id=f"{SHORT}-x-wr3",
        type="Inverter",
        name="WR 3",
        classes=("production",),
        share=replaced.share,
    )
    enerest.plants[PLANT_ID].add_epoch(tomorrow, components)
    await move_on(hass, freezer, timedelta(days=1))
    after = {
        entity.unique_id: entity.entity_id
        for entity in er.async_entries_for_config_entry(registry, entry.entry_id)
    }
    assert before.items() <= after.items()
    assert sorted(set(after) - set(before)) == [
        f"solarlog_{PLANT_ID}_{SHORT}-x-wr3_ac_power",
        f"solarlog_{PLANT_ID}_{SHORT}-x-wr3_dc_power",
        f"solarlog_{PLANT_ID}_{SHORT}-x-wr3_energy_today",
    ]
    # WR 1 carries on with the values of its new id of the epoch.
    found = enerest.plants[PLANT_ID].value(
        "ProdPac", f"{SHORT}-wr1-epoch2", local(tomorrow, 11, 55)
    )
    assert state(hass, "sensor.wr_1_ac_power") == str(float(found or 0))
    # The replaced inverter's device may be removed by the user, those in use may not.
    devices = component_devices(hass, entry.entry_id)
    assert len(devices) == 6
    removable = {
        identifier
        for identifier, device in devices.items()
        if await async_remove_config_entry_device(hass, entry, device)
    }
    assert removable == {f"solarlog_{PLANT_ID}_{SHORT}-x-wr2"}


async def test_component_events_and_their_sensor(
    hass: HomeAssistant, enerest: PortalSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """A status error that appears or goes fires an event; the sensor counts those active."""
    events = async_capture_events(hass, EVENT)
    entry = plant_entry(enerest)
    await setup_plant(hass, entry)
    inverter = enerest.plants[PLANT_ID].epochs[0].components[0]
    inverter.errors = [
        {
            "id": 77,
            "errorCode": "F12",
            "errorText": "Isolation fault",
            "start": "2026-06-15T12:03:00+02:00",
        }
    ]
    await move_on(hass, freezer, POLL)
    assert [event.data for event in events] == [
        {
            "entry_id": entry.entry_id,
            "plant_id": PLANT_ID,
            "component_id": f"{SHORT}-x-wr1",
            "component_name": "WR 1",
            "component_type": "Inverter",
            "state": "raised",
            "code": "F12",
            "text": "Isolation fault",
            "since": "2026-06-15T12:03:00+02:00",
        }
    ]
    sensor = hass.states.get("sensor.zonnedak_component_events")
    assert sensor is not None
    assert (sensor.state, sensor.attributes["events"]) == (
        "1",
        [
            {
                "component": "WR 1",
                "component_id": f"{SHORT}-x-wr1",
                "code": "F12",
                "text": "Isolation fault",
                "since": "2026-06-15T12:03:00+02:00",
            }
        ],
    )
    await move_on(hass, freezer, POLL)
    assert len(events) == 1  # still the same error: no new event
    inverter.errors = []
    await move_on(hass, freezer, POLL)
    assert [event.data["state"] for event in events] == ["raised", "cleared"]
    assert state(hass, "sensor.zonnedak_component_events") == "0"


@pytest.mark.parametrize("package", [BASIC])
async def test_basic_package_asks_for_advanced_values_once_a_day(
    hass: HomeAssistant, enerest: PortalSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Refused (403) without a word in the log; asked again the next day, in case of upgrade."""
    entry = plant_entry(enerest)
    await setup_plant(hass, entry)
    for _ in range(3):
        await move_on(hass, freezer, POLL)
    assert sum("cross-epoch" in call for call in enerest.calls) == 1
    assert component_devices(hass, entry.entry_id) == {}
    enerest.clients["client-1"].package = "advanced"
    await move_on(hass, freezer, timedelta(days=1))
    assert sum("cross-epoch" in call for call in enerest.calls) == 2
    assert state(hass, "sensor.zonnedak_api_package") == "advanced"
    assert len(component_devices(hass, entry.entry_id)) == 5


async def test_a_kpi_call_refused_is_left_for_the_day(
    hass: HomeAssistant, enerest: PortalSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """The KPI call is unverified: refused, the rest of Advanced works; asked again tomorrow."""
    enerest.fail("/kpis", 404)
    entry = plant_entry(enerest)
    await setup_plant(hass, entry)
    snapshot = entry.runtime_data.coordinator.data
    assert snapshot.advanced_problems == (
        f"KPIs: not found: /api/v1/solarcompany/visualization/plant/{PLANT_ID}/kpis: "
        "404 simulated failure 404",
    )
    assert hass.states.get("sensor.zonnedak_kpi_specific_yield") is None
    assert state(hass, "sensor.wr_1_ac_power") != "unavailable"
    await move_on(hass, freezer, POLL)
    assert sum(call.endswith("/kpis") for call in enerest.calls) == 1
    await move_on(hass, freezer, timedelta(days=1))
    assert sum(call.endswith("/kpis") for call in enerest.calls) == 2
    assert state(hass, "sensor.zonnedak_kpi_performance_ratio") == "84.5"
