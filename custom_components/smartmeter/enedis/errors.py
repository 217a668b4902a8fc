"""What can go wrong asking for a Linky meter's data, as exceptions the caller decides by.

Enedis answers errors as ``{"error": code, "error_description": text}``; the Conso API proxy
wraps them (``{"status", "message", "error": <Enedis body>}``); MyElectricalData says
``{"detail": text}``. classify() maps each to one of the types below.
"""

from __future__ import annotations

from datetime import datetime


class EnedisError(Exception):
    """The data could not be had; status is the HTTP status of the answer, if any."""

    def __init__(self, message: str, status: int | None = None) -> None:
        """Keep the service's own text and the status."""
        super().__init__(message)
        self.status = status


class EnedisConnectionError(EnedisError):
    """No answer, a server error (5xx) or an unreadable answer: try again later."""


class RateLimited(EnedisError):
    """Too many requests (429, or MyElectricalData's daily quota): wait, then try again."""

    def __init__(
        self, message: str, status: int | None = None, next_access: datetime | None = None
    ) -> None:
        """Keep when the service says it answers again, if it does."""
        super().__init__(message, status)
        self.next_access = next_access


class AccessDenied(EnedisError):
    """The token is invalid or expired, or the consent was revoked: the user must act."""


class PrmNotAllowed(AccessDenied):
    """The token does not cover this usage point (PRM)."""


class LoadCurveNotEnabled(EnedisError):
    """The customer did not enable the recording and collection of the hourly load curve."""


class WrongMeasurementType(EnedisError):
    """Consumption asked of a production usage point, or the other way round (ADAM-ERR0069)."""


class HistoryLimit(EnedisError):
    """Before what may be had: the history depth, the consent's start, the meter's activation."""


class RequestRejected(EnedisError):
    """A request the service refuses as malformed (a bug: never retried as it is)."""
