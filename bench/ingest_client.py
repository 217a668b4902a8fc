"""Post telegrams to API v1 from CLIENTS concurrent connections; print telegrams/s.

Run by bench_api_ingest.py in its own process, so the clients do not share Home Assistant's
event loop. Arguments: URL KEY CLIENTS MODE, telegrams as JSON on stdin. MODE "raw" writes
each request, built beforehand, on a kept-alive connection and reads the answer's status and
body: about a tenth of the CPU an aiohttp client takes per request (MODE "aiohttp"), which on
a small machine would compete with the server it measures.
"""

from __future__ import annotations

import asyncio
import json
import sys
from time import perf_counter
from urllib.parse import urlencode, urlsplit

import aiohttp


async def post_raw(url: str, key: str, clients: int, frames: list[str]) -> float:
    """Post over plain keep-alive HTTP/1.1 connections; return the seconds taken."""
    parts = urlsplit(url)
    requests = []
    for frame in frames:
        body = urlencode({"telegram": frame}).encode()
        head = (
            f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nX-AUTHKEY: {key}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        requests.append(head.encode() + body)

    async def post_all(chunk: list[bytes]) -> None:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        for request in chunk:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = await reader.readexactly(length)
            if head[9:12] != b"201":
                raise RuntimeError(f"{head[9:12]!r}: {body!r}")
        writer.close()
        await writer.wait_closed()

    start = perf_counter()
    await asyncio.gather(*(post_all(requests[i::clients]) for i in range(clients)))
    return perf_counter() - start


async def post_aiohttp(url: str, key: str, clients: int, frames: list[str]) -> float:
    """Post through one aiohttp session; return the seconds taken."""
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
        return perf_counter() - start


async def main(url: str, key: str, clients: int, mode: str, frames: list[str]) -> None:
    post = post_raw if mode == "raw" else post_aiohttp
    print(len(frames) / await post(url, key, clients, frames))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], json.load(sys.stdin)))
