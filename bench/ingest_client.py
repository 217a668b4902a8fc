"""Post telegrams to API v1 from CLIENTS concurrent connections; print telegrams/s.

Run by bench_api_ingest.py in its own process, so the clients do not share Home
Assistant's event loop. Arguments: URL KEY CLIENTS, telegrams as JSON on stdin.
"""

from __future__ import annotations

import asyncio
import json
import sys
from time import perf_counter

import aiohttp


async def main(url: str, key: str, clients: int, frames: list[str]) -> None:
    async with aiohttp.ClientSession() as session:

        async def post_all(chunk: list[str]) -> None:
            for frame in chunk:
                async with session.post(
                    url, data={"telegram": frame}, headers={"X-AUTHKEY": key}
                ) as response:
                    if response.status != 201:
                        raise RuntimeError(f"{response.status}: {await response.text()}")

        start = perf_counter()
        await asyncio.gather(*(post_all(frames[i::clients]) for i in range(clients)))
        print(len(frames) / (perf_counter() - start))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), json.load(sys.stdin)))
