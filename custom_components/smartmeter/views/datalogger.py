"""The datalogger's views: readings (v2 and v1's raw telegrams) and the meter statistics."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime, tzinfo
from functools import partial
from typing import ClassVar, Final

from aiohttp import web
from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import KEY_HASS
from sqlalchemy.exc import SQLAlchemyError

from ..api import routes
from ..api.parsers import BodyError, parse_post
from ..api.serializers import dsmr_reading_json, meter_statistics_json
from ..api.validation import ValidationFailed, validate_reading, validate_statistics_patch
from ..const import CONF_CONNECTION_TYPE, CONNECTION_PUSH
from ..meter.errors import TelegramError
from ..models import SmartMeterConfigEntry
from ..store import FilterOperator, ReadingStore
from ..store.errors import StoreBusy, StoreError
from ..store.model import Reading, StoredReading
from .base import ApiView, V2View, authorize, is_form, json_response, local_tz, request_data
from .pages import ListView, PageQuery, page_body


class DsmrReadingView(ListView):
    """GET and POST /api/v2/datalogger/dsmrreading."""

    route = routes.DSMRREADING
    url = route.path
    name = "api:smartmeter:v2:dsmrreading"
    handlers: ClassVar[Mapping[str, str]] = {"GET": "_list", "POST": "_create"}

    def _page(self, store: ReadingStore, meter: str, page: PageQuery, tz: tzinfo) -> bytes:
        """Read and render a page of readings (in an executor)."""
        bounds: dict[FilterOperator, datetime] = {}
        for _, operator, value in page.filters:
            assert isinstance(value, datetime)  # datetime filters only
            bounds[operator] = value
        count, readings = store.list_readings(
            meter,
            descending=page.ordering[0][1],
            limit=page.limit,
            offset=page.store_offset,
            timestamp_gte=bounds.get("gte"),
            timestamp_lte=bounds.get("lte"),
            timestamp_exact=bounds.get("exact"),
        )
        return page_body(count, [dsmr_reading_json(reading, tz) for reading in readings], page)

    async def _create(self, request: web.Request, entry: SmartMeterConfigEntry) -> web.Response:
        hass = request.app[KEY_HASS]
        tz = local_tz(hass)
        data = await request_data(request)
        if isinstance(data, web.Response):
            return data
        try:
            validated = validate_reading(data, tz, form=is_form(data), strict_dst=True)
        except ValidationFailed as err:
            return json_response(err.body, 400)
        reading = Reading(**asdict(validated))
        meter = entry.runtime_data
        try:
            ids = await asyncio.wrap_future(meter.store.writer.submit(meter.meter_id, [reading]))
        except StoreBusy:
            return json_response({"detail": "Too many readings queued; try again later."}, 503)
        stored = StoredReading(id=ids[0], **asdict(reading))
        return json_response(dsmr_reading_json(stored, tz), 201)


class MeterStatisticsView(V2View):
    """GET and PATCH /api/v2/datalogger/meter-statistics (no PUT, as DSMR-reader)."""

    route = routes.METER_STATISTICS
    url = route.path
    name = "api:smartmeter:v2:meter-statistics"
    handlers: ClassVar[Mapping[str, str]] = {"GET": "_retrieve", "PATCH": "_update"}

    async def _retrieve(self, request: web.Request, entry: SmartMeterConfigEntry) -> web.Response:
        hass = request.app[KEY_HASS]
        meter = entry.runtime_data
        statistics = await hass.async_add_executor_job(meter.store.get_statistics, meter.meter_id)
        return json_response(meter_statistics_json(statistics, local_tz(hass)))

    async def _update(self, request: web.Request, entry: SmartMeterConfigEntry) -> web.Response:
        hass = request.app[KEY_HASS]
        tz = local_tz(hass)
        data = await request_data(request)
        if isinstance(data, web.Response):
            return data
        try:
            values = validate_statistics_patch(data, tz, form=is_form(data), strict_dst=True)
        except ValidationFailed as err:
            return json_response(err.body, 400)
        meter = entry.runtime_data
        statistics = await hass.async_add_executor_job(
            partial(meter.store.update_statistics, meter.meter_id, **values)
        )
        return json_response(meter_statistics_json(statistics, tz))


# Django's answer to a multipart body it cannot parse: its default 400 page.
_DJANGO_BAD_REQUEST: Final = "<h1>Bad Request (400)</h1>"
# Django's View lists OPTIONS (which it answers itself) with the methods it has.
_V1_ALLOW: Final = "POST, OPTIONS"


class DsmrReadingV1View(ApiView):
    """POST /api/v1/datalogger/dsmrreading: a raw telegram, as from a remote datalogger.

    Answers in plain text as DSMR-reader's Django view does: other methods get Django's empty
    405 whatever the key (OPTIONS is Home Assistant's CORS preflight).
    """

    route = routes.V1_DSMRREADING
    url = route.path
    name = "api:smartmeter:v1:dsmrreading"

    async def post(self, request: web.Request) -> web.Response:
        """Parse, store and (for a push-only meter) show the telegram."""
        hass = request.app[KEY_HASS]
        entry = authorize(hass, request.headers)
        if entry is False:
            return web.Response(status=405, text="API is disabled", headers={"Allow": "POST"})
        if entry is True:
            return web.Response(status=403, text="Invalid auth key")
        body = await request.read() if request.body_exists else b""
        try:
            form = parse_post(body, request.headers.get("Content-Type", ""))
        except BodyError:
            return web.Response(status=400, text=_DJANGO_BAD_REQUEST, content_type="text/html")
        # Django's form takes the last value and strips whitespace; DSMR-reader then NULs.
        values = form.getall("telegram", [])
        telegram = values[-1].strip() if values else ""
        if not telegram:
            return web.Response(status=400, text="Invalid data")
        status, text = await _take_telegram(hass, entry, telegram.strip("\x00"))
        return web.Response(status=status, text=text)

    async def _not_allowed(self, request: web.Request) -> web.Response:
        """Django's ``http_method_not_allowed``: 405, an empty body."""
        return web.Response(status=405, headers={"Allow": _V1_ALLOW}, content_type="text/html")

    get = head = put = patch = delete = _not_allowed


async def _take_telegram(
    hass: HomeAssistant, entry: SmartMeterConfigEntry, telegram: str
) -> tuple[int, str]:
    """Store a v1 telegram; return DSMR-reader's status and text for the outcome."""
    coordinator = entry.runtime_data.coordinator
    try:
        parsed = coordinator.decoder.decode(telegram)
        # Refused here too: no electricity in it (a heat meter's, whose position is kept).
        stored = coordinator.store_telegram(parsed, telegram)
    except TelegramError:
        coordinator.api_rejected += 1
        await hass.async_add_executor_job(coordinator.store.count_rejected, coordinator.meter_id)
        return 500, "Failed to parse telegram"
    except StoreBusy:
        return 503, "Too many readings queued"
    if entry.data[CONF_CONNECTION_TYPE] == CONNECTION_PUSH:
        coordinator.show_pushed(parsed, telegram)
    coordinator.forward(telegram)
    try:
        await asyncio.wrap_future(stored)
    except StoreError, SQLAlchemyError:
        return 500, "Failed to store telegram"
    return 201, ""
