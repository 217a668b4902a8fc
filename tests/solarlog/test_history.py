"""A plant's energy over time and its updates, against the simulated portal."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import aiohttp
from homeassistant.core import HomeAssistant
import pytest

from custom_components.smartmeter.longterm import Increment
from custom_components.smartmeter.solarlog.client import EnerestClient
from custom_components.smartmeter.solarlog.errors import ResponseError
from custom_components.smartmeter.solarlog.history import (
    HourLedger,
    backfill_hours,
    earlier_totals,
    energy_hours,
    history_start,
)
from custom_components.smartmeter.solarlog.models import ChannelSeries
from custom_components.smartmeter.solarlog.poller import PlantPoller
from solarlog_simulator import BASIC, PortalSimulator, default_components
from tests.enerest import (
    CLIENT_ID,
    NOW,
    PLANT_ID,
    PORTAL,
    SECRET,
    TODAY,
    Clock,
    local,
    portal,
    set_points,
)

HOUR = 3_600_000_000


def us(moment: datetime) -> int:
    return round(moment.timestamp()) * 1_000_000


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def started(clock: Clock, **options: object) -> PortalSimulator:
    simulated = portal(clock, **options)  # type: ignore[arg-type]
    await simulated.start()
    return simulated


def client_of(
    simulated: PortalSimulator, session: aiohttp.ClientSession, clock: Clock
) -> EnerestClient:
    return EnerestClient(
        session,
        PORTAL,
        CLIENT_ID,
        SECRET,
        api_url=simulated.url,
        token_url=simulated.token_url,
        now=clock,
    )


def series(name: str, unit: str | None, points: dict[datetime, str | None]) -> ChannelSeries:
    return ChannelSeries(
        name=name,
        device_id=None,
        unit=unit,
        day=None,
        points=tuple(
            (at, None if value is None else Decimal(value)) for at, value in points.items()
        ),
    )


def test_energy_hours_sum_each_utc_hour_exactly() -> None:
    at = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
    hours = energy_hours(
        [
            series(
                "ProdEtotal",
                "Wh",
                {
                    at: "12.5",
                    at + timedelta(minutes=5): None,
                    at + timedelta(minutes=55): "0.7",
                    at + timedelta(minutes=60): "0.2",
                },
            ),
            series("ConsEtotal", "kWh", {at + timedelta(minutes=10): "0.0015"}),
            series("ProdPac", "W", {at: "4000"}),  # power: not energy
        ]
    )
    # 13.2 Wh rounds to 13; 1.5 Wh to 2 (half to even); the next hour's 0.2 to 0.
    assert hours == {
        us(at): {"solar_production": 13, "home_consumption": 2},
        us(at) + HOUR: {"solar_production": 0},
    }
    with pytest.raises(ResponseError, match=r"ProdEtotal is in 'W', not in Wh, kWh, MWh"):
        energy_hours([series("ProdEtotal", "W", {at: "1"})])


def test_history_start() -> None:
    # Nothing known: a week; else from the newest data's day, yesterday at least, however long
    # ago (the poller reads that in calls of DAYS_PER_CALL days).
    assert history_start(TODAY, None) == date(2026, 6, 9)
    assert history_start(TODAY, NOW) == date(2026, 6, 14)
    assert history_start(TODAY, NOW - timedelta(days=3)) == date(2026, 6, 12)
    assert history_start(TODAY, NOW - timedelta(days=300)) == date(2025, 8, 19)


def test_ledger_merges_and_keeps() -> None:
    ledger = HourLedger()
    assert ledger.merge({2 * HOUR: {"a": 1}, HOUR: {"a": 2}}) == HOUR
    assert ledger.merge({2 * HOUR: {"a": 1}}) is None
    assert ledger.merge({2 * HOUR: {"b": 3}, 3 * HOUR: {"a": 0}}) == 2 * HOUR
    assert ledger.increments(2 * HOUR) == [
        Increment(2 * HOUR, {"a": 1, "b": 3}),
        Increment(3 * HOUR, {"a": 0}),
    ]
    assert (ledger.first_hour(), ledger.hour_before(3 * HOUR), ledger.newest_hour()) == (
        HOUR,
        2 * HOUR,
        3 * HOUR,
    )
    ledger.backfilled = True
    again = HourLedger.from_data(ledger.as_data())
    assert again.increments(0) == ledger.increments(0)
    assert (again.backfilled, again.series_keys()) == (True, {"a", "b"})
    assert HourLedger.from_data(None).first_hour() is None


async def test_backfill_reads_months_not_days(
    hass: HomeAssistant, socket_enabled: None, session: aiohttp.ClientSession, clock: Clock
) -> None:
    simulated = await started(clock)
    try:
        client = client_of(simulated, session, clock)
        hours = await backfill_hours(client, PLANT_ID, date(2026, 6, 9))
        plant = simulated.plants[PLANT_ID]
        until = plant.transferred_until(NOW)
    finally:
        await simulated.close()
    # The lifetime, 2026, and its months with energy: April (from the 20th), May, June.
    assert [call.removeprefix(f"/visualization/plant/{PLANT_ID}") for call in simulated.calls] == [
        "/auth/realms/quotaapi/protocol/openid-connect/token",
        "/lifetime",
        "/year/2026",
        "/year/2026/month/4",
        "/year/2026/month/5",
        "/year/2026/month/6",
    ]
    # A day at its first hour (local midnight), from the 20th of April to the 8th of June.
    first = local(date(2026, 4, 20), 0)
    assert min(hours) == us(first)
    assert len(hours) == 11 + 31 + 8
    june_8 = hours[us(local(date(2026, 6, 8), 0))]
    energy = plant.day_energy("ProdEtotal", date(2026, 6, 8), until)
    assert energy is not None
    assert june_8["solar_production"] == int(energy.to_integral_value())
    assert set(june_8) == {
        "solar_production",
        "home_consumption",
        "battery_charged",
        "battery_discharged",
    }


async def test_earlier_totals(
    hass: HomeAssistant, socket_enabled: None, session: aiohttp.ClientSession, clock: Clock
) -> None:
    simulated = await started(clock)
    try:
        totals = await earlier_totals(client_of(simulated, session, clock), PLANT_ID, TODAY)
        plant = simulated.plants[PLANT_ID]
        until = plant.transferred_until(NOW)
    finally:
        await simulated.close()

    def energy(first: date, last: date) -> Decimal:
        days = (last - first).days + 1
        return sum(
            (
                plant.day_energy("ConsEtotal", first + timedelta(days=offset), until) or Decimal(0)
                for offset in range(days)
            ),
            Decimal(0),
        )

    consumption = totals["ConsEtotal"]
    assert consumption.month == energy(date(2026, 6, 1), date(2026, 6, 14))
    assert consumption.year == energy(date(2026, 4, 20), date(2026, 5, 31))
    assert consumption.lifetime == 0
    today = energy(TODAY, TODAY)
    assert consumption.with_today(today) == (
        energy(date(2026, 6, 1), TODAY),
        energy(date(2026, 4, 20), TODAY),
        energy(date(2026, 4, 20), TODAY),
    )
    assert set(totals) == {"ProdEtotal", "ConsEtotal", "BatEcharge", "BatEdischarge"}


async def test_basic_package_found_out_without_errors(
    hass: HomeAssistant, socket_enabled: None, session: aiohttp.ClientSession, clock: Clock
) -> None:
    simulated = await started(clock, package=BASIC)
    try:
        poller = PlantPoller(client_of(simulated, session, clock), PLANT_ID)
        snapshot = await poller.poll(NOW, TODAY, TODAY - timedelta(days=1))
        calls = len(simulated.calls)
        again = await poller.poll(NOW + timedelta(minutes=5), TODAY, TODAY)
        later = simulated.calls[calls:]
        tomorrow = TODAY + timedelta(days=1)
        clock.move(timedelta(days=1))
        await poller.poll(NOW + timedelta(days=1), tomorrow, TODAY)
        next_day = simulated.calls[calls + len(later) :]
    finally:
        await simulated.close()
    assert (snapshot.advanced, snapshot.component_series, snapshot.kpis) == (False, {}, ())
    assert len(snapshot.components) == 6
    # Today's plant-level series: the 144 slots to 12:00, of each channel.
    assert {name: len(one.points) for name, one in snapshot.today.items()} == dict.fromkeys(
        portal(clock).plants[PLANT_ID].channels(), 144
    )
    # Yesterday's and today's hours.
    assert len(snapshot.hours) == 24 + 12
    assert again.advanced is False
    # The same day: the refused call is not asked again, nor the earlier totals.
    assert [call.rsplit("/", 1)[-1] for call in later] == [PLANT_ID, "channels", "2026-06-15"]
    # A new day: the totals again, and the Advanced package is tried again.
    assert [call.rsplit("/", 1)[-1] for call in next_day] == [
        "token",
        PLANT_ID,
        "channels",
        "6",
        "2026",
        "lifetime",
        "2026-06-16",
        "channels",
    ]


async def test_advanced_values_by_cross_epoch_id(
    hass: HomeAssistant, socket_enabled: None, session: aiohttp.ClientSession, clock: Clock
) -> None:
    simulated = await started(clock)
    simulated.plants[PLANT_ID].add_epoch(TODAY, default_components(PLANT_ID, "2"))
    set_points(simulated, "ProdPac", {local(TODAY, 11, 55): "1234"}, "3f1c9a2e-x-wr1")
    set_points(simulated, "ProdUdc", {local(TODAY, 11, 55): "351"}, "3f1c9a2e-wr2-mpp2-epoch2")
    try:
        poller = PlantPoller(client_of(simulated, session, clock), PLANT_ID)
        snapshot = await poller.poll(NOW, TODAY, TODAY)
    finally:
        await simulated.close()
    assert snapshot.advanced is True
    assert sorted(snapshot.component_series) == [
        "3f1c9a2e-x-battery",
        "3f1c9a2e-x-meter",
        "3f1c9a2e-x-sensor",
        "3f1c9a2e-x-wr1",
        "3f1c9a2e-x-wr2",
    ]
    wr1 = snapshot.component_series["3f1c9a2e-x-wr1"]
    assert sorted(wr1) == ["ProdEtotal", "ProdPac", "ProdPdc"]
    assert wr1["ProdPac"].latest() == (local(TODAY, 11, 55), Decimal(1234))
    assert sorted(snapshot.tracker_series) == [
        ("3f1c9a2e-x-wr1", 1),
        ("3f1c9a2e-x-wr1", 2),
        ("3f1c9a2e-x-wr2", 1),
        ("3f1c9a2e-x-wr2", 2),
    ]
    udc = snapshot.tracker_series[("3f1c9a2e-x-wr2", 2)]["ProdUdc"]
    assert udc.latest() == (local(TODAY, 11, 55), Decimal(351))
    assert [(kpi.name, kpi.unit) for kpi in snapshot.kpis] == [
        ("specificYield", "kWh/kWp"),
        ("performanceRatio", "%"),
    ]
    assert snapshot.advanced_problems == ()
