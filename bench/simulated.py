"""Telegrams for the benchmarks: the built-in meter simulator's, as a live DSMR 5 meter sends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from meter_simulator import MeterSimulator

TELEGRAMS: Final = Path(__file__).resolve().parents[2] / "shared" / "telegrams"
START: Final = datetime(2025, 1, 6, 16, 0, tzinfo=UTC)  # a Monday, 17:00 in Amsterdam


def simulated_telegrams(first: int, count: int) -> list[str]:
    """Return the telegrams of seconds first .. first + count - 1 after START, one a second.

    From one to the next the clock, the power, each phase's power, voltage and current, and now
    and then a register and the gas change: 10-11 of the 38 lines, as from a live meter. The
    rest (identifiers, counters) stay as in v5.txt.
    """
    simulator = MeterSimulator((TELEGRAMS / "v5.txt").read_bytes(), start=START)
    return [
        simulator.telegram_at(START + timedelta(seconds=second)).decode("latin-1")
        for second in range(first, first + count)
    ]
