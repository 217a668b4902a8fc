"""The list envelope of DRF 3.14's ``LimitOffsetPagination``, links included.

``next`` and ``previous`` are the request's absolute URL with ``limit`` and ``offset`` rewritten
by DRF's ``replace_query_param``/``remove_query_param``: the query is parsed with
``parse_qs(keep_blank_values=True)`` (so repeated keys are grouped), and re-encoded with
``urlencode(sorted(...), doseq=True)``: keys come out **sorted**, spaces as ``+``, ``:`` as
``%3A``. ``previous`` drops ``offset`` when it would be <= 0; ``next`` is null at the end.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from .params import QueryInput, query_pairs

LIMIT_PARAM = "limit"
OFFSET_PARAM = "offset"


def replace_query_param(url: str, key: str, val: object) -> str:
    """Set ``key`` to ``val`` in the URL's query (DRF ``replace_query_param``)."""
    scheme, netloc, path, query, fragment = urlsplit(url)
    query_dict = parse_qs(query, keep_blank_values=True)
    query_dict[key] = [str(val)]
    query = urlencode(sorted(query_dict.items()), doseq=True)
    return urlunsplit((scheme, netloc, path, query, fragment))


def remove_query_param(url: str, key: str) -> str:
    """Remove ``key`` from the URL's query (DRF ``remove_query_param``)."""
    scheme, netloc, path, query, fragment = urlsplit(url)
    query_dict = parse_qs(query, keep_blank_values=True)
    query_dict.pop(key, None)
    query = urlencode(sorted(query_dict.items()), doseq=True)
    return urlunsplit((scheme, netloc, path, query, fragment))


def request_url(base_url: str, query: QueryInput | None = None) -> str:
    """Return the request's absolute URL: ``base_url`` with ``query`` as its query string.

    Without ``query``, ``base_url`` is taken as the full URL, query included.
    """
    if query is None:
        return base_url
    raw = query if isinstance(query, str) else urlencode(query_pairs(query))
    scheme, netloc, path, _, fragment = urlsplit(base_url)
    return urlunsplit((scheme, netloc, path, raw, fragment))


def next_link(url: str, *, count: int, limit: int, offset: int) -> str | None:
    """Return the ``next`` URL, or None when this page reaches the end."""
    if offset + limit >= count:
        return None
    url = replace_query_param(url, LIMIT_PARAM, limit)
    return replace_query_param(url, OFFSET_PARAM, offset + limit)


def previous_link(url: str, *, limit: int, offset: int) -> str | None:
    """Return the ``previous`` URL, or None on the first page."""
    if offset <= 0:
        return None
    url = replace_query_param(url, LIMIT_PARAM, limit)
    if offset - limit <= 0:
        return remove_query_param(url, OFFSET_PARAM)
    return replace_query_param(url, OFFSET_PARAM, offset - limit)


def page_envelope(
    count: int,
    results: list[Any],
    *,
    base_url: str,
    query: QueryInput | None = None,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    """Return ``{"count", "next", "previous", "results"}`` exactly as DRF renders a page.

    ``base_url`` is the absolute request URL (scheme, host with any non-default port, path, as
    the client used them). ``query`` is the request's query (the raw query string is the most
    faithful; a mapping or multidict, or a list of pairs, works too); None means ``base_url``
    already carries it. ``limit`` and ``offset`` are the parsed values (``parse_limit``,
    ``parse_offset``), ``count`` the total number of rows and ``results`` this page's rows.
    """
    url = request_url(base_url, query)
    return {
        "count": count,
        "next": next_link(url, count=count, limit=limit, offset=offset),
        "previous": previous_link(url, limit=limit, offset=offset),
        "results": results,
    }
