"""Turn one framed telegram into dsmr-parser's ``Telegram``, checking its CRC."""

from __future__ import annotations

from array import array
from datetime import UTC, datetime
import logging
import re
import struct
from typing import Final

from dsmr_parser.exceptions import DecryptionError, InvalidChecksumError, ParseError
from dsmr_parser.objects import Telegram
from dsmr_parser.parsers import TelegramParser

from .detect import detect_specification
from .dsmr_reading import DsmrReading, MissingRegister, check_telegram, to_dsmr_reading
from .errors import ChecksumError, DecryptionFailed, TelegramError
from .line_parser import LineParser
from .specifications import Specification

# A CRC follows the '!' from DSMR 4 on, upper-case hex; some meters drop its leading zeros.
_CRC: Final = re.compile(r"[0-9A-F]{1,4}")

_LOGGER: Final = logging.getLogger(__name__)


def _crc16_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC16_TABLE: Final = _crc16_table()


def _crc16_pair_table() -> array[int]:
    # Two bytes at once: the 16-bit register is shifted out whole, so the CRC after a pair is
    # a function of (crc ^ pair) alone. An array (128 KiB) rather than a tuple of ints (2 MiB).
    table = _CRC16_TABLE
    return array(
        "H",
        (table[(table[x & 0xFF] ^ (x >> 8)) & 0xFF] ^ (table[x & 0xFF] >> 8) for x in range(65536)),
    )


_CRC16_PAIR_TABLE: Final = _crc16_pair_table()


def crc16(data: bytes) -> int:
    """Return the CRC-16/ARC of the data, as DSMR computes it from the '/' to the '!'.

    dsmr-parser's own takes several times as long (a hex string per byte), a third of a
    telegram's cost; this one takes two bytes a step.
    """
    crc = 0
    table = _CRC16_PAIR_TABLE
    # Each pair as first byte + 256 * second byte, on any host.
    for pair in struct.unpack_from(f"<{len(data) // 2}H", data):
        crc = table[crc ^ pair]
    if len(data) & 1:
        crc = (crc >> 8) ^ _CRC16_TABLE[(crc ^ data[-1]) & 0xFF]
    return crc


def _crc_text(frame: str, end: int) -> str:
    """Return what stands after the '!' at ``end``, up to the line end: the CRC, if any."""
    tail = frame[end + 1 :].split(maxsplit=1)
    return tail[0] if tail else ""


def check_crc(frame: str) -> None:
    """Raise ChecksumError unless the CRC after the '!' is the one of the '/' ... '!' text."""
    start = frame.find("/")
    end = frame.rfind("!")
    if start < 0 or end < start:
        raise ChecksumError("The telegram has no '/' ... '!' part for its CRC")
    text = _crc_text(frame, end)
    if not _CRC.fullmatch(text):
        raise ChecksumError(f"The telegram has no CRC after its '!': {text!r}")
    expected = int(text, 16)
    calculated = crc16(frame[start : end + 1].encode("latin-1"))
    if calculated != expected:
        raise ChecksumError(
            f"Invalid telegram. The CRC checksum '{calculated}' does not match the expected "
            f"'{expected}'"
        )


class TelegramDecoder:
    """Parses telegrams of one specification and refuses those DSMR-reader would not store.

    A plain telegram runs from '/' to '!'. Its CRC is required where the specification has one
    (DSMR 4 on), and checked whenever present: dsmr-parser only checks it for specifications
    that always carry one, so meters that send a CRC under a "no CRC" specification (Iskra IE)
    would go unchecked. The telegram must carry the registers its specification requires, with
    values DSMR-reader's columns hold, and not be stamped more than a day ahead; a telegram
    without electricity passes only with an M-Bus meter's reading (a heat meter alone).
    Why telegrams lack a register is logged once per register, with the specification they
    look like when it is another.
    """

    __slots__ = ("_encryption_key", "_last", "_lines", "_parser", "_warned", "specification")

    def __init__(self, specification: Specification, encryption_key: str | None = None) -> None:
        """Prepare the parser (it compiles its regexes once)."""
        self.specification = specification
        self._encryption_key = encryption_key or ""
        self._parser = TelegramParser(
            specification.objects, apply_checksum_validation=specification.encrypted
        )
        self._lines = LineParser(specification.objects)
        self._warned: set[str] = set()
        # The last telegram decoded and its reading, which storing it takes again.
        self._last: tuple[Telegram, DsmrReading | None] | None = None

    def decode(self, frame: str) -> Telegram:
        """Parse a frame: telegram text, or hex of a DLMS frame when encrypted."""
        try:
            if self.specification.encrypted:
                # authentication_key=None: decrypt without the GCM tag (its key is
                # unknown for most meters); the decrypted telegram's CRC still counts.
                telegram = self._parser.parse(
                    frame, encryption_key=self._encryption_key, authentication_key=None
                )
            else:
                telegram = self._decode_plain(frame)
        except InvalidChecksumError as err:
            raise ChecksumError(str(err)) from err
        except DecryptionError as err:
            raise DecryptionFailed(str(err)) from err
        except (ParseError, ValueError, IndexError) as err:
            # dsmr-parser raises ValueError/IndexError on some malformed lines.
            raise TelegramError(f"Unparsable telegram: {err}") from err
        try:
            reading = check_telegram(telegram, self.specification, datetime.now(UTC))
        except MissingRegister as err:
            self._warn_once(err.register, frame)
            raise
        self._last = (telegram, reading)
        return telegram

    def dsmr_reading(self, telegram: Telegram, now: datetime) -> DsmrReading:
        """Return a decoded telegram's reading and statistics, as ``to_dsmr_reading`` does.

        The last telegram's were made when it was decoded, a moment before.
        """
        last = self._last
        if last is not None and last[0] is telegram and last[1] is not None:
            reading, statistics = last[1]
            return reading, dict(statistics)
        return to_dsmr_reading(telegram, now, self.specification)

    def _decode_plain(self, frame: str) -> Telegram:
        start = frame.find("/")
        end = frame.rfind("!")
        if start < 0 or end < start:
            raise TelegramError("Not a telegram: no '/' ... '!'")
        if _CRC.fullmatch(_crc_text(frame, end)) or self.specification.checksum_required:
            check_crc(frame)
        return self._lines.parse(frame)

    def _warn_once(self, register: str, frame: str) -> None:
        if register in self._warned:
            return
        self._warned.add(register)
        specification = self.specification
        message = "Telegrams without %s are refused: %s requires it"
        args: list[str] = [register, specification.label]
        if not specification.encrypted:
            looks_like = detect_specification(frame)
            if looks_like.key != specification.key and _takes(looks_like, frame):
                message += "; they look like %s: set the meter up with that"
                args.append(looks_like.label)
        _LOGGER.warning(message, *args)


def _takes(specification: Specification, frame: str) -> bool:
    """Whether this specification would take a plain telegram (whose CRC was checked)."""
    try:
        telegram = LineParser(specification.objects).parse(frame)
        check_telegram(telegram, specification, datetime.now(UTC))
    except TelegramError:
        return False
    return True
