"""DSMR-reader's REST API (v1 and v2), served by Home Assistant's http component.

The views use their own key, not Home Assistant's tokens: DSMR-reader clients send
``X-AUTHKEY`` or ``Authorization: Token``. A refused key is answered, never raised,
so a misconfigured datalogger cannot trigger Home Assistant's login-failure ban.
The key also tells which meter (config entry) a request is for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict
from datetime import date, datetime, tzinfo
from functools import partial
import json
from typing import Any, ClassVar, Final

from aiohttp import web
from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView
from homeassistant.util import dt as dt_util
from sqlalchemy.exc import SQLAlchemyError

from .api.auth import check_auth_key
from .api.pagination import page_envelope
from .api.params import (
    FilterKind,
    ParamError,
    parse_filters,
    parse_limit,
    parse_offset,
    parse_ordering,
    query_value,
)
from .api.serializers import dsmr_reading_json, meter_statistics_json, version_json
from .api.validation import ValidationFailed, validate_reading, validate_statistics_patch
from .const import CONF_API_ENABLED, CONF_API_KEY, CONF_CONNECTION_TYPE, CONNECTION_PUSH, DOMAIN
from .coordinator import SmartMeterConfigEntry
from .meter.errors import TelegramError
from .store.errors import StoreBusy, StoreError
from .store.model import Reading, StoredReading

_METHODS: Final = ("GET", "POST", "PUT", "PATCH", "DELETE")
# The exact timestamp filter comes first, as django-filter orders Meta.fields.
_READING_FILTERS: Final = {
    "timestamp": FilterKind.DATETIME,
    "timestamp__gte": FilterKind.DATETIME,
    "timestamp__lte": FilterKind.DATETIME,
}

type Handler = Callable[[web.Request, SmartMeterConfigEntry], Awaitable[web.Response]]


def json_response(data: Any, status: int = 200, **headers: str) -> web.Response:
    """Render as DRF's JSONRenderer: compact, UTF-8 unescaped."""
    return web.Response(
        body=json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode(),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def _authorize(hass: HomeAssistant, headers: Mapping[str, str]) -> SmartMeterConfigEntry | bool:
    """Return the entry the key opens; False if the API is disabled, True if the key is wrong."""
    entries: list[SmartMeterConfigEntry] = hass.config_entries.async_loaded_entries(DOMAIN)
    enabled = [entry for entry in entries if entry.options.get(CONF_API_ENABLED)]
    for entry in enabled:
        if check_auth_key(headers, entry.options.get(CONF_API_KEY, "")):
            return entry
    return bool(enabled)


class _V2View(HomeAssistantView):
    """A DRF-style view: authentication first, then the method, as DSMR-reader does."""

    requires_auth = False
    handlers: ClassVar[Mapping[str, str]] = {}

    async def _dispatch(self, request: web.Request) -> web.Response:
        hass = request.app[KEY_HASS]
        entry = _authorize(hass, request.headers)
        if entry is False:
            return json_response({"detail": "API is disabled"}, 403)
        if entry is True:
            return json_response({"detail": "Invalid auth key"}, 403)
        handler_name = self.handlers.get(request.method)
        if handler_name is None:
            return json_response(
                {"detail": f'Method "{request.method}" not allowed.'},
                405,
                Allow=", ".join(method for method in _METHODS if method in self.handlers),
            )
        handler: Handler = getattr(self, handler_name)
        return await handler(request, entry)

    async def get(self, request: web.Request) -> web.Response:
        """Route GET."""
        return await self._dispatch(request)

    async def post(self, request: web.Request) -> web.Response:
        """Route POST."""
        return await self._dispatch(request)

    async def put(self, request: web.Request) -> web.Response:
        """Route PUT."""
        return await self._dispatch(request)

    async def patch(self, request: web.Request) -> web.Response:
        """Route PATCH."""
        return await self._dispatch(request)

    async def delete(self, request: web.Request) -> web.Response:
        """Route DELETE."""
        return await self._dispatch(request)


async def _request_data(request: web.Request) -> Any:
    """Return the body as DRF's parsers read it; a Response for a body they refuse."""
    content_type = request.content_type
    if not request.body_exists:
        return {}
    if content_type == "application/json":
        try:
            return json.loads(await request.text())
        except ValueError as err:
            return json_response({"detail": f"JSON parse error - {err}"}, 400)
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return dict(await request.post())
    media_type = request.headers.get("Content-Type", "")
    return json_response({"detail": f'Unsupported media type "{media_type}" in request.'}, 415)


def _moment(filters: Mapping[str, datetime | date], name: str) -> datetime | None:
    value = filters.get(name)
    assert value is None or isinstance(value, datetime)  # datetime filters only
    return value


def _local_tz(hass: HomeAssistant) -> tzinfo:
    return dt_util.get_default_time_zone()


class DsmrReadingView(_V2View):
    """GET and POST /api/v2/datalogger/dsmrreading."""

    url = "/api/v2/datalogger/dsmrreading"
    name = "api:smartmeter:v2:dsmrreading"
    handlers: ClassVar[Mapping[str, str]] = {"GET": "_list", "POST": "_create"}

    async def _list(self, request: web.Request, entry: SmartMeterConfigEntry) -> web.Response:
        hass = request.app[KEY_HASS]
        tz = _local_tz(hass)
        query = request.query
        try:
            filters = parse_filters(query, _READING_FILTERS, tz)
        except ParamError as err:
            return json_response(err.body, 400)
        # Django reads a repeated parameter's last value
        limit = parse_limit(query_value(query, "limit"))
        offset = parse_offset(query_value(query, "offset"))
        ordering = parse_ordering(query_value(query, "ordering"), ("timestamp",), "timestamp")
        coordinator = entry.runtime_data
        count, readings = await hass.async_add_executor_job(
            partial(
                coordinator.store.list_readings,
                coordinator.meter_id,
                descending=ordering[0] == "-timestamp",
                limit=limit,
                offset=offset,
                timestamp_gte=_moment(filters, "timestamp__gte"),
                timestamp_lte=_moment(filters, "timestamp__lte"),
                timestamp_exact=_moment(filters, "timestamp"),
            )
        )
        return json_response(
            page_envelope(
                count,
                [dsmr_reading_json(reading, tz) for reading in readings],
                base_url=str(request.url.with_query(None)),
                query=request.query_string,
                limit=limit,
                offset=offset,
            )
        )

    async def _create(self, request: web.Request, entry: SmartMeterConfigEntry) -> web.Response:
        hass = request.app[KEY_HASS]
        tz = _local_tz(hass)
        data = await _request_data(request)
        if isinstance(data, web.Response):
            return data
        try:
            validated = validate_reading(data, tz, form=request.content_type != "application/json")
        except ValidationFailed as err:
            return json_response(err.body, 400)
        reading = Reading(**asdict(validated))
        coordinator = entry.runtime_data
        try:
            ids = await asyncio.wrap_future(
                coordinator.store.writer.submit(coordinator.meter_id, [reading])
            )
        except StoreBusy:
            return json_response({"detail": "Too many readings queued; try again later."}, 503)
        stored = StoredReading(id=ids[0], **asdict(reading))
        return json_response(dsmr_reading_json(stored, tz), 201)


class MeterStatisticsView(_V2View):
    """GET and PATCH /api/v2/datalogger/meter-statistics (no PUT, as DSMR-reader)."""

    url = "/api/v2/datalogger/meter-statistics"
    name = "api:smartmeter:v2:meter-statistics"
    handlers: ClassVar[Mapping[str, str]] = {"GET": "_retrieve", "PATCH": "_update"}

    async def _retrieve(self, request: web.Request, entry: SmartMeterConfigEntry) -> web.Response:
        hass = request.app[KEY_HASS]
        coordinator = entry.runtime_data
        statistics = await hass.async_add_executor_job(
            coordinator.store.get_statistics, coordinator.meter_id
        )
        return json_response(meter_statistics_json(statistics, _local_tz(hass)))

    async def _update(self, request: web.Request, entry: SmartMeterConfigEntry) -> web.Response:
        hass = request.app[KEY_HASS]
        tz = _local_tz(hass)
        data = await _request_data(request)
        if isinstance(data, web.Response):
            return data
        try:
            values = validate_statistics_patch(
                data, tz, form=request.content_type != "application/json"
            )
        except ValidationFailed as err:
            return json_response(err.body, 400)
        coordinator = entry.runtime_data
        statistics = await hass.async_add_executor_job(
            partial(coordinator.store.update_statistics, coordinator.meter_id, **values)
        )
        return json_response(meter_statistics_json(statistics, tz))


class VersionView(_V2View):
    """GET /api/v2/application/version."""

    url = "/api/v2/application/version"
    name = "api:smartmeter:v2:version"
    handlers: ClassVar[Mapping[str, str]] = {"GET": "_version"}

    async def _version(self, request: web.Request, entry: SmartMeterConfigEntry) -> web.Response:
        return json_response(version_json())


class DsmrReadingV1View(HomeAssistantView):
    """POST /api/v1/datalogger/dsmrreading: a raw telegram, as from a remote datalogger.

    Answers in plain text as DSMR-reader's Django view does; only POST is routed, so
    other methods get aiohttp's empty 405 like Django's.
    """

    url = "/api/v1/datalogger/dsmrreading"
    name = "api:smartmeter:v1:dsmrreading"
    requires_auth = False

    async def post(self, request: web.Request) -> web.Response:
        """Parse, store and (for a push-only meter) show the telegram."""
        hass = request.app[KEY_HASS]
        entry = _authorize(hass, request.headers)
        if entry is False:
            return web.Response(status=405, text="API is disabled", headers={"Allow": "POST"})
        if entry is True:
            return web.Response(status=403, text="Invalid auth key")
        form = await request.post() if request.body_exists else {}
        telegram = str(form.get("telegram", "")).strip().strip("\x00")
        if not telegram:
            return web.Response(status=400, text="Invalid data")
        status, text = await _take_telegram(hass, entry, telegram)
        return web.Response(status=status, text=text)


async def _take_telegram(
    hass: HomeAssistant, entry: SmartMeterConfigEntry, telegram: str
) -> tuple[int, str]:
    """Store a v1 telegram; return DSMR-reader's status and text for the outcome."""
    coordinator = entry.runtime_data
    try:
        parsed = coordinator.decoder.decode(telegram)
    except TelegramError:
        coordinator.api_rejected += 1
        await hass.async_add_executor_job(coordinator.store.count_rejected, coordinator.meter_id)
        return 500, "Failed to parse telegram"
    try:
        stored = coordinator.store_telegram(parsed, telegram)
    except TelegramError:  # stamped in the future, or no electricity in it
        return 500, "Failed to parse telegram"
    except StoreBusy:
        return 503, "Too many readings queued"
    if entry.data[CONF_CONNECTION_TYPE] == CONNECTION_PUSH:
        coordinator.update_entities(parsed, telegram)
    coordinator.forward(telegram)
    try:
        await asyncio.wrap_future(stored)
    except StoreError, SQLAlchemyError:
        return 500, "Failed to store telegram"
    return 201, ""


VIEWS: Final = (DsmrReadingV1View, DsmrReadingView, MeterStatisticsView, VersionView)


def async_register_views(hass: HomeAssistant) -> None:
    """Register the views once per Home Assistant run: views cannot be removed again."""
    for view in VIEWS:
        hass.http.register_view(view())
