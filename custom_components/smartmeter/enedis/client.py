"""An async client for a Linky meter's data through one of three access paths.

- Conso API (a proxy of Enedis' API for individuals): ``GET {base}/api/{type}?prm&start&end``
  with ``Authorization: Bearer <token>``; the token, a JWT, lists the PRMs it covers in ``sub``.
- MyElectricalData (the classic gateway): ``GET {base}/{endpoint}/{prm}/start/{start}/end/{end}``
  with ``Authorization: <token>``.
- Enedis Data-Connect (Metering Data v5): ``GET {base}/metering_data_*/v5/...?usage_point_id&
  start&end`` with a bearer access token that the caller keeps valid (OAuth2).

All take ``start`` inclusive and ``end`` exclusive, both local (Paris) dates, end at most today.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import base64
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, date, datetime
from enum import StrEnum
import json
from typing import Any, Final

import aiohttp

from .errors import (
    AccessDenied,
    EnedisConnectionError,
    EnedisError,
    HistoryLimit,
    LoadCurveNotEnabled,
    PrmNotAllowed,
    RateLimited,
    RequestRejected,
    WrongMeasurementType,
)
from .readings import DailyValue, LoadCurvePoint, parse_daily, parse_load_curve

CONSO_API_URL: Final = "https://conso.boris.sh"
MYELECTRICALDATA_URL: Final = "https://www.myelectricaldata.fr"
DATA_CONNECT_URL: Final = "https://gw.ext.prod.api.enedis.fr"
USER_AGENT: Final = "smartmeter-home-assistant (+https://github.com/smartmeter/smartmeter)"
# Days per request: the load curve's limit, and the daily endpoints'.
LOAD_CURVE_DAYS: Final = 7
DAILY_DAYS: Final = 365
_TIMEOUT: Final = aiohttp.ClientTimeout(total=60)
_HISTORY_CODES: Final = {"ADAM-DC-0016", "ADAM-ERR0125", "ADAM-ERR0123", "ADAM-DC-0009"}
_DENIED_CODES: Final = {"ADAM-DC-0007", "ADAM-DC-0008", "unauthorized_user", "STM-ERR-0000019"}
_EMPTY_CODES: Final = {"no_data_found", "STM-ERR-0000020"}
# Load curve not recorded or collected; for daily values, merely no data.
_NOT_COLLECTED: Final = "STM-ERR-0000014"
_BY_CODE: Final[dict[str, type[EnedisError]]] = {
    **dict.fromkeys(_HISTORY_CODES, HistoryLimit),
    **dict.fromkeys(_DENIED_CODES, AccessDenied),
    "ADAM-ERR0069": WrongMeasurementType,
    _NOT_COLLECTED: LoadCurveNotEnabled,
}


class Measurement(StrEnum):
    """What the meter measures: consumption, production."""

    CONSUMPTION = "consumption"
    PRODUCTION = "production"


class Data(StrEnum):
    """The data series Enedis offers."""

    DAILY = "daily"
    LOAD_CURVE = "load_curve"
    MAX_POWER = "max_power"


# Conso API's types, which are also MyElectricalData's endpoints, but for the maximum power.
_CONSO_TYPES: Final = {
    (Measurement.CONSUMPTION, Data.DAILY): "daily_consumption",
    (Measurement.CONSUMPTION, Data.LOAD_CURVE): "consumption_load_curve",
    (Measurement.CONSUMPTION, Data.MAX_POWER): "consumption_max_power",
    (Measurement.PRODUCTION, Data.DAILY): "daily_production",
    (Measurement.PRODUCTION, Data.LOAD_CURVE): "production_load_curve",
}
_MED_ENDPOINTS: Final = {
    **_CONSO_TYPES,
    (Measurement.CONSUMPTION, Data.MAX_POWER): "daily_consumption_max_power",
}
_DATA_CONNECT_PATHS: Final = {
    (Measurement.CONSUMPTION, Data.DAILY): "metering_data_dc/v5/daily_consumption",
    (Measurement.CONSUMPTION, Data.LOAD_CURVE): "metering_data_clc/v5/consumption_load_curve",
    (Measurement.CONSUMPTION, Data.MAX_POWER): "metering_data_dcmp/v5/daily_consumption_max_power",
    (Measurement.PRODUCTION, Data.DAILY): "metering_data_dp/v5/daily_production",
    (Measurement.PRODUCTION, Data.LOAD_CURVE): "metering_data_plc/v5/production_load_curve",
}


def offers(measurement: Measurement, data: Data) -> bool:
    """Return whether Enedis has this data of this measurement (no production maximum power)."""
    return (measurement, data) in _CONSO_TYPES


def _next_access(body: Mapping[str, Any]) -> datetime | None:
    text = body.get("nextAccessTime")
    if not isinstance(text, str):
        return None
    try:
        return datetime.strptime(text.removesuffix(" UTC"), "%Y-%b-%d %H:%M:%S%z").astimezone(UTC)
    except ValueError:
        return None


def classify(status: int, body: Any, data: Data) -> EnedisError | None:
    """Return the error an answer means; None for an empty result (no data for the period)."""
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        body = body["error"]  # The Conso API's wrapping of an Enedis error.
    fields = body if isinstance(body, Mapping) else {}
    code = str(fields.get("error") or fields.get("code") or "")
    text = str(
        fields.get("error_description")
        or fields.get("description")
        or fields.get("message")
        or fields.get("detail")
        or body
    )[:200]
    if status == 429 or "fault" in fields or "quota" in text.lower():
        return RateLimited(text, status, _next_access(fields))
    if status >= 500:
        return EnedisConnectionError(text, status)
    if code in _EMPTY_CODES or (code == _NOT_COLLECTED and data is not Data.LOAD_CURVE):
        return None
    error = _BY_CODE.get(code) or (AccessDenied if status in (401, 403) else RequestRejected)
    return error(text, status)


class LinkyClient(ABC):
    """A Linky meter's data through one access path."""

    def __init__(self, session: aiohttp.ClientSession, prm: str, base_url: str) -> None:
        """Use HA's session; prm is the usage point id (14 digits)."""
        self._session = session
        self.prm = prm
        self._base = base_url.rstrip("/")
        # Requests made, for diagnostics and the benchmark.
        self.requests = 0

    @abstractmethod
    async def _url_and_headers(
        self, measurement: Measurement, data: Data, start: date, end: date
    ) -> tuple[str, dict[str, str]]:
        """Return the request's URL and headers."""

    async def daily(self, measurement: Measurement, start: date, end: date) -> list[DailyValue]:
        """Return the daily energy (Wh) of [start, end[."""
        return parse_daily(await self._get(measurement, Data.DAILY, start, end))

    async def max_power(self, start: date, end: date) -> list[DailyValue]:
        """Return the daily maximum power (VA) of consumption over [start, end[."""
        return parse_daily(await self._get(Measurement.CONSUMPTION, Data.MAX_POWER, start, end))

    async def load_curve(
        self, measurement: Measurement, start: date, end: date
    ) -> list[LoadCurvePoint]:
        """Return the load curve of [start, end[ (at most LOAD_CURVE_DAYS days)."""
        return parse_load_curve(await self._get(measurement, Data.LOAD_CURVE, start, end))

    async def _get(
        self, measurement: Measurement, data: Data, start: date, end: date
    ) -> Mapping[str, Any]:
        if not start < end:
            raise ValueError(f"empty period {start} to {end}")
        url, headers = await self._url_and_headers(measurement, data, start, end)
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT, **headers}
        self.requests += 1
        try:
            async with self._session.get(url, headers=headers, timeout=_TIMEOUT) as response:
                text = await response.text()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as err:
            raise EnedisConnectionError(f"no answer: {err!r}") from err
        try:
            body: Any = json.loads(text) if text else {}
        except ValueError:
            body = text
        if status == 200 and isinstance(body, Mapping):
            return body
        error = classify(status, body, data)
        if error is None:
            return {"interval_reading": []}
        if status == 200:
            raise EnedisConnectionError(f"unreadable answer: {text[:200]}", status)
        raise error


def token_prms(token: str) -> list[str] | None:
    """Return the PRMs a Conso API token covers (its JWT's ``sub``), None if unreadable."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        sub = claims["sub"]
    except IndexError, ValueError, KeyError, TypeError:
        return None
    if isinstance(sub, str):
        return [sub]
    if isinstance(sub, list) and all(isinstance(prm, str) for prm in sub):
        return sub
    return None


class _TokenClient(LinkyClient):
    """Through a gateway, with the token the user got there."""

    def __init__(self, session: aiohttp.ClientSession, prm: str, token: str, base_url: str) -> None:
        """Keep the token; base_url is the gateway's."""
        super().__init__(session, prm, base_url)
        self._token = token


class ConsoApiClient(_TokenClient):
    """Through the Conso API proxy: its token lists the PRMs it may read."""

    def check_token(self) -> None:
        """Raise AccessDenied for an unreadable token, PrmNotAllowed if it lacks the PRM."""
        prms = token_prms(self._token)
        if prms is None:
            raise AccessDenied("the token is not a Conso API token")
        if self.prm not in prms:
            raise PrmNotAllowed(f"the token covers {', '.join(prms)}, not {self.prm}")

    async def _url_and_headers(
        self, measurement: Measurement, data: Data, start: date, end: date
    ) -> tuple[str, dict[str, str]]:
        kind = _CONSO_TYPES[measurement, data]
        return (
            f"{self._base}/api/{kind}?prm={self.prm}&start={start}&end={end}",
            {"Authorization": f"Bearer {self._token}"},
        )


class MyElectricalDataClient(_TokenClient):
    """Through MyElectricalData's gateway, with the token of the user's account there."""

    async def _url_and_headers(
        self, measurement: Measurement, data: Data, start: date, end: date
    ) -> tuple[str, dict[str, str]]:
        endpoint = _MED_ENDPOINTS[measurement, data]
        # The token as it is (no Bearer), as the gateway wants.
        return (
            f"{self._base}/{endpoint}/{self.prm}/start/{start}/end/{end}",
            {"Authorization": self._token},
        )


class DataConnectClient(LinkyClient):
    """Straight to Enedis' Data-Connect; access_token gives a valid token (OAuth2)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        prm: str,
        access_token: Callable[[], Awaitable[str]],
        base_url: str,
    ) -> None:
        """Ask access_token for the token before each request: it refreshes one that expired."""
        super().__init__(session, prm, base_url)
        self._access_token = access_token

    async def _url_and_headers(
        self, measurement: Measurement, data: Data, start: date, end: date
    ) -> tuple[str, dict[str, str]]:
        path = _DATA_CONNECT_PATHS[measurement, data]
        return (
            f"{self._base}/{path}?usage_point_id={self.prm}&start={start}&end={end}",
            {"Authorization": f"Bearer {await self._access_token()}"},
        )
