"""Find out what is on the other end of a P1 connection: line settings and format."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from functools import partial
import logging
from time import monotonic
from typing import Final, Literal

from dsmr_parser.objects import Telegram

from ..meter.decode import TelegramDecoder
from ..meter.detect import detect_specification
from ..meter.errors import DecryptionFailed, TelegramError
from ..meter.reading import identification_line
from ..meter.specifications import SERIAL_CANDIDATES, SPECIFICATIONS, Specification
from .connection import CONNECT_ERRORS, Endpoint, NetworkPort, SerialPort, connect
from .framing import EncryptedFramer, TelegramFramer

_LOGGER: Final = logging.getLogger(__name__)

PROBE_TIMEOUT: Final = 30.0
# DSMR 2.2/3 meters send every 10 s: a line setting gets a little longer than that.
PER_SETTING_TIMEOUT: Final = 11.0
# This much data without one valid telegram means the line settings are wrong.
_NOISE_LIMIT: Final = 2048

type ProbeFailure = Literal["cannot_connect", "no_telegram", "invalid_telegram", "invalid_key"]


class ProbeError(Exception):
    """The probe found no usable meter; ``reason`` is the config flow's error key."""

    def __init__(self, reason: ProbeFailure) -> None:
        """Keep the reason."""
        super().__init__(reason)
        self.reason: ProbeFailure = reason


class EncryptionKeyRequired(Exception):
    """The meter sends encrypted telegrams and no key was given."""


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What the probe found."""

    endpoint: Endpoint
    specification: Specification
    telegram: Telegram
    identification: str

    @property
    def equipment_id(self) -> str | None:
        """Return the meter's equipment identifier, if its format has one."""
        name = self.specification.equipment_id
        obj = getattr(self.telegram, name, None) if name else None
        value = getattr(obj, "value", None)
        return str(value) if value else None


class _Listener(asyncio.Protocol):
    """Collects plain telegrams and encrypted frames until one is usable."""

    def __init__(self, encryption_key: str | None) -> None:
        self._plain = TelegramFramer()
        self._encrypted = EncryptedFramer()
        self._key = encryption_key
        self.received = 0
        self.invalid = 0
        self.encrypted_seen = False
        self._decoders: dict[str, TelegramDecoder] = {}
        # None: the line closed before a usable telegram came.
        self.result: asyncio.Future[tuple[Specification, Telegram, str] | None] = (
            asyncio.get_running_loop().create_future()
        )

    def data_received(self, data: bytes) -> None:
        if self.result.done():
            return
        self.received += len(data)
        for frame in self._plain.feed(data):
            self._try_plain(frame)
        for frame in self._encrypted.feed(data):
            self.encrypted_seen = True
            self._try_encrypted(frame)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.result.done():
            self.result.set_result(None)

    def _try_plain(self, frame: str) -> None:
        specification = detect_specification(frame)
        # One decoder per type, which logs why it refuses telegrams once.
        decoder = self._decoders.get(specification.key)
        if decoder is None:
            decoder = self._decoders[specification.key] = TelegramDecoder(specification)
        try:
            telegram = decoder.decode(frame)
        except TelegramError as err:
            self.invalid += 1
            _LOGGER.debug("Probe: rejected %s telegram: %s", specification.key, err)
            return
        if not self.result.done():
            self.result.set_result((specification, telegram, identification_line(frame)))

    def _try_encrypted(self, frame: str) -> None:
        if self.result.done():
            return
        if self._key is None:
            self.result.set_exception(EncryptionKeyRequired())
            return
        # The Smarty spec decrypts either meter; its equipment id tells them apart.
        try:
            telegram = TelegramDecoder(SPECIFICATIONS["MSn"], self._key).decode(frame)
            if not hasattr(telegram, "LUXEMBOURG_EQUIPMENT_IDENTIFIER"):
                specification = SPECIFICATIONS["SAGEMCOM_T210_D_R"]
                telegram = TelegramDecoder(specification, self._key).decode(frame)
            else:
                specification = SPECIFICATIONS["MSn"]
        except DecryptionFailed:
            self.result.set_exception(ProbeError("invalid_key"))
            return
        except TelegramError:
            self.invalid += 1
            return
        self.result.set_result((specification, telegram, ""))


async def probe(
    endpoint: Endpoint,
    *,
    encryption_key: str | None = None,
    timeout: float = PROBE_TIMEOUT,  # noqa: ASYNC109 - one deadline across line settings
    per_setting: float = PER_SETTING_TIMEOUT,
) -> ProbeResult:
    """Listen to the meter until a valid telegram tells what it is.

    For a serial port, each usual line setting is tried in turn; the endpoint in
    the result carries the one that worked. Raises ``ProbeError`` or
    ``EncryptionKeyRequired``.
    """
    deadline = monotonic() + timeout
    candidates: list[Endpoint] = (
        [replace(endpoint, settings=settings) for settings in SERIAL_CANDIDATES]
        if isinstance(endpoint, SerialPort)
        else [endpoint]
    )
    connected = invalid = False
    for candidate in candidates:
        budget = deadline - monotonic()
        if isinstance(candidate, SerialPort):
            budget = min(budget, per_setting)
        if budget <= 0:
            break
        listener = _Listener(encryption_key)
        try:
            transport = await connect(candidate, partial(_same, listener))
        except CONNECT_ERRORS as err:
            _LOGGER.debug("Probe: cannot open %s: %s", candidate, err)
            continue
        connected = True
        try:
            found = await _listen(listener, budget)
        finally:
            transport.close()
        invalid |= listener.invalid > 0
        if found is not None:
            specification, telegram, identification = found
            return ProbeResult(candidate, specification, telegram, identification)
        if isinstance(candidate, NetworkPort):
            break
    if not connected:
        raise ProbeError("cannot_connect")
    raise ProbeError("invalid_telegram" if invalid else "no_telegram")


def _same(listener: _Listener) -> _Listener:
    return listener


async def _listen(listener: _Listener, budget: float) -> tuple[Specification, Telegram, str] | None:
    """Wait for a usable telegram; give up early on noise or a closed line."""
    end = monotonic() + budget
    while (remaining := end - monotonic()) > 0:
        try:
            async with asyncio.timeout(min(remaining, 0.25)):
                return await asyncio.shield(listener.result)
        except TimeoutError:
            if listener.received > _NOISE_LIMIT and not listener.encrypted_seen:
                return None
    return None
