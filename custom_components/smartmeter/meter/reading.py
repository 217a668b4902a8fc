"""A meter's values as plain numbers in the units Home Assistant users expect."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from dsmr_parser.objects import (
    CosemObject,
    MbusDevice,
    MBusObject,
    MBusObjectPeak,
    ProfileGenericObject,
    Telegram,
)

# Meter unit -> (unit we expose, factor). Power in W and energy in kWh whatever
# the meter sends, so a meter swap never changes a statistic's unit.
_UNITS: Final[dict[str, tuple[str, Decimal]]] = {
    "kW": ("W", Decimal(1000)),
    "W": ("W", Decimal(1)),
    "kWh": ("kWh", Decimal(1)),
    "Wh": ("kWh", Decimal("0.001")),
    "kvar": ("var", Decimal(1000)),
    "var": ("var", Decimal(1)),
    "kvarh": ("kvarh", Decimal(1)),
    "varh": ("kvarh", Decimal("0.001")),
    "kVA": ("VA", Decimal(1000)),
    "m3": ("m³", Decimal(1)),
    "m³": ("m³", Decimal(1)),
}

# DLMS FLAG ids (first three letters of the identification line) we know.
MANUFACTURERS: Final = {
    "AME": "Aidon",
    "EST": "Sagemcom",
    "ELL": "Elster",
    "ESY": "EasyMeter",
    "FLU": "Fluvius",
    "ISK": "Iskra",
    "KAM": "Kamstrup",
    "KFM": "Kaifa",
    "LGF": "Landis+Gyr",
    "NWA": "NWA",
    "SAG": "Sagemcom",
    "SMS": "Sagemcom",
    "XMX": "Landis+Gyr",
    "ZIV": "ZIV",
}

# M-Bus device types (EN 13757-3) that carry a meter reading we expose.
MBUS_GAS: Final = 3
MBUS_HEAT: Final = 4
MBUS_WATER: Final = 7
MBUS_HEAT_COOL: Final = 12

type Value = float | int | str | datetime | list[Peak] | list[PowerFailure] | None


@dataclass(frozen=True, slots=True)
class Peak:
    """One month's peak demand (Belgian capacity tariff)."""

    month: datetime
    occurred: datetime | None
    power: float


@dataclass(frozen=True, slots=True)
class PowerFailure:
    """One entry of the meter's long power failure log."""

    ended: datetime | None
    seconds: float


@dataclass(slots=True)
class MBusReading:
    """One device on the meter's M-Bus (gas, water, heat, ...)."""

    channel: int
    device_type: int | None = None
    equipment_id: str | None = None
    reading: float | None = None
    unit: str | None = None
    measured_at: datetime | None = None
    valve_position: str | None = None
    # Consumption in the hour before ``measured_at``, once an hour is known.
    last_hour: float | None = None


@dataclass(slots=True)
class MeterReading:
    """Everything one telegram says, keyed by dsmr-parser's value names.

    ``mbus`` holds the M-Bus devices by meter key (see ``mbus_meter_keys``).
    """

    identification: str
    values: dict[str, Value] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    mbus: dict[str, MBusReading] = field(default_factory=dict)

    @property
    def manufacturer(self) -> str | None:
        """Return the manufacturer named by the identification line's flag id."""
        return MANUFACTURERS.get(self.identification[:3].upper())

    @property
    def model(self) -> str | None:
        """Return the model part of the identification line (after ``XXX5``), printable."""
        model = self.identification[4:]
        if model.startswith("\\"):  # "\2" and the like: enhanced identification follows
            model = model[2:]
        return printable(model) or None


def printable(text: str) -> str:
    """Return the text without what is not printable ASCII (header bytes such as 0x02 or «)."""
    return "".join(char for char in text if " " <= char <= "~").strip()


def equipment_id_text(equipment_id: str) -> str:
    """Return an equipment id as printed on the meter's case.

    Telegrams carry most ids as hex-encoded ASCII (``4B38...`` for ``K8...``); ids that are not
    (digits, binary values) are shown as sent.
    """
    try:
        text = bytes.fromhex(equipment_id).decode("ascii")
    except ValueError:
        return equipment_id
    return text if text and text == printable(text) else equipment_id


def mbus_key(equipment_id: str) -> str:
    """Return the key of the M-Bus meter that sends this equipment id."""
    return f"id_{equipment_id}"


def mbus_meter_keys(devices: list[MBusReading]) -> dict[str, MBusReading]:
    """Return the M-Bus devices by a key that follows the meter rather than the channel.

    The key holds the equipment id, so a meter replaced on the same channel gets a key of its
    own. A device without an id is keyed by its channel; so is each of several
    devices sending the same id (anonymised and test meters).
    """
    ids = Counter(device.equipment_id for device in devices if device.equipment_id)
    keyed = {}
    for device in devices:
        if not device.equipment_id:
            key = str(device.channel)
        elif ids[device.equipment_id] > 1:
            key = f"{mbus_key(device.equipment_id)}_{device.channel}"
        else:
            key = mbus_key(device.equipment_id)
        keyed[key] = device
    return keyed


def _number(value: Any, unit: str | None) -> tuple[Value, str | None]:
    if isinstance(value, Decimal):
        exposed, factor = _UNITS.get(unit or "", (unit, Decimal(1)))
        return _float(value, factor), exposed
    return value, unit


def _float(value: object, factor: Decimal = Decimal(1)) -> float | None:
    """Return a telegram's number times a factor as a float; None for none (NaN, infinite)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = Decimal(value)
    # Beyond 1e300 a float is infinite anyway; the decimal product could overflow first.
    if not isinstance(value, Decimal) or not value.is_finite() or value.adjusted() > 300:
        return None
    return float(value * factor)


def _mbus(device: MbusDevice) -> MBusReading:
    mbus = MBusReading(channel=device.channel_id)
    for name, obj in device:
        value = obj.value
        if name in ("MBUS_DEVICE_TYPE", "DEVICE_TYPE"):
            # DSMR 2.2 has it as text.
            mbus.device_type = int(value) if str(value).isdecimal() else None
        elif name in ("MBUS_EQUIPMENT_IDENTIFIER", "EQUIPMENT_IDENTIFIER_GAS"):
            mbus.equipment_id = value or None
        elif name in ("MBUS_VALVE_POSITION", "VALVE_POSITION_GAS"):
            mbus.valve_position = None if value is None else str(value)
        elif isinstance(obj, MBusObject):
            reading, mbus.unit = _number(value, obj.unit)
            mbus.reading = reading if isinstance(reading, float) else None
            measured_at = obj.datetime
            mbus.measured_at = measured_at if isinstance(measured_at, datetime) else None
    return mbus


def to_reading(telegram: Telegram, identification: str) -> MeterReading:
    """Convert a parsed telegram; numbers become floats in the exposed units."""
    reading = MeterReading(identification)
    values = reading.values
    for name, obj in telegram:
        if name == "MBUS_DEVICES":
            reading.mbus = mbus_meter_keys([_mbus(device) for device in obj])
        elif name == "BELGIUM_MAXIMUM_DEMAND_13_MONTHS":
            values[name] = _peaks(obj)
        elif isinstance(obj, ProfileGenericObject):  # the power failure log
            values[name] = _power_failures(obj)
        elif isinstance(obj, (CosemObject, MBusObject)):
            value, unit = _number(obj.value, obj.unit)
            values[name] = value
            if unit:
                reading.units[name] = unit
    return reading


def _peaks(peaks: Any) -> list[Peak]:
    """Return the monthly peaks (in W) that have a value."""
    found = []
    for peak in peaks:
        power = _float(peak.value, Decimal(1000)) if isinstance(peak, MBusObjectPeak) else None
        if power is not None:
            found.append(Peak(peak.datetime, peak.occurred, power))
    return found


def _power_failures(log: ProfileGenericObject) -> list[PowerFailure]:
    """Return the power failures of the log that have a duration."""
    found = []
    for entry in log.buffer:
        seconds = _float(entry.value)
        if seconds is not None:
            ended = entry.datetime if isinstance(entry.datetime, datetime) else None
            found.append(PowerFailure(ended, seconds))
    return found


def identification_line(telegram: str) -> str:
    r"""Return the identification line without its '/', e.g. ``ISK5\2M550T-1012``."""
    end = telegram.find("\r")
    return telegram[1 : end if end > 0 else telegram.find("\n")]
