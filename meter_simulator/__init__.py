"""A simulated DSMR P1 smart meter for development and tests, free of Home Assistant."""

from .simulator import MeterSimulator

__all__ = ["MeterSimulator"]
