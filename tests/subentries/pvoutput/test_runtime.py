"""A PVOutput export subentry running in Home Assistant, against the local PVOutput.

HA's clock is frozen at NOW, mid-interval, in Amsterdam: the export and the local PVOutput
read it, and it moves only when a test moves it (the event loop's clock freezes with it).
Tests wait on the export's own notifications, never on the time passing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.smartmeter.const import DOMAIN
from custom_components.smartmeter.pvoutput import ExportState, IntervalData, PVOutputExporter
from custom_components.smartmeter.subentries.pvoutput.runtime import async_run_export, issue_id
from tests.pvoutput_server import PVOutputServer

KEY = "a" * 40
SYSTEM = 12345
ZONE = "Europe/Amsterdam"
# 12:02:30 in Amsterdam (summer time): the newest 5-minute interval ends at 12:00.
NOW = datetime(2026, 6, 15, 10, 2, 30, tzinfo=UTC)
NEWEST = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)
STEP = timedelta(minutes=5)


async def source(end: datetime) -> IntervalData:
    """Consumption of 1 Wh per minute of the UTC day, 250 W."""
    return IntervalData(
        energy_consumed_wh=int(end.timestamp() // 60) % 1440,
        energy_returned_wh=0,
        net_power_w=250,
    )


async def freeze(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Freeze HA's clock at NOW, in Amsterdam."""
    freezer.move_to(NOW)
    await hass.config.async_set_time_zone(ZONE)


def move_to(hass: HomeAssistant, freezer: FrozenDateTimeFactory, moment: datetime) -> None:
    """Move HA's frozen clock on to moment and fire the timers due by then."""
    freezer.move_to(moment)
    async_fire_time_changed(hass)


async def export_until(
    hass: HomeAssistant, exporter: PVOutputExporter, condition: Callable[[], bool]
) -> None:
    """Wait until condition holds, checked whenever the export's state or status changes.

    With time frozen a wait cannot count on the clock; one that never ends fails at the
    test timeout.
    """
    held = hass.loop.create_future()

    def check() -> None:
        if not held.done() and condition():
            held.set_result(None)

    remove = exporter.add_listener(check)
    try:
        check()
        await held
    finally:
        remove()
    await hass.async_block_till_done()


@pytest.fixture
async def server(
    hass: HomeAssistant,
    socket_enabled: None,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[PVOutputServer]:
    """A local PVOutput on HA's clock, frozen at NOW, which the exports upload to."""
    await freeze(hass, freezer)
    server = PVOutputServer(now=dt_util.utcnow, zone=dt_util.get_default_time_zone())
    server.add_system(SYSTEM)
    server.add_key(KEY, SYSTEM)
    await server.start()
    monkeypatch.setattr(
        "custom_components.smartmeter.subentries.pvoutput.runtime.API_URL", server.url
    )
    yield server
    await server.close()


def export_subentry(**settings: Any) -> dict[str, Any]:
    """Return a PVOutput export's subentry data for a MockConfigEntry, with these settings."""
    return {
        "data": {
            "api_key": KEY,
            "system_id": SYSTEM,
            "upload_interval": "5",
            "upload_delay": 0,
            "voltage": False,
            "donor": False,
            **settings,
        },
        "subentry_type": "pvoutput",
        "title": "PVOutput Zonnedak",
        "unique_id": str(SYSTEM),
    }


def add_entry(hass: HomeAssistant, **data: Any) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Test meter",
        data={"connection_type": "network", "host": "127.0.0.1", "port": 1},
        subentries_data=[export_subentry(**data)],
    )
    entry.add_to_hass(hass)
    return entry


def local(end: datetime) -> tuple[str, str]:
    moment = end.astimezone(dt_util.get_default_time_zone())
    return moment.strftime("%Y%m%d"), moment.strftime("%H:%M")


def store_state(hass_storage: dict[str, Any], entry: MockConfigEntry, state: ExportState) -> str:
    """Give the entry's export a stored state; return its storage key."""
    (subentry_id,) = entry.subentries
    key = f"smartmeter.pvoutput.{subentry_id}"
    hass_storage[key] = {"version": 1, "minor_version": 2, "key": key, "data": state.as_dict()}
    return key


async def test_export_continues_from_the_stored_state(
    hass: HomeAssistant, hass_storage: dict[str, Any], server: PVOutputServer
) -> None:
    entry = add_entry(hass)
    (subentry,) = entry.subentries.values()
    last_uploaded = NEWEST - timedelta(minutes=15)
    key = store_state(hass_storage, entry, ExportState(last_uploaded=last_uploaded))
    runtime = await async_run_export(hass, entry, subentry, source)
    await export_until(hass, runtime.exporter, lambda: len(server.accepted) >= 3)
    sent = [(status.date, status.time) for status in server.accepted]
    first = last_uploaded + timedelta(minutes=5)
    assert sent[0] == local(first)
    # Oldest first, each once, in one batch.
    assert sent == [local(first + timedelta(minutes=5 * n)) for n in range(3)]
    assert server.requests == ["addbatchstatus.jsp"]
    await runtime.stop()
    saved = ExportState.from_dict(hass_storage[key]["data"])
    assert saved.last_uploaded == NEWEST
    assert saved.last_success == NOW
    await runtime.stop()  # stopping twice is harmless


async def test_export_continues_from_a_state_an_older_release_saved(
    hass: HomeAssistant, hass_storage: dict[str, Any], server: PVOutputServer
) -> None:
    """A state of store version 1.1 (its version inside) is brought up to 1.2, not dropped."""
    entry = add_entry(hass)
    (subentry,) = entry.subentries.values()
    key = f"smartmeter.pvoutput.{subentry.subentry_id}"
    old = {**ExportState(last_uploaded=NEWEST, donor=True).as_dict(), "version": 1}
    hass_storage[key] = {"version": 1, "key": key, "data": old}
    runtime = await async_run_export(hass, entry, subentry, source)
    assert runtime.exporter.state == ExportState(last_uploaded=NEWEST, donor=True)
    await runtime.async_stop()
    saved = hass_storage[key]
    assert (saved["version"], saved["minor_version"]) == (1, 2)
    assert saved["data"] == ExportState(last_uploaded=NEWEST, donor=True).as_dict()


async def test_export_wakes_on_home_assistant_clock(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    server: PVOutputServer,
    freezer: FrozenDateTimeFactory,
) -> None:
    entry = add_entry(hass)
    (subentry,) = entry.subentries.values()
    store_state(hass_storage, entry, ExportState(last_uploaded=NEWEST))
    runtime = await async_run_export(hass, entry, subentry, source)
    await hass.async_block_till_done()
    # Nothing is due before 12:05:00; then the interval ending at 12:05 goes at once.
    move_to(hass, freezer, NEWEST + STEP)
    await export_until(hass, runtime.exporter, lambda: len(server.accepted) == 1)
    assert server.statuses(SYSTEM) == [
        (*local(NEWEST + STEP), {"v3": "605", "v4": "250", "n": "1"})
    ]
    assert server.requests == ["addstatus.jsp"]
    assert runtime.status().last_success == NEWEST + STEP
    # The next one at 12:10:00, the time PVOutput has (not the time the test took).
    move_to(hass, freezer, NEWEST + 2 * STEP)
    await export_until(hass, runtime.exporter, lambda: len(server.accepted) == 2)
    assert server.statuses(SYSTEM)[1] == (
        *local(NEWEST + 2 * STEP),
        {"v3": "610", "v4": "250", "n": "1"},
    )
    # Stopped while it sleeps: its timer goes with it (HA's harness fails lingering timers).
    await runtime.stop()
    move_to(hass, freezer, NEWEST + 3 * STEP)
    await hass.async_block_till_done()
    assert server.requests == ["addstatus.jsp"] * 2


@pytest.mark.allow_log(
    r"^Starting the PVOutput export afresh", r"^PVOutput refuses the export .*Donation Mode"
)
async def test_refusal_raises_a_repair_issue(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    server: PVOutputServer,
    freezer: FrozenDateTimeFactory,
) -> None:
    entry = add_entry(hass, processing_delay=30, donor=True)
    (subentry,) = entry.subentries.values()
    key = f"smartmeter.pvoutput.{subentry.subentry_id}"
    hass_storage[key] = {"version": 1, "minor_version": 2, "key": key, "data": {"donor": "yes"}}
    runtime = await async_run_export(hass, entry, subentry, source)
    # The unreadable state is replaced by a fresh one, donor as the flow found.
    assert runtime.exporter.state.donor is True
    registry = ir.async_get(hass)
    await export_until(
        hass,
        runtime.exporter,
        lambda: registry.async_get_issue(DOMAIN, issue_id(subentry)) is not None,
    )
    issue = registry.async_get_issue(DOMAIN, issue_id(subentry))
    assert issue is not None
    assert issue.translation_key == "pvoutput_donation_required"
    assert issue.translation_placeholders == {"title": "PVOutput Zonnedak"}
    assert server.accepted == []
    # The account donates; the next attempt, an hour later, works and clears the issue.
    server.keys[KEY].donor = True
    move_to(hass, freezer, NOW + timedelta(hours=1))
    await export_until(hass, runtime.exporter, lambda: len(server.accepted) == 1)
    assert server.accepted[0].values["delay"] == "30"
    assert registry.async_get_issue(DOMAIN, issue_id(subentry)) is None
    diagnostics = runtime.diagnostics()
    assert diagnostics["settings"]["api_key"] == "**REDACTED**"
    assert diagnostics["settings"]["system_id"] == SYSTEM
    status = diagnostics["status"]
    assert (status["problem"], status["donor"], status["rejected"]) == (None, True, 0)
    assert status["last_error"] == "HTTP 403: Forbidden 403: Donation Mode"
    assert status["rate_limit"]["limit"] == 300
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    assert ExportState.from_dict(hass_storage[key]["data"]).last_success is not None
