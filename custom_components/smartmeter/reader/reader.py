"""Read telegrams from a meter forever, reconnecting after every failure."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
import logging
from time import monotonic
from typing import Final

from dsmr_parser.objects import Telegram

from ..meter.decode import TelegramDecoder
from ..meter.errors import DecryptionFailed, TelegramError
from .connection import CONNECT_ERRORS, Endpoint, connect
from .framing import EncryptedFramer, Framer, TelegramFramer

_LOGGER: Final = logging.getLogger(__name__)

type TelegramCallback = Callable[[Telegram, str], None]
type DisconnectCallback = Callable[[str], None]


@dataclass(slots=True)
class ReaderStats:
    """What the reader has seen, for diagnostics and the repair check."""

    connected: bool = False
    telegrams: int = 0
    rejected: int = 0
    # Frames that did not decrypt with the key since the last valid telegram.
    undecryptable: int = 0
    reconnects: int = 0
    last_error: str | None = None
    # monotonic times
    started_at: float = 0.0
    connected_at: float | None = None
    last_telegram_at: float | None = None


class _P1Protocol(asyncio.Protocol):
    """Frames incoming bytes and hands each frame to the reader."""

    def __init__(self, framer: Framer, on_frame: Callable[[str], None]) -> None:
        self._framer = framer
        self._on_frame = on_frame
        self.closed: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        for frame in self._framer.feed(data):
            self._on_frame(frame)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(str(exc) if exc else "connection closed by the meter")


class MeterReader:
    """Keeps a connection to one meter and passes on every valid telegram.

    Any failure - the port gone, a refused or reset connection, only garbage or
    silence for ``silence_timeout`` - closes the connection and reconnects with
    an exponential backoff capped at ``backoff_max``, forever. An outage is
    logged once when it starts and once when it ends.
    """

    silence_timeout = 60.0
    backoff_start = 1.0
    backoff_max = 30.0

    def __init__(
        self,
        endpoint: Endpoint,
        decoder: TelegramDecoder,
        on_telegram: TelegramCallback,
        on_disconnect: DisconnectCallback,
    ) -> None:
        """Prepare; nothing happens until ``run``."""
        self.endpoint = endpoint
        self.stats = ReaderStats()
        self._decoder = decoder
        self._on_telegram = on_telegram
        self._on_disconnect = on_disconnect
        self._failures = 0
        self._in_outage = False

    def silent_while_connected(self, window: float) -> bool:
        """Tell whether the meter was reachable but gave no valid telegram in ``window`` s."""
        stats = self.stats
        now = monotonic()
        last_valid = stats.last_telegram_at or stats.started_at
        reachable = stats.connected or (
            stats.connected_at is not None and now - stats.connected_at < window
        )
        return reachable and now - last_valid >= window

    async def run(self) -> None:
        """Read until cancelled."""
        self.stats.started_at = monotonic()
        while True:
            reason = await self._read_once()
            self._failures += 1
            self._outage(reason)
            delay = min(self.backoff_start * 2 ** (self._failures - 1), self.backoff_max)
            await asyncio.sleep(delay)

    async def _read_once(self) -> str:
        """Connect, read until the connection fails, and return why it did."""
        framer = EncryptedFramer() if self._decoder.specification.encrypted else TelegramFramer()
        protocol = _P1Protocol(framer, self._handle_frame)
        try:
            transport = await connect(self.endpoint, lambda: protocol)
        except CONNECT_ERRORS as err:
            return f"cannot connect: {err or type(err).__name__}"
        stats = self.stats
        stats.connected = True
        stats.connected_at = monotonic()
        try:
            return await self._watch(protocol)
        finally:
            stats.connected = False
            transport.close()

    async def _watch(self, protocol: _P1Protocol) -> str:
        """Wait for the connection to close, or to give no valid telegram for too long."""
        stats = self.stats
        assert stats.connected_at is not None
        while True:
            last_valid = max(stats.last_telegram_at or 0.0, stats.connected_at)
            remaining = last_valid + self.silence_timeout - monotonic()
            if remaining <= 0:
                return f"no valid telegram for {self.silence_timeout:g} s"
            try:
                async with asyncio.timeout(remaining):
                    return await asyncio.shield(protocol.closed)
            except TimeoutError:
                continue

    def _outage(self, reason: str) -> None:
        stats = self.stats
        stats.last_error = reason
        stats.reconnects += 1
        if not self._in_outage:
            self._in_outage = True
            _LOGGER.warning("Meter at %s is unavailable: %s; reconnecting", self.endpoint, reason)
            self._on_disconnect(reason)
        else:
            _LOGGER.debug("Meter at %s still unavailable: %s", self.endpoint, reason)

    def _handle_frame(self, frame: str) -> None:
        stats = self.stats
        try:
            telegram = self._decoder.decode(frame)
        except TelegramError as err:
            stats.rejected += 1
            if isinstance(err, DecryptionFailed):
                stats.undecryptable += 1
            _LOGGER.debug("Rejected telegram from %s: %s", self.endpoint, err)
            return
        stats.telegrams += 1
        stats.undecryptable = 0
        stats.last_telegram_at = monotonic()
        self._failures = 0
        if self._in_outage:
            self._in_outage = False
            _LOGGER.info("Meter at %s is available again", self.endpoint)
        self._on_telegram(telegram, frame)
