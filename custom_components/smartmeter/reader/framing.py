"""Cut a byte stream from the P1 port into complete telegrams."""

from __future__ import annotations

from typing import Final, Protocol

from dsmr_parser.clients.telegram_buffer import EncryptedTelegramBuffer

# Far larger than any telegram (about 1 kB): beyond this, what we hold is noise.
MAX_TELEGRAM: Final = 8192
# The line after a telegram's '!': its CRC (4 digits), CR and LF, and some slack.
_CRC_LINE: Final = 8


class Framer(Protocol):
    """Turns chunks of bytes into frames for ``TelegramDecoder.decode``."""

    def feed(self, data: bytes) -> list[str]:
        """Take bytes off the line; return every frame they complete."""


class TelegramFramer:
    """Frames plain telegrams: from '/' to the line ending after the next '!' and its CRC.

    Noise costs only itself: the telegram after it arrives whole. What comes between telegrams
    is handed on as a frame the decoder refuses (so that it is counted) when it looked like
    part of a telegram: bytes holding a '!' (a telegram whose start was lost), once until the
    next '/', and a '/' whose telegram never ended because another '/' came first. Other bytes
    (padding, an idle line) are dropped. Nothing before the first '/' counts: at the start of a
    connection, that is the tail of a telegram sent before. The buffer is bounded.
    """

    __slots__ = ("_buffer", "_counting")

    def __init__(self) -> None:
        """Start empty."""
        self._buffer = ""
        # Whether a '/' came since the last noise was handed on.
        self._counting = False

    def feed(self, data: bytes) -> list[str]:
        """Take bytes off the line; return the telegrams they complete, and refused noise."""
        # latin-1 maps every byte to one character, so nothing can fail here;
        # non-ASCII bytes in a telegram make it fail parsing later.
        buffer = self._buffer + data.decode("latin-1")
        frames: list[str] = []
        position = 0  # what comes before is handed on or dropped
        while (end := buffer.find("!", position)) >= 0:
            start = buffer.rfind("/", position, end)
            if start < 0:
                if self._counting:
                    frames.append(buffer[position : end + 1])
                    self._counting = False
                position = end + 1
                continue
            cut_off = buffer.find("/", position, start)
            if cut_off >= 0:
                frames.append(buffer[cut_off:start])
            # The CRC line ends the telegram, or the next telegram's '/' does.
            line_end = buffer.find("\n", end, end + 1 + _CRC_LINE)
            next_start = buffer.find("/", end, line_end if line_end >= 0 else end + 1 + _CRC_LINE)
            if next_start >= 0:
                stop = next_start
            elif line_end >= 0:
                stop = line_end + 1
            elif len(buffer) > end + _CRC_LINE:
                stop = end + 1 + _CRC_LINE
            else:
                position = start  # the CRC line is still coming
                break
            frames.append(buffer[start:stop])
            self._counting = True
            position = stop
        buffer = buffer[position:]
        start = buffer.find("/")
        if start < 0:
            buffer = ""
        else:
            self._counting = True
            buffer = buffer[start:]
        if len(buffer) > MAX_TELEGRAM:
            frames.append(buffer)
            buffer = ""
            self._counting = False
        self._buffer = buffer
        return frames


class EncryptedFramer:
    """Frames DLMS general-global-cipher frames, as hex (dsmr-parser's buffer)."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        """Start empty."""
        self._buffer = EncryptedTelegramBuffer()

    def feed(self, data: bytes) -> list[str]:
        """Take bytes off the line; return the frames they complete, as hex."""
        self._buffer.append(data)
        return list(self._buffer.get_all())
