"""python -m solarlog_simulator: the demo portal scripts/develop runs, until SIGTERM."""

from __future__ import annotations

import asyncio
from datetime import date
import os
import signal

import aiohttp
import pytest

from solarlog_simulator import BASIC, PortalSimulator
from solarlog_simulator.__main__ import main, serve
from solarlog_simulator.demo import CLIENT_ID, CLIENT_SECRET, PLANT_ID, demo_portal


def test_command_line_options(monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[tuple[PortalSimulator, str, int]] = []

    async def record(portal: PortalSimulator, host: str, port: int) -> None:
        served.append((portal, host, port))

    monkeypatch.setattr("solarlog_simulator.__main__.serve", record)
    main([])
    main(["--host", "::1", "--port", "0", "--installed", "2025-03-01", "--package", BASIC])
    (default, _, _), (chosen, host, port) = served
    assert (default.clients[CLIENT_ID].package, served[0][1:]) == ("advanced", ("127.0.0.1", 2080))
    assert (chosen.plants[PLANT_ID].installed, chosen.clients[CLIENT_ID].package) == (
        date(2025, 3, 1),
        BASIC,
    )
    assert (host, port) == ("::1", 0)


@pytest.mark.usefixtures("socket_enabled")
async def test_serve_until_sigterm(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    portal = demo_portal(date(2026, 1, 1))
    started = asyncio.Event()
    start = portal.start

    async def start_and_tell(host: str, port: int) -> int:
        bound = await start(host, port)
        started.set()
        return bound

    monkeypatch.setattr(portal, "start", start_and_tell)
    serving = asyncio.create_task(serve(portal, "127.0.0.1", 0))
    async with asyncio.timeout(30):
        await started.wait()
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                portal.token_url,
                data={
                    "grant_type": "client_credentials",
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                },
            ) as response,
        ):
            assert response.status == 200
        os.kill(os.getpid(), signal.SIGTERM)
        await serving
    assert capsys.readouterr().out == (
        f"Enerest portal simulator on {portal.url}: portal demo, "
        f"client {CLIENT_ID} / {CLIENT_SECRET}, plant {PLANT_ID}\n"
    )
    with pytest.raises(aiohttp.ClientConnectionError):
        async with aiohttp.ClientSession() as session, session.get(portal.url):
            pass
