"""The Linky card: served by Home Assistant, and loaded by the frontend on every dashboard."""

from __future__ import annotations

import hashlib
from pathlib import Path

from homeassistant.components.frontend import DATA_EXTRA_MODULE_URL
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.smartmeter.const import DOMAIN

CARD = Path(__file__).parents[1] / "custom_components" / "smartmeter" / "frontend" / "linky-card.js"


async def test_card_is_served_and_loaded_once(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    assert await async_setup_component(hass, "frontend", {})
    assert await async_setup_component(hass, DOMAIN, {})
    client = await hass_client()
    response = await client.get("/smartmeter/linky-card.js")
    assert response.status == 200
    assert response.content_type in ("application/javascript", "text/javascript")
    body = await response.read()
    assert body == CARD.read_bytes()
    assert b'customElements.define("smartmeter-linky-card"' in body
    version = hashlib.sha256(body).hexdigest()[:12]
    assert f"/smartmeter/linky-card.js?v={version}" in hass.data[DATA_EXTRA_MODULE_URL].urls


async def test_without_the_frontend_the_card_is_only_served(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    assert await async_setup_component(hass, DOMAIN, {})
    client = await hass_client()
    assert (await client.get("/smartmeter/linky-card.js")).status == 200
    assert DATA_EXTRA_MODULE_URL not in hass.data
