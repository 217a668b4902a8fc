"""Long-term statistics of a meter from its readings, for Home Assistant's energy dashboard.

Plain Python on the reading store's tables; no Home Assistant. hours.py finds each UTC hour's
energy and gas by the meter's own timestamps, captures.py each hour's water and heat from the
M-Bus meters' captures, series.py turns the hours into exact running sums of energy, gas, water,
heat and costs, and also the hours a source other than the reading store gives (increments).
"""

from .captures import (
    CaptureHour,
    capture_chunk_end,
    capture_history,
    capture_hour_before,
    capture_hours,
)
from .hours import (
    CHUNK_HOURS,
    ELECTRICITY,
    Gas,
    HourEnergy,
    Replacement,
    affected_from,
    chunk_end,
    history,
    hour_before,
    hour_floor,
    hourly_energy,
)
from .series import (
    ALL_SERIES,
    CAPTURE_SERIES,
    GAS,
    GAS_COST,
    SCALE,
    Accumulator,
    Computed,
    Increment,
    Priced,
    Row,
    Series,
    compute,
    compute_captures,
    compute_increments,
    exact_sum,
    series_for,
)

__all__ = [
    "ALL_SERIES",
    "CAPTURE_SERIES",
    "CHUNK_HOURS",
    "ELECTRICITY",
    "GAS",
    "GAS_COST",
    "SCALE",
    "Accumulator",
    "CaptureHour",
    "Computed",
    "Gas",
    "HourEnergy",
    "Increment",
    "Priced",
    "Replacement",
    "Row",
    "Series",
    "affected_from",
    "capture_chunk_end",
    "capture_history",
    "capture_hour_before",
    "capture_hours",
    "chunk_end",
    "compute",
    "compute_captures",
    "compute_increments",
    "exact_sum",
    "history",
    "hour_before",
    "hour_floor",
    "hourly_energy",
    "series_for",
]
