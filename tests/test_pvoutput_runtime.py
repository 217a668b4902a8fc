"""A PVOutput export subentry running in Home Assistant, against the local PVOutput."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smartmeter.const import DOMAIN
from custom_components.smartmeter.pvoutput import ExportState, IntervalData
from custom_components.smartmeter.pvoutput.schedule import ExportSettings, newest_due
from custom_components.smartmeter.pvoutput_runtime import async_start_pvoutput, issue_id
from tests.pvoutput_server import PVOutputServer

from .common import until

KEY = "a" * 40
SYSTEM = 12345


async def source(end: datetime) -> IntervalData:
    """Consumption of 1 Wh per minute of the day, 250 W."""
    return IntervalData(
        energy_consumed_wh=int(end.timestamp() // 60) % 1440,
        energy_returned_wh=0,
        net_power_w=250,
    )


@pytest.fixture
async def server(hass: HomeAssistant, socket_enabled: None) -> AsyncIterator[PVOutputServer]:
    server = PVOutputServer(now=lambda: datetime.now(UTC), zone=dt_util.get_default_time_zone())
    server.add_system(SYSTEM)
    server.add_key(KEY, SYSTEM)
    await server.start()
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


async def test_export_continues_from_the_stored_state(
    hass: HomeAssistant, hass_storage: dict[str, Any], server: PVOutputServer
) -> None:
    entry = add_entry(hass)
    (subentry,) = entry.subentries.values()
    key = f"smartmeter.pvoutput.{subentry.subentry_id}"
    newest = newest_due(datetime.now(UTC), ExportSettings(), dt_util.get_default_time_zone())
    last_uploaded = newest - timedelta(minutes=15)
    stored = ExportState(last_uploaded=last_uploaded)
    hass_storage[key] = {"version": 1, "key": key, "data": stored.as_dict()}
    runtime = await async_start_pvoutput(hass, entry, subentry, source, base_url=server.url)
    await until(hass, lambda: len(server.accepted) >= 3)
    sent = [(status.date, status.time) for status in server.accepted]
    first = last_uploaded + timedelta(minutes=5)
    assert sent[0] == local(first)
    # Oldest first, each once, in one batch (and one more if a new interval began meanwhile).
    assert sent == [local(first + timedelta(minutes=5 * n)) for n in range(len(sent))]
    assert server.requests[0] == "addbatchstatus.jsp"
    await runtime.stop()
    saved = ExportState.from_dict(hass_storage[key]["data"])
    assert saved.last_uploaded == first + timedelta(minutes=5 * (len(sent) - 1))
    assert saved.last_success is not None
    await runtime.stop()  # stopping twice is harmless


@pytest.mark.allow_log(
    r"^Starting the PVOutput export afresh", r"^PVOutput refuses the export .*Donation Mode"
)
async def test_refusal_raises_a_repair_issue(
    hass: HomeAssistant, hass_storage: dict[str, Any], server: PVOutputServer
) -> None:
    entry = add_entry(hass, processing_delay=30, donor=True)
    (subentry,) = entry.subentries.values()
    key = f"smartmeter.pvoutput.{subentry.subentry_id}"
    hass_storage[key] = {"version": 1, "key": key, "data": {"version": 99}}
    runtime = await async_start_pvoutput(hass, entry, subentry, source, base_url=server.url)
    # The unreadable state is replaced by a fresh one, donor as the flow found.
    assert runtime.exporter.state.donor is True
    registry = ir.async_get(hass)
    await until(hass, lambda: registry.async_get_issue(DOMAIN, issue_id(subentry)) is not None)
    issue = registry.async_get_issue(DOMAIN, issue_id(subentry))
    assert issue is not None
    assert issue.translation_key == "pvoutput_donation_required"
    assert issue.translation_placeholders == {"title": "PVOutput Zonnedak"}
    assert server.accepted == []
    # The account donates; the next attempt (an hour later) works and clears the issue.
    server.keys[KEY].donor = True
    runtime.exporter._retry_at = None
    await runtime.exporter.step()
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
