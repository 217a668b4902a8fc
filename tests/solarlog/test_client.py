"""The Enerest client against the simulated portal: tokens, refusals, answers, epochs.

The portal and the client read the same clock, which moves only when a test moves it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import aiohttp
from homeassistant.core import HomeAssistant
import pytest

from custom_components.smartmeter.solarlog.client import EnerestClient
from custom_components.smartmeter.solarlog.errors import (
    AccessDeniedError,
    AuthenticationError,
    CommunicationError,
    NotFoundError,
    ResponseError,
)
from custom_components.smartmeter.solarlog.models import (
    parse_components,
    parse_number,
    parse_series,
)
from solarlog_simulator import BASIC, PortalSimulator, SimulatedComponent, default_components
from tests.enerest import (
    CLIENT_ID,
    INSTALLED,
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

CEST = timezone(timedelta(hours=2))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def simulated(
    hass: HomeAssistant, socket_enabled: None, clock: Clock
) -> AsyncIterator[PortalSimulator]:
    simulated = portal(clock)
    await simulated.start()
    yield simulated
    await simulated.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def client_of(
    simulated: PortalSimulator,
    session: aiohttp.ClientSession,
    clock: Clock,
    secret: str = SECRET,
    client_id: str = CLIENT_ID,
) -> EnerestClient:
    return EnerestClient(
        session,
        PORTAL,
        client_id,
        secret,
        api_url=simulated.url,
        token_url=simulated.token_url,
        now=clock,
    )


@pytest.fixture
def client(
    simulated: PortalSimulator, session: aiohttp.ClientSession, clock: Clock
) -> EnerestClient:
    return client_of(simulated, session, clock)


TOKEN = "/auth/realms/quotaapi/protocol/openid-connect/token"
PLANT = f"/administration/plant/{PLANT_ID}"


async def test_token_is_kept_until_shortly_before_it_expires(
    client: EnerestClient, simulated: PortalSimulator, clock: Clock
) -> None:
    """A token lasts 5 minutes: calls within 4.5 share it, the next one gets a new one."""
    await client.plant(PLANT_ID)
    clock.move(timedelta(minutes=4, seconds=29))
    await client.plant(PLANT_ID)
    assert simulated.calls == [TOKEN, PLANT, PLANT]
    assert client.tokens.expires == NOW + timedelta(minutes=5)
    clock.move(timedelta(seconds=1))
    await client.plant(PLANT_ID)
    assert simulated.calls[3:] == [TOKEN, PLANT]
    assert client.tokens.grants == 2


async def test_a_token_refused_early_is_renewed_once(
    client: EnerestClient, simulated: PortalSimulator
) -> None:
    await client.plant(PLANT_ID)
    simulated.expire_tokens()
    plant = await client.plant(PLANT_ID)
    assert plant.id == PLANT_ID
    assert simulated.calls == [TOKEN, PLANT, PLANT, TOKEN, PLANT]


async def test_wrong_credentials(
    simulated: PortalSimulator, session: aiohttp.ClientSession, clock: Clock
) -> None:
    with pytest.raises(AuthenticationError, match="unauthorized_client") as err:
        await client_of(simulated, session, clock, secret="wrong").authenticate()
    assert err.value.status == 401
    with pytest.raises(AuthenticationError):
        await client_of(simulated, session, clock, client_id="nobody").plant(PLANT_ID)


async def test_a_new_token_refused_too_is_an_authentication_error(
    client: EnerestClient, simulated: PortalSimulator
) -> None:
    simulated.fail(PLANT, 401, times=2)
    with pytest.raises(AuthenticationError, match="a new token is refused too"):
        await client.plant(PLANT_ID)
    assert simulated.calls == [TOKEN, PLANT, TOKEN, PLANT]


@pytest.mark.parametrize(
    ("status", "error", "retry_after"),
    [
        (403, AccessDeniedError, None),
        (404, NotFoundError, None),
        (500, CommunicationError, None),
        (502, CommunicationError, None),
        (503, CommunicationError, 90.0),
        (429, CommunicationError, 90.0),
    ],
)
async def test_refusals_by_status(
    client: EnerestClient,
    simulated: PortalSimulator,
    status: int,
    error: type[Exception],
    retry_after: float | None,
) -> None:
    simulated.fail(PLANT, status, headers={"Retry-After": "90"})
    with pytest.raises(error, match=f"{PLANT}: {status} simulated failure {status}") as err:
        await client.plant(PLANT_ID)
    assert type(err.value) is error
    assert getattr(err.value, "retry_after", None) == retry_after
    # The next call goes through.
    assert (await client.plant(PLANT_ID)).id == PLANT_ID


async def test_a_token_endpoint_down(client: EnerestClient, simulated: PortalSimulator) -> None:
    simulated.fail(TOKEN, 503)
    with pytest.raises(CommunicationError, match="no token: 503") as err:
        await client.plant(PLANT_ID)
    assert type(err.value) is CommunicationError


async def test_an_answer_that_is_not_json(
    client: EnerestClient, simulated: PortalSimulator
) -> None:
    simulated.fail(PLANT, 200)
    with pytest.raises(ResponseError, match="not JSON"):
        await client.plant(PLANT_ID)


async def test_no_server(
    session: aiohttp.ClientSession, simulated: PortalSimulator, clock: Clock
) -> None:
    client = client_of(simulated, session, clock)
    await simulated.close()
    with pytest.raises(CommunicationError, match="no token"):
        await client.plant(PLANT_ID)


async def test_unknown_and_unassigned_plants(
    client: EnerestClient, simulated: PortalSimulator
) -> None:
    with pytest.raises(NotFoundError, match="Plant not found"):
        await client.plant("00000000-0000-0000-0000-000000000000")
    other = portal(simulated.now).plants[PLANT_ID]
    other.id = "11111111-2222-3333-4444-555555555555"
    simulated.add_plant(other)
    with pytest.raises(AccessDeniedError, match="not assigned"):
        await client.plant(other.id)


async def test_plant_information(client: EnerestClient) -> None:
    plant = await client.plant(PLANT_ID)
    assert (plant.size_w, plant.device, plant.firmware, plant.identifier) == (
        Decimal(9800),
        "Solar-Log Base 15",
        "6.1.0 Build 163",
        "SL0012345",
    )
    # 12:02:30: the logger's last transfer was the slot ending at 12:00.
    assert plant.last_transfer == datetime(2026, 6, 15, 12, 0, tzinfo=CEST)
    assert plant.last_transfer_type == "HTTP"
    assert [(one.id, one.size_w) for one in await client.plants()] == [(PLANT_ID, Decimal(9800))]


async def test_series_with_null_points_and_late_transfers(
    client: EnerestClient, simulated: PortalSimulator
) -> None:
    set_points(
        simulated,
        "ProdEtotal",
        {local(TODAY, 9): "12.5", local(TODAY, 9, 5): None, local(TODAY, 9, 10): "0.1"},
    )
    simulated.plants[PLANT_ID].held_until = local(TODAY, 9, 15)
    (series,) = await client.plant_channels(PLANT_ID, ["ProdEtotal"], TODAY, TODAY)
    assert (series.name, series.unit, series.day, series.device_id) == (
        "ProdEtotal",
        "Wh",
        TODAY,
        PLANT_ID,
    )
    # Transferred up to 09:15: the slots from midnight to 09:10.
    assert len(series.points) == 9 * 12 + 3
    assert series.points[0][0] == datetime(2026, 6, 15, 0, 0, tzinfo=CEST)
    assert series.points[-3:] == (
        (datetime(2026, 6, 15, 9, 0, tzinfo=CEST), Decimal("12.5")),
        (datetime(2026, 6, 15, 9, 5, tzinfo=CEST), None),
        (datetime(2026, 6, 15, 9, 10, tzinfo=CEST), Decimal("0.1")),
    )
    assert series.latest() == (datetime(2026, 6, 15, 9, 10, tzinfo=CEST), Decimal("0.1"))
    plant = await client.plant(PLANT_ID)
    assert plant.last_transfer == datetime(2026, 6, 15, 9, 15, tzinfo=CEST)


async def test_epochs_change_component_ids_not_cross_epoch_ids(
    client: EnerestClient, simulated: PortalSimulator
) -> None:
    """WR 2 replaced on 1 June: a new epoch with new ids; the cross-epoch ids stay."""
    simulated.plants[PLANT_ID].add_epoch(date(2026, 6, 1), default_components(PLANT_ID, "2"))
    before = await client.components(PLANT_ID, date(2026, 5, 31))
    after = await client.components(PLANT_ID, TODAY)
    assert [one.id for one in before][:2] == ["3f1c9a2e-wr1-epoch1", "3f1c9a2e-wr2-epoch1"]
    assert [one.id for one in after][:2] == ["3f1c9a2e-wr1-epoch2", "3f1c9a2e-wr2-epoch2"]
    assert [one.cross_epoch_id for one in before] == [one.cross_epoch_id for one in after]
    inverter = after[0]
    assert (inverter.kind, inverter.name, [t.index for t in inverter.trackers]) == (
        "inverter",
        "WR 1",
        [1, 2],
    )
    assert [one.kind for one in after] == [
        "inverter",
        "inverter",
        "meter",
        "battery",
        "sensor",
        None,
    ]
    # Asked for by cross-epoch id across the change, each day answers with that day's epoch.
    series = await client.component_channels(
        PLANT_ID, ["3f1c9a2e-x-wr1"], ["ProdPac"], date(2026, 5, 31), date(2026, 6, 1)
    )
    assert [(one.device_id, one.day) for one in series] == [
        ("3f1c9a2e-wr1-epoch1", date(2026, 5, 31)),
        ("3f1c9a2e-wr1-epoch2", date(2026, 6, 1)),
    ]


async def test_basic_package_refuses_advanced_calls(
    simulated: PortalSimulator, session: aiohttp.ClientSession, clock: Clock
) -> None:
    simulated.add_client("basic", "b", package=BASIC, plants=[PLANT_ID])
    client = client_of(simulated, session, clock, secret="b", client_id="basic")
    with pytest.raises(AccessDeniedError, match="Not included in your API package"):
        await client.component_channels(PLANT_ID, ["3f1c9a2e-x-wr1"], ["ProdPac"], TODAY, TODAY)
    with pytest.raises(AccessDeniedError):
        await client.kpis(PLANT_ID, TODAY, TODAY)
    # Plant-level values and the components are the Basic package's.
    assert await client.components(PLANT_ID, TODAY)
    assert await client.plant_channels(PLANT_ID, ["ProdPac"], TODAY, TODAY)


async def test_month_year_and_lifetime_values(
    client: EnerestClient, simulated: PortalSimulator
) -> None:
    plant = simulated.plants[PLANT_ID]
    until = plant.transferred_until(NOW)
    days = {day: plant.day_energy("ProdEtotal", day, until) for day in _days(INSTALLED, TODAY)}
    (month,) = await client.month(PLANT_ID, 2026, 6, ["ProdEtotal"])
    assert [value for _, value in month.points] == [
        days[day] for day in _days(date(2026, 6, 1), TODAY)
    ]
    assert month.points[0][0] == datetime(2026, 6, 1, tzinfo=CEST)
    (year,) = await client.year(PLANT_ID, 2026, ["ProdEtotal"])
    assert [value for _, value in year.points] == [
        None,
        None,
        None,
        sum(days[day] or 0 for day in _days(INSTALLED, date(2026, 4, 30))),
        sum(days[day] or 0 for day in _days(date(2026, 5, 1), date(2026, 5, 31))),
        sum(days[day] or 0 for day in _days(date(2026, 6, 1), TODAY)),
    ]
    (lifetime,) = await client.lifetime(PLANT_ID, ["ProdEtotal"])
    assert lifetime.points == (
        (
            datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=1))),
            sum(days[day] or 0 for day in days),
        ),
    )


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def test_numbers_and_points() -> None:
    assert parse_number("1.50") == Decimal("1.50")
    assert parse_number(3) == Decimal(3)
    assert parse_number(None) is None
    for bad in ("n/a", True, [1], "NaN"):
        with pytest.raises(ResponseError, match="not a number"):
            parse_number(bad)
    with pytest.raises(ResponseError, match="no time with offset"):
        parse_series([{"name": "ProdPac", "dataPoints": {"2026-06-15T12:00:00": 1}}])
    with pytest.raises(ResponseError, match="not a JSON list"):
        parse_series({"name": "ProdPac"})
    (series,) = parse_series(
        [{"name": "ProdPac", "dataPoints": {"2026-06-15T12:05:00Z": 2, "2026-06-15T12:00:00Z": 1}}]
    )
    # Points in time order, whatever the answer's order.
    assert series.points == (
        (datetime(2026, 6, 15, 12, 0, tzinfo=UTC), Decimal(1)),
        (datetime(2026, 6, 15, 12, 5, tzinfo=UTC), Decimal(2)),
    )
    assert (series.unit, series.day, series.device_id) == (None, None, None)


def test_component_kinds() -> None:
    meter = SimulatedComponent("m", "xm", "SmartMeter", "Grid", ("meter",)).as_json()
    (parsed,) = parse_components([meter])
    assert parsed.kind == "meter"  # by its class, its type being unknown
