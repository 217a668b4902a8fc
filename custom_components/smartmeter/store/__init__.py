"""The integration's own reading database, on SQLite or PostgreSQL; no Home Assistant.

It keeps DSMR-reader's DsmrReading rows and MeterStatistics per meter, so the integration can
serve DSMR-reader's API. Readings are written by a group-commit writer thread.
"""

from .errors import StoreBusy, StoreError
from .model import MeterStatistics, Reading, StatisticsValue, StoredReading
from .store import GroupCommitWriter, ReadingStore

__all__ = [
    "GroupCommitWriter",
    "MeterStatistics",
    "Reading",
    "ReadingStore",
    "StatisticsValue",
    "StoreBusy",
    "StoreError",
    "StoredReading",
]
