"""What can go wrong asking the Enerest API, by what the caller does about it."""

from __future__ import annotations


class SolarLogError(Exception):
    """The API did not give what was asked; status is the HTTP status of its answer, if any."""

    def __init__(self, message: str, status: int | None = None) -> None:
        """Keep the message (with the API's own text when it answered) and the status."""
        super().__init__(message)
        self.status = status


class AuthenticationError(SolarLogError):
    """The client id and secret are refused, or a fresh token is: the user must act."""


class AccessDeniedError(SolarLogError):
    """403: the call is not in the user's package (Advanced), or the plant is not theirs."""


class NotFoundError(SolarLogError):
    """404: no such plant (or call)."""


class CommunicationError(SolarLogError):
    """No answer, a server error, or an answer that cannot be read: try again later.

    retry_after is how long the API asked to wait (429), in seconds, if it said so.
    """

    def __init__(
        self, message: str, status: int | None = None, retry_after: float | None = None
    ) -> None:
        """Keep how long to wait, if the API said."""
        super().__init__(message, status)
        self.retry_after = retry_after


class ResponseError(CommunicationError):
    """An answer that does not have the documented shape."""
