"""A P1 meter's config flow: choose the connection, then we detect the rest."""

from __future__ import annotations

from collections.abc import Mapping
import re
from typing import Any, Final

from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigEntryState,
    ConfigFlowResult,
)
from homeassistant.const import CONF_DEVICE, CONF_HOST, CONF_NAME, CONF_PORT
from homeassistant.helpers import selector
import probatio as vol

from ...api.auth import generate_auth_key
from ...const import (
    CONF_API_ENABLED,
    CONF_API_KEY,
    CONF_CONNECTION_TYPE,
    CONF_ENCRYPTION_KEY,
    CONF_KIND,
    CONF_SPECIFICATION,
    CONNECTION_NETWORK,
    CONNECTION_PUSH,
    CONNECTION_SERIAL,
    DEFAULT_NETWORK_PORT,
    KIND_P1,
)
from ...meter.reading import equipment_id_text, to_reading
from ...meter.specifications import SPECIFICATIONS
from ...reader.connection import Endpoint, SerialPort
from ...reader.probe import (
    PER_SETTING_TIMEOUT,
    PROBE_TIMEOUT,
    EncryptionKeyRequired,
    ProbeError,
    ProbeResult,
    probe,
)
from ..kind import KindFlow
from .connection import endpoint_data, endpoint_from_data, endpoint_from_input, endpoint_match

_KEY_FORMAT: Final = re.compile(r"[0-9a-fA-F]{32}")

_SPECIFICATION_SELECTOR: Final = selector.SelectSelector(
    selector.SelectSelectorConfig(
        options=[
            selector.SelectOptionDict(value=spec.key, label=spec.label)
            for spec in SPECIFICATIONS.values()
        ],
        mode=selector.SelectSelectorMode.DROPDOWN,
    )
)


def _new_entry_options() -> dict[str, Any]:
    """Options of a new meter: the API off, with a fresh key to turn it on with."""
    return {CONF_API_ENABLED: False, CONF_API_KEY: generate_auth_key()}


_SERIAL_SCHEMA: Final = vol.Schema({vol.Required(CONF_DEVICE): selector.SerialPortSelector()})
_NETWORK_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_HOST): selector.TextSelector(),
        vol.Required(CONF_PORT, default=DEFAULT_NETWORK_PORT): selector.NumberSelector(
            selector.NumberSelectorConfig(
                min=1, max=65535, step=1, mode=selector.NumberSelectorMode.BOX
            )
        ),
    }
)


_KEY_SELECTOR: Final = selector.TextSelector(
    selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
)
_KEY_SCHEMA: Final = vol.Schema({vol.Required(CONF_ENCRYPTION_KEY): _KEY_SELECTOR})


class P1Flow(KindFlow):
    """Set up a P1 meter: choose the connection, then we detect the rest."""

    def __init__(self) -> None:
        """Start with nothing detected."""
        super().__init__()
        self._endpoint: Endpoint | None = None
        self._encryption_key: str | None = None
        self._result: ProbeResult | None = None

    async def async_step_p1(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask how the meter is connected."""
        return self.async_show_menu(
            step_id=KIND_P1,
            menu_options=[CONNECTION_SERIAL, CONNECTION_NETWORK, CONNECTION_PUSH],
        )

    async def async_step_serial(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the serial port, then listen to it."""
        return await self._async_connection_step("serial", _SERIAL_SCHEMA, user_input)

    async def async_step_network(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for host and port, then listen to it."""
        return await self._async_connection_step("network", _NETWORK_SCHEMA, user_input)

    async def _async_connection_step(
        self,
        step_id: str,
        schema: vol.Schema,
        user_input: dict[str, Any] | None,
        suggested: Mapping[str, Any] | None = None,
    ) -> ConfigFlowResult:
        """Show a connection form; on submit, listen to the meter it names."""
        errors: dict[str, str] = {}
        if user_input is not None:
            self._endpoint = endpoint_from_input(user_input)
            if CONF_ENCRYPTION_KEY in user_input:
                self._encryption_key = user_input[CONF_ENCRYPTION_KEY].strip()
            if (result := await self._async_probe(errors)) is not None:
                return result
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(schema, user_input or suggested),
            errors=errors,
        )

    async def async_step_push(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Set up a meter whose telegrams are pushed to Home Assistant's API."""
        if user_input is not None:
            return self.async_create_entry(
                title=user_input[CONF_NAME],
                data={
                    CONF_KIND: KIND_P1,
                    CONF_CONNECTION_TYPE: CONNECTION_PUSH,
                    CONF_SPECIFICATION: user_input[CONF_SPECIFICATION],
                },
                options=_new_entry_options(),
            )
        return self.async_show_form(
            step_id="push",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_NAME): selector.TextSelector(),
                    vol.Required(CONF_SPECIFICATION, default="5"): _SPECIFICATION_SELECTOR,
                }
            ),
        )

    async def async_step_encryption_key(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the key of a meter that encrypts its telegrams."""
        return await self._async_key_step("encryption_key", user_input)

    async def _async_key_step(
        self,
        step_id: str,
        user_input: dict[str, Any] | None,
        placeholders: dict[str, str] | None = None,
    ) -> ConfigFlowResult:
        """Ask for the key, then listen to the meter with it."""
        errors: dict[str, str] = {}
        if user_input is not None:
            self._encryption_key = user_input[CONF_ENCRYPTION_KEY].strip()
            if (result := await self._async_probe(errors)) is not None:
                return result
        return self.async_show_form(
            step_id=step_id,
            data_schema=_KEY_SCHEMA,
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _async_probe(self, errors: dict[str, str]) -> ConfigFlowResult | None:
        """Listen to the meter; go on to the next step, or fill ``errors``."""
        assert self._endpoint is not None
        if self._encryption_key is not None and not _KEY_FORMAT.fullmatch(self._encryption_key):
            errors["base"] = "invalid_key"
            return None
        try:
            self._result = await probe(
                self._endpoint,
                encryption_key=self._encryption_key,
                timeout=PROBE_TIMEOUT,
                per_setting=PER_SETTING_TIMEOUT,
            )
        except EncryptionKeyRequired:
            return await self.async_step_encryption_key()
        except ProbeError as err:
            serial = isinstance(self._endpoint, SerialPort)
            # A serial port is opened, a host connected to: each error names its own fields.
            errors["base"] = (
                "cannot_open_port" if serial and err.reason == "cannot_connect" else err.reason
            )
            return None
        # A meter that sends no equipment id has no unique id: its address could change.
        equipment_id = self._result.equipment_id
        if self.source in (SOURCE_RECONFIGURE, SOURCE_REAUTH):
            entry = (
                self._get_reauth_entry()
                if self.source == SOURCE_REAUTH
                else self._get_reconfigure_entry()
            )
            if equipment_id != entry.unique_id:
                return self.async_abort(reason="wrong_meter")
            return self._async_update_entry(entry)
        if equipment_id is None:
            self._async_abort_entries_match(endpoint_match(self._result.endpoint))
        else:
            await self.async_set_unique_id(equipment_id, raise_on_progress=False)
            self._abort_if_unique_id_configured()
        return await self.async_step_confirm()

    def _async_update_entry(self, entry: ConfigEntry) -> ConfigFlowResult:
        """Save the new connection or key, keeping the meter type; then reload the entry.

        A loaded entry's update listener reloads it; one whose setup failed has none.
        """
        if entry.state is not ConfigEntryState.LOADED:
            self.hass.config_entries.async_schedule_reload(entry.entry_id)
        return self.async_update_and_abort(
            entry, data_updates=self._entry_data(entry.data[CONF_SPECIFICATION])
        )

    def _entry_data(self, specification: str | None = None) -> dict[str, Any]:
        assert self._result is not None
        data = {
            CONF_KIND: KIND_P1,
            **endpoint_data(self._result.endpoint),
            CONF_SPECIFICATION: specification or self._result.specification.key,
        }
        if self._encryption_key:
            data[CONF_ENCRYPTION_KEY] = self._encryption_key
        return data

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show what was detected; the user may correct the specification."""
        result = self._result
        assert result is not None
        reading = to_reading(result.telegram, result.identification)
        title = " ".join(filter(None, (reading.manufacturer, reading.model))) or (
            result.specification.label
        )
        if user_input is not None:
            return self.async_create_entry(
                title=title,
                data=self._entry_data(user_input[CONF_SPECIFICATION]),
                options=_new_entry_options(),
            )
        return self.async_show_form(
            step_id="confirm",
            data_schema=vol.Schema(
                {
                    vol.Required(
                        CONF_SPECIFICATION, default=result.specification.key
                    ): _SPECIFICATION_SELECTOR
                }
            ),
            description_placeholders={
                "meter": title,
                "specification": result.specification.label,
                "port": str(result.endpoint),
                "line": result.endpoint.settings.label
                if isinstance(result.endpoint, SerialPort)
                else "TCP",
                "equipment_id": equipment_id_text(result.equipment_id)
                if result.equipment_id
                else "-",
            },
        )

    async def async_kind_reconfigure(self, user_input: dict[str, Any] | None) -> ConfigFlowResult:
        """Change the port or address of a configured meter, keeping its history."""
        entry = self._get_reconfigure_entry()
        endpoint = endpoint_from_data(entry.data)
        if endpoint is None:
            return self.async_abort(reason="push_only")
        schema = _SERIAL_SCHEMA if isinstance(endpoint, SerialPort) else _NETWORK_SCHEMA
        if CONF_ENCRYPTION_KEY in entry.data:
            # The key may have changed with the address (a new meter or dongle).
            schema = schema.extend({vol.Required(CONF_ENCRYPTION_KEY): _KEY_SELECTOR})
        return await self._async_connection_step("reconfigure", schema, user_input, entry.data)

    async def async_kind_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Ask for a new key: the meter's telegrams no longer decrypt with the one saved."""
        self._endpoint = endpoint_from_data(entry_data)
        # Started by the reader only, when the meter's telegrams stop decrypting.
        assert self._endpoint is not None
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the key from the grid operator and try it on the meter."""
        entry = self._get_reauth_entry()
        return await self._async_key_step(
            "reauth_confirm", user_input, {"title": entry.title, "port": str(self._endpoint)}
        )
