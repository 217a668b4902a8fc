"""How far processing got for each meter: its frontiers, loaded and kept in processing_state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, tzinfo
from typing import Any

from sqlalchemy import Connection, func, select

from ..schema import (
    HOUR_US,
    dsmr_reading,
    electricity_consumption,
    gas_consumption,
    meter_key,
    processing_state,
)
from ..sql import upsert
from .times import MINUTE_US, QUARTER_US, floor_to, local_date


@dataclass(frozen=True, slots=True)
class Gas:
    """A gas record's times (µs) and position (dm³)."""

    read_at: int
    measured_at: int
    delivered: int


@dataclass(frozen=True, slots=True)
class MeterState:
    """How far processing got for a meter (µs), and what it needs to know of its records."""

    minute_frontier: int
    quarter_frontier: int
    hour_frontier: int
    day_frontier: date
    latest_reading: int
    latest_minute: int | None
    latest_gas: Gas | None


def load_state(connection: Connection, meter: str, time_zone: tzinfo) -> MeterState | None:
    """Return a meter's state from the database, None while it has no readings."""
    timestamp = dsmr_reading.c.timestamp
    mine = dsmr_reading.c.meter_key == meter_key(meter)
    latest = connection.scalar(select(func.max(timestamp)).where(mine))
    if latest is None:
        return None
    saved = (
        connection.execute(select(processing_state).where(processing_state.c.meter == meter))
        .mappings()
        .first()
    )
    if saved is None:
        first: int = connection.scalar(select(func.min(timestamp)).where(mine))
        minute = floor_to(first, MINUTE_US)
        frontiers: dict[str, Any] = {
            "minute_frontier": minute,
            "quarter_frontier": floor_to(first, QUARTER_US),
            "hour_frontier": floor_to(minute, HOUR_US),
            "day_frontier": local_date(minute, time_zone),
        }
    else:
        frontiers = {name: saved[name] for name in saved if name != "meter"}
    latest_minute = connection.scalar(
        select(func.max(electricity_consumption.c.read_at)).where(
            electricity_consumption.c.meter == meter
        )
    )
    gas = connection.execute(
        select(
            gas_consumption.c.read_at, gas_consumption.c.measured_at, gas_consumption.c.delivered
        )
        .where(gas_consumption.c.meter == meter)
        .order_by(gas_consumption.c.measured_at.desc())
        .limit(1)
    ).first()
    return MeterState(
        **frontiers,
        latest_reading=latest,
        latest_minute=latest_minute,
        latest_gas=None if gas is None else Gas(*gas),
    )


def save_state(connection: Connection, meter: str, state: MeterState) -> None:
    """Keep how far processing got for a meter, in the run's transaction."""
    values = {
        "minute_frontier": state.minute_frontier,
        "quarter_frontier": state.quarter_frontier,
        "hour_frontier": state.hour_frontier,
        "day_frontier": state.day_frontier,
    }
    statement = upsert(connection, processing_state)
    connection.execute(
        statement.values(meter=meter, **values).on_conflict_do_update(
            index_elements=[processing_state.c.meter], set_=values
        )
    )
