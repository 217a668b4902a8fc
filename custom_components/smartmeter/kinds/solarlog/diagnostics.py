"""A Solar-Log plant's diagnostics: what the last update read, the history, the client."""

from __future__ import annotations

from typing import Any, Final

from homeassistant.components.diagnostics import async_redact_data

from .const import CONF_CLIENT_ID, CONF_CLIENT_SECRET, CONF_PLANT_ID
from .data import SolarLogConfigEntry

# The credentials, and the ids that name the user's plant and logger.
REDACT: Final = frozenset(
    {CONF_CLIENT_ID, CONF_CLIENT_SECRET, CONF_PLANT_ID, "unique_id", "id", "identifier"}
)


def _time(moment: Any) -> str | None:
    return None if moment is None else moment.isoformat()


def plant_diagnostics(entry: SolarLogConfigEntry) -> dict[str, Any]:
    """Return what helps to debug a plant: its data's state, not its values."""
    coordinator = entry.runtime_data.coordinator
    snapshot = coordinator.data
    ledger = coordinator.ledger
    client = coordinator.poller.client
    plant = snapshot.plant
    return {
        "plant": async_redact_data(
            {
                "id": plant.id,
                "identifier": plant.identifier,
                "device": plant.device,
                "firmware": plant.firmware,
                "size_w": None if plant.size_w is None else str(plant.size_w),
                "status": plant.status,
                "package": plant.package,
                "last_transfer": _time(plant.last_transfer),
                "last_transfer_type": plant.last_transfer_type,
            },
            REDACT,
        ),
        "available": coordinator.last_update_success,
        "failures": coordinator.failures,
        "advanced": snapshot.advanced,
        "advanced_problems": list(snapshot.advanced_problems),
        "components": [
            {
                "type": component.type,
                "kind": component.kind,
                "classes": list(component.classes),
                "trackers": len(component.trackers),
                "errors": len(component.errors),
                "values": sorted(snapshot.component_series.get(component.cross_epoch_id or "", {})),
            }
            for component in snapshot.components
        ],
        "today": {
            name: {
                "unit": series.unit,
                "points": len(series.points),
                "newest": _time(latest[0]) if (latest := series.latest()) else None,
            }
            for name, series in sorted(snapshot.today.items())
        },
        "history": {
            "hours": len(ledger.increments(0)),
            "first_hour": ledger.first_hour(),
            "newest_hour": ledger.newest_hour(),
            "series": sorted(ledger.series_keys()),
            "backfilled": ledger.backfilled,
            "backfill_error": coordinator.backfill_error,
            "statistics": coordinator.statistics is not None,
        },
        "client": {"requests": client.requests, "token_expires": _time(client.tokens.expires)},
    }
