"""A local aiohttp server that answers as the three Linky access paths document.

- Conso API: ``GET /api/{type}?prm&start&end``, bearer JWT listing its PRMs in ``sub``;
  answers Enedis' meter_reading unwrapped, errors wrapped in ``{status, message, error}``.
- MyElectricalData: ``GET /{endpoint}/{prm}/start/{start}/end/{end}``, raw token.
- Data-Connect: ``POST /oauth2/v3/token``, ``GET /metering_data_*/v5/*?usage_point_id&start&end``
  with the bearer token it gave; ``GET /dataconnect/v1/oauth2/authorize`` consents at once.

One meter (PRM) with consumption and production: half-hourly average powers (even W, so a
day's Wh are whole) stamped at the interval's end in Paris time, daily Wh their sum, the daily
maximum power the highest half-hour in VA. History: 3 years of daily values, 2 of load curve
(or from a meter's first day), up to yesterday. Limits as Enedis': 7 days of load curve a
request, start before end, end at most today, the history deadline; failures can be queued, and
requests are logged.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
import json
from typing import Any, Final
from zoneinfo import ZoneInfo

from aiohttp import web

PARIS: Final = ZoneInfo("Europe/Paris")
PRM: Final = "12345678901234"
MED_TOKEN: Final = "med-token-of-the-simulated-account"
DATA_CONNECT_CLIENT_ID: Final = "simulated-client-id"
DATA_CONNECT_CLIENT_SECRET: Final = "simulated-client-secret"
_ACCESS_TOKEN: Final = "simulated-access-token"
_NO_CONSENT: Final = "No consent can be found for this customer and this usage point."
_BAD_CREDENTIALS: Final = "Valid authentication credentials are mandatory to access the resource"
_CURVE_LIMIT: Final = (
    "The requested period must be less than 7 days for an access to the load curve"
)
_DEADLINE: Final = "The start date must be greater than the history deadline"
_END_TODAY: Final = "The end date parameter must be earlier than the current date"
_BAD_TOKEN: Final = "Votre token est invalide ou ne permet pas d'accéder à ce PRM"
_DAILY_DEPTH: Final = timedelta(days=3 * 365 + 15)
_CURVE_DEPTH: Final = timedelta(days=2 * 365 + 15)
_CONSO_TYPES: Final = {
    "daily_consumption": ("consumption", "daily"),
    "consumption_load_curve": ("consumption", "load_curve"),
    "consumption_max_power": ("consumption", "max_power"),
    "daily_production": ("production", "daily"),
    "production_load_curve": ("production", "load_curve"),
}
_MED_ENDPOINTS: Final = {
    **_CONSO_TYPES,
    "daily_consumption_max_power": ("consumption", "max_power"),
}
_DATA_CONNECT_PATHS: Final = {
    "metering_data_dc/v5/daily_consumption": ("consumption", "daily"),
    "metering_data_clc/v5/consumption_load_curve": ("consumption", "load_curve"),
    "metering_data_dcmp/v5/daily_consumption_max_power": ("consumption", "max_power"),
    "metering_data_dp/v5/daily_production": ("production", "daily"),
    "metering_data_plc/v5/production_load_curve": ("production", "load_curve"),
}


def conso_token(prms: list[str]) -> str:
    """Return a Conso API style token (a JWT; the signature is not checked by clients)."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part({'sub': prms, 'exp': 4102444800})}.sig"


CONSO_TOKEN: Final = conso_token([PRM])


def consumption_watts(end: datetime) -> int:
    """Return the average W consumed over the half hour ending at end (local time)."""
    return 2 * (150 + 20 * end.hour + 7 * (end.timetuple().tm_yday % 9) + end.minute)


def production_watts(end: datetime) -> int:
    """Return the average W produced over the half hour ending at end: daylight only."""
    return 2 * max(0, 900 - 120 * abs(end.hour - 13) - (end.timetuple().tm_yday % 5) * 10)


_WATTS: Final = {"consumption": consumption_watts, "production": production_watts}


class _Refused(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.body = {"error": error, "error_description": description}


@dataclass
class EnedisSimulator:
    """The simulated service; today() says which day it is in Paris (the tests freeze it)."""

    today: Callable[[], date] = field(default_factory=lambda: lambda: datetime.now(PARIS).date())
    load_curve_enabled: bool = True
    # Answers given before any other (Data-Connect's token too), in order: (status, JSON body),
    # or None for the usual one.
    failures: list[tuple[int, Any] | None] = field(default_factory=list)
    # Days whose data is not there (yet): a late meter.
    missing: set[date] = field(default_factory=set)
    # The first day of a meter put in lately: Enedis has nothing before it.
    first_day: date | None = None
    requests: list[str] = field(default_factory=list)
    consent: bool = True

    def application(self) -> web.Application:
        """Return the aiohttp application."""
        app = web.Application()
        app.router.add_get("/api/{type}", self._conso)
        app.router.add_post("/oauth2/v3/token", self._token)
        app.router.add_get("/dataconnect/v1/oauth2/authorize", self._authorize)
        app.router.add_get("/{group:metering_data_[a-z]+}/v5/{name}", self._data_connect)
        app.router.add_get("/{endpoint}/{prm}/start/{start}/end/{end}", self._med)
        return app

    # Data.

    def points(self, measurement: str, day: date) -> list[tuple[datetime, int]]:
        """Return a day's load curve: (end of each half hour in local time, W)."""
        start = datetime.combine(day, time(), PARIS).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time(), PARIS).astimezone(UTC)
        watts = _WATTS[measurement]
        points = []
        at = start + timedelta(minutes=30)
        while at <= end:
            local = at.astimezone(PARIS)
            points.append((local, watts(local)))
            at += timedelta(minutes=30)
        return points

    def daily_wh(self, measurement: str, day: date) -> int:
        """Return a day's energy: its half hours' W / 2."""
        return sum(watts for _, watts in self.points(measurement, day)) // 2

    def max_power(self, day: date) -> tuple[datetime, int]:
        """Return when the day's highest half hour ended and its VA (W x 1.25)."""
        at, watts = max(self.points("consumption", day), key=lambda point: point[1])
        return at, watts * 5 // 4

    def _readings(self, measurement: str, data: str, start: date, end: date) -> dict[str, Any]:
        today = self.today()
        if not start < end:
            raise _Refused(400, "Invalid_request", "Start date should be before end date")
        if end > today:
            raise _Refused(
                400,
                "Invalid_request",
                _END_TODAY,
            )
        if data == "load_curve":
            if end - start > timedelta(days=7):
                raise _Refused(
                    400,
                    "ADAM-DC-0015",
                    _CURVE_LIMIT,
                )
            if start < today - _CURVE_DEPTH:
                raise _Refused(400, "ADAM-DC-0016", _DEADLINE)
            if not self.load_curve_enabled:
                raise _Refused(404, "STM-ERR-0000014", "no data")
        elif start < today - _DAILY_DEPTH:
            raise _Refused(400, "ADAM-DC-0016", _DEADLINE)
        days = [start + timedelta(days=n) for n in range((end - start).days)]
        days = [
            day
            for day in days
            if day not in self.missing
            and day < today
            and (self.first_day is None or day >= self.first_day)
        ]
        items: list[dict[str, str]] = []
        if data == "load_curve":
            items = [
                {
                    "value": str(watts),
                    "date": at.strftime("%Y-%m-%d %H:%M:%S"),
                    "interval_length": "PT30M",
                    "measure_type": "B",
                }
                for day in days
                for at, watts in self.points(measurement, day)
            ]
            reading_type = {"measurement_kind": "power", "unit": "W", "aggregate": "average"}
        elif data == "max_power":
            for day in days:
                at, va = self.max_power(day)
                items.append({"value": str(va), "date": at.strftime("%Y-%m-%d %H:%M:%S")})
            reading_type = {"measurement_kind": "power", "unit": "VA", "aggregate": "maximum"}
        else:
            items = [
                {"value": str(self.daily_wh(measurement, day)), "date": str(day)} for day in days
            ]
            reading_type = {"measurement_kind": "energy", "unit": "Wh", "aggregate": "sum"}
        if not items:
            raise _Refused(404, "no_data_found", "no measure found for this usage point")
        return {
            "usage_point_id": PRM,
            "start": str(start),
            "end": str(end),
            "quality": "BRUT",
            "reading_type": reading_type,
            "interval_reading": items,
        }

    def _answer(
        self,
        request: web.Request,
        kind: tuple[str, str],
        period: tuple[str, str],
        *,
        wrap: Callable[[int, dict[str, Any]], dict[str, Any]] = lambda status, body: body,
        unwrapped: bool = False,
    ) -> web.Response:
        measurement, data = kind
        start, end = period
        self.requests.append(request.path_qs)
        if (failure := self._failure()) is not None:
            return failure
        if not self.consent:
            return web.json_response(
                wrap(
                    403,
                    {
                        "error": "ADAM-DC-0008",
                        "error_description": _NO_CONSENT,
                    },
                ),
                status=403,
            )
        try:
            reading = self._readings(
                measurement, data, date.fromisoformat(start), date.fromisoformat(end)
            )
        except _Refused as refused:
            return web.json_response(wrap(refused.status, refused.body), status=refused.status)
        except ValueError:
            return web.json_response(
                wrap(
                    400,
                    {"error": "Invalid_request", "error_description": "dates are not yyyy-mm-dd"},
                ),
                status=400,
            )
        return web.json_response(reading if unwrapped else {"meter_reading": reading})

    # Access paths.

    async def _conso(self, request: web.Request) -> web.Response:
        def wrap(status: int, body: dict[str, Any]) -> dict[str, Any]:
            return {"status": status, "message": "The Enedis API returned an error", "error": body}

        kind = _CONSO_TYPES.get(request.match_info["type"])
        query = request.query
        if kind is None or len(query.get("prm", "")) != 14:
            self.requests.append(request.path_qs)
            return web.json_response({"status": 400, "message": "Paramètres invalides"}, status=400)
        tokens = {CONSO_TOKEN}
        if (
            request.headers.get("Authorization", "").removeprefix("Bearer ") not in tokens
            or query["prm"] != PRM
        ):
            self.requests.append(request.path_qs)
            return web.json_response(
                {
                    "status": 401,
                    "message": _BAD_TOKEN,
                },
                status=401,
            )
        period = (query.get("start", ""), query.get("end", ""))
        return self._answer(request, kind, period, wrap=wrap, unwrapped=True)

    async def _med(self, request: web.Request) -> web.Response:
        kind = _MED_ENDPOINTS.get(request.match_info["endpoint"])
        if kind is None:
            raise web.HTTPNotFound
        if request.headers.get("Authorization") != MED_TOKEN or request.match_info["prm"] != PRM:
            self.requests.append(request.path_qs)
            return web.json_response({"detail": "Token invalide ou PDL inconnu"}, status=401)
        info = request.match_info
        return self._answer(request, kind, (info["start"], info["end"]))

    def _failure(self) -> web.Response | None:
        """Return the next failure queued, None for the usual answer."""
        if self.failures and (failure := self.failures.pop(0)) is not None:
            status, body = failure
            return web.json_response(body, status=status)
        return None

    async def _token(self, request: web.Request) -> web.Response:
        if (failure := self._failure()) is not None:
            return failure
        form = await request.post()
        if (form.get("client_id"), form.get("client_secret")) != (
            DATA_CONNECT_CLIENT_ID,
            DATA_CONNECT_CLIENT_SECRET,
        ):
            return web.json_response(
                {"error": "invalid_client", "error_description": "Unauthorized"}, status=401
            )
        return web.json_response(
            {
                "access_token": _ACCESS_TOKEN,
                "token_type": "Bearer",
                "expires_in": "12600",
                "scope": "am_application_scope default",
            }
        )

    async def _authorize(self, request: web.Request) -> web.Response:
        query = request.query
        raise web.HTTPFound(
            f"{query['redirect_uri']}?code=simulated-code&state={query['state']}&usage_point_id={PRM}"
        )

    async def _data_connect(self, request: web.Request) -> web.Response:
        kind = _DATA_CONNECT_PATHS.get(
            f"{request.match_info['group']}/v5/{request.match_info['name']}"
        )
        if kind is None:
            raise web.HTTPNotFound
        query = request.query
        if request.headers.get("Authorization") != f"Bearer {_ACCESS_TOKEN}":
            self.requests.append(request.path_qs)
            return web.json_response(
                {
                    "error": "Unauthorized",
                    "error_description": _BAD_CREDENTIALS,
                },
                status=401,
            )
        if query.get("usage_point_id") != PRM:
            self.requests.append(request.path_qs)
            return web.json_response(
                {
                    "error": "ADAM-DC-0008",
                    "error_description": _NO_CONSENT,
                },
                status=403,
            )
        return self._answer(request, kind, (query.get("start", ""), query.get("end", "")))
