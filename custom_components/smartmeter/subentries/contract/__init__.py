"""Energy contracts: a meter's prices per kWh and m³ between two dates (DSMR-reader's)."""

from __future__ import annotations

from typing import Final

from ...models import EntryData
from ..subentry_type import SubentryType
from .contracts import SUBENTRY_ENERGY_CONTRACT
from .flow import EnergyContractFlow

# Data only: the kind of its entry reads it, whatever that kind's runtime data.
ENERGY_CONTRACT: Final = SubentryType[EntryData](
    key=SUBENTRY_ENERGY_CONTRACT, flow=EnergyContractFlow
)
