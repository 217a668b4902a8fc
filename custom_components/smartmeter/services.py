"""The integration's actions: rebuild a meter's long-term statistics."""

from __future__ import annotations

from typing import Final

from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
import probatio as vol
from sqlalchemy.exc import SQLAlchemyError

from .const import DOMAIN
from .models import loaded_meters
from .store.errors import StoreError

SERVICE_REBUILD_STATISTICS: Final = "rebuild_statistics"
ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_START_DATE: Final = "start_date"
REBUILD_STATISTICS_SCHEMA: Final = vol.Schema(
    {vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string, vol.Optional(ATTR_START_DATE): cv.date}
)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions, for every entry: each call names its own."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_REBUILD_STATISTICS,
        _async_rebuild_statistics,
        schema=REBUILD_STATISTICS_SCHEMA,
    )


async def _async_rebuild_statistics(call: ServiceCall) -> None:
    """Compute a meter's statistics again from its reading store."""
    entry = next(
        (
            meter
            for meter in loaded_meters(call.hass)
            if meter.entry_id == call.data[ATTR_CONFIG_ENTRY_ID]
        ),
        None,
    )
    if entry is None:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="meter_not_loaded")
    statistics = entry.runtime_data.statistics
    if statistics is None:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_recorder")
    try:
        await statistics.async_rebuild(call.data.get(ATTR_START_DATE))
    except (StoreError, SQLAlchemyError) as err:  # the reading database's, or the recorder's
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="rebuild_failed",
            translation_placeholders={"error": str(err)},
        ) from err
