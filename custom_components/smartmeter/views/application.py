"""The application's views: version, monitoring, status and the OpenAPI schema."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any, ClassVar

from aiohttp import web
from homeassistant.helpers.http import KEY_HASS
from homeassistant.util import dt as dt_util

from ..api import routes
from ..api.application import StatusFacts, monitoring_issues, monitoring_json, status_json
from ..api.negotiation import NegotiationError, Renderer
from ..api.openapi import JSON_MEDIA_TYPE, MEDIA_TYPE, openapi_json, openapi_yaml
from ..api.params import Language
from ..api.serializers import version_json
from ..models import SmartMeterConfigEntry
from ..store import ElectricityConsumption, ReadingStore, Record
from .base import NowView, V2View, handled_as, json_response


class VersionView(V2View):
    """GET /api/v2/application/version."""

    route = routes.VERSION
    url = route.path
    name = "api:smartmeter:v2:version"
    handlers: ClassVar[Mapping[str, str]] = {"GET": "_version"}

    async def _version(self, request: web.Request, entry: SmartMeterConfigEntry) -> web.Response:
        return json_response(version_json())


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


class MonitoringView(NowView):
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


class StatusView(V2View):
    """GET /api/v2/application/status: DSMR-reader 3.12's, for clients that still ask."""

    route = routes.STATUS
    url = route.path
    name = "api:smartmeter:v2:status"
    handlers: ClassVar[Mapping[str, str]] = {"GET": "_status"}

    async def _status(self, request: web.Request, entry: SmartMeterConfigEntry) -> web.Response:
        hass = request.app[KEY_HASS]
        meter = entry.runtime_data
        facts = await hass.async_add_executor_job(_status_facts, meter.store, meter.meter_id)
        return json_response(status_json(facts, dt_util.utcnow()))


class SchemaView(V2View):
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
        if handled_as(request.method) not in self.handlers:
            return self._not_allowed(request.method)
        text = openapi_json() if renderer.media_type == JSON_MEDIA_TYPE else openapi_yaml()
        return web.Response(body=text.encode(), content_type=renderer.media_type)
