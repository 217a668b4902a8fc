"""Query parameters of the v2 list views, parsed as DRF 3.14 and django-filter 21.1 do.

- ``limit``: DRF ``LimitOffsetPagination.get_limit``: a strictly positive ``int()``, else 25.
- ``offset``: ``get_offset``: a non-negative ``int()``, else 0.
- ``ordering``: ``OrderingFilter``: a comma list, unknown terms dropped, the default if none left.
- Filters: Django 3.2 form fields. ``DateTimeFilter`` (``forms.DateTimeField``) accepts
  ``parse_datetime``'s ISO 8601 forms first, then the active locale's input formats;
  ``IsoDateTimeFilter`` (the deprecated exact ``timestamp``/``read_at``/``hour_start``
  parameters) accepts only the ISO 8601 forms; ``DateFilter`` accepts the locale's date formats.

A query parameter given more than once counts with its last value (Django ``QueryDict``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from enum import StrEnum
import re
from typing import Final, Literal
from urllib.parse import parse_qsl

DEFAULT_LIMIT: Final = 25
# The largest page the views serve: DSMR-reader has no cap, but a page is built in memory.
MAX_LIMIT: Final = 10_000
# The largest offset the databases take (a signed 64-bit integer); any larger is past every row.
MAX_OFFSET: Final = 2**63 - 1

MSG_INVALID_DATETIME: Final = "Enter a valid date/time."
MSG_INVALID_DATE: Final = "Enter a valid date."
# Django's from_current_timezone() message (only with strict_dst=True).
MSG_AMBIGUOUS: Final = (
    "{datetime} couldn\u2019t be interpreted in time zone {timezone}; "
    "it may be ambiguous or it may not exist."
)

type Language = Literal["en", "nl"]
"""The languages DSMR-reader's ``LocaleMiddleware`` can activate (``LANGUAGES``); en is default."""

type QueryInput = str | Mapping[str, str] | Iterable[tuple[str, str]]
"""A query: the raw query string, a mapping (a multidict keeps duplicates), or key/value pairs."""

# django/conf/locale/<lang>/formats.py, with django.utils.formats.ISO_INPUT_FORMATS appended the
# way get_format() does it (USE_L10N = True in DSMR-reader).
DATE_INPUT_FORMATS: Final[Mapping[Language, tuple[str, ...]]] = {
    "en": ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y"),
    "nl": ("%d-%m-%Y", "%d-%m-%y", "%d/%m/%Y", "%d/%m/%y", "%Y/%m/%d", "%Y-%m-%d"),
}
DATETIME_INPUT_FORMATS: Final[Mapping[Language, tuple[str, ...]]] = {
    "en": (
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M:%S.%f",
        "%Y-%m-%d %H:%M",
        "%m/%d/%Y %H:%M:%S",
        "%m/%d/%Y %H:%M:%S.%f",
        "%m/%d/%Y %H:%M",
        "%m/%d/%y %H:%M:%S",
        "%m/%d/%y %H:%M:%S.%f",
        "%m/%d/%y %H:%M",
        "%Y-%m-%d",
    ),
    "nl": (
        "%d-%m-%Y %H:%M:%S",
        "%d-%m-%y %H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%d/%m/%Y %H:%M:%S",
        "%d/%m/%y %H:%M:%S",
        "%Y/%m/%d %H:%M:%S",
        "%d-%m-%Y %H:%M:%S.%f",
        "%d-%m-%y %H:%M:%S.%f",
        "%Y-%m-%d %H:%M:%S.%f",
        "%d/%m/%Y %H:%M:%S.%f",
        "%d/%m/%y %H:%M:%S.%f",
        "%Y/%m/%d %H:%M:%S.%f",
        "%d-%m-%Y %H.%M:%S",
        "%d-%m-%y %H.%M:%S",
        "%d/%m/%Y %H.%M:%S",
        "%d/%m/%y %H.%M:%S",
        "%d-%m-%Y %H.%M:%S.%f",
        "%d-%m-%y %H.%M:%S.%f",
        "%d/%m/%Y %H.%M:%S.%f",
        "%d/%m/%y %H.%M:%S.%f",
        "%d-%m-%Y %H:%M",
        "%d-%m-%y %H:%M",
        "%Y-%m-%d %H:%M",
        "%d/%m/%Y %H:%M",
        "%d/%m/%y %H:%M",
        "%Y/%m/%d %H:%M",
        "%d-%m-%Y %H.%M",
        "%d-%m-%y %H.%M",
        "%d/%m/%Y %H.%M",
        "%d/%m/%y %H.%M",
        "%Y-%m-%d",
    ),
}

# django.utils.dateparse.datetime_re (Django 3.2), unchanged: Unicode digits, 1-digit fields,
# "," as decimal mark, extra fraction digits ignored, "+HH", "+HHMM", "+HH:MM" or "Z".
_DATETIME_RE: Final = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})"
    r"[T ](?P<hour>\d{1,2}):(?P<minute>\d{1,2})"
    r"(?::(?P<second>\d{1,2})(?:[\.,](?P<microsecond>\d{1,6})\d{0,6})?)?"
    r"(?P<tzinfo>Z|[+-]\d{2}(?::?\d{2})?)?$"
)


class ParamError(ValueError):
    """An invalid query parameter; ``body`` is the DRF 400 body, ``{field: [messages]}``."""

    def __init__(self, field: str, messages: Sequence[str]) -> None:
        """Record the messages for one parameter."""
        super().__init__(f"{field}: {' '.join(messages)}")
        self.body: dict[str, list[str]] = {field: list(messages)}

    @classmethod
    def merge(cls, errors: Sequence[ParamError]) -> ParamError:
        """Combine errors of several parameters into one, keeping their order."""
        if not errors:
            raise ValueError("No errors to merge")
        merged = cls("_", [])
        merged.body = {}
        for error in errors:
            merged.body.update(error.body)
        merged.args = ("; ".join(str(error) for error in errors),)
        return merged


class FilterKind(StrEnum):
    """The django-filter filter classes DSMR-reader's filter sets use."""

    DATETIME = "datetime"  # DateTimeFilter: ISO 8601 plus the locale's formats.
    ISO_DATETIME = "iso_datetime"  # IsoDateTimeFilter: ISO 8601 only.
    DATE = "date"  # DateFilter: the locale's date formats.


def query_pairs(query: QueryInput) -> list[tuple[str, str]]:
    """Return all (key, value) pairs of a query, in order, duplicates kept."""
    if isinstance(query, str):
        return parse_qsl(query, keep_blank_values=True)
    if isinstance(query, Mapping):
        return list(query.items())
    return list(query)


def query_value(query: QueryInput, key: str) -> str | None:
    """Return a parameter's last value, as Django's ``QueryDict.get`` does, or None if absent."""
    found: str | None = None
    for name, value in query_pairs(query):
        if name == key:
            found = value
    return found


def parse_limit(
    value: str | None, default: int = DEFAULT_LIMIT, max_limit: int | None = None
) -> int:
    """Return the page size: a strictly positive integer, else ``default``.

    With ``max_limit`` a larger one is cut to it, as DRF's ``max_limit`` does (DSMR-reader sets
    none; the views here set MAX_LIMIT).
    """
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        return default
    if number <= 0:
        return default
    return number if max_limit is None else min(number, max_limit)


def parse_offset(value: str | None) -> int:
    """Return the offset: a non-negative integer, else 0."""
    if value is None:
        return 0
    try:
        number = int(value)
    except ValueError:
        return 0
    return max(number, 0)


def parse_ordering(value: str | None, allowed: Collection[str], default: str) -> list[str]:
    """Return the ordering terms (``name`` or ``-name``) that are allowed, else ``[default]``.

    Terms are comma-separated and stripped. A term is valid when, after removing one leading
    ``-``, it is in ``allowed``; invalid terms are dropped silently. Duplicates are kept.
    """
    if value:
        terms = [term.strip() for term in value.split(",")]
        valid = [term for term in terms if term.removeprefix("-") in allowed]
        if valid:
            return valid
    return [default]


def parse_iso_datetime(value: str) -> datetime | None:
    """Parse like Django 3.2's ``parse_datetime``.

    Return None when the text does not have the form; raise ValueError when it does but is not a
    valid datetime (e.g. month 13, an offset of 24 hours or more). With an offset, the result
    has a fixed-offset tzinfo; without one, it is naive.
    """
    match = _DATETIME_RE.match(value)
    if match is None:
        return None
    parts = match.groupdict()
    fraction = parts["microsecond"]
    offset_text = parts["tzinfo"]
    zone: tzinfo | None = None
    if offset_text == "Z":
        zone = UTC
    elif offset_text is not None:
        minutes = int(offset_text[-2:]) if len(offset_text) > 3 else 0
        offset = 60 * int(offset_text[1:3]) + minutes
        zone = timezone(timedelta(minutes=-offset if offset_text[0] == "-" else offset))
    return datetime(
        int(parts["year"]),
        int(parts["month"]),
        int(parts["day"]),
        int(parts["hour"]),
        int(parts["minute"]),
        int(parts["second"]) if parts["second"] is not None else 0,
        int(fraction.ljust(6, "0")) if fraction is not None else 0,
        tzinfo=zone,
    )


def is_ambiguous_or_imaginary(value: datetime, tz: tzinfo) -> bool:
    """Return whether a naive local time occurs twice or never in ``tz`` (a DST change)."""
    return tz.utcoffset(value.replace(fold=1 - value.fold)) != tz.utcoffset(value)


def localize(value: datetime, tz: tzinfo) -> datetime:
    """Return ``value`` as an aware datetime in ``tz``.

    An aware value is converted. A naive value is local time in ``tz`` by zoneinfo's ``fold=0``
    rule: an ambiguous time takes the first occurrence (summer time), a time in the spring-forward
    gap takes the offset before the change and comes out normalised (02:30 -> 03:30+02:00).
    Raises OverflowError when the instant falls outside the datetime range.

    Compare results by instant (``astimezone(UTC)``, subtraction, ``<``): under PEP 495 an
    ambiguous local time never compares *equal* to a datetime in another zone.
    """
    if value.utcoffset() is None:
        value = value.replace(tzinfo=tz, fold=0).astimezone(UTC)
    return value.astimezone(tz)


def _parse_temporal(value: str, formats: Iterable[str]) -> datetime | None:
    """Try ``datetime.strptime`` with each format in turn, like Django's BaseTemporalField."""
    for input_format in formats:
        try:
            return datetime.strptime(value, input_format)
        except ValueError:
            continue
    return None


def parse_datetime_filter(
    value: str,
    tz: tzinfo,
    *,
    field: str,
    language: Language = "en",
    iso_only: bool = False,
    strict_dst: bool = False,
) -> datetime | None:
    """Parse a datetime filter parameter such as ``timestamp__gte``; None means "no filter".

    An empty value disables the filter (Django's empty values). Otherwise the stripped value is
    tried with ``parse_datetime`` (``YYYY-MM-DD[T ]HH:MM[:SS[.ffffff]][Z|+HH[:MM]]``), then, unless
    ``iso_only`` (``IsoDateTimeFilter``), with the locale's input formats: for ``en``
    ``YYYY-MM-DD HH:MM:SS``, ``YYYY-MM-DD HH:MM:SS.ffffff``, ``YYYY-MM-DD HH:MM``, the US
    ``MM/DD/YYYY`` forms and ``YYYY-MM-DD`` (midnight). Naive values are local time in ``tz``
    (see ``localize``); with ``strict_dst`` an ambiguous or non-existent local time is refused
    with Django's message instead, as DSMR-reader (pytz) does. The result is aware, in ``tz``.

    Raises ParamError(field, ["Enter a valid date/time."]) for anything else.
    """
    if value == "":
        return None
    text = value.strip()
    try:
        parsed = parse_iso_datetime(text)
    except ValueError:
        raise ParamError(field, [MSG_INVALID_DATETIME]) from None
    if parsed is None and not iso_only:
        # Django's DateTimeFormatsIterator: the datetime formats, then the date formats.
        formats = (*DATETIME_INPUT_FORMATS[language], *DATE_INPUT_FORMATS[language])
        parsed = _parse_temporal(text, formats)
    if parsed is None:
        raise ParamError(field, [MSG_INVALID_DATETIME])
    naive = parsed.utcoffset() is None
    if strict_dst and naive and is_ambiguous_or_imaginary(parsed, tz):
        raise ParamError(field, [MSG_AMBIGUOUS.format(datetime=parsed, timezone=tz)])
    try:
        return localize(parsed, tz)
    except OverflowError:
        # Django turns any failure to place a naive time in the zone into its message; an
        # aware one out of range was a server error there.
        message = MSG_AMBIGUOUS.format(datetime=parsed, timezone=tz) if naive else None
        raise ParamError(field, [message or MSG_INVALID_DATETIME]) from None


def parse_date_filter(value: str, *, field: str, language: Language = "en") -> date | None:
    """Parse a date filter parameter such as ``day__gte``; None means "no filter".

    The stripped value must match one of the locale's date input formats (``en``:
    ``YYYY-MM-DD``, ``MM/DD/YYYY``, ``MM/DD/YY``). Raises ParamError(field,
    ["Enter a valid date."]) otherwise.
    """
    if value == "":
        return None
    parsed = _parse_temporal(value.strip(), DATE_INPUT_FORMATS[language])
    if parsed is None:
        raise ParamError(field, [MSG_INVALID_DATE])
    return parsed.date()


def parse_filters(
    query: QueryInput,
    filters: Mapping[str, FilterKind],
    tz: tzinfo,
    *,
    language: Language = "en",
    strict_dst: bool = False,
) -> dict[str, datetime | date]:
    """Parse every filter parameter present in ``query``, like a django-filter FilterSet.

    ``filters`` maps parameter names to their kind, in the filter set's order (django-filter puts
    the ``Meta.fields`` filters, e.g. the exact ``timestamp``, before the declared ``__gte`` and
    ``__lte`` ones). Absent and empty parameters are left out of the result. All invalid
    parameters are reported together in one ParamError, in that order.
    """
    result: dict[str, datetime | date] = {}
    errors: list[ParamError] = []
    for name, kind in filters.items():
        value = query_value(query, name)
        if value is None:
            continue
        try:
            if kind is FilterKind.DATE:
                parsed: datetime | date | None = parse_date_filter(
                    value, field=name, language=language
                )
            else:
                parsed = parse_datetime_filter(
                    value,
                    tz,
                    field=name,
                    language=language,
                    iso_only=kind is FilterKind.ISO_DATETIME,
                    strict_dst=strict_dst,
                )
        except ParamError as error:
            errors.append(error)
            continue
        if parsed is not None:
            result[name] = parsed
    if errors:
        raise ParamError.merge(errors)
    return result
