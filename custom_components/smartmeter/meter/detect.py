"""Tell which specification a plain telegram follows, from the lines it holds."""

from __future__ import annotations

import re
from typing import Final

from .specifications import SPECIFICATIONS, Specification

_VERSION: Final = re.compile(r"^1-3:0\.2\.8\((\d+)\)", re.MULTILINE)


def _has(telegram: str, obis: str) -> bool:
    return f"\n{obis}(" in telegram


def detect_specification(telegram: str, *, encrypted: bool = False) -> Specification:
    """Return the specification of a (decrypted) telegram.

    The markers are lines only one family of meters sends; the DSMR version
    line (1-3:0.2.8) settles the rest. ``encrypted`` tells a telegram that
    arrived inside a DLMS frame.
    """
    header = telegram[1 : telegram.find("\n")]
    if encrypted:
        return SPECIFICATIONS["MSn" if _has(telegram, "0-0:42.0.0") else "SAGEMCOM_T210_D_R"]
    if _has(telegram, "0-0:96.1.4"):
        key = "5B"
    elif header.startswith("ESY") or "*255(" in telegram:
        key = "Q3D"
    elif _has(telegram, "1-0:1.8.3") or _has(telegram, "1-0:15.8.0"):
        key = "5EONHU"
    elif _has(telegram, "0-0:42.0.0"):
        key = "5L"
    elif version := _VERSION.search(telegram):
        key = "4" if version.group(1).startswith("4") else "5"
    elif _has(telegram, "1-0:0.0.0"):
        key = "ISKRA_IE"
    elif _has(telegram, "1-0:1.8.0"):
        key = "5S"
    else:
        key = "2.2"
    return SPECIFICATIONS[key]
