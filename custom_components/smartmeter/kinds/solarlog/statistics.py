"""A plant's long-term statistics: its hours' energy, from the ledger, in the recorder.

The statistics code is the integration's (external_statistics.IncrementStatistics): told
that hours changed from a time on, it continues the sums the recorder holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from ...external_statistics import ExternalStatistics, IncrementStatistics, StatisticsSettings
from ...longterm import Series
from ...solarlog.history import HourLedger
from ...statistic_metadata import statistic_object_id
from .const import plant_device_id

# The series, in the order they are filed; names are translated (strings: statistics).
SERIES: Final = {
    series.key: series
    for series in (
        Series("solar_production", "energy", "solar production"),
        Series("home_consumption", "energy", "consumption"),
        Series("battery_charged", "energy", "battery charged"),
        Series("battery_discharged", "energy", "battery discharged"),
    )
}
# Bumped when the statistics are computed differently: everything is filed again.
VERSION: Final = 1


def plant_statistics(
    hass: HomeAssistant,
    *,
    entry_id: str,
    plant_id: str,
    title: str,
    ledger: HourLedger,
    names: Mapping[str, str],
) -> IncrementStatistics:
    """Return the statistics of a plant's ledger: a series per key it has energy of."""
    zone = dt_util.get_default_time_zone()
    return IncrementStatistics(
        hass,
        recorded=ExternalStatistics(
            hass,
            object_id=statistic_object_id(plant_device_id(plant_id)),
            title=title,
            names=names,
        ),
        settings=StatisticsSettings(hass, entry_id, version=VERSION, contracts=(), time_zone=zone),
        source=ledger,
        series=lambda: tuple(
            series for key, series in SERIES.items() if key in ledger.series_keys()
        ),
        priced=tuple,
        contracts=(),
        time_zone=zone,
    )
