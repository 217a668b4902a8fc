"""A simulated Solar-Log WEB Enerest portal for development and tests, free of Home Assistant."""

from .plant import SimulatedComponent, SimulatedPlant, SimulatedTracker, default_components
from .portal import ADVANCED, BASIC, PortalSimulator

__all__ = [
    "ADVANCED",
    "BASIC",
    "PortalSimulator",
    "SimulatedComponent",
    "SimulatedPlant",
    "SimulatedTracker",
    "default_components",
]
