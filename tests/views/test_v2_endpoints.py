"""API v2 consumption, statistics, live, today, monitoring, status and schema endpoints.

Through Home Assistant's real http component, on SQLite and PostgreSQL. The readings go in
through the store's writer (and some through API v2), and the store's processing makes the
records the endpoints list; the clock is frozen so that "today" and "now" are known.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
import yaml  # type: ignore[import-untyped]  # PyYAML ships no types
from yarl import URL

from custom_components.smartmeter.models import SmartMeterConfigEntry
from custom_components.smartmeter.store import EnergySupplierPrice
from custom_components.smartmeter.store.model import Reading
from custom_components.smartmeter.views import VIEWS
from tests.common import setup_entry, wait_processed
from tests.views.test_through_http import KEY, TOKEN, push_entry

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)  # 11:00 in Amsterdam
# A reading a minute from 2026-11-21 00:00 to 2026-11-22 10:30 local time.
FIRST_READING = datetime(2026, 11, 21, 0, 0, tzinfo=AMS)
READING_MINUTES = (24 + 10) * 60 + 31
V2 = "/api/v2"
LISTS = (
    "/consumption/electricity",
    "/consumption/gas",
    "/consumption/quarter-hour-peak-electricity",
    "/consumption/energy-supplier-prices",
    "/statistics/hour",
    "/statistics/day",
)
CONTRACT = EnergySupplierPrice(
    start=datetime(2026, 1, 1).date(),
    end=datetime(2026, 12, 31).date(),
    description="Test contract",
    electricity_delivered_1_price=Decimal("0.210000"),
    electricity_delivered_2_price=Decimal("0.250000"),
    gas_price=Decimal("1.300000"),
    electricity_returned_1_price=Decimal("0.070000"),
    electricity_returned_2_price=Decimal("0.090000"),
    fixed_daily_cost=Decimal("0.850000"),
)


def reading(minute: int) -> Reading:
    """The reading ``minute`` minutes after FIRST_READING: a steady 0.6 kW, gas each hour.

    Tariff 1 counts 0.01 kWh a minute; the gas meter reports on the hour, 0.1 m³ more each
    hour.
    """
    timestamp = FIRST_READING + timedelta(minutes=minute)
    return Reading(
        timestamp=timestamp,
        electricity_delivered_1=Decimal(1000) + Decimal(minute) / 100,
        electricity_returned_1=Decimal("0.000"),
        electricity_delivered_2=Decimal("2000.000"),
        electricity_returned_2=Decimal("0.000"),
        electricity_currently_delivered=Decimal("0.600"),
        electricity_currently_returned=Decimal("0.000"),
        phase_currently_delivered_l1=Decimal("0.600"),
        phase_currently_delivered_l2=Decimal("0.000"),
        phase_currently_delivered_l3=Decimal("0.000"),
        extra_device_timestamp=timestamp.replace(minute=0),
        extra_device_delivered=Decimal(500) + Decimal(minute // 60) / 10,
        phase_voltage_l1=Decimal("230.1"),
        phase_power_current_l1=2,
    )


@dataclass
class Api:
    """A client of HA's http component and the meter entry behind the API."""

    client: TestClient[Any, Any]
    hass: HomeAssistant
    entry: SmartMeterConfigEntry

    async def get(self, path: str, **headers: str) -> tuple[int, Any]:
        """GET a v2 path with the key; return the status and the JSON body."""
        response = await self.client.get(V2 + path, headers={**TOKEN, **headers})
        return response.status, await response.json()

    async def add_readings(self, minutes: range) -> None:
        """Store the readings of those minutes and wait until they are processed."""
        coordinator = self.entry.runtime_data
        store = coordinator.store
        readings = [reading(minute) for minute in minutes]
        await self.hass.async_add_executor_job(
            lambda: store.writer.submit(coordinator.meter_id, readings).result()
        )
        await self.hass.async_add_executor_job(wait_processed, store)

    async def add_contract(self) -> None:
        """Give the meter CONTRACT's prices."""
        coordinator = self.entry.runtime_data
        await self.hass.async_add_executor_job(
            coordinator.store.replace_prices, coordinator.meter_id, [CONTRACT]
        )


@pytest.fixture
async def api(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    store_url: str,
    freezer: FrozenDateTimeFactory,
) -> AsyncIterator[Api]:
    """A push-only meter with the API on, at NOW in Amsterdam."""
    freezer.move_to(NOW)
    await hass.config.async_set_time_zone("Europe/Amsterdam")
    entry: MockConfigEntry = push_entry(store_url)
    await setup_entry(hass, entry)
    yield Api(await hass_client_no_auth(), hass, entry)
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.fixture
async def api_with_data(api: Api) -> Api:
    """The meter with READING_MINUTES readings, processed, and a contract."""
    await api.add_contract()
    await api.add_readings(range(READING_MINUTES))
    return api


@pytest.mark.parametrize("path", LISTS)
async def test_empty_lists(api: Api, path: str) -> None:
    """Without data every list is an empty page."""
    assert await api.get(path) == (
        200,
        {"count": 0, "next": None, "previous": None, "results": []},
    )


def electricity_row(minute: int, row_id: int) -> dict[str, Any]:
    """The minute record of the reading ``minute``: stamped at that minute's end."""
    return {
        "id": row_id,
        "read_at": (FIRST_READING + timedelta(minutes=minute + 1)).isoformat(),
        "delivered_1": f"{Decimal(1000) + Decimal(minute) / 100:.3f}",
        "returned_1": "0.000",
        "delivered_2": "2000.000",
        "returned_2": "0.000",
        "currently_delivered": "0.600",
        "currently_returned": "0.000",
        "phase_currently_delivered_l1": "0.600",
        "phase_currently_delivered_l2": "0.000",
        "phase_currently_delivered_l3": "0.000",
        "phase_currently_returned_l1": None,
        "phase_currently_returned_l2": None,
        "phase_currently_returned_l3": None,
        "phase_voltage_l1": "230.1",
        "phase_voltage_l2": None,
        "phase_voltage_l3": None,
        "phase_power_current_l1": 2,
        "phase_power_current_l2": None,
        "phase_power_current_l3": None,
    }


def links(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """Return the path and query of a page's next and previous links."""
    return tuple(  # type: ignore[return-value]
        None if body[key] is None else URL(body[key]).path_qs for key in ("next", "previous")
    )


async def test_electricity(api_with_data: Api) -> None:
    """Minute records, paged, filtered in every datetime form, in both orders."""
    api = api_with_data
    status, body = await api.get("/consumption/electricity?limit=2&offset=1")
    assert status == 200
    assert body["count"] == READING_MINUTES - 1  # the newest minute waits for a later one
    assert body["results"] == [electricity_row(1, 2), electricity_row(2, 3)]
    assert links(body) == (
        "/api/v2/consumption/electricity?limit=2&offset=3",
        "/api/v2/consumption/electricity?limit=2",
    )
    status, body = await api.get("/consumption/electricity?ordering=-read_at,bogus&limit=1")
    assert body["results"] == [electricity_row(READING_MINUTES - 2, READING_MINUTES - 1)]
    # Unknown ordering falls back to the default; limit 0 to 25.
    status, body = await api.get("/consumption/electricity?ordering=delivered_1&limit=0")
    assert [row["id"] for row in body["results"]] == list(range(1, 26))
    for query in (
        "read_at__gte=2026-11-21 00:05&read_at__lte=2026-11-21 00:07:00",
        "read_at__gte=2026-11-20T23:05:00Z&read_at__lte=2026-11-21T00:07:00%2B01:00",
        "read_at__gte=11/21/2026 00:05&read_at__lte=2026-11-21T00:07",
    ):
        status, body = await api.get(f"/consumption/electricity?{query}")
        assert (status, [row["read_at"] for row in body["results"]]) == (
            200,
            [
                "2026-11-21T00:05:00+01:00",
                "2026-11-21T00:06:00+01:00",
                "2026-11-21T00:07:00+01:00",
            ],
        ), query
    status, body = await api.get("/consumption/electricity?read_at__gte=2026-11-22")
    assert body["count"] == 10 * 60 + 30 + 1  # 00:00 to 10:30 inclusive
    status, body = await api.get("/consumption/electricity?read_at=2026-11-21T00:03:00%2B01:00")
    assert body["results"] == [electricity_row(2, 3)]
    # The exact filter is an IsoDateTimeFilter: no US dates there.
    assert await api.get("/consumption/electricity?read_at=11/21/2026 00:03") == (
        400,
        {"read_at": ["Enter a valid date/time."]},
    )
    assert await api.get("/consumption/electricity?read_at__lte=x&read_at__gte=y") == (
        400,
        {
            "read_at__gte": ["Enter a valid date/time."],
            "read_at__lte": ["Enter a valid date/time."],
        },
    )


async def test_gas(api_with_data: Api) -> None:
    """Gas records: one per gas timestamp, with the gas used since the one before."""
    api = api_with_data
    status, body = await api.get("/consumption/gas?limit=2")
    assert (status, body["count"], body["results"]) == (
        200,
        35,
        [
            {
                "id": 1,
                "read_at": "2026-11-21T00:00:00+01:00",
                "delivered": "500.000",
                "currently_delivered": "0.000",
            },
            {
                "id": 2,
                "read_at": "2026-11-21T01:00:00+01:00",
                "delivered": "500.100",
                "currently_delivered": "0.100",
            },
        ],
    )
    status, body = await api.get(
        "/consumption/gas?ordering=-read_at&read_at__lte=2026-11-22 09:59:59"
    )
    assert body["count"] == 34
    assert body["results"][0] == {
        "id": 34,
        "read_at": "2026-11-22T09:00:00+01:00",
        "delivered": "503.300",
        "currently_delivered": "0.100",
    }
    status, body = await api.get("/consumption/gas?read_at=2026-11-21 05:00:00")
    assert [row["id"] for row in body["results"]] == [6]


async def test_quarter_hour_peaks(api_with_data: Api) -> None:
    """Peaks, and DSMR-reader's average_delivered filters that compare read_at_start."""
    api = api_with_data
    status, body = await api.get("/consumption/quarter-hour-peak-electricity?limit=1")
    assert (status, body["count"], body["results"]) == (
        200,
        34 * 4 + 2,
        [
            {
                "id": 1,
                "read_at_start": "2026-11-21T00:00:00+01:00",
                "read_at_end": "2026-11-21T00:15:00+01:00",
                "average_delivered": "0.600",
            }
        ],
    )
    assert await api.get(
        "/consumption/quarter-hour-peak-electricity?average_delivered__gte=1.5"
    ) == (
        400,
        {"average_delivered__gte": ["Enter a valid date/time."]},
    )
    path = "/consumption/quarter-hour-peak-electricity?ordering=-average_delivered,-read_at_start"
    for query in (
        "average_delivered__gte=2026-11-22 10:00&average_delivered__lte=2026-11-22 10:15",
        "read_at_start__gte=2026-11-22 10:00&read_at_start__lte=2026-11-22 10:15",
    ):
        status, body = await api.get(f"{path}&{query}")
        assert [row["read_at_start"] for row in body["results"]] == [
            "2026-11-22T10:15:00+01:00",
            "2026-11-22T10:00:00+01:00",
        ], query


async def test_hour_statistics(api_with_data: Api) -> None:
    """Hour statistics by boundary positions; filters and ordering on hour_start."""
    api = api_with_data
    status, body = await api.get("/statistics/hour?hour_start__gte=2026-11-21 01:00&limit=1")
    assert (status, body["count"], body["results"]) == (
        200,
        33,
        [
            {
                "id": 2,
                "hour_start": "2026-11-21T01:00:00+01:00",
                "electricity1": "0.600",
                "electricity2": "0.000",
                "electricity1_returned": "0.000",
                "electricity2_returned": "0.000",
                "gas": "0.100",
            }
        ],
    )
    status, body = await api.get("/statistics/hour?ordering=-hour_start&limit=1")
    assert body["results"][0]["hour_start"] == "2026-11-22T09:00:00+01:00"
    status, body = await api.get("/statistics/hour?hour_start=2026-11-21T00:00:00%2B01:00")
    assert body["results"][0]["electricity1"] == "0.590"  # from the first record, at 00:01


GENERATED_DAY = {
    "id": 1,
    "day": "2026-11-21",
    "electricity1": "14.390",
    "electricity2": "0.000",
    "electricity1_returned": "0.000",
    "electricity2_returned": "0.000",
    "electricity1_cost": "3.02",
    "electricity2_cost": "0.00",
    "gas": "2.400",
    "gas_cost": "3.12",
    "lowest_temperature": None,
    "highest_temperature": None,
    "average_temperature": None,
    "fixed_cost": "0.85",
    "total_cost": "6.99",
    "electricity_reading_timestamp": "2026-11-21T00:00:00+01:00",
    "electricity1_reading": "1000.000",
    "electricity2_reading": "2000.000",
    "electricity1_returned_reading": "0.000",
    "electricity2_returned_reading": "0.000",
    "gas_reading_timestamp": "2026-11-21T00:00:00+01:00",
    "gas_reading": "500.000",
}
IMPORTED_DAY = {
    "day": "2017-02-25",
    "electricity1": "7.289",
    "electricity2": 0,
    "electricity1_returned": "0",
    "electricity2_returned": "0.000",
    "electricity1_cost": "1.30",
    "electricity2_cost": "0",
    "total_cost": 3.14,
    "id": 99,
}


async def test_day_statistics(api_with_data: Api) -> None:
    """Generated days, imported ones (POST), and the DRF errors of both."""
    api = api_with_data
    assert await api.get("/statistics/day") == (
        200,
        {"count": 1, "next": None, "previous": None, "results": [GENERATED_DAY]},
    )
    url = V2 + "/statistics/day"
    response = await api.client.post(url, json=IMPORTED_DAY, headers=TOKEN)
    created = await response.json()
    assert (response.status, created) == (
        201,
        {
            "id": created["id"],
            "day": "2017-02-25",
            "electricity1": "7.289",
            "electricity2": "0.000",
            "electricity1_returned": "0.000",
            "electricity2_returned": "0.000",
            "electricity1_cost": "1.30",
            "electricity2_cost": "0.00",
            "gas": None,
            "gas_cost": None,
            "lowest_temperature": None,
            "highest_temperature": None,
            "average_temperature": None,
            "fixed_cost": "0.00",
            "total_cost": "3.14",
            "electricity_reading_timestamp": None,
            "electricity1_reading": None,
            "electricity2_reading": None,
            "electricity1_returned_reading": None,
            "electricity2_returned_reading": None,
            "gas_reading_timestamp": None,
            "gas_reading": None,
        },
    )
    assert created["id"] != GENERATED_DAY["id"]
    status, body = await api.get("/statistics/day?ordering=-day")
    assert body["results"] == [GENERATED_DAY, created]
    status, body = await api.get("/statistics/day?day=2017-02-25")
    assert body["results"] == [created]
    status, body = await api.get("/statistics/day?day__gte=02/26/2017&day__lte=2026-11-21")
    assert (status, body["results"]) == (200, [GENERATED_DAY])
    assert await api.get("/statistics/day?day=2026-11-21 00:00:00") == (
        400,
        {"day": ["Enter a valid date."]},
    )
    # The same day again, with another error: both are reported.
    response = await api.client.post(
        url, json={**IMPORTED_DAY, "total_cost": "1.234"}, headers=TOKEN
    )
    assert (response.status, await response.json()) == (
        400,
        {
            "day": ["Day statistics (automatically generated data) with this Date already exists."],
            "total_cost": ["Ensure that there are no more than 2 decimal places."],
        },
    )
    response = await api.client.post(url, json={**IMPORTED_DAY, "day": "2026-11-21"}, headers=TOKEN)
    assert (response.status, await response.json()) == (
        400,
        {"day": ["Day statistics (automatically generated data) with this Date already exists."]},
    )
    response = await api.client.post(url, json={"gas": "x", "day": "21-11-2026"}, headers=TOKEN)
    required = ["This field is required."]
    assert (response.status, await response.json()) == (
        400,
        {
            "day": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."],
            "electricity1": required,
            "electricity2": required,
            "electricity1_returned": required,
            "electricity2_returned": required,
            "electricity1_cost": required,
            "electricity2_cost": required,
            "gas": ["A valid number is required."],
            "total_cost": required,
        },
    )
    # A form body: empty optional fields are null.
    form = {key: str(value) for key, value in IMPORTED_DAY.items()}
    response = await api.client.post(
        url, data={**form, "day": "2017-02-26", "gas": "", "fixed_cost": "1.5"}, headers=TOKEN
    )
    body = await response.json()
    assert (response.status, body["gas"], body["fixed_cost"]) == (201, None, "1.50")
    response = await api.client.delete(url, headers=TOKEN)
    assert (response.status, response.headers["Allow"]) == (405, "GET, POST")


async def test_energy_supplier_prices(api: Api) -> None:
    """Contracts, filtered by start and end dates, ordered by either."""
    await api.add_contract()
    coordinator = api.entry.runtime_data
    later = EnergySupplierPrice(
        start=datetime(2027, 1, 1).date(),
        end=datetime(2099, 12, 31).date(),
        description="Open ended",
        fixed_daily_cost=Decimal("-0.500000"),
    )
    await api.hass.async_add_executor_job(
        coordinator.store.replace_prices, coordinator.meter_id, [CONTRACT, later]
    )
    status, body = await api.get("/consumption/energy-supplier-prices?ordering=-end")
    assert (status, body["count"], body["results"][0]) == (
        200,
        2,
        {
            "id": body["results"][0]["id"],
            "start": "2027-01-01",
            "end": "2099-12-31",
            "description": "Open ended",
            "electricity_delivered_1_price": "0.000000",
            "electricity_delivered_2_price": "0.000000",
            "gas_price": "0.000000",
            "electricity_returned_1_price": "0.000000",
            "electricity_returned_2_price": "0.000000",
            "fixed_daily_cost": "-0.500000",
        },
    )
    assert body["results"][1]["description"] == "Test contract"
    for query, expected in (
        ("start__lte=2026-06-15&end__gte=2026-06-15", ["Test contract"]),
        ("start__gte=2026-01-02", ["Open ended"]),
        ("end__lte=2099-12-30", ["Test contract"]),
        ("ordering=start", ["Test contract", "Open ended"]),
    ):
        status, body = await api.get(f"/consumption/energy-supplier-prices?{query}")
        assert [row["description"] for row in body["results"]] == expected, query
    assert await api.get("/consumption/energy-supplier-prices?start__gte=2026-01-01 00:00") == (
        400,
        {"start__gte": ["Enter a valid date."]},
    )


async def test_today(api: Api) -> None:
    """Today so far, as floats; a bare string without today's readings."""
    assert await api.get("/consumption/today") == (
        200,
        "No electricity readings found for: 2026-11-22",
    )
    await api.add_contract()
    await api.add_readings(range(READING_MINUTES))
    status, body = await api.get("/consumption/today")
    assert status == 200
    assert list(body.items()) == [
        ("day", "2026-11-22"),
        ("electricity1", 6.3),
        ("electricity2", 0.0),
        ("electricity1_returned", 0.0),
        ("electricity2_returned", 0.0),
        ("electricity_merged", 6.3),
        ("electricity_returned_merged", 0.0),
        ("electricity1_cost", 1.32),
        ("electricity2_cost", 0.0),
        ("total_cost", 3.47),
        ("gas", 1.0),
        ("gas_cost", 1.3),
        ("fixed_cost", 0.85),
        ("energy_supplier_price_electricity_delivered_1", 0.21),
        ("energy_supplier_price_electricity_delivered_2", 0.25),
        ("energy_supplier_price_electricity_returned_1", 0.07),
        ("energy_supplier_price_electricity_returned_2", 0.09),
        ("energy_supplier_price_gas", 1.3),
        ("energy_supplier_price_fixed_daily_cost", 0.85),
    ]
    response = await api.client.get(V2 + "/consumption/today", headers=TOKEN)
    assert (await response.text()).startswith('{"day":"2026-11-22","electricity1":6.3,')


async def test_electricity_live(api: Api, freezer: FrozenDateTimeFactory) -> None:
    """The newest reading in W, its tariff's name and cost; a clock ahead is capped at now."""
    assert await api.get("/consumption/electricity-live") == (200, {})
    await api.add_readings(range(READING_MINUTES))
    live = {
        "timestamp": "2026-11-22T10:30:00+01:00",
        "currently_delivered": 600,
        "currently_returned": 0,
        "cost_per_hour": None,
        "tariff_name": None,
    }
    # The clock runs behind the meter: the reading is ahead of now.
    freezer.move_to(datetime(2026, 11, 22, 9, 20, 1, 5, tzinfo=UTC))
    assert await api.get("/consumption/electricity-live") == (
        200,
        {**live, "timestamp": "2026-11-22T09:20:01.000005Z"},
    )
    freezer.move_to(NOW)
    assert await api.get("/consumption/electricity-live") == (200, live)
    statistics = V2 + "/datalogger/meter-statistics"
    await api.client.patch(statistics, json={"electricity_tariff": 2}, headers=TOKEN)
    assert await api.get("/consumption/electricity-live") == (
        200,
        {**live, "tariff_name": "Normaaltarief"},
    )
    await api.add_contract()
    await api.client.patch(statistics, json={"electricity_tariff": 1}, headers=TOKEN)
    expected = {**live, "tariff_name": "Daltarief", "cost_per_hour": "0.13"}
    assert await api.get("/consumption/electricity-live") == (200, expected)
    assert await api.get("/consumption/electricity-live", **{"Accept-Language": "nl-NL"}) == (
        200,
        {**expected, "cost_per_hour": "0,13"},
    )
    await api.client.patch(statistics, json={"electricity_tariff": 3}, headers=TOKEN)
    assert await api.get("/consumption/electricity-live") == (200, live)


async def test_gas_live(api: Api) -> None:
    """The newest gas record; its cost only with a contract, localized."""
    assert await api.get("/consumption/gas-live") == (200, {})
    await api.add_readings(range(READING_MINUTES))
    live = {"timestamp": "2026-11-22T10:00:00+01:00", "currently_delivered": 0.1}
    assert await api.get("/consumption/gas-live") == (200, live)
    await api.add_contract()
    assert await api.get("/consumption/gas-live") == (200, {**live, "cost_per_interval": "0.13"})
    assert await api.get("/consumption/gas-live", **{"Accept-Language": "nl;q=0.9, de"}) == (
        200,
        {**live, "cost_per_interval": "0,13"},
    )


async def test_monitoring(api: Api, freezer: FrozenDateTimeFactory) -> None:
    """Fresh: no reading, no day statistics (in en or nl); then old readings, lagging days."""
    fresh = [
        {
            "source": "dsmr_stats.apps",
            "description": "No day statistics found",
            "since": "2026-11-22T11:00:00+01:00",
        },
        {
            "source": "dsmr_datalogger.apps",
            "description": "Waiting for the first reading ever",
            "since": "2026-11-22T11:00:00+01:00",
        },
    ]
    assert await api.get("/application/monitoring") == (200, {"problems": 2, "details": fresh})
    assert await api.get("/application/monitoring", **{"Accept-Language": "nl"}) == (
        200,
        {
            "problems": 2,
            "details": [
                {**fresh[0], "description": "Geen dagstatistieken gevonden"},
                {**fresh[1], "description": "Nog nooit een meting ontvangen"},
            ],
        },
    )
    await api.add_readings(range(READING_MINUTES))
    assert await api.get("/application/monitoring") == (200, {"problems": 0, "details": []})
    freezer.move_to(datetime(2026, 11, 23, 23, 59, 59, tzinfo=UTC))
    assert await api.get("/application/monitoring") == (
        200,
        {
            "problems": 2,
            "details": [
                {
                    "source": "dsmr_datalogger.apps",
                    "description": "No recent readings received",
                    "since": "2026-11-22T10:30:00+01:00",
                },
                {
                    "source": "dsmr_stats.apps",
                    "description": "Day statistics are lagging behind",
                    "since": "2026-11-21T23:59:00+01:00",
                },
            ],
        },
    )


async def test_monitoring_unprocessed(api: Api) -> None:
    """More than 100 readings waiting for processing are a problem since the oldest."""
    coordinator = api.entry.runtime_data
    # Readings in the future are processed as they come, so keep a minute open: a minute
    # waits for a later reading; 101 readings of one minute wait.
    late = [
        replace(reading(0), timestamp=NOW + timedelta(microseconds=step)) for step in range(101)
    ]
    await api.hass.async_add_executor_job(
        lambda: coordinator.store.writer.submit(coordinator.meter_id, late).result()
    )
    await api.hass.async_add_executor_job(wait_processed, coordinator.store)
    # Two issues since now: of issues at the same time, the later check's comes first.
    assert await api.get("/application/monitoring") == (
        200,
        {
            "problems": 2,
            "details": [
                {
                    "source": "dsmr_stats.apps",
                    "description": "No day statistics found",
                    "since": "2026-11-22T11:00:00+01:00",
                },
                {
                    "source": "dsmr_consumption.apps",
                    "description": "Too many unprocessed readings: 101",
                    "since": "2026-11-22T11:00:00+01:00",
                },
            ],
        },
    )
    _, body = await api.get("/application/monitoring", **{"Accept-Language": "nl"})
    assert body["details"][1]["description"] == "Te veel onverwerkte telegrammen: 101"


async def test_status(api: Api) -> None:
    """The v3.12 status: empty, then with readings and their records."""
    tools = {
        "backup": {"enabled": False, "latest_backup": None},
        "dropbox": {"enabled": False, "latest_sync": None},
        "pvoutput": {"enabled": False, "latest_sync": None},
        "mindergas": {"enabled": False, "latest_sync": None},
        "mqtt": {"ok": True, "pending_messages": 0},
    }
    assert await api.get("/application/status") == (
        200,
        {
            "now": "2026-11-22T10:00:00Z",
            "scheduled_processes": [],
            "capabilities": {
                "electricity": False,
                "electricity_returned": False,
                "multi_phases": False,
                "voltage": False,
                "power_current": False,
                "gas": False,
                "weather": False,
                "any": False,
            },
            "electricity": {"latest": None, "minutes_since": None},
            "gas": {"latest": None, "hours_since": None},
            "readings": {
                "latest": None,
                "seconds_since": None,
                "unprocessed": {"count": 0, "seconds_since": None},
            },
            "statistics": {"ok": False, "latest": None, "days_since": None},
            "tools": tools,
        },
    )
    await api.add_readings(range(READING_MINUTES))
    assert await api.get("/application/status") == (
        200,
        {
            "now": "2026-11-22T10:00:00Z",
            "scheduled_processes": [],
            "capabilities": {
                "electricity": True,
                "electricity_returned": False,
                "multi_phases": True,
                "voltage": True,
                "power_current": True,
                "gas": True,
                "weather": False,
                "any": True,
            },
            "electricity": {"latest": "2026-11-22T09:30:00Z", "minutes_since": 30},
            "gas": {"latest": "2026-11-22T09:00:00Z", "hours_since": 1},
            "readings": {
                "latest": "2026-11-22T09:30:00Z",
                "seconds_since": 1800,
                "unprocessed": {"count": 1, "seconds_since": 1800},
            },
            "statistics": {"ok": True, "latest": "2026-11-21", "days_since": 1},
            "tools": tools,
        },
    )


def answered(view: object) -> set[str]:
    """Return the methods a view answers: its handlers, or (plain views) its method functions.

    A plain view's method that answers 405 is not one it answers.
    """
    handlers = getattr(view, "handlers", None)
    if handlers is not None:
        return set(handlers)
    # On the class: an instance's methods are bound anew each time.
    refusal = getattr(type(view), "_not_allowed", None)
    return {
        method.upper()
        for method in ("get", "post", "put", "patch", "delete")
        if getattr(type(view), method, refusal) is not refusal
    }


async def test_schema(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, tmp_path: Any
) -> None:
    """The OpenAPI YAML needs no key, even with the API off, and lists exactly our routes."""
    await setup_entry(hass, push_entry(f"sqlite:///{tmp_path / 'r.db'}", enabled=False))
    client = await hass_client_no_auth()
    response = await client.get(V2 + "/schema")
    assert (response.status, response.headers["Content-Type"]) == (
        200,
        "application/vnd.oai.openapi",
    )
    schema = yaml.safe_load(await response.text())
    served = {view.url: answered(view) for view in VIEWS if view.url == view.route.path}
    assert len(served) == len(VIEWS)
    assert {
        path: {method.upper() for method in item} for path, item in schema["paths"].items()
    } == served
    response = await client.head(V2 + "/schema")
    assert (response.status, await response.read()) == (200, b"")
    response = await client.post(V2 + "/schema")
    assert (response.status, await response.json()) == (
        405,
        {"detail": 'Method "POST" not allowed.'},
    )
    assert response.headers["Allow"] == "GET"


NEW_GETS = (
    *LISTS,
    "/consumption/electricity-live",
    "/consumption/gas-live",
    "/consumption/today",
    "/application/monitoring",
    "/application/status",
)


@pytest.mark.parametrize("path", NEW_GETS)
async def test_auth_and_methods(api: Api, path: str) -> None:
    """Each endpoint wants the key first, then answers other methods with 405."""
    response = await api.client.get(V2 + path)
    assert (response.status, await response.json()) == (403, {"detail": "Invalid auth key"})
    response = await api.client.put(V2 + path, headers={"X-AUTHKEY": KEY})
    assert (response.status, await response.json()) == (
        405,
        {"detail": 'Method "PUT" not allowed.'},
    )
    assert response.headers["Allow"] == ("GET, POST" if path == "/statistics/day" else "GET")
    response = await api.client.head(V2 + path, headers={"X-AUTHKEY": KEY})
    assert (response.status, response.content_type, await response.read()) == (
        200,
        "application/json",
        b"",
    )
    response = await api.client.head(V2 + path)
    assert (response.status, await response.read()) == (403, b"")


async def test_day_statistics_added_meanwhile(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """A day stored between the uniqueness check and the insert is refused all the same."""
    url = V2 + "/statistics/day"
    response = await api.client.post(url, data="{", headers={**TOKEN, "Content-Type": "text/csv"})
    assert (response.status, await response.json()) == (
        415,
        {"detail": 'Unsupported media type "text/csv" in request.'},
    )
    response = await api.client.post(url, json=IMPORTED_DAY, headers=TOKEN)
    assert response.status == 201
    # The check misses it, as if the other insert had come after it.
    monkeypatch.setattr(api.entry.runtime_data.store, "list_records", lambda *_, **__: (0, []))
    response = await api.client.post(url, json=IMPORTED_DAY, headers=TOKEN)
    assert (response.status, await response.json()) == (
        400,
        {"day": ["Day statistics (automatically generated data) with this Date already exists."]},
    )
