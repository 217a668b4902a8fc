"""The integration's Lovelace card, served by Home Assistant and loaded on every dashboard."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Final

from homeassistant.components.frontend import add_extra_js_url
from homeassistant.components.http.server import StaticPathConfig
from homeassistant.core import HomeAssistant

CARD_URL: Final = "/smartmeter/linky-card.js"
_CARD_FILE: Final = Path(__file__).parent / "linky-card.js"


async def async_register_card(hass: HomeAssistant) -> None:
    """Serve the card and have the frontend load it, once per run (both are idempotent there).

    The URL carries the file's hash, so a browser fetches a new release's card, not its cache.
    """
    content = await hass.async_add_executor_job(_CARD_FILE.read_bytes)
    await hass.http.async_register_static_paths(
        [StaticPathConfig(CARD_URL, str(_CARD_FILE), cache_headers=True)]
    )
    if "frontend" in hass.config.components:
        add_extra_js_url(hass, f"{CARD_URL}?v={hashlib.sha256(content).hexdigest()[:12]}")
