"""DSMR-reader's REST API (v1 and v2), served by Home Assistant's http component.

Each view takes its path, methods, filters and ordering from its route (api/routes.py); base.py
holds the key check they share.
"""

from __future__ import annotations

from typing import Final

from homeassistant.core import HomeAssistant

from .application import MonitoringView, SchemaView, StatusView, VersionView
from .base import ApiView
from .datalogger import DsmrReadingV1View, DsmrReadingView, MeterStatisticsView
from .live import ElectricityLiveView, GasLiveView, TodayView
from .records import RECORD_LISTS, DayStatisticsView, RecordListView

VIEWS: Final[tuple[ApiView, ...]] = (
    DsmrReadingV1View(),
    DsmrReadingView(),
    MeterStatisticsView(),
    *(RecordListView(route, name) for route, name in RECORD_LISTS),
    DayStatisticsView(),
    ElectricityLiveView(),
    GasLiveView(),
    TodayView(),
    VersionView(),
    MonitoringView(),
    StatusView(),
    SchemaView(),
)


def async_register_views(hass: HomeAssistant) -> None:
    """Register the views once per Home Assistant run: views cannot be removed again."""
    for view in VIEWS:
        hass.http.register_view(view)
