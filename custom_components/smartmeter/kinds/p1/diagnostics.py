"""A P1 meter's diagnostics: the reader's state and the latest telegram, secrets redacted."""

from __future__ import annotations

from dataclasses import asdict
import re
from typing import Any, Final

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_HOST

from ...const import CONF_API_KEY, CONF_DATABASE_URL, CONF_ENCRYPTION_KEY, CONF_FORWARD_TARGETS
from ...models import SmartMeterConfigEntry

# Equipment ids identify a household's meter: personal data.
REDACT: Final = frozenset(
    {
        CONF_API_KEY,
        CONF_FORWARD_TARGETS,  # URLs with their keys
        CONF_DATABASE_URL,  # may hold a password
        CONF_ENCRYPTION_KEY,
        CONF_HOST,
        "unique_id",
        "equipment_id",
        "EQUIPMENT_IDENTIFIER",
        "EQUIPMENT_IDENTIFIER_GAS",
        "BELGIUM_EQUIPMENT_IDENTIFIER",
        "LUXEMBOURG_EQUIPMENT_IDENTIFIER",
        "Q3D_EQUIPMENT_IDENTIFIER",
        "Q3D_EQUIPMENT_SERIALNUMBER",
        "COSEM_LOGICAL_DEVICE_NAME",
        "EQUIPMENT_SERIAL_NUMBER",
    }
)

# Telegram lines that carry an equipment identifier or serial number.
_ID_LINES: Final = re.compile(
    r"^(\d-\d+:(?:96\.1\.[01]|42\.0\.0|0\.0\.0|96\.1\.255)(?:\*255)?)\([^)]*\)", re.MULTILINE
)


def redact_telegram(frame: str) -> str:
    """Return the telegram with its identifier lines' values replaced."""
    return _ID_LINES.sub(r"\1(**REDACTED**)", frame)


def meter_diagnostics(entry: SmartMeterConfigEntry) -> dict[str, Any]:
    """Return what helps to debug a meter connection."""
    data = entry.runtime_data
    coordinator = data.coordinator
    reading = coordinator.data
    reader = coordinator.reader
    return {
        "specification": coordinator.specification.key,
        "reader": asdict(reader.stats) if reader else None,
        "telegram": redact_telegram(coordinator.last_frame) if coordinator.last_frame else None,
        "reading": async_redact_data(
            {
                "identification": reading.identification,
                "values": {key: str(value) for key, value in reading.values.items()},
                "units": reading.units,
                "mbus": [asdict(mbus) for mbus in reading.mbus.values()],
            },
            REDACT,
        )
        if reading
        else None,
        "available": coordinator.last_update_success,
        "forwarding": {
            stats_id: asdict(stats) for stats_id, stats in data.forwarder.stats().items()
        }
        if data.forwarder
        else None,
    }
