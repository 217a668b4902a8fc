"""How a P1 meter is connected, as its entry's data and its flow's forms say."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.const import CONF_DEVICE, CONF_HOST, CONF_PORT

from ...const import (
    CONF_CONNECTION_TYPE,
    CONF_SERIAL_SETTINGS,
    CONNECTION_NETWORK,
    CONNECTION_SERIAL,
)
from ...meter.specifications import SERIAL_CANDIDATES, SerialSettings
from ...reader.connection import Endpoint, NetworkPort, SerialPort

# The serial line's settings in the entry's data, by name: renaming a field of SerialSettings
# must not make saved entries unreadable.
_BAUDRATE = "baudrate"
_BYTESIZE = "bytesize"
_PARITY = "parity"


def endpoint_from_data(data: Mapping[str, Any]) -> Endpoint | None:
    """Return where the entry reads from; None in push-only mode."""
    connection_type = data[CONF_CONNECTION_TYPE]
    if connection_type == CONNECTION_SERIAL:
        settings = data[CONF_SERIAL_SETTINGS]
        return SerialPort(
            str(data[CONF_DEVICE]),
            SerialSettings(int(settings[_BAUDRATE]), int(settings[_BYTESIZE]), settings[_PARITY]),
        )
    if connection_type == CONNECTION_NETWORK:
        return NetworkPort(str(data[CONF_HOST]), int(data[CONF_PORT]))
    return None


def endpoint_data(endpoint: Endpoint) -> dict[str, Any]:
    """Return the entry data that says where to read from."""
    if isinstance(endpoint, SerialPort):
        settings = endpoint.settings
        return {
            CONF_CONNECTION_TYPE: CONNECTION_SERIAL,
            CONF_DEVICE: endpoint.device,
            CONF_SERIAL_SETTINGS: {
                _BAUDRATE: settings.baudrate,
                _BYTESIZE: settings.bytesize,
                _PARITY: settings.parity,
            },
        }
    return {
        CONF_CONNECTION_TYPE: CONNECTION_NETWORK,
        CONF_HOST: endpoint.host,
        CONF_PORT: endpoint.port,
    }


def endpoint_match(endpoint: Endpoint) -> dict[str, Any]:
    """Return the entry data that tells an entry reading this endpoint."""
    if isinstance(endpoint, SerialPort):
        return {CONF_DEVICE: endpoint.device}
    return {CONF_HOST: endpoint.host, CONF_PORT: endpoint.port}


def endpoint_from_input(user_input: Mapping[str, Any]) -> Endpoint:
    """Return the endpoint a serial or network form describes; probing sets the line."""
    if CONF_DEVICE in user_input:
        return SerialPort(user_input[CONF_DEVICE], SERIAL_CANDIDATES[0])
    return NetworkPort(user_input[CONF_HOST].strip(), int(user_input[CONF_PORT]))
