"""What a loaded Solar-Log entry holds: its coordinator, which polls the plant."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry

from ...models import EntryData

if TYPE_CHECKING:
    from .coordinator import SolarLogCoordinator


@dataclass(kw_only=True)
class SolarLogData(EntryData):
    """A loaded Solar-Log plant."""

    coordinator: SolarLogCoordinator


type SolarLogConfigEntry = ConfigEntry[SolarLogData]
