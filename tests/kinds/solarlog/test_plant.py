"""A Solar-Log plant running: its sensors, polling, back-off, staleness and diagnostics.

HA's clock stands at 12:02:30 in Amsterdam; the simulated logger has transferred up to 12:00.
Expected energies are the simulated plant's own 5-minute values added up, and the values a
test sets (set_points) are asserted as they are.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest

from custom_components.smartmeter.const import DOMAIN
from custom_components.smartmeter.diagnostics import async_get_config_entry_diagnostics
from solarlog_simulator import BASIC, PortalSimulator
from tests.enerest import (
    INSTALLED,
    PLANT_ID,
    POLL,
    TODAY,
    local,
    move_on,
    plant_entry,
    set_points,
    setup_plant,
)

PLANT = f"/administration/plant/{PLANT_ID}"
DEVICE = f"solarlog_{PLANT_ID}"


def day_wh(enerest: PortalSimulator, channel: str, day: date, until: datetime) -> Decimal:
    """Return the simulated plant's energy of a day up to until, from its 5-minute values."""
    plant = enerest.plants[PLANT_ID]
    return sum(
        (
            value
            for slot in plant.slots(day)
            if slot + timedelta(minutes=5) <= until
            and (value := plant.value(channel, None, slot)) is not None
        ),
        Decimal(0),
    )


def days_wh(enerest: PortalSimulator, channel: str, first: date, last: date) -> Decimal:
    """Return the simulated plant's energy of whole days first to last."""
    total = Decimal(0)
    day = first
    while day <= last:
        total += day_wh(enerest, channel, day, local(day + timedelta(days=1), 0))
        day += timedelta(days=1)
    return total


def kwh(wh: Decimal) -> float:
    return float(wh / 1000)


def value(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


def enable(hass: HomeAssistant, *keys: str) -> None:
    """Enable sensors that are disabled by default, before the entry is set up."""
    registry = er.async_get(hass)
    for key in keys:
        registry.async_get_or_create(
            "sensor", DOMAIN, f"{DEVICE}_{key}", suggested_object_id=f"zonnedak_{key}"
        )


@pytest.mark.parametrize("package", [BASIC])
async def test_basic_package_plant_sensors(hass: HomeAssistant, enerest: PortalSimulator) -> None:
    """The Basic package: plant information, power, today's and the periods' energy."""
    yesterday = TODAY - timedelta(days=1)
    set_points(
        enerest,
        "ProdPac",
        {local(TODAY, 11, 50): "4321", local(TODAY, 11, 55): None},  # the newest one is null
    )
    set_points(enerest, "ProdEtotal", {local(TODAY, 11, 55): None})
    entry = plant_entry(enerest)
    enable(hass, "solar_energy_month", "solar_energy_year")
    await setup_plant(hass, entry)
    now = local(TODAY, 12)
    today = day_wh(enerest, "ProdEtotal", TODAY, now)
    this_month = days_wh(enerest, "ProdEtotal", date(2026, 6, 1), yesterday) + today
    lifetime = days_wh(enerest, "ProdEtotal", INSTALLED, yesterday) + today
    expected = {
        "sensor.zonnedak_plant_size": "9.8",
        "sensor.zonnedak_last_data_transfer": "2026-06-15T10:00:00+00:00",
        "sensor.zonnedak_api_package": "basic",
        "sensor.zonnedak_component_events": "0",
        "sensor.zonnedak_solar_power": "4321.0",  # 11:50's: 11:55's is null
        "sensor.zonnedak_solar_energy_today": str(kwh(today)),
        "sensor.zonnedak_solar_energy_month": str(kwh(this_month)),
        "sensor.zonnedak_solar_energy_year": str(kwh(lifetime)),  # installed this year
        "sensor.zonnedak_solar_energy_lifetime": str(kwh(lifetime)),
        "sensor.zonnedak_consumption_today": str(kwh(day_wh(enerest, "ConsEtotal", TODAY, now))),
        "sensor.zonnedak_battery_charged_today": str(
            kwh(day_wh(enerest, "BatEcharge", TODAY, now))
        ),
        "sensor.zonnedak_battery_discharged_today": str(
            kwh(day_wh(enerest, "BatEdischarge", TODAY, now))
        ),
    }
    assert {entity_id: value(hass, entity_id) for entity_id in expected} == expected
    # Energy sensors for the energy dashboard.
    state = hass.states.get("sensor.zonnedak_solar_energy_today")
    assert state is not None
    assert (
        state.attributes["device_class"],
        state.attributes["state_class"],
        state.attributes["unit_of_measurement"],
    ) == ("energy", "total_increasing", "kWh")
    # Basic: no component devices, no KPIs; the Advanced call was tried once, refused.
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert [device.identifiers for device in devices] == [{(DOMAIN, DEVICE)}]
    assert not [state for state in hass.states.async_all() if "kpi" in state.entity_id]
    assert sum("cross-epoch" in call for call in enerest.calls) == 1


async def test_polls_every_5_minutes_and_renews_the_token(
    hass: HomeAssistant, enerest: PortalSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """An update every 5 minutes, no faster; a token lasts 5 minutes and is renewed."""
    await setup_plant(hass, plant_entry(enerest))
    assert enerest.calls.count(PLANT) == 1
    await move_on(hass, freezer, timedelta(minutes=4))
    assert enerest.calls.count(PLANT) == 1
    await move_on(hass, freezer, timedelta(minutes=1, seconds=1))
    assert enerest.calls.count(PLANT) == 2
    assert value(hass, "sensor.zonnedak_last_data_transfer") == "2026-06-15T10:05:00+00:00"
    token_calls = [call for call in enerest.calls if "token" in call]
    assert len(token_calls) == 2  # the first token ran out after 5 minutes
    assert sum("cross-epoch" in call for call in enerest.calls) == 2


@pytest.mark.allow_log(r"^Error fetching Solar-Log Zonnedak data: The Enerest portal could not")
async def test_back_off_and_retry_after(
    hass: HomeAssistant, enerest: PortalSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Failed updates wait 5, 10, 20 minutes; a 429's Retry-After is honoured; then data."""
    await setup_plant(hass, plant_entry(enerest))
    enerest.fail(PLANT, 503, times=3)
    expected_calls = 1
    for wait in (5, 5, 10):
        await move_on(hass, freezer, timedelta(minutes=wait, seconds=1))
        expected_calls += 1
        assert enerest.calls.count(PLANT) == expected_calls
        assert value(hass, "sensor.zonnedak_solar_power") == STATE_UNAVAILABLE
    await move_on(hass, freezer, timedelta(minutes=19))
    assert enerest.calls.count(PLANT) == expected_calls  # 20 minutes after the third failure
    enerest.fail(PLANT, 429, headers={"Retry-After": "3000"})
    await move_on(hass, freezer, timedelta(minutes=1, seconds=1))
    assert enerest.calls.count(PLANT) == expected_calls + 1
    await move_on(hass, freezer, timedelta(minutes=49))
    assert enerest.calls.count(PLANT) == expected_calls + 1
    await move_on(hass, freezer, timedelta(minutes=1, seconds=1))
    assert enerest.calls.count(PLANT) == expected_calls + 2
    assert value(hass, "sensor.zonnedak_solar_power") != STATE_UNAVAILABLE
    assert value(hass, "sensor.zonnedak_last_data_transfer") == "2026-06-15T11:30:00+00:00"


async def test_stale_data_when_the_logger_stops_transferring(
    hass: HomeAssistant, enerest: PortalSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Without transfers, power goes unavailable after an hour; energy and the age stay."""
    enerest.plants[PLANT_ID].held_until = local(TODAY, 12)
    set_points(enerest, "ProdPac", {local(TODAY, 11, 55): "3000"})
    await setup_plant(hass, plant_entry(enerest))
    energy = value(hass, "sensor.zonnedak_solar_energy_today")
    for _ in range(10):
        await move_on(hass, freezer, POLL)
    assert value(hass, "sensor.zonnedak_solar_power") == "3000.0"  # 11:55's, at 12:52:40
    await move_on(hass, freezer, POLL)
    assert value(hass, "sensor.zonnedak_solar_power") == STATE_UNAVAILABLE  # at 12:57:41
    assert value(hass, "sensor.zonnedak_solar_energy_today") == energy
    assert value(hass, "sensor.zonnedak_last_data_transfer") == "2026-06-15T10:00:00+00:00"


@pytest.mark.allow_log(r"^Error fetching Solar-Log Zonnedak data")
async def test_setup_waits_for_the_portal(hass: HomeAssistant, enerest: PortalSimulator) -> None:
    enerest.fail(PLANT, 500)
    entry = plant_entry(enerest)
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY


@pytest.mark.allow_log(r"could not authenticate: The Enerest portal refuses the API credentials")
async def test_setup_with_refused_credentials_asks_for_new_ones(
    hass: HomeAssistant, enerest: PortalSimulator
) -> None:
    entry = plant_entry(enerest, client_secret="old")
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    (flow,) = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["source"] == SOURCE_REAUTH


async def test_diagnostics_are_redacted(hass: HomeAssistant, enerest: PortalSimulator) -> None:
    entry = plant_entry(enerest)
    await setup_plant(hass, entry)
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    text = repr(diagnostics)
    for secret in (PLANT_ID, "s3cret", "client-1", "SL0012345"):
        assert secret not in text
    assert diagnostics["entry"]["data"] == {
        "kind": "solarlog",
        "portal": "solarcompany",
        "client_id": "**REDACTED**",
        "client_secret": "**REDACTED**",
        "plant_id": "**REDACTED**",
        "api_url": enerest.url,
        "token_url": enerest.token_url,
    }
    assert diagnostics["plant"] == {
        "id": "**REDACTED**",
        "identifier": "**REDACTED**",
        "device": "Solar-Log Base 15",
        "firmware": "6.1.0 Build 163",
        "size_w": "9800",
        "status": "active",
        "package": "XL",
        "last_transfer": "2026-06-15T12:00:00+02:00",
        "last_transfer_type": "HTTP",
    }
    assert (diagnostics["available"], diagnostics["failures"], diagnostics["advanced"]) == (
        True,
        0,
        True,
    )
    assert [one["type"] for one in diagnostics["components"]] == [
        "Inverter",
        "Inverter",
        "Meter",
        "Battery",
        "Sensor",
        "SolarLogIntern",
    ]
    assert diagnostics["today"]["ProdEtotal"] == {
        "unit": "Wh",
        "points": 144,
        "newest": "2026-06-15T11:55:00+02:00",
    }
    history = diagnostics["history"]
    assert (history["backfilled"], history["backfill_error"], history["series"]) == (
        True,
        None,
        ["battery_charged", "battery_discharged", "home_consumption", "solar_production"],
    )


async def test_unload_keeps_the_hours(
    hass: HomeAssistant, enerest: PortalSimulator, hass_storage: dict[str, object]
) -> None:
    entry = plant_entry(enerest)
    await setup_plant(hass, entry)
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED
    kept = hass_storage[f"{DOMAIN}.{entry.entry_id}.solarlog_history"]
    assert isinstance(kept, dict)
    assert kept["data"]["backfilled"] is True


async def test_a_plant_without_battery_or_meter_gets_no_sensors_for_them(
    hass: HomeAssistant, enerest: PortalSimulator
) -> None:
    enerest.plants[PLANT_ID].battery = False
    enerest.plants[PLANT_ID].consumption = False
    await setup_plant(hass, plant_entry(enerest))
    plant_sensors = sorted(
        state.entity_id.removeprefix("sensor.zonnedak_")
        for state in hass.states.async_all("sensor")
        if state.entity_id.startswith("sensor.zonnedak_") and "kpi" not in state.entity_id
    )
    assert plant_sensors == [
        "api_package",
        "component_events",
        "last_data_transfer",
        "plant_size",
        "solar_energy_lifetime",
        "solar_energy_today",
        "solar_power",
    ]


@pytest.mark.allow_log(r"^The history of Zonnedak could not be read; trying again in an hour")
async def test_a_failed_backfill_is_tried_again_an_hour_later(
    hass: HomeAssistant, enerest: PortalSimulator, freezer: FrozenDateTimeFactory
) -> None:
    enerest.fail("/year/2026/month/4", 503)  # April: asked for by the backfill alone
    entry = plant_entry(enerest)
    await setup_plant(hass, entry)
    coordinator = entry.runtime_data.coordinator
    assert (coordinator.ledger.backfilled, coordinator.backfill_error) == (
        False,
        f"failed: /api/v1/solarcompany/visualization/plant/{PLANT_ID}/year/2026/month/4: "
        "503 simulated failure 503",
    )
    for _ in range(11):
        await move_on(hass, freezer, POLL)
    assert sum(call.endswith("/month/4") for call in enerest.calls) == 1
    await move_on(hass, freezer, POLL)  # an hour after the failure
    assert sum(call.endswith("/month/4") for call in enerest.calls) == 2
    assert (coordinator.ledger.backfilled, coordinator.backfill_error) == (True, None)
