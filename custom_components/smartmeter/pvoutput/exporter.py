"""Uploads a meter's intervals to PVOutput: live, and after an outage in batches.

The exporter keeps one cursor, the end of the last interval PVOutput has (or refused for
good), so nothing is sent twice and nothing that PVOutput would still accept is skipped.
Its state is a JSON-serialisable dict the caller persists (Home Assistant's Store).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
import logging
from typing import Any, Final, Protocol

from .client import (
    DateTooOldError,
    Problem,
    PVOutputBlockedError,
    PVOutputClient,
    PVOutputError,
    RateLimit,
    RateLimitedError,
    Status,
    StatusRejectedError,
    batch_limit,
)
from .schedule import (
    ExportSettings,
    IntervalData,
    first_pending,
    floor_to_interval,
    may_share_batch,
    newest_due,
    next_due,
    pending_count,
    rate_limit_wait,
    retry_delay,
    to_status,
    window_start,
)

LOGGER = logging.getLogger(__package__)

# Intervals looked at per step while searching for data after a gap, per batch size.
_SCAN_BATCHES: Final = 4
# PVOutput's rate-limit window, for a 403 that did not say when it ends.
_RATE_WINDOW: Final = timedelta(hours=1)


class IntervalSource(Protocol):
    """Gives the values at an interval's end, or None when there are none (meter offline)."""

    def __call__(self, end: datetime, /) -> Awaitable[IntervalData | None]:
        """Return the data for the interval ending at end (aware, UTC)."""
        ...


@dataclass
class ExportState:
    """What the exporter must remember across restarts."""

    last_uploaded: datetime | None = None  # end of the last interval done with
    paused_until: datetime | None = None  # PVOutput said the key's hour was used up
    donor: bool = False  # as PVOutput's rate limit (300 an hour) tells
    last_success: datetime | None = None
    last_error: str | None = None
    rejected: int = 0  # intervals PVOutput refused for good
    expired: int = 0  # intervals too old for PVOutput by the time they could be sent

    def as_dict(self) -> dict[str, Any]:
        """Return the state as JSON-serialisable data."""
        return {
            "last_uploaded": _time_text(self.last_uploaded),
            "paused_until": _time_text(self.paused_until),
            "donor": self.donor,
            "last_success": _time_text(self.last_success),
            "last_error": self.last_error,
            "rejected": self.rejected,
            "expired": self.expired,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExportState:
        """Return the state as_dict gave; raise ValueError on anything else."""
        last_error = data.get("last_error")
        counts = (data.get("rejected"), data.get("expired"))
        if not isinstance(data.get("donor"), bool) or not isinstance(last_error, str | None):
            raise ValueError("malformed PVOutput export state")  # noqa: TRY004 - bad data
        if not all(isinstance(count, int) and count >= 0 for count in counts):
            raise ValueError("malformed PVOutput export state counts")
        return cls(
            last_uploaded=_parse_time(data.get("last_uploaded")),
            paused_until=_parse_time(data.get("paused_until")),
            donor=data["donor"],
            last_success=_parse_time(data.get("last_success")),
            last_error=last_error,
            rejected=data["rejected"],
            expired=data["expired"],
        )


@dataclass(frozen=True)
class ExportStatus:
    """How the export is doing, for diagnostic entities and diagnostics."""

    last_success: datetime | None
    last_error: str | None
    waiting: int  # intervals due and not sent yet, within PVOutput's window
    last_uploaded: datetime | None
    problem: Problem | None  # PVOutput refuses everything until the user acts: a repair
    paused_until: datetime | None  # held back for the key's rate limit
    donor: bool
    rejected: int
    expired: int
    rate_limit: RateLimit | None


def _time_text(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_time(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"not a time: {value!r}")  # noqa: TRY004 - bad data, as below
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"a time without zone: {value!r}")
    return parsed.astimezone(UTC)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class PVOutputExporter:
    """Sends each interval once, oldest first, within PVOutput's window and rate limit."""

    def __init__(
        self,
        client: PVOutputClient,
        settings: ExportSettings,
        source: IntervalSource,
        zone: tzinfo,
        state: ExportState | None = None,
        *,
        headroom: float = 0.2,
        spacing: timedelta = timedelta(seconds=10),
        retry_base: timedelta = timedelta(seconds=30),
        retry_cap: timedelta = timedelta(minutes=15),
        blocked_retry: timedelta = timedelta(hours=1),
        now: Callable[[], datetime] = _utcnow,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Export with client for settings, reading intervals from source.

        zone is the PVOutput system's time zone (Home Assistant's). headroom is the share
        of the key's hourly requests a catch-up leaves to other tools using the key;
        spacing separates catch-up requests, as PVOutput asks. Failed requests are retried
        after retry_base, doubling up to retry_cap; a refused key or setting is tried
        again, with a single status, after blocked_retry.
        """
        self._client = client
        self._settings = settings
        self._source = source
        self._zone = zone
        self._state = state if state is not None else ExportState()
        self._headroom = headroom
        self._spacing = spacing
        self._retry_base = retry_base
        self._retry_cap = retry_cap
        self._blocked_retry = blocked_retry
        self._now = now
        self._sleep = sleep
        self._problem: Problem | None = None
        self._failures = 0
        self._retry_at: datetime | None = None
        self._listeners: list[Callable[[], None]] = []

    @property
    def state(self) -> ExportState:
        """Return the state to persist (a live object: persist its as_dict())."""
        return self._state

    def add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call listener whenever state or status change; return the remover."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def status(self) -> ExportStatus:
        """Return the export's status now."""
        now = self._now()
        state = self._state
        newest = newest_due(now, self._settings, self._zone)
        first = first_pending(
            state.last_uploaded,
            newest,
            self._settings,
            self._zone,
            window_start(now, self._zone, state.donor),
        )
        paused = state.paused_until if state.paused_until and state.paused_until > now else None
        return ExportStatus(
            last_success=state.last_success,
            last_error=state.last_error,
            waiting=pending_count(first, newest, self._settings),
            last_uploaded=state.last_uploaded,
            problem=self._problem,
            paused_until=paused,
            donor=state.donor,
            rejected=state.rejected,
            expired=state.expired,
            rate_limit=self._client.rate_limit,
        )

    async def run(self) -> None:
        """Export until cancelled: step, then sleep until the step's answer."""
        while True:
            try:
                wake = await self.step()
            except Exception:  # a bug must not end the export for good
                LOGGER.exception("PVOutput export failed")
                wake = self._now() + self._retry_cap
            await self._sleep(max((wake - self._now()).total_seconds(), 0.0))

    async def step(self) -> datetime:
        """Send what is due (one request at most); return when to step again."""
        now = self._now()
        held = self._held_until(now)
        if held is not None:
            return held
        settings = self._settings
        newest = newest_due(now, settings, self._zone)
        last_uploaded = self._state.last_uploaded
        if last_uploaded is None:
            # The export starts with the newest interval; from here on none is lost.
            last_uploaded = self._state.last_uploaded = newest - settings.step
            self._notify()
        start = window_start(now, self._zone, self._state.donor)
        self._expire(last_uploaded, start)
        first = first_pending(self._state.last_uploaded, newest, settings, self._zone, start)
        count = pending_count(first, newest, settings)
        if count == 0:
            return next_due(now, settings, self._zone)
        wait = rate_limit_wait(self._client.rate_limit, now, count > 1, self._headroom)
        return wait if wait is not None else await self._advance(first, newest, now)

    def _held_until(self, now: datetime) -> datetime | None:
        """Return until when a rate limit or failure holds the export back, if it does."""
        state = self._state
        if state.paused_until is not None and state.paused_until <= now:
            state.paused_until = None
        if self._retry_at is not None and self._retry_at <= now:
            self._retry_at = None
        holds = [hold for hold in (state.paused_until, self._retry_at) if hold is not None]
        return max(holds, default=None)

    async def _advance(self, first: datetime, newest: datetime, now: datetime) -> datetime:
        """Send the next statuses from first on, or pass a gap; return when to step again."""
        try:
            chunk, skipped_to = await self._collect(first, newest)
        except Exception as err:  # the reading store or a sensor: keep the interval
            LOGGER.exception("Cannot read the data for PVOutput")
            return self._failed(now, f"{type(err).__name__}: {err}")
        if chunk:
            await self._send(chunk, now)
        elif skipped_to is not None:
            self._state.last_uploaded = skipped_to
            self._notify()
        else:  # the newest intervals have no data yet
            return next_due(now, self._settings, self._zone)
        held = self._held_until(now)
        if held is not None:
            return held
        if self.status().waiting > 0:
            return now + self._spacing
        return next_due(now, self._settings, self._zone)

    def _expire(self, last_uploaded: datetime, start: datetime) -> None:
        """Give up the intervals that fell out of PVOutput's window."""
        state = self._state
        interval = self._settings.interval
        oldest = floor_to_interval(last_uploaded, interval, self._zone) + self._settings.step
        if oldest >= start:
            return
        lost = pending_count(oldest, start - self._settings.step, self._settings)
        state.expired += lost
        state.last_uploaded = start - self._settings.step
        LOGGER.warning("%d intervals became too old for PVOutput before they could be sent", lost)
        self._notify()

    async def _collect(
        self, first: datetime, newest: datetime
    ) -> tuple[list[tuple[datetime, Status]], datetime | None]:
        """Return the next statuses to send, oldest first, and where a gap ends.

        Intervals without data before one with data are gaps (the meter was offline) and
        are passed over; those after the last with data may still get it, so they wait.
        """
        net = not self._settings.generation
        limit = 1 if self._problem is not None else batch_limit(self._state.donor)
        scan_limit = _SCAN_BATCHES * batch_limit(self._state.donor)
        chunk: list[tuple[datetime, Status]] = []
        end = first
        scanned = 0
        while end <= newest and len(chunk) < limit and scanned < scan_limit:
            data = await self._source(end)
            status = None if data is None else to_status(end, data, self._settings, self._zone)
            if status is not None:
                if chunk and not may_share_batch(chunk[0][1], status, net):
                    break
                chunk.append((end, status))
            scanned += 1
            end += self._settings.step
        if chunk or end > newest:
            return chunk, None
        # A long gap: pass over what was scanned if the newest has data, else wait for it.
        newest_data = await self._source(newest)
        if (
            newest_data is None
            or to_status(newest, newest_data, self._settings, self._zone) is None
        ):
            return chunk, None
        return chunk, end - self._settings.step

    async def _send(self, chunk: list[tuple[datetime, Status]], now: datetime) -> None:
        """Send the chunk and move the cursor past what PVOutput has or refused for good."""
        state = self._state
        statuses = [status for _, status in chunk]
        net = not self._settings.generation
        try:
            if len(statuses) == 1:
                await self._client.add_status(
                    statuses[0], net=net, processing_delay=self._settings.processing_delay
                )
                refused: set[Status] = set()
            else:
                refused = await self._client.add_batch_status(statuses, net=net)
        except RateLimitedError as err:
            self._rate_limited(err, now)
        except PVOutputBlockedError as err:
            if self._problem is not err.problem:
                LOGGER.warning("PVOutput refuses the export (%s); keeping the intervals", err)
            self._problem = err.problem
            self._retry_at = now + self._blocked_retry
            state.last_error = str(err)
        except DateTooOldError as err:
            # PVOutput's window ends a day later than ours: give up the chunk's oldest day.
            oldest = chunk[0][0]
            next_day = oldest.astimezone(self._zone).date() + timedelta(days=1)
            midnight = datetime.combine(next_day, time(0), tzinfo=self._zone).astimezone(UTC)
            state.last_uploaded = midnight - self._settings.step
            lost = pending_count(oldest, state.last_uploaded, self._settings)
            state.expired += lost
            state.last_error = str(err)
            LOGGER.warning("PVOutput found %d intervals too old: %s", lost, err)
        except StatusRejectedError as err:
            state.rejected += len(chunk)
            state.last_uploaded = chunk[-1][0]
            state.last_error = str(err)
            LOGGER.warning("PVOutput refused %d intervals for good: %s", len(chunk), err)
        except PVOutputError as err:  # no answer, a server error, a clock ahead of PVOutput's
            self._failed(now, str(err))
        else:
            if self._failures or self._problem is not None:
                LOGGER.info("PVOutput export works again")
            self._failures = 0
            self._retry_at = None
            self._problem = None
            state.last_uploaded = chunk[-1][0]
            state.last_success = now
            if refused:
                state.rejected += len(refused)
                state.last_error = f"PVOutput did not add {len(refused)} of {len(chunk)} statuses"
                LOGGER.warning(state.last_error)
        if self._client.rate_limit is not None:
            state.donor = self._client.rate_limit.donor
        self._notify()

    def _rate_limited(self, err: RateLimitedError, now: datetime) -> None:
        """Pause until PVOutput's next rate-limit window (persisted)."""
        rate = self._client.rate_limit
        reset = err.reset
        if reset is None and rate is not None and rate.reset > now:
            reset = rate.reset
        self._state.paused_until = reset if reset is not None else now + _RATE_WINDOW
        self._state.last_error = str(err)
        LOGGER.warning("PVOutput's rate limit is reached; waiting until %s", reset)

    def _failed(self, now: datetime, error: str) -> datetime:
        """Count a failed attempt and set when to try again; return that time."""
        if not self._failures:
            LOGGER.warning("Cannot export to PVOutput (%s); retrying", error)
        self._failures += 1
        self._retry_at = now + retry_delay(self._failures, self._retry_base, self._retry_cap)
        self._state.last_error = error
        self._notify()
        return self._retry_at

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()
