"""Constants of the Solar-Log kind: its entries' data keys, timing and events."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

KIND_SOLARLOG: Final = "solarlog"
CONF_PORTAL: Final = "portal"
CONF_CLIENT_ID: Final = "client_id"
CONF_CLIENT_SECRET: Final = "client_secret"
CONF_PLANT_ID: Final = "plant_id"
# Where the API and its tokens are: the documented defaults, saved with the entry so that a
# simulated portal (scripts/develop) can stand in.
CONF_API_URL: Final = "api_url"
CONF_TOKEN_URL: Final = "token_url"

# The logger transfers its data every 5 minutes at best: polling faster gains nothing.
UPDATE_INTERVAL: Final = timedelta(minutes=5)
# After failed updates the interval doubles up to this.
MOST_BACK_OFF: Final = timedelta(hours=1)
# A failed history backfill is tried again after this long.
BACKFILL_RETRY: Final = timedelta(hours=1)
# A power or level older than this is stale: its sensor is unavailable.
STALE_AFTER: Final = timedelta(hours=1)

# Fired when a component's status error appears or goes (README: Solar-Log, events).
EVENT_COMPONENT: Final = "smartmeter_solarlog_component_event"


def plant_device_id(plant_id: str) -> str:
    """Return a plant's device id, which also starts its entities' unique ids."""
    return f"solarlog_{plant_id}"


def component_device_id(plant_id: str, cross_epoch_id: str) -> str:
    """Return a component's device id: by its cross-epoch id, kept across epochs."""
    return f"solarlog_{plant_id}_{cross_epoch_id}"
