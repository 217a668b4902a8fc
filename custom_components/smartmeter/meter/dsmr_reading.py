"""A parsed telegram as the store keeps it: a DsmrReading, meter statistics and captures.

The captures are the positions of M-Bus water and heat meters, which DSMR-reader does not keep.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from dsmr_parser.objects import Telegram

from ..store.model import Capture, CaptureKind, Reading, StatisticsValue
from .errors import TelegramError
from .reading import MBUS_GAS, MBUS_WATER

# DSMR-reader refuses readings stamped more than a day ahead (a meter with a wrong clock).
FUTURE_LIMIT: Final = timedelta(hours=24)
# Units the meters send -> the unit DSMR-reader's columns are in, and the factor.
_SCALE: Final = {"Wh": Decimal("0.001"), "W": Decimal("0.001"), "varh": Decimal("0.001")}
_THREE_PLACES: Final = Decimal("0.001")
# Heat positions are kept in GJ: per unit a heat meter may write.
_GJ_PER: Final = {"GJ": Decimal(1), "kWh": Decimal("0.0036"), "MWh": Decimal("3.6")}
_ONE_PLACE: Final = Decimal("0.1")


class FutureTelegram(TelegramError):
    """The telegram is stamped more than a day in the future."""


class NoElectricity(TelegramError):
    """The telegram has no electricity meter positions (e.g. a heat meter alone)."""


def _value(telegram: Telegram, name: str, places: Decimal = _THREE_PLACES) -> Decimal | None:
    obj = getattr(telegram, name, None)
    value = getattr(obj, "value", None)
    if not isinstance(value, Decimal):
        return None
    factor = _SCALE.get(getattr(obj, "unit", None) or "")
    # Django quantizes to the column's places with banker's rounding; so do we.
    return (value * factor if factor else value).quantize(places)


def _int(telegram: Telegram, name: str) -> int | None:
    value = getattr(getattr(telegram, name, None), "value", None)
    if isinstance(value, (int, Decimal)):
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _device_type(device: Any) -> int | None:
    """Return an M-Bus device's type (EN 13757-3), None when the telegram does not say."""
    kind = getattr(device, "MBUS_DEVICE_TYPE", None) or getattr(device, "DEVICE_TYPE", None)
    return None if kind is None or kind.value is None else int(kind.value)


def _gas(telegram: Telegram) -> tuple[datetime | None, Decimal | None]:
    """Return the last gas meter's reading time and m³, as DSMR-reader's regex finds it."""
    found: tuple[datetime | None, Decimal | None] = (None, None)
    for device in getattr(telegram, "MBUS_DEVICES", ()):
        if _device_type(device) != MBUS_GAS:
            continue
        for name, obj in device:
            if name.endswith("METER_READING") and obj.unit in ("m3", "m³"):
                measured_at = obj.datetime if isinstance(obj.datetime, datetime) else None
                value = obj.value.quantize(_THREE_PLACES) if measured_at else None
                found = (measured_at, value)
    return found


def _capture_kind(device_type: int | None, unit: str | None) -> CaptureKind | None:
    """Return what an M-Bus device's reading is kept as; None for gas and the unknown."""
    if device_type == MBUS_GAS:
        return None
    if unit in _GJ_PER:
        return "heat"
    if device_type == MBUS_WATER and unit in ("m3", "m³"):
        return "water"
    return None


def mbus_captures(telegram: Telegram, now: datetime) -> list[Capture]:
    """Return the positions of the telegram's water and heat meters, in GJ for heat.

    A position of 0, one without a capture time and one stamped more than a day after now are
    no positions (as DSMR-reader takes gas).
    """
    captures = []
    for device in getattr(telegram, "MBUS_DEVICES", ()):
        device_type = _device_type(device)
        for name, obj in device:
            if not name.endswith("METER_READING"):
                continue
            kind = _capture_kind(device_type, obj.unit)
            captured = obj.datetime
            value = obj.value
            if (
                kind is None
                or not isinstance(captured, datetime)
                or not isinstance(value, Decimal)
                or not value
                or captured > now + FUTURE_LIMIT
            ):
                continue
            if kind == "heat":
                value *= _GJ_PER[obj.unit]
            captures.append(
                Capture(channel=device.channel_id, kind=kind, captured=captured, value=value)
            )
    return captures


def to_dsmr_reading(
    telegram: Telegram, now: datetime
) -> tuple[Reading, dict[str, StatisticsValue]]:
    """Map a telegram as DSMR-reader's datalogger does (research notes, section 2.3).

    Raises FutureTelegram for a telegram stamped more than a day after ``now``.
    """
    timestamp_obj = getattr(telegram, "P1_MESSAGE_TIMESTAMP", None)
    timestamp = getattr(timestamp_obj, "value", None)
    if not isinstance(timestamp, datetime):
        timestamp = now.astimezone(UTC)
    gas_at, gas = _gas(telegram)
    for moment in (timestamp, gas_at):
        if moment is not None and moment > now + FUTURE_LIMIT:
            raise FutureTelegram(f"Telegram stamped in the future: {moment.isoformat()}")
    zero = Decimal("0.000")
    # Meters with totals only (Luxembourg, Sweden, Q3D) fill tariff 1, as DSMR-reader does.
    delivered_1 = _value(telegram, "ELECTRICITY_USED_TARIFF_1")
    if delivered_1 is None:
        delivered_1 = _value(telegram, "ELECTRICITY_IMPORTED_TOTAL")
    returned_1 = _value(telegram, "ELECTRICITY_DELIVERED_TARIFF_1")
    if returned_1 is None:
        returned_1 = _value(telegram, "ELECTRICITY_EXPORTED_TOTAL")
    if delivered_1 is None and _value(telegram, "CURRENT_ELECTRICITY_USAGE") is None:
        raise NoElectricity("Telegram has no electricity readings")
    phases: dict[str, Any] = {}
    for phase in (1, 2, 3):
        phases[f"phase_currently_delivered_l{phase}"] = _value(
            telegram, f"INSTANTANEOUS_ACTIVE_POWER_L{phase}_POSITIVE"
        )
        phases[f"phase_currently_returned_l{phase}"] = _value(
            telegram, f"INSTANTANEOUS_ACTIVE_POWER_L{phase}_NEGATIVE"
        )
        phases[f"phase_voltage_l{phase}"] = _value(
            telegram, f"INSTANTANEOUS_VOLTAGE_L{phase}", _ONE_PLACE
        )
        phases[f"phase_power_current_l{phase}"] = _int(telegram, f"INSTANTANEOUS_CURRENT_L{phase}")
    reading = Reading(
        timestamp=timestamp,
        electricity_delivered_1=delivered_1 if delivered_1 is not None else zero,
        electricity_returned_1=returned_1 if returned_1 is not None else zero,
        electricity_delivered_2=_value(telegram, "ELECTRICITY_USED_TARIFF_2") or zero,
        electricity_returned_2=_value(telegram, "ELECTRICITY_DELIVERED_TARIFF_2") or zero,
        electricity_currently_delivered=_value(telegram, "CURRENT_ELECTRICITY_USAGE") or zero,
        electricity_currently_returned=_value(telegram, "CURRENT_ELECTRICITY_DELIVERY") or zero,
        extra_device_timestamp=gas_at,
        extra_device_delivered=gas,
        **phases,
    )
    header = getattr(getattr(telegram, "P1_MESSAGE_HEADER", None), "value", None)
    statistics: dict[str, StatisticsValue] = {
        "timestamp": timestamp,
        "dsmr_version": str(header)[:2] if header else None,
        "electricity_tariff": _int(telegram, "ELECTRICITY_ACTIVE_TARIFF"),
        "power_failure_count": _int(telegram, "SHORT_POWER_FAILURE_COUNT"),
        "long_power_failure_count": _int(telegram, "LONG_POWER_FAILURE_COUNT"),
        **{
            f"voltage_{kind}_count_l{phase}": _int(
                telegram, f"VOLTAGE_{kind.upper()}_L{phase}_COUNT"
            )
            for kind in ("sag", "swell")
            for phase in (1, 2, 3)
        },
    }
    return reading, statistics
