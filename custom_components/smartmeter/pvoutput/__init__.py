"""PVOutput export: uploads consumption (and optionally generation and voltage) to PVOutput.

Plain Python and aiohttp: Home Assistant passes in its client session, its time zone, the
stored state and a source of interval data.
"""

from .client import (
    API_URL,
    DateInFutureError,
    DateTooOldError,
    DonationModeError,
    InvalidApiKeyError,
    InvalidSystemIdError,
    Problem,
    PVOutputBlockedError,
    PVOutputClient,
    PVOutputConnectionError,
    PVOutputError,
    RateLimit,
    RateLimitedError,
    ReadOnlyKeyError,
    Status,
    StatusRejectedError,
    SystemInfo,
)
from .exporter import ExportState, ExportStatus, IntervalSource, PVOutputExporter
from .schedule import (
    MAX_PROCESSING_DELAY,
    MAX_UPLOAD_DELAY,
    UPLOAD_INTERVALS,
    ExportSettings,
    Generation,
    IntervalData,
    default_interval,
)

__all__ = [
    "API_URL",
    "MAX_PROCESSING_DELAY",
    "MAX_UPLOAD_DELAY",
    "UPLOAD_INTERVALS",
    "DateInFutureError",
    "DateTooOldError",
    "DonationModeError",
    "ExportSettings",
    "ExportState",
    "ExportStatus",
    "Generation",
    "IntervalData",
    "IntervalSource",
    "InvalidApiKeyError",
    "InvalidSystemIdError",
    "PVOutputBlockedError",
    "PVOutputClient",
    "PVOutputConnectionError",
    "PVOutputError",
    "PVOutputExporter",
    "Problem",
    "RateLimit",
    "RateLimitedError",
    "ReadOnlyKeyError",
    "Status",
    "StatusRejectedError",
    "SystemInfo",
    "default_interval",
]
