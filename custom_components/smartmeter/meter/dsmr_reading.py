"""A parsed telegram as the store keeps it: a DsmrReading, meter statistics and captures.

The captures are the positions of M-Bus water and heat meters, which DSMR-reader does not keep.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Context, Decimal
from typing import Any, Final

from dsmr_parser.objects import Telegram

from .errors import TelegramError
from .reading import MBUS_GAS, MBUS_WATER
from .records import CAPTURE_PLACES, Capture, CaptureKind, Reading, StatisticsValue
from .specifications import Specification

# DSMR-reader refuses readings stamped more than a day ahead (a meter with a wrong clock).
FUTURE_LIMIT: Final = timedelta(hours=24)
# Units the meters send -> the unit DSMR-reader's columns are in, and the factor.
_SCALE: Final = {"Wh": Decimal("0.001"), "W": Decimal("0.001"), "varh": Decimal("0.001")}
_THREE_PLACES: Final = Decimal("0.001")
_ONE_PLACE: Final = Decimal("0.1")
# What DSMR-reader's columns hold: decimal(9, 3) for energy, power and gas, (4, 1) for
# voltage, 32-bit integers. It fails on a value beyond them, so such a telegram is refused.
_LIMIT: Final = {_THREE_PLACES: Decimal(10**6), _ONE_PLACE: Decimal(1000)}
_INTEGERS: Final = range(-(2**31), 2**31)
# Heat positions are kept in GJ: per unit a heat meter may write.
_GJ_PER: Final = {"GJ": Decimal(1), "kWh": Decimal("0.0036"), "MWh": Decimal("3.6")}
# A capture is kept in billionths (CAPTURE_PLACES) in a 64-bit integer.
_CAPTURE_LIMIT: Final = Decimal(10**9)
_CAPTURE_PLACES: Final = Decimal(1).scaleb(-CAPTURE_PLACES)
_EXACT: Final = Context(prec=40)


class FutureTelegram(TelegramError):
    """The telegram is stamped more than a day in the future."""


class NoElectricity(TelegramError):
    """The telegram has no electricity meter positions (e.g. a heat meter alone)."""


class MissingRegister(TelegramError):
    """The telegram lacks a register its specification requires."""

    def __init__(self, register: str) -> None:
        """Name the register (OBIS code and what it is)."""
        super().__init__(f"Telegram without {register}")
        self.register = register


class ValueOutOfRange(TelegramError):
    """A value does not fit where DSMR-reader keeps it."""


@dataclass(frozen=True, slots=True)
class _Register:
    """A reading's electricity field: the telegram objects it comes from, and its OBIS code."""

    tariff: str
    total: str | None
    code: str
    total_code: str | None
    description: str


_ELECTRICITY: Final = {
    "electricity_delivered_1": _Register(
        "ELECTRICITY_USED_TARIFF_1",
        "ELECTRICITY_IMPORTED_TOTAL",
        "1-0:1.8.1",
        "1-0:1.8.0",
        "electricity delivered",
    ),
    "electricity_returned_1": _Register(
        "ELECTRICITY_DELIVERED_TARIFF_1",
        "ELECTRICITY_EXPORTED_TOTAL",
        "1-0:2.8.1",
        "1-0:2.8.0",
        "electricity returned",
    ),
    "electricity_delivered_2": _Register(
        "ELECTRICITY_USED_TARIFF_2", None, "1-0:1.8.2", None, "electricity delivered, tariff 2"
    ),
    "electricity_returned_2": _Register(
        "ELECTRICITY_DELIVERED_TARIFF_2", None, "1-0:2.8.2", None, "electricity returned, tariff 2"
    ),
    "electricity_currently_delivered": _Register(
        "CURRENT_ELECTRICITY_USAGE", None, "1-0:1.7.0", None, "power delivered"
    ),
    "electricity_currently_returned": _Register(
        "CURRENT_ELECTRICITY_DELIVERY", None, "1-0:2.7.0", None, "power returned"
    ),
}


def _checked(value: Decimal, limit: Decimal, name: str) -> Decimal:
    """Return the value if it is a number below the limit; raise ValueOutOfRange if not."""
    if not value.is_finite() or abs(value) >= limit:
        raise ValueOutOfRange(f"{name} ({value}) is out of range")
    return value


def _value(telegram: Telegram, name: str, places: Decimal = _THREE_PLACES) -> Decimal | None:
    obj = getattr(telegram, name, None)
    return _column(getattr(obj, "value", None), getattr(obj, "unit", None), places, name)


def _column(value: object, unit: str | None, places: Decimal, name: str) -> Decimal | None:
    """Return a value as DSMR-reader's column keeps it; None if it is no number."""
    if not isinstance(value, Decimal):
        return None
    limit = _LIMIT[places]
    factor = _SCALE.get(unit or "")
    if factor:
        value = _checked(value, limit / factor, name) * factor
    # Django quantizes to the column's places with banker's rounding; so do we.
    return _checked(_checked(value, limit, name).quantize(places), limit, name)


def _int(telegram: Telegram, name: str) -> int | None:
    value = getattr(getattr(telegram, name, None), "value", None)
    if isinstance(value, Decimal):
        number = int(_checked(value, Decimal(2**31), name))
    elif isinstance(value, int) or (isinstance(value, str) and value.isdecimal()):
        number = int(value)
    else:
        return None
    if number not in _INTEGERS:
        raise ValueOutOfRange(f"{name} ({value}) is out of range")
    return number


def _device_type(device: Any) -> int | None:
    """Return an M-Bus device's type (EN 13757-3), None when the telegram does not say."""
    kind = getattr(device, "MBUS_DEVICE_TYPE", None) or getattr(device, "DEVICE_TYPE", None)
    value = getattr(kind, "value", None)
    if isinstance(value, str) and value.isdecimal():  # DSMR 2.2 has it as text
        return int(value)
    return value if isinstance(value, int) else None


def _gas(telegram: Telegram) -> tuple[datetime | None, Decimal | None]:
    """Return the last gas meter's reading time and m³, as DSMR-reader's regex finds it."""
    found: tuple[datetime | None, Decimal | None] = (None, None)
    for device in getattr(telegram, "MBUS_DEVICES", ()):
        if _device_type(device) != MBUS_GAS:
            continue
        for name, obj in device:
            if name.endswith("METER_READING") and obj.unit in ("m3", "m³"):
                measured_at = obj.datetime if isinstance(obj.datetime, datetime) else None
                value = _column(obj.value, None, _THREE_PLACES, name) if measured_at else None
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
    no positions (as DSMR-reader takes gas). Raises ValueOutOfRange for a position that cannot
    be kept: a billion or more, or more than CAPTURE_PLACES decimals.
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
            value = _checked(value, _CAPTURE_LIMIT, name)
            if kind == "heat":
                value *= _GJ_PER[obj.unit]
            value = _checked(value, _CAPTURE_LIMIT, name)
            if value != value.quantize(_CAPTURE_PLACES, context=_EXACT):
                raise ValueOutOfRange(f"{name} ({value}) has more than {CAPTURE_PLACES} decimals")
            captures.append(
                Capture(channel=device.channel_id, kind=kind, captured=captured, value=value)
            )
    return captures


def _has_meter_readings(telegram: Telegram) -> bool:
    """Whether the telegram carries an M-Bus meter's reading (gas, water or heat)."""
    return any(
        name.endswith("METER_READING")
        for device in getattr(telegram, "MBUS_DEVICES", ())
        for name, _ in device
    )


def electricity(telegram: Telegram, specification: Specification) -> dict[str, Decimal | None]:
    """Return the reading's electricity fields, None where the telegram lacks a register.

    Meters with totals only (Luxembourg, Sweden, Q3D) fill tariff 1 with them, as DSMR-reader
    does for the Smarty. Raises MissingRegister when the telegram lacks one the specification
    requires, NoElectricity when it has none at all, ValueOutOfRange.
    """
    values: dict[str, Decimal | None] = {}
    for field, register in _ELECTRICITY.items():
        value = _value(telegram, register.tariff)
        if value is None and specification.totals_as_tariff_1 and register.total is not None:
            value = _value(telegram, register.total)
        values[field] = value
    if all(value is None for value in values.values()):
        raise NoElectricity("Telegram has no electricity readings")
    for field in specification.required:
        if values[field] is None:
            register = _ELECTRICITY[field]
            if specification.totals_as_tariff_1 and register.total_code is not None:
                raise MissingRegister(f"{register.total_code} ({register.description})")
            description = register.description
            if register.total_code is not None:
                description += ", tariff 1"
            raise MissingRegister(f"{register.code} ({description})")
    return values


type DsmrReading = tuple[Reading, dict[str, StatisticsValue]]


def check_telegram(
    telegram: Telegram, specification: Specification, now: datetime
) -> DsmrReading | None:
    """Return the telegram's reading; raise TelegramError unless DSMR-reader could store it.

    A telegram with no electricity at all passes when it has an M-Bus meter's reading (a heat
    meter alone): its positions are kept, though it makes no reading (None).
    """
    try:
        reading: DsmrReading | None = to_dsmr_reading(telegram, now, specification)
    except NoElectricity:
        if not _has_meter_readings(telegram):
            raise
        reading = None
    mbus_captures(telegram, now)
    return reading


def to_dsmr_reading(telegram: Telegram, now: datetime, specification: Specification) -> DsmrReading:
    """Map a telegram as DSMR-reader's datalogger does (research notes, section 2.3).

    A register the specification requires is never filled in: MissingRegister. Raises
    FutureTelegram for a telegram stamped more than a day after ``now``, NoElectricity and
    ValueOutOfRange.
    """
    timestamp_obj = getattr(telegram, "P1_MESSAGE_TIMESTAMP", None)
    timestamp = getattr(timestamp_obj, "value", None)
    if not isinstance(timestamp, datetime):
        timestamp = now.astimezone(UTC)
    gas_at, gas = _gas(telegram)
    for moment in (timestamp, gas_at):
        if moment is not None and moment > now + FUTURE_LIMIT:
            raise FutureTelegram(f"Telegram stamped in the future: {moment.isoformat()}")
    values = electricity(telegram, specification)
    # What a meter may lack (tariff 2 with one tariff, export on Q3D's) is 0, as in DSMR-reader.
    zero = Decimal("0.000")
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
        electricity_delivered_1=values["electricity_delivered_1"] or zero,
        electricity_returned_1=values["electricity_returned_1"] or zero,
        electricity_delivered_2=values["electricity_delivered_2"] or zero,
        electricity_returned_2=values["electricity_returned_2"] or zero,
        electricity_currently_delivered=values["electricity_currently_delivered"] or zero,
        electricity_currently_returned=values["electricity_currently_returned"] or zero,
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
