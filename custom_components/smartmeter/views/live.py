"""The live views: today's consumption, and the newest electricity and gas with their prices."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, tzinfo
from typing import Any, ClassVar

from aiohttp import web
from homeassistant.helpers.http import KEY_HASS
from homeassistant.util import dt as dt_util

from ..api import routes
from ..api.params import Language
from ..api.serializers import (
    electricity_live_json,
    gas_live_json,
    no_readings_today_json,
    today_json,
)
from ..models import SmartMeterConfigEntry
from ..store import ReadingStore
from .base import NowView, V2View, json_response, local_tz


def _today(store: ReadingStore, meter: str, today: date) -> Any:
    """Return the body of /consumption/today (in an executor)."""
    consumption = store.day_consumption(meter, today)
    if consumption is None:
        return no_readings_today_json(today)
    return today_json(consumption, has_gas=store.latest_gas(meter) is not None)


class TodayView(V2View):
    """GET /api/v2/consumption/today."""

    route = routes.TODAY
    url = route.path
    name = "api:smartmeter:v2:today"
    handlers: ClassVar[Mapping[str, str]] = {"GET": "_today"}

    async def _today(self, request: web.Request, entry: SmartMeterConfigEntry) -> web.Response:
        hass = request.app[KEY_HASS]
        meter = entry.runtime_data
        today = dt_util.now(local_tz(hass)).date()
        body = await hass.async_add_executor_job(_today, meter.store, meter.meter_id, today)
        return json_response(body)


def _utc_today(now: datetime) -> date:
    """Return the day DSMR-reader takes prices of for the live views: ``now().date()``, in UTC."""
    return now.astimezone(UTC).date()


def _electricity_live(
    store: ReadingStore, meter: str, now: datetime, tz: tzinfo, language: Language
) -> dict[str, Any]:
    """Return the body of /consumption/electricity-live (in an executor)."""
    reading = store.latest_reading(meter)
    if reading is None:
        return {}
    return electricity_live_json(
        reading,
        tariff=store.get_statistics(meter).electricity_tariff,
        prices=store.day_prices(meter, _utc_today(now)),
        now=now,
        tz=tz,
        language=language,
    )


class ElectricityLiveView(NowView):
    """GET /api/v2/consumption/electricity-live."""

    route = routes.ELECTRICITY_LIVE
    url = route.path
    name = "api:smartmeter:v2:electricity-live"
    body = staticmethod(_electricity_live)


def _gas_live(
    store: ReadingStore, meter: str, now: datetime, tz: tzinfo, language: Language
) -> dict[str, Any]:
    """Return the body of /consumption/gas-live (in an executor)."""
    gas = store.latest_gas(meter)
    if gas is None:
        return {}
    prices = store.day_prices(meter, _utc_today(now))
    return gas_live_json(gas, prices=prices, tz=tz, language=language)


class GasLiveView(NowView):
    """GET /api/v2/consumption/gas-live."""

    route = routes.GAS_LIVE
    url = route.path
    name = "api:smartmeter:v2:gas-live"
    body = staticmethod(_gas_live)
