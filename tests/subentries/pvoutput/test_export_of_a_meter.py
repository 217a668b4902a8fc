"""The PVOutput export in Home Assistant: flow, readings, sensors, restart, local PVOutput.

HA's clock is frozen at 12:02:30 in Amsterdam, well inside a 5-minute interval (one test
moves it to just after midnight); the export and the local PVOutput read it, and it moves
only when a test moves it. Tests wait on the export's notifications, not on time passing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.core import Recorder
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    RecorderInstanceContextManager,
)

from custom_components.smartmeter import async_remove_config_entry_device
from custom_components.smartmeter.const import DOMAIN
from custom_components.smartmeter.kinds.p1.setup import default_database_url
from custom_components.smartmeter.pvoutput import ExportState
from custom_components.smartmeter.store import Reading
from custom_components.smartmeter.store.store import ReadingStore
from custom_components.smartmeter.subentries.pvoutput.runtime import PVOutputRuntime, issue_id
from custom_components.smartmeter.subentries.pvoutput.source import (
    GenerationUnavailable,
    async_generation,
    meter_interval,
)
from tests.common import setup_entry, state_of
from tests.meters import telegram
from tests.pvoutput_server import PVOutputServer
from tests.subentries.pvoutput.test_runtime import (
    KEY,
    NEWEST,
    STEP,
    SYSTEM,
    export_subentry,
    export_until,
    freeze,
    move_to,
    store_state,
)

READ_ONLY_KEY = "r" * 40
METER = "E0012345678901234"


@pytest.fixture
def mock_recorder_before_hass(async_test_recorder: RecorderInstanceContextManager) -> None:
    """Prepare the recorder's database before hass exists, for the test that records."""


@pytest.fixture
async def newest(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> datetime:
    """Freeze HA's clock at 12:02:30 in Amsterdam; return the newest interval's end, 12:00."""
    await freeze(hass, freezer)
    return NEWEST


@pytest.fixture
async def server(
    newest: datetime, socket_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[PVOutputServer]:
    """A local PVOutput that the flow and the exports talk to."""
    server = PVOutputServer(now=dt_util.utcnow, zone=dt_util.get_default_time_zone())
    server.add_system(SYSTEM, "Zonnedak", status_interval=5)
    server.add_key(KEY, SYSTEM)
    server.add_key(READ_ONLY_KEY, SYSTEM, read_only=True)
    await server.start()
    monkeypatch.setattr("custom_components.smartmeter.subentries.pvoutput.flow.API_URL", server.url)
    monkeypatch.setattr(
        "custom_components.smartmeter.subentries.pvoutput.runtime.API_URL", server.url
    )
    yield server
    await server.close()


def meter_entry(**export: Any) -> MockConfigEntry:
    """Return a push-only meter, with a PVOutput export if export gives its settings."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Pushed meter",
        unique_id=METER,
        data={"connection_type": "push", "specification": "5"},
        subentries_data=[export_subentry(**export)] if export else [],
    )


def reading(
    at: datetime,
    delivered_wh: int,
    returned_wh: int,
    power_w: int,
    voltages: tuple[str | None, str | None, str | None] = (None, None, None),
) -> Reading:
    """Return a reading: positions from Wh (tariff 2 takes 37 of every 48), net power in W."""
    tariff_1 = delivered_wh * 11 // 48
    return Reading(
        timestamp=at,
        electricity_delivered_1=Decimal(1_000_000 + tariff_1).scaleb(-3),
        electricity_delivered_2=Decimal(2_000_000 + delivered_wh - tariff_1).scaleb(-3),
        electricity_returned_1=Decimal(50_000 + returned_wh).scaleb(-3),
        electricity_returned_2=Decimal(60_000).scaleb(-3),
        electricity_currently_delivered=Decimal(max(power_w, 0)).scaleb(-3),
        electricity_currently_returned=Decimal(max(-power_w, 0)).scaleb(-3),
        phase_voltage_l1=None if voltages[0] is None else Decimal(voltages[0]),
        phase_voltage_l2=None if voltages[1] is None else Decimal(voltages[1]),
        phase_voltage_l3=None if voltages[2] is None else Decimal(voltages[2]),
    )


async def store_readings(
    hass: HomeAssistant, entry: MockConfigEntry, readings: Iterable[Reading]
) -> None:
    """Put readings in the meter's database before the meter is set up."""

    def write() -> None:
        store = ReadingStore.open(
            default_database_url(hass, entry), time_zone=dt_util.get_default_time_zone()
        )
        try:
            store.writer.submit(METER, list(readings)).result()
        finally:
            store.close()

    await hass.async_add_executor_job(write)


async def start_export(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    entry: MockConfigEntry,
    readings: Iterable[Reading],
    last_uploaded: datetime,
) -> PVOutputRuntime:
    """Set the meter up with readings, its export continuing after last_uploaded."""
    await store_readings(hass, entry, readings)
    store_state(hass_storage, entry, ExportState(last_uploaded=last_uploaded))
    await setup_entry(hass, entry)
    (subentry_id,) = entry.runtime_data.subentries
    return export_of(entry, subentry_id)


def export_of(entry: MockConfigEntry, subentry_id: str) -> PVOutputRuntime:
    runtime = entry.runtime_data.subentries[subentry_id]
    assert isinstance(runtime, PVOutputRuntime)
    return runtime


def local(end: datetime) -> tuple[str, str]:
    """Return PVOutput's d and t of an interval end."""
    moment = end.astimezone(dt_util.get_default_time_zone())
    return moment.strftime("%Y%m%d"), moment.strftime("%H:%M")


def sensor_state(hass: HomeAssistant, subentry_id: str, key: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{subentry_id}_{key}")
    assert entity_id is not None
    return state_of(hass, entity_id)


async def test_add_export_through_the_flow(
    hass: HomeAssistant, server: PVOutputServer, newest: datetime
) -> None:
    entry = meter_entry()
    # Today's first reading, and one in the newest interval: 1234 Wh later, 567 W.
    await store_readings(
        hass,
        entry,
        [reading(newest - timedelta(minutes=20), 0, 0, 100), reading(newest, 1234, 0, 567)],
    )
    await setup_entry(hass, entry)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "pvoutput"), context={"source": SOURCE_USER}
    )
    assert (result["type"], result["step_id"]) == (FlowResultType.FORM, "user")
    flow_id = result["flow_id"]
    for api_key, system_id, error in [
        ("wrong", SYSTEM, "invalid_api_key"),
        (KEY, 999, "invalid_system_id"),
        (READ_ONLY_KEY, SYSTEM, "read_only_key"),
    ]:
        result = await hass.config_entries.subentries.async_configure(
            flow_id, {"api_key": api_key, "system_id": system_id}
        )
        assert result["errors"] == {"base": error}
    result = await hass.config_entries.subentries.async_configure(
        flow_id, {"api_key": KEY, "system_id": SYSTEM}
    )
    assert result["step_id"] == "settings"
    result = await hass.config_entries.subentries.async_configure(
        flow_id, {"upload_interval": "5", "upload_delay": 0, "voltage": False}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()  # the reload that starts the export
    assert server.accepted == []  # validation added nothing
    # The export starts with the newest interval: DSMR-reader's values.
    (subentry,) = entry.subentries.values()
    runtime = export_of(entry, subentry.subentry_id)
    await export_until(
        hass, runtime.exporter, lambda: runtime.exporter.state.last_success is not None
    )
    assert server.statuses(SYSTEM) == [(*local(newest), {"v3": "1234", "v4": "567", "n": "1"})]
    # Requests with a known key: validation of the read-only one and the right one; the status.
    assert server.requests == ["getsystem.jsp", "addstatus.jsp"] * 2 + ["addstatus.jsp"]
    # Its sensors are on a service device of the subentry, linked to the meter.
    registry = er.async_get(hass)
    entity_id = registry.async_get_entity_id("sensor", DOMAIN, f"{subentry.subentry_id}_waiting")
    assert entity_id is not None
    entity = registry.async_get(entity_id)
    assert entity is not None
    assert entity.config_subentry_id == subentry.subentry_id
    assert entity.entity_category is EntityCategory.DIAGNOSTIC
    devices = dr.async_get(hass)
    device = devices.async_get(entity.device_id or "")
    assert isinstance(device, dr.DeviceEntry)
    assert (device.name, device.entry_type) == ("PVOutput Zonnedak", dr.DeviceEntryType.SERVICE)
    meter = devices.async_get_device_by_identifier((DOMAIN, METER), entry.entry_id)
    assert meter is not None
    assert device.via_device_id == meter.id
    assert sensor_state(hass, subentry.subentry_id, "waiting") == "0"
    # The device goes with its export, never on its own (a telegram has come: M-Bus meters
    # it no longer carries could go).
    coordinator = entry.runtime_data.coordinator
    frame = telegram("v5.txt").decode()
    coordinator.update_entities(coordinator.decoder.decode(frame), frame)
    assert await async_remove_config_entry_device(hass, entry, device) is False
    await hass.config_entries.async_unload(entry.entry_id)


# The catch-up test's intervals 1 to 35 end at newest - 170 min ... newest; 3 has no reading.
MISSING = 3
COUNT = 35


def catch_up_readings(newest: datetime) -> list[Reading]:
    """Return the day's first reading and one per interval but MISSING.

    Interval i: 48 Wh delivered per interval since the first, net power 250 i - 2000 W; the
    reading is at the interval's end for i divisible by 3, up to a minute before otherwise.
    Voltages: three phases for odd i, one for even i, none for i divisible by 5.
    """
    first_end = newest - (COUNT - 1) * STEP
    readings = [reading(first_end - timedelta(minutes=10), 0, 0, 999)]
    for i in range(1, COUNT + 1):
        if i == MISSING:
            continue
        end = first_end + (i - 1) * STEP
        voltages: tuple[str | None, str | None, str | None] = (
            (None, None, None)
            if i % 5 == 0
            else ("230.1", "229.9", "231.2")
            if i % 2
            else (None, "231.0", None)
        )
        at = end - timedelta(seconds=20 * (i % 3))
        readings.append(reading(at, 48 * i, 7 * i, 250 * i - 2000, voltages))
    # A later reading of interval 2 is the one that counts.
    readings.append(reading(first_end + STEP - timedelta(seconds=5), 100, 0, 1))
    return readings


def expected_catch_up(newest: datetime, numbers: Iterable[int]) -> list[Any]:
    """Return the statuses of the catch-up test's intervals."""
    first_end = newest - (COUNT - 1) * STEP
    statuses = []
    for i in numbers:
        values = {"v3": str(48 * i), "v4": str(250 * i - 2000)}
        if i == 2:
            values = {"v3": "100", "v4": "1"}  # the later reading, without voltages
        elif i % 5:
            values["v6"] = "230.4" if i % 2 else "231.0"
        statuses.append((*local(first_end + (i - 1) * STEP), values | {"n": "1"}))
    return statuses


async def test_catch_up_restart_and_sensors(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    server: PVOutputServer,
    freezer: FrozenDateTimeFactory,
    hass_client: ClientSessionGenerator,  # after the clock froze: its token is valid then
) -> None:
    entry = meter_entry(voltage=True)
    # HA was off for the 35 intervals: the export continues where it was.
    runtime = await start_export(
        hass, hass_storage, entry, catch_up_readings(NEWEST), NEWEST - COUNT * STEP
    )
    subentry_id = runtime.subentry.subentry_id
    # A first batch of 30 statuses (interval 3 passed over), oldest first; then HA restarts.
    # Until PVOutput's answer is taken: the cursor is at interval 31 (the rest would follow
    # 10 s later: the clock stands still).
    await export_until(
        hass, runtime.exporter, lambda: runtime.exporter.state.last_uploaded == NEWEST - 4 * STEP
    )
    first_batch = [number for number in range(1, 32) if number != MISSING]
    assert server.statuses(SYSTEM) == expected_catch_up(NEWEST, first_batch)
    assert server.requests == ["addbatchstatus.jsp"]
    assert sensor_state(hass, subentry_id, "waiting") == "4"
    assert sensor_state(hass, subentry_id, "last_error") == "unknown"
    first_success = runtime.status().last_success
    assert first_success is not None
    assert sensor_state(hass, subentry_id, "last_upload") == first_success.isoformat(
        timespec="seconds"
    )
    assert await hass.config_entries.async_reload(entry.entry_id)
    runtime = export_of(entry, subentry_id)
    await export_until(hass, runtime.exporter, lambda: len(server.accepted) == 34)
    # The rest once each, in one more batch.
    assert server.statuses(SYSTEM)[30:] == expected_catch_up(NEWEST, range(32, 36))
    assert server.requests == ["addbatchstatus.jsp"] * 2
    await export_until(
        hass, runtime.exporter, lambda: runtime.exporter.state.last_uploaded == NEWEST
    )
    assert sensor_state(hass, subentry_id, "waiting") == "0"
    # Diagnostics tell how the export is doing, without its key.
    assert await async_setup_component(hass, "diagnostics", {})
    client = await hass_client()
    response = await client.get(f"/api/diagnostics/config_entry/{entry.entry_id}")
    assert response.status == 200
    text = await response.text()
    assert KEY not in text
    export = (await response.json())["data"]["pvoutput"][subentry_id]
    assert export["settings"]["api_key"] == "**REDACTED**"
    assert export["settings"]["system_id"] == SYSTEM
    assert export["status"]["waiting"] == 0
    assert export["status"]["last_uploaded"] == NEWEST.isoformat()
    assert export["status"]["rate_limit"]["remaining"] == 58
    await hass.config_entries.async_unload(entry.entry_id)
    # Nothing is sent again after a restart that finds nothing new: at 12:05 the next
    # interval's reading is the one status more.
    await store_readings(hass, entry, [reading(NEWEST + timedelta(minutes=4), 2000, 0, 321)])
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    runtime = export_of(entry, subentry_id)
    move_to(hass, freezer, NEWEST + STEP)
    await export_until(hass, runtime.exporter, lambda: len(server.accepted) > 34)
    assert len(server.accepted) == 35
    assert server.statuses(SYSTEM)[34] == (
        *local(NEWEST + STEP),
        {"v3": "2000", "v4": "321", "n": "1"},
    )
    assert server.requests == ["addbatchstatus.jsp"] * 2 + ["addstatus.jsp"]
    await hass.config_entries.async_unload(entry.entry_id)


async def test_intervals_around_local_midnight(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    server: PVOutputServer,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The 00:00 status closes the day before; the new day counts from its own first reading."""
    midnight = datetime(2026, 6, 15, 22, 0, tzinfo=UTC)  # 16 June, 00:00 in Amsterdam
    freezer.move_to(midnight + timedelta(minutes=7, seconds=30))
    entry = meter_entry(voltage=False)
    # 15 June's first reading at 14:00; then one in each interval from 23:50 to 00:05, the
    # one of 00:00 exactly at midnight: the last of the 15th and the first of the 16th.
    readings = [reading(midnight - timedelta(hours=10), 0, 0, 100)] + [
        reading(midnight + timedelta(minutes=minutes), delivered, 0, power)
        for minutes, delivered, power in [
            (-11, 100, 110),
            (-6, 200, 120),
            (0, 300, 130),
            (4, 400, 140),
        ]
    ]
    runtime = await start_export(hass, hass_storage, entry, readings, midnight - 3 * STEP)
    # Net statuses in one batch share their date: 23:50 and 23:55 first ...
    await export_until(hass, runtime.exporter, lambda: len(server.accepted) == 2)
    assert server.statuses(SYSTEM) == [
        ("20260615", "23:50", {"v3": "100", "v4": "110", "n": "1"}),
        ("20260615", "23:55", {"v3": "200", "v4": "120", "n": "1"}),
    ]
    # ... then, PVOutput's 10 s later, 00:00 with the 15th's total and 00:05 with the 16th's.
    move_to(hass, freezer, midnight + timedelta(minutes=7, seconds=40))
    await export_until(hass, runtime.exporter, lambda: len(server.accepted) == 4)
    assert server.statuses(SYSTEM)[2:] == [
        ("20260616", "00:00", {"v3": "300", "v4": "130", "n": "1"}),
        ("20260616", "00:05", {"v3": "100", "v4": "140", "n": "1"}),
    ]
    assert server.requests == ["addbatchstatus.jsp"] * 2
    await hass.config_entries.async_unload(entry.entry_id)


async def test_generation_from_recorded_sensors(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    server: PVOutputServer,
    newest: datetime,
) -> None:
    entry = meter_entry(
        generation_energy="sensor.solar_energy", generation_power="sensor.solar_power"
    )
    ends = [newest - (4 - i) * STEP for i in range(1, 5)]  # intervals 1 to 4
    zone = dt_util.get_default_time_zone()
    day_start = datetime.combine(newest.astimezone(zone).date(), time(0), tzinfo=zone)
    energy: list[tuple[datetime, str, str | None]] = [
        (day_start - timedelta(hours=1), "12.345", "kWh"),  # yesterday's total of a daily sensor
        (day_start + timedelta(minutes=1), "0.000", "kWh"),  # its reset
        (ends[0] - timedelta(minutes=2), "1.5", "kWh"),
        (ends[0] - timedelta(minutes=1), "1499", "Wh"),  # a dip, not a reset
        (ends[1] - timedelta(minutes=2), "1.75", "kWh"),
        (ends[2] - timedelta(minutes=2), "5", None),  # no unit: not a value
        (ends[2] - timedelta(minutes=1), "unavailable", None),
        (ends[3] - timedelta(minutes=3), "0.002", "MWh"),
    ]
    power: list[tuple[datetime, str, str | None]] = [
        (ends[0] - timedelta(minutes=3), "1.234", "kW"),
        (ends[1], "800", "W"),  # exactly at the interval's end
        (ends[3] - timedelta(minutes=1), "-3", "W"),  # an inverter at night
    ]
    for entity_id, states in [("sensor.solar_energy", energy), ("sensor.solar_power", power)]:
        for at, value, unit in states:
            attributes = {"unit_of_measurement": unit} if unit else {}
            hass.states.async_set(entity_id, value, attributes, timestamp=at.timestamp())
    await async_wait_recording_done(hass)
    # Net powers 300, -500, 0 and 100 W; 48 Wh delivered and 20 returned per interval.
    net = [300, -500, 0, 100]
    readings = [reading(ends[0] - timedelta(minutes=30), 0, 0, 0)] + [
        reading(end - timedelta(seconds=30), 48 * i, 20 * i, net[i - 1])
        for i, end in enumerate(ends, start=1)
    ]
    runtime = await start_export(hass, hass_storage, entry, readings, newest - 4 * STEP)
    await export_until(hass, runtime.exporter, lambda: len(server.accepted) == 3)
    # Gross statuses (no n): generation v1 and v2, the home's use v3 = 48 i - 20 i + v1 and
    # v4 = net + v2. Interval 3 has no generation energy (unavailable) and is passed over.
    assert server.statuses(SYSTEM) == [
        (*local(ends[0]), {"v1": "1500", "v2": "1234", "v3": "1528", "v4": "1534"}),
        (*local(ends[1]), {"v1": "1750", "v2": "800", "v3": "1806", "v4": "300"}),
        (*local(ends[3]), {"v1": "2000", "v2": "0", "v3": "2112", "v4": "100"}),
    ]
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.allow_log(r"^PVOutput refuses the export .*Donation Mode")
async def test_donation_only_parameter_raises_a_repair_issue(
    hass: HomeAssistant, server: PVOutputServer, newest: datetime
) -> None:
    # Set up while the account donated; it does no longer.
    entry = meter_entry(processing_delay=30, donor=True)
    await store_readings(
        hass,
        entry,
        [reading(newest - timedelta(minutes=9), 0, 0, 0), reading(newest, 10, 0, 20)],
    )
    await setup_entry(hass, entry)
    (subentry_id,) = entry.subentries
    issues = ir.async_get(hass)
    runtime = export_of(entry, subentry_id)
    await export_until(
        hass,
        runtime.exporter,
        lambda: issues.async_get_issue(DOMAIN, f"pvoutput_{subentry_id}") is not None,
    )
    issue = issues.async_get_issue(DOMAIN, issue_id(entry.subentries[subentry_id]))
    assert issue is not None
    assert (issue.translation_key, issue.severity) == (
        "pvoutput_donation_required",
        ir.IssueSeverity.ERROR,
    )
    assert issue.translation_placeholders == {"title": "PVOutput Zonnedak"}
    assert server.accepted == []
    # The interval waits for the user; the sensors say why.
    await hass.async_block_till_done()
    assert sensor_state(hass, subentry_id, "last_error") == (
        "HTTP 403: Forbidden 403: Donation Mode"
    )
    assert sensor_state(hass, subentry_id, "waiting") == "1"
    assert sensor_state(hass, subentry_id, "last_upload") == "unknown"
    await hass.config_entries.async_unload(entry.entry_id)
    assert issues.async_get_issue(DOMAIN, f"pvoutput_{subentry_id}") is None


async def test_meter_source_without_data(hass: HomeAssistant, newest: datetime) -> None:
    """No reading in an interval, or none today: no data, so the interval waits."""
    entry = meter_entry()
    await store_readings(hass, entry, [reading(newest - timedelta(minutes=7), 0, 0, 5)])
    await setup_entry(hass, entry)
    store = entry.runtime_data.store
    day_start = newest - timedelta(hours=1)
    found = partial(meter_interval, store, METER, day_start, voltage=True)
    assert await hass.async_add_executor_job(found, newest - STEP, newest) is None
    data = await hass.async_add_executor_job(found, newest - 2 * STEP, newest - STEP)
    assert data is not None
    assert (data.energy_consumed_wh, data.net_power_w, data.voltage) == (0, 5, None)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_generation_without_the_recorder(hass: HomeAssistant, newest: datetime) -> None:
    """Without its history generation is unknown: an error the export shows, not a guess."""
    with pytest.raises(GenerationUnavailable, match="recorder"):
        await async_generation(
            hass, "sensor.solar_energy", "sensor.solar_power", newest - STEP, newest
        )
