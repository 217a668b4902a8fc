"""An async client for the Enerest User API: a plant's information, components and values.

Every call carries a cached token (auth.py), renewed once when the API refuses it; the HTTP
status of a refusal becomes an exception of errors.py. What each call's path and parameters
are is in endpoints.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
import json
from typing import Any, Final

import aiohttp

from . import endpoints
from .auth import ERROR_TEXT_LIMIT, TokenCache
from .endpoints import Params
from .errors import (
    AccessDeniedError,
    AuthenticationError,
    CommunicationError,
    NotFoundError,
    ResponseError,
)
from .models import (
    ChannelSeries,
    Component,
    Kpi,
    Plant,
    PlantSummary,
    parse_components,
    parse_kpis,
    parse_plant,
    parse_plant_summaries,
    parse_series,
)

# Per request; the API answers a year of a plant's series in well under this.
REQUEST_TIMEOUT: Final = aiohttp.ClientTimeout(total=30)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class EnerestClient:
    """The calls of one portal's User API, for one user's client id and secret."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        portal: str,
        client_id: str,
        client_secret: str,
        *,
        api_url: str = endpoints.API_URL,
        token_url: str = endpoints.TOKEN_URL,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        """Ask api_url for portal's data; tokens from token_url, their expiry read on now."""
        self._session = session
        self.portal = portal
        self._api_url = api_url.rstrip("/")
        self.tokens = TokenCache(
            session,
            client_id,
            client_secret,
            token_url=token_url,
            now=now,
            timeout=REQUEST_TIMEOUT,
        )
        self.requests = 0

    async def authenticate(self) -> None:
        """Get a token: raise AuthenticationError if the credentials are refused."""
        await self.tokens.token()

    async def plants(self) -> list[PlantSummary]:
        """Return the user's plants."""
        return parse_plant_summaries(await self._get(endpoints.plants_path(self.portal)))

    async def plant(self, plant_id: str) -> Plant:
        """Return a plant's information."""
        return parse_plant(await self._get(endpoints.plant_path(self.portal, plant_id)))

    async def components(self, plant_id: str, day: date) -> list[Component]:
        """Return the components of the plant's epoch on a day."""
        return parse_components(
            await self._get(endpoints.components_path(self.portal, plant_id, day))
        )

    async def plant_channels(
        self, plant_id: str, channels: Iterable[str], date_from: date, date_to: date
    ) -> list[ChannelSeries]:
        """Return plant-level series of days (5-minute values), one per channel and day."""
        return await self._series(
            endpoints.plant_channels_path(self.portal, plant_id),
            [*endpoints.range_params(date_from, date_to), *endpoints.channel_params(channels)],
        )

    async def tracker_channels(
        self,
        plant_id: str,
        tracker_ids: Sequence[str],
        channels: Iterable[str],
        date_from: date,
        date_to: date,
    ) -> list[ChannelSeries]:
        """Return MPP trackers' series of days, asked for by their ids of the epoch."""
        return await self._series(
            endpoints.plant_channels_path(self.portal, plant_id),
            [
                *endpoints.range_params(date_from, date_to),
                *endpoints.channel_params(channels),
                *endpoints.tracker_params(tracker_ids),
            ],
        )

    async def component_channels(
        self,
        plant_id: str,
        cross_epoch_ids: Sequence[str],
        channels: Iterable[str],
        date_from: date,
        date_to: date,
    ) -> list[ChannelSeries]:
        """Return components' series of days by their cross-epoch ids (Advanced)."""
        return await self._series(
            endpoints.cross_epoch_channels_path(self.portal, plant_id),
            [
                *endpoints.range_params(date_from, date_to),
                *endpoints.channel_params(channels),
                *endpoints.component_params(cross_epoch_ids),
            ],
        )

    async def month(
        self, plant_id: str, year: int, month: int, channels: Iterable[str]
    ) -> list[ChannelSeries]:
        """Return a month's daily values."""
        return await self._series(
            endpoints.month_path(self.portal, plant_id, year, month),
            endpoints.channel_params(channels),
        )

    async def year(self, plant_id: str, year: int, channels: Iterable[str]) -> list[ChannelSeries]:
        """Return a year's monthly values."""
        return await self._series(
            endpoints.year_path(self.portal, plant_id, year), endpoints.channel_params(channels)
        )

    async def lifetime(self, plant_id: str, channels: Iterable[str]) -> list[ChannelSeries]:
        """Return the yearly values of the plant's lifetime."""
        return await self._series(
            endpoints.lifetime_path(self.portal, plant_id), endpoints.channel_params(channels)
        )

    async def kpis(self, plant_id: str, date_from: date, date_to: date) -> list[Kpi]:
        """Return the plant's KPIs over days (Advanced)."""
        return parse_kpis(
            await self._get(
                endpoints.kpis_path(self.portal, plant_id),
                endpoints.range_params(date_from, date_to),
            )
        )

    async def _series(self, path: str, params: Params) -> list[ChannelSeries]:
        return parse_series(await self._get(path, params))

    async def _get(self, path: str, params: Params | None = None) -> Any:
        """GET a path of the API as JSON; renew the token once if the API refuses it."""
        token = await self.tokens.token()
        status, text, retry_after = await self._request(path, params, token)
        if status == 401:
            self.tokens.discard(token)
            status, text, retry_after = await self._request(path, params, await self.tokens.token())
        detail = f"{path}: {status} {text[:ERROR_TEXT_LIMIT]}".rstrip()
        if status == 401:
            raise AuthenticationError(f"a new token is refused too: {detail}", status)
        if status == 403:
            raise AccessDeniedError(f"refused: {detail}", status)
        if status == 404:
            raise NotFoundError(f"not found: {detail}", status)
        if status != 200:
            raise CommunicationError(f"failed: {detail}", status, retry_after)
        try:
            return json.loads(text, parse_float=Decimal)
        except ValueError as err:
            raise ResponseError(f"not JSON: {detail}", status) from err

    async def _request(
        self, path: str, params: Params | None, token: str
    ) -> tuple[int, str, float | None]:
        self.requests += 1
        try:
            async with self._session.get(
                f"{self._api_url}{path}",
                params=params,
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                timeout=REQUEST_TIMEOUT,
            ) as response:
                return response.status, await response.text(), _retry_after(response)
        except (aiohttp.ClientError, TimeoutError) as err:
            raise CommunicationError(f"{path}: {str(err) or type(err).__name__}") from err


def _retry_after(response: aiohttp.ClientResponse) -> float | None:
    """Return the seconds a 429 or 503 asks to wait (Retry-After in seconds), if it says."""
    value = response.headers.get("Retry-After")
    if value is None or response.status not in (429, 503):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
