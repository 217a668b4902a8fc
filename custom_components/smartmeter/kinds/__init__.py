"""The kinds of config entry: each a folder of Home Assistant glue, and one line here.

Adding a kind: a folder here with its flow, setup, sensors and diagnostics, and an EntryKind
in KINDS. The user step of the config flow becomes a menu of the kinds.
"""

from __future__ import annotations

from typing import Any, Final

from homeassistant.config_entries import ConfigEntry

from ..const import CONF_KIND
from .kind import EntryKind
from .linky import LINKY
from .p1 import P1_METER
from .solarlog import SOLARLOG_PLANT

KINDS: Final[dict[str, EntryKind[Any]]] = {
    kind.key: kind for kind in (P1_METER, LINKY, SOLARLOG_PLANT)
}
# Entries from before there were kinds (config entry 1.2 and older) are P1 meters.
ORIGINAL_KIND: Final = P1_METER


def entry_kind(entry: ConfigEntry) -> EntryKind[Any]:
    """Return the kind of an entry."""
    return KINDS[entry.data[CONF_KIND]] if CONF_KIND in entry.data else ORIGINAL_KIND
