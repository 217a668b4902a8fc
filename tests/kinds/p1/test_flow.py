"""The config, reconfigure and options flows against real meters on TCP and a pty."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
import os
from pathlib import Path
from unittest.mock import patch

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigFlowResult,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.smartmeter.config_flow import SmartMeterConfigFlow
from custom_components.smartmeter.const import DOMAIN
from custom_components.smartmeter.kinds import KINDS
from custom_components.smartmeter.statistic_metadata import statistic_object_id
from tests.common import (
    has_state,
    network_entry,
    options_input,
    serial_entry,
    setup_entry,
    state_of,
    unload_meters,
    until,
    until_handled,
)
from tests.meter.test_detection_and_values import LUXEMBOURG, SWEDEN
from tests.meters import PtyMeter, TcpMeter, edited, repeat_on_pty, telegram

KEY = "0123456789ABCDEF0123456789ABCDEF"
OLD_KEY = "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
V5_ID = "4B384547303034303436333935353037"
ENERGY = "sensor.electricity_meter_energy_consumption"


def encrypt(plain: bytes, key: str = KEY) -> bytes:
    """Wrap a telegram in a DLMS general-global-cipher frame, as Sagemcom meters do."""
    system_title = b"SAG\x00\x00\x00\x00\x01"
    counter = (1234).to_bytes(4, "big")
    sealed = AESGCM(bytes.fromhex(key)).encrypt(system_title + counter, plain, None)
    body = b"\x30" + counter + sealed[:-16] + sealed[-16:-4]  # DLMS keeps 12 tag bytes
    return b"\xdb\x08" + system_title + b"\x82" + len(body).to_bytes(2, "big") + body


async def _p1_flow(hass: HomeAssistant) -> ConfigFlowResult:
    """Start adding a P1 meter: its choice in the menu of kinds."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    return await hass.config_entries.flow.async_configure(result["flow_id"], {"next_step_id": "p1"})


async def test_user_step_starts_the_only_kind(hass: HomeAssistant) -> None:
    """With one kind of entry, adding one asks straight away how the P1 meter is connected."""
    with patch.dict(KINDS, {"p1": KINDS["p1"]}, clear=True):
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert (result["type"], result["step_id"], result["menu_options"]) == (
        FlowResultType.MENU,
        "p1",
        ["serial", "network", "push"],
    )


async def test_user_step_is_a_menu_of_kinds(hass: HomeAssistant) -> None:
    """With several kinds, the user step is a menu of them; a choice starts its steps."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert (result["type"], result["step_id"], result["menu_options"]) == (
        FlowResultType.MENU,
        "user",
        ["p1", "linky", "solarlog"],
    )
    result = await _p1_flow(hass)
    assert (result["type"], result["step_id"]) == (FlowResultType.MENU, "p1")


async def test_a_meter_has_options(hass: HomeAssistant) -> None:
    """The kind of an entry says whether it has options: a P1 meter has."""
    entry = network_entry(1)
    entry.add_to_hass(hass)
    assert SmartMeterConfigFlow.async_supports_options_flow(entry) is True


@pytest.fixture
async def repeating(socket_enabled: None) -> AsyncIterator[TcpMeter]:
    """A TCP meter sending the v5 telegram every 50 ms to whoever connects."""
    meter = TcpMeter(repeat=telegram("v5.txt"))
    await meter.start()
    yield meter
    await meter.stop()


async def _network_flow(hass: HomeAssistant, port: int) -> ConfigFlowResult:
    result = await _p1_flow(hass)
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "network"}
    )
    assert result["step_id"] == "network"
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": "127.0.0.1", "port": port}
    )


async def test_network_detects_and_creates(hass: HomeAssistant, repeating: TcpMeter) -> None:
    """Network: the meter is detected, confirmed and created with its equipment id."""
    result = await _network_flow(hass, repeating.port)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "confirm"
    assert result["description_placeholders"] == {
        "meter": "Iskra MT382-1000",
        "specification": "DSMR 5",
        "port": f"127.0.0.1:{repeating.port}",
        "line": "TCP",
        "equipment_id": "K8EG004046395507",  # as on the meter's case
    }
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"specification": "5"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Iskra MT382-1000"
    assert result["result"].unique_id == V5_ID
    assert result["data"] == {
        "kind": "p1",
        "connection_type": "network",
        "host": "127.0.0.1",
        "port": repeating.port,
        "specification": "5",
    }
    options = result["result"].options
    assert options["api_enabled"] is False
    assert len(options["api_key"]) == 64
    assert options["api_key"].isalnum()
    assert options["api_key"] == options["api_key"].upper()
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_duplicate_meter_aborts(hass: HomeAssistant, repeating: TcpMeter) -> None:
    """The same meter cannot be added twice, whatever port it is reached on."""
    entry = network_entry(1, unique_id=V5_ID)
    entry.add_to_hass(hass)
    result = await _network_flow(hass, repeating.port)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        (None, "cannot_connect"),
        (b"", "no_telegram"),
        (telegram("seed_kaifa_v42_masked_badcrc.txt"), "invalid_telegram"),
    ],
)
async def test_network_errors(
    hass: HomeAssistant, socket_enabled: None, payload: bytes | None, error: str
) -> None:
    """Refused, silent and bad-CRC meters each give their own error."""
    meter = TcpMeter(repeat=payload or None)
    port = await meter.start()
    if payload is None:
        await meter.stop()
    result = await _network_flow(hass, port)
    await meter.stop()
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}


@pytest.mark.parametrize(
    ("name", "specification"),
    [
        ("v2_2.txt", "2.2"),
        ("v3.txt", "2.2"),
        ("v4_2.txt", "4"),
        ("v5.txt", "5"),
        ("fluvius_v171.txt", "5B"),
        ("esy5q3da1004_v304.txt", "Q3D"),
        ("iskra_ie.txt", "ISKRA_IE"),
        ("v5_eon_hu.txt", "5EONHU"),
        ("unpadded_crc.txt", "5"),
    ],
)
async def test_detects_each_specification(
    hass: HomeAssistant, socket_enabled: None, name: str, specification: str
) -> None:
    """Each real telegram is recognised as its specification."""
    meter = TcpMeter(repeat=telegram(name))
    await meter.start()
    result = await _network_flow(hass, meter.port)
    await meter.stop()
    assert result["step_id"] == "confirm"
    schema = result["data_schema"]
    assert schema is not None
    assert schema({})["specification"] == specification


@pytest.mark.parametrize(
    ("plain", "specification", "label", "energy"),
    [
        (
            telegram("sagemcom_t210_d_r.txt"),
            "SAGEMCOM_T210_D_R",
            "Sagemcom T210-D-r, encrypted (Austria)",
            "6545.766",
        ),
        (LUXEMBOURG.encode(), "MSn", "Luxembourg Smarty, encrypted (Creos)", "0.21"),
    ],
)
@pytest.mark.usefixtures("socket_enabled")
async def test_encrypted_meter_asks_for_key(
    hass: HomeAssistant,
    plain: bytes,
    specification: str,
    label: str,
    energy: str,
) -> None:
    """An encrypted meter: the key step, a wrong key, then the right one."""
    meter = TcpMeter(repeat=encrypt(plain))
    await meter.start()
    result = await _network_flow(hass, meter.port)
    assert result["step_id"] == "encryption_key"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"encryption_key": "nope"}
    )
    assert result["errors"] == {"base": "invalid_key"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"encryption_key": "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"}
    )
    assert result["errors"] == {"base": "invalid_key"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"encryption_key": KEY}
    )
    assert result["step_id"] == "confirm"
    placeholders = result["description_placeholders"]
    assert placeholders is not None
    assert placeholders["specification"] == label
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"specification": specification}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["encryption_key"] == KEY
    assert result["data"]["specification"] == specification
    await until(
        hass, lambda: has_state(hass, "sensor.electricity_meter_energy_consumption", energy)
    )
    await hass.config_entries.async_unload(result["result"].entry_id)
    await meter.stop()


async def serial_flow(hass: HomeAssistant, device: str) -> ConfigFlowResult:
    """Start adding a meter on a serial port; return what listening to it gave."""
    result = await _p1_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "serial"}
    )
    return await hass.config_entries.flow.async_configure(result["flow_id"], {"device": device})


@pytest.mark.parametrize(("baudrate", "line"), [(115200, "115200 8N1"), (9600, "9600 7E1")])
async def test_serial_detects_line_settings(hass: HomeAssistant, baudrate: int, line: str) -> None:
    """Serial: the line settings are found by trying them; the right one is stored."""
    meter = PtyMeter(baudrate)
    sender = asyncio.create_task(repeat_on_pty(meter, telegram("v2_2.txt")))
    try:
        result = await serial_flow(hass, meter.device)
        assert result["step_id"] == "confirm"
        assert (result["description_placeholders"] or {})["line"] == line
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"specification": "2.2"}
        )
        assert result["data"]["serial_settings"]["baudrate"] == baudrate
        await hass.async_block_till_done()
        await hass.config_entries.async_unload(result["result"].entry_id)
    finally:
        sender.cancel()
        meter.close()


async def test_serial_meter_without_equipment_id_is_added_once(hass: HomeAssistant) -> None:
    """A meter that sends no equipment id is told by its port: the same port aborts."""
    meter = PtyMeter()
    serial_entry(meter.device).add_to_hass(hass)
    sender = asyncio.create_task(repeat_on_pty(meter, SWEDEN.encode()))
    try:
        result = await serial_flow(hass, meter.device)
        assert (result["type"], result["reason"]) == (FlowResultType.ABORT, "already_configured")
    finally:
        sender.cancel()
        meter.close()


async def test_serial_missing_port(hass: HomeAssistant) -> None:
    """A path that is no serial port cannot be opened."""
    result = await serial_flow(hass, "/dev/nonexistent-p1")
    assert result["errors"] == {"base": "cannot_open_port"}


async def test_push_only(hass: HomeAssistant) -> None:
    """Push only: no reader, just a named entry."""
    result = await _p1_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "push"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"name": "Datalogger", "specification": "5"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {"kind": "p1", "connection_type": "push", "specification": "5"}
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.runtime_data.coordinator.reader is None
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    assert result["reason"] == "push_only"


@pytest.mark.allow_log(r"^Meter at 127\.0\.0\.1:1 is unavailable: cannot connect")
async def test_reconfigure(hass: HomeAssistant, repeating: TcpMeter) -> None:
    """Reconfigure moves the meter to a new address; another meter is refused."""
    entry = network_entry(1, unique_id=V5_ID)
    await setup_entry(hass, entry)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": "127.0.0.1", "port": repeating.port}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data["port"] == repeating.port
    await hass.async_block_till_done()

    other = TcpMeter(repeat=telegram("v4_2.txt"))
    await other.start()
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": "127.0.0.1", "port": other.port}
    )
    assert result["reason"] == "wrong_meter"
    await other.stop()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_reconfigure_serial(hass: HomeAssistant, pty_meter: PtyMeter) -> None:
    """Reconfigure a serial meter: the form shows the current port."""
    from tests.common import serial_entry

    entry = serial_entry(pty_meter.device)
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"device": "/dev/nonexistent-p1"}
    )
    assert result["errors"] == {"base": "cannot_open_port"}


async def test_options_average(hass: HomeAssistant, tcp_meter: TcpMeter) -> None:
    """With a minimum interval, power is the average over the interval."""
    entry = network_entry(tcp_meter.port, options={"api_enabled": False, "api_key": "OLD"})
    await setup_entry(hass, entry)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    # The form shows the stored options in its sections.
    schema = result["data_schema"]
    assert schema is not None
    shown = {
        str(name): {
            str(field): (field.description or {}).get("suggested_value")
            for field in part.schema.schema
        }
        for name, part in schema.schema.items()
    }
    assert shown == {
        "updates": {"min_update_interval": None},
        "api": {"api_enabled": False, "api_key": "OLD"},
        "database": {"database_url": None, "retention_hours": None},
        "forwarding": {"forward_targets": None},
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        options_input(min_update_interval=3600, api_enabled=False, api_key=" k "),
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {
        "min_update_interval": 3600,
        "api_enabled": False,
        "api_key": "k",
        "database_url": "",
        "forward_targets": "",
        "retention_hours": "off",
    }
    await hass.async_block_till_done()
    await tcp_meter.wait_connected(2)
    v5 = telegram("v5.txt")
    await tcp_meter.send(v5)  # the first telegram passes at once
    await until_handled(hass, entry, 1)
    assert state_of(hass, "sensor.electricity_meter_power_consumption") == "244.0"
    await tcp_meter.send(telegram("v4_2.txt"))  # held back: within the interval
    await until_handled(hass, entry, 2)
    assert state_of(hass, "sensor.electricity_meter_power_consumption") == "244.0"
    await hass.config_entries.async_unload(entry.entry_id)


def test_encrypt_helper_round_trip() -> None:
    """The test's encryption helper makes frames dsmr-parser decrypts."""
    from custom_components.smartmeter.meter.decode import TelegramDecoder
    from custom_components.smartmeter.meter.specifications import SPECIFICATIONS

    frame = encrypt(telegram("sagemcom_t210_d_r.txt")).hex()
    decoded = TelegramDecoder(SPECIFICATIONS["SAGEMCOM_T210_D_R"], KEY).decode(frame)
    assert str(decoded.CURRENT_ELECTRICITY_USAGE.value) == "286"
    assert os.environ is not None


async def test_options_database_url(
    hass: HomeAssistant, tcp_meter: TcpMeter, tmp_path: Path, postgres_url: str
) -> None:
    """A database URL is tried before it is saved; the entry then stores readings there."""
    entry = network_entry(tcp_meter.port)
    await setup_entry(hass, entry)
    options = {"min_update_interval": 0, "api_enabled": True, "api_key": "k"}
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], options_input(**options, database_url="mysql://nobody@nowhere/db")
    )
    assert result["errors"] == {"database_url": "cannot_open_database"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], options_input(**options, database_url=postgres_url)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.runtime_data.store.list_readings(entry.runtime_data.meter_id) == (0, [])
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize(
    ("payload", "title"),
    [
        (telegram("iskra_ie.txt"), "Iskra MIE5T-200"),  # "/ISk5" 0x02 "MIE5T-200"
        (
            edited("v5.txt", ("/ISk5\\2MT382-1000", "/ISk5\xabMT382-1000")).encode("latin-1"),
            "Iskra MT382-1000",
        ),
    ],
    ids=["byte_0x02", "latin_1"],
)
async def test_title_is_printable(
    hass: HomeAssistant, socket_enabled: None, payload: bytes, title: str
) -> None:
    """Bytes of the identification line that are no text stay out of the title."""
    meter = TcpMeter(repeat=payload)
    await meter.start()
    result = await _network_flow(hass, meter.port)
    await meter.stop()
    assert (result["description_placeholders"] or {})["meter"] == title


async def test_meter_without_equipment_id(
    hass: HomeAssistant, socket_enabled: None, device_registry: dr.DeviceRegistry
) -> None:
    """A Swedish meter sends no id: it is known by the entry, not by its address.

    It can move to another address, shows no address as its serial number, and the same
    address cannot be added twice.
    """
    meter = TcpMeter(repeat=SWEDEN.encode())
    moved = TcpMeter(repeat=SWEDEN.encode())
    await meter.start()
    await moved.start()
    try:
        result = await _network_flow(hass, meter.port)
        assert (result["description_placeholders"] or {})["equipment_id"] == "-"
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"specification": "5S"}
        )
        entry = result["result"]
        assert entry.unique_id is None
        await until(hass, lambda: has_state(hass, ENERGY, "6678.394"))
        coordinator = entry.runtime_data
        assert coordinator.meter_id == entry.entry_id
        assert statistic_object_id(coordinator.meter_id) == entry.entry_id.lower()
        device = device_registry.async_get_device_by_identifier(
            (DOMAIN, entry.entry_id), entry.entry_id
        )
        assert device is not None
        assert (device.manufacturer, device.model, device.serial_number) == (
            "Elster",
            "53833635_A",
            None,
        )

        result = await _network_flow(hass, meter.port)
        assert result["reason"] == "already_configured"

        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
        )
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"host": "127.0.0.1", "port": moved.port}
        )
        assert result["reason"] == "reconfigure_successful"
        await hass.async_block_till_done()
        assert entry.data["port"] == moved.port
        assert entry.runtime_data.meter_id == entry.entry_id
        await moved.wait_connected(2)  # the probe's, then the reader's
        await unload_meters(hass)
    finally:
        await meter.stop()
        await moved.stop()


@pytest.fixture
async def sagemcom(hass: HomeAssistant, socket_enabled: None) -> AsyncIterator[TcpMeter]:
    """An Austrian Sagemcom meter sending frames encrypted with KEY; it outlives the entries."""
    meter = TcpMeter(repeat=encrypt(telegram("sagemcom_t210_d_r.txt")))
    await meter.start()
    yield meter
    await unload_meters(hass)
    await meter.stop()


async def test_reconfigure_changes_the_key(hass: HomeAssistant, sagemcom: TcpMeter) -> None:
    """Reconfiguring an encrypted meter asks for its key; a wrong one may be corrected."""
    entry = network_entry(
        sagemcom.port, "SAGEMCOM_T210_D_R", unique_id=None, encryption_key=OLD_KEY
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    schema = result["data_schema"]
    assert schema is not None
    assert "encryption_key" in schema.schema
    connection = {"host": "127.0.0.1", "port": sagemcom.port}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**connection, "encryption_key": OLD_KEY}
    )
    assert (result["step_id"], result["errors"]) == ("reconfigure", {"base": "invalid_key"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**connection, "encryption_key": f" {KEY} "}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data["encryption_key"] == KEY
    assert entry.data["specification"] == "SAGEMCOM_T210_D_R"
    await until(hass, lambda: has_state(hass, ENERGY, "6545.766"))


@pytest.mark.allow_log(r"is unavailable: no valid telegram for 1\.5 s")
@pytest.mark.usefixtures("short_silence")
async def test_wrong_key_asks_for_the_new_one(
    hass: HomeAssistant, sagemcom: TcpMeter, issue_registry: ir.IssueRegistry
) -> None:
    """Telegrams that keep failing to decrypt: a repair says so and the new key is asked for."""
    entry = network_entry(
        sagemcom.port, "SAGEMCOM_T210_D_R", unique_id=None, encryption_key=OLD_KEY
    )
    await setup_entry(hass, entry)
    reader = entry.runtime_data.coordinator.reader
    assert reader is not None
    await until(hass, lambda: reader.stats.undecryptable >= 3)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=1))
    await hass.async_block_till_done()
    issue = issue_registry.async_get_issue(DOMAIN, f"no_telegrams_{entry.entry_id}")
    assert issue is not None
    assert (issue.translation_key, issue.severity) == ("wrong_key", ir.IssueSeverity.ERROR)
    assert issue.translation_placeholders == {
        "title": "Test meter",
        "port": f"127.0.0.1:{sagemcom.port}",
        "minutes": "10",
    }
    [flow] = entry.async_get_active_flows(hass, {SOURCE_REAUTH})
    assert flow["step_id"] == "reauth_confirm"
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {"encryption_key": OLD_KEY}
    )
    assert (result["step_id"], result["errors"]) == ("reauth_confirm", {"base": "invalid_key"})
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {"encryption_key": KEY}
    )
    assert result["reason"] == "reauth_successful"
    assert entry.data["encryption_key"] == KEY
    await until(hass, lambda: has_state(hass, ENERGY, "6545.766"))
    assert issue_registry.async_get_issue(DOMAIN, f"no_telegrams_{entry.entry_id}") is None
