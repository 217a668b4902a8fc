"""A Solar-Log plant on a WEB Enerest portal (the cloud API), read every 5 minutes."""

from __future__ import annotations

from typing import Final

from ..kind import EntryKind
from .const import KIND_SOLARLOG
from .diagnostics import REDACT, plant_diagnostics
from .entity import plant_device_removable
from .flow import SolarLogFlow
from .sensor import add_plant_sensors
from .setup import PLATFORMS, async_migrate_plant, async_setup_plant

SOLARLOG_PLANT: Final = EntryKind(
    key=KIND_SOLARLOG,
    flow=SolarLogFlow,
    options_flow=None,
    subentry_types=(),
    async_setup_entry=async_setup_plant,
    platforms=PLATFORMS,
    add_sensors=add_plant_sensors,
    redact=REDACT,
    diagnostics=plant_diagnostics,
    async_migrate=async_migrate_plant,
    device_removable=plant_device_removable,
)
