"""Cut a byte stream from the P1 port into complete telegrams."""

from __future__ import annotations

from typing import Final, Protocol

from dsmr_parser.clients.telegram_buffer import EncryptedTelegramBuffer

# Far larger than any telegram (about 1 kB): beyond this, what we hold is noise.
MAX_TELEGRAM: Final = 8192


class Framer(Protocol):
    """Turns chunks of bytes into frames for ``TelegramDecoder.decode``."""

    def feed(self, data: bytes) -> list[str]:
        """Take bytes off the line; return every frame they complete."""


class TelegramFramer:
    """Frames plain telegrams: from '/' to the line ending after '!' and its CRC.

    Only '/' starts a telegram, so bytes before the last '/' preceding a '!'
    belong to a telegram that was cut off and are dropped, as are bytes outside
    any telegram (noise, or padding some meters send). The buffer is bounded.
    """

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        """Start empty."""
        self._buffer = ""

    def feed(self, data: bytes) -> list[str]:
        """Take bytes off the line; return the telegrams they complete."""
        # latin-1 maps every byte to one character, so nothing can fail here;
        # non-ASCII bytes in a telegram make it fail parsing later.
        buffer = self._buffer + data.decode("latin-1")
        frames: list[str] = []
        while (end := buffer.find("!")) >= 0:
            line_end = buffer.find("\n", end)
            if line_end < 0:
                if len(buffer) - end > 8:  # a CRC is 4 digits: no line end is coming
                    buffer = buffer[end + 1 :]
                    continue
                break
            start = buffer.rfind("/", 0, end)
            if start >= 0:
                frames.append(buffer[start : line_end + 1])
            buffer = buffer[line_end + 1 :]
        start = buffer.find("/")
        buffer = "" if start < 0 else buffer[start:]
        if len(buffer) > MAX_TELEGRAM:
            buffer = ""
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
