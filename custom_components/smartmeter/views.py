"""DSMR-reader's REST API (v1 and v2), served by Home Assistant's http component.

The views use their own key, not Home Assistant's tokens: DSMR-reader clients send
``X-AUTHKEY`` or ``Authorization: Token``. A refused key is answered, never raised,
so a misconfigured datalogger cannot trigger Home Assistant's login-failure ban.
The key also tells which meter (config entry) a request is for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, tzinfo
from functools import partial
import json
from typing import Any, ClassVar, Final

from aiohttp import web
from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView
from homeassistant.util import dt as dt_util
from multidict import MultiDict
from sqlalchemy.exc import SQLAlchemyError

from .api import routes
from .api.application import StatusFacts, monitoring_issues, monitoring_json, status_json
from .api.auth import check_auth_key
from .api.locale import request_language
from .api.negotiation import JSON_RENDERER, NegotiationError, Renderer, select_renderer
from .api.openapi import JSON_MEDIA_TYPE, MEDIA_TYPE, openapi_json, openapi_yaml
from .api.pagination import page_envelope
from .api.params import (
    MAX_LIMIT,
    MAX_OFFSET,
    Language,
    ParamError,
    parse_filters,
    parse_limit,
    parse_offset,
    parse_ordering,
    query_value,
)
from .api.parsers import BodyError, parse_data, parse_post
from .api.serializers import (
    dsmr_reading_json,
    electricity_live_json,
    gas_live_json,
    meter_statistics_json,
    no_readings_today_json,
    record_json,
    today_json,
    version_json,
)
from .api.validation import (
    MSG_DAY_EXISTS,
    ValidationFailed,
    validate_day_statistics,
    validate_reading,
    validate_statistics_patch,
)
from .const import CONF_API_ENABLED, CONF_API_KEY, CONF_CONNECTION_TYPE, CONNECTION_PUSH
from .meter.errors import TelegramError
from .models import SmartMeterConfigEntry, loaded_meters
from .store import (
    DuplicateDay,
    ElectricityConsumption,
    FilterOperator,
    GasConsumption,
    HourStatistics,
    QuarterHourPeak,
    ReadingStore,
    Record,
    StoredDayStatistics,
    StoredEnergySupplierPrice,
)
from .store.errors import StoreBusy, StoreError
from .store.model import Reading, StoredReading

_METHODS: Final = ("GET", "POST", "PUT", "PATCH", "DELETE")

type Handler = Callable[[web.Request, SmartMeterConfigEntry], Awaitable[web.Response]]


def render_json(data: Any) -> bytes:
    """Render as DRF's JSONRenderer: compact, UTF-8 unescaped."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def json_response(data: Any, status: int = 200, **headers: str) -> web.Response:
    """Answer JSON; ``data`` may be rendered already (bytes, e.g. in an executor)."""
    return web.Response(
        body=data if isinstance(data, bytes) else render_json(data),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def _authorize(hass: HomeAssistant, headers: Mapping[str, str]) -> SmartMeterConfigEntry | bool:
    """Return the entry the key opens; False if the API is disabled, True if the key is wrong."""
    entries = loaded_meters(hass)
    enabled = [entry for entry in entries if entry.options.get(CONF_API_ENABLED)]
    for entry in enabled:
        if check_auth_key(headers, entry.options.get(CONF_API_KEY, "")):
            return entry
    return bool(enabled)


def _handled_as(method: str) -> str:
    """Return the method whose handler answers: GET's for HEAD, as Django does."""
    return "GET" if method == "HEAD" else method


class _V2View(HomeAssistantView):
    """A DRF-style view: authentication first, then the method, as DSMR-reader does.

    ``route`` (api/routes.py) gives its path; ``handlers`` maps its methods to handlers.
    """

    requires_auth = False
    route: ClassVar[routes.Route]
    handlers: ClassVar[Mapping[str, str]] = {}
    renderers: ClassVar[tuple[Renderer, ...]] = (JSON_RENDERER,)

    def _renderer(self, request: web.Request) -> Renderer:
        """Return the renderer DRF negotiates (before the key); raise NegotiationError."""
        return select_renderer(
            self.renderers, request.headers.get("Accept"), query_value(request.query, "format")
        )

    async def _dispatch(self, request: web.Request) -> web.Response:
        try:
            self._renderer(request)
        except NegotiationError as err:
            return json_response(err.body, err.status)
        hass = request.app[KEY_HASS]
        entry = _authorize(hass, request.headers)
        if entry is False:
            return json_response({"detail": "API is disabled"}, 403)
        if entry is True:
            return json_response({"detail": "Invalid auth key"}, 403)
        handler_name = self.handlers.get(_handled_as(request.method))
        if handler_name is None:
            return self._not_allowed(request.method)
        handler: Handler = getattr(self, handler_name)
        return await handler(request, entry)

    def _not_allowed(self, method: str) -> web.Response:
        return json_response(
            {"detail": f'Method "{method}" not allowed.'},
            405,
            Allow=", ".join(allowed for allowed in _METHODS if allowed in self.handlers),
        )

    async def get(self, request: web.Request) -> web.Response:
        """Route GET."""
        return await self._dispatch(request)

    async def head(self, request: web.Request) -> web.Response:
        """Route HEAD: GET's answer without its body (aiohttp leaves the body out)."""
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
    body = await request.read() if request.body_exists else b""
    try:
        return parse_data(body, request.headers.get("Content-Type", ""))
    except BodyError as err:
        return json_response(err.body, err.status)


def _is_form(data: Any) -> bool:
    """Whether DRF read the body as a form (where "" means null), not as JSON."""
    return isinstance(data, MultiDict)


def _local_tz(hass: HomeAssistant) -> tzinfo:
    return dt_util.get_default_time_zone()


@dataclass(frozen=True, slots=True)
class _PageQuery:
    """A list request's parsed parameters and what its links are built from."""

    filters: list[tuple[str, FilterOperator, datetime | date]]
    ordering: list[tuple[str, bool]]
    limit: int
    offset: int
    base_url: str
    query_string: str

    @property
    def store_offset(self) -> int:
        """Return the offset to ask the store for: any beyond MAX_OFFSET is past every row.

        DRF returns an empty page for an offset past the count without asking the database,
        which could not take one beyond its 64-bit integers.
        """
        return min(self.offset, MAX_OFFSET)


def _page_query(request: web.Request, route: routes.Route, tz: tzinfo) -> _PageQuery:
    """Parse a list request's query as DRF and django-filter do; raise ParamError if bad."""
    query = request.query
    # A naive time a DST change skips or repeats is refused, as Django (with pytz) does.
    parsed = parse_filters(query, route.filter_kinds, tz, strict_dst=True)
    # Django reads a repeated parameter's last value
    terms = parse_ordering(query_value(query, "ordering"), route.ordering, route.ordering[0])
    return _PageQuery(
        filters=[
            (item.field, item.operator, parsed[item.param])
            for item in route.filters
            if item.param in parsed
        ],
        ordering=[(term.removeprefix("-"), term.startswith("-")) for term in terms],
        limit=parse_limit(query_value(query, "limit"), max_limit=MAX_LIMIT),
        offset=parse_offset(query_value(query, "offset")),
        base_url=str(request.url.with_query(None)),
        query_string=request.query_string,
    )


def _page_body(count: int, results: list[dict[str, Any]], page: _PageQuery) -> bytes:
    return render_json(
        page_envelope(
            count,
            results,
            base_url=page.base_url,
            query=page.query_string,
            limit=page.limit,
            offset=page.offset,
        )
    )


def _reading_page(store: ReadingStore, meter: str, page: _PageQuery, tz: tzinfo) -> bytes:
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
    return _page_body(count, [dsmr_reading_json(reading, tz) for reading in readings], page)


def _record_page(
    store: ReadingStore, meter: str, record_type: type[Record], page: _PageQuery, tz: tzinfo
) -> bytes:
    """Read and render a page of processing records (in an executor)."""
    count, records = store.list_records(
        record_type,
        meter,
        filters=page.filters,
        ordering=page.ordering,
        limit=page.limit,
        offset=page.store_offset,
    )
    return _page_body(count, [record_json(record, tz) for record in records], page)


class DsmrReadingView(_V2View):
    """GET and POST /api/v2/datalogger/dsmrreading."""

    route = routes.DSMRREADING
    url = route.path
    name = "api:smartmeter:v2:dsmrreading"
    handlers: ClassVar[Mapping[str, str]] = {"GET": "_list", "POST": "_create"}

    async def _list(self, request: web.Request, entry: SmartMeterConfigEntry) -> web.Response:
        hass = request.app[KEY_HASS]
        tz = _local_tz(hass)
        try:
            page = _page_query(request, self.route, tz)
        except ParamError as err:
            return json_response(err.body, 400)
        coordinator = entry.runtime_data
        body = await hass.async_add_executor_job(
            _reading_page, coordinator.store, coordinator.meter_id, page, tz
        )
        return json_response(body)

    async def _create(self, request: web.Request, entry: SmartMeterConfigEntry) -> web.Response:
        hass = request.app[KEY_HASS]
        tz = _local_tz(hass)
        data = await _request_data(request)
        if isinstance(data, web.Response):
            return data
        try:
            validated = validate_reading(data, tz, form=_is_form(data), strict_dst=True)
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

    route = routes.METER_STATISTICS
    url = route.path
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
            values = validate_statistics_patch(data, tz, form=_is_form(data), strict_dst=True)
        except ValidationFailed as err:
            return json_response(err.body, 400)
        coordinator = entry.runtime_data
        statistics = await hass.async_add_executor_job(
            partial(coordinator.store.update_statistics, coordinator.meter_id, **values)
        )
        return json_response(meter_statistics_json(statistics, tz))


class VersionView(_V2View):
    """GET /api/v2/application/version."""

    route = routes.VERSION
    url = route.path
    name = "api:smartmeter:v2:version"
    handlers: ClassVar[Mapping[str, str]] = {"GET": "_version"}

    async def _version(self, request: web.Request, entry: SmartMeterConfigEntry) -> web.Response:
        return json_response(version_json())


class _RecordListView(_V2View):
    """GET of a list of processing records, with its route's filters and ordering."""

    record_type: ClassVar[type[Record]]
    handlers: ClassVar[Mapping[str, str]] = {"GET": "_list"}

    async def _list(self, request: web.Request, entry: SmartMeterConfigEntry) -> web.Response:
        hass = request.app[KEY_HASS]
        tz = _local_tz(hass)
        try:
            page = _page_query(request, self.route, tz)
        except ParamError as err:
            return json_response(err.body, 400)
        coordinator = entry.runtime_data
        body = await hass.async_add_executor_job(
            _record_page, coordinator.store, coordinator.meter_id, self.record_type, page, tz
        )
        return json_response(body)


class EnergySupplierPriceView(_RecordListView):
    """GET /api/v2/consumption/energy-supplier-prices."""

    route = routes.ENERGY_SUPPLIER_PRICES
    url = route.path
    name = "api:smartmeter:v2:energy-supplier-prices"
    record_type = StoredEnergySupplierPrice


class ElectricityConsumptionView(_RecordListView):
    """GET /api/v2/consumption/electricity."""

    route = routes.ELECTRICITY
    url = route.path
    name = "api:smartmeter:v2:electricity"
    record_type = ElectricityConsumption


class QuarterHourPeakView(_RecordListView):
    """GET /api/v2/consumption/quarter-hour-peak-electricity."""

    route = routes.QUARTER_HOUR_PEAKS
    url = route.path
    name = "api:smartmeter:v2:quarter-hour-peak-electricity"
    record_type = QuarterHourPeak


class GasConsumptionView(_RecordListView):
    """GET /api/v2/consumption/gas."""

    route = routes.GAS
    url = route.path
    name = "api:smartmeter:v2:gas"
    record_type = GasConsumption


class HourStatisticsView(_RecordListView):
    """GET /api/v2/statistics/hour."""

    route = routes.HOUR_STATISTICS
    url = route.path
    name = "api:smartmeter:v2:hour-statistics"
    record_type = HourStatistics


def _add_day(
    store: ReadingStore, meter: str, data: Any, tz: tzinfo, *, form: bool
) -> dict[str, Any]:
    """Validate and store imported day statistics (in an executor); return them as JSON."""

    def day_exists(day: date) -> bool:
        count, _ = store.list_records(
            StoredDayStatistics, meter, filters=[("day", "exact", day)], limit=0
        )
        return count > 0

    statistics = validate_day_statistics(data, tz, day_exists, form=form, strict_dst=True)
    try:
        stored = store.add_day_statistics(meter, statistics)
    except DuplicateDay:  # added meanwhile
        raise ValidationFailed({"day": [MSG_DAY_EXISTS]}) from None
    return record_json(stored, tz)


class DayStatisticsView(_RecordListView):
    """GET and POST /api/v2/statistics/day."""

    route = routes.DAY_STATISTICS
    url = route.path
    name = "api:smartmeter:v2:day-statistics"
    record_type = StoredDayStatistics
    handlers: ClassVar[Mapping[str, str]] = {"GET": "_list", "POST": "_create"}

    async def _create(self, request: web.Request, entry: SmartMeterConfigEntry) -> web.Response:
        hass = request.app[KEY_HASS]
        data = await _request_data(request)
        if isinstance(data, web.Response):
            return data
        coordinator = entry.runtime_data
        try:
            body = await hass.async_add_executor_job(
                partial(
                    _add_day,
                    coordinator.store,
                    coordinator.meter_id,
                    data,
                    _local_tz(hass),
                    form=_is_form(data),
                )
            )
        except ValidationFailed as err:
            return json_response(err.body, 400)
        return json_response(body, 201)


def _today(store: ReadingStore, meter: str, today: date) -> Any:
    """Return the body of /consumption/today (in an executor)."""
    consumption = store.day_consumption(meter, today)
    if consumption is None:
        return no_readings_today_json(today)
    return today_json(consumption, has_gas=store.latest_gas(meter) is not None)


class TodayView(_V2View):
    """GET /api/v2/consumption/today."""

    route = routes.TODAY
    url = route.path
    name = "api:smartmeter:v2:today"
    handlers: ClassVar[Mapping[str, str]] = {"GET": "_today"}

    async def _today(self, request: web.Request, entry: SmartMeterConfigEntry) -> web.Response:
        hass = request.app[KEY_HASS]
        coordinator = entry.runtime_data
        today = dt_util.now(_local_tz(hass)).date()
        body = await hass.async_add_executor_job(
            _today, coordinator.store, coordinator.meter_id, today
        )
        return json_response(body)


def _utc_today(now: datetime) -> date:
    """Return the day DSMR-reader takes prices of for the live views: ``now().date()``, in UTC."""
    return now.astimezone(UTC).date()


class _NowView(_V2View):
    """A GET whose body depends on the store, the time, the time zone and the language."""

    handlers: ClassVar[Mapping[str, str]] = {"GET": "_get"}
    body: Callable[[ReadingStore, str, datetime, tzinfo, Language], Any]

    async def _get(self, request: web.Request, entry: SmartMeterConfigEntry) -> web.Response:
        hass = request.app[KEY_HASS]
        coordinator = entry.runtime_data
        body = await hass.async_add_executor_job(
            self.body,
            coordinator.store,
            coordinator.meter_id,
            dt_util.utcnow(),
            _local_tz(hass),
            request_language(request.headers.get("Accept-Language")),
        )
        return json_response(body)


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


class ElectricityLiveView(_NowView):
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


class GasLiveView(_NowView):
    """GET /api/v2/consumption/gas-live."""

    route = routes.GAS_LIVE
    url = route.path
    name = "api:smartmeter:v2:gas-live"
    body = staticmethod(_gas_live)


def _monitoring(
    store: ReadingStore, meter: str, now: datetime, tz: tzinfo, language: Language
) -> dict[str, Any]:
    """Return the body of /application/monitoring (in an executor)."""
    reading = store.latest_reading(meter)
    issues = monitoring_issues(
        now=now,
        latest_reading=None if reading is None else reading.timestamp,
        status=store.processing_status(meter),
        tz=tz,
        language=language,
    )
    return monitoring_json(issues, tz)


class MonitoringView(_NowView):
    """GET /api/v2/application/monitoring."""

    route = routes.MONITORING
    url = route.path
    name = "api:smartmeter:v2:monitoring"
    body = staticmethod(_monitoring)


def _newest[RecordT: Record](
    store: ReadingStore, record_type: type[RecordT], meter: str, field: str
) -> RecordT | None:
    """Return the record with the highest value of a (not nullable) field, None without any."""
    _, records = store.list_records(record_type, meter, ordering=[(field, True)], limit=1)
    return records[0] if records else None


def _status_facts(store: ReadingStore, meter: str) -> StatusFacts:
    """Read what /application/status shows (in an executor)."""
    reading = store.latest_reading(meter)
    electricity = _newest(store, ElectricityConsumption, meter, "read_at")
    most_returned = _newest(store, ElectricityConsumption, meter, "currently_returned")
    gas = store.latest_gas(meter)
    return StatusFacts(
        latest_reading=None if reading is None else reading.timestamp,
        latest_electricity=None if electricity is None else electricity.read_at,
        latest_gas=None if gas is None else gas.read_at,
        processing=store.processing_status(meter),
        electricity_returned=most_returned is not None and most_returned.currently_returned > 0,
        multi_phases=electricity is not None
        and electricity.phase_currently_delivered_l2 is not None
        and electricity.phase_currently_delivered_l3 is not None,
        voltage=electricity is not None and electricity.phase_voltage_l1 is not None,
        power_current=electricity is not None and electricity.phase_power_current_l1 is not None,
    )


class StatusView(_V2View):
    """GET /api/v2/application/status: DSMR-reader 3.12's, for clients that still ask."""

    route = routes.STATUS
    url = route.path
    name = "api:smartmeter:v2:status"
    handlers: ClassVar[Mapping[str, str]] = {"GET": "_status"}

    async def _status(self, request: web.Request, entry: SmartMeterConfigEntry) -> web.Response:
        hass = request.app[KEY_HASS]
        coordinator = entry.runtime_data
        facts = await hass.async_add_executor_job(
            _status_facts, coordinator.store, coordinator.meter_id
        )
        return json_response(status_json(facts, dt_util.utcnow()))


class SchemaView(_V2View):
    """GET /api/v2/schema: the OpenAPI schema, without a key (as DSMR-reader).

    DRF's schema view renders YAML, or JSON when asked for (``Accept`` or ``?format=``).
    """

    route = routes.SCHEMA
    url = route.path
    name = "api:smartmeter:v2:schema"
    handlers: ClassVar[Mapping[str, str]] = {"GET": "_schema"}
    renderers = (Renderer(MEDIA_TYPE, "openapi"), Renderer(JSON_MEDIA_TYPE, "openapi-json"))

    async def _dispatch(self, request: web.Request) -> web.Response:
        try:
            renderer = self._renderer(request)
        except NegotiationError as err:
            return json_response(err.body, err.status)
        if _handled_as(request.method) not in self.handlers:
            return self._not_allowed(request.method)
        text = openapi_json() if renderer.media_type == JSON_MEDIA_TYPE else openapi_yaml()
        return web.Response(body=text.encode(), content_type=renderer.media_type)


# Django's answer to a multipart body it cannot parse: its default 400 page.
_DJANGO_BAD_REQUEST: Final = "<h1>Bad Request (400)</h1>"
# Django's View lists OPTIONS (which it answers itself) with the methods it has.
_V1_ALLOW: Final = "POST, OPTIONS"


class DsmrReadingV1View(HomeAssistantView):
    """POST /api/v1/datalogger/dsmrreading: a raw telegram, as from a remote datalogger.

    Answers in plain text as DSMR-reader's Django view does: other methods get Django's empty
    405 whatever the key (OPTIONS is Home Assistant's CORS preflight).
    """

    route = routes.V1_DSMRREADING
    url = route.path
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


VIEWS: Final = (
    DsmrReadingV1View,
    DsmrReadingView,
    MeterStatisticsView,
    EnergySupplierPriceView,
    ElectricityConsumptionView,
    QuarterHourPeakView,
    ElectricityLiveView,
    GasConsumptionView,
    GasLiveView,
    TodayView,
    DayStatisticsView,
    HourStatisticsView,
    VersionView,
    MonitoringView,
    StatusView,
    SchemaView,
)


def async_register_views(hass: HomeAssistant) -> None:
    """Register the views once per Home Assistant run: views cannot be removed again."""
    for view in VIEWS:
        hass.http.register_view(view())
