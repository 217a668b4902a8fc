"""Stand-ins for a meter: a localhost TCP server and a pseudo-terminal serial port."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
import termios
from typing import Final

from dsmr_parser.parsers import TelegramParser

TELEGRAMS: Final = Path(__file__).resolve().parents[2] / "shared" / "telegrams"


def telegram(name: str) -> bytes:
    """Return a real telegram, byte-exact."""
    return (TELEGRAMS / name).read_bytes()


def with_crc(body: str) -> str:
    """Close a telegram body (from '/' up to '!') with its CRC (dsmr-parser's, as an oracle)."""
    return f"{body}{TelegramParser.crc16(body):04X}\r\n"


def edited(name: str, *changes: tuple[str, str]) -> str:
    """Return a real telegram with text replaced (each must occur) and its CRC made right."""
    text = telegram(name).decode("latin-1")
    body = text[: text.rindex("!") + 1]
    for old, new in changes:
        assert old in body, old
        body = body.replace(old, new)
    return with_crc(body)


class TcpMeter:
    """A TCP server that sends what the test says, or repeats a telegram by itself.

    With ``repeat`` set, every client gets it every ``interval`` seconds, as a
    meter would; otherwise the test calls ``send``.
    """

    def __init__(self, repeat: bytes | None = None, interval: float = 0.05) -> None:
        self.repeat = repeat
        self.interval = interval
        self.port = 0
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._connected = asyncio.Event()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.append(writer)
        self._connected.set()
        try:
            while self.repeat is not None and not writer.is_closing():
                writer.write(self.repeat)
                await writer.drain()
                await asyncio.sleep(self.interval)
            await reader.read()  # until the client goes
        except OSError:
            pass
        finally:
            self._writers.remove(writer)
            self._tasks.discard(task)
            writer.close()

    async def wait_connected(self, connections: int = 1) -> None:
        async with asyncio.timeout(30):
            while self.connections < connections or not self._writers:
                self._connected.clear()
                await self._connected.wait()

    async def send(self, data: bytes) -> None:
        await self.wait_connected()
        for writer in list(self._writers):
            writer.write(data)
            await writer.drain()

    async def drop_clients(self) -> None:
        for writer in list(self._writers):
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def stop(self) -> None:
        """Stop listening (connections are then refused) and drop clients."""
        if self._server is not None:
            self._server.close()
            await self.drop_clients()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None


class PtyMeter:
    """A pseudo-terminal as the meter's serial port, at a given baud rate.

    Bytes sent while the port is set to another speed arrive garbled, as on a
    real line, so line-setting detection is tested for real.
    """

    def __init__(self, baudrate: int = 115200) -> None:
        self.baudrate = baudrate
        self._master, self._slave = os.openpty()
        self.device = os.ttyname(self._slave)

    def line_speed(self) -> int:
        return int(termios.tcgetattr(self._slave)[5])

    def send(self, data: bytes) -> None:
        if self.line_speed() != self.baudrate:
            data = bytes(byte | 0x80 for byte in data)
        os.write(self._master, data)

    def drain(self) -> None:
        """Throw away what the reader did not take."""
        termios.tcflush(self._slave, termios.TCIFLUSH)

    def close(self) -> None:
        os.close(self._master)
        os.close(self._slave)


async def repeat_on_pty(meter: PtyMeter, data: bytes, interval: float = 0.05) -> None:
    """Send a telegram over the pseudo-terminal until cancelled."""
    while True:
        meter.send(data)
        await asyncio.sleep(interval)
