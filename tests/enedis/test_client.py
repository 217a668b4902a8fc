"""The Linky client against the simulated service, by each access path: values, times, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import aiohttp
import pytest

from custom_components.smartmeter.enedis import (
    AccessDenied,
    ConsoApiClient,
    EnedisConnectionError,
    HistoryLimit,
    LoadCurveNotEnabled,
    Measurement,
    PrmNotAllowed,
    RateLimited,
    RequestRejected,
    WrongMeasurementType,
    token_prms,
)
from custom_components.smartmeter.enedis.client import Data, classify
from custom_components.smartmeter.enedis.readings import parse_daily, parse_load_curve
from enedis_simulator import PRM, conso_token

from .server import ACCESS_PATHS, Service, client_of, enedis_service

TODAY = date(2026, 3, 31)
CONSUMPTION = Measurement.CONSUMPTION
PRODUCTION = Measurement.PRODUCTION


@pytest.fixture
async def service(socket_enabled: None) -> AsyncIterator[tuple[Service, aiohttp.ClientSession]]:
    async with enedis_service(lambda: TODAY) as running, aiohttp.ClientSession() as session:
        yield running, session


@pytest.mark.parametrize("path", ACCESS_PATHS)
async def test_daily_values_and_max_power(
    service: tuple[Service, aiohttp.ClientSession], path: str
) -> None:
    running, session = service
    client = client_of(path, session, running.url)
    days = await client.daily(CONSUMPTION, date(2026, 3, 28), TODAY)
    assert [(value.day, value.value) for value in days] == [
        (date(2026, 3, 28), running.simulator.daily_wh("consumption", date(2026, 3, 28))),
        (date(2026, 3, 29), running.simulator.daily_wh("consumption", date(2026, 3, 29))),
        (date(2026, 3, 30), running.simulator.daily_wh("consumption", date(2026, 3, 30))),
    ]
    # Half hours of 2 x (150 + 20 h + 7 (yday % 9) + m) W ending at 00:30 to 23:30 (day 87),
    # and 00:00 of the next (day 88): their W / 2.
    assert days[0].value == 47 * (150 + 42) + 20 * 2 * 276 + 30 * 24 + 199
    power = await client.max_power(date(2026, 3, 30), TODAY)
    # The highest half hour ends at 23:30 local (21:30 UTC on a summer-time day), day 89: its
    # W x 1.25 in VA.
    assert [(value.day, value.value, value.at) for value in power] == [
        (
            date(2026, 3, 30),
            2 * (150 + 20 * 23 + 7 * 8 + 30) * 5 // 4,
            datetime(2026, 3, 30, 21, 30, tzinfo=UTC),
        )
    ]
    assert client.requests == 2


@pytest.mark.parametrize("path", ACCESS_PATHS)
async def test_load_curve_by_interval_start_in_utc(
    service: tuple[Service, aiohttp.ClientSession], path: str
) -> None:
    """The points of the spring DST day: 46 half hours, each moved back to its start."""
    running, session = service
    client = client_of(path, session, running.url)
    points = await client.load_curve(CONSUMPTION, date(2026, 3, 29), date(2026, 3, 30))
    assert len(points) == 46
    assert points[0].start == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert points[0].watts == 2 * (150 + 0 + 7 * (88 % 9) + 30)
    assert points[-1].start == datetime(2026, 3, 29, 21, 30, tzinfo=UTC)
    starts = [point.start for point in points]
    assert starts == [starts[0] + timedelta(minutes=30 * n) for n in range(46)]
    assert sum(point.watt_minutes for point in points) == 60 * running.simulator.daily_wh(
        "consumption", date(2026, 3, 29)
    )


async def test_autumn_dst_day_repeats_local_times(
    service: tuple[Service, aiohttp.ClientSession],
) -> None:
    """50 half hours on 2025-10-26: the repeated 02:xx local times are told apart by order."""
    running, session = service
    client = client_of("conso_api", session, running.url)
    points = await client.load_curve(PRODUCTION, date(2025, 10, 26), date(2025, 10, 27))
    starts = [point.start for point in points]
    assert len(starts) == 50
    assert starts == [
        datetime(2025, 10, 25, 22, 0, tzinfo=UTC) + timedelta(minutes=30 * n) for n in range(50)
    ]


@pytest.mark.parametrize("path", ACCESS_PATHS)
async def test_errors_by_type(service: tuple[Service, aiohttp.ClientSession], path: str) -> None:
    running, session = service
    simulator = running.simulator
    client = client_of(path, session, running.url)
    with pytest.raises(RequestRejected):
        await client.load_curve(CONSUMPTION, date(2026, 3, 1), date(2026, 3, 9))
    with pytest.raises(HistoryLimit):
        await client.daily(CONSUMPTION, date(2022, 1, 1), date(2022, 2, 1))
    # No data for a period: an empty result.
    simulator.missing = {date(2026, 3, 30)}
    assert await client.daily(PRODUCTION, date(2026, 3, 30), TODAY) == []
    simulator.load_curve_enabled = False
    with pytest.raises(LoadCurveNotEnabled):
        await client.load_curve(CONSUMPTION, date(2026, 3, 20), date(2026, 3, 21))
    simulator.failures = [
        (
            429,
            {
                "code": "900804",
                "message": "Message throttled out",
                "description": "You have exceeded your quota",
                "nextAccessTime": "2026-Jul-17 05:00:00+0000 UTC",
            },
        ),
        (503, {"error": "Service Unavailable"}),
        (200, "not json"),
        (400, {"error": "ADAM-ERR0069", "error_description": "Le sens de la mesure"}),
    ]
    with pytest.raises(RateLimited) as limited:
        await client.daily(CONSUMPTION, date(2026, 3, 20), date(2026, 3, 21))
    assert limited.value.next_access == datetime(2026, 7, 17, 5, tzinfo=UTC)
    with pytest.raises(EnedisConnectionError):
        await client.daily(CONSUMPTION, date(2026, 3, 20), date(2026, 3, 21))
    with pytest.raises(EnedisConnectionError):
        await client.daily(CONSUMPTION, date(2026, 3, 20), date(2026, 3, 21))
    with pytest.raises(WrongMeasurementType):
        await client.daily(PRODUCTION, date(2026, 3, 20), date(2026, 3, 21))
    simulator.consent = False
    with pytest.raises(AccessDenied):
        await client.daily(CONSUMPTION, date(2026, 3, 20), date(2026, 3, 21))
    with pytest.raises(ValueError, match="empty period"):
        await client.daily(CONSUMPTION, TODAY, TODAY)


@pytest.mark.parametrize("path", ACCESS_PATHS)
async def test_bad_credentials(service: tuple[Service, aiohttp.ClientSession], path: str) -> None:
    running, session = service
    client = client_of(path, session, running.url, prm="99999999999999", token="wrong")
    with pytest.raises(AccessDenied):
        await client.daily(CONSUMPTION, date(2026, 3, 20), date(2026, 3, 21))


async def test_conso_api_token_lists_its_prms(
    service: tuple[Service, aiohttp.ClientSession],
) -> None:
    running, session = service
    assert token_prms(conso_token([PRM, "11111111111111"])) == [PRM, "11111111111111"]
    assert token_prms(conso_token(PRM)) == [PRM]  # type: ignore[arg-type]
    assert token_prms("not.a-token") is None
    assert token_prms(conso_token([1])) is None  # type: ignore[list-item]
    ConsoApiClient(session, PRM, conso_token([PRM]), running.url).check_token()
    with pytest.raises(PrmNotAllowed):
        ConsoApiClient(session, "11111111111111", conso_token([PRM]), running.url).check_token()
    with pytest.raises(AccessDenied):
        ConsoApiClient(session, PRM, "garbage", running.url).check_token()


async def test_no_answer_is_a_connection_error(socket_enabled: None) -> None:
    async with aiohttp.ClientSession() as session:
        client = client_of("conso_api", session, "http://127.0.0.1:9")
        with pytest.raises(EnedisConnectionError):
            await client.daily(CONSUMPTION, date(2026, 3, 20), date(2026, 3, 21))


def test_unreadable_values() -> None:
    with pytest.raises(EnedisConnectionError):
        parse_daily({"interval_reading": [{"value": "x", "date": "2026-01-01"}]})
    with pytest.raises(EnedisConnectionError):
        parse_load_curve(
            {
                "interval_reading": [
                    {"value": "1", "date": "2026-01-01 00:30:00", "interval_length": "PT7M"}
                ]
            }
        )
    with pytest.raises(EnedisConnectionError):
        parse_daily({"meter_reading": []})
    assert (
        classify(401, {"status": 401, "message": "Votre token est invalide"}, Data.DAILY).__class__
        is AccessDenied
    )
    # A 429 without a readable time.
    error = classify(429, {"nextAccessTime": "soon"}, Data.DAILY)
    assert isinstance(error, RateLimited)
    assert error.next_access is None
