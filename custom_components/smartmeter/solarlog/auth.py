"""The API's access token: granted for the client id and secret, kept until it runs out.

The grant itself (where, which form) is in endpoints.py, with the open questions about it.
A client-credentials grant has no refresh token: a new one is asked for shortly before the
old one expires, and when the API refuses it (401) earlier than it said.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
import json
from typing import Final

import aiohttp

from .endpoints import token_form
from .errors import AuthenticationError, CommunicationError, ResponseError

# A token is renewed this long before it expires, so no call carries one that runs out.
RENEW_BEFORE: Final = timedelta(seconds=30)
# Used when the grant does not say how long the token lasts (Keycloak's default).
DEFAULT_LIFETIME: Final = timedelta(minutes=5)
ERROR_TEXT_LIMIT: Final = 200


class TokenCache:
    """Grants access tokens and keeps the current one until shortly before it expires."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        client_id: str,
        client_secret: str,
        *,
        token_url: str,
        now: Callable[[], datetime],
        timeout: aiohttp.ClientTimeout,
    ) -> None:
        """Grant for these credentials at token_url; now is the clock expiry is read on."""
        self._session = session
        self._form = token_form(client_id, client_secret)
        self._token_url = token_url
        self._now = now
        self._timeout = timeout
        self._token: str | None = None
        self._expires: datetime | None = None
        self._lock = asyncio.Lock()
        self.grants = 0

    @property
    def expires(self) -> datetime | None:
        """Return when the current token expires, None without one."""
        return self._expires

    async def token(self) -> str:
        """Return a token that is good for a while yet, granting a new one if needed."""
        async with self._lock:
            if (
                self._token is None
                or self._expires is None
                or self._now() >= self._expires - RENEW_BEFORE
            ):
                self._token, self._expires = await self._grant()
            return self._token

    def discard(self, token: str) -> None:
        """Forget a token the API refused, so that the next call is granted a new one."""
        if token == self._token:
            self._token = self._expires = None

    async def _grant(self) -> tuple[str, datetime]:
        granted_at = self._now()
        try:
            async with self._session.post(
                self._token_url, data=self._form, timeout=self._timeout
            ) as response:
                text = await response.text()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as err:
            raise CommunicationError(f"no token: {str(err) or type(err).__name__}") from err
        if status in (400, 401, 403):
            # Keycloak answers a wrong client id or secret with 401 (or 400) invalid_client.
            raise AuthenticationError(
                f"the client id and secret are refused: {status} {text[:ERROR_TEXT_LIMIT]}",
                status,
            )
        if status != 200:
            raise CommunicationError(f"no token: {status} {text[:ERROR_TEXT_LIMIT]}", status)
        try:
            grant = json.loads(text)
        except ValueError as err:
            raise ResponseError(f"the token answer is not JSON: {text[:ERROR_TEXT_LIMIT]}") from err
        token = grant.get("access_token") if isinstance(grant, dict) else None
        if not isinstance(token, str) or not token:
            raise ResponseError("the token answer has no access_token")
        lifetime = grant.get("expires_in")
        seconds = (
            lifetime
            if isinstance(lifetime, int | float) and not isinstance(lifetime, bool) and lifetime > 0
            else None
        )
        self.grants += 1
        return token, granted_at + (
            DEFAULT_LIFETIME if seconds is None else timedelta(seconds=seconds)
        )
