"""Paginated lists: DRF's and django-filter's query parameters, and the page they answer."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any, ClassVar

from aiohttp import web
from homeassistant.helpers.http import KEY_HASS

from ..api import routes
from ..api.pagination import page_envelope
from ..api.params import (
    MAX_LIMIT,
    MAX_OFFSET,
    ParamError,
    parse_filters,
    parse_limit,
    parse_offset,
    parse_ordering,
    query_value,
)
from ..models import SmartMeterConfigEntry
from ..store import FilterOperator, ReadingStore
from .base import V2View, json_response, local_tz, render_json


@dataclass(frozen=True, slots=True)
class PageQuery:
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


def page_query(request: web.Request, route: routes.Route, tz: tzinfo) -> PageQuery:
    """Parse a list request's query as DRF and django-filter do; raise ParamError if bad."""
    query = request.query
    # A naive time a DST change skips or repeats is refused, as Django (with pytz) does.
    parsed = parse_filters(query, route.filter_kinds, tz, strict_dst=True)
    # Django reads a repeated parameter's last value
    terms = parse_ordering(query_value(query, "ordering"), route.ordering, route.ordering[0])
    return PageQuery(
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


def page_body(count: int, results: list[dict[str, Any]], page: PageQuery) -> bytes:
    """Render a page of results as DRF's LimitOffsetPagination does."""
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


class ListView(V2View):
    """A GET of a paginated list, with its route's filters and ordering, read in an executor."""

    handlers: ClassVar[Mapping[str, str]] = {"GET": "_list"}

    @abstractmethod
    def _page(self, store: ReadingStore, meter: str, page: PageQuery, tz: tzinfo) -> bytes:
        """Read and render a page of the list (in an executor)."""

    async def _list(self, request: web.Request, entry: SmartMeterConfigEntry) -> web.Response:
        hass = request.app[KEY_HASS]
        tz = local_tz(hass)
        try:
            page = page_query(request, self.route, tz)
        except ParamError as err:
            return json_response(err.body, 400)
        meter = entry.runtime_data
        body = await hass.async_add_executor_job(self._page, meter.store, meter.meter_id, page, tz)
        return json_response(body)
