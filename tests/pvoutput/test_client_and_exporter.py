"""PVOutput export: client, schedule and exporter against a local PVOutput over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import json
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp.test_utils import unused_port
import pytest

from custom_components.smartmeter.pvoutput import (
    DonationModeError,
    ExportSettings,
    ExportState,
    Generation,
    IntervalData,
    InvalidApiKeyError,
    InvalidSystemIdError,
    Problem,
    PVOutputBlockedError,
    PVOutputClient,
    PVOutputConnectionError,
    PVOutputExporter,
    RateLimit,
    RateLimitedError,
    ReadOnlyKeyError,
    Status,
    StatusRejectedError,
    SystemInfo,
    default_interval,
)
from custom_components.smartmeter.pvoutput.schedule import (
    first_pending,
    floor_to_interval,
    newest_due,
    next_due,
    rate_limit_wait,
    retry_delay,
    window_start,
)
from tests.pvoutput_server import PVOutputServer

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
KEY = "a" * 40
DONOR_KEY = "d" * 40
SYSTEM = 12345
# 13:13:15 in Amsterdam (CET, UTC+1).
NOW = datetime(2026, 11, 22, 12, 13, 15, tzinfo=UTC)
FAST: dict[str, Any] = {"spacing": timedelta(seconds=10)}


def utc(hour: int, minute: int, second: int = 0, *, day: int = 22) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)


class Clock:
    """The time of PVOutput and of the exporter, set by the test."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Source:
    """Interval data by interval end: consumption rises by 10 Wh per interval."""

    def __init__(self) -> None:
        self.missing: set[datetime] = set()
        self.voltage: float | None = None
        self.generation: Generation | None = None
        self.fail: Exception | None = None
        self.asked: list[datetime] = []

    async def __call__(self, end: datetime) -> IntervalData | None:
        self.asked.append(end)
        if self.fail is not None:
            raise self.fail
        if end in self.missing:
            return None
        minutes = int(end.timestamp() // 60) % 1440
        return IntervalData(
            energy_consumed_wh=2 * minutes,
            energy_returned_wh=minutes // 2,
            net_power_w=minutes - 700,
            generation=self.generation,
            voltage=self.voltage,
        )


def expected(end: datetime) -> tuple[str, str, dict[str, str]]:
    """Return (d, t, values) of the net status Source gives for end."""
    local = end.astimezone(AMSTERDAM)
    minutes = int(end.timestamp() // 60) % 1440
    values = {"v3": str(2 * minutes), "v4": str(minutes - 700), "n": "1"}
    return local.strftime("%Y%m%d"), local.strftime("%H:%M"), values


def ends(first: datetime, last: datetime, step: int = 5) -> list[datetime]:
    result = []
    while first <= last:
        result.append(first)
        first += timedelta(minutes=step)
    return result


@dataclass
class Env:
    server: PVOutputServer
    clock: Clock
    session: aiohttp.ClientSession
    source: Source

    def client(self, key: str = KEY, system: int = SYSTEM) -> PVOutputClient:
        return PVOutputClient(self.session, key, system, base_url=self.server.url, timeout=5)

    def exporter(
        self,
        settings: ExportSettings | None = None,
        state: ExportState | None = None,
        key: str = KEY,
        **options: Any,
    ) -> PVOutputExporter:
        return PVOutputExporter(
            self.client(key),
            settings or ExportSettings(),
            self.source,
            AMSTERDAM,
            state,
            now=self.clock,
            **(FAST | options),
        )


@pytest.fixture
async def env(socket_enabled: None) -> AsyncIterator[Env]:
    clock = Clock()
    server = PVOutputServer(now=clock, zone=AMSTERDAM)
    server.add_system(SYSTEM, "Zonnedak", status_interval=10)
    server.add_system(777)
    server.add_key(KEY, SYSTEM)
    server.add_key(DONOR_KEY, SYSTEM, donor=True)
    await server.start()
    async with aiohttp.ClientSession() as session:
        yield Env(server, clock, session, Source())
    await server.close()


def restored(state: ExportState) -> ExportState:
    """Return the state as it comes back from Home Assistant's Store (JSON)."""
    return ExportState.from_dict(json.loads(json.dumps(state.as_dict())))


# --- client: validation -----------------------------------------------------------------


async def test_validate_reports_system_and_account(env: Env) -> None:
    info = await env.client().validate()
    assert info == SystemInfo(name="Zonnedak", status_interval=10, donor=False)
    assert env.server.requests == ["getsystem.jsp", "addstatus.jsp"]
    assert env.server.accepted == []  # the write check adds nothing
    reset = utc(13, 0)
    donor = env.client(DONOR_KEY)
    assert await donor.validate() == SystemInfo("Zonnedak", 10, donor=True)
    assert donor.rate_limit == RateLimit(remaining=298, limit=300, reset=reset)


@pytest.mark.parametrize(
    ("setup", "error", "problem", "text"),
    [
        ({"key": "unknown"}, InvalidApiKeyError, Problem.INVALID_API_KEY, "Invalid API Key"),
        ({"disabled": True}, InvalidApiKeyError, Problem.API_KEY_DISABLED, "Disabled API Key"),
        ({"system": 999}, InvalidSystemIdError, Problem.INVALID_SYSTEM_ID, "Invalid System ID"),
        ({"system": 777}, InvalidSystemIdError, Problem.INVALID_SYSTEM_ID, "Invalid System ID"),
        ({"read_only": True}, ReadOnlyKeyError, Problem.READ_ONLY_KEY, "Read only key"),
    ],
)
async def test_validate_errors(
    env: Env, setup: dict[str, Any], error: type[PVOutputBlockedError], problem: Problem, text: str
) -> None:
    env.server.keys[KEY].disabled = setup.get("disabled", False)
    env.server.keys[KEY].read_only = setup.get("read_only", False)
    client = env.client(setup.get("key", KEY), setup.get("system", SYSTEM))
    with pytest.raises(error) as caught:
        await client.validate()
    assert caught.value.problem is problem
    assert text in str(caught.value)
    assert caught.value.status == (403 if problem is Problem.READ_ONLY_KEY else 401)


async def test_validate_connection_problems(env: Env) -> None:
    env.server.answers = [(503, "Service Unavailable")]
    with pytest.raises(PVOutputConnectionError, match="HTTP 503: Service Unavailable"):
        await env.client().get_system()
    env.server.answers = [(200, "Zonnedak,5015,1234AB")]
    with pytest.raises(PVOutputConnectionError, match="unreadable getsystem answer"):
        await env.client().get_system()
    env.server.answers = [(404, "")]
    with pytest.raises(PVOutputBlockedError, match=r"^HTTP 404$") as caught:
        await env.client().get_system()
    assert caught.value.problem is Problem.UNEXPECTED_RESPONSE
    closed = PVOutputClient(env.session, KEY, SYSTEM, base_url=f"http://127.0.0.1:{unused_port()}/")
    with pytest.raises(PVOutputConnectionError, match="ClientConnectorError"):
        await closed.get_system()
    with pytest.raises(ValueError, match="printable"):
        PVOutputClient(env.session, "", SYSTEM)


async def test_client_timeout(env: Env) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = PVOutputClient(
        env.session, KEY, SYSTEM, base_url=f"http://127.0.0.1:{port}/", timeout=0.2
    )
    with pytest.raises(PVOutputConnectionError, match=r"no answer within 0\.2 s"):
        await client.get_system()
    server.close()
    await server.wait_closed()


async def test_rate_limit_error_and_headers(env: Env) -> None:
    client = env.client()
    await client.get_system()
    assert client.rate_limit == RateLimit(remaining=59, limit=60, reset=utc(13, 0))
    env.server.spend(KEY, 59)
    with pytest.raises(RateLimitedError, match="Exceeded 60 requests per hour") as caught:
        await client.get_system()
    assert caught.value.reset == utc(13, 0)
    assert client.rate_limit == RateLimit(remaining=0, limit=60, reset=utc(13, 0))
    env.server.answers = [(429, "Too Many Requests")]
    env.clock.now = utc(13, 1)
    with pytest.raises(RateLimitedError):
        await client.get_system()


async def test_add_status_and_batch_parameters(env: Env) -> None:
    client = env.client(DONOR_KEY)
    env.clock.now = utc(23, 30)
    status = Status(datetime(2026, 11, 22, 13, 10), power_consumption=-750, voltage=230.04)
    await client.add_status(status, net=True, processing_delay=30)
    await client.add_status(status, net=False, processing_delay=0)
    first = Status(datetime(2026, 11, 22, 13, 15), 1, 2, 3, 4)
    second = Status(datetime(2026, 11, 22, 13, 20), energy_consumption=5, voltage=231.5)
    env.server.refuse[("20261122", "13:20")] = "Bad request 400: Moon Powered"
    assert await client.add_batch_status([first, second], net=False) == {second}
    assert env.server.statuses(SYSTEM) == [
        ("20261122", "13:10", {"v4": "-750", "v6": "230.0", "n": "1", "delay": "30"}),
        ("20261122", "13:10", {"v4": "-750", "v6": "230.0"}),
        ("20261122", "13:15", {"v1": "1", "v2": "2", "v3": "3", "v4": "4"}),
    ]
    with pytest.raises(ValueError, match="empty batch"):
        await client.add_batch_status([], net=True)
    with pytest.raises(StatusRejectedError, match="Moon Powered"):
        await client.add_batch_status([second, second], net=True)
    with pytest.raises(DonationModeError):
        await env.client().add_status(status, net=True, processing_delay=5)


# --- schedule ---------------------------------------------------------------------------


def test_settings_are_checked() -> None:
    assert ExportSettings(interval=15, upload_delay=30, processing_delay=120).step == timedelta(
        minutes=15
    )
    with pytest.raises(ValueError, match="upload interval"):
        ExportSettings(interval=7)
    with pytest.raises(ValueError, match="upload delay"):
        ExportSettings(upload_delay=31)
    with pytest.raises(ValueError, match="processing delay"):
        ExportSettings(processing_delay=121)


@pytest.mark.parametrize(
    ("status_interval", "interval"), [(1, 5), (5, 5), (7, 10), (10, 10), (15, 15), (60, 15)]
)
def test_default_interval(status_interval: int, interval: int) -> None:
    assert default_interval(status_interval) == interval


def test_intervals_snap_to_the_local_clock() -> None:
    assert floor_to_interval(NOW, 5, AMSTERDAM) == utc(12, 10)
    assert floor_to_interval(NOW, 15, AMSTERDAM) == utc(12, 0)
    assert floor_to_interval(utc(12, 15), 15, AMSTERDAM) == utc(12, 15)
    # Nepal is 5:45 ahead: its multiples of 10 minutes are not UTC's.
    kathmandu = ZoneInfo("Asia/Kathmandu")
    assert floor_to_interval(utc(12, 7), 10, kathmandu) == utc(12, 5)  # 17:50 there
    assert floor_to_interval(utc(12, 7), 10, UTC) == utc(12, 0)


def test_upload_delay_and_next_due() -> None:
    # DSMR-reader's examples: 12:13:15 → 12:15; 12:25:50 at 15 minutes → 12:30.
    assert next_due(NOW, ExportSettings(), UTC) == utc(12, 15)
    assert next_due(utc(12, 25) + timedelta(seconds=50), ExportSettings(interval=15), UTC) == utc(
        12, 30
    )
    assert next_due(utc(12, 59) + timedelta(seconds=30), ExportSettings(), UTC) == utc(13, 0)
    delayed = ExportSettings(upload_delay=3)
    assert newest_due(utc(12, 17), delayed, UTC) == utc(12, 10)
    assert newest_due(utc(12, 18), delayed, UTC) == utc(12, 15)
    assert next_due(utc(12, 17), delayed, UTC) == utc(12, 18)


def test_window_and_first_pending() -> None:
    # Local midnight 14 (90) days back: Amsterdam is UTC+1 on 8 November, UTC+2 in August.
    assert window_start(NOW, AMSTERDAM, donor=False) == utc(23, 0, day=7)
    assert window_start(NOW, AMSTERDAM, donor=True) == datetime(2026, 8, 23, 22, 0, tzinfo=UTC)
    settings = ExportSettings(interval=15)
    start = utc(0, 0)
    assert first_pending(None, utc(12, 0), settings, UTC, start) == utc(12, 0)
    assert first_pending(utc(12, 5), utc(13, 0), settings, UTC, start) == utc(12, 15)
    assert first_pending(utc(12, 0), utc(13, 0), settings, UTC, start) == utc(12, 15)
    assert first_pending(utc(0, 0, day=1), utc(13, 0), settings, UTC, start) == start


def test_rate_limit_wait_and_retry_delay() -> None:
    reset = utc(13, 0)
    assert rate_limit_wait(None, NOW, True, 0.2) is None
    assert rate_limit_wait(RateLimit(13, 60, reset), NOW, True, 0.2) is None
    assert rate_limit_wait(RateLimit(12, 60, reset), NOW, True, 0.2) == reset
    assert rate_limit_wait(RateLimit(12, 60, reset), NOW, False, 0.2) is None
    assert rate_limit_wait(RateLimit(0, 60, reset), NOW, False, 0.2) == reset
    assert rate_limit_wait(RateLimit(0, 60, reset), reset, False, 0.2) is None
    assert rate_limit_wait(RateLimit(60, 300, reset), NOW, True, 0.2) == reset
    base, cap = timedelta(seconds=30), timedelta(minutes=15)
    assert [retry_delay(n, base, cap).total_seconds() for n in (1, 2, 3, 5, 6, 99)] == [
        30,
        60,
        120,
        480,
        900,
        900,
    ]


def test_state_round_trip_and_bad_state() -> None:
    state = ExportState(utc(12, 10), utc(13, 0), True, NOW, "HTTP 503", 2, 3)
    assert restored(state) == state
    assert ExportState.from_dict(ExportState().as_dict()) == ExportState()
    good = state.as_dict()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"donor": "yes"}, "malformed"),
        ({"last_error": 5}, "malformed"),
        ({"rejected": -1}, "counts"),
        ({"last_uploaded": 5}, "not a time"),
        ({"paused_until": "2026-11-22T12:00:00"}, "without zone"),
        ({"last_success": "yesterday"}, "Invalid isoformat"),
    ]
    for bad, message in cases:
        with pytest.raises(ValueError, match=message):
            ExportState.from_dict(good | bad)


# --- exporter ---------------------------------------------------------------------------


async def test_status_on_the_real_clock(env: Env) -> None:
    exporter = PVOutputExporter(env.client(), ExportSettings(), env.source, AMSTERDAM)
    status = exporter.status()
    assert (status.waiting, status.last_uploaded, status.rate_limit) == (1, None, None)


async def test_live_uploads_as_dsmr_reader(env: Env) -> None:
    exporter = env.exporter()
    changes: list[int] = []
    remove = exporter.add_listener(lambda: changes.append(1))
    assert exporter.status().waiting == 1
    assert await exporter.step() == utc(12, 15)
    # 13:10 local: v3 delivered today, v4 net power, n=1, no delay (none configured).
    assert env.server.statuses(SYSTEM) == [
        ("20261122", "13:10", {"v3": "1460", "v4": "30", "n": "1"})
    ]
    assert env.server.statuses(SYSTEM) == [expected(utc(12, 10))]
    assert env.server.requests == ["addstatus.jsp"]
    assert exporter.state.last_uploaded == utc(12, 10)
    assert exporter.state.last_success == NOW
    assert changes == [1, 1]  # the export's start, then the upload
    remove()
    # Nothing new before 12:15; then the 12:15 interval.
    env.clock.now = utc(12, 14, 59)
    assert await exporter.step() == utc(12, 15)
    env.clock.now = utc(12, 15, 1)
    assert await exporter.step() == utc(12, 20)
    assert [status[1] for status in env.server.statuses(SYSTEM)] == ["13:10", "13:15"]
    status = exporter.status()
    assert (status.waiting, status.last_error, status.problem, status.donor) == (
        0,
        None,
        None,
        False,
    )
    assert status.rate_limit == RateLimit(58, 60, utc(13, 0))
    assert changes == [1, 1]  # removed


async def test_upload_delay_holds_back_the_newest_data(env: Env) -> None:
    exporter = env.exporter(ExportSettings(upload_delay=5))
    # At 12:13:15 only data up to 12:08:15 may be used: the 12:05 interval.
    assert await exporter.step() == utc(12, 15)
    assert env.server.statuses(SYSTEM) == [expected(utc(12, 5))]
    env.clock.now = utc(12, 14)
    assert await exporter.step() == utc(12, 15)
    env.clock.now = utc(12, 15)
    assert await exporter.step() == utc(12, 20)
    assert env.server.statuses(SYSTEM)[1] == expected(utc(12, 10))


async def test_processing_delay_for_donors(env: Env) -> None:
    settings = ExportSettings(processing_delay=30)
    exporter = env.exporter(settings, key=DONOR_KEY)
    await exporter.step()
    d, t, values = expected(utc(12, 10))
    assert env.server.statuses(SYSTEM) == [(d, t, values | {"delay": "30"})]
    assert exporter.state.donor is True


@pytest.mark.allow_log(r"^PVOutput refuses the export .*Donation Mode")
async def test_processing_delay_rejected_without_donation(env: Env) -> None:
    settings = ExportSettings(processing_delay=30)
    exporter = env.exporter(settings)
    assert await exporter.step() == NOW + timedelta(hours=1)
    status = exporter.status()
    assert status.problem is Problem.DONATION_REQUIRED
    assert status.last_error == "HTTP 403: Forbidden 403: Donation Mode"
    assert env.server.accepted == []
    # Held back for an hour, the intervals kept; then the user donates.
    env.clock.now = utc(12, 40)
    assert await exporter.step() == NOW + timedelta(hours=1)
    assert exporter.status().waiting == 7
    assert env.server.requests == ["addstatus.jsp"]
    env.server.keys[KEY].donor = True
    env.clock.now = NOW + timedelta(hours=1)
    # Still blocked: one status probes (with the delay), then the rest in a batch.
    assert await exporter.step() == env.clock.now + timedelta(seconds=10)
    assert exporter.status().problem is None
    env.clock.now += timedelta(seconds=10)
    await exporter.step()
    assert env.server.requests == ["addstatus.jsp", "addstatus.jsp", "addbatchstatus.jsp"]
    sent = env.server.statuses(SYSTEM)
    assert [entry[:2] for entry in sent] == [
        expected(end)[:2] for end in ends(utc(12, 10), utc(13, 10))
    ]
    assert sent[0][2] == expected(utc(12, 10))[2] | {"delay": "30"}
    assert sent[1][2] == expected(utc(12, 15))[2]  # the batch service takes no delay


async def test_outage_catch_up_in_batches_oldest_first(env: Env) -> None:
    # Last upload 09:10: 36 intervals wait, 09:15 to 12:10.
    exporter = env.exporter(state=ExportState(last_uploaded=utc(9, 10)))
    assert exporter.status().waiting == 36
    assert await exporter.step() == NOW + timedelta(seconds=10)
    assert exporter.status().waiting == 6
    env.clock.now += timedelta(seconds=10)
    assert await exporter.step() == utc(12, 15)
    assert env.server.requests == ["addbatchstatus.jsp"] * 2
    assert env.server.statuses(SYSTEM) == [expected(end) for end in ends(utc(9, 15), utc(12, 10))]
    assert [entry.service for entry in env.server.accepted].count("addbatchstatus.jsp") == 36
    env.clock.now = utc(12, 15)
    await exporter.step()
    assert env.server.requests[-1] == "addstatus.jsp"
    assert len(env.server.accepted) == 37


async def test_net_batches_split_at_local_midnight(env: Env) -> None:
    # 23:45 local (22:45 UTC) to 00:10 local: net statuses of one batch share their date.
    env.clock.now = utc(23, 11, day=21)
    exporter = env.exporter(state=ExportState(last_uploaded=utc(22, 40, day=21)))
    await exporter.step()
    env.clock.now += timedelta(seconds=10)
    await exporter.step()
    assert env.server.requests == ["addbatchstatus.jsp", "addbatchstatus.jsp"]
    sent = env.server.statuses(SYSTEM)
    assert [entry[:2] for entry in sent] == [
        ("20261121", "23:45"),
        ("20261121", "23:50"),
        ("20261121", "23:55"),
        ("20261122", "00:00"),
        ("20261122", "00:05"),
        ("20261122", "00:10"),
    ]


async def test_donor_batches_of_100(env: Env) -> None:
    exporter = env.exporter(state=ExportState(last_uploaded=utc(3, 0), donor=True), key=DONOR_KEY)
    assert exporter.status().waiting == 110
    await exporter.step()
    env.clock.now += timedelta(seconds=10)
    await exporter.step()
    assert env.server.requests == ["addbatchstatus.jsp"] * 2
    assert env.server.statuses(SYSTEM) == [expected(end) for end in ends(utc(3, 5), utc(12, 10))]


async def test_gaps_are_passed_and_missing_newest_waits(env: Env) -> None:
    env.source.missing = set(ends(utc(11, 0), utc(11, 55))) | {utc(12, 10)}
    exporter = env.exporter(state=ExportState(last_uploaded=utc(10, 50)))
    await exporter.step()
    # 10:55, then the meter's outage, then 12:00 and 12:05; 12:10 has no data yet.
    assert env.server.statuses(SYSTEM) == [
        expected(end) for end in (utc(10, 55), utc(12, 0), utc(12, 5))
    ]
    assert exporter.state.last_uploaded == utc(12, 5)
    env.clock.now += timedelta(seconds=10)
    assert await exporter.step() == utc(12, 15)
    assert exporter.status().waiting == 1
    env.source.missing.clear()  # the store caught up
    await exporter.step()
    assert env.server.statuses(SYSTEM)[-1] == expected(utc(12, 10))


async def test_a_long_gap_is_scanned_in_steps(env: Env) -> None:
    # 130 intervals without data, more than one step scans (4 batches of 30).
    env.source.missing = set(ends(utc(1, 0), utc(11, 45)))
    exporter = env.exporter(state=ExportState(last_uploaded=utc(0, 55)))
    assert await exporter.step() == NOW + timedelta(seconds=10)
    assert env.server.requests == []
    assert exporter.state.last_uploaded == utc(1, 0) + timedelta(minutes=5 * 119)
    await exporter.step()
    assert env.server.statuses(SYSTEM) == [expected(end) for end in ends(utc(11, 50), utc(12, 10))]
    # No data anywhere: everything waits for it.
    env.source.missing = set(ends(utc(0, 0), utc(23, 55)))
    waiting = env.exporter(state=ExportState(last_uploaded=utc(0, 55)))
    assert await waiting.step() == utc(12, 15)
    assert waiting.state.last_uploaded == utc(0, 55)


async def test_rate_limit_leaves_headroom_for_other_tools(env: Env) -> None:
    env.server.spend(KEY, 45)  # another tool on the same key
    exporter = env.exporter(state=ExportState(last_uploaded=utc(0, 0)))
    for _ in range(3):
        assert await exporter.step() == env.clock.now + timedelta(seconds=10)
        env.clock.now += timedelta(seconds=10)
    # 12 of 60 left: the catch-up waits for the next hour, leaving them to the other tool.
    assert await exporter.step() == utc(13, 0)
    assert env.server.requests == ["addbatchstatus.jsp"] * 3
    assert exporter.status().rate_limit == RateLimit(12, 60, utc(13, 0))
    env.clock.now = utc(13, 0)
    await exporter.step()
    assert len(env.server.requests) == 4
    sent = env.server.statuses(SYSTEM)
    assert sent == [expected(end) for end in ends(utc(0, 5), utc(10, 0))]


@pytest.mark.allow_log(r"^PVOutput's rate limit is reached")
async def test_rate_limit_exceeded_pauses_across_restart(env: Env) -> None:
    env.server.spend(KEY, 60)
    exporter = env.exporter()
    assert await exporter.step() == utc(13, 0)
    status = exporter.status()
    assert status.paused_until == utc(13, 0)
    assert status.last_error == "HTTP 403: Forbidden 403: Exceeded 60 requests per hour"
    state = restored(exporter.state)
    assert state.paused_until == utc(13, 0)
    again = env.exporter(state=state)
    env.clock.now = utc(12, 30)
    assert await again.step() == utc(13, 0)
    assert env.server.requests == ["addstatus.jsp"]
    env.clock.now = utc(13, 0, 5)
    assert await again.step() == utc(13, 5)
    assert again.status().paused_until is None
    assert env.server.statuses(SYSTEM) == [expected(end) for end in ends(utc(12, 10), utc(13, 0))]


@pytest.mark.allow_log(r"^PVOutput's rate limit is reached")
async def test_rate_limited_without_reset_header(env: Env) -> None:
    env.server.answers = [(403, "Forbidden 403: Exceeded 60 requests per hour")]
    exporter = env.exporter()
    exporter._client._headers.pop("X-Rate-Limit")  # no headers in the answer
    assert await exporter.step() == NOW + timedelta(hours=1)
    # A reset known from an earlier answer is used.
    client = env.client()
    await client.get_system()
    client._headers.pop("X-Rate-Limit")
    env.server.answers = [(403, "Forbidden 403: Exceeded 60 requests per hour")]
    later = PVOutputExporter(client, ExportSettings(), env.source, AMSTERDAM, now=env.clock)
    assert await later.step() == utc(13, 0)


async def test_restart_in_the_middle_of_a_catch_up(env: Env) -> None:
    first = env.exporter(state=ExportState(last_uploaded=utc(4, 40)))  # 90 intervals
    saved: list[dict[str, Any]] = []
    first.add_listener(lambda: saved.append(first.state.as_dict()))
    await first.step()
    env.clock.now += timedelta(seconds=10)
    await first.step()
    assert len(env.server.accepted) == 60
    # Home Assistant stops; the Store holds the last saved state.
    second = env.exporter(state=ExportState.from_dict(json.loads(json.dumps(saved[-1]))))
    assert second.status().waiting == 30
    env.clock.now += timedelta(seconds=10)
    assert await second.step() == utc(12, 15)
    assert env.server.statuses(SYSTEM) == [expected(end) for end in ends(utc(4, 45), utc(12, 10))]


@pytest.mark.allow_log(
    r"intervals became too old for PVOutput", r"^PVOutput found \d+ intervals too old"
)
async def test_intervals_too_old_are_given_up(env: Env) -> None:
    exporter = env.exporter(state=ExportState(last_uploaded=utc(23, 55, day=1)))
    await exporter.step()
    # 1 Nov 23:55 UTC to 7 Nov 23:00 UTC (local midnight of 8 Nov) is out of the window.
    state = exporter.state
    assert state.expired == (utc(23, 0, day=7) - utc(0, 0, day=2)) // timedelta(minutes=5)
    sent = env.server.statuses(SYSTEM)
    assert sent[0][:2] == ("20261108", "00:00")
    assert len(sent) == 30
    # PVOutput's window proves a day shorter: the oldest date's statuses are given up.
    env.server.window_days = 13
    env.clock.now += timedelta(seconds=10)
    assert await exporter.step() == env.clock.now + timedelta(seconds=10)
    assert state.last_error == "HTTP 400: Bad request 400: Date is too far in the past [20261108]"
    assert state.last_uploaded == utc(22, 55, day=8)  # 8 Nov 23:55 local
    assert state.expired == 1716 + 288 - 30  # the rest of 8 November
    env.clock.now += timedelta(seconds=10)
    await exporter.step()
    assert env.server.statuses(SYSTEM)[30][:2] == ("20261109", "00:00")


async def test_values_with_generation_and_voltage(env: Env) -> None:
    env.source.generation = Generation(energy_wh=3200, power_w=1500)
    env.source.voltage = 231.44
    exporter = env.exporter(ExportSettings(generation=True, processing_delay=30), key=DONOR_KEY)
    await exporter.step()
    # 12:10 UTC: consumed 1460 Wh, returned 365 Wh, net 30 W; used = 1460 - 365 + 3200.
    assert env.server.statuses(SYSTEM) == [
        (
            "20261122",
            "13:10",
            {"v1": "3200", "v2": "1500", "v3": "4295", "v4": "1530", "v6": "231.4", "delay": "30"},
        )
    ]
    # Net statuses carry the voltage as well.
    env.clock.now = utc(12, 15)
    await env.exporter(state=ExportState(last_uploaded=utc(12, 10))).step()
    assert env.server.statuses(SYSTEM)[1] == (
        "20261122",
        "13:15",
        {"v3": "1470", "v4": "35", "v6": "231.4", "n": "1"},
    )


async def test_generation_values_in_a_batch_and_never_negative(env: Env) -> None:
    env.source.generation = Generation(energy_wh=0, power_w=0)
    exporter = env.exporter(
        ExportSettings(generation=True), state=ExportState(last_uploaded=utc(0, 0))
    )
    await exporter.step()
    sent = env.server.statuses(SYSTEM)
    # 00:05 UTC: consumed 10, returned 2, net -695 W: used power is clamped to 0.
    assert sent[0] == ("20261122", "01:05", {"v1": "0", "v2": "0", "v3": "8", "v4": "0"})
    # Without generation data an interval is not sent in gross mode.
    env.source.generation = None
    env.clock.now += timedelta(seconds=10)
    assert await exporter.step() == utc(12, 15)
    assert len(env.server.accepted) == 30


@pytest.mark.allow_log(r"^PVOutput did not add", r"^PVOutput refused \d+ intervals for good")
async def test_refused_statuses_are_dropped_the_rest_kept(env: Env) -> None:
    env.server.refuse[("20261122", "13:00")] = "Bad request 400: Moon Powered"
    exporter = env.exporter(state=ExportState(last_uploaded=utc(11, 50)))
    await exporter.step()
    assert [entry[1] for entry in env.server.statuses(SYSTEM)] == [
        "12:55",
        "13:05",
        "13:10",
    ]
    assert exporter.state.rejected == 1
    assert exporter.state.last_error == "PVOutput did not add 1 of 4 statuses"
    # A single status refused for good is dropped as well.
    env.server.refuse[("20261122", "13:15")] = "Bad request 400: Energy value [5] too high"
    env.clock.now = utc(12, 15)
    assert await exporter.step() == utc(12, 20)
    assert exporter.state.rejected == 2
    assert exporter.state.last_uploaded == utc(12, 15)
    assert "too high" in (exporter.state.last_error or "")


@pytest.mark.allow_log(r"^Cannot export to PVOutput \(HTTP")
async def test_failures_keep_the_interval_and_back_off(env: Env) -> None:
    env.server.answers = [(503, "Service Unavailable"), (500, "")]
    exporter = env.exporter()
    assert await exporter.step() == NOW + timedelta(seconds=30)
    assert exporter.state.last_error == "HTTP 503: Service Unavailable"
    env.clock.now += timedelta(seconds=20)
    assert await exporter.step() == NOW + timedelta(seconds=30)
    env.clock.now = NOW + timedelta(seconds=30)
    assert await exporter.step() == NOW + timedelta(seconds=90)
    env.clock.now = NOW + timedelta(seconds=90)
    assert await exporter.step() == utc(12, 15)
    assert env.server.statuses(SYSTEM) == [expected(utc(12, 10))]
    # PVOutput's clock behind ours: "Date is in the future" is retried as well.
    env.server.now = lambda: utc(12, 5)
    env.clock.now = utc(12, 15)
    assert await exporter.step() == utc(12, 15, 30)
    assert exporter.state.last_error == (
        "HTTP 400: Bad request 400: Date is in the future [20261122]"
    )
    assert exporter.status().waiting == 1


@pytest.mark.allow_log(
    r"^Cannot read the data for PVOutput$", r"^Cannot export to PVOutput \(RuntimeError"
)
async def test_source_errors_keep_the_interval(env: Env) -> None:
    env.source.fail = RuntimeError("store closed")
    exporter = env.exporter()
    assert await exporter.step() == NOW + timedelta(seconds=30)
    assert exporter.state.last_error == "RuntimeError: store closed"
    env.source.fail = None
    env.clock.now += timedelta(seconds=30)
    await exporter.step()
    assert env.server.statuses(SYSTEM) == [expected(utc(12, 10))]


@pytest.mark.allow_log(r"^PVOutput refuses the export .*Read only key")
async def test_read_only_key_blocks_then_probes_with_one_status(env: Env) -> None:
    env.server.keys[KEY].read_only = True
    exporter = env.exporter(state=ExportState(last_uploaded=utc(11, 55)))
    assert await exporter.step() == NOW + timedelta(hours=1)
    assert exporter.status().problem is Problem.READ_ONLY_KEY
    env.server.keys[KEY].read_only = False  # the user made the key writable
    env.clock.now = NOW + timedelta(hours=1)
    await exporter.step()
    assert env.server.requests == ["addbatchstatus.jsp", "addstatus.jsp"]
    assert env.server.statuses(SYSTEM) == [expected(utc(12, 0))]


async def test_changed_interval_continues_on_the_new_grid(env: Env) -> None:
    env.clock.now = utc(12, 50)
    state = ExportState(last_uploaded=utc(12, 5))
    exporter = env.exporter(ExportSettings(interval=15), state=state)
    await exporter.step()
    assert [entry[1] for entry in env.server.statuses(SYSTEM)] == ["13:15", "13:30", "13:45"]


async def test_run_sleeps_until_each_step_asks(env: Env) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        env.clock.now += timedelta(seconds=seconds)
        if len(slept) == 3:
            raise asyncio.CancelledError

    exporter = env.exporter(state=ExportState(last_uploaded=utc(9, 10)), sleep=sleep)
    with pytest.raises(asyncio.CancelledError):
        await exporter.run()
    # 10 s between the two batches, then until 12:15, then until 12:20.
    assert slept == [10.0, 95.0, 300.0]
    assert len(env.server.accepted) == 37


@pytest.mark.allow_log(r"^PVOutput export failed$")
async def test_run_survives_a_bug(env: Env) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        raise asyncio.CancelledError

    exporter = env.exporter(sleep=sleep)

    async def broken() -> datetime:
        raise KeyError("bug")

    exporter.step = broken  # type: ignore[method-assign]
    with pytest.raises(asyncio.CancelledError):
        await exporter.run()
    assert slept == [900.0]  # the longest back-off
