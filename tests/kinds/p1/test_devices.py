"""Devices and unique ids of real meters: shared ids, replaced M-Bus meters, two entries."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smartmeter import async_remove_config_entry_device
from custom_components.smartmeter.const import DOMAIN
from tests.common import has_state, network_entry, setup_entry, state_of, until
from tests.meters import TcpMeter, edited, telegram

V5_ID = "4B384547303034303436333935353037"  # "K8EG004046395507"
GAS_ID = "3232323241424344313233343536373839"  # "2222ABCD123456789"
NEW_GAS_ID = "4730303339303031393336393930363139"  # "G0039001936990619"
OTHER_ID = "4530303434303037333832323436303139"  # "E0044007382246019"
GAS = "sensor.gas_meter_gas_consumption"
GAS_READING = "0-1:24.2.1(170102161005W)(00000.107*m3)"


def _device(
    device_registry: dr.DeviceRegistry, entry: MockConfigEntry, identifier: str
) -> dr.DeviceEntry:
    device = device_registry.async_get_device_by_identifier((DOMAIN, identifier), entry.entry_id)
    assert device is not None, identifier
    return device


@pytest.mark.usefixtures("all_entities_enabled")
async def test_gas_meter_with_the_electricity_meters_id(
    hass: HomeAssistant,
    tcp_meter: TcpMeter,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """A gas meter sending the electricity meter's id (a test meter) gets its own device."""
    entry = network_entry(tcp_meter.port)
    await setup_entry(hass, entry)
    await tcp_meter.send(
        edited("v5.txt", (f"0-1:96.1.0({GAS_ID})", f"0-1:96.1.0({V5_ID})")).encode("latin-1")
    )
    await until(hass, lambda: hass.states.get(GAS) is not None)
    meter = _device(device_registry, entry, V5_ID)
    gas = _device(device_registry, entry, f"{V5_ID}_mbus_id_{V5_ID}")
    assert gas.via_device_id == meter.id
    # As printed on the meters' cases: hex-encoded ASCII decoded.
    assert (meter.serial_number, gas.serial_number) == ("K8EG004046395507", "K8EG004046395507")
    assert {
        entity_id: (state_of(hass, entity_id), entity_registry.async_get(entity_id).unique_id)  # type: ignore[union-attr]
        for entity_id in (
            GAS,
            "sensor.gas_meter_equipment_identifier",
            "sensor.electricity_meter_equipment_identifier",
        )
    } == {
        GAS: ("0.107", f"{V5_ID}_mbus_id_{V5_ID}_reading"),
        "sensor.gas_meter_equipment_identifier": (
            "K8EG004046395507",
            f"{V5_ID}_mbus_id_{V5_ID}_equipment_identifier",
        ),
        "sensor.electricity_meter_equipment_identifier": (
            "K8EG004046395507",
            f"{V5_ID}_equipment_identifier",
        ),
    }


async def test_replaced_gas_meter_is_a_new_device(
    hass: HomeAssistant, tcp_meter: TcpMeter, device_registry: dr.DeviceRegistry
) -> None:
    """A gas meter replaced on the same channel appears at once; the old one can be deleted."""
    entry = network_entry(tcp_meter.port)
    await setup_entry(hass, entry)
    await tcp_meter.send(telegram("v5.txt"))
    await until(hass, lambda: has_state(hass, GAS, "0.107"))
    await tcp_meter.send(
        edited(
            "v5.txt",
            (f"0-1:96.1.0({GAS_ID})", f"0-1:96.1.0({NEW_GAS_ID})"),
            (GAS_READING, "0-1:24.2.1(170102171005W)(00000.002*m3)"),
        ).encode("latin-1")
    )
    await until(hass, lambda: has_state(hass, f"{GAS}_2", "0.002"))
    assert state_of(hass, GAS) == "unknown"
    # not the old meter's hour: the new one has none yet
    assert state_of(hass, "sensor.gas_meter_gas_consumption_last_hour_2") == "unknown"
    old = _device(device_registry, entry, f"{V5_ID}_mbus_id_{GAS_ID}")
    new = _device(device_registry, entry, f"{V5_ID}_mbus_id_{NEW_GAS_ID}")
    assert new.serial_number == "G0039001936990619"
    assert await async_remove_config_entry_device(hass, entry, old) is True
    assert await async_remove_config_entry_device(hass, entry, new) is False

    device_registry.async_remove_device(old.id)
    await hass.async_block_till_done()
    assert hass.states.get(GAS) is None
    # Should the old meter come back, it is a device again.
    await tcp_meter.send(telegram("v5.txt"))
    await until(hass, lambda: has_state(hass, GAS, "0.107"))
    assert state_of(hass, f"{GAS}_2") == "unknown"


async def test_two_entries_see_the_same_gas_meter(
    hass: HomeAssistant, tcp_meter: TcpMeter, device_registry: dr.DeviceRegistry
) -> None:
    """Two entries reading the same gas meter (locally and pushed, say) each have its entities."""
    other_meter = TcpMeter(
        repeat=edited("v5.txt", (f"0-0:96.1.1({V5_ID})", f"0-0:96.1.1({OTHER_ID})")).encode(
            "latin-1"
        )
    )
    await other_meter.start()
    first = network_entry(tcp_meter.port)
    second = network_entry(other_meter.port, unique_id=OTHER_ID)
    try:
        await setup_entry(hass, first)
        await tcp_meter.send(telegram("v5.txt"))
        await until(hass, lambda: has_state(hass, GAS, "0.107"))
        await setup_entry(hass, second)
        await until(hass, lambda: has_state(hass, f"{GAS}_2", "0.107"))
        for entry, meter_id in ((first, V5_ID), (second, OTHER_ID)):
            gas = _device(device_registry, entry, f"{meter_id}_mbus_id_{GAS_ID}")
            assert gas.via_device_id == _device(device_registry, entry, meter_id).id
            assert gas.serial_number == "2222ABCD123456789"
        await hass.config_entries.async_unload(second.entry_id)
    finally:
        await other_meter.stop()


@pytest.mark.usefixtures("all_entities_enabled")
async def test_printable_model_and_title(
    hass: HomeAssistant, tcp_meter: TcpMeter, device_registry: dr.DeviceRegistry
) -> None:
    """The Irish Iskra's header byte 0x02 stays out of the device's model."""
    entry = network_entry(tcp_meter.port, "ISKRA_IE")
    await setup_entry(hass, entry)
    await tcp_meter.send(telegram("iskra_ie.txt"))
    await until(hass, lambda: hass.states.get("sensor.electricity_meter_net_power") is not None)
    meter = _device(device_registry, entry, entry.unique_id or "")
    assert (meter.manufacturer, meter.model, meter.serial_number) == ("Iskra", "MIE5T-200", None)
    # its own id comes on the line other meters send the gas meter's on: digits, as sent
    assert state_of(hass, "sensor.electricity_meter_equipment_identifier") == "09610"


async def test_migration_keeps_entities_and_devices(
    hass: HomeAssistant,
    tcp_meter: TcpMeter,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """Entities and devices of the old unique ids keep their ids, names and history."""
    entry = network_entry(tcp_meter.port)
    entry.add_to_hass(hass)
    meter = device_registry.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, V5_ID)}
    )
    gas = device_registry.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, GAS_ID)}, via_device_id=meter.id
    )
    device_registry.async_update_device(gas.id, name_by_user="Gas in the cellar")
    old = {
        "sensor.electricity_meter_power_consumption": (f"{V5_ID}_current_electricity_usage", meter),
        GAS: (f"{GAS_ID}_reading", gas),
        f"{GAS}_last_hour": (f"{GAS_ID}_last_hour", gas),
    }
    for entity_id, (unique_id, device) in old.items():
        entity_registry.async_get_or_create(
            "sensor",
            DOMAIN,
            unique_id,
            config_entry=entry,
            device_id=device.id,
            suggested_object_id=entity_id.removeprefix("sensor."),
        )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await tcp_meter.send(telegram("v5.txt"))
    await until(hass, lambda: has_state(hass, GAS, "0.107"))
    assert (entry.minor_version, entry.data["kind"]) == (3, "p1")
    assert {
        entity_id: entity_registry.async_get(entity_id).unique_id  # type: ignore[union-attr]
        for entity_id in old
    } == {
        "sensor.electricity_meter_power_consumption": f"{V5_ID}_current_electricity_usage",
        GAS: f"{V5_ID}_mbus_id_{GAS_ID}_reading",
        f"{GAS}_last_hour": f"{V5_ID}_mbus_id_{GAS_ID}_last_hour",
    }
    assert hass.states.get(f"{GAS}_2") is None
    migrated = _device(device_registry, entry, f"{V5_ID}_mbus_id_{GAS_ID}")
    assert (migrated.id, migrated.name_by_user) == (gas.id, "Gas in the cellar")
    assert _device(device_registry, entry, V5_ID).id == meter.id


async def test_migration_names_the_kind(hass: HomeAssistant, tcp_meter: TcpMeter) -> None:
    """An entry of config entry 1.2 is a P1 meter: it says so, and keeps all else."""
    entry = network_entry(tcp_meter.port)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, minor_version=2)
    data = dict(entry.data)
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert (entry.version, entry.minor_version) == (1, 3)
    assert (entry.data, entry.unique_id) == ({**data, "kind": "p1"}, V5_ID)


@pytest.mark.allow_log(r"has version 2 which is higher than the current version 1")
async def test_entry_of_a_newer_release_is_not_set_up(
    hass: HomeAssistant, tcp_meter: TcpMeter
) -> None:
    """An entry a newer major version wrote is left as it is, and not set up."""
    entry = network_entry(tcp_meter.port)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, version=2)
    data = dict(entry.data)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.MIGRATION_ERROR
    assert entry.data == data


async def test_migration_of_a_meter_known_by_its_address(
    hass: HomeAssistant, tcp_meter: TcpMeter, entity_registry: er.EntityRegistry
) -> None:
    """A meter without equipment id keeps its address as meter id, but not as unique id.

    The reading store and the long-term statistics know the meter by it.
    """
    from tests.meter.test_detection_and_values import SWEDEN

    address = f"127.0.0.1:{tcp_meter.port}"
    entry = network_entry(tcp_meter.port, "5S", unique_id=address)
    entry.add_to_hass(hass)
    power = "sensor.electricity_meter_power_consumption"
    entity_registry.async_get_or_create(
        "sensor",
        DOMAIN,
        f"{address}_current_electricity_usage",
        config_entry=entry,
        suggested_object_id=power.removeprefix("sensor."),
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await tcp_meter.send(SWEDEN.encode())
    await until(hass, lambda: has_state(hass, power, "1727.0"))
    assert (entry.unique_id, entry.data["meter_id"]) == (None, address)
    assert entry.runtime_data.meter_id == address
    registered = entity_registry.async_get(power)
    assert registered is not None
    assert registered.unique_id == f"{address}_current_electricity_usage"
