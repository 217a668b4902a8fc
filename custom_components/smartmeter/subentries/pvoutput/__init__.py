"""PVOutput exports: a meter's consumption (and generation sensors) to a PVOutput system."""

from __future__ import annotations

from typing import Final

from ..subentry_type import SubentryType
from .flow import SUBENTRY_PVOUTPUT, PVOutputSubentryFlow
from .runtime import async_start_export
from .sensor import add_pvoutput_sensors

PVOUTPUT_EXPORT: Final = SubentryType(
    key=SUBENTRY_PVOUTPUT,
    flow=PVOutputSubentryFlow,
    async_start=async_start_export,
    add_sensors=add_pvoutput_sensors,
)
