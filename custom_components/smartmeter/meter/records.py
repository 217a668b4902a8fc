"""What a telegram gives to keep: DSMR-reader's reading, and the M-Bus meters' positions.

The reading store keeps them (store.model converts them to its rows); the meter layer makes
them, so it needs nothing of the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Final, Literal


@dataclass(frozen=True, slots=True, kw_only=True)
class Reading:
    """One DSMR-reader DsmrReading: kWh, kW and m³ with 3 decimals, V with 1, A whole."""

    timestamp: datetime
    electricity_delivered_1: Decimal
    electricity_returned_1: Decimal
    electricity_delivered_2: Decimal
    electricity_returned_2: Decimal
    electricity_currently_delivered: Decimal
    electricity_currently_returned: Decimal
    phase_currently_delivered_l1: Decimal | None = None
    phase_currently_delivered_l2: Decimal | None = None
    phase_currently_delivered_l3: Decimal | None = None
    extra_device_timestamp: datetime | None = None
    extra_device_delivered: Decimal | None = None
    phase_currently_returned_l1: Decimal | None = None
    phase_currently_returned_l2: Decimal | None = None
    phase_currently_returned_l3: Decimal | None = None
    phase_voltage_l1: Decimal | None = None
    phase_voltage_l2: Decimal | None = None
    phase_voltage_l3: Decimal | None = None
    phase_power_current_l1: int | None = None
    phase_power_current_l2: int | None = None
    phase_power_current_l3: int | None = None


# The M-Bus meters besides gas whose positions are kept for the long-term statistics.
type CaptureKind = Literal["water", "heat"]
# Positions are kept in billionths of m³ (water) or GJ (heat): exact for every value a meter
# writes, also for heat in kWh converted to GJ (x 0.0036).
CAPTURE_PLACES: Final = 9


@dataclass(frozen=True, slots=True, kw_only=True)
class Capture:
    """A position an M-Bus water (m³) or heat (GJ) meter captured, and when."""

    channel: int
    kind: CaptureKind
    captured: datetime
    value: Decimal


type StatisticsValue = datetime | int | str | None
