"""The simulated Enerest portal the Solar-Log tests talk to, and its fixed clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.smartmeter.const import DOMAIN
from solarlog_simulator import ADVANCED, PortalSimulator, SimulatedPlant

PORTAL = "solarcompany"
CLIENT_ID = "client-1"
SECRET = "s3cret"
PLANT_ID = "3f1c9a2e-5b7d-4e8f-a1c2-d3e4f5a6b7c8"
ZONE = ZoneInfo("Europe/Amsterdam")
# 12:02:30 in Amsterdam (summer time), a Monday; the plant started on 20 April.
NOW = datetime(2026, 6, 15, 10, 2, 30, tzinfo=UTC)
TODAY = date(2026, 6, 15)
INSTALLED = date(2026, 4, 20)
# The coordinator's interval, and the second by which its timer may lie beyond it.
POLL = timedelta(minutes=5, seconds=1)


class Clock:
    """A clock that moves only when told."""

    def __init__(self, at: datetime = NOW) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def move(self, by: timedelta) -> None:
        self.at += by


def portal(
    now: Callable[[], datetime], *, package: str = ADVANCED, **plant: object
) -> PortalSimulator:
    """Return a portal with the test plant and its user's client (not started)."""
    simulated = PortalSimulator(PORTAL, now=now)
    simulated.add_plant(SimulatedPlant(PLANT_ID, installed=INSTALLED, **plant))  # type: ignore[arg-type]
    simulated.add_client(CLIENT_ID, SECRET, package=package, plants=[PLANT_ID])
    return simulated


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """Return a local time of the plant's as UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE).astimezone(UTC)


def set_points(
    simulated: PortalSimulator,
    channel: str,
    points: dict[datetime, str | None],
    device: str | None = None,
) -> None:
    """Set exact values of a channel (of the plant, or of a device) at slot starts."""
    simulated.plants[PLANT_ID].overrides[(channel, device)] = {
        moment: None if value is None else Decimal(value) for moment, value in points.items()
    }


def plant_entry(simulated: PortalSimulator, **data: Any) -> MockConfigEntry:
    """Return the test plant's entry, as the flow makes it."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Zonnedak",
        unique_id=PLANT_ID,
        minor_version=3,
        data={
            "kind": "solarlog",
            "portal": PORTAL,
            "client_id": CLIENT_ID,
            "client_secret": SECRET,
            "plant_id": PLANT_ID,
            "api_url": simulated.url,
            "token_url": simulated.token_url,
            **data,
        },
    )


async def move_on(hass: HomeAssistant, freezer: FrozenDateTimeFactory, by: timedelta) -> None:
    """Move HA's clock on, fire the timers due, and wait for what they started.

    The coordinator's updates run as background tasks.
    """
    freezer.tick(by)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def setup_plant(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add and set the entry up, and wait for its history and statistics to be filed."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
