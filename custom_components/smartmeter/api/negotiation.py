"""DRF 3.14's content negotiation: which renderer answers, from ``?format=`` and ``Accept``.

DRF runs it before authentication, so a request no renderer can satisfy is refused whatever its
key: 404 for a ``format`` no renderer has, 406 when ``Accept`` names no type a renderer gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from .parsers import parse_header

MSG_NOT_ACCEPTABLE: Final = "Could not satisfy the request Accept header."
MSG_NOT_FOUND: Final = "Not found."


@dataclass(frozen=True, slots=True)
class Renderer:
    """A DRF renderer: the media type it answers in and its ``format`` name."""

    media_type: str
    format: str


JSON_RENDERER: Final = Renderer("application/json", "json")


class NegotiationError(Exception):
    """No renderer fits: ``status`` (404 or 406) with DRF's ``{"detail": ...}`` body."""

    def __init__(self, status: int, message: str) -> None:
        """Keep the status and the message."""
        super().__init__(message)
        self.status = status
        self.body: dict[str, str] = {"detail": message}


@dataclass(frozen=True, slots=True)
class _MediaType:
    """An ``Accept`` entry: type, subtype and parameters (DRF's ``_MediaType``)."""

    main: str
    sub: str
    params: dict[str, str]

    @classmethod
    def parse(cls, text: str) -> _MediaType:
        full, params = parse_header(text)
        main, _, sub = full.partition("/")
        return cls(main, sub, params)

    @property
    def precedence(self) -> int:
        """How specific the entry is: ``*/*`` 0, ``type/*`` 1, a type 2, with parameters 3."""
        if self.main == "*":
            return 0
        if self.sub == "*":
            return 1
        if not self.params or list(self.params) == ["q"]:
            return 2
        return 3

    def accepts(self, media_type: str) -> bool:
        """Whether a renderer giving ``media_type`` (no parameters) satisfies this entry."""
        main, _, sub = media_type.partition("/")
        return self.sub in ("*", sub) and self.main in ("*", main)


def select_renderer(
    renderers: Sequence[Renderer], accept: str | None, format_param: str | None
) -> Renderer:
    """Return the renderer DRF's ``DefaultContentNegotiation`` picks; raise NegotiationError.

    ``accept`` is the ``Accept`` header (None when absent: anything goes), ``format_param`` the
    last ``format`` query parameter. DRF ranks the entries by how specific they are, not by
    their ``q``; among equally specific ones, the first renderer that fits wins.
    """
    if format_param:
        renderers = [renderer for renderer in renderers if renderer.format == format_param]
        if not renderers:
            raise NegotiationError(404, MSG_NOT_FOUND)
    header = "*/*" if accept is None else accept
    entries = [_MediaType.parse(item.strip()) for item in header.split(",")]
    for precedence in (3, 2, 1, 0):
        ranked = [entry for entry in entries if entry.precedence == precedence]
        for renderer in renderers:
            if any(entry.accepts(renderer.media_type) for entry in ranked):
                return renderer
    raise NegotiationError(406, MSG_NOT_ACCEPTABLE)
