"""Forwarding of received telegrams to DSMR-reader instances, with a durable retry queue.

Plain Python and aiohttp: Home Assistant passes in its client session and executor.
"""

from .queue import ForwardQueue, ForwardQueueError
from .sender import (
    CANNOT_CONNECT,
    BlockedReason,
    Forwarder,
    RunBlocking,
    Target,
    TargetStats,
    check_target,
)

__all__ = [
    "CANNOT_CONNECT",
    "BlockedReason",
    "ForwardQueue",
    "ForwardQueueError",
    "Forwarder",
    "RunBlocking",
    "Target",
    "TargetStats",
    "check_target",
]
