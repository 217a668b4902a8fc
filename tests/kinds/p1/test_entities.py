"""Entity behaviour across telegrams: zero totals, new M-Bus meters, averages, gas per hour."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from unittest.mock import patch

from dsmr_parser.parsers import TelegramParser
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import mock_restore_cache_with_extra_data

from custom_components.smartmeter import async_remove_config_entry_device
from custom_components.smartmeter.const import DOMAIN
from tests.common import has_state, network_entry, setup_entry, state_of, until, until_handled
from tests.meters import TcpMeter, telegram

TOTAL = "sensor.electricity_meter_energy_consumption_tariff_1"
POWER = "sensor.electricity_meter_power_consumption"
GAS_HOUR = "sensor.gas_meter_gas_consumption_last_hour"
V5 = telegram("v5.txt").decode()
V5_ID = "4B384547303034303436333935353037"
TOTAL_ID = f"{V5_ID}_electricity_used_tariff_1"
KWH = {"native_unit_of_measurement": "kWh"}


def line(old: str, new: str) -> bytes:
    """The v5 telegram with one line's text changed, CRC recomputed."""
    text = V5.replace(old, new)
    assert text != V5
    body = text[: text.index("!") + 1]
    return f"{body}{TelegramParser.crc16(body):04X}\r\n".encode()


async def test_zero_total_is_ignored(hass: HomeAssistant, tcp_meter: TcpMeter) -> None:
    """A meter glitching a total to 0 never reaches the state machine."""
    await setup_entry(hass, network_entry(tcp_meter.port))
    await tcp_meter.send(telegram("v5.txt"))
    await until(hass, lambda: hass.states.get(TOTAL) is not None)
    await tcp_meter.send(line("1-0:1.8.1(000004.426*kWh)", "1-0:1.8.1(000000.000*kWh)"))
    await tcp_meter.send(line("1-0:1.7.0(00.244*kW)", "1-0:1.7.0(00.999*kW)"))
    await until(hass, lambda: has_state(hass, POWER, "999.0"))
    assert state_of(hass, TOTAL) == "4.426"


async def test_zero_total_ignored_after_restart(hass: HomeAssistant, tcp_meter: TcpMeter) -> None:
    """The last total survives a restart, so a zero right after it is still a glitch."""
    entry = network_entry(tcp_meter.port)
    owner = {"config_entry_id": entry.entry_id, "unique_id": TOTAL_ID}
    mock_restore_cache_with_extra_data(
        hass, [(State(TOTAL, "4.5"), {"native_value": 4.5, **KWH, **owner})]
    )
    await setup_entry(hass, entry)
    await tcp_meter.send(line("1-0:1.8.1(000004.426*kWh)", "1-0:1.8.1(000000.000*kWh)"))
    await until(hass, lambda: hass.states.get(POWER) is not None)
    assert state_of(hass, TOTAL) == "4.5"


@pytest.mark.parametrize(("written_after_registered", "shown"), [(True, "4.5"), (False, "0.0")])
async def test_total_stored_by_an_older_release(
    hass: HomeAssistant,
    tcp_meter: TcpMeter,
    entity_registry: er.EntityRegistry,
    written_after_registered: bool,
    shown: str,
) -> None:
    """A state stored without its owner is the entity's own if written after it was registered.

    So the zero guard holds across the update to this release, and a state the entity id's
    previous holder left behind is not taken for this meter's.
    """
    entry = network_entry(tcp_meter.port)
    entry.add_to_hass(hass)
    registered = entity_registry.async_get_or_create(
        "sensor", DOMAIN, TOTAL_ID, config_entry=entry, suggested_object_id=TOTAL[7:]
    )
    assert registered.entity_id == TOTAL
    written = registered.created_at + timedelta(seconds=1 if written_after_registered else -1)
    mock_restore_cache_with_extra_data(
        hass, [(State(TOTAL, "4.5", last_updated=written), {"native_value": 4.5, **KWH})]
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await tcp_meter.send(line("1-0:1.8.1(000004.426*kWh)", "1-0:1.8.1(000000.000*kWh)"))
    await until(hass, lambda: hass.states.get(POWER) is not None)
    assert state_of(hass, TOTAL) == shown


async def test_total_of_a_deleted_meter_is_not_restored(
    hass: HomeAssistant, tcp_meter: TcpMeter
) -> None:
    """A meter added after another was deleted shows its own 0, not the deleted one's total.

    Its entities get the deleted meter's entity ids, whose last states Home Assistant keeps.
    """
    production = "sensor.electricity_meter_energy_production_tariff_1"
    deleted = network_entry(tcp_meter.port)
    await setup_entry(hass, deleted)
    await tcp_meter.send(line("1-0:2.8.1(000002.444*kWh)", "1-0:2.8.1(123456.789*kWh)"))
    await until(hass, lambda: has_state(hass, production, "123456.789"))
    assert await hass.config_entries.async_remove(deleted.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(production) is None

    # another meter, without solar panels: it has never returned anything
    await setup_entry(
        hass, network_entry(tcp_meter.port, unique_id="4530303434303037333832323436303139")
    )
    await tcp_meter.send(
        line(
            "0-0:96.1.1(4B384547303034303436333935353037)\r\n1-0:1.8.1(000004.426*kWh)\r\n"
            "1-0:1.8.2(000002.399*kWh)\r\n1-0:2.8.1(000002.444*kWh)",
            "0-0:96.1.1(4530303434303037333832323436303139)\r\n1-0:1.8.1(000004.426*kWh)\r\n"
            "1-0:1.8.2(000002.399*kWh)\r\n1-0:2.8.1(000000.000*kWh)",
        )
    )
    await until(hass, lambda: hass.states.get(POWER) is not None)
    assert state_of(hass, production) == "0.0"


async def test_new_mbus_meter_appears(
    hass: HomeAssistant, tcp_meter: TcpMeter, device_registry: dr.DeviceRegistry
) -> None:
    """A water meter connected later gets its device and entities without a reload."""
    entry = network_entry(tcp_meter.port)
    await setup_entry(hass, entry)
    await tcp_meter.send(telegram("v5.txt"))
    await until(hass, lambda: hass.states.get("sensor.gas_meter_gas_consumption") is not None)
    await tcp_meter.send(
        line(
            "0-2:24.1.0(003)\r\n0-2:96.1.0()\r\n",
            "0-2:24.1.0(007)\r\n0-2:96.1.0(3853414731323334353637383930)\r\n"
            "0-2:24.2.1(170102161005W)(00012.345*m3)\r\n",
        )
    )
    await until(hass, lambda: hass.states.get("sensor.water_meter_water_consumption") is not None)
    assert state_of(hass, "sensor.water_meter_water_consumption") == "12.345"
    water = device_registry.async_get_device_by_identifier(
        (DOMAIN, f"{V5_ID}_mbus_id_3853414731323334353637383930"), entry.entry_id
    )
    meter = device_registry.async_get_device_by_identifier((DOMAIN, V5_ID), entry.entry_id)
    assert water is not None
    assert meter is not None
    assert water.via_device_id == meter.id
    assert (meter.manufacturer, meter.model) == ("Iskra", "MT382-1000")
    # unplugged again: its values are unknown, nothing else changes
    await tcp_meter.send(line("1-0:1.7.0(00.244*kW)", "1-0:1.7.0(00.555*kW)"))
    await until(hass, lambda: has_state(hass, POWER, "555.0"))
    assert state_of(hass, "sensor.water_meter_water_consumption") == "unknown"


async def test_only_a_gone_mbus_meter_can_be_removed(
    hass: HomeAssistant, tcp_meter: TcpMeter, device_registry: dr.DeviceRegistry
) -> None:
    """A water meter no longer in the telegrams may be removed; the meters in use may not."""
    entry = network_entry(tcp_meter.port)
    await setup_entry(hass, entry)
    with_water = line(
        "0-2:24.1.0(003)\r\n0-2:96.1.0()\r\n",
        "0-2:24.1.0(007)\r\n0-2:96.1.0(3853414731323334353637383930)\r\n"
        "0-2:24.2.1(170102161005W)(00012.345*m3)\r\n",
    )
    await tcp_meter.send(with_water)
    await until(hass, lambda: hass.states.get("sensor.water_meter_water_consumption") is not None)

    def device(identifier: str) -> dr.DeviceEntry:
        found = device_registry.async_get_device_by_identifier((DOMAIN, identifier), entry.entry_id)
        assert found is not None
        return found

    water = device(f"{V5_ID}_mbus_id_3853414731323334353637383930")
    gas = device(f"{V5_ID}_mbus_id_3232323241424344313233343536373839")
    meter = device(V5_ID)
    removable = partial(async_remove_config_entry_device, hass, entry)
    assert [await removable(each) for each in (water, gas, meter)] == [False, False, False]
    await tcp_meter.send(line("1-0:1.7.0(00.244*kW)", "1-0:1.7.0(00.555*kW)"))
    await until(hass, lambda: has_state(hass, POWER, "555.0"))
    assert [await removable(each) for each in (water, gas, meter)] == [True, False, False]
    # After a restart nothing is known to be gone until the first telegram.
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert await removable(water) is False


@pytest.mark.usefixtures("all_entities_enabled")
async def test_long_text_message_is_cut(hass: HomeAssistant, tcp_meter: TcpMeter) -> None:
    """A text message longer than a state may be is cut to 255 characters."""
    await setup_entry(hass, network_entry(tcp_meter.port))
    await tcp_meter.send(line("0-0:96.13.0()", f"0-0:96.13.0({'41' * 300})"))
    entity_id = "sensor.electricity_meter_text_message"
    await until(hass, lambda: has_state(hass, entity_id, "41" * 127 + "4"))


async def test_gas_last_hour(hass: HomeAssistant, tcp_meter: TcpMeter) -> None:
    """Gas in the last hour, from the gas meter's own timestamps."""
    await setup_entry(hass, network_entry(tcp_meter.port))
    gas = "0-1:24.2.1(170102161005W)(00000.107*m3)"
    await tcp_meter.send(telegram("v5.txt"))
    await tcp_meter.send(line(gas, "0-1:24.2.1(170102163005W)(00000.307*m3)"))
    await tcp_meter.send(line(gas, "0-1:24.2.1(170102171005W)(00000.857*m3)"))
    await until(hass, lambda: has_state(hass, GAS_HOUR, "0.75"))


async def test_average_over_interval(hass: HomeAssistant, tcp_meter: TcpMeter) -> None:
    """With a 1 s interval, the power shown is the mean of the telegrams in it."""
    clock = [1000.0]
    entry = network_entry(tcp_meter.port, options={"min_update_interval": 1})
    with patch("custom_components.smartmeter.kinds.p1.coordinator.monotonic", lambda: clock[0]):
        await setup_entry(hass, entry)
        await tcp_meter.send(telegram("v5.txt"))  # passes at once: 244 W
        await until(hass, lambda: has_state(hass, POWER, "244.0"))
        await tcp_meter.send(line("1-0:1.7.0(00.244*kW)", "1-0:1.7.0(00.100*kW)"))
        await tcp_meter.send(line("1-0:1.7.0(00.244*kW)", "1-0:1.7.0(00.200*kW)"))
        await until_handled(hass, entry, 3)
        assert state_of(hass, POWER) == "244.0"
        clock[0] += 1.0
        await tcp_meter.send(line("1-0:1.7.0(00.244*kW)", "1-0:1.7.0(00.600*kW)"))
        await until_handled(hass, entry, 4)
        assert state_of(hass, POWER) == "300.0"


async def test_belgian_peak_history(hass: HomeAssistant, tcp_meter: TcpMeter) -> None:
    """The 13-month peak sensor shows the highest peak and lists every month."""
    await setup_entry(hass, network_entry(tcp_meter.port, "5B", unique_id="belgium"))
    await tcp_meter.send(telegram("fluvius_v171.txt"))
    entity_id = "sensor.electricity_meter_peak_demand_last_13_months"
    await until(hass, lambda: has_state(hass, entity_id, "5980.0"))
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.attributes["peaks"] == [
        {"month": "2020-04", "occurred": "2020-04-23T17:25:38+00:00", "power": 3695.0},
        {"month": "2020-03", "occurred": "2020-03-05T11:21:39+00:00", "power": 5980.0},
        {"month": "2020-02", "occurred": "2020-02-10T02:54:21+00:00", "power": 4318.0},
    ]
