"""The simulated Enerest portal the Solar-Log tests talk to, and its fixed clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

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
