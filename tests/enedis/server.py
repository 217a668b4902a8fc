"""The simulated Enedis service on a local port, and a client of each access path to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date

import aiohttp
from aiohttp.test_utils import TestServer

from custom_components.smartmeter.enedis import (
    ConsoApiClient,
    DataConnectClient,
    LinkyClient,
    MyElectricalDataClient,
)
from enedis_simulator import CONSO_TOKEN, MED_TOKEN, PRM, EnedisSimulator

ACCESS_PATHS = ("conso_api", "myelectricaldata", "data_connect")


@dataclass
class Service:
    """The simulator and where it listens."""

    simulator: EnedisSimulator
    url: str


@asynccontextmanager
async def enedis_service(today: Callable[[], date]) -> AsyncIterator[Service]:
    """Serve a simulator on 127.0.0.1 whose day is today()."""
    simulator = EnedisSimulator(today=today)
    server = TestServer(simulator.application(), host="127.0.0.1")
    await server.start_server()
    try:
        yield Service(simulator, str(server.make_url("")).rstrip("/"))
    finally:
        await server.close()


async def _access_token() -> str:
    return "simulated-access-token"


def client_of(
    path: str, session: aiohttp.ClientSession, url: str, prm: str = PRM, token: str | None = None
) -> LinkyClient:
    """Return a client of an access path to the service."""
    if path == "conso_api":
        return ConsoApiClient(session, prm, token or CONSO_TOKEN, url)
    if path == "myelectricaldata":
        return MyElectricalDataClient(session, prm, token or MED_TOKEN, url)
    return DataConnectClient(session, prm, _access_token, url)
