"""Energy contracts: a meter's prices per kWh and m³ between two dates (DSMR-reader's)."""

from __future__ import annotations

from typing import Final

from ..subentry_type import SubentryType
from .contracts import SUBENTRY_ENERGY_CONTRACT
from .flow import EnergyContractFlow

ENERGY_CONTRACT: Final = SubentryType(key=SUBENTRY_ENERGY_CONTRACT, flow=EnergyContractFlow)
