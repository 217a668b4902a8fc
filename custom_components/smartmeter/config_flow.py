"""Config flow: connect, detect the meter, and set it up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
import re
from typing import Any, Final

from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
    SubentryFlowResult,
)
from homeassistant.const import CONF_DEVICE, CONF_HOST, CONF_NAME, CONF_PORT
from homeassistant.core import callback
from homeassistant.data_entry_flow import section
from homeassistant.helpers import selector
import probatio as vol
from sqlalchemy.exc import SQLAlchemyError

from . import endpoint_from_data, forward_targets
from .api.auth import generate_auth_key
from .const import (
    CONF_API_ENABLED,
    CONF_API_KEY,
    CONF_CONNECTION_TYPE,
    CONF_DATABASE_URL,
    CONF_ENCRYPTION_KEY,
    CONF_FORWARD_TARGETS,
    CONF_MIN_UPDATE_INTERVAL,
    CONF_RETENTION_HOURS,
    CONF_SERIAL_SETTINGS,
    CONF_SPECIFICATION,
    CONNECTION_NETWORK,
    CONNECTION_PUSH,
    CONNECTION_SERIAL,
    DEFAULT_MIN_UPDATE_INTERVAL,
    DEFAULT_NETWORK_PORT,
    DOMAIN,
    RETENTION_CHOICES,
    RETENTION_OFF,
    SUBENTRY_ENERGY_CONTRACT,
)
from .contracts import (
    CONF_DESCRIPTION,
    CONF_END,
    CONF_START,
    FIXED_DAILY_COST,
    PRICE_FIELDS,
    InvalidContract,
    contract_data,
    contract_form_values,
    contract_title,
)
from .meter.reading import equipment_id_text, to_reading
from .meter.specifications import SERIAL_CANDIDATES, SPECIFICATIONS
from .models import SmartMeterConfigEntry
from .pvoutput_flow import SUBENTRY_PVOUTPUT, PVOutputSubentryFlow
from .reader.connection import Endpoint, NetworkPort, SerialPort
from .reader.probe import (
    PER_SETTING_TIMEOUT,
    PROBE_TIMEOUT,
    EncryptionKeyRequired,
    ProbeError,
    ProbeResult,
    probe,
)
from .store.errors import StoreError
from .store.store import ReadingStore

_KEY_FORMAT: Final = re.compile(r"[0-9a-fA-F]{32}")

OPTIONS_UPDATES: Final = "updates"
OPTIONS_API: Final = "api"
OPTIONS_DATABASE: Final = "database"
OPTIONS_FORWARDING: Final = "forwarding"
# The options form in sections, each with its own heading: how often entities update, the
# DSMR-reader compatible API, the reading database, and forwarding to DSMR-reader.
_OPTIONS_SCHEMA: Final = vol.Schema(
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
                            unit_of_measurement="s",
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


def _contract_schema(currency: str) -> vol.Schema:
    """Return the contract form, its prices in ``currency`` per kWh or m³, its fixed costs in it."""
    units = dict.fromkeys(PRICE_FIELDS, f"{currency}/kWh") | {
        "gas_price": f"{currency}/m³",
        FIXED_DAILY_COST: currency,
    }
    return vol.Schema(
        {
            vol.Optional(CONF_DESCRIPTION, default=""): selector.TextSelector(),
            vol.Required(CONF_START): selector.DateSelector(),
            vol.Required(CONF_END): selector.DateSelector(),
            **{
                vol.Required(name, default=0): selector.NumberSelector(
                    selector.NumberSelectorConfig(
                        step="any", mode=selector.NumberSelectorMode.BOX, unit_of_measurement=unit
                    )
                )
                for name, unit in units.items()
            },
        }
    )


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


def _endpoint_data(endpoint: Endpoint) -> dict[str, Any]:
    if isinstance(endpoint, SerialPort):
        return {
            CONF_CONNECTION_TYPE: CONNECTION_SERIAL,
            CONF_DEVICE: endpoint.device,
            CONF_SERIAL_SETTINGS: asdict(endpoint.settings),
        }
    return {
        CONF_CONNECTION_TYPE: CONNECTION_NETWORK,
        CONF_HOST: endpoint.host,
        CONF_PORT: endpoint.port,
    }


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


def _endpoint_from_input(user_input: dict[str, Any]) -> Endpoint:
    """Return the endpoint a serial or network form describes; probing sets the line."""
    if CONF_DEVICE in user_input:
        return SerialPort(user_input[CONF_DEVICE], SERIAL_CANDIDATES[0])
    return NetworkPort(user_input[CONF_HOST].strip(), int(user_input[CONF_PORT]))


def _endpoint_match(endpoint: Endpoint) -> dict[str, Any]:
    """Return the entry data that tells an entry reading this endpoint."""
    if isinstance(endpoint, SerialPort):
        return {CONF_DEVICE: endpoint.device}
    return {CONF_HOST: endpoint.host, CONF_PORT: endpoint.port}


class SmartMeterConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a meter: choose the connection, then we detect the rest."""

    VERSION = 1
    # 2: meters without an equipment id have no unique id; M-Bus unique ids hold the meter's.
    MINOR_VERSION = 2

    def __init__(self) -> None:
        """Start with nothing detected."""
        self._endpoint: Endpoint | None = None
        self._encryption_key: str | None = None
        self._result: ProbeResult | None = None

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Energy contracts price the meter's consumption; PVOutput exports upload it."""
        return {
            SUBENTRY_ENERGY_CONTRACT: EnergyContractFlow,
            SUBENTRY_PVOUTPUT: PVOutputSubentryFlow,
        }

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: SmartMeterConfigEntry) -> SmartMeterOptionsFlow:
        """Return the options flow."""
        return SmartMeterOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask how the meter is connected."""
        return self.async_show_menu(
            step_id="user", menu_options=[CONNECTION_SERIAL, CONNECTION_NETWORK, CONNECTION_PUSH]
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
            self._endpoint = _endpoint_from_input(user_input)
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
            self._async_abort_entries_match(_endpoint_match(self._result.endpoint))
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
            **_endpoint_data(self._result.endpoint),
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

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the port or address of a configured meter, keeping its history."""
        entry = self._get_reconfigure_entry()
        endpoint = endpoint_from_data(dict(entry.data))
        if endpoint is None:
            return self.async_abort(reason="push_only")
        schema = _SERIAL_SCHEMA if isinstance(endpoint, SerialPort) else _NETWORK_SCHEMA
        if CONF_ENCRYPTION_KEY in entry.data:
            # The key may have changed with the address (a new meter or dongle).
            schema = schema.extend({vol.Required(CONF_ENCRYPTION_KEY): _KEY_SELECTOR})
        return await self._async_connection_step("reconfigure", schema, user_input, entry.data)

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Ask for a new key: the meter's telegrams no longer decrypt with the one saved."""
        self._endpoint = endpoint_from_data(dict(entry_data))
        if self._endpoint is None:
            return self.async_abort(reason="push_only")
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the key from the grid operator and try it on the meter."""
        entry = self._get_reauth_entry()
        return await self._async_key_step(
            "reauth_confirm", user_input, {"title": entry.title, "port": str(self._endpoint)}
        )


class SmartMeterOptionsFlow(OptionsFlow):
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
                _OPTIONS_SCHEMA, user_input or _in_sections(self.config_entry.options)
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
        for key, part in _OPTIONS_SCHEMA.schema.items()
    }


class EnergyContractFlow(ConfigSubentryFlow):
    """Add or change an energy contract: prices per kWh and m³ between two dates."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Ask for the contract's dates and prices."""
        return await self._async_contract_step("user", user_input, {})

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change a contract; the costs of the days it covers are computed again."""
        return await self._async_contract_step(
            "reconfigure", user_input, contract_form_values(self._get_reconfigure_subentry().data)
        )

    async def _async_contract_step(
        self, step_id: str, user_input: dict[str, Any] | None, current: Mapping[str, Any]
    ) -> SubentryFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                data = contract_data(user_input)
            except InvalidContract as err:
                field, error = err.args[0]
                errors[field] = error
            else:
                if step_id == "user":
                    return self.async_create_entry(title=contract_title(data), data=data)
                return self.async_update_and_abort(
                    self._get_entry(),
                    self._get_reconfigure_subentry(),
                    title=contract_title(data),
                    data=data,
                )
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(
                _contract_schema(self.hass.config.currency), user_input or current
            ),
            errors=errors,
        )


def _database_works(url: str) -> bool:
    """Tell whether the database at ``url`` opens (and is migrated)."""
    try:
        ReadingStore.open(url).close()
    except StoreError, SQLAlchemyError, ValueError, ImportError:
        return False
    return True
