"""JSON shapes of DSMR-reader's model serializers (DRF 3.14 ``ModelSerializer``).

- Model ``DecimalField``s render as strings quantized to the column's places
  (``COERCE_DECIMAL_TO_STRING``): ``"1.500"``, ``"231.4"``; null stays null.
- ``DateTimeField``s render as ``isoformat()`` in the local time zone, microseconds only when
  non-zero, and a trailing ``+00:00`` replaced by ``Z``.
- Keys follow the model's field declaration order, ``id`` first.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Any, Final

from ..store.model import MeterStatistics, StoredReading
from .params import localize

DSMR_READER_VERSION: Final = "5.11.0"
METER_STATISTICS_ID: Final = 1
KWH_PLACES: Final = 3  # kWh, kW and m³ columns: decimal(9, 3)
VOLTAGE_PLACES: Final = 1  # V columns: decimal(4, 1)


def decimal_string(value: Decimal | float | None, places: int) -> str | None:
    """Render a decimal column as DRF does: quantized to ``places`` (half-even), fixed notation.

    ``Decimal("1.5"), 3`` gives ``"1.500"``; ``Decimal("1E+3"), 3`` gives ``"1000.000"``.
    Ints and floats go through ``str()`` first, as DRF does. None stays None.
    """
    if value is None:
        return None
    if not isinstance(value, Decimal):
        value = Decimal(str(value).strip())
    # DRF limits the context to max_digits; a wide context renders any finite value instead of
    # failing (the database columns keep real values inside max_digits anyway).
    context = Context(prec=max(28, value.adjusted() + places + 2), rounding=ROUND_HALF_EVEN)
    quantized = value.quantize(Decimal(1).scaleb(-places), context=context)
    return f"{quantized:f}"


def local_datetime(value: datetime | None, tz: tzinfo) -> str | None:
    """Render a datetime as DRF does: ``isoformat()`` in ``tz``, ``+00:00`` shown as ``Z``.

    Microseconds appear only when non-zero. A naive value counts as local time in ``tz``. DRF
    replaces any ``+00:00`` suffix, so a zone at UTC+0 in winter (e.g. Europe/London) gets ``Z``
    too. None stays None.
    """
    if value is None:
        return None
    text = localize(value, tz).isoformat()
    if text.endswith("+00:00"):
        text = text[:-6] + "Z"
    return text


def _kwh(value: Decimal | None) -> str | None:
    return decimal_string(value, KWH_PLACES)


def _volt(value: Decimal | None) -> str | None:
    return decimal_string(value, VOLTAGE_PLACES)


def dsmr_reading_json(reading: StoredReading, tz: tzinfo) -> dict[str, Any]:
    """Return a reading as ``GET``/``POST /api/v2/datalogger/dsmrreading`` show it."""
    return {
        "id": reading.id,
        "timestamp": local_datetime(reading.timestamp, tz),
        "electricity_delivered_1": _kwh(reading.electricity_delivered_1),
        "electricity_returned_1": _kwh(reading.electricity_returned_1),
        "electricity_delivered_2": _kwh(reading.electricity_delivered_2),
        "electricity_returned_2": _kwh(reading.electricity_returned_2),
        "electricity_currently_delivered": _kwh(reading.electricity_currently_delivered),
        "electricity_currently_returned": _kwh(reading.electricity_currently_returned),
        "phase_currently_delivered_l1": _kwh(reading.phase_currently_delivered_l1),
        "phase_currently_delivered_l2": _kwh(reading.phase_currently_delivered_l2),
        "phase_currently_delivered_l3": _kwh(reading.phase_currently_delivered_l3),
        "extra_device_timestamp": local_datetime(reading.extra_device_timestamp, tz),
        "extra_device_delivered": _kwh(reading.extra_device_delivered),
        "phase_currently_returned_l1": _kwh(reading.phase_currently_returned_l1),
        "phase_currently_returned_l2": _kwh(reading.phase_currently_returned_l2),
        "phase_currently_returned_l3": _kwh(reading.phase_currently_returned_l3),
        "phase_voltage_l1": _volt(reading.phase_voltage_l1),
        "phase_voltage_l2": _volt(reading.phase_voltage_l2),
        "phase_voltage_l3": _volt(reading.phase_voltage_l3),
        "phase_power_current_l1": reading.phase_power_current_l1,
        "phase_power_current_l2": reading.phase_power_current_l2,
        "phase_power_current_l3": reading.phase_power_current_l3,
    }


def meter_statistics_json(stats: MeterStatistics, tz: tzinfo) -> dict[str, Any]:
    """Return the statistics as ``GET``/``PATCH /api/v2/datalogger/meter-statistics`` show them."""
    return {
        "id": METER_STATISTICS_ID,
        "timestamp": local_datetime(stats.timestamp, tz),
        "dsmr_version": stats.dsmr_version,
        "electricity_tariff": stats.electricity_tariff,
        "power_failure_count": stats.power_failure_count,
        "long_power_failure_count": stats.long_power_failure_count,
        "voltage_sag_count_l1": stats.voltage_sag_count_l1,
        "voltage_sag_count_l2": stats.voltage_sag_count_l2,
        "voltage_sag_count_l3": stats.voltage_sag_count_l3,
        "voltage_swell_count_l1": stats.voltage_swell_count_l1,
        "voltage_swell_count_l2": stats.voltage_swell_count_l2,
        "voltage_swell_count_l3": stats.voltage_swell_count_l3,
        "rejected_telegrams": stats.rejected_telegrams,
        "latest_telegram": stats.latest_telegram,
    }


def version_json() -> dict[str, str]:
    """Return the body of ``GET /api/v2/application/version``."""
    return {"version": DSMR_READER_VERSION}
