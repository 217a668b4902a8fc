"""Config subentry flow "Add PVOutput export": a meter's consumption to a PVOutput system.

Step user asks for the API key and the system id and checks both against PVOutput, and
that the key may write; step settings asks for the interval (defaulting to the system's own
status interval), the upload and processing delays, and the optional generation sensors and
voltage.
"""

from __future__ import annotations

from typing import Any, Final

from homeassistant.config_entries import ConfigSubentryFlow, SubentryFlowResult
from homeassistant.const import CONF_API_KEY, UnitOfTime
from homeassistant.helpers import selector
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import probatio as vol

from ...pvoutput import (
    API_URL,
    MAX_PROCESSING_DELAY,
    MAX_UPLOAD_DELAY,
    UPLOAD_INTERVALS,
    ExportSettings,
    PVOutputBlockedError,
    PVOutputClient,
    PVOutputError,
    RateLimitedError,
    SystemInfo,
    default_interval,
)

SUBENTRY_PVOUTPUT: Final = "pvoutput"
CONF_SYSTEM_ID: Final = "system_id"
CONF_UPLOAD_INTERVAL: Final = "upload_interval"
CONF_UPLOAD_DELAY: Final = "upload_delay"
CONF_PROCESSING_DELAY: Final = "processing_delay"
CONF_GENERATION_ENERGY: Final = "generation_energy"
CONF_GENERATION_POWER: Final = "generation_power"
CONF_VOLTAGE: Final = "voltage"
CONF_DONOR: Final = "donor"

_CREDENTIALS_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_API_KEY): selector.TextSelector(
            selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
        ),
        vol.Required(CONF_SYSTEM_ID): selector.NumberSelector(
            selector.NumberSelectorConfig(min=1, step=1, mode=selector.NumberSelectorMode.BOX)
        ),
    }
)


def _minutes(maximum: int) -> selector.NumberSelector:
    return selector.NumberSelector(
        selector.NumberSelectorConfig(
            min=0,
            max=maximum,
            step=1,
            unit_of_measurement=UnitOfTime.MINUTES,
            mode=selector.NumberSelectorMode.BOX,
        )
    )


def _sensor(device_class: str) -> selector.EntitySelector:
    return selector.EntitySelector(
        selector.EntitySelectorConfig(domain="sensor", device_class=device_class)
    )


def _settings_schema(interval: int) -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_UPLOAD_INTERVAL, default=str(interval)): selector.SelectSelector(
                selector.SelectSelectorConfig(
                    options=[str(choice) for choice in UPLOAD_INTERVALS],
                    mode=selector.SelectSelectorMode.LIST,
                )
            ),
            vol.Required(CONF_UPLOAD_DELAY, default=0): _minutes(MAX_UPLOAD_DELAY),
            vol.Optional(CONF_PROCESSING_DELAY): _minutes(MAX_PROCESSING_DELAY),
            vol.Optional(CONF_GENERATION_ENERGY): _sensor("energy"),
            vol.Optional(CONF_GENERATION_POWER): _sensor("power"),
            vol.Required(CONF_VOLTAGE, default=False): selector.BooleanSelector(),
        }
    )


def export_settings(data: dict[str, Any]) -> ExportSettings:
    """Return the export settings a PVOutput subentry's data describes."""
    processing_delay = data.get(CONF_PROCESSING_DELAY)
    return ExportSettings(
        interval=int(data[CONF_UPLOAD_INTERVAL]),
        upload_delay=int(data[CONF_UPLOAD_DELAY]),
        processing_delay=None if processing_delay is None else int(processing_delay),
        generation=CONF_GENERATION_ENERGY in data,
    )


class PVOutputSubentryFlow(ConfigSubentryFlow):
    """Add a PVOutput export to a meter."""

    def __init__(self) -> None:
        """Start without credentials."""
        self._credentials: dict[str, Any] = {}
        self._system: SystemInfo | None = None

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Ask for the API key and system id; check them against PVOutput."""
        errors: dict[str, str] = {}
        if user_input is not None:
            system_id = int(user_input[CONF_SYSTEM_ID])
            api_key = user_input[CONF_API_KEY].strip()
            if any(
                subentry.unique_id == str(system_id)
                for subentry in self._get_entry().subentries.values()
            ):
                return self.async_abort(reason="already_configured")
            error = await self._validate(api_key, system_id)
            if error is None:
                self._credentials = {CONF_API_KEY: api_key, CONF_SYSTEM_ID: system_id}
                return await self.async_step_settings()
            errors["base"] = error
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(_CREDENTIALS_SCHEMA, user_input),
            errors=errors,
        )

    async def _validate(self, api_key: str, system_id: int) -> str | None:
        """Return None when key and system id work, or the error to show."""
        client = PVOutputClient(
            async_get_clientsession(self.hass), api_key, system_id, base_url=API_URL
        )
        try:
            self._system = await client.validate()
        except PVOutputBlockedError as err:
            return err.problem.value  # invalid_api_key, read_only_key, ...
        except RateLimitedError:
            return "rate_limited"
        except PVOutputError:
            return "cannot_connect"
        return None

    async def async_step_settings(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Ask how to upload; the processing delay only for accounts in donation mode."""
        system = self._system
        assert system is not None  # set by step user
        errors: dict[str, str] = {}
        if user_input is not None:
            has_energy = CONF_GENERATION_ENERGY in user_input
            if has_energy != (CONF_GENERATION_POWER in user_input):
                errors["base"] = "generation_incomplete"
            elif user_input.get(CONF_PROCESSING_DELAY) and system.donor is False:
                errors[CONF_PROCESSING_DELAY] = "donation_required"
            else:
                data = {**self._credentials, **user_input, CONF_DONOR: bool(system.donor)}
                return self.async_create_entry(
                    title=f"PVOutput {system.name}",
                    data=data,
                    unique_id=str(self._credentials[CONF_SYSTEM_ID]),
                )
        schema = _settings_schema(default_interval(system.status_interval))
        return self.async_show_form(
            step_id="settings",
            data_schema=self.add_suggested_values_to_schema(schema, user_input),
            errors=errors,
            description_placeholders={
                "system": system.name,
                "status_interval": str(system.status_interval),
            },
        )
