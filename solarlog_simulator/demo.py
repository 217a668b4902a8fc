"""The demo portal scripts/develop runs and seeds a Solar-Log entry of: one plant, one client."""

from __future__ import annotations

from datetime import date
from typing import Final

from .plant import SimulatedPlant
from .portal import ADVANCED, PortalSimulator

PORTAL: Final = "demo"
CLIENT_ID: Final = "demo-client"
CLIENT_SECRET: Final = "demo-secret"
PLANT_ID: Final = "5e1a7c3d-0b2f-4c6e-9a8d-7f3b2e1c0d9a"


def demo_portal(installed: date, package: str = ADVANCED) -> PortalSimulator:
    """Return the demo portal: one plant, installed on that day, and its user's API client."""
    portal = PortalSimulator(PORTAL)
    portal.add_plant(SimulatedPlant(PLANT_ID, installed=installed))
    portal.add_client(CLIENT_ID, CLIENT_SECRET, package=package, plants=[PLANT_ID])
    return portal
