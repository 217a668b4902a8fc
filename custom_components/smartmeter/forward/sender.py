"""Forwards telegrams to DSMR-reader instances through their v1 datalogger API.

Each target has its own sender task that posts the oldest queued telegram, one at a time,
exactly as DSMR-reader's own remote datalogger script does: form field ``telegram``, header
``X-AUTHKEY``, success 201 (200 on old versions).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum, StrEnum
import hashlib
import logging
from typing import Final, Protocol

import aiohttp
from yarl import URL

from .queue import ForwardQueue

LOGGER = logging.getLogger(__package__)

# DSMR-reader answers these bodies with its status codes (plain text, v1 API).
PARSE_FAILED: Final = "Failed to parse telegram"
# At most this much of an error response is read, to describe it.
_ERROR_TEXT_LIMIT: Final = 200


class RunBlocking(Protocol):
    """Runs a blocking call off the event loop: hass.async_add_executor_job, for example."""

    def __call__[*Ts, T](self, target: Callable[[*Ts], T], /, *args: *Ts) -> Awaitable[T]:
        """Return an awaitable of target(*args), called in a worker thread."""
        ...


class BlockedReason(StrEnum):
    """Why a target accepts nothing until someone changes its settings (a repair issue)."""

    INVALID_AUTH = "invalid_auth"  # 403 "Invalid auth key"
    API_DISABLED = "api_disabled"  # 405 "API is disabled"
    UNEXPECTED_RESPONSE = "unexpected_response"  # another 3xx or 4xx: a wrong URL, say


@dataclass(frozen=True)
class Target:
    """A DSMR-reader instance: its datalogger URL and API key."""

    url: str  # http(s)://host/api/v1/datalogger/dsmrreading
    key: str = field(repr=False)

    def __post_init__(self) -> None:
        """Refuse a URL that is not absolute http(s), and a key no header can carry."""
        url = URL(self.url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"not an http(s) URL: {self.url!r}")
        if not self.key or not self.key.isprintable():
            raise ValueError("the API key must be printable and not empty")

    @property
    def id(self) -> str:
        """Return the target's queue name: a hash of the URL only.

        The key is left out on purpose: correcting a wrong key keeps the telegrams queued
        while the target answered 403.
        """
        return hashlib.sha256(self.url.encode()).hexdigest()[:16]

    @property
    def name(self) -> str:
        """Return the URL without user and password, for logs and diagnostics."""
        return str(URL(self.url).with_user(None))


@dataclass(frozen=True)
class TargetStats:
    """What a sender has done since start, and how it is doing now."""

    target_id: str
    url: str  # without user and password
    sent: int  # accepted by the target
    dropped_rejected: int  # refused for good (400, 500 "Failed to parse telegram")
    dropped_overflow: int  # dropped because the queue was full (persisted)
    waiting: int  # queued for the target
    consecutive_failures: int  # attempts that failed since the last answer; 0 when fine
    last_error: str | None
    last_success: datetime | None
    blocked_reason: BlockedReason | None


class _Outcome(Enum):
    SENT = "sent"
    REJECTED = "rejected"  # never accepted: drop it
    RETRY = "retry"  # the target is away or busy: keep it and back off
    BLOCKED = "blocked"  # the target refuses us: keep it, back off to the cap


@dataclass(frozen=True)
class _Result:
    outcome: _Outcome
    error: str | None = None
    blocked: BlockedReason | None = None
    status: int | None = None  # of an answer other than 200 and 201


@dataclass(eq=False)
class _Sender:
    """One target's task and counters."""

    target: Target
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    busy: bool = False  # posting an item or removing it: let it finish on stop
    sent: int = 0
    dropped_rejected: int = 0
    dropped_overflow: int = 0
    waiting: int = 0
    failures: int = 0
    server_errors: tuple[int, int] = (0, 0)  # (item id, unexplained 500s in a row)
    last_error: str | None = None
    last_success: datetime | None = None
    blocked_reason: BlockedReason | None = None

    def stats(self) -> TargetStats:
        return TargetStats(
            target_id=self.target.id,
            url=self.target.name,
            sent=self.sent,
            dropped_rejected=self.dropped_rejected,
            dropped_overflow=self.dropped_overflow,
            waiting=self.waiting,
            consecutive_failures=self.failures,
            last_error=self.last_error,
            last_success=self.last_success,
            blocked_reason=self.blocked_reason,
        )


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Forwarder:
    """Queues every telegram for every target and delivers each target's queue in order."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        queue: ForwardQueue,
        targets: Sequence[Target],
        run_blocking: RunBlocking,
        *,
        timeout: float = 10.0,
        backoff_base: float = 1.0,
        backoff_cap: float = 300.0,
        server_error_limit: int = 5,
        batch_size: int = 100,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        """Forward through session (never closed here) with queue (closed by the caller).

        timeout bounds one POST; failed attempts wait backoff_base, doubling up to
        backoff_cap. A 500 without DSMR-reader's "Failed to parse telegram" text (a database
        outage or a bug at the target) is retried, and the telegram dropped after
        server_error_limit such answers in a row, so that one bad telegram cannot stall the
        queue for ever.
        """
        ids = [target.id for target in targets]
        if len(set(ids)) != len(ids):
            raise ValueError("each target URL may appear once")
        self._session = session
        self._queue = queue
        self._run_blocking = run_blocking
        self._timeout = timeout
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._server_error_limit = server_error_limit
        self._batch_size = batch_size
        self._now = now
        self._senders = [_Sender(target) for target in targets]
        # Held around every queue change and the counts read after it, so counts are set
        # in the order they were read; submits also keep their order through it.
        self._queue_lock = asyncio.Lock()
        self._listeners: list[Callable[[], None]] = []
        self._stopping = False

    @property
    def queue(self) -> ForwardQueue:
        """Return the queue the telegrams wait in."""
        return self._queue

    @property
    def targets(self) -> list[Target]:
        """Return the targets, in the order given."""
        return [sender.target for sender in self._senders]

    def stats(self) -> dict[str, TargetStats]:
        """Return every target's stats, by target id."""
        return {sender.target.id: sender.stats() for sender in self._senders}

    def add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call listener (in the event loop) whenever stats change; return the remover."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def run(self) -> None:
        """Start one sender per target; delete what is queued for targets no longer given.

        The queue file must therefore belong to this forwarder alone.
        """
        if any(sender.task is not None for sender in self._senders):
            raise RuntimeError("the forwarder is running already")
        self._stopping = False
        async with self._queue_lock:
            counts = await self._run_blocking(self._load)
        for sender in self._senders:
            sender.waiting, sender.dropped_overflow = counts[sender.target.id]
            sender.task = asyncio.create_task(
                self._send_loop(sender), name=f"forward to {sender.target.name}"
            )
        self._notify()

    async def stop(self, *, grace: float | None = None) -> None:
        """Stop the senders, letting a POST under way finish; the queue keeps the rest.

        A sender still busy after grace seconds (default: the timeout plus 5) is cancelled.
        """
        self._stopping = True
        tasks = [sender.task for sender in self._senders if sender.task is not None]
        for sender in self._senders:
            if sender.task is not None and not sender.busy:
                sender.task.cancel()
        if tasks:
            _, pending = await asyncio.wait(
                tasks, timeout=self._timeout + 5 if grace is None else grace
            )
            for task in pending:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for sender in self._senders:
            sender.task = None

    async def submit(self, telegram: str) -> None:
        """Queue the telegram (raw text from ``/`` to its CRC) for every target.

        Returns once it is on disk. Telegrams submitted one after another keep their order.
        Raises ForwardQueueError when the queue cannot store it.
        """
        if not telegram.strip():
            raise ValueError("an empty telegram")
        if not self._senders:
            return
        async with self._queue_lock:
            counts = await self._run_blocking(self._add, telegram)
            for sender in self._senders:
                sender.waiting, sender.dropped_overflow = counts[sender.target.id]
                sender.wake.set()
        self._notify()

    def _load(self) -> dict[str, tuple[int, int]]:
        """Drop other targets' items; return each target's (waiting, dropped)."""
        configured = {sender.target.id for sender in self._senders}
        for stale in set(self._queue.targets()) - configured:
            count = self._queue.clear(stale)
            LOGGER.info("Deleted %d telegrams queued for a removed forward target", count)
        return self._counts()

    def _add(self, telegram: str) -> dict[str, tuple[int, int]]:
        self._queue.add([sender.target.id for sender in self._senders], telegram)
        return self._counts()

    def _counts(self) -> dict[str, tuple[int, int]]:
        return {
            sender.target.id: (
                self._queue.size(sender.target.id),
                self._queue.dropped(sender.target.id),
            )
            for sender in self._senders
        }

    def _remove(self, target_id: str, item_id: int) -> int:
        self._queue.remove([item_id])
        return self._queue.size(target_id)

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()

    async def _send_loop(self, sender: _Sender) -> None:
        """Deliver the target's queue, oldest first, until stopped."""
        while not self._stopping:
            sender.wake.clear()
            try:
                retry = await self._send_batch(sender)
            except Exception as err:  # the queue's file, mostly: keep going
                if not sender.failures:  # log the first in a row only
                    LOGGER.exception("Forwarding to %s failed", sender.target.name)
                sender.failures += 1
                sender.last_error = f"{type(err).__name__}: {err}"
                self._notify()
                retry = True
            if retry is None:
                await sender.wake.wait()
            elif retry and not self._stopping:
                await asyncio.sleep(self._delay(sender))

    async def _send_batch(self, sender: _Sender) -> bool | None:
        """Send the oldest items; return None when none wait, True to retry after a delay."""
        target = sender.target
        items = await self._run_blocking(self._queue.peek, target.id, self._batch_size)
        if not items:
            return None
        for item_id, telegram in items:
            if self._stopping:
                return False
            sender.busy = True
            try:
                result = await self._post(target, telegram)
                result = self._judge_server_error(sender, item_id, result)
                if result.outcome in (_Outcome.SENT, _Outcome.REJECTED):
                    async with self._queue_lock:
                        sender.waiting = await self._run_blocking(self._remove, target.id, item_id)
            finally:
                sender.busy = False
            self._record(sender, result)
            if result.outcome in (_Outcome.RETRY, _Outcome.BLOCKED):
                return True
        return False

    async def _post(self, target: Target, telegram: str) -> _Result:
        """Post one telegram and classify the answer."""
        try:
            async with self._session.post(
                target.url,
                data={"telegram": telegram},
                headers={"X-AUTHKEY": target.key},
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                allow_redirects=False,
            ) as response:
                status = response.status
                if status in (200, 201):
                    return _Result(_Outcome.SENT)
                text = (await response.text(errors="replace")).strip()
        except TimeoutError:
            return _Result(_Outcome.RETRY, f"no answer within {self._timeout:g} s")
        except aiohttp.ClientError as err:
            return _Result(_Outcome.RETRY, f"{type(err).__name__}: {err}")
        return _classify(status, text)

    def _judge_server_error(self, sender: _Sender, item_id: int, result: _Result) -> _Result:
        """Give up on a telegram after server_error_limit unexplained 500s in a row."""
        if result.outcome is not _Outcome.RETRY or result.status != 500:
            sender.server_errors = (0, 0)
            return result
        last_item, count = sender.server_errors
        count = count + 1 if last_item == item_id else 1
        if count >= self._server_error_limit:
            sender.server_errors = (0, 0)
            return _Result(_Outcome.REJECTED, result.error)
        sender.server_errors = (item_id, count)
        return result

    def _record(self, sender: _Sender, result: _Result) -> None:
        """Count the result, log changes of state once, and tell the listeners."""
        name = sender.target.name
        if result.outcome in (_Outcome.SENT, _Outcome.REJECTED):
            if sender.failures:
                LOGGER.info("Forwarding to %s works again", name)
            sender.failures = 0
            sender.blocked_reason = None
            if result.outcome is _Outcome.SENT:
                sender.sent += 1
                sender.last_success = self._now()
            else:
                sender.dropped_rejected += 1
                sender.last_error = result.error
                LOGGER.warning(
                    "%s refused a telegram for good (%s): dropped it", name, result.error
                )
        else:
            if result.outcome is _Outcome.BLOCKED:
                if sender.blocked_reason is not result.blocked:
                    LOGGER.warning(
                        "%s refuses all telegrams (%s); keeping them until it accepts them",
                        name,
                        result.error,
                    )
                sender.blocked_reason = result.blocked
            elif sender.failures == 0:
                LOGGER.warning("Cannot forward to %s (%s); retrying", name, result.error)
            sender.failures += 1
            sender.last_error = result.error
        self._notify()

    def _delay(self, sender: _Sender) -> float:
        """Return the wait before the next attempt: doubling, or the cap when blocked."""
        if sender.blocked_reason is not None:
            return self._backoff_cap
        exponent = min(max(sender.failures - 1, 0), 32)
        return float(min(self._backoff_cap, self._backoff_base * 2**exponent))


_BLOCKING: Final = {403: BlockedReason.INVALID_AUTH, 405: BlockedReason.API_DISABLED}


def _classify(status: int, text: str) -> _Result:
    """Sort an answer other than 200 and 201, given its status and stripped body."""
    error = f"HTTP {status}" + (f": {text[:_ERROR_TEXT_LIMIT]}" if text else "")
    blocked: BlockedReason | None = None
    if status == 400 or (status == 500 and text == PARSE_FAILED):
        outcome = _Outcome.REJECTED
    elif status == 429 or status >= 500:
        outcome = _Outcome.RETRY
    else:
        outcome = _Outcome.BLOCKED
        blocked = _BLOCKING.get(status, BlockedReason.UNEXPECTED_RESPONSE)
    return _Result(outcome, error, blocked, status)
