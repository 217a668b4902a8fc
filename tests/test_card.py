"""The Linky card: served by Home Assistant and registered as a dashboard resource."""

from __future__ import annotations

import hashlib
from pathlib import Path

from homeassistant.components.frontend import DATA_EXTRA_MODULE_URL
from homeassistant.components.lovelace.const import LOVELACE_DATA
from homeassistant.components.lovelace.resources import ResourceStorageCollection
from homeassistant.config_entries import ConfigEntryDisabler
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.smartmeter.const import CONF_KIND, DOMAIN
from custom_components.smartmeter.frontend import async_register_card

CARD = Path(__file__).parents[1] / "custom_components" / "smartmeter" / "frontend" / "linky-card.js"
URL = f"/smartmeter/linky-card.js?v={hashlib.sha256(CARD.read_bytes()).hexdigest()[:12]}"


def _resources(hass: HomeAssistant) -> list[tuple[str, str]]:
    return [
        (item["type"], item["url"]) for item in hass.data[LOVELACE_DATA].resources.async_items()
    ]


async def test_card_is_served_and_a_dashboard_resource(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """With the UI's resources, the card is one module resource at this release's URL."""
    assert await async_setup_component(hass, "frontend", {})
    assert await async_setup_component(hass, DOMAIN, {})
    client = await hass_client()
    response = await client.get("/smartmeter/linky-card.js")
    assert response.status == 200
    assert response.content_type in ("application/javascript", "text/javascript")
    body = await response.read()
    assert body == CARD.read_bytes()
    assert b'customElements.define("smartmeter-linky-card"' in body
    assert _resources(hass) == [("module", URL)]
    # Not loaded a second time as an extra module.
    assert not any("smartmeter" in url for url in hass.data[DATA_EXTRA_MODULE_URL].urls)


async def test_a_new_release_updates_its_resource_and_leaves_others(hass: HomeAssistant) -> None:
    """An older release's resource (and a copy of it) become one at this URL; others stay."""
    assert await async_setup_component(hass, "frontend", {})
    resources = hass.data[LOVELACE_DATA].resources
    assert isinstance(resources, ResourceStorageCollection)
    await resources.async_create_item({"res_type": "module", "url": "/local/other-card.js"})
    for _ in range(2):
        await resources.async_create_item(
            {"res_type": "module", "url": "/smartmeter/linky-card.js?v=0123456789ab"}
        )
    await async_register_card(hass)
    assert _resources(hass) == [("module", "/local/other-card.js"), ("module", URL)]


async def test_with_yaml_resources_the_card_is_an_extra_module(hass: HomeAssistant) -> None:
    """Resources kept in YAML cannot be written: the frontend loads the card on every page."""
    assert await async_setup_component(hass, "lovelace", {"lovelace": {"resource_mode": "yaml"}})
    assert await async_setup_component(hass, "frontend", {})
    assert await async_setup_component(hass, DOMAIN, {})
    assert URL in hass.data[DATA_EXTRA_MODULE_URL].urls
    assert _resources(hass) == []


async def test_the_last_entry_removed_takes_the_resource(hass: HomeAssistant) -> None:
    """The resource stays while an entry is left, and goes with the last one."""
    assert await async_setup_component(hass, "frontend", {})
    # Disabled: they need not set up to be removed.
    entries = [
        MockConfigEntry(
            domain=DOMAIN,
            data={CONF_KIND: "p1"},
            minor_version=3,
            disabled_by=ConfigEntryDisabler.USER,
        )
        for _ in range(2)
    ]
    for entry in entries:
        entry.add_to_hass(hass)
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()
    assert _resources(hass) == [("module", URL)]
    await hass.config_entries.async_remove(entries[0].entry_id)
    assert _resources(hass) == [("module", URL)]
    await hass.config_entries.async_remove(entries[1].entry_id)
    assert _resources(hass) == []


async def test_without_the_frontend_the_card_is_only_served(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    assert await async_setup_component(hass, DOMAIN, {})
    client = await hass_client()
    assert (await client.get("/smartmeter/linky-card.js")).status == 200
    assert DATA_EXTRA_MODULE_URL not in hass.data
    assert LOVELACE_DATA not in hass.data
