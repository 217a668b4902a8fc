"""One update of a plant: what its logger has transferred, read with as few calls as it takes.

Every update reads the plant's information, its plant-level series from the first day not
yet complete (5-minute values), and its components of today. The Advanced package's calls
(components' values, MPP trackers, KPIs) are tried and, when refused, left for a day: a
Basic package is found out that way, without errors. The month, year and lifetime totals
before today are read again every hour.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Final

from .client import EnerestClient
from .endpoints import COMPONENT_CHANNELS, PLANT_LEVEL_CHANNELS, TRACKER_CHANNELS
from .errors import AccessDeniedError, NotFoundError, ResponseError
from .history import (
    DAYS_PER_CALL,
    EarlierTotals,
    Hours,
    add_hours,
    earlier_totals,
    energy_hours,
    split_days,
)
from .models import ChannelSeries, Component, Kpi, Plant, Tracker

TOTALS_EVERY: Final = timedelta(hours=1)

# A channel of a component's by cross-epoch id, or of an MPP tracker by its inverter's
# cross-epoch id and its index: today's series.
type ComponentSeries = dict[str, dict[str, ChannelSeries]]
type TrackerSeries = dict[tuple[str, int], dict[str, ChannelSeries]]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What one update read."""

    plant: Plant
    day: date
    # Today's plant-level series, by channel.
    today: Mapping[str, ChannelSeries]
    # Energy before today by plant-level energy channel; None until first read.
    earlier: Mapping[str, EarlierTotals] | None
    # The hours of the days read, for the long-term statistics.
    hours: Hours
    components: tuple[Component, ...]
    # None while not known (before the first Advanced call), then whether it answers.
    advanced: bool | None
    component_series: ComponentSeries = field(default_factory=dict)
    tracker_series: TrackerSeries = field(default_factory=dict)
    kpis: tuple[Kpi, ...] = ()
    # Why an Advanced call's answer could not be used (its shape is unverified), if so.
    advanced_problems: tuple[str, ...] = ()


def _merged(found: dict[str, ChannelSeries], series: ChannelSeries) -> None:
    """Add a series to those by channel: two epochs of a day make one series."""
    before = found.get(series.name)
    if before is None:
        found[series.name] = series
        return
    points = dict(before.points)
    points.update(series.points)
    found[series.name] = ChannelSeries(
        name=series.name,
        device_id=before.device_id,
        unit=before.unit or series.unit,
        day=before.day,
        points=tuple(sorted(points.items())),
    )


class PlantPoller:
    """The updates of one plant, remembering what its package allows between them."""

    def __init__(self, client: EnerestClient, plant_id: str) -> None:
        """Read plant_id through client."""
        self.client = client
        self.plant_id = plant_id
        self.advanced: bool | None = None
        self._advanced_day: date | None = None
        self._kpis_day: date | None = None
        self._earlier: dict[str, EarlierTotals] | None = None
        self._earlier_read: datetime | None = None
        self._earlier_day: date | None = None

    async def poll(self, now: datetime, today: date, history_from: date) -> Snapshot:
        """Read the plant; 5-minute values from history_from to today (local days)."""
        plant = await self.client.plant(self.plant_id)
        hours: Hours = {}
        today_series: dict[str, ChannelSeries] = {}
        # A call per DAYS_PER_CALL days, each call's points dropped once its hours are taken.
        first = history_from
        while first <= today:
            last = min(first + timedelta(days=DAYS_PER_CALL - 1), today)
            series = await self.client.plant_channels(
                self.plant_id, PLANT_LEVEL_CHANNELS, first, last
            )
            add_hours(hours, energy_hours(series))
            if last == today:
                today_series = {
                    name: one for (name, day), one in split_days(series).items() if day == today
                }
            first = last + timedelta(days=1)
        if (
            self._earlier is None
            or self._earlier_day != today
            or self._earlier_read is None
            or now - self._earlier_read >= TOTALS_EVERY
        ):
            self._earlier = await earlier_totals(self.client, self.plant_id, today)
            self._earlier_read, self._earlier_day = now, today
        try:
            components = tuple(await self.client.components(self.plant_id, today))
        except AccessDeniedError, NotFoundError:
            components = ()
        snapshot = Snapshot(
            plant=plant,
            day=today,
            today=today_series,
            earlier=self._earlier,
            hours=hours,
            components=components,
            advanced=self.advanced,
        )
        if self.advanced is False and self._advanced_day == today:
            return snapshot
        return await self._advanced(snapshot)

    async def _advanced(self, snapshot: Snapshot) -> Snapshot:
        """Read the Advanced package's values; note a refusal (a Basic package) for the day."""
        today = snapshot.day
        with_values = [
            component
            for component in snapshot.components
            if component.cross_epoch_id is not None and component.kind in COMPONENT_CHANNELS
        ]
        channels = sorted(
            {channel for one in with_values for channel in COMPONENT_CHANNELS[str(one.kind)]}
        )
        problems: list[str] = []
        try:
            found = await self.client.component_channels(
                self.plant_id,
                [str(one.cross_epoch_id) for one in with_values],
                channels,
                today,
                today,
            )
        except AccessDeniedError, NotFoundError:
            self.advanced, self._advanced_day = False, today
            return replace(snapshot, advanced=False)
        self.advanced, self._advanced_day = True, today
        by_id = {
            identifier: str(one.cross_epoch_id)
            for one in with_values
            for identifier in (one.id, one.cross_epoch_id)
        }
        component_series: ComponentSeries = {}
        for one in found:
            cross_epoch_id = by_id.get(one.device_id or "")
            if cross_epoch_id is not None:
                _merged(component_series.setdefault(cross_epoch_id, {}), _on(one, today))
        tracker_series = await self._trackers(with_values, today, problems)
        kpis = await self._kpis(today, problems)
        return replace(
            snapshot,
            advanced=True,
            component_series=component_series,
            tracker_series=tracker_series,
            kpis=kpis,
            advanced_problems=tuple(problems),
        )

    async def _trackers(
        self, components: list[Component], today: date, problems: list[str]
    ) -> TrackerSeries:
        trackers: dict[str, tuple[str, Tracker]] = {
            tracker.id: (str(component.cross_epoch_id), tracker)
            for component in components
            for tracker in component.trackers
        }
        if not trackers:
            return {}
        try:
            found = await self.client.tracker_channels(
                self.plant_id, list(trackers), TRACKER_CHANNELS, today, today
            )
        except (AccessDeniedError, NotFoundError, ResponseError) as err:
            problems.append(f"MPP trackers: {err}")
            return {}
        tracker_series: TrackerSeries = {}
        for one in found:
            if (owner := trackers.get(one.device_id or "")) is not None:
                cross_epoch_id, tracker = owner
                _merged(
                    tracker_series.setdefault((cross_epoch_id, tracker.index), {}), _on(one, today)
                )
        return tracker_series

    async def _kpis(self, today: date, problems: list[str]) -> tuple[Kpi, ...]:
        if self._kpis_day == today:
            return ()
        try:
            return tuple(await self.client.kpis(self.plant_id, today, today))
        except (AccessDeniedError, NotFoundError, ResponseError) as err:
            # Not asked again today: the call and its answer are unverified.
            self._kpis_day = today
            problems.append(f"KPIs: {err}")
            return ()


def _on(series: ChannelSeries, day: date) -> ChannelSeries:
    """Return a series with its points of one day only."""
    return ChannelSeries(
        name=series.name,
        device_id=series.device_id,
        unit=series.unit,
        day=day,
        points=tuple(point for point in series.points if point[0].date() == day),
    )
