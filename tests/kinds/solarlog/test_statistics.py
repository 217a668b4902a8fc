"""A plant's long-term statistics in the real recorder: backfill, 5-minute hours, late data.

The expected rows are the simulated plant's own values: each UTC hour's 5-minute energies
added up (rounded to the Wh, as filed), and before the first week read, each day's energy at
its first hour (from the month calls of the backfill).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.core import Recorder
from homeassistant.core import HomeAssistant
import pytest

from solarlog_simulator import PortalSimulator
from tests.common import statistic_rows
from tests.enerest import INSTALLED, PLANT_ID, POLL, TODAY, local, move_on, plant_entry, setup_plant

STATISTIC = f"smartmeter:solarlog_{PLANT_ID.replace('-', '_')}_solar_production"
SLOT = timedelta(minutes=5)
HOUR = timedelta(hours=1)
# The first local day of 5-minute values read at the first start (a week, today's included).
FIRST_DAY = TODAY - timedelta(days=6)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_db_url: str, integration_log_is_clean: None, enable_custom_integrations: None
) -> None:
    """Prepare the recorder's database before hass starts."""


async def rows(hass: HomeAssistant) -> list[tuple[datetime, float]]:
    """Return (start, sum) of the solar production's rows."""
    return [
        (datetime.fromtimestamp(row["start"], UTC), row["sum"] or 0.0)
        for row in await statistic_rows(hass, STATISTIC)
    ]


def energy(enerest: PortalSimulator, start: datetime, end: datetime, until: datetime) -> Decimal:
    """Return the plant's production of the 5-minute slots from start to end, up to until."""
    plant = enerest.plants[PLANT_ID]
    total = Decimal(0)
    slot = start
    while slot < end and slot + SLOT <= until:
        total += plant.value("ProdEtotal", None, slot) or Decimal(0)
        slot += SLOT
    return total


def expected_rows(enerest: PortalSimulator, until: datetime) -> list[tuple[datetime, float]]:
    """Return the rows a plant started at NOW should have, its logger having sent to until."""
    increments: list[tuple[datetime, int]] = []
    day = INSTALLED
    while day < FIRST_DAY:
        start = local(day, 0)
        wh = energy(enerest, start, local(day + timedelta(days=1), 0), until)
        increments.append((start, int(wh.to_integral_value())))
        day += timedelta(days=1)
    hour = local(FIRST_DAY, 0)
    while hour + SLOT <= until:
        wh = energy(enerest, hour, hour + HOUR, until)
        increments.append((hour, int(wh.to_integral_value())))
        hour += HOUR
    total = 0
    found = []
    for start, filed in increments:
        total += filed
        found.append((start, total / 1000))
    return found


async def test_backfill_then_hours_of_5_minute_values(
    recorder_mock: Recorder, hass: HomeAssistant, enerest: PortalSimulator
) -> None:
    """Days from the installation (a month per call), then a week's hours, gap-free."""
    await setup_plant(hass, plant_entry(enerest))
    found = await rows(hass)
    assert found == expected_rows(enerest, local(TODAY, 12))
    # 20 April to 8 June a day a row, then 9 June 00:00 to 15 June 12:00 an hour a row.
    assert len(found) == 50 + 6 * 24 + 12
    assert found[0][0] == datetime(2026, 4, 19, 22, tzinfo=UTC)
    # The backfill asked for the lifetime, 2026's months and three months' days: no day calls.
    history = [call.rsplit(PLANT_ID, 1)[1] for call in enerest.calls if "visualization" in call]
    assert history.count("/channels") == 2  # today's, and the MPP trackers'
    assert [call for call in history if "/year/" in call or "lifetime" in call] == [
        "/year/2026/month/6",
        "/year/2026",
        "/lifetime",
        "/lifetime",
        "/year/2026",
        "/year/2026/month/4",
        "/year/2026/month/5",
        "/year/2026/month/6",
    ]


async def test_late_transfers_fill_the_hours_they_belong_to(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    enerest: PortalSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The logger sent nothing since yesterday 15:30; what it sends late lands in its hours."""
    held = local(TODAY - timedelta(days=1), 15, 30)
    enerest.plants[PLANT_ID].held_until = held
    await setup_plant(hass, plant_entry(enerest))
    assert await rows(hass) == expected_rows(enerest, held)
    # Yesterday 15:00's hour has its first half only.
    assert (await rows(hass))[-1][0] == local(TODAY - timedelta(days=1), 15)
    enerest.plants[PLANT_ID].held_until = None
    await move_on(hass, freezer, POLL)
    now = local(TODAY, 12, 5)
    assert await rows(hass) == expected_rows(enerest, now)
    assert (await rows(hass))[-1][0] == local(TODAY, 12)  # 12:00-12:05 is in


@pytest.mark.parametrize(("days", "calls"), [(3, 2), (40, 3)])
@pytest.mark.usefixtures("recorder_mock")
async def test_a_restart_reads_every_hour_since_the_newest_kept(
    hass: HomeAssistant,
    enerest: PortalSimulator,
    freezer: FrozenDateTimeFactory,
    days: int,
    calls: int,
) -> None:
    """Off for days, the plant reads them again hour by hour, 31 days a call; no backfill.

    The plant-level calls: 40 days off, 15 June to 15 July and 16 to 25 July; then the MPP
    trackers' call.
    """
    entry = plant_entry(enerest)
    await setup_plant(hass, entry)
    assert await hass.config_entries.async_unload(entry.entry_id)
    freezer.tick(timedelta(days=days))
    enerest.calls.clear()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    channels = f"/visualization/plant/{PLANT_ID}/channels"
    assert sum(call == channels for call in enerest.calls) == calls
    assert not [call for call in enerest.calls if "/month/4" in call or "/month/5" in call]
    assert await rows(hass) == expected_rows(enerest, local(TODAY + timedelta(days=days), 12))
