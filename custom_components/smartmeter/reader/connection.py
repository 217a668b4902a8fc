"""Where the P1 data comes from: a serial port or a TCP socket."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import serialx

from ..meter.specifications import SerialSettings

CONNECT_TIMEOUT: Final = 10.0

# What opening a port or socket raises when it cannot be had.
CONNECT_ERRORS: Final = (OSError, serialx.SerialException, TimeoutError)


@dataclass(frozen=True, slots=True)
class SerialPort:
    """A local serial device, e.g. a USB P1 cable."""

    device: str
    settings: SerialSettings

    def __str__(self) -> str:
        """Name the port as a user would."""
        return self.device


@dataclass(frozen=True, slots=True)
class NetworkPort:
    """A TCP socket: ser2net, a Wi-Fi P1 dongle, or a simulator."""

    host: str
    port: int

    def __str__(self) -> str:
        """Name the port as a user would."""
        return f"{self.host}:{self.port}"


type Endpoint = SerialPort | NetworkPort


async def connect(
    endpoint: Endpoint, protocol_factory: Callable[[], asyncio.Protocol]
) -> asyncio.BaseTransport:
    """Open the endpoint with the given protocol; raises one of CONNECT_ERRORS."""
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(CONNECT_TIMEOUT):
        if isinstance(endpoint, NetworkPort):
            transport, _ = await loop.create_connection(
                protocol_factory, endpoint.host, endpoint.port
            )
        else:
            settings = endpoint.settings
            transport, _ = await serialx.create_serial_connection(
                loop,
                protocol_factory,
                endpoint.device,
                baudrate=settings.baudrate,
                parity=serialx.Parity(settings.parity),
                byte_size=settings.bytesize,
            )
    return transport
