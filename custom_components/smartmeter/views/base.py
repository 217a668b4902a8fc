"""What every view of the API shares: the key check, DRF's negotiation and 405, JSON answers.

The views use their own key, not Home Assistant's tokens: DSMR-reader clients send
``X-AUTHKEY`` or ``Authorization: Token``. A refused key is answered, never raised,
so a misconfigured datalogger cannot trigger Home Assistant's login-failure ban.
The key also tells which meter (config entry) a request is for.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, tzinfo
import json
from typing import Any, ClassVar, Final

from aiohttp import web
from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView
from homeassistant.util import dt as dt_util
from multidict import MultiDict

from ..api import routes
from ..api.auth import check_auth_key
from ..api.locale import request_language
from ..api.negotiation import JSON_RENDERER, NegotiationError, Renderer, select_renderer
from ..api.params import Language, query_value
from ..api.parsers import BodyError, parse_data
from ..const import CONF_API_ENABLED, CONF_API_KEY
from ..models import SmartMeterConfigEntry, loaded_meters
from ..store import ReadingStore

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


def authorize(hass: HomeAssistant, headers: Mapping[str, str]) -> SmartMeterConfigEntry | bool:
    """Return the entry the key opens; False if the API is disabled, True if the key is wrong."""
    entries = loaded_meters(hass)
    enabled = [entry for entry in entries if entry.options.get(CONF_API_ENABLED)]
    for entry in enabled:
        if check_auth_key(headers, entry.options.get(CONF_API_KEY, "")):
            return entry
    return bool(enabled)


def handled_as(method: str) -> str:
    """Return the method whose handler answers: GET's for HEAD, as Django does."""
    return "GET" if method == "HEAD" else method


class ApiView(HomeAssistantView):
    """A view of the API: its route (api/routes.py) gives its path; its key is its own."""

    requires_auth = False
    route: routes.Route
    url: str
    name: str


class V2View(ApiView):
    """A DRF-style view: authentication first, then the method, as DSMR-reader does.

    ``handlers`` maps its methods to handlers.
    """

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
        entry = authorize(hass, request.headers)
        if entry is False:
            return json_response({"detail": "API is disabled"}, 403)
        if entry is True:
            return json_response({"detail": "Invalid auth key"}, 403)
        handler_name = self.handlers.get(handled_as(request.method))
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


async def request_data(request: web.Request) -> Any:
    """Return the body as DRF's parsers read it; a Response for a body they refuse."""
    body = await request.read() if request.body_exists else b""
    try:
        return parse_data(body, request.headers.get("Content-Type", ""))
    except BodyError as err:
        return json_response(err.body, err.status)


def is_form(data: Any) -> bool:
    """Whether DRF read the body as a form (where "" means null), not as JSON."""
    return isinstance(data, MultiDict)


def local_tz(hass: HomeAssistant) -> tzinfo:
    """Return Home Assistant's time zone."""
    return dt_util.get_default_time_zone()


class NowView(V2View):
    """A GET whose body depends on the store, the time, the time zone and the language."""

    handlers: ClassVar[Mapping[str, str]] = {"GET": "_get"}
    body: Callable[[ReadingStore, str, datetime, tzinfo, Language], Any]

    async def _get(self, request: web.Request, entry: SmartMeterConfigEntry) -> web.Response:
        hass = request.app[KEY_HASS]
        meter = entry.runtime_data
        body = await hass.async_add_executor_job(
            self.body,
            meter.store,
            meter.meter_id,
            dt_util.utcnow(),
            local_tz(hass),
            request_language(request.headers.get("Accept-Language")),
        )
        return json_response(body)
