"""Seed a fresh development config with the simulator's meter entry (scripts/develop)."""

from __future__ import annotations

import json
from pathlib import Path
import sys
import uuid


def main(config: Path, port: int) -> None:
    """Write a config entry reading the simulator on localhost."""
    storage = config / ".storage"
    storage.mkdir(parents=True, exist_ok=True)
    entry = {
        "entry_id": uuid.uuid4().hex,
        "version": 1,
        "minor_version": 1,
        "domain": "smartmeter",
        "title": "Simulated meter",
        "data": {
            "connection_type": "network",
            "host": "127.0.0.1",
            "port": port,
            "specification": "5",
        },
        "options": {},
        "pref_disable_new_entities": False,
        "pref_disable_polling": False,
        "source": "user",
        "unique_id": "4B384547303034303436333935353037",
        "disabled_by": None,
        "discovery_keys": {},
        "subentries": [],
    }
    (storage / "core.config_entries").write_text(
        json.dumps(
            {
                "version": 1,
                "minor_version": 5,
                "key": "core.config_entries",
                "data": {"entries": [entry]},
            },
            indent=2,
        )
    )
    print(f"Seeded {storage / 'core.config_entries'} with the simulated meter on port {port}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
