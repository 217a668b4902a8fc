"""A Linky meter's diagnostics: its polls and what is known, secrets redacted."""

from __future__ import annotations

from typing import Any, Final

from homeassistant.const import CONF_TOKEN

from ...models import LinkyConfigEntry
from .const import CONF_PRM

# The usage point identifies a household; tokens give access to its data.
REDACT: Final = frozenset({CONF_TOKEN, CONF_PRM, "unique_id", "access_token", "refresh_token"})


def linky_diagnostics(entry: LinkyConfigEntry) -> dict[str, Any]:
    """Return the polls' state."""
    return {"linky": entry.runtime_data.runtime.diagnostics()}
