"""Serve a simulated Enerest portal: ``python -m solarlog_simulator --port 2080``."""

import argparse
import asyncio
from datetime import UTC, date, datetime, timedelta
import signal

from solarlog_simulator import ADVANCED, BASIC, PortalSimulator
from solarlog_simulator.demo import CLIENT_ID, CLIENT_SECRET, PLANT_ID, PORTAL, demo_portal


async def serve(portal: PortalSimulator, host: str, port: int) -> None:
    """Serve the portal until SIGINT or SIGTERM."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    try:
        bound = await portal.start(host, port)
        print(
            f"Enerest portal simulator on http://{host}:{bound}: portal {PORTAL}, "
            f"client {CLIENT_ID} / {CLIENT_SECRET}, plant {PLANT_ID}",
            flush=True,
        )
        await stopping.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        await portal.close()


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve until stopped."""
    parser = argparse.ArgumentParser(
        prog="python -m solarlog_simulator", description="Serve a simulated Enerest portal."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=2080, help="TCP port, 0 for any free one")
    parser.add_argument(
        "--installed",
        type=date.fromisoformat,
        default=datetime.now(UTC).date() - timedelta(days=400),
        help="the plant's first day (default: 400 days ago)",
    )
    parser.add_argument("--package", choices=(BASIC, ADVANCED), default=ADVANCED)
    args = parser.parse_args(argv)
    asyncio.run(serve(demo_portal(args.installed, args.package), args.host, args.port))


if __name__ == "__main__":
    main()
