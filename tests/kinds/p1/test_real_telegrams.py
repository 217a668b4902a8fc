"""Every real telegram, through a TCP socket and a pseudo-terminal, into entity states."""

from __future__ import annotations

import asyncio

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.common import network_entry, serial_entry, setup_entry, state_of, states, until
from tests.meters import PtyMeter, TcpMeter, repeat_on_pty, telegram

E = "sensor.electricity_meter_"
# file -> (specification, number of entities with all enabled, exact states "value unit")
EXPECTED: dict[str, tuple[str, int, dict[str, str]]] = {
    "v2_2.txt": (
        "2.2",
        21,
        {
            E + "power_consumption": "1010.0 W",
            E + "energy_consumption": "2.002 kWh",
            E + "energy_production_tariff_2": "1.001 kWh",
            E + "active_tariff": "low",
            "sensor.gas_meter_gas_consumption": "1.001 m³",
        },
    ),
    "v3.txt": (
        "2.2",
        21,
        {
            E + "power_consumption": "1190.0 W",
            E + "energy_consumption": "24691.356 kWh",
            E + "active_tariff": "normal",
            "sensor.gas_meter_gas_consumption": "1.001 m³",
        },
    ),
    "v4_2.txt": (
        "4",
        39,
        {
            E + "power_consumption": "2027.0 W",
            E + "energy_consumption_tariff_1": "1581.123 kWh",
            E + "energy_consumption": "3016.829 kWh",
            E + "energy_production": "0.0 kWh",
            E + "current_phase_l2": "6.0 A",
            E + "short_power_failures": "15",
            E + "last_long_power_failure": "237126.0 s",
            "sensor.gas_meter_gas_consumption": "981.443 m³",
            "sensor.gas_meter_last_reading": "2016-11-29T19:00:00+00:00",
        },
    ),
    "v5.txt": (
        "5",
        41,
        {
            E + "power_consumption": "244.0 W",
            E + "net_power": "244.0 W",
            E + "energy_consumption": "6.825 kWh",
            E + "energy_production": "2.444 kWh",
            E + "voltage_phase_l3": "229.0 V",
            # the telegram's decimals, not DSMR-reader's whole amps
            E + "current_phase_l1": "0.48 A",
            E + "power_consumption_phase_l3": "142.0 W",
            E + "telegram_timestamp": "2017-01-02T18:20:02+00:00",
            "sensor.gas_meter_gas_consumption": "0.107 m³",
            "sensor.gas_meter_gas_consumption_last_hour": "unknown m³/h",
        },
    ),
    "v5_two_mbus.txt": (
        "5",
        41,
        {
            E + "power_consumption": "111.0 W",
            E + "energy_consumption": "2375.582 kWh",
            E + "voltage_sags_phase_l3": "192",
            "sensor.gas_meter_gas_consumption": "246.138 m³",
        },
    ),
    "unpadded_crc.txt": (
        "5",
        9,
        {
            "sensor.heat_meter_heat": "240.86 GJ",
            "sensor.heat_meter_last_reading": "2026-02-15T19:05:23+00:00",
        },
    ),
    "fluvius_v171.txt": (
        "5B",
        43,
        {
            E + "active_tariff": "normal",
            E + "energy_consumption": "15.792 kWh",
            E + "current_average_demand": "2351.0 W",
            E + "peak_demand_this_month": "2589.0 W",
            E + "peak_demand_last_13_months": "5980.0 W",
            "sensor.gas_meter_gas_consumption": "112.384 m³",
            "sensor.water_meter_water_consumption": "872.234 m³",
        },
    ),
    "fluvius_v171_alt.txt": (
        "5B",
        43,
        {
            E + "power_consumption": "338.0 W",
            E + "energy_consumption": "571.562 kWh",
            E + "current_phase_l2": "0.88 A",
            E + "peak_demand_last_13_months": "4927.0 W",
            "sensor.water_meter_water_consumption": "8.579 m³",
        },
    ),
    "esy5q3da1004_v304.txt": (
        "Q3D",
        10,
        {
            E + "power_consumption": "1688.21 W",
            E + "energy_consumption": "32549.5061662 kWh",
        },
    ),
    "esy5q3db1024_v304.txt": (
        "Q3D",
        11,
        {
            E + "energy_production": "19949.3221493 kWh",
            E + "power_consumption_phase_l1": "747.85 W",
        },
    ),
    "iskra_ie.txt": (
        "ISKRA_IE",
        27,
        {
            E + "net_power": "-100.0 W",
            E + "energy_production": "20.563 kWh",
            E + "voltage_phase_l2": "241.7 V",
        },
    ),
    "v5_eon_hu.txt": (
        "5EONHU",
        46,
        {
            E + "power_production": "2601.0 W",
            E + "energy_consumption_tariff_3": "0.0 kWh",
            E + "energy_production": "627.177 kWh",
            E + "reactive_energy_production": "303.131 kvarh",
            E + "frequency": "50.0 Hz",
        },
    ),
    "seed_landisgyr_e350_v40.txt": (
        "4",
        34,
        {
            E + "power_consumption": "2507.0 W",
            E + "energy_consumption": "12723.618 kWh",
        },
    ),
}


def _shown(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    unit = state.attributes.get("unit_of_measurement")
    return f"{state.state} {unit}" if unit else state.state


async def _assert_telegram(hass: HomeAssistant, entry: MockConfigEntry, name: str) -> None:
    _, count, expected = EXPECTED[name]
    await until(hass, lambda: len(states(hass)) == count)
    assert {entity_id: _shown(hass, entity_id) for entity_id in expected} == expected
    assert state_of(hass, E + "rejected_telegrams") == "0"
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


@pytest.mark.usefixtures("all_entities_enabled")
@pytest.mark.parametrize("name", list(EXPECTED))
async def test_telegram_over_tcp(hass: HomeAssistant, tcp_meter: TcpMeter, name: str) -> None:
    """A telegram from a TCP meter becomes exact entity states."""
    entry = network_entry(tcp_meter.port, EXPECTED[name][0])
    await setup_entry(hass, entry)
    await tcp_meter.send(telegram(name))
    await _assert_telegram(hass, entry, name)


@pytest.mark.usefixtures("all_entities_enabled")
@pytest.mark.parametrize("name", list(EXPECTED))
async def test_telegram_over_serial(hass: HomeAssistant, pty_meter: PtyMeter, name: str) -> None:
    """A telegram from a serial meter (a pseudo-terminal) becomes exact entity states."""
    entry = serial_entry(pty_meter.device, EXPECTED[name][0])
    await setup_entry(hass, entry)
    # Repeated, as a meter does: a telegram sent while the port reopens is lost.
    sender = asyncio.create_task(repeat_on_pty(pty_meter, telegram(name), 0.2))
    try:
        await _assert_telegram(hass, entry, name)
    finally:
        sender.cancel()
