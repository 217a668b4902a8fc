"""The values a PVOutput export sends for an interval: the meter's readings, and HA sensors.

Consumption comes from the reading store as DSMR-reader computes it: the energy delivered
since the day's first reading and the net power of the latest reading. Generation, when the
export has it, comes from any energy and power sensor through the recorder's history, so past
intervals (a catch-up) get the values they had then.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Final

from homeassistant.components.recorder import history
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT, UnitOfEnergy, UnitOfPower
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util

from ...models import SmartMeterConfigEntry
from ...pvoutput import Generation, IntervalData, IntervalSource
from ...store.store import ReadingStore
from .flow import (
    CONF_GENERATION_ENERGY,
    CONF_GENERATION_POWER,
    CONF_VOLTAGE,
    export_settings,
)

# Exact factors (not HA's float converters): a value of 1.234 kWh must give 1234 Wh, not 1233.
WATT_HOURS: Final[Mapping[str, Decimal]] = {
    UnitOfEnergy.WATT_HOUR: Decimal(1),
    UnitOfEnergy.KILO_WATT_HOUR: Decimal(1000),
    UnitOfEnergy.MEGA_WATT_HOUR: Decimal(1_000_000),
}
WATTS: Final[Mapping[str, Decimal]] = {
    UnitOfPower.WATT: Decimal(1),
    UnitOfPower.KILO_WATT: Decimal(1000),
    UnitOfPower.MEGA_WATT: Decimal(1_000_000),
}
# A drop below this share of the previous value is a reset (a daily counter at midnight, a new
# inverter), as HA's statistics read total_increasing sensors; a smaller drop is noise.
_RESET_SHARE: Final = Decimal("0.9")
# The recorder's periods leave out both ends; a microsecond more takes states exactly on them.
_TICK: Final = timedelta(microseconds=1)


class GenerationUnavailable(Exception):
    """Generation sensors are configured but the recorder, their history, is not running."""


def meter_interval(
    store: ReadingStore,
    meter: str,
    day_start: datetime,
    start: datetime,
    end: datetime,
    *,
    voltage: bool,
) -> IntervalData | None:
    """Return the consumption at the end of the interval (start, end] (blocking).

    None when the meter sent no reading in the interval: it was offline, or its data has not
    arrived yet. Energy counts from the first reading at or after day_start, local midnight.
    """
    _, latest = store.list_readings(meter, timestamp_lte=end, descending=True, limit=1)
    if not latest or latest[0].timestamp <= start:
        return None
    last = latest[0]
    _, day_first = store.list_readings(meter, timestamp_gte=day_start, limit=1)
    first = day_first[0]  # there is one: last itself is after day_start
    delivered = (
        last.electricity_delivered_1
        + last.electricity_delivered_2
        - first.electricity_delivered_1
        - first.electricity_delivered_2
    )
    returned = (
        last.electricity_returned_1
        + last.electricity_returned_2
        - first.electricity_returned_1
        - first.electricity_returned_2
    )
    net_power = last.electricity_currently_delivered - last.electricity_currently_returned
    voltages = [
        value
        for value in (last.phase_voltage_l1, last.phase_voltage_l2, last.phase_voltage_l3)
        if value is not None
    ]
    return IntervalData(
        # kWh and kW to Wh and W, truncated as DSMR-reader's int().
        energy_consumed_wh=int(delivered * 1000),
        energy_returned_wh=int(returned * 1000),
        net_power_w=int(net_power * 1000),
        voltage=float(sum(voltages) / len(voltages)) if voltage and voltages else None,
    )


def state_value(state: State, units: Mapping[str, Decimal]) -> Decimal | None:
    """Return the state in the base unit of units (Wh or W); None if it is not a number in one."""
    factor = units.get(state.attributes.get(ATTR_UNIT_OF_MEASUREMENT, ""))
    try:
        value = Decimal(state.state)
    except InvalidOperation:  # unknown, unavailable, text
        return None
    if factor is None or not value.is_finite():
        return None
    return value * factor


def energy_since(states: Sequence[State]) -> Decimal | None:
    """Return the energy an energy sensor's states add up to, in Wh; None if unknown at the end.

    The first state is the one at the period's start. Rises count; a reset counts its new value.
    """
    values = [state_value(state, WATT_HOURS) for state in states]
    if not values or values[-1] is None:
        return None
    total = Decimal(0)
    previous: Decimal | None = None
    for value in values:
        if value is None:
            continue
        if previous is not None:
            if value >= previous:
                total += value - previous
            elif value < previous * _RESET_SHARE:
                total += value
            else:  # a small dip: the rise back to previous is not counted twice
                continue
        previous = value
    return total


def _history(hass: HomeAssistant, entity_id: str, start: datetime, end: datetime) -> list[State]:
    """Return the entity's state at start and its changes up to end, both included (blocking)."""
    states = history.state_changes_during_period(
        hass, start - _TICK, end + _TICK, entity_id, include_start_time_state=True
    )
    return states.get(entity_id, [])


async def async_generation(
    hass: HomeAssistant, energy_id: str, power_id: str, day_start: datetime, end: datetime
) -> Generation | None:
    """Return the energy generated from day_start to end and the power at end.

    None when either sensor has no number in a known unit at end (unavailable, say).
    """
    if "recorder" not in hass.config.components:
        raise GenerationUnavailable("generation needs the recorder's history, which is off")
    recorder = get_instance(hass)
    energy_states = await recorder.async_add_executor_job(_history, hass, energy_id, day_start, end)
    power_states = await recorder.async_add_executor_job(_history, hass, power_id, end, end)
    energy = energy_since(energy_states)
    power = state_value(power_states[-1], WATTS) if power_states else None
    if energy is None or power is None:
        return None
    # Inverters may report a little negative power at night; PVOutput refuses it.
    return Generation(energy_wh=int(energy), power_w=max(int(power), 0))


def interval_source(
    hass: HomeAssistant, entry: SmartMeterConfigEntry, subentry: ConfigSubentry
) -> IntervalSource:
    """Return the source of the subentry's interval data, for its exporter."""
    step = export_settings(dict(subentry.data)).step
    with_voltage = bool(subentry.data.get(CONF_VOLTAGE))
    energy_id = subentry.data.get(CONF_GENERATION_ENERGY)
    power_id = subentry.data.get(CONF_GENERATION_POWER)
    zone = dt_util.get_default_time_zone()

    async def source(end: datetime) -> IntervalData | None:
        start = end - step
        # The interval's day is that of its start: a status at 00:00 closes the day before.
        day = start.astimezone(zone).date()
        day_start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
        meter = entry.runtime_data
        data = await hass.async_add_executor_job(
            partial(
                meter_interval,
                meter.store,
                meter.meter_id,
                day_start,
                start,
                end,
                voltage=with_voltage,
            )
        )
        if data is None or energy_id is None or power_id is None:
            return data
        generation = await async_generation(hass, energy_id, power_id, day_start, end)
        return replace(data, generation=generation)

    return source
