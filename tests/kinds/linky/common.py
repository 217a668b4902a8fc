"""A Linky meter in Home Assistant against the simulated Enedis service, with time frozen."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.smartmeter.const import DOMAIN
from custom_components.smartmeter.enedis import PARIS
from custom_components.smartmeter.kinds.linky import const
from enedis_simulator import CONSO_TOKEN, MED_TOKEN, PRM
from tests.enedis.server import Service, enedis_service

# 06:00 in Paris (summer time) on 31 March 2026: yesterday's data is in.
NOW = datetime(2026, 3, 31, 4, 0, tzinfo=UTC)
TODAY = date(2026, 3, 31)
MINUTE = 17


def paris_today() -> date:
    """Return the frozen day in Paris."""
    return dt_util.now(PARIS).date()


@asynccontextmanager
async def linky_service() -> AsyncIterator[Service]:
    """Serve the simulated service on the frozen day; point the access paths at it."""
    async with enedis_service(paris_today) as service:
        urls = dict.fromkeys(const.SERVICE_URLS, service.url)
        with (
            patch.dict(const.SERVICE_URLS, urls),
            patch.object(const, "REQUEST_INTERVAL", 0),
        ):
            yield service


def energy_contract(delivered: str, returned: str, end: str) -> ConfigSubentryData:
    """Return an energy contract from 2020 on: these tariff 1 prices, the others nothing."""
    return ConfigSubentryData(
        data={
            "description": "EDF",
            "start": "2020-01-01",
            "end": end,
            "electricity_delivered_1_price": delivered,
            "electricity_delivered_2_price": "0.000000",
            "gas_price": "0.000000",
            "electricity_returned_1_price": returned,
            "electricity_returned_2_price": "0.000000",
            "fixed_daily_cost": "0.000000",
        },
        subentry_type="energy_contract",
        title="EDF",
        unique_id=None,
    )


def linky_entry(
    access: str = const.ACCESS_CONSO_API,
    measurement: str = "both",
    subentries: list[ConfigSubentryData] | None = None,
    **data: Any,
) -> MockConfigEntry:
    """Return a Linky entry of the access path."""
    token = {const.ACCESS_CONSO_API: CONSO_TOKEN, const.ACCESS_MYELECTRICALDATA: MED_TOKEN}
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"Linky {PRM}",
        unique_id=PRM,
        version=1,
        minor_version=3,
        data={
            "kind": "linky",
            const.CONF_ACCESS: access,
            const.CONF_SERVICE_URL: const.SERVICE_URLS[access],
            const.CONF_PRM: PRM,
            const.CONF_MEASUREMENT: measurement,
            **({"token": token[access]} if access in token else {}),
            **data,
        },
        options={const.CONF_POLL_MINUTE: MINUTE},
        subentries_data=subentries,
    )


async def settled(hass: HomeAssistant) -> None:
    """Wait for the runs under way, background tasks included."""
    await hass.async_block_till_done(wait_background_tasks=True)


async def move_to(hass: HomeAssistant, freezer: FrozenDateTimeFactory, moment: datetime) -> None:
    """Move the frozen clock on, fire the timers due, and wait for the runs they start."""
    freezer.move_to(moment)
    async_fire_time_changed(hass)
    await settled(hass)


def requests_since(service: Service, start: int) -> list[str]:
    """Return the requests the service got from the start-th on."""
    return service.simulator.requests[start:]


Check = Callable[[], bool]
