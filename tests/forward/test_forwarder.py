"""Forwarding telegrams to DSMR-reader instances, against a local fake of its v1 API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from datetime import UTC, datetime
import logging
from pathlib import Path
import sqlite3
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer, unused_port
import pytest

from custom_components.smartmeter.forward import (
    BlockedReason,
    Forwarder,
    ForwardQueue,
    ForwardQueueError,
    Target,
    TargetStats,
)
from tests.common import UNTIL_TIMEOUT

KEY = "A" * 64
OTHER_KEY = "B" * 64
PATH = "/api/v1/datalogger/dsmrreading"
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
FAST: dict[str, Any] = {"backoff_base": 0.01, "backoff_cap": 0.04, "timeout": 2.0}


def telegram(number: int) -> str:
    """Return a distinct telegram with CRLF line ends, as a meter sends it."""
    return (
        "/ISK5\\2M550T-1012\r\n\r\n"
        "0-0:1.0.0(260501120000S)\r\n"
        f"1-0:1.8.1({number:06d}.123*kWh)\r\n"
        "1-0:1.7.0(00.123*kW)\r\n"
        f"!{number:04X}"
    )


TELEGRAMS = [telegram(number) for number in range(8)]


async def until(predicate: Callable[[], bool]) -> None:
    """Let the loop run until predicate() holds; fail after UNTIL_TIMEOUT seconds."""
    async with asyncio.timeout(UNTIL_TIMEOUT):
        while not predicate():  # noqa: ASYNC110 - polling what other tasks change
            await asyncio.sleep(0.005)


class FakeDsmrReader:
    """DSMR-reader's v1 datalogger endpoint, with faults to order."""

    def __init__(self, key: str = KEY) -> None:
        self.key = key
        self.enabled = True
        self.received: list[str] = []  # stored telegrams, in arrival order
        self.bodies: list[tuple[str, bytes]] = []  # (content type, body) of the stored
        self.attempts: list[str] = []  # every telegram posted with a valid key
        self.answers: list[tuple[int, str]] = []  # answers to give first, storing nothing
        self.refuse: dict[str, tuple[int, str]] = {}  # telegrams never stored, and why
        self.hang = 0  # requests to leave unanswered for a while, storing nothing
        self.gate = asyncio.Event()  # a stored telegram is answered once this is set
        self.gate.set()
        self.server: TestServer | None = None
        self.port = unused_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PATH}"

    def target(self, key: str | None = None) -> Target:
        return Target(self.url, self.key if key is None else key)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post(PATH, self.handle)
        self.server = TestServer(app, host="127.0.0.1", port=self.port)
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()
            self.server = None

    async def handle(self, request: web.Request) -> web.Response:
        if not self.enabled:
            return web.Response(status=405, text="API is disabled", headers={"Allow": "POST"})
        if request.headers.get("X-AUTHKEY") != self.key:
            return web.Response(status=403, text="Invalid auth key")
        body = await request.read()
        form = await request.post()
        text = str(form.get("telegram", "")).strip().strip("\x00")
        if not text:
            return web.Response(status=400, text="Invalid data")
        self.attempts.append(text)
        fault = await self.fault(text)
        if fault is not None:
            return web.Response(status=fault[0], text=fault[1])
        self.received.append(text)
        self.bodies.append((request.content_type, body))
        await self.gate.wait()
        return web.Response(status=201)

    async def fault(self, text: str) -> tuple[int, str] | None:
        """Return the answer ordered for this request instead of storing it, if any."""
        if self.hang:
            self.hang -= 1
            await asyncio.sleep(1.5)
            return 503, ""
        if self.answers:
            return self.answers.pop(0)
        return self.refuse.get(text)


@pytest.fixture
async def session(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def readers() -> AsyncIterator[Callable[..., Awaitable[FakeDsmrReader]]]:
    """Make fake DSMR-readers (started unless start=False); close them after the test."""
    made: list[FakeDsmrReader] = []

    async def make(key: str = KEY, *, start: bool = True) -> FakeDsmrReader:
        reader = FakeDsmrReader(key)
        made.append(reader)
        if start:
            await reader.start()
        return reader

    yield make
    for reader in made:
        reader.gate.set()
        await reader.close()


Make = Callable[..., Awaitable[Forwarder]]


@pytest.fixture
async def forwarders(session: aiohttp.ClientSession, tmp_path: Path) -> AsyncIterator[Make]:
    """Make forwarders on a queue file in tmp_path; stop them and close their queues after."""
    made: list[tuple[Forwarder, ForwardQueue]] = []

    async def make(
        targets: Sequence[Target],
        *,
        max_items: int = 100_000,
        run: bool = True,
        **options: Any,
    ) -> Forwarder:
        queue = await asyncio.to_thread(
            ForwardQueue.open, tmp_path / "forward.db", max_items=max_items
        )
        try:
            forwarder = Forwarder(
                session, queue, targets, asyncio.to_thread, now=lambda: NOW, **(FAST | options)
            )
        except ValueError:
            await asyncio.to_thread(queue.close)
            raise
        made.append((forwarder, queue))
        if run:
            await forwarder.run()
        return forwarder

    yield make
    for forwarder, queue in made:
        await forwarder.stop()
        await asyncio.to_thread(queue.close)


@pytest.fixture
def delays(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record every backoff delay the forwarders choose."""
    chosen: list[float] = []
    original = Forwarder._delay

    def record(self: Forwarder, sender: Any) -> float:
        delay = original(self, sender)
        chosen.append(delay)
        return delay

    monkeypatch.setattr(Forwarder, "_delay", record)
    return chosen


def stats(forwarder: Forwarder, target: Target) -> TargetStats:
    return forwarder.stats()[target.id]


def healthy(target: Target, sent: int, **changes: Any) -> TargetStats:
    """Return the stats of a target that took sent telegrams and nothing went wrong."""
    values: dict[str, Any] = {
        "target_id": target.id,
        "url": target.url,
        "sent": sent,
        "dropped_rejected": 0,
        "dropped_overflow": 0,
        "waiting": 0,
        "consecutive_failures": 0,
        "last_error": None,
        "last_success": NOW if sent else None,
        "blocked_reason": None,
    }
    return TargetStats(**(values | changes))


async def settled(forwarder: Forwarder) -> None:
    """Wait until no target has anything queued, then a moment longer for strays."""
    await until(lambda: all(s.waiting == 0 for s in forwarder.stats().values()))
    await asyncio.sleep(0.05)


async def submit_all(forwarder: Forwarder, telegrams: Sequence[str]) -> None:
    for text in telegrams:
        await forwarder.submit(text)


# Delivery


async def test_two_targets_get_every_telegram_in_order(
    readers: Callable[..., Awaitable[FakeDsmrReader]], forwarders: Make
) -> None:
    one = await readers(KEY)
    two = await readers(OTHER_KEY)
    forwarder = await forwarders([one.target(), two.target()])
    await submit_all(forwarder, TELEGRAMS[:5])
    await settled(forwarder)
    for reader in (one, two):
        assert reader.received == TELEGRAMS[:5]
        assert reader.bodies == [
            ("application/x-www-form-urlencoded", urlencode({"telegram": text}).encode())
            for text in TELEGRAMS[:5]
        ]
        assert stats(forwarder, reader.target()) == healthy(reader.target(), 5)
    assert list(forwarder.stats()) == [one.target().id, two.target().id]
    assert forwarder.targets == [one.target(), two.target()]


@pytest.mark.allow_log(r"^Cannot forward to .*\(ClientConnectorError")
async def test_target_down_then_up_gets_everything_once(
    readers: Callable[..., Awaitable[FakeDsmrReader]],
    forwarders: Make,
    delays: list[float],
    caplog: pytest.LogCaptureFixture,
) -> None:
    reader = await readers(start=False)
    target = reader.target()
    forwarder = await forwarders([target])
    await submit_all(forwarder, TELEGRAMS[:3])
    await until(lambda: stats(forwarder, target).consecutive_failures >= 5)
    down = stats(forwarder, target)
    assert down.waiting == 3
    assert down.sent == 0
    assert down.blocked_reason is None
    assert down.last_error is not None
    assert down.last_error.startswith(
        f"ClientConnectorError: Cannot connect to host 127.0.0.1:{reader.port}"
    )
    # Doubling from the base up to the cap.
    assert delays[:5] == [0.01, 0.02, 0.04, 0.04, 0.04]
    await reader.start()
    await until(lambda: len(reader.received) == 3)
    await submit_all(forwarder, TELEGRAMS[3:6])
    await settled(forwarder)
    assert reader.received == TELEGRAMS[:6]
    assert stats(forwarder, target) == healthy(target, 6, last_error=down.last_error)
    messages = [(r.levelname, r.getMessage()) for r in caplog.records if "forward" in r.name]
    assert messages == [
        ("WARNING", f"Cannot forward to {reader.url} ({down.last_error}); retrying"),
        ("INFO", f"Forwarding to {reader.url} works again"),
    ]


async def test_restart_resumes_without_duplicates(
    readers: Callable[..., Awaitable[FakeDsmrReader]], forwarders: Make, tmp_path: Path
) -> None:
    reader = await readers()
    target = reader.target()
    forwarder = await forwarders([target])
    await submit_all(forwarder, TELEGRAMS[:2])
    await until(lambda: stats(forwarder, target).sent == 2)
    # The third is stored by the target but not yet answered when the stop comes.
    reader.gate.clear()
    await submit_all(forwarder, TELEGRAMS[2:6])
    await until(lambda: len(reader.received) == 3)
    stopping = asyncio.create_task(forwarder.stop())
    await asyncio.sleep(0.05)
    assert not stopping.done()  # it waits for the answer under way
    reader.gate.set()
    await stopping
    assert reader.received == TELEGRAMS[:3]
    assert stats(forwarder, target) == healthy(target, 3, waiting=3)
    await asyncio.sleep(0.05)
    assert reader.received == TELEGRAMS[:3]  # stopped: nothing more is sent

    again = await forwarders([target])  # reopens the same file
    assert stats(again, target) == healthy(target, 0, waiting=3)
    await until(lambda: len(reader.received) == 6)
    await again.submit(TELEGRAMS[6])
    await settled(again)
    assert reader.received == TELEGRAMS[:7]
    assert stats(again, target) == healthy(target, 4)


async def test_stop_cancels_a_sender_stuck_beyond_grace(
    readers: Callable[..., Awaitable[FakeDsmrReader]], forwarders: Make
) -> None:
    reader = await readers()
    reader.gate.clear()
    target = reader.target()
    forwarder = await forwarders([target])
    await forwarder.submit(TELEGRAMS[0])
    await until(lambda: len(reader.received) == 1)
    await forwarder.stop(grace=0.05)
    # Not answered, so not removed: it is sent again after a restart.
    assert stats(forwarder, target).waiting == 1
    assert stats(forwarder, target).sent == 0
    reader.gate.set()
    again = await forwarders([target])
    await until(lambda: stats(again, target).sent == 1)
    assert reader.received == [TELEGRAMS[0], TELEGRAMS[0]]


async def test_bound_drops_the_oldest_and_counts_them(
    readers: Callable[..., Awaitable[FakeDsmrReader]], forwarders: Make
) -> None:
    reader = await readers()
    target = reader.target()
    forwarder = await forwarders([target], max_items=3, run=False)
    await submit_all(forwarder, TELEGRAMS[:5])
    assert stats(forwarder, target) == healthy(target, 0, waiting=3, dropped_overflow=2)
    await forwarder.run()
    await settled(forwarder)
    assert reader.received == TELEGRAMS[2:5]
    assert stats(forwarder, target) == healthy(target, 3, dropped_overflow=2)


# Answers


@pytest.mark.parametrize(
    ("status", "text"), [(500, "Failed to parse telegram"), (400, "Invalid data")]
)
@pytest.mark.allow_log(r"refused a telegram for good")
async def test_refused_telegram_is_dropped_and_the_next_continues(
    readers: Callable[..., Awaitable[FakeDsmrReader]],
    forwarders: Make,
    caplog: pytest.LogCaptureFixture,
    status: int,
    text: str,
) -> None:
    reader = await readers()
    reader.refuse[TELEGRAMS[1]] = (status, text)
    target = reader.target()
    forwarder = await forwarders([target])
    await submit_all(forwarder, TELEGRAMS[:3])
    await settled(forwarder)
    assert reader.received == [TELEGRAMS[0], TELEGRAMS[2]]
    assert reader.attempts == TELEGRAMS[:3]  # one try only
    error = f"HTTP {status}: {text}"
    assert stats(forwarder, target) == healthy(target, 2, dropped_rejected=1, last_error=error)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [f"{reader.url} refused a telegram for good ({error}): dropped it"]


@pytest.mark.allow_log(r"^Cannot forward to .*\(HTTP 500", r"refused a telegram for good")
async def test_unexplained_500_is_retried_then_given_up(
    readers: Callable[..., Awaitable[FakeDsmrReader]], forwarders: Make
) -> None:
    reader = await readers()
    reader.refuse[TELEGRAMS[1]] = (500, "Failed to store telegram")
    reader.answers = [(500, "Server Error")]  # once for the first: a passing outage
    target = reader.target()
    forwarder = await forwarders([target], server_error_limit=3)
    await submit_all(forwarder, TELEGRAMS[:3])
    await settled(forwarder)
    assert reader.received == [TELEGRAMS[0], TELEGRAMS[2]]
    assert reader.attempts == [TELEGRAMS[0]] * 2 + [TELEGRAMS[1]] * 3 + [TELEGRAMS[2]]
    assert stats(forwarder, target) == healthy(
        target, 2, dropped_rejected=1, last_error="HTTP 500: Failed to store telegram"
    )


@pytest.mark.parametrize(
    ("answers", "error"),
    [
        ([(503, "")], "HTTP 503"),
        ([(429, "slow down"), (502, "Bad Gateway")], "HTTP 502: Bad Gateway"),
    ],
)
@pytest.mark.allow_log(r"^Cannot forward to .*\(HTTP (429|502|503)")
async def test_busy_target_is_retried_in_order(
    readers: Callable[..., Awaitable[FakeDsmrReader]],
    forwarders: Make,
    answers: list[tuple[int, str]],
    error: str,
) -> None:
    reader = await readers()
    reader.answers = list(answers)
    target = reader.target()
    forwarder = await forwarders([target])
    await submit_all(forwarder, TELEGRAMS[:3])
    await settled(forwarder)
    assert reader.received == TELEGRAMS[:3]
    assert reader.attempts == [TELEGRAMS[0]] * (len(answers) + 1) + TELEGRAMS[1:3]
    assert stats(forwarder, target) == healthy(target, 3, last_error=error)


@pytest.mark.allow_log(r"^Cannot forward to .*\(no answer within")
async def test_timeout_is_retried(
    readers: Callable[..., Awaitable[FakeDsmrReader]], forwarders: Make
) -> None:
    reader = await readers()
    reader.hang = 1
    target = reader.target()
    forwarder = await forwarders([target], timeout=0.5)
    await forwarder.submit(TELEGRAMS[0])
    await settled(forwarder)
    assert reader.attempts == [TELEGRAMS[0]] * 2
    assert stats(forwarder, target) == healthy(target, 1, last_error="no answer within 0.5 s")


@pytest.mark.parametrize(
    ("fault", "reason", "error"),
    [
        ("key", BlockedReason.INVALID_AUTH, "HTTP 403: Invalid auth key"),
        ("disabled", BlockedReason.API_DISABLED, "HTTP 405: API is disabled"),
        ("path", BlockedReason.UNEXPECTED_RESPONSE, "HTTP 404: 404: Not Found"),
    ],
)
@pytest.mark.allow_log(r"refuses all telegrams")
async def test_refusing_target_blocks_keeps_items_and_recovers(
    readers: Callable[..., Awaitable[FakeDsmrReader]],
    forwarders: Make,
    delays: list[float],
    *,
    caplog: pytest.LogCaptureFixture,
    fault: str,
    reason: BlockedReason,
    error: str,
) -> None:
    reader = await readers()
    target = reader.target()
    if fault == "key":
        reader.key = OTHER_KEY
    elif fault == "disabled":
        reader.enabled = False
    else:
        target = Target(reader.url + "/", KEY)  # DSMR-reader has no trailing slash
    forwarder = await forwarders([target])
    await submit_all(forwarder, TELEGRAMS[:2])
    await until(lambda: stats(forwarder, target).consecutive_failures >= 3)
    assert stats(forwarder, target) == healthy(
        target,
        0,
        waiting=2,
        consecutive_failures=stats(forwarder, target).consecutive_failures,
        last_error=error,
        blocked_reason=reason,
    )
    assert set(delays) == {0.04}  # straight to the cap
    assert reader.received == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"{target.url} refuses all telegrams ({error}); keeping them until it accepts them"
    ]
    if fault == "path":
        # A corrected URL is another target, with a queue of its own: see the pruning test.
        return
    # Set right at the target.
    reader.key = KEY
    reader.enabled = True
    await settled(forwarder)
    assert reader.received == TELEGRAMS[:2]
    assert stats(forwarder, target) == healthy(target, 2, last_error=error)


@pytest.mark.allow_log(r"refuses all telegrams")
async def test_fixing_the_key_keeps_the_queue(
    readers: Callable[..., Awaitable[FakeDsmrReader]], forwarders: Make
) -> None:
    """A target's queue is named by its URL, so a new key still gets what was kept."""
    reader = await readers()
    wrong = reader.target(OTHER_KEY)
    forwarder = await forwarders([wrong])
    await submit_all(forwarder, TELEGRAMS[:2])
    await until(lambda: stats(forwarder, wrong).blocked_reason is BlockedReason.INVALID_AUTH)
    await forwarder.stop()
    right = reader.target()
    assert right.id == wrong.id
    await forwarders([right])
    await until(lambda: len(reader.received) == 2)
    assert reader.received == TELEGRAMS[:2]


# Forwarder edges


@pytest.mark.allow_log(r"^Forwarding to .* failed$")
async def test_queue_failure_is_reported_and_retried(
    readers: Callable[..., Awaitable[FakeDsmrReader]],
    forwarders: Make,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    reader = await readers()
    target = reader.target()
    forwarder = await forwarders([target])
    queue = forwarder._queue
    await asyncio.to_thread(queue.close)
    with pytest.raises(ForwardQueueError, match="the forward queue is closed"):
        await forwarder.submit(TELEGRAMS[0])
    forwarder._senders[0].wake.set()  # as a submit does
    await until(lambda: stats(forwarder, target).consecutive_failures >= 2)
    assert stats(forwarder, target).last_error == ("ForwardQueueError: the forward queue is closed")
    assert f"Forwarding to {reader.url} failed" in caplog.text


async def test_run_prunes_targets_no_longer_configured(
    readers: Callable[..., Awaitable[FakeDsmrReader]],
    forwarders: Make,
    caplog: pytest.LogCaptureFixture,
) -> None:
    kept = await readers()
    removed = await readers(start=False)
    forwarder = await forwarders([kept.target(), removed.target()], run=False)
    await submit_all(forwarder, TELEGRAMS[:2])
    caplog.set_level(logging.INFO)
    again = await forwarders([kept.target()])
    queue = again._queue
    assert await asyncio.to_thread(queue.targets) == [kept.target().id]
    assert await asyncio.to_thread(queue.size, removed.target().id) == 0
    assert "Deleted 2 telegrams queued for a removed forward target" in caplog.text
    await until(lambda: len(kept.received) == 2)


async def test_listeners_hear_every_change(
    readers: Callable[..., Awaitable[FakeDsmrReader]], forwarders: Make
) -> None:
    reader = await readers()
    forwarder = await forwarders([reader.target()], run=False)
    heard: list[int] = []

    def listener() -> None:
        heard.append(stats(forwarder, reader.target()).waiting)

    remove = forwarder.add_listener(listener)
    await forwarder.run()
    await asyncio.sleep(0.05)  # the sender finds the queue empty
    await forwarder.submit(TELEGRAMS[0])
    await until(lambda: len(reader.received) == 1)
    await until(lambda: len(heard) == 3)
    assert heard == [0, 1, 0]  # run, submit, sent
    remove()
    await forwarder.submit(TELEGRAMS[1])
    await until(lambda: len(reader.received) == 2)
    assert heard == [0, 1, 0]


async def test_forwarder_checks_its_use(forwarders: Make) -> None:
    target = Target("http://127.0.0.1:9/api/v1/datalogger/dsmrreading", KEY)
    with pytest.raises(ValueError, match=r"each target URL may appear once"):
        await forwarders([target, Target(target.url, OTHER_KEY)])
    forwarder = await forwarders([target])
    with pytest.raises(RuntimeError, match="running already"):
        await forwarder.run()
    with pytest.raises(ValueError, match="an empty telegram"):
        await forwarder.submit(" \r\n")
    nowhere = await forwarders([], run=False)
    await nowhere.submit(TELEGRAMS[0])  # nothing to queue for
    assert nowhere.stats() == {}
    await nowhere.run()
    await nowhere.stop()


async def test_default_clock_is_utc(
    readers: Callable[..., Awaitable[FakeDsmrReader]],
    session: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    reader = await readers()
    queue = await asyncio.to_thread(ForwardQueue.open, tmp_path / "clock.db")
    forwarder = Forwarder(session, queue, [reader.target()], asyncio.to_thread)
    await forwarder.run()
    before = datetime.now(UTC)
    await forwarder.submit(TELEGRAMS[0])
    await until(lambda: stats(forwarder, reader.target()).sent == 1)
    await forwarder.stop()
    await asyncio.to_thread(queue.close)
    last_success = stats(forwarder, reader.target()).last_success
    assert last_success is not None
    assert before <= last_success <= datetime.now(UTC)
    assert last_success.tzinfo is UTC


# Target


def test_target_id_is_stable_and_ignores_the_key() -> None:
    target = Target("http://dsmr.local/api/v1/datalogger/dsmrreading", KEY)
    assert target.id == "bff306e94852bacb"
    assert Target(target.url, OTHER_KEY).id == target.id
    assert Target("https://dsmr.local/api/v1/datalogger/dsmrreading", KEY).id != target.id
    assert KEY not in repr(target)


def test_target_name_hides_credentials() -> None:
    target = Target("https://user:secret@dsmr.local/api/v1/datalogger/dsmrreading", KEY)
    assert target.name == "https://dsmr.local/api/v1/datalogger/dsmrreading"


@pytest.mark.parametrize(
    ("url", "key", "message"),
    [
        ("ftp://dsmr.local/api", KEY, "not an http"),
        ("/api/v1/datalogger/dsmrreading", KEY, "not an http"),
        ("http://dsmr.local/api", "", "printable and not empty"),
        ("http://dsmr.local/api", "KEY\r\nX-Other: 1", "printable and not empty"),
    ],
)
def test_target_refuses_bad_settings(url: str, key: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Target(url, key)


# Queue


@pytest.fixture
def queue_path(tmp_path: Path) -> Path:
    return tmp_path / "queue" / "forward.db"


@pytest.fixture
def queue(queue_path: Path) -> Iterator[ForwardQueue]:
    queue = ForwardQueue.open(queue_path, max_items=3)
    yield queue
    queue.close()


def test_queue_is_fifo_per_target_and_survives_reopening(
    queue: ForwardQueue, queue_path: Path
) -> None:
    for text in TELEGRAMS[:2]:
        queue.add(["a", "b", "a"], text)  # a repeated target gets one copy
    queue.add(["b"], TELEGRAMS[2])
    assert queue.peek("a", 10) == [(1, TELEGRAMS[0]), (3, TELEGRAMS[1])]
    assert queue.peek("b", 2) == [(2, TELEGRAMS[0]), (4, TELEGRAMS[1])]
    assert (queue.size("a"), queue.size("b"), queue.size("c")) == (2, 3, 0)
    assert queue.targets() == ["a", "b"]
    queue.remove([1, 4, 99])  # 99 never existed
    queue.remove([1])  # gone already
    assert (queue.size("a"), queue.size("b")) == (1, 2)
    queue.close()
    queue.close()  # twice is harmless

    reopened = ForwardQueue.open(queue_path, max_items=3)
    try:
        assert reopened.peek("a", 10) == [(3, TELEGRAMS[1])]
        assert reopened.peek("b", 10) == [(2, TELEGRAMS[0]), (5, TELEGRAMS[2])]
        assert (reopened.size("a"), reopened.size("b")) == (1, 2)
        reopened.add(["a"], TELEGRAMS[3])
        assert reopened.peek("a", 10) == [(3, TELEGRAMS[1]), (6, TELEGRAMS[3])]
    finally:
        reopened.close()
    with sqlite3.connect(queue_path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    connection.close()


def test_queue_bound_drops_the_oldest(queue: ForwardQueue, queue_path: Path) -> None:
    for text in TELEGRAMS[:5]:
        queue.add(["a", "b"], text)
    queue.add(["b"], TELEGRAMS[5])
    assert [text for _, text in queue.peek("a", 10)] == TELEGRAMS[2:5]
    assert [text for _, text in queue.peek("b", 10)] == TELEGRAMS[3:6]
    assert (queue.size("a"), queue.dropped("a")) == (3, 2)
    assert (queue.size("b"), queue.dropped("b")) == (3, 3)
    assert queue.dropped("c") == 0
    queue.close()
    reopened = ForwardQueue.open(queue_path, max_items=3)
    try:
        assert (reopened.dropped("a"), reopened.dropped("b")) == (2, 3)
        assert reopened.clear("b") == 3
        assert (reopened.size("b"), reopened.dropped("b"), reopened.targets()) == (0, 0, ["a"])
    finally:
        reopened.close()


def test_queue_removes_many_ids(tmp_path: Path) -> None:
    queue = ForwardQueue.open(tmp_path / "many.db")
    try:
        for number in range(1200):
            queue.add(["a"], str(number))
        ids = [item_id for item_id, _ in queue.peek("a", 1100)]
        queue.remove(ids)
        assert queue.size("a") == 100
        assert queue.peek("a", 1) == [(1101, "1100")]
    finally:
        queue.close()


def test_queue_failure_rolls_back(queue: ForwardQueue, queue_path: Path) -> None:
    queue.add(["a"], TELEGRAMS[0])
    with sqlite3.connect(queue_path, autocommit=True) as other:
        other.execute("DROP TABLE dropped")
    other.close()
    for text in TELEGRAMS[1:3]:
        queue.add(["a"], text)
    with pytest.raises(ForwardQueueError, match="no such table: dropped"):
        queue.add(["a"], TELEGRAMS[3])  # over the bound: counting fails, nothing changes
    assert [text for _, text in queue.peek("a", 10)] == TELEGRAMS[:3]
    assert queue.size("a") == 3


def test_queue_refuses_what_it_cannot_use(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_items must be at least 1"):
        ForwardQueue.open(tmp_path / "zero.db", max_items=0)

    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ForwardQueueError, match="cannot open the forward queue"):
        ForwardQueue.open(blocker / "forward.db")

    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database" * 100)
    with pytest.raises(ForwardQueueError, match="file is not a database"):
        ForwardQueue.open(garbage)

    newer = tmp_path / "newer.db"
    with sqlite3.connect(newer) as connection:
        connection.execute("PRAGMA user_version=2")
    connection.close()
    with pytest.raises(ForwardQueueError, match="schema 2, newer than 1"):
        ForwardQueue.open(newer)

    clash = tmp_path / "clash.db"
    with sqlite3.connect(clash) as connection:
        connection.execute("CREATE TABLE item (x)")
    connection.close()
    with pytest.raises(ForwardQueueError, match="table item already exists"):
        ForwardQueue.open(clash)
    with sqlite3.connect(clash) as connection:  # rolled back: nothing was created
        tables = connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        assert tables.fetchall() == [("item",)]
    connection.close()
