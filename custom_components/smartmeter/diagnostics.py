"""Diagnostics: the entry, its kind's section and its running subentries', secrets redacted."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .kinds import entry_kind
from .models import AnyConfigEntry
from .subentries import subentry_diagnostics


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: AnyConfigEntry
) -> dict[str, Any]:
    """Return what helps to debug an entry."""
    kind = entry_kind(entry)
    return {
        "entry": async_redact_data(
            {
                "data": dict(entry.data),
                "options": dict(entry.options),
                "unique_id": entry.unique_id,
            },
            kind.redact,
        ),
        **kind.diagnostics(entry),
        # By subentry type and id; each redacts its own secrets.
        **subentry_diagnostics(entry, kind.subentry_types),
    }
