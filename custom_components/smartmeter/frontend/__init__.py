"""The integration's Lovelace card: served by Home Assistant, registered as a dashboard resource.

With dashboards' resources kept by the UI (storage mode, the default) the card is a module
resource, listed under Settings → Dashboards → Resources, and removed with the integration's
last entry. With resources in YAML, which the integration cannot write, the frontend loads it as
an extra module on every page instead.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Final

from homeassistant.components.frontend import add_extra_js_url
from homeassistant.components.http.server import StaticPathConfig
from homeassistant.components.lovelace.const import LOVELACE_DATA, MODE_STORAGE
from homeassistant.components.lovelace.resources import ResourceStorageCollection
from homeassistant.core import HomeAssistant

CARD_URL: Final = "/smartmeter/linky-card.js"
_CARD_FILE: Final = Path(__file__).parent / "linky-card.js"


async def async_register_card(hass: HomeAssistant) -> None:
    """Serve the card and register it, once per run (each step is idempotent there).

    The URL carries the file's hash, so a browser fetches a new release's card, not its cache.
    """
    content = await hass.async_add_executor_job(_CARD_FILE.read_bytes)
    await hass.http.async_register_static_paths(
        [StaticPathConfig(CARD_URL, str(_CARD_FILE), cache_headers=True)]
    )
    url = f"{CARD_URL}?v={hashlib.sha256(content).hexdigest()[:12]}"
    if (resources := _stored_resources(hass)) is not None:
        await _async_keep_resource(resources, url)
    elif "frontend" in hass.config.components:
        add_extra_js_url(hass, url)


async def async_unregister_card(hass: HomeAssistant) -> None:
    """Remove the card's resource (the integration's last entry is being removed)."""
    if (resources := _stored_resources(hass)) is not None:
        for item in await _async_card_items(resources):
            await resources.async_delete_item(item["id"])


def _stored_resources(hass: HomeAssistant) -> ResourceStorageCollection | None:
    lovelace = hass.data.get(LOVELACE_DATA)
    if lovelace is None or lovelace.resource_mode != MODE_STORAGE:
        return None
    resources = lovelace.resources
    return resources if isinstance(resources, ResourceStorageCollection) else None


async def _async_card_items(resources: ResourceStorageCollection) -> list[dict[str, str]]:
    await resources.async_get_info()  # loads the stored resources
    return [item for item in resources.async_items() if item["url"].split("?")[0] == CARD_URL]


async def _async_keep_resource(resources: ResourceStorageCollection, url: str) -> None:
    """Have exactly one resource for the card, at this release's URL."""
    items = await _async_card_items(resources)
    if not items:
        await resources.async_create_item({"res_type": "module", "url": url})
        return
    if items[0]["url"] != url:
        await resources.async_update_item(items[0]["id"], {"res_type": "module", "url": url})
    for extra in items[1:]:
        await resources.async_delete_item(extra["id"])
