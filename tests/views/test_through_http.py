"""The DSMR-reader compatible API through Home Assistant's real http component."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from unittest.mock import patch

from aiohttp.test_utils import TestClient
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from yarl import URL

from custom_components.smartmeter.const import DOMAIN
from tests.api.test_auth_params_validation import SEED_POST_RESULT
from tests.common import setup_entry, state_of
from tests.meters import telegram, with_crc

KEY = "K" * 64
TOKEN = {"Authorization": f"Token {KEY}"}
V1 = "/api/v1/datalogger/dsmrreading"
READINGS = "/api/v2/datalogger/dsmrreading"
SEED_POST = {
    "electricity_currently_delivered": "1.5",
    "electricity_currently_returned": "0.025",
    "electricity_delivered_1": "2000",
    "electricity_delivered_2": "3000",
    "electricity_returned_1": "0",
    "electricity_returned_2": "0",
    "timestamp": "2017-04-15T00:00:00+02",
}
# The seed's result, id aside (rows get their own ids here).
SEED_RESULT = {key: value for key, value in SEED_POST_RESULT.items() if key != "id"}


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """The store on a SQLite file, or on the test PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'readings.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def push_entry(
    database_url: str, enabled: bool = True, specification: str = "4"
) -> MockConfigEntry:
    """A push-only meter with the API on."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Datalogger",
        unique_id="push-meter",
        data={"connection_type": "push", "specification": specification},
        options={"api_enabled": enabled, "api_key": KEY, "database_url": database_url},
    )


@pytest.fixture
async def client(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    database_url: str,
) -> AsyncIterator[TestClient[Any, Any]]:
    """An HTTP client of Home Assistant with a push-only meter whose API is on."""
    await hass.config.async_set_time_zone("Europe/Amsterdam")
    entry = push_entry(database_url)
    await setup_entry(hass, entry)
    yield await hass_client_no_auth()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_disabled_api(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, tmp_path: Any
) -> None:
    """Disabled: v1 answers 405 in text, v2 403 in JSON, whatever the key."""
    await setup_entry(hass, push_entry(f"sqlite:///{tmp_path / 'r.db'}", enabled=False))
    client = await hass_client_no_auth()
    response = await client.post(V1, data={"telegram": "x"}, headers=TOKEN)
    assert (response.status, await response.text()) == (405, "API is disabled")
    assert response.headers["Allow"] == "POST"
    response = await client.get(READINGS, headers=TOKEN)
    assert (response.status, await response.json()) == (403, {"detail": "API is disabled"})


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-AUTHKEY": "wrong"},
        {"Authorization": f"Bearer {KEY}"},
        {"Authorization": f"token {KEY}"},
    ],
)
async def test_wrong_key(
    client: TestClient[Any, Any], hass: HomeAssistant, headers: dict[str, str]
) -> None:
    """A missing or wrong key: 403 as DSMR-reader, and no HA login-failure notification."""
    for _ in range(3):
        response = await client.post(V1, data={"telegram": "x"}, headers=headers)
        assert (response.status, await response.text()) == (403, "Invalid auth key")
        response = await client.get(READINGS, headers=headers)
        assert (response.status, await response.json()) == (403, {"detail": "Invalid auth key"})
    assert hass.states.async_all("persistent_notification") == []


async def test_v1_telegram_is_stored_and_shown(
    client: TestClient[Any, Any], hass: HomeAssistant
) -> None:
    """A v1 telegram: 201 with an empty body, stored, and driving the push meter's entities."""
    response = await client.post(
        V1, data={"telegram": telegram("v4_2.txt").decode()}, headers={"X-AUTHKEY": KEY}
    )
    assert (response.status, await response.text()) == (201, "")
    assert state_of(hass, "sensor.electricity_meter_power_consumption") == "2027.0"
    response = await client.get(READINGS, headers=TOKEN)
    body = await response.json()
    assert body["count"] == 1
    assert body["results"][0] == {
        "id": body["results"][0]["id"],
        "timestamp": "2016-11-13T20:57:57+01:00",
        "electricity_delivered_1": "1581.123",
        "electricity_returned_1": "0.000",
        "electricity_delivered_2": "1435.706",
        "electricity_returned_2": "0.000",
        "electricity_currently_delivered": "2.027",
        "electricity_currently_returned": "0.000",
        "phase_currently_delivered_l1": "0.170",
        "phase_currently_delivered_l2": "1.247",
        "phase_currently_delivered_l3": "0.209",
        "extra_device_timestamp": "2016-11-29T20:00:00+01:00",
        "extra_device_delivered": "981.443",
        "phase_currently_returned_l1": "0.000",
        "phase_currently_returned_l2": "0.000",
        "phase_currently_returned_l3": "0.000",
        "phase_voltage_l1": None,
        "phase_voltage_l2": None,
        "phase_voltage_l3": None,
        "phase_power_current_l1": 0,
        "phase_power_current_l2": 6,
        "phase_power_current_l3": 2,
    }
    response = await client.get("/api/v2/datalogger/meter-statistics", headers=TOKEN)
    statistics = await response.json()
    assert statistics["dsmr_version"] == "42"
    assert statistics["electricity_tariff"] == 2
    assert statistics["power_failure_count"] == 15
    assert statistics["rejected_telegrams"] == 0
    assert statistics["latest_telegram"] == telegram("v4_2.txt").decode().strip()


async def test_v1_burst_shows_the_newest_once_a_second(
    client: TestClient[Any, Any], hass: HomeAssistant
) -> None:
    """A datalogger catching up: every telegram stored, the entities updated once a second."""
    clock = [1000.0]
    original = telegram("v4_2.txt").decode()

    def with_power(watts: int) -> str:
        return with_crc(
            original[: original.index("!") + 1].replace(
                "1-0:1.7.0(02.027*kW)", f"1-0:1.7.0({watts / 1000:06.3f}*kW)"
            )
        )

    async def post(watts: int) -> None:
        response = await client.post(V1, data={"telegram": with_power(watts)}, headers=TOKEN)
        assert (response.status, await response.text()) == (201, "")

    power = "sensor.electricity_meter_power_consumption"
    with patch("custom_components.smartmeter.kinds.p1.coordinator.monotonic", lambda: clock[0]):
        await post(1000)
        assert state_of(hass, power) == "1000.0"
        clock[0] += 0.4
        await post(1100)
        await post(1200)
        assert state_of(hass, power) == "1000.0"
        # The second is over: the newest is shown, once.
        clock[0] += 0.6
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=0.6))
        await hass.async_block_till_done()
        assert state_of(hass, power) == "1200.0"
        # A telegram a second later is shown at once, as a live datalogger's are.
        clock[0] += 1.0
        await post(1300)
        assert state_of(hass, power) == "1300.0"
    response = await client.get(READINGS, headers=TOKEN)
    assert (await response.json())["count"] == 4


async def test_v1_errors(client: TestClient[Any, Any]) -> None:
    """Bad v1 requests get DSMR-reader's statuses and texts; bad telegrams are counted."""
    response = await client.get(V1, headers=TOKEN)
    assert response.status == 405
    response = await client.post(V1, data={}, headers=TOKEN)
    assert (response.status, await response.text()) == (400, "Invalid data")
    response = await client.post(V1, json={"telegram": "x"}, headers=TOKEN)
    assert (response.status, await response.text()) == (400, "Invalid data")
    bad = telegram("seed_kaifa_v42_masked_badcrc.txt").decode()
    for _ in range(2):
        response = await client.post(V1, data={"telegram": bad}, headers=TOKEN)
        assert (response.status, await response.text()) == (500, "Failed to parse telegram")
    response = await client.get("/api/v2/datalogger/meter-statistics", headers=TOKEN)
    assert (await response.json())["rejected_telegrams"] == 2


async def test_v2_post_seed_example(client: TestClient[Any, Any]) -> None:
    """The seed's v2 POST example gives the seed's result (id aside)."""
    response = await client.post(READINGS, data=SEED_POST, headers=TOKEN)
    assert response.status == 201
    body = await response.json()
    assert {key: body[key] for key in SEED_RESULT} == SEED_RESULT
    assert isinstance(body["id"], int)
    response = await client.get(READINGS, headers=TOKEN)
    assert (await response.json())["results"] == [body]


async def test_v2_post_errors(client: TestClient[Any, Any]) -> None:
    """Validation errors, unsupported media and wrong methods, as DRF answers them."""
    response = await client.post(READINGS, json={"timestamp": "nope"}, headers=TOKEN)
    assert response.status == 400
    body = await response.json()
    assert body["electricity_delivered_1"] == ["This field is required."]
    assert body["timestamp"] == [
        "Datetime has wrong format. Use one of these formats instead: "
        "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
    ]
    response = await client.post(
        READINGS, data="x", headers={**TOKEN, "Content-Type": "text/plain"}
    )
    assert (response.status, await response.json()) == (
        415,
        {"detail": 'Unsupported media type "text/plain" in request.'},
    )
    response = await client.delete(READINGS, headers=TOKEN)
    assert response.status == 405
    assert await response.json() == {"detail": 'Method "DELETE" not allowed.'}
    assert response.headers["Allow"] == "GET, POST"
    response = await client.delete(READINGS)
    assert response.status == 403


async def test_v2_pagination_filters_ordering(client: TestClient[Any, Any]) -> None:
    """30 readings: pages of 25 with absolute links, filters in local time, both orders."""
    for minute in range(30):
        reading = {**SEED_POST, "timestamp": f"2017-04-15T00:{minute:02d}:00+02:00"}
        assert (await client.post(READINGS, json=reading, headers=TOKEN)).status == 201
    body = await (await client.get(f"{READINGS}?foo=bar", headers=TOKEN)).json()
    assert body["count"] == 30
    assert len(body["results"]) == 25
    assert body["previous"] is None
    assert body["next"].endswith(f"{READINGS}?foo=bar&limit=25&offset=25")
    body = await (await client.get(URL(body["next"]).path_qs, headers=TOKEN)).json()
    assert body["results"][0]["timestamp"] == "2017-04-15T00:25:00+02:00"
    assert body["next"] is None
    assert body["previous"].endswith(f"{READINGS}?foo=bar&limit=25")
    query = "timestamp__gte=2017-04-15 00:10&timestamp__lte=2017-04-15T00:12:00%2B02:00"
    body = await (await client.get(f"{READINGS}?{query}&ordering=-timestamp", headers=TOKEN)).json()
    assert [r["timestamp"] for r in body["results"]] == [
        "2017-04-15T00:12:00+02:00",
        "2017-04-15T00:11:00+02:00",
        "2017-04-15T00:10:00+02:00",
    ]
    response = await client.get(f"{READINGS}?timestamp__gte=tomorrow", headers=TOKEN)
    assert (response.status, await response.json()) == (
        400,
        {"timestamp__gte": ["Enter a valid date/time."]},
    )


async def test_version(client: TestClient[Any, Any]) -> None:
    """application/version answers the DSMR-reader release we follow."""
    response = await client.get("/api/v2/application/version", headers={"X-AUTHKEY": KEY})
    assert (response.status, await response.json()) == (200, {"version": "5.11.0"})


async def test_meter_statistics_patch(client: TestClient[Any, Any]) -> None:
    """PATCH updates some fields and answers the whole object; bad values get DRF's messages."""
    url = "/api/v2/datalogger/meter-statistics"
    response = await client.patch(
        url, json={"dsmr_version": "50", "electricity_tariff": 2, "id": 9}, headers=TOKEN
    )
    assert response.status == 200
    body = await response.json()
    assert (body["id"], body["dsmr_version"], body["electricity_tariff"]) == (1, "50", 2)
    assert body["rejected_telegrams"] == 0
    response = await client.patch(
        url,
        json={"dsmr_version": "500", "power_failure_count": "x", "rejected_telegrams": None},
        headers=TOKEN,
    )
    assert (response.status, await response.json()) == (
        400,
        {
            "dsmr_version": ["Ensure this field has no more than 2 characters."],
            "power_failure_count": ["A valid integer is required."],
            "rejected_telegrams": ["This field may not be null."],
        },
    )
    response = await client.patch(url, data={"timestamp": "2020-01-01 12:00"}, headers=TOKEN)
    assert (await response.json())["timestamp"] == "2020-01-01T12:00:00+01:00"
    response = await client.put(url, json={}, headers=TOKEN)
    assert response.status == 405
    assert response.headers["Allow"] == "GET, PATCH"
