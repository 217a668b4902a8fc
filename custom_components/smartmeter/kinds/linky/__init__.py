"""A Linky meter (France): Enedis' data by the Conso API, MyElectricalData or Data-Connect."""

from __future__ import annotations

from typing import Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from ...subentries.contract.contracts import SUBENTRY_ENERGY_CONTRACT
from ..kind import EntryKind
from .const import KIND_LINKY
from .diagnostics import REDACT, linky_diagnostics
from .flow import LinkyFlow
from .options import LinkyOptionsFlow
from .sensor import add_linky_sensors
from .setup import PLATFORMS, async_setup_linky


async def _async_migrate(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Nothing to migrate: Linky meters came with config entry 1.3."""


def _device_removable(entry: ConfigEntry, device: dr.DeviceEntry) -> bool:
    """Keep the meter's one device while the entry is there."""
    return False


LINKY: Final = EntryKind(
    key=KIND_LINKY,
    flow=LinkyFlow,
    options_flow=LinkyOptionsFlow,
    # Energy contracts price the consumption (tariff 1) and production (tariff 1 returned).
    subentry_types=(SUBENTRY_ENERGY_CONTRACT,),
    async_setup_entry=async_setup_linky,
    platforms=PLATFORMS,
    add_sensors=add_linky_sensors,
    redact=REDACT,
    diagnostics=linky_diagnostics,
    async_migrate=_async_migrate,
    device_removable=_device_removable,
)
