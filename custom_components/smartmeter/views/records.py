"""The lists of processing records, one view class for all, and the import of day statistics."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, tzinfo
from functools import partial
from typing import Any, ClassVar, Final, cast

from aiohttp import web
from homeassistant.helpers.http import KEY_HASS

from ..api import routes
from ..api.serializers import record_json
from ..api.validation import MSG_DAY_EXISTS, ValidationFailed, validate_day_statistics
from ..models import SmartMeterConfigEntry
from ..store import DuplicateDay, ReadingStore, Record, StoredDayStatistics
from .base import is_form, json_response, local_tz, request_data
from .pages import ListView, PageQuery, page_body


class RecordListView(ListView):
    """GET of a list of processing records: one view for each row of RECORD_LISTS."""

    def __init__(self, route: routes.Route, name: str) -> None:
        """Serve the records of a route."""
        self.route = route
        self.url = route.path
        self.name = f"api:smartmeter:v2:{name}"
        # Each route of records names the record the store lists (api/routes.py).
        self.record_type = cast(type[Record], route.record)

    def _page(self, store: ReadingStore, meter: str, page: PageQuery, tz: tzinfo) -> bytes:
        """Read and render a page of processing records (in an executor)."""
        count, records = store.list_records(
            self.record_type,
            meter,
            filters=page.filters,
            ordering=page.ordering,
            limit=page.limit,
            offset=page.store_offset,
        )
        return page_body(count, [record_json(record, tz) for record in records], page)


# The lists of records that are only read: their route (path, record, filters and ordering)
# and the name of their view.
RECORD_LISTS: Final = (
    (routes.ENERGY_SUPPLIER_PRICES, "energy-supplier-prices"),
    (routes.ELECTRICITY, "electricity"),
    (routes.QUARTER_HOUR_PEAKS, "quarter-hour-peak-electricity"),
    (routes.GAS, "gas"),
    (routes.HOUR_STATISTICS, "hour-statistics"),
)


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


class DayStatisticsView(RecordListView):
    """GET and POST /api/v2/statistics/day."""

    handlers: ClassVar[Mapping[str, str]] = {"GET": "_list", "POST": "_create"}

    def __init__(self) -> None:
        """Serve the day statistics."""
        super().__init__(routes.DAY_STATISTICS, "day-statistics")

    async def _create(self, request: web.Request, entry: SmartMeterConfigEntry) -> web.Response:
        hass = request.app[KEY_HASS]
        data = await request_data(request)
        if isinstance(data, web.Response):
            return data
        meter = entry.runtime_data
        try:
            body = await hass.async_add_executor_job(
                partial(
                    _add_day,
                    meter.store,
                    meter.meter_id,
                    data,
                    local_tz(hass),
                    form=is_form(data),
                )
            )
        except ValidationFailed as err:
            return json_response(err.body, 400)
        return json_response(body, 201)
