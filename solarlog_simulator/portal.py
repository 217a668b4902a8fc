"""A simulated Solar-Log WEB Enerest portal: the token grant and the User API's calls.

It answers as solarlog/endpoints.py takes the API to answer (the documented calls as the wiki
shows them, the rest as the open-source client uses them): Keycloak-style tokens that
expire, a Basic package that refuses the Advanced calls with 403, 404 for an unknown plant,
series with null points and the logger's late transfers (SimulatedPlant). Tests make it
fail on purpose (fail()) and count its calls (calls).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
import json
import re
import secrets
from typing import Any, Final

from aiohttp import web

from .plant import COMPONENT_UNITS, PLANT_UNITS, SimulatedPlant

TOKEN_PATH: Final = "/auth/realms/quotaapi/protocol/openid-connect/token"
_API_ROOT: Final = re.compile(r"^/api/v1/[^/]+")
BASIC: Final = "basic"
ADVANCED: Final = "advanced"


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class ApiClient:
    """A user's API client: its secret, package and plants."""

    secret: str
    package: str
    plants: set[str]


@dataclass
class _Failure:
    fragment: str
    status: int
    times: int
    headers: dict[str, str] = field(default_factory=dict)


def _number(value: Decimal | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(data), status=status, content_type="application/json", charset="utf-8"
    )


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise web.HTTPBadRequest(text=f"not a date: {value}") from None


class PortalSimulator:
    """A portal with its API clients and plants, on the given clock."""

    def __init__(
        self,
        portal: str = "demo",
        *,
        now: Callable[[], datetime] = _utcnow,
        token_lifetime: timedelta = timedelta(minutes=5),
    ) -> None:
        """Serve portal's API; tokens last token_lifetime by now."""
        self.portal = portal
        self.now = now
        self.token_lifetime = token_lifetime
        self.clients: dict[str, ApiClient] = {}
        self.plants: dict[str, SimulatedPlant] = {}
        self.tokens: dict[str, tuple[str, datetime]] = {}
        # The plants call is "in development" on the real User API: its status here.
        self.plants_status = 200
        # Paths (after /api/v1/<portal>, or the token path) of the calls made, in order.
        self.calls: list[str] = []
        self._failures: list[_Failure] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    def add_plant(self, plant: SimulatedPlant) -> SimulatedPlant:
        """Add a plant to the portal."""
        self.plants[plant.id] = plant
        return plant

    def add_client(
        self, client_id: str, secret: str, *, package: str = ADVANCED, plants: Iterable[str] = ()
    ) -> None:
        """Add an API client with its package and the plants assigned to its user."""
        self.clients[client_id] = ApiClient(secret, package, set(plants))

    def fail(
        self,
        fragment: str,
        status: int,
        times: int = 1,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next calls whose path holds fragment with status, this many times."""
        self._failures.append(_Failure(fragment, status, times, headers or {}))

    def expire_tokens(self) -> None:
        """Forget every token granted, as a server that ends them early does."""
        self.tokens.clear()

    @property
    def token_url(self) -> str:
        """Return the token endpoint's URL."""
        return f"{self.url}{TOKEN_PATH}"

    def application(self) -> web.Application:
        """Return the aiohttp application serving the portal."""

        @web.middleware
        async def log_and_fail(
            request: web.Request,
            handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
        ) -> web.StreamResponse:
            return await self._log_and_fail(request, handler)

        app = web.Application(middlewares=[log_and_fail])
        app.router.add_post(TOKEN_PATH, self._token)
        root = "/api/v1/{portal}"
        plant = root + "/visualization/plant/{plant}"
        for path, handler in (
            (root + "/administration/plants", self._plants),
            (root + "/administration/plant/{plant}", self._plant),
            (root + "/datasource/plant/{plant}/components/{day}", self._components),
            (plant + "/channels", self._channels),
            (plant + "/cross-epoch/channels", self._cross_epoch),
            (plant + "/year/{year}/month/{month}", self._month),
            (plant + "/year/{year}", self._year),
            (plant + "/lifetime", self._lifetime),
            (plant + "/kpis", self._kpis),
        ):
            app.router.add_get(path, handler)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Serve on host and port (0: a free one); return the port."""
        self._runner = web.AppRunner(self.application(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert server is not None
        bound: int = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.url = f"http://{host}:{bound}"
        return bound

    async def close(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _log_and_fail(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        """Note the call (its path after the portal), and answer a planned failure."""
        path = _API_ROOT.sub("", request.path)
        self.calls.append(path)
        for failure in self._failures:
            if failure.fragment in path and failure.times > 0:
                failure.times -= 1
                return web.Response(
                    status=failure.status,
                    text=f"simulated failure {failure.status}",
                    headers=failure.headers,
                )
        return await handler(request)

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        client = self.clients.get(str(form.get("client_id", "")))
        if form.get("grant_type") != "client_credentials":
            return _json({"error": "unsupported_grant_type"}, 400)
        if client is None or not secrets.compare_digest(
            client.secret, str(form.get("client_secret", ""))
        ):
            return _json(
                {
                    "error": "unauthorized_client",
                    "error_description": "Invalid client or Invalid client credentials",
                },
                401,
            )
        token = secrets.token_urlsafe(24)
        self.tokens[token] = (str(form["client_id"]), self.now() + self.token_lifetime)
        return _json(
            {
                "access_token": token,
                "expires_in": int(self.token_lifetime.total_seconds()),
                "token_type": "Bearer",
                "scope": "profile email",
            }
        )

    def _client(self, request: web.Request, *, advanced: bool = False) -> ApiClient:
        """Return the request's API client; raise the API's refusal."""
        header = request.headers.get("Authorization", "")
        granted = self.tokens.get(header.removeprefix("Bearer "))
        if not header.startswith("Bearer ") or granted is None or self.now() >= granted[1]:
            raise web.HTTPUnauthorized(text='{"message": "Unauthorized"}')
        if request.match_info["portal"] != self.portal:
            raise web.HTTPNotFound(text='{"message": "Unknown portal"}')
        client = self.clients[granted[0]]
        if advanced and client.package != ADVANCED:
            raise web.HTTPForbidden(text='{"message": "Not included in your API package"}')
        return client

    def _plant_of(self, request: web.Request, client: ApiClient) -> SimulatedPlant:
        plant_id = request.match_info["plant"]
        plant = self.plants.get(plant_id)
        if plant is None:
            raise web.HTTPNotFound(text='{"message": "Plant not found"}')
        if plant_id not in client.plants:
            raise web.HTTPForbidden(text='{"message": "Plant not assigned to this user"}')
        return plant

    def _begin(self, request: web.Request, *, advanced: bool = False) -> SimulatedPlant:
        """Check the token, the package and the plant; return the plant."""
        return self._plant_of(request, self._client(request, advanced=advanced))

    async def _plants(self, request: web.Request) -> web.Response:
        client = self._client(request)
        if self.plants_status != 200:
            return _json({"message": "Currently in development"}, self.plants_status)
        return _json(
            [
                {
                    **self._plant_json(plant),
                    "configStatus": 0,
                    "fleetCount": 1,
                    "componentsClasses": ["production", "consumption", "sensors", "meter"],
                    "componentsTypes": ["Inverter", "Meter", "Battery", "Sensor"],
                }
                for plant_id, plant in self.plants.items()
                if plant_id in client.plants
            ]
        )

    def _plant_json(self, plant: SimulatedPlant) -> dict[str, Any]:
        transferred = plant.transferred_until(self.now()).astimezone(plant.zone)
        return {
            "id": plant.id,
            "ffufId": 12345,
            "label": plant.label,
            "plantSize": plant.size_w,
            "plantStatus": "active",
            "createdAt": "2022-04-29T18:19:27+00:00",
            "installationDate": f"{plant.installed.isoformat()}T10:00:00+00:00",
            "functionalities": [],
            "firmware": "6.1.0 Build 163",
            "firmwareDate": "12.04.2024",
            "firmwareVersion": "V06.01.00-163-20240412",
            "deviceFullName": "Solar-Log Base 15",
            "vendor": "SDS",
            "identifier": "SL0012345",
            "lastDataTransfer": {
                "lastTransfer": transferred.isoformat(),
                "lastTransferType": plant.transfer_type,
            },
            "plantCost": 20000.0,
            "electricityCost": 0.31,
            "package": "XL",
        }

    async def _plant(self, request: web.Request) -> web.Response:
        plant = self._begin(request)
        return _json(self._plant_json(plant))

    async def _components(self, request: web.Request) -> web.Response:
        plant = self._begin(request)
        day = _day(request.match_info["day"])
        return _json([one.as_json() for one in plant.epoch(day).components])

    def _days(self, request: web.Request) -> list[date]:
        first = _day(request.query.get("dateFrom", ""))
        last = _day(request.query.get("dateTo", ""))
        if last < first or (last - first).days > 366:
            raise web.HTTPBadRequest(text='{"message": "Invalid date range"}')
        return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]

    def _series(
        self,
        plant: SimulatedPlant,
        channel: str,
        device: str | None,
        day: date,
        device_type: str,
    ) -> dict[str, Any] | None:
        until = plant.transferred_until(self.now())
        if day < plant.installed:
            return None
        points = {
            slot.astimezone(plant.zone).isoformat(): _number(plant.value(channel, device, slot))
            for slot in plant.slots(day)
            if slot + timedelta(minutes=5) <= until
        }
        return {
            "id": secrets.token_hex(12),
            "deviceId": device or plant.id,
            "deviceType": device_type,
            "name": channel,
            "dataPoints": points,
            "date": day.isoformat(),
            "unit": COMPONENT_UNITS.get(channel, ""),
        }

    async def _channels(self, request: web.Request) -> web.Response:
        plant = self._begin(request)
        channels = request.query.getall("channelNames[]", [])
        trackers = request.query.getall("mppTrackerIds[]", [])
        found = []
        for day in self._days(request):
            if trackers:
                known = {
                    tracker.id
                    for component in plant.epoch(day).components
                    for tracker in component.trackers
                }
                devices: list[str | None] = [one for one in trackers if one in known]
            else:
                devices = [None]
            for device in devices:
                for channel in channels:
                    if device is None and channel not in plant.channels():
                        continue
                    one = self._series(
                        plant, channel, device, day, "MppTracker" if device else "Plant"
                    )
                    if one is not None:
                        found.append(one)
        return _json(found)

    async def _cross_epoch(self, request: web.Request) -> web.Response:
        plant = self._begin(request, advanced=True)
        channels = request.query.getall("channelNames[]", [])
        wanted = set(request.query.getall("xComponentIds[]", []))
        found = []
        for day in self._days(request):
            for component in plant.epoch(day).components:
                if component.cross_epoch_id not in wanted:
                    continue
                for channel in channels:
                    if channel not in _CHANNELS_OF.get(component.type, ()):
                        continue
                    one = self._series(plant, channel, component.cross_epoch_id, day, "Component")
                    if one is not None:
                        # The series is the component's of that day's epoch.
                        one["deviceId"] = component.id
                        found.append(one)
        return _json(found)

    def _period(
        self, plant: SimulatedPlant, channels: list[str], starts: list[tuple[date, date]]
    ) -> list[dict[str, Any]]:
        """Return one series per channel: each period's energy, at its first local midnight."""
        until = plant.transferred_until(self.now())
        series = []
        for channel in channels:
            if channel not in plant.channels() or PLANT_UNITS.get(channel) != "Wh":
                continue
            points = {}
            for first, end in starts:
                total = Decimal(0)
                seen = False
                day = first
                while day < end:
                    energy = plant.day_energy(channel, day, until)
                    if energy is not None:
                        total += energy
                        seen = True
                    day += timedelta(days=1)
                start = datetime(first.year, first.month, first.day, tzinfo=plant.zone)
                points[start.isoformat()] = _number(total) if seen else None
            series.append(
                {
                    "id": secrets.token_hex(12),
                    "deviceId": plant.id,
                    "deviceType": "Plant",
                    "name": channel,
                    "dataPoints": points,
                    "date": starts[0][0].isoformat() if starts else None,
                    "unit": "Wh",
                }
            )
        return series

    def _today(self, plant: SimulatedPlant) -> date:
        return self.now().astimezone(plant.zone).date()

    async def _month(self, request: web.Request) -> web.Response:
        plant = self._begin(request)
        year, month = int(request.match_info["year"]), int(request.match_info["month"])
        first = date(year, month, 1)
        following = date(year + month // 12, month % 12 + 1, 1)
        last = min(following, self._today(plant) + timedelta(days=1))
        days = [
            (first + timedelta(days=offset), first + timedelta(days=offset + 1))
            for offset in range(max((last - first).days, 0))
        ]
        return _json(self._period(plant, request.query.getall("channelNames[]", []), days))

    async def _year(self, request: web.Request) -> web.Response:
        plant = self._begin(request)
        year = int(request.match_info["year"])
        end = self._today(plant) + timedelta(days=1)
        months = [
            (date(year, month, 1), min(date(year + month // 12, month % 12 + 1, 1), end))
            for month in range(1, 13)
            if date(year, month, 1) < end
        ]
        return _json(self._period(plant, request.query.getall("channelNames[]", []), months))

    async def _lifetime(self, request: web.Request) -> web.Response:
        plant = self._begin(request)
        today = self._today(plant)
        years = [
            (date(year, 1, 1), min(date(year + 1, 1, 1), today + timedelta(days=1)))
            for year in range(plant.installed.year, today.year + 1)
        ]
        return _json(self._period(plant, request.query.getall("channelNames[]", []), years))

    async def _kpis(self, request: web.Request) -> web.Response:
        plant = self._begin(request, advanced=True)
        days = self._days(request)
        until = plant.transferred_until(self.now())
        energy = sum(
            (plant.day_energy("ProdEtotal", day, until) or Decimal(0) for day in days), Decimal(0)
        )
        specific = (energy / plant.size_w).quantize(Decimal("0.01"))
        return _json(
            [
                {"name": "specificYield", "value": _number(specific), "unit": "kWh/kWp"},
                {"name": "performanceRatio", "value": 84.5, "unit": "%"},
            ]
        )


_CHANNELS_OF: Final = {
    "Inverter": ("ProdPac", "ProdPdc", "ProdEtotal"),
    "Meter": ("ConsPac", "ConsEtotal"),
    "Battery": ("BatPcharge", "BatPdischarge", "BatSoc"),
    "Sensor": ("Irradiation", "Insolation", "TempModule"),
}
