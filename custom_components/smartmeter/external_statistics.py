"""External statistics in Home Assistant's recorder, whatever their source.

The recorder's side of long-term statistics, shared by the sources that make them: a P1 meter's
reading store (statistics.py), and sources whose hourly or daily values come from an API
(a Linky meter, a Solar-Log portal). Ids ``smartmeter:<object id>_<series key>``, names
translated after the source's title, metadata from statistic_metadata.py; exact sums read back
so that the sums continue across restarts, series cleared for a rebuild, rows added.

IncrementStatistics keeps the statistics of a source that knows each hour's increments and is
told "these hours changed from here on": the sums before them are read back from the recorder,
the hours from there on are made again, and when a sum is missing everything is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import fields
from datetime import UTC, datetime, tzinfo
from typing import Any, Final, Protocol

from homeassistant.components.recorder.models import StatisticData
from homeassistant.components.recorder.statistics import (
    async_add_external_statistics,
    get_last_statistics,
    statistics_during_period,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.recorder import get_instance
from homeassistant.helpers.storage import Store

from .const import DOMAIN
from .longterm import (
    Accumulator,
    Computed,
    Increment,
    Priced,
    Series,
    compute_increments,
    exact_sum,
)
from .statistic_metadata import series_metadata
from .store.records import EnergySupplierPrice
from .store.schema import HOUR_US

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_STORAGE_VERSION: Final = 1


def _datetime(time_us: int) -> datetime:
    return datetime.fromtimestamp(time_us / 1_000_000, UTC)


class ExternalStatistics:
    """The external statistics of one source (a meter) in the recorder."""

    def __init__(
        self, hass: HomeAssistant, *, object_id: str, title: str, names: Mapping[str, str]
    ) -> None:
        """Name the statistics: smartmeter:<object_id>_<key>, names by key with {title}."""
        self._hass = hass
        self._object_id = object_id
        self._title = title
        self._names = names

    def statistic_id(self, series: Series) -> str:
        """Return the external statistic id of one of the source's series."""
        return f"{DOMAIN}:{self._object_id}_{series.key}"

    async def async_last_hour(self, series: Series) -> int | None:
        """Return the start of the last hour of a series in the recorder (µs), None if none."""
        statistic_id = self.statistic_id(series)
        last = await get_instance(self._hass).async_add_executor_job(
            get_last_statistics, self._hass, 1, statistic_id, False, set()
        )
        return round(last[statistic_id][0]["start"] * 1_000_000) if last else None

    async def async_sums_at(self, hour: int, series: Iterable[Series]) -> dict[str, int]:
        """Return the exact sums the recorder holds for an hour (µs), by series key."""
        by_id = {self.statistic_id(one): one for one in series}
        stats = await get_instance(self._hass).async_add_executor_job(
            statistics_during_period,
            self._hass,
            _datetime(hour),
            _datetime(hour + HOUR_US),
            set(by_id),
            "hour",
            None,
            {"sum"},
        )
        sums: dict[str, int] = {}
        for statistic_id, one in by_id.items():
            rows = stats.get(statistic_id)
            if rows and (value := rows[0].get("sum")) is not None:
                sums[one.key] = exact_sum(one, value)
        return sums

    async def async_has_rows_until(self, series: Series, end: int) -> bool:
        """Return whether the recorder holds rows of a series starting before end (µs)."""
        statistic_id = self.statistic_id(series)
        earlier = await get_instance(self._hass).async_add_executor_job(
            statistics_during_period,
            self._hass,
            _EPOCH,
            _datetime(end),
            {statistic_id},
            "month",
            None,
            {"sum"},
        )
        return bool(earlier.get(statistic_id))

    @callback
    def clear(self, series: Iterable[Series]) -> None:
        """Remove the series from the recorder: rows and metadata."""
        get_instance(self._hass).async_clear_statistics([self.statistic_id(one) for one in series])

    @callback
    def add(self, computed: Computed) -> None:
        """Hand rows to the recorder, which writes them over any of the same hours."""
        for series, rows in computed.rows.items():
            async_add_external_statistics(
                self._hass,
                series_metadata(
                    series,
                    statistic_id=self.statistic_id(series),
                    name=self._names.get(series.key, f"{{title}} {series.name}").replace(
                        "{title}", self._title
                    ),
                    currency=self._hass.config.currency,
                ),
                [
                    StatisticData(start=_datetime(row.start), state=row.state, sum=row.sum)
                    for row in rows
                ],
            )

    async def async_flush(self) -> None:
        """Wait until the recorder wrote what it was handed, so its sums read back."""
        await get_instance(self._hass).async_block_till_done()


class StatisticsSettings:
    """What a source's statistics depend on besides its data, saved with the last build.

    When it changed (energy contracts, currency, time zone, the computation), everything is
    made again.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        key: str,
        *,
        version: int,
        contracts: Sequence[EnergySupplierPrice],
        time_zone: tzinfo,
    ) -> None:
        """Keep the settings in <domain>.<key>.statistics."""
        self._hass = hass
        self._store: Store[dict[str, Any]] = Store(
            hass, _STORAGE_VERSION, f"{DOMAIN}.{key}.statistics"
        )
        self._version = version
        self._contracts = contracts
        self._time_zone = time_zone

    def current(self) -> dict[str, Any]:
        """Return the settings of now."""
        return {
            "computation": self._version,
            "currency": self._hass.config.currency,
            "time_zone": str(self._time_zone),
            "contracts": [
                {field.name: str(getattr(contract, field.name)) for field in fields(contract)}
                for contract in self._contracts
            ],
        }

    async def async_changed(self) -> bool:
        """Return whether the statistics were built with other settings (or never)."""
        return await self._store.async_load() != self.current()

    async def async_save(self) -> None:
        """Note that the statistics were built from their first hour with these settings."""
        await self._store.async_save(self.current())


class IncrementSource(Protocol):
    """Where a source's hours come from: each hour's increment of each series, in order."""

    def first_hour(self) -> int | None:
        """Return the start of the source's first hour (µs), None without any."""

    def hour_before(self, at: int) -> int | None:
        """Return the start of the last hour with an increment that starts before at (µs)."""

    def increments(self, start: int) -> Iterable[Increment]:
        """Return the increments of the hours from start (µs) on, in order.

        Read in the executor: a generator does its work there, off the event loop.
        """


class IncrementStatistics:
    """The statistics of a source that knows its hours' increments (from an API, say).

    Told that the hours changed from a time on, it reads back the sums before them, makes the
    rows from there on again (costs priced by the energy contracts) and hands them over.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        *,
        recorded: ExternalStatistics,
        settings: StatisticsSettings,
        source: IncrementSource,
        series: Callable[[], tuple[Series, ...]],
        priced: Callable[[], tuple[Priced, ...]],
        contracts: Sequence[EnergySupplierPrice],
        time_zone: tzinfo,
    ) -> None:
        """Set up; series and priced give the series (and cost series) the source has now."""
        self._hass = hass
        self.recorded = recorded
        self._settings = settings
        self._source = source
        self._series = series
        self._priced = priced
        self._contracts = contracts
        self._time_zone = time_zone

    async def async_start(self) -> None:
        """Make everything again when the settings changed since the last build."""
        if await self._settings.async_changed():
            await self.async_update(None)

    async def async_update(self, start: int | None) -> None:
        """File the hours from start (µs; None: all) again, every later sum with them."""
        series = self._series()
        priced = self._priced()
        all_series = (*series, *(one.series for one in priced))
        base: dict[str, int] | None = {}
        if start is not None:
            hour = self._source.hour_before(start)
            if hour is not None:
                base = await self.recorded.async_sums_at(hour, all_series)
                if set(base) != {one.key for one in all_series}:
                    base = None
        if start is None or base is None:
            self.recorded.clear(all_series)
            first = self._source.first_hour()
            if first is None:
                await self._settings.async_save()
                return
            start, base = first, {}
            rebuilt = True
        else:
            rebuilt = False
        accumulator = Accumulator(self._contracts, self._time_zone, base)
        # The source's increments are made as the executor reads them, off the event loop.
        computed = await self._hass.async_add_executor_job(
            compute_increments, accumulator, self._source.increments(start), series, priced
        )
        self.recorded.add(computed)
        await self.recorded.async_flush()
        if rebuilt:
            await self._settings.async_save()
