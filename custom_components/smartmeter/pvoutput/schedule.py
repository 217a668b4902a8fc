"""Pure scheduling rules of the PVOutput export: which intervals are due, and when to act.

Intervals are named by their end, an aware UTC time on the local clock's multiples of the
upload interval (PVOutput stores statuses on the system's own 5, 10 or 15 minute grid, in its
local time). Nothing here does I/O or reads the clock: callers pass "now".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
import math
from typing import Final

from .client import RateLimit, Status

UPLOAD_INTERVALS: Final = (5, 10, 15)  # minutes, as DSMR-reader and PVOutput offer
MAX_UPLOAD_DELAY: Final = 30  # minutes
MAX_PROCESSING_DELAY: Final = 120  # minutes, as DSMR-reader allows
# How many days back PVOutput accepts statuses: standard accounts, donation mode.
WINDOW_DAYS: Final = 14
DONOR_WINDOW_DAYS: Final = 90


@dataclass(frozen=True)
class ExportSettings:
    """What the user chose for the export."""

    interval: int = 5  # minutes between statuses: one of UPLOAD_INTERVALS
    upload_delay: int = 0  # minutes: an interval is sent this long after its end
    processing_delay: int | None = None  # minutes; PVOutput's donor-only "delay"
    generation: bool = False  # statuses carry generation (v1, v2): gross, not net

    def __post_init__(self) -> None:
        """Refuse values PVOutput or the schedule cannot work with."""
        if self.interval not in UPLOAD_INTERVALS:
            raise ValueError(f"the upload interval must be one of {UPLOAD_INTERVALS} minutes")
        if not 0 <= self.upload_delay <= MAX_UPLOAD_DELAY:
            raise ValueError(f"the upload delay must be 0 to {MAX_UPLOAD_DELAY} minutes")
        if self.processing_delay is not None and not (
            0 <= self.processing_delay <= MAX_PROCESSING_DELAY
        ):
            raise ValueError(f"the processing delay must be 0 to {MAX_PROCESSING_DELAY} minutes")

    @property
    def step(self) -> timedelta:
        """Return the upload interval as a duration."""
        return timedelta(minutes=self.interval)


@dataclass(frozen=True)
class Generation:
    """Generation of the day so far and now, from any energy and power sensor."""

    energy_wh: int  # since local midnight
    power_w: int


@dataclass(frozen=True)
class IntervalData:
    """The values at an interval's end, as the source reports them (integers truncated).

    "Today" is the local day the interval belongs to: that of its start, so an interval
    ending at midnight carries the whole day (PVOutput books a 00:00 status to the day
    before).
    """

    energy_consumed_wh: int  # delivered today, returned not subtracted: DSMR-reader's v3
    energy_returned_wh: int  # returned today; needed for gross consumption with generation
    net_power_w: int  # delivered minus returned: DSMR-reader's v4, negative on export
    generation: Generation | None = None
    voltage: float | None = None  # the meter's (average) voltage, V


def default_interval(status_interval: int) -> int:
    """Return the upload interval for a system's status interval: the smallest that fits.

    Uploading more often than PVOutput stores only spends requests.
    """
    return next(
        (choice for choice in UPLOAD_INTERVALS if choice >= status_interval), UPLOAD_INTERVALS[-1]
    )


def floor_to_interval(moment: datetime, interval: int, zone: tzinfo) -> datetime:
    """Return the interval end at or before moment, on the local clock, in UTC.

    Local, not UTC: a zone such as +05:45 puts the local multiples of 10 minutes off UTC's.
    """
    local = moment.astimezone(zone)
    floored = local.replace(minute=local.minute - local.minute % interval, second=0, microsecond=0)
    return floored.astimezone(UTC)


def newest_due(now: datetime, settings: ExportSettings, zone: tzinfo) -> datetime:
    """Return the newest interval end that may be sent now, after the upload delay."""
    return floor_to_interval(
        now - timedelta(minutes=settings.upload_delay), settings.interval, zone
    )


def next_due(now: datetime, settings: ExportSettings, zone: tzinfo) -> datetime:
    """Return when the interval after the newest due one may be sent."""
    return (
        newest_due(now, settings, zone) + settings.step + timedelta(minutes=settings.upload_delay)
    )


def window_start(now: datetime, zone: tzinfo, donor: bool) -> datetime:
    """Return the oldest interval end PVOutput still accepts: local midnight, days back.

    PVOutput checks the status's date against its local today, 14 days back (90 for donors).
    """
    days = DONOR_WINDOW_DAYS if donor else WINDOW_DAYS
    oldest = now.astimezone(zone).date() - timedelta(days=days)
    return datetime.combine(oldest, time(0), tzinfo=zone).astimezone(UTC)


def first_pending(
    last_uploaded: datetime | None,
    newest: datetime,
    settings: ExportSettings,
    zone: tzinfo,
    start: datetime,
) -> datetime:
    """Return the oldest interval end still to send (after newest when none is).

    Without any upload yet only the newest is due: the export starts now, not in the past.
    Intervals before start are too old for PVOutput. The interval after last_uploaded is
    taken on the current grid, as the upload interval may have changed since.
    """
    if last_uploaded is None:
        return newest
    return max(floor_to_interval(last_uploaded, settings.interval, zone) + settings.step, start)


def pending_count(first: datetime, newest: datetime, settings: ExportSettings) -> int:
    """Return how many interval ends lie from first to newest, both included."""
    if first > newest:
        return 0
    return (newest - first) // settings.step + 1


def reserve(limit: int, headroom: float) -> int:
    """Return how many of the hour's requests to leave for other tools using the key."""
    return math.ceil(limit * headroom)


def rate_limit_wait(
    rate: RateLimit | None, now: datetime, backlog: bool, headroom: float
) -> datetime | None:
    """Return until when to hold back the next request, or None to send it now.

    A backlog (catch-up) stops at the reserve left for the other tools on the key; the one
    live interval may use the reserve, as those tools get their share of the next window.
    """
    if rate is None or now >= rate.reset:
        return None
    floor = reserve(rate.limit, headroom) if backlog else 0
    return rate.reset if rate.remaining <= floor else None


def retry_delay(failures: int, base: timedelta, cap: timedelta) -> timedelta:
    """Return the wait after failures failed attempts in a row: doubling up to cap."""
    doubled: timedelta = base * 2 ** min(max(failures - 1, 0), 20)
    return min(cap, doubled)


def to_status(
    end: datetime, data: IntervalData, settings: ExportSettings, zone: tzinfo
) -> Status | None:
    """Return the status PVOutput gets for an interval; None if the data lacks generation.

    Without generation, exactly DSMR-reader's: v3 delivered today, v4 net power, sent with
    n=1. With generation the status is gross, as PVOutput reads v2 as exported power in a
    net status: v1 and v2 generation, v3 and v4 what the home used (net plus generation).
    Statuses of one export never mix the two: n applies to a whole batch.
    """
    local_time = end.astimezone(zone).replace(tzinfo=None)
    generation = data.generation
    if settings.generation and generation is None:
        return None
    if generation is None or not settings.generation:
        return Status(
            local_time,
            energy_consumption=data.energy_consumed_wh,
            power_consumption=data.net_power_w,
            voltage=data.voltage,
        )
    used_wh = data.energy_consumed_wh - data.energy_returned_wh + generation.energy_wh
    # Sensors read at slightly different moments can make "used" dip below zero.
    return Status(
        local_time,
        energy_generation=generation.energy_wh,
        power_generation=generation.power_w,
        energy_consumption=max(used_wh, 0),
        power_consumption=max(data.net_power_w + generation.power_w, 0),
        voltage=data.voltage,
    )


def may_share_batch(first: Status, other: Status, net: bool) -> bool:
    """Return whether two statuses may share a batch: net ones must share their date."""
    return not net or first.date_text == other.date_text
