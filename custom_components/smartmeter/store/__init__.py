"""The integration's own reading database, on SQLite or PostgreSQL; no Home Assistant.

It keeps DSMR-reader's DsmrReading rows and MeterStatistics per meter, so the integration can
serve DSMR-reader's API, and processes the readings into DSMR-reader's consumption records and
statistics (the processing package). Readings are written, and processed, by a group-commit
writer thread.
"""

from . import processing
from .errors import DuplicateDay, StoreBusy, StoreError
from .listing import FilterOperator, Record
from .model import MeterStatistics, Reading, StatisticsValue, StoredReading
from .records import (
    DayConsumption,
    DayStatistics,
    ElectricityConsumption,
    EnergySupplierPrice,
    GasConsumption,
    HourStatistics,
    ProcessingStatus,
    QuarterHourPeak,
    StoredDayStatistics,
    StoredEnergySupplierPrice,
)
from .store import ReadingStore
from .writer import GroupCommitWriter

__all__ = [
    "DayConsumption",
    "DayStatistics",
    "DuplicateDay",
    "ElectricityConsumption",
    "EnergySupplierPrice",
    "FilterOperator",
    "GasConsumption",
    "GroupCommitWriter",
    "HourStatistics",
    "MeterStatistics",
    "ProcessingStatus",
    "QuarterHourPeak",
    "Reading",
    "ReadingStore",
    "Record",
    "StatisticsValue",
    "StoreBusy",
    "StoreError",
    "StoredDayStatistics",
    "StoredEnergySupplierPrice",
    "StoredReading",
    "processing",
]
