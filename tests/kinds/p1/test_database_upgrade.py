"""A meter's database of an earlier release is upgraded on setup, with its progress shown."""

from __future__ import annotations

from decimal import Decimal

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
import pytest

from custom_components.smartmeter.const import DOMAIN
from custom_components.smartmeter.kinds.p1.coordinator import entry_meter_id
from custom_components.smartmeter.kinds.p1.setup import _upgrade_progress
from custom_components.smartmeter.store import migrations
from custom_components.smartmeter.store.model import reading_to_row
from tests.common import network_entry, setup_entry
from tests.meters import TcpMeter
from tests.store.test_database import reading
from tests.store.versions import database_at_version


def kwh(minute: int) -> str:
    """Return the position of the reading of a minute: 1 Wh more each minute."""
    return str(Decimal(1000 + minute).scaleb(-3))


async def test_version_4_database_is_upgraded_with_progress(
    hass: HomeAssistant,
    tcp_meter: TcpMeter,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(migrations, "COPY_CHUNK", 10)
    entry = network_entry(tcp_meter.port)
    meter = entry_meter_id(entry)
    path = hass.config.path(f"smartmeter_{entry.entry_id}.db")
    rows = [reading_to_row(meter, reading(minute, kwh(minute))) for minute in range(25)]
    await hass.async_add_executor_job(database_at_version, f"sqlite:///{path}", 4, rows)
    issue_id = f"database_upgrade_{entry.entry_id}"
    shown: list[tuple[str, str | None]] = []

    @callback
    def issue_changed(event: Event[ir.EventIssueRegistryUpdatedData]) -> None:
        if event.data["issue_id"] != issue_id:
            return
        issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
        placeholders = {} if issue is None else issue.translation_placeholders or {}
        shown.append((event.data["action"], placeholders.get("percent")))

    hass.bus.async_listen(ir.EVENT_REPAIRS_ISSUE_REGISTRY_UPDATED, issue_changed)

    await setup_entry(hass, entry)

    assert entry.state is ConfigEntryState.LOADED
    # A chunk of 10 readings at a time, each whole percent shown once, gone when done.
    assert shown == [("create", "40"), ("update", "80"), ("update", "100"), ("remove", None)]
    assert [
        record.getMessage() for record in caplog.records if "Upgrading" in record.getMessage()
    ] == [
        f"Upgrading the reading database of Test meter: {percent} % copied"
        for percent in (40, 80, 100)
    ]
    store = entry.runtime_data.store
    count, readings = await hass.async_add_executor_job(
        lambda: store.list_readings(meter, limit=100)
    )
    assert count == 25
    assert [(r.id, str(r.electricity_delivered_1)) for r in readings] == [
        (minute + 1, kwh(minute)) for minute in range(25)
    ]


async def test_progress_shows_each_whole_percent_once(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    entry = network_entry(1)
    entry.add_to_hass(hass)
    progress = _upgrade_progress(hass, entry)

    for copied in (1, 9, 10, 19, 1000):
        await hass.async_add_executor_job(progress, copied, 1000)

    assert [
        record.getMessage() for record in caplog.records if "Upgrading" in record.getMessage()
    ] == [f"Upgrading the reading database of Test meter: {n} % copied" for n in (0, 1, 100)]
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"database_upgrade_{entry.entry_id}")
    assert issue is not None
    assert issue.translation_placeholders == {"title": "Test meter", "percent": "100"}
