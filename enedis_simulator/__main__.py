"""Run the simulated Enedis service: python -m enedis_simulator [port] (127.0.0.1)."""

from __future__ import annotations

import sys

from aiohttp import web

from .simulator import EnedisSimulator


def main() -> None:
    """Serve on loopback until stopped."""
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8765
    web.run_app(EnedisSimulator().application(), host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    main()
