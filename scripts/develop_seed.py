"""Seed a fresh development config with the simulator's meter entry (scripts/develop).

The entry is built with Home Assistant's own ConfigEntry, so the stored format is
whatever the installed version expects.
"""

from __future__ import annotations

import json
from pathlib import Path
import sys
from types import MappingProxyType

from homeassistant.config_entries import (
    STORAGE_KEY,
    STORAGE_VERSION,
    STORAGE_VERSION_MINOR,
    ConfigEntry,
)
from homeassistant.helpers.json import JSONEncoder


def main(config: Path, port: int) -> None:
    """Write a config entry reading the simulator on localhost."""
    entry = ConfigEntry(
        data={
            "connection_type": "network",
            "host": "127.0.0.1",
            "port": port,
            "specification": "5",
        },
        discovery_keys=MappingProxyType({}),
        domain="smartmeter",
        minor_version=1,
        options={},
        source="user",
        subentries_data=None,
        title="Simulated meter",
        unique_id="4B384547303034303436333935353037",
        version=1,
    )
    storage = config / ".storage"
    storage.mkdir(parents=True, exist_ok=True)
    document = {
        "version": STORAGE_VERSION,
        "minor_version": STORAGE_VERSION_MINOR,
        "key": STORAGE_KEY,
        "data": {"entries": [entry.as_dict()]},
    }
    (storage / STORAGE_KEY).write_text(json.dumps(document, cls=JSONEncoder, indent=2))
    print(f"Seeded {storage / STORAGE_KEY} with the simulated meter on port {port}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
