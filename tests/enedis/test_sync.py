"""The history import, updates and the poll schedule, against the simulated service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
import json

import aiohttp
import pytest

from custom_components.smartmeter.enedis import (
    LinkySync,
    Measurement,
    MeterData,
    RateLimited,
    next_poll,
)
from custom_components.smartmeter.enedis.data import day_hours

from .server import Service, client_of, enedis_service

TODAY = date(2026, 3, 31)
BOTH = (Measurement.CONSUMPTION, Measurement.PRODUCTION)


class Day:
    """The simulator's day, changeable."""

    def __init__(self) -> None:
        self.today = TODAY

    def __call__(self) -> date:
        return self.today


@pytest.fixture
async def service(
    socket_enabled: None,
) -> AsyncIterator[tuple[Service, aiohttp.ClientSession, Day]]:
    day = Day()
    async with enedis_service(day) as running, aiohttp.ClientSession() as session:
        yield running, session, day


async def no_pause() -> None:
    """Requests back to back: the tests' service has no rate limit."""


def restored(data: MeterData) -> MeterData:
    return MeterData.from_json(json.loads(json.dumps(data.to_json())))


async def test_history_import_resumes_after_a_failure(
    service: tuple[Service, aiohttp.ClientSession, Day],
) -> None:
    """Three years of daily values, two of load curve: the fewest requests Enedis' limits allow,
    one failed on the way, the rest resumed from saved data."""
    running, session, _ = service
    simulator = running.simulator
    client = client_of("conso_api", session, running.url)
    sync = LinkySync(client, BOTH, MeterData(), no_pause)
    assert sync.history_requests(TODAY) == (0, 2 * 3 + 3 + 2 * 105)
    changed: list[date | None] = []

    def refuse_the_eighth(first: date | None) -> None:
        changed.append(first)
        if client.requests == 7:
            simulator.failures = [(429, {"fault": {"code": 900807, "message": "throttled"}})]

    # The 8th request is refused: the import stops there, keeping what it had.
    with pytest.raises(RateLimited):
        await sync.import_history(TODAY, refuse_the_eighth)
    assert client.requests == 8
    # The daily values are done, one maximum power window of three.
    assert sync.history_requests(TODAY) == (7, 219)
    assert changed == [
        TODAY - timedelta(days=365),
        TODAY - timedelta(days=730),
        TODAY - timedelta(days=1095),
        None,
        TODAY - timedelta(days=365),
        TODAY - timedelta(days=730),
        TODAY - timedelta(days=1095),
        None,
        TODAY - timedelta(days=365),
    ]
    data = restored(sync.data)
    resumed = LinkySync(client, BOTH, data, no_pause)
    await resumed.import_history(TODAY, changed.append)
    assert resumed.history_complete
    assert resumed.history_requests(TODAY) == (219, 219)
    assert client.requests == 8 + 212
    consumption = data.of(Measurement.CONSUMPTION)
    assert min(consumption.daily) == TODAY - timedelta(days=3 * 365)
    assert max(consumption.daily) == TODAY - timedelta(days=1)
    assert len(consumption.daily) == 3 * 365
    assert consumption.daily[date(2025, 10, 26)] == simulator.daily_wh(
        "consumption", date(2025, 10, 26)
    )
    assert len(consumption.max_power) == 3 * 365
    assert Measurement.PRODUCTION in data.measurements
    assert data.of(Measurement.PRODUCTION).max_power == {}
    # The load curve two years back, whole days, DST days with 23 and 25 hours.
    production = data.of(Measurement.PRODUCTION)
    assert production.curve.complete(TODAY - timedelta(days=2 * 365))
    assert not production.curve.complete(TODAY - timedelta(days=2 * 365 + 1))
    start, end = day_hours(date(2025, 10, 26))
    assert (end - start) // 3_600_000_000 == 25
    assert resumed.complete(TODAY)
    assert resumed.missing_days(TODAY) == []
    assert changed[-1] is None


async def test_history_stops_at_the_deadline_and_without_load_curve(
    service: tuple[Service, aiohttp.ClientSession, Day],
) -> None:
    running, session, _ = service
    running.simulator.load_curve_enabled = False
    client = client_of("myelectricaldata", session, running.url)
    sync = LinkySync(client, (Measurement.PRODUCTION,), MeterData(), no_pause)
    await sync.import_history(TODAY, lambda day: None)
    # 3 daily requests, 1 load curve refused.
    assert client.requests == 4
    assert sync.data.no_load_curve == {Measurement.PRODUCTION}
    # Days then come as one row at the day's first hour.
    hours = list(sync.data.of(Measurement.PRODUCTION).hours())
    assert len(hours) == 3 * 365
    assert hours[-1] == (
        day_hours(date(2026, 3, 30))[0],
        running.simulator.daily_wh("production", date(2026, 3, 30)),
    )
    assert sync.complete(TODAY)


async def test_a_missed_day_is_asked_for_again(
    service: tuple[Service, aiohttp.ClientSession, Day],
) -> None:
    running, session, day = service
    simulator = running.simulator
    client = client_of("conso_api", session, running.url)
    sync = LinkySync(client, (Measurement.CONSUMPTION,), MeterData(), no_pause)
    await sync.import_history(TODAY, lambda day: None)
    # The next day's data is late for the 30th; the 31st comes in.
    day.today = TODAY + timedelta(days=2)
    simulator.missing = {TODAY}
    simulator.requests.clear()
    await sync.update(day.today, lambda day: None)
    assert simulator.requests == [
        "/api/daily_consumption?prm=12345678901234&start=2026-03-31&end=2026-04-02",
        "/api/consumption_max_power?prm=12345678901234&start=2026-03-31&end=2026-04-02",
        "/api/consumption_load_curve?prm=12345678901234&start=2026-03-31&end=2026-04-02",
    ]
    assert sync.complete(day.today)
    assert sync.missing_days(day.today) == [TODAY]
    simulator.missing = set()
    simulator.requests.clear()
    await sync.update(day.today, lambda day: None)
    assert simulator.requests == [
        "/api/daily_consumption?prm=12345678901234&start=2026-03-31&end=2026-04-02",
        "/api/consumption_max_power?prm=12345678901234&start=2026-03-31&end=2026-04-02",
        "/api/consumption_load_curve?prm=12345678901234&start=2026-03-31&end=2026-04-02",
    ]
    assert sync.missing_days(day.today) == []
    # Nothing is asked for again once all is in.
    simulator.requests.clear()
    await sync.update(day.today, lambda day: None)
    assert simulator.requests == []


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "complete", "expected"),
    [
        # Winter (UTC+1): before 05:00, the day's first poll; then each hour until 19:xx.
        (utc(2026, 1, 15, 3, 0), False, utc(2026, 1, 15, 4, 17)),
        (utc(2026, 1, 15, 4, 17), False, utc(2026, 1, 15, 5, 17)),
        (utc(2026, 1, 15, 18, 16), False, utc(2026, 1, 15, 18, 17)),
        (utc(2026, 1, 15, 18, 17), False, utc(2026, 1, 16, 4, 17)),
        # Complete: the next day's 05:17.
        (utc(2026, 1, 15, 8, 0), True, utc(2026, 1, 16, 4, 17)),
        # Summer (UTC+2).
        (utc(2026, 7, 1, 2, 0), False, utc(2026, 7, 1, 3, 17)),
        # Across the spring change (29 March 2026: 02:00 becomes 03:00).
        (utc(2026, 3, 28, 20, 0), False, utc(2026, 3, 29, 3, 17)),
        # And the autumn one (25 October 2026: 03:00 becomes 02:00).
        (utc(2026, 10, 24, 20, 0), True, utc(2026, 10, 25, 4, 17)),
    ],
)
def test_next_poll(now: datetime, complete: bool, expected: datetime) -> None:
    assert next_poll(now, 17, complete) == expected


def test_a_whole_day_of_polls() -> None:
    """From midnight, with yesterday never in: 15 polls, 05:17 to 19:17 Paris time."""
    now = utc(2026, 1, 14, 23, 0)
    polls = []
    while (now := next_poll(now, 17, False)) < utc(2026, 1, 15, 23, 0):
        polls.append(now)
    assert polls == [utc(2026, 1, 15, hour, 17) for hour in range(4, 19)]
