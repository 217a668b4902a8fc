"""Set a Linky meter up: its client by access path, its data, polls and statistics."""

from __future__ import annotations

from typing import Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_entry_oauth2_flow
from homeassistant.util import dt as dt_util

from ...external_statistics import ExternalStatistics, IncrementStatistics, StatisticsSettings
from ...lifecycle import async_on_unload_or_stop
from ...models import LinkyData
from ...statistic_metadata import async_statistic_names
from ...subentries.contract.contracts import SUBENTRY_ENERGY_CONTRACT, entry_contracts
from .client import data_connect_client, token_client
from .const import (
    ACCESS_DATA_CONNECT,
    CONF_ACCESS,
    CONF_MEASUREMENT,
    CONF_POLL_MINUTE,
    CONF_PRM,
    MEASUREMENTS,
)
from .runtime import LinkyRuntime

PLATFORMS: Final = (Platform.SENSOR,)
# Bumped when the statistics made from the same data change: everything is made again.
COMPUTATION_VERSION: Final = 1


async def async_setup_linky(hass: HomeAssistant, entry: ConfigEntry[LinkyData]) -> None:
    """Load the meter's data, start its polls and statistics."""
    if entry.data[CONF_ACCESS] == ACCESS_DATA_CONNECT:
        implementation = await config_entry_oauth2_flow.async_get_config_entry_implementation(
            hass, entry
        )
        client = data_connect_client(
            hass, entry.data, config_entry_oauth2_flow.OAuth2Session(hass, entry, implementation)
        )
    else:
        client = token_client(hass, entry.data)
    measurements = MEASUREMENTS[entry.data[CONF_MEASUREMENT]]
    runtime = LinkyRuntime(hass, entry, client, measurements, entry.options[CONF_POLL_MINUTE])
    await runtime.async_load()
    entry.runtime_data = LinkyData(runtime=runtime)
    if "recorder" in hass.config.components:
        time_zone = dt_util.get_default_time_zone()
        contracts = entry_contracts(entry)
        runtime.statistics = IncrementStatistics(
            hass,
            recorded=ExternalStatistics(
                hass,
                object_id=f"linky_{entry.data[CONF_PRM]}",
                title=entry.title,
                names=await async_statistic_names(hass),
            ),
            settings=StatisticsSettings(
                hass,
                entry.entry_id,
                version=COMPUTATION_VERSION,
                contracts=contracts,
                time_zone=time_zone,
            ),
            source=runtime.hours,
            series=runtime.hours.series,
            priced=runtime.hours.priced,
            contracts=contracts,
            time_zone=time_zone,
        )
    async_on_unload_or_stop(hass, entry, runtime.async_stop)
    # Options and energy contracts take effect through a reload; a refreshed token does not.
    setup_state = _reload_state(entry)

    async def _async_reload_on_change(hass: HomeAssistant, entry: ConfigEntry[LinkyData]) -> None:
        if _reload_state(entry) != setup_state:
            hass.config_entries.async_schedule_reload(entry.entry_id)

    entry.async_on_unload(entry.add_update_listener(_async_reload_on_change))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    runtime.async_start()


def _reload_state(entry: ConfigEntry[LinkyData]) -> tuple[object, ...]:
    return (
        dict(entry.options),
        sorted(
            (subentry.subentry_id, tuple(sorted(subentry.data.items())))
            for subentry in entry.subentries.values()
            if subentry.subentry_type == SUBENTRY_ENERGY_CONTRACT
        ),
    )
