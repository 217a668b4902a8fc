"""A P1 meter: a DSMR smart meter read on its P1 port (serial, network) or pushed to the API."""

from __future__ import annotations

from typing import Final

from ...const import KIND_P1
from ...subentries.contract.contracts import SUBENTRY_ENERGY_CONTRACT
from ...subentries.pvoutput.flow import SUBENTRY_PVOUTPUT
from ..kind import EntryKind
from .diagnostics import REDACT, meter_diagnostics
from .entity import meter_device_removable
from .flow import P1Flow
from .migration import async_migrate_meter
from .options import P1OptionsFlow
from .sensor import add_meter_sensors
from .setup import PLATFORMS, async_setup_meter

P1_METER: Final = EntryKind(
    key=KIND_P1,
    flow=P1Flow,
    options_flow=P1OptionsFlow,
    # Energy contracts price the meter's consumption; PVOutput exports upload it.
    subentry_types=(SUBENTRY_ENERGY_CONTRACT, SUBENTRY_PVOUTPUT),
    async_setup_entry=async_setup_meter,
    platforms=PLATFORMS,
    add_sensors=add_meter_sensors,
    redact=REDACT,
    diagnostics=meter_diagnostics,
    async_migrate=async_migrate_meter,
    device_removable=meter_device_removable,
)
