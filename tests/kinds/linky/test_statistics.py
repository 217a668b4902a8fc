"""A Linky meter's hours for the statistics: made again from the day that changed only."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from custom_components.smartmeter.enedis import Measurement, MeterData, day_hours
from custom_components.smartmeter.enedis.readings import LoadCurvePoint
from custom_components.smartmeter.kinds.linky.statistics import LinkyHours
from custom_components.smartmeter.longterm import Increment

BOTH = (Measurement.CONSUMPTION, Measurement.PRODUCTION)
FIRST = date(2026, 3, 25)
# 29 March 2026 is 23 hours long in Paris.
DAYS = [FIRST + timedelta(days=offset) for offset in range(7)]


def _curve(day: date, watts: int) -> list[LoadCurvePoint]:
    """A Paris day's half hours at a constant power."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=1)
    if day > date(2026, 3, 29):
        start -= timedelta(hours=1)
    half_hours = 46 if day == date(2026, 3, 29) else 48
    return [LoadCurvePoint(start + timedelta(minutes=30 * n), 30, watts) for n in range(half_hours)]


def _meter() -> MeterData:
    """Days of consumption and production; a load curve of consumption from the third day."""
    data = MeterData()
    for number, day in enumerate(DAYS[:5]):
        data.of(Measurement.CONSUMPTION).daily[day] = 10_000 + number
        data.of(Measurement.PRODUCTION).daily[day] = 2_000 + number
    for day in DAYS[2:5]:
        data.of(Measurement.CONSUMPTION).curve.add(_curve(day, 500))
    return data


def _start(day: date) -> int:
    return day_hours(day)[0]


def _hours(hours: LinkyHours) -> list[Increment]:
    first = hours.first_hour()
    return [] if first is None else list(hours.increments(first))


def test_hours_from_a_changed_day_on_equal_hours_made_afresh() -> None:
    """Days added later change only the hours from the first of them; the result is exact."""
    data = _meter()
    hours = LinkyHours(data, BOTH)
    hours.refresh()
    before = _hours(hours)
    # Two days come in; the fifth day's curve is given again at another power.
    for number, day in enumerate(DAYS[5:], start=5):
        data.of(Measurement.CONSUMPTION).daily[day] = 10_000 + number
        data.of(Measurement.PRODUCTION).daily[day] = 2_000 + number
        data.of(Measurement.CONSUMPTION).curve.add(_curve(day, 250))
    data.of(Measurement.CONSUMPTION).curve.add(_curve(DAYS[4], 1_000))
    # A day before the change made differently shows that refresh(since) leaves it alone.
    data.of(Measurement.PRODUCTION).daily[DAYS[0]] = 0
    hours.refresh(DAYS[4])
    afresh = LinkyHours(data, BOTH)
    afresh.refresh()
    kept = [one for one in before if one.start < _start(DAYS[4])]
    assert _hours(hours) == kept + [one for one in _hours(afresh) if one.start >= _start(DAYS[4])]
    assert len(kept) == 2 + 24 + 24
    assert kept[0] == Increment(_start(DAYS[0]), {"consumption": 10_000, "production": 2_000})
    # The day the curve was given again (29 March: 23 hours): 1 kW, production's day at its start.
    changed = [one for one in _hours(hours) if _start(DAYS[4]) <= one.start < _start(DAYS[5])]
    assert changed[0] == Increment(_start(DAYS[4]), {"consumption": 1_000, "production": 2_004})
    assert [one.used["consumption"] for one in changed] == [1_000] * 23
    assert sum(one.used["production"] for one in changed) == 2_004
    # The new days: 250 W for 24 hours each.
    new = [one for one in _hours(hours) if one.start >= _start(DAYS[5])]
    assert [one.used["consumption"] for one in new] == [250] * 48
    assert _hours(afresh)[0] == Increment(_start(DAYS[0]), {"consumption": 10_000, "production": 0})
