"""A P1 meter's options: updates, the DSMR-reader compatible API, the database, forwarding."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from homeassistant.config_entries import ConfigFlowResult, OptionsFlow
from homeassistant.const import UnitOfTime
from homeassistant.data_entry_flow import section
from homeassistant.helpers import selector
import probatio as vol
from sqlalchemy.exc import SQLAlchemyError

from ...const import (
    CONF_API_ENABLED,
    CONF_API_KEY,
    CONF_DATABASE_URL,
    CONF_FORWARD_TARGETS,
    CONF_MIN_UPDATE_INTERVAL,
    CONF_RETENTION_HOURS,
    DEFAULT_MIN_UPDATE_INTERVAL,
    RETENTION_CHOICES,
    RETENTION_OFF,
)
from ...store.engine import check_connection
from ...store.errors import StoreError
from .forwarding import forward_targets

OPTIONS_UPDATES: Final = "updates"
OPTIONS_API: Final = "api"
OPTIONS_DATABASE: Final = "database"
OPTIONS_FORWARDING: Final = "forwarding"
# The options form in sections, each with its own heading: how often entities update, the
# DSMR-reader compatible API, the reading database, and forwarding to DSMR-reader.
OPTIONS_SCHEMA: Final = vol.Schema(
    {
        vol.Required(OPTIONS_UPDATES): section(
            vol.Schema(
                {
                    vol.Required(
                        CONF_MIN_UPDATE_INTERVAL, default=DEFAULT_MIN_UPDATE_INTERVAL
                    ): selector.NumberSelector(
                        selector.NumberSelectorConfig(
                            min=0,
                            max=3600,
                            step=1,
                            unit_of_measurement=UnitOfTime.SECONDS,
                            mode=selector.NumberSelectorMode.BOX,
                        )
                    ),
                }
            )
        ),
        vol.Required(OPTIONS_API): section(
            vol.Schema(
                {
                    vol.Required(CONF_API_ENABLED, default=False): selector.BooleanSelector(),
                    vol.Required(CONF_API_KEY): selector.TextSelector(),
                }
            )
        ),
        vol.Required(OPTIONS_DATABASE): section(
            vol.Schema(
                {
                    vol.Optional(CONF_DATABASE_URL, default=""): selector.TextSelector(),
                    vol.Required(
                        CONF_RETENTION_HOURS, default=RETENTION_OFF
                    ): selector.SelectSelector(
                        selector.SelectSelectorConfig(
                            options=[RETENTION_OFF, *(str(hours) for hours in RETENTION_CHOICES)],
                            translation_key=CONF_RETENTION_HOURS,
                            mode=selector.SelectSelectorMode.DROPDOWN,
                        )
                    ),
                }
            )
        ),
        vol.Required(OPTIONS_FORWARDING): section(
            vol.Schema(
                {
                    vol.Optional(CONF_FORWARD_TARGETS, default=""): selector.TextSelector(
                        selector.TextSelectorConfig(multiline=True)
                    ),
                }
            )
        ),
    }
)


class P1OptionsFlow(OptionsFlow):
    """Updates, the DSMR-reader compatible API, the reading database and forwarding."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the options; a database URL is tried before it is saved."""
        errors: dict[str, str] = {}
        if user_input is not None:
            values = {key: value for part in user_input.values() for key, value in part.items()}
            url = values.get(CONF_DATABASE_URL, "").strip()
            targets = values.get(CONF_FORWARD_TARGETS, "")
            try:
                forward_targets(targets)
            except ValueError:
                errors[CONF_FORWARD_TARGETS] = "invalid_forward_targets"
            if url and not await self.hass.async_add_executor_job(_database_works, url):
                errors[CONF_DATABASE_URL] = "cannot_open_database"
            if not errors:
                return self.async_create_entry(
                    data={
                        CONF_MIN_UPDATE_INTERVAL: int(values[CONF_MIN_UPDATE_INTERVAL]),
                        CONF_API_ENABLED: values[CONF_API_ENABLED],
                        CONF_API_KEY: values[CONF_API_KEY].strip(),
                        CONF_DATABASE_URL: url,
                        CONF_FORWARD_TARGETS: targets.strip(),
                        CONF_RETENTION_HOURS: values[CONF_RETENTION_HOURS],
                    }
                )
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                OPTIONS_SCHEMA, user_input or _in_sections(self.config_entry.options)
            ),
            errors=errors,
        )


def _in_sections(options: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Return stored options (one level) as the options form's sections hold them."""
    return {
        key.schema: {
            field.schema: options[field.schema]
            for field in part.schema.schema
            if field.schema in options
        }
        for key, part in OPTIONS_SCHEMA.schema.items()
    }


def _database_works(url: str) -> bool:
    """Tell whether the database at ``url`` can be connected to; nothing is created in it."""
    try:
        check_connection(url)
    except StoreError, SQLAlchemyError, ValueError, ImportError:
        return False
    return True
