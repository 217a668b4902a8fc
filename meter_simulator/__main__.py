"""Serve a simulated meter on TCP: ``python -m meter_simulator --telegram v5.txt``."""

import argparse
import asyncio
from datetime import datetime
from pathlib import Path
import signal

from meter_simulator import MeterSimulator


async def serve(simulator: MeterSimulator, host: str, port: int, name: str) -> None:
    """Serve the simulator's telegrams until SIGINT or SIGTERM; ``name`` is its template's."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    # Handle the signals in the loop so Ctrl-C and SIGTERM both end in a clean stop.
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    try:
        bound = await simulator.start(host, port)
        print(f"Meter simulator serving {name} on {host}:{bound}", flush=True)
        await stopping.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        await simulator.stop()


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve until stopped."""
    parser = argparse.ArgumentParser(
        prog="python -m meter_simulator", description="Serve a simulated DSMR P1 meter on TCP."
    )
    parser.add_argument("--telegram", type=Path, required=True, help="real telegram as template")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=2001, help="TCP port, 0 for any free one")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between telegrams")
    parser.add_argument("--seed", type=int, default=0, help="seed for the simulated values")
    parser.add_argument(
        "--start",
        type=datetime.fromisoformat,
        help="when the registers read as in the template, e.g. 2026-11-01T00:00:00+00:00 "
        "(default: now); the same start gives the same values on every run",
    )
    args = parser.parse_args(argv)
    simulator = MeterSimulator(
        args.telegram.read_bytes(), seed=args.seed, interval=args.interval, start=args.start
    )
    asyncio.run(serve(simulator, args.host, args.port, str(args.telegram)))


if __name__ == "__main__":
    main()
