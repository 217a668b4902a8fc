"""A simulated Enerest portal on Home Assistant's frozen clock, and Solar-Log entries of it.

HA's clock is frozen at 12:02:30 in Amsterdam; the portal reads it, so its logger has
transferred up to 12:00. Time moves only when a test moves it (move_on).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest

from solarlog_simulator import ADVANCED, PortalSimulator
from tests.common import unload_meters
from tests.enerest import NOW, portal


@pytest.fixture
def package() -> str:
    """The user's API package; a test or module overrides it."""
    return ADVANCED


@pytest.fixture
async def enerest(
    hass: HomeAssistant,
    socket_enabled: None,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
    package: str,
) -> AsyncIterator[PortalSimulator]:
    """The portal, the flow pointed at it; on the way out, the entries unload first."""
    freezer.move_to(NOW)
    await hass.config.async_set_time_zone("Europe/Amsterdam")
    simulated = portal(dt_util.utcnow, package=package)
    await simulated.start()
    monkeypatch.setattr("custom_components.smartmeter.kinds.solarlog.flow.API_URL", simulated.url)
    monkeypatch.setattr(
        "custom_components.smartmeter.kinds.solarlog.flow.TOKEN_URL", simulated.token_url
    )
    yield simulated
    await unload_meters(hass)
    await simulated.close()
