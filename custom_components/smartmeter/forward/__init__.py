"""Forwarding of received telegrams to DSMR-reader instances, with a durable retry queue.

Plain Python and aiohttp: Home Assistant passes in its client session and executor.
"""

from .queue import ForwardQueue, ForwardQueueError
from .sender import (
    BlockedReason,
    Forwarder,
    RunBlocking,
    Target,
    TargetStats,
)

__all__ = [
    "BlockedReason",
    "ForwardQueue",
    "ForwardQueueError",
    "Forwarder",
    "RunBlocking",
    "Target",
    "TargetStats",
]
