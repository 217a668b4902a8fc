"""Constants for the smartmeter integration."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Final

DOMAIN: Final = "smartmeter"
LOGGER: Final = logging.getLogger(__package__)

# Which kind of entry it is (kinds.KINDS); entries of config entry 1.2 and older have none.
CONF_KIND: Final = "kind"
KIND_P1: Final = "p1"
CONF_CONNECTION_TYPE: Final = "connection_type"
CONF_SERIAL_SETTINGS: Final = "serial_settings"
CONF_SPECIFICATION: Final = "specification"
CONF_ENCRYPTION_KEY: Final = "encryption_key"
CONF_MIN_UPDATE_INTERVAL: Final = "min_update_interval"
CONF_API_ENABLED: Final = "api_enabled"
CONF_API_KEY: Final = "api_key"
CONF_DATABASE_URL: Final = "database_url"
CONF_FORWARD_TARGETS: Final = "forward_targets"
CONF_RETENTION_HOURS: Final = "retention_hours"
# The meter id of an entry whose meter sends no equipment id, set up by an older release.
CONF_METER_ID: Final = "meter_id"

# DSMR-reader's retention choices, in hours: readings older than this are thinned.
RETENTION_CHOICES: Final = (168, 744, 2232, 4464, 8784)
RETENTION_OFF: Final = "off"
# A run thins at most a day of each table, so a year of history is thinned within a few days.
RETENTION_INTERVAL: Final = timedelta(minutes=15)

CONNECTION_SERIAL: Final = "serial"
CONNECTION_NETWORK: Final = "network"
CONNECTION_PUSH: Final = "push"

DEFAULT_NETWORK_PORT: Final = 2001  # ser2net's customary P1 port
DEFAULT_MIN_UPDATE_INTERVAL: Final = 0

# The repair issue for a meter that connects but sends nothing usable.
NO_TELEGRAMS_AFTER: Final = timedelta(minutes=10)
NO_TELEGRAMS_CHECK_EVERY: Final = timedelta(minutes=1)
ISSUE_NO_TELEGRAMS: Final = "no_telegrams"
# ... and what it says instead when this many frames in a row did not decrypt: the key is
# wrong (a new meter, or a new key), and Home Assistant asks for the right one.
ISSUE_WRONG_KEY: Final = "wrong_key"
WRONG_KEY_AFTER: Final = 3
# The repair issue shown while a migration copies the readings of a meter's database.
ISSUE_DATABASE_UPGRADE: Final = "database_upgrade"

# Telegrams pushed through the API update the entities at most this often (seconds).
PUSHED_UPDATE_EVERY: Final = 1.0
