"""What a loaded entry holds while it runs: its runtime data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from .const import DOMAIN

if TYPE_CHECKING:
    from .forward import Forwarder
    from .kinds.linky.runtime import LinkyRuntime
    from .kinds.p1.coordinator import SmartMeterCoordinator
    from .statistics import LongTermStatistics
    from .store.store import ReadingStore


class SubentryRuntime(Protocol):
    """A subentry that runs while its entry is loaded (an export, say)."""

    async def async_stop(self) -> None:
        """Stop, saving what must outlive the run; before the entry's store closes."""

    def diagnostics(self) -> dict[str, Any]:
        """Return what helps to debug it, secrets redacted."""


@dataclass(kw_only=True)
class EntryData:
    """What every loaded entry holds, whatever its kind: the subentries it runs."""

    # The subentries that run (PVOutput exports), by subentry id.
    subentries: dict[str, SubentryRuntime] = field(default_factory=dict)


@dataclass(kw_only=True)
class SmartMeterData(EntryData):
    """A loaded P1 meter: its coordinator, reading store and what runs on them."""

    coordinator: SmartMeterCoordinator
    store: ReadingStore
    # The meter's key in the reading store, which may hold several meters.
    meter_id: str
    # The long-term statistics, kept when the recorder runs.
    statistics: LongTermStatistics | None = None
    forwarder: Forwarder | None = None


@dataclass(kw_only=True)
class LinkyData(EntryData):
    """A loaded Linky meter: its polls, data and statistics."""

    runtime: LinkyRuntime


# An entry of any kind, a P1 meter's and a Linky meter's.
type AnyConfigEntry = ConfigEntry[EntryData]
type SmartMeterConfigEntry = ConfigEntry[SmartMeterData]
type LinkyConfigEntry = ConfigEntry[LinkyData]


def loaded_meters(hass: HomeAssistant) -> list[SmartMeterConfigEntry]:
    """Return the loaded P1 meters: the entries with a reading store."""
    return [
        entry
        for entry in hass.config_entries.async_loaded_entries(DOMAIN)
        if isinstance(entry.runtime_data, SmartMeterData)
    ]
