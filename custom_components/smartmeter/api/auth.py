"""API key handling, as DSMR-reader's ``HeaderAuthentication`` (v2) and v1 view do it.

A request is accepted when the ``X-AUTHKEY`` header equals the key, or the ``Authorization``
header equals ``"Token " + key`` exactly (case-sensitive ``Token``, one space). One valid header
is enough when both are sent. ``Bearer <key>`` and ``token <key>`` are rejected.
"""

from __future__ import annotations

from collections.abc import Mapping
import hmac
import secrets
import string
from typing import Final

AUTH_KEY_LENGTH: Final = 64
AUTH_KEY_ALPHABET: Final = string.ascii_uppercase + string.digits
HEADER_AUTHKEY: Final = "X-AUTHKEY"
HEADER_AUTHORIZATION: Final = "Authorization"
TOKEN_PREFIX: Final = "Token "


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Return a header's value, looking the name up case-insensitively as HTTP does."""
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    for key, found in headers.items():
        if key.lower() == wanted:
            return found
    return None


def _same(given: str, expected: str) -> bool:
    """Compare two strings in constant time (as bytes; any str encodes)."""
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def check_auth_key(headers: Mapping[str, str], key: str) -> bool:
    """Return whether the request headers carry the API key.

    ``headers`` may be any mapping (an aiohttp ``CIMultiDictProxy`` or a plain dict); names are
    matched case-insensitively. An empty configured key never matches (DSMR-reader would accept
    an empty ``X-AUTHKEY`` then; a generated key is never empty).
    """
    if not key:
        return False
    authkey = _header(headers, HEADER_AUTHKEY)
    authorization = _header(headers, HEADER_AUTHORIZATION)
    # Both comparisons always run, so the timing does not depend on which header matched.
    by_authkey = authkey is not None and _same(authkey, key)
    by_token = authorization is not None and _same(authorization, TOKEN_PREFIX + key)
    return by_authkey or by_token


def generate_auth_key() -> str:
    """Return a new random key: 64 characters from ``A-Z0-9``, like DSMR-reader's migration."""
    return "".join(secrets.choice(AUTH_KEY_ALPHABET) for _ in range(AUTH_KEY_LENGTH))
