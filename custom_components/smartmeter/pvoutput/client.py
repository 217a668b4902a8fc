"""A typed async client for the parts of PVOutput's r2 API that the export needs.

PVOutput answers in plain text, not JSON: ``OK 200: Added Status`` on success and
``<Reason> <code>: <message>`` on failure. Every error text the documentation gives is
mapped to an exception below, so that callers decide by type: retry, drop the payload, or
stop and ask the user.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final

import aiohttp

API_URL: Final = "https://pvoutput.org/service/r2/"
# Statuses per addbatchstatus.jsp request: standard accounts, and accounts in donation mode.
BATCH_LIMIT: Final = 30
DONOR_BATCH_LIMIT: Final = 100
# X-Rate-Limit-Limit of an account in donation mode (60 for the others).
DONOR_RATE_LIMIT: Final = 300
# At most this much of an error answer is kept, to describe it.
_ERROR_TEXT_LIMIT: Final = 200
# Fields of getsystem.jsp's first section, up to the status interval (the 16th).
_SYSTEM_FIELDS: Final = 16


class Problem(StrEnum):
    """Why PVOutput refuses every request until the user changes something (a repair)."""

    INVALID_API_KEY = "invalid_api_key"  # 401 Invalid API Key / Missing, invalid or inactive
    API_KEY_DISABLED = "api_key_disabled"  # 401 Disabled API Key: the API is off in settings
    INVALID_SYSTEM_ID = "invalid_system_id"  # 401 Invalid System ID
    READ_ONLY_KEY = "read_only_key"  # 403 Read only key
    DONATION_REQUIRED = "donation_required"  # 403 Donation Mode: a donor-only parameter
    UNEXPECTED_RESPONSE = "unexpected_response"  # another 4xx: a wrong URL, say


class PVOutputError(Exception):
    """PVOutput did not do what was asked; status is the HTTP status of its answer, if any."""

    def __init__(self, message: str, status: int | None = None) -> None:
        """Keep the message (PVOutput's own text when it answered) and the status."""
        super().__init__(message)
        self.status = status


class PVOutputConnectionError(PVOutputError):
    """No answer, a server error (5xx) or an unreadable answer: try again later."""


class PVOutputBlockedError(PVOutputError):
    """PVOutput refuses this key, system or setting: nothing passes until the user acts."""

    problem: Problem = Problem.UNEXPECTED_RESPONSE

    def __init__(self, message: str, status: int | None = None, problem: Problem | None = None):
        """Take the problem from the subclass unless given."""
        super().__init__(message, status)
        if problem is not None:
            self.problem = problem


class InvalidApiKeyError(PVOutputBlockedError):
    """The API key is unknown, disabled, or not the key of this system."""

    problem = Problem.INVALID_API_KEY


class InvalidSystemIdError(PVOutputBlockedError):
    """The system id is missing, or not a system of the key's account."""

    problem = Problem.INVALID_SYSTEM_ID


class ReadOnlyKeyError(PVOutputBlockedError):
    """The key may read but not add statuses."""

    problem = Problem.READ_ONLY_KEY


class DonationModeError(PVOutputBlockedError):
    """A parameter (the processing delay, say) needs an account in donation mode."""

    problem = Problem.DONATION_REQUIRED


class RateLimitedError(PVOutputError):
    """The key used up its requests for this hour; reset is when the next window starts."""

    def __init__(self, message: str, status: int, reset: datetime | None) -> None:
        """Keep when PVOutput accepts requests again, if it said so."""
        super().__init__(message, status)
        self.reset = reset


class DateTooOldError(PVOutputError):
    """A status is older than PVOutput accepts (14 days, 90 in donation mode): drop it."""


class DateInFutureError(PVOutputError):
    """A status is later than PVOutput's clock: clocks disagree, so try again later."""


class StatusRejectedError(PVOutputError):
    """PVOutput refuses these values for good (Moon Powered, too high, ...): drop them."""


@dataclass(frozen=True)
class RateLimit:
    """PVOutput's rate-limit headers of an answer."""

    remaining: int  # requests left in this window, for the key and every tool using it
    limit: int  # requests per hour: 60, or 300 in donation mode
    reset: datetime  # when the next window starts

    @property
    def donor(self) -> bool:
        """Return whether the account is in donation mode, as its limit tells."""
        return self.limit >= DONOR_RATE_LIMIT


@dataclass(frozen=True)
class SystemInfo:
    """What validation learnt about the system and the key."""

    name: str
    status_interval: int  # minutes: the granularity at which PVOutput stores statuses
    donor: bool | None  # from the rate-limit headers; None when PVOutput sent none


@dataclass(frozen=True)
class Status:
    """One status (addstatus.jsp's parameters); None values are left out."""

    local_time: datetime  # naive wall-clock time in the system's time zone: d and t
    energy_generation: int | None = None  # v1, Wh
    power_generation: int | None = None  # v2, W
    energy_consumption: int | None = None  # v3, Wh
    power_consumption: int | None = None  # v4, W (net import, negative on export, with n=1)
    voltage: float | None = None  # v6, V

    @property
    def date_text(self) -> str:
        """Return d: yyyymmdd."""
        return self.local_time.strftime("%Y%m%d")

    @property
    def time_text(self) -> str:
        """Return t: hh:mm."""
        return self.local_time.strftime("%H:%M")

    def values(self) -> list[str]:
        """Return v1 to v6 as text, empty where there is no value (batch field order)."""
        voltage = None if self.voltage is None else f"{self.voltage:.1f}"
        values = (
            self.energy_generation,
            self.power_generation,
            self.energy_consumption,
            self.power_consumption,
            None,  # v5, temperature: not exported
            voltage,
        )
        return ["" if value is None else str(value) for value in values]


def batch_limit(donor: bool) -> int:
    """Return how many statuses one addbatchstatus.jsp request may carry."""
    return DONOR_BATCH_LIMIT if donor else BATCH_LIMIT


class PVOutputClient:
    """Talks to PVOutput for one system with one API key (header authentication)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_key: str,
        system_id: int,
        *,
        base_url: str = API_URL,
        timeout: float = 20.0,
    ) -> None:
        """Use session (never closed here); timeout bounds one request, in seconds."""
        if not api_key or not api_key.isprintable():
            raise ValueError("the API key must be printable and not empty")
        self._session = session
        self._headers = {
            "X-Pvoutput-Apikey": api_key,
            "X-Pvoutput-SystemId": str(system_id),
            # Ask for the rate-limit headers: the budget is shared with other tools.
            "X-Rate-Limit": "1",
        }
        self._base_url = base_url
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self.rate_limit: RateLimit | None = None  # from the latest answer that had them

    async def get_system(self) -> SystemInfo:
        """Return the system's name and status interval (getsystem.jsp).

        Checks the key and the system id, but not whether the key may write.
        """
        text = await self._request("GET", "getsystem.jsp", {})
        fields = text.split(";", 1)[0].split(",")
        interval_text = fields[_SYSTEM_FIELDS - 1] if len(fields) >= _SYSTEM_FIELDS else ""
        if not interval_text.isdigit():
            raise PVOutputConnectionError(
                f"unreadable getsystem answer: {text[:_ERROR_TEXT_LIMIT]}"
            )
        interval = int(interval_text)
        donor = None if self.rate_limit is None else self.rate_limit.donor
        return SystemInfo(name=fields[0], status_interval=interval, donor=donor)

    async def check_write_access(self) -> None:
        """Raise ReadOnlyKeyError if the key may not add statuses; add nothing.

        Posts addstatus.jsp without any parameter: PVOutput checks the key before the
        parameters, so a read-only key gets "Read only key" and a full key a 400 about the
        missing date, which adds nothing.
        """
        try:
            await self._request("POST", "addstatus.jsp", {})
        except StatusRejectedError:
            return

    async def validate(self) -> SystemInfo:
        """Check key, system id and write access, as a config flow needs (two requests)."""
        system = await self.get_system()
        await self.check_write_access()
        return system

    async def add_status(
        self, status: Status, *, net: bool, processing_delay: int | None = None
    ) -> None:
        """Add one status (addstatus.jsp); net sets n=1, processing_delay the delay."""
        params = {"d": status.date_text, "t": status.time_text}
        for number, value in enumerate(status.values(), start=1):
            if value:
                params[f"v{number}"] = value
        if net:
            params["n"] = "1"
        if processing_delay:  # as DSMR-reader: a delay of 0 is never sent
            params["delay"] = str(processing_delay)
        await self._request("POST", "addstatus.jsp", params)

    async def add_batch_status(self, statuses: Sequence[Status], *, net: bool) -> set[Status]:
        """Add up to batch_limit statuses at once; return those PVOutput did not add.

        PVOutput answers with an error only when the whole batch fails; otherwise with
        ``date,time,flag`` per status, flag 0 for those it refused.
        """
        if not statuses:
            raise ValueError("an empty batch")
        lines = []
        for status in statuses:
            fields = [status.date_text, status.time_text, *status.values()]
            while not fields[-1]:  # empty trailing fields may go
                fields.pop()
            lines.append(",".join(fields))
        params = {"data": ";".join(lines)}
        if net:
            params["n"] = "1"
        text = await self._request("POST", "addbatchstatus.jsp", params)
        refused = set()
        for entry in text.split(";"):
            parts = entry.strip().split(",")
            if len(parts) == 3 and parts[2] == "0":
                refused.add((parts[0], parts[1]))
        return {status for status in statuses if (status.date_text, status.time_text) in refused}

    async def _request(self, method: str, service: str, params: Mapping[str, str]) -> str:
        """Send one request; return the answer's text, or raise what its error means."""
        url = self._base_url + service
        try:
            async with self._session.request(
                method,
                url,
                params=params if method == "GET" else None,
                data=params if method == "POST" else None,
                headers=self._headers,
                timeout=self._timeout,
                allow_redirects=False,
            ) as response:
                status = response.status
                self._note_rate_limit(response.headers)
                text = (await response.text(errors="replace")).strip()
                reset = _reset_time(response.headers)
        except TimeoutError as err:
            raise PVOutputConnectionError(f"no answer within {self._timeout.total:g} s") from err
        except aiohttp.ClientError as err:
            raise PVOutputConnectionError(f"{type(err).__name__}: {err}") from err
        if status == 200:
            return text
        raise _error(status, text, reset)

    def _note_rate_limit(self, headers: Mapping[str, str]) -> None:
        reset = _reset_time(headers)
        try:
            remaining = int(headers["X-Rate-Limit-Remaining"])
            limit = int(headers["X-Rate-Limit-Limit"])
        except KeyError, ValueError:
            return
        if reset is not None:
            self.rate_limit = RateLimit(remaining=remaining, limit=limit, reset=reset)


def _reset_time(headers: Mapping[str, str]) -> datetime | None:
    """Return X-Rate-Limit-Reset (Unix seconds) as a time, if present and readable."""
    try:
        return datetime.fromtimestamp(int(headers["X-Rate-Limit-Reset"]), UTC)
    except KeyError, ValueError, OverflowError, OSError:
        return None


def _error(  # noqa: PLR0911 - one return per documented error
    status: int, text: str, reset: datetime | None
) -> PVOutputError:
    """Return the exception for an answer other than 200, given its status and text."""
    message = f"HTTP {status}: {text[:_ERROR_TEXT_LIMIT]}" if text else f"HTTP {status}"
    lowered = text.lower()
    if status >= 500:
        return PVOutputConnectionError(message, status)
    if status == 401:
        if "invalid system id" in lowered:
            return InvalidSystemIdError(message, status)
        if "disabled api key" in lowered:
            return InvalidApiKeyError(message, status, Problem.API_KEY_DISABLED)
        return InvalidApiKeyError(message, status)
    if status == 403 and "read only key" in lowered:
        return ReadOnlyKeyError(message, status)
    if (status == 403 and "requests per hour" in lowered) or status == 429:
        return RateLimitedError(message, status, reset)
    if status == 403 and "donation mode" in lowered:
        return DonationModeError(message, status)
    if status == 400:
        if "date is too far in the past" in lowered or "date is older than" in lowered:
            return DateTooOldError(message, status)
        if "date is in the future" in lowered:
            return DateInFutureError(message, status)
        return StatusRejectedError(message, status)
    return PVOutputBlockedError(message, status)
