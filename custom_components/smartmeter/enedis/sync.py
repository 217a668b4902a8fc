"""Which requests bring a meter's data up to date, within Enedis' limits; no clock read here.

The history import goes back from today, a window at a time (365 days of daily values, 7 of
load curve), until the history's depth or the service's "no earlier data"; where it got is
kept in MeterData after each request, so it resumes after a restart. Afterwards, each update
asks for the days from the oldest one missing among the recent ones, so a day that failed is
asked for again at every poll.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Final

from .client import DAILY_DAYS, LOAD_CURVE_DAYS, Data, LinkyClient, Measurement, offers
from .data import MeterData
from .errors import HistoryLimit, LoadCurveNotEnabled

# How far back the history goes: 3 years of daily values, 2 of load curve (Enedis keeps
# 36 and 24 months and 15 days).
DAILY_DEPTH: Final = timedelta(days=3 * 365)
LOAD_CURVE_DEPTH: Final = timedelta(days=2 * 365)
# Days before yesterday that an update asks for again while they lack data.
RECENT_DAYS: Final = 14
_SPAN: Final = {
    Data.DAILY: timedelta(days=DAILY_DAYS),
    Data.MAX_POWER: timedelta(days=DAILY_DAYS),
    Data.LOAD_CURVE: timedelta(days=LOAD_CURVE_DAYS),
}
_DEPTH: Final = {
    Data.DAILY: DAILY_DEPTH,
    Data.MAX_POWER: DAILY_DEPTH,
    Data.LOAD_CURVE: LOAD_CURVE_DEPTH,
}


class LinkySync:
    """Brings a meter's data up to date through a client."""

    def __init__(
        self,
        client: LinkyClient,
        measurements: tuple[Measurement, ...],
        data: MeterData,
        pause: Callable[[], Awaitable[None]],
    ) -> None:
        """Sync these measurements into data; pause between requests (the rate limits)."""
        self.client = client
        self.measurements = measurements
        self.data = data
        self._pause = pause

    def series(self) -> list[tuple[Measurement, Data]]:
        """Return the (measurement, data) pairs synced, daily values first."""
        return [
            (measurement, kind)
            for kind in (Data.DAILY, Data.MAX_POWER, Data.LOAD_CURVE)
            for measurement in self.measurements
            if offers(measurement, kind)
        ]

    def history_requests(self, today: date) -> tuple[int, int]:
        """Return the history import's requests: (made, in all), from where it stands."""
        made = total = 0
        for key in self.series():
            span, depth = _SPAN[key[1]], _DEPTH[key[1]]
            windows = -(-depth // span)
            total += windows
            if key in self.data.history_done:
                made += windows
            elif key in self.data.imported_from:
                made += min(windows - 1, -(-(today - self.data.imported_from[key]) // span))
        return made, total

    @property
    def history_complete(self) -> bool:
        """Return whether the history import went as far back as it can."""
        return all(key in self.data.history_done for key in self.series())

    async def import_history(self, today: date, on_request: Callable[[date | None], None]) -> None:
        """Go on with the history import, newest first; on_request(first day changed) after each.

        Raises what the client raises (rate limits, errors): what was had is kept.
        """
        for key in self.series():
            measurement, kind = key
            if key in self.data.history_done:
                continue
            limit = today - _DEPTH[kind]
            end = self.data.imported_from.get(key, today)
            while end > limit:
                start = max(limit, end - _SPAN[kind])
                try:
                    first = await self._fetch(measurement, kind, start, end)
                except HistoryLimit:
                    break
                except LoadCurveNotEnabled:
                    self.data.no_load_curve.add(measurement)
                    break
                self.data.imported_from[key] = end = start
                on_request(first)
                await self._pause()
            self.data.history_done.add(key)
            on_request(None)

    def update_start(self, measurement: Measurement, kind: Data, today: date) -> date:
        """Return the first day an update asks for: after the last known, or one missing."""
        known = self.data.of(measurement)
        yesterday = today - timedelta(days=1)
        has: Callable[[date], bool]
        if kind is Data.LOAD_CURVE:
            has = known.curve.complete
        elif kind is Data.MAX_POWER:
            has = known.max_power.__contains__
        else:
            has = known.daily.__contains__
        start = max(today - _DEPTH[kind], yesterday - timedelta(days=RECENT_DAYS))
        day = yesterday
        while day >= start and not has(day):
            day -= timedelta(days=1)
        # The oldest missing day among the recent ones, else the one after the last known.
        missing = [
            one
            for offset in range((day - start).days + 1)
            if not has(one := start + timedelta(days=offset))
        ]
        return min([*missing, day + timedelta(days=1)])

    async def update(self, today: date, on_request: Callable[[date | None], None]) -> None:
        """Ask for the days an update needs; on_request(first day changed) after each request."""
        for measurement, kind in self.series():
            if kind is Data.LOAD_CURVE and measurement in self.data.no_load_curve:
                continue
            start = self.update_start(measurement, kind, today)
            span = _SPAN[kind]
            while start < today:
                end = min(today, start + span)
                try:
                    first = await self._fetch(measurement, kind, start, end)
                except LoadCurveNotEnabled:
                    self.data.no_load_curve.add(measurement)
                    break
                on_request(first)
                await self._pause()
                start = end

    def complete(self, today: date) -> bool:
        """Return whether yesterday is all there: daily values, maximum power, load curve."""
        yesterday = today - timedelta(days=1)
        for measurement in self.measurements:
            known = self.data.of(measurement)
            if yesterday not in known.daily:
                return False
            if measurement is Measurement.CONSUMPTION and yesterday not in known.max_power:
                return False
            if measurement not in self.data.no_load_curve and not known.curve.complete(yesterday):
                return False
        return True

    def given_up(self, today: date) -> list[date]:
        """Return the days still without a daily value that updates no longer ask for."""
        window = today - timedelta(days=1 + RECENT_DAYS)
        return [day for day in self.missing_days(today) if day < window]

    def missing_days(self, today: date) -> list[date]:
        """Return the days without a daily value between the first known one and yesterday."""
        missing: set[date] = set()
        for measurement in self.measurements:
            daily = self.data.of(measurement).daily
            if not daily:
                continue
            day = min(daily)
            while day < today:
                if day not in daily:
                    missing.add(day)
                day += timedelta(days=1)
        return sorted(missing)

    async def _fetch(
        self, measurement: Measurement, kind: Data, start: date, end: date
    ) -> date | None:
        """Ask for [start, end[ and keep it; return the first day that came, None if none."""
        known = self.data.of(measurement)
        if kind is Data.LOAD_CURVE:
            points = await self.client.load_curve(measurement, start, end)
            known.curve.add(points)
            return min((point.start.date() for point in points), default=None)
        if kind is Data.MAX_POWER:
            values = await self.client.max_power(start, end)
            known.max_power.update((value.day, value) for value in values)
        else:
            values = await self.client.daily(measurement, start, end)
            known.daily.update((value.day, value.value) for value in values)
        return min((value.day for value in values), default=None)
