"""The request language and localized numbers, as Django 3.2's LocaleMiddleware gives them.

DSMR-reader offers ``en`` (its ``LANGUAGE_CODE``) and ``nl``. The language comes from the
``Accept-Language`` header: the entries by descending q-value, the first one that is, or whose
base language is, ``en`` or ``nl``; a ``*`` or an unparsable header means ``en``. Numbers it
formats itself (``cost_per_hour``, ``cost_per_interval``) use the language's decimal mark and
thousands separator (``USE_THOUSAND_SEPARATOR = True``): ``1,234.56`` or ``1.234,56``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
import re
from typing import Final

from .params import Language

DEFAULT_LANGUAGE: Final[Language] = "en"
LANGUAGES: Final[tuple[Language, ...]] = ("en", "nl")

# django.utils.translation.trans_real.accept_language_re (Django 3.2).
_ACCEPT_LANGUAGE_RE: Final = re.compile(
    r"""
    ([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)      # "en", "en-au", "x-y-z", "es-419", "*"
    (?:\s*;\s*q=(0(?:\.\d{,3})?|1(?:\.0{,3})?))?  # Optional "q=1.00", "q=0.8"
    (?:\s*,\s*|$)                                 # Multiple accepts per header.
    """,
    re.VERBOSE,
)
# (decimal mark, thousands separator) of django/conf/locale/<lang>/formats.py; both group by 3.
_NUMBER_SEPARATORS: Final[Mapping[Language, tuple[str, str]]] = {
    "en": (".", ","),
    "nl": (",", "."),
}
_GROUPING: Final = 3


def _accepted(header: str) -> list[str]:
    """Return the header's language ranges by descending q-value (Django's parse order)."""
    pieces = _ACCEPT_LANGUAGE_RE.split(header.lower())
    if pieces[-1]:
        return []
    ranges: list[tuple[str, float]] = []
    for index in range(0, len(pieces) - 1, 3):
        first, language, priority = pieces[index : index + 3]
        if first:
            return []
        ranges.append((language, float(priority) if priority else 1.0))
    ranges.sort(key=lambda entry: entry[1], reverse=True)
    return [language for language, _ in ranges]


def request_language(accept_language: str | None) -> Language:
    """Return the language DSMR-reader answers in for an ``Accept-Language`` header."""
    for accepted in _accepted(accept_language or ""):
        if accepted == "*":
            break
        base = accepted.split("-")[0]
        for language in LANGUAGES:
            if language in (accepted, base):
                return language
    return DEFAULT_LANGUAGE


def number_format(value: Decimal, language: Language) -> str:
    """Format a decimal as Django's ``number_format``: all its places, grouped thousands."""
    decimal_mark, thousands = _NUMBER_SEPARATORS[language]
    text = f"{value:f}"
    sign = "-" if text.startswith("-") else ""
    whole, _, fraction = text.removeprefix("-").partition(".")
    groups: list[str] = []
    while len(whole) > _GROUPING:
        groups.insert(0, whole[-_GROUPING:])
        whole = whole[:-_GROUPING]
    groups.insert(0, whole)
    return sign + thousands.join(groups) + (decimal_mark + fraction if fraction else "")
