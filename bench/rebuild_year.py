"""A rebuild of the cached year's statistics, as statistics.py computes it; no Home Assistant.

Imported by bench_rebuild_statistics.py into a fresh process, whose peak memory is then the
rebuild's own.
"""

from __future__ import annotations

import resource
from time import perf_counter
import tracemalloc
from typing import Any

from sqlalchemy import create_engine

from bench.year_of_readings import CONTRACTS, METER, TIME_ZONE
from custom_components.smartmeter.longterm import Accumulator, chunk_end, compute, history
from custom_components.smartmeter.store.model import us_to_datetime


def rebuild(url: str, *, trace: bool = False) -> dict[str, Any]:
    """Compute the year's statistics as a rebuild does; return the figures (in a new process)."""
    # What the process holds before: the interpreter, SQLAlchemy and the package's imports
    # (the integration's __init__ imports Home Assistant's core).
    before = _resident_mib()
    if trace:
        tracemalloc.start()
    engine = create_engine(url)
    started = perf_counter()
    accumulator = Accumulator(CONTRACTS, TIME_ZONE)
    rows = hours = replacements = 0
    with engine.connect() as connection:
        bounds = history(connection, METER)
    assert bounds is not None
    start, end = bounds
    while start < end:
        with engine.connect() as connection:
            stop = chunk_end(connection, METER, start, end)
            computed = compute(connection, METER, accumulator, start, stop)
        for found in computed.rows.values():
            # The recorder's StatisticData, a TypedDict: a plain dict at run time.
            data = [
                {"start": us_to_datetime(row.start), "state": row.state, "sum": row.sum}
                for row in found
            ]
            rows += len(data)
        hours += len(next(iter(computed.rows.values()), []))
        replacements += len(computed.replacements)
        start = stop
    seconds = perf_counter() - started
    figures: dict[str, Any] = {
        "seconds": seconds,
        "hours": hours,
        "rows": rows,
        "replacements": replacements,
        "sums": accumulator.sums(),
        "rss_before_mib": before,
        "rss_after_mib": _resident_mib(),
        "maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if trace:
        figures["traced_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    engine.dispose()
    return figures


def _resident_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")
