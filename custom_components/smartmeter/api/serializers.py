"""JSON shapes of DSMR-reader's model serializers (DRF 3.14 ``ModelSerializer``).

- Model ``DecimalField``s render as strings quantized to the column's places
  (``COERCE_DECIMAL_TO_STRING``): ``"1.500"``, ``"231.4"``; null stays null.
- ``DateTimeField``s render as ``isoformat()`` in the local time zone, microseconds only when
  non-zero, and a trailing ``+00:00`` replaced by ``Z``.
- Keys follow the model's field declaration order, ``id`` first.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, date, datetime, tzinfo
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Any, Final

from ..store.listing import Record
from ..store.model import MeterStatistics, StoredReading, record_places
from ..store.processing.pricing import round_cents
from ..store.records import DayConsumption, EnergySupplierPrice, GasConsumption
from .locale import number_format
from .params import Language, localize

DSMR_READER_VERSION: Final = "5.11.0"
METER_STATISTICS_ID: Final = 1
KWH_PLACES: Final = 3  # kWh, kW and m³ columns: decimal(9, 3)
VOLTAGE_PLACES: Final = 1  # V columns: decimal(4, 1)
# FrontendSettings.tariff_1_delivered_name / tariff_2_delivered_name defaults, capitalized.
TARIFF_NAMES: Final = {1: "Daltarief", 2: "Normaaltarief"}


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


def record_json(record: Record, tz: tzinfo) -> dict[str, Any]:
    """Return a processing record (store/records.py) as DSMR-reader's ModelSerializer shows it.

    ``id`` first, then the fields in declaration order: datetimes local, dates ``YYYY-MM-DD``,
    decimals as strings with their column's places, the rest as they are.
    """
    body: dict[str, Any] = {"id": record.id}
    for field in fields(record):
        value = getattr(record, field.name)
        if isinstance(value, datetime):
            value = local_datetime(value, tz)
        elif isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            places = record_places(field.name)
            assert places is not None  # every Decimal field has its places
            value = decimal_string(value, places)
        body[field.name] = value
    return body


def _encoded_datetime(value: datetime) -> str:
    """Render as DRF's JSONEncoder does in plain views: ``isoformat()``, ``+00:00`` as ``Z``."""
    return local_datetime(value, value.tzinfo or UTC) or ""


def today_json(consumption: DayConsumption, *, has_gas: bool) -> dict[str, Any]:
    """Return ``GET /api/v2/consumption/today``: numbers as floats (DRF's JSONEncoder).

    Without gas records, DSMR-reader adds ``gas`` and ``gas_cost`` as 0 at the end instead.
    """
    prices = consumption.prices
    body: dict[str, Any] = {
        "day": consumption.day.isoformat(),
        "electricity1": float(consumption.electricity1),
        "electricity2": float(consumption.electricity2),
        "electricity1_returned": float(consumption.electricity1_returned),
        "electricity2_returned": float(consumption.electricity2_returned),
        "electricity_merged": float(consumption.electricity_merged),
        "electricity_returned_merged": float(consumption.electricity_returned_merged),
        "electricity1_cost": float(consumption.electricity1_cost),
        "electricity2_cost": float(consumption.electricity2_cost),
        "total_cost": float(consumption.total_cost),
    }
    gas = {"gas": float(consumption.gas), "gas_cost": float(consumption.gas_cost)}
    if has_gas:
        body.update(gas)
    body.update(
        {
            "fixed_cost": float(consumption.fixed_cost),
            "energy_supplier_price_electricity_delivered_1": float(
                prices.electricity_delivered_1_price
            ),
            "energy_supplier_price_electricity_delivered_2": float(
                prices.electricity_delivered_2_price
            ),
            "energy_supplier_price_electricity_returned_1": float(
                prices.electricity_returned_1_price
            ),
            "energy_supplier_price_electricity_returned_2": float(
                prices.electricity_returned_2_price
            ),
            "energy_supplier_price_gas": float(prices.gas_price),
            "energy_supplier_price_fixed_daily_cost": float(prices.fixed_daily_cost),
        }
    )
    if not has_gas:
        body.update(gas)
    return body


def no_readings_today_json(day: date) -> str:
    """Return the bare string ``/consumption/today`` answers (with 200) without readings."""
    return f"No electricity readings found for: {day.isoformat()}"


def electricity_live_json(
    reading: StoredReading | None,
    *,
    tariff: int | None,
    prices: EnergySupplierPrice | None,
    now: datetime,
    tz: tzinfo,
    language: Language,
) -> dict[str, Any]:
    """Return ``GET /api/v2/consumption/electricity-live`` for the newest reading.

    ``{}`` without a reading. The timestamp is capped at ``now``; a capped one is ``now`` as
    DSMR-reader has it, in UTC (``...Z``). Powers are whole watts, truncated. The tariff name
    and ``cost_per_hour`` (localized, 2 places) need tariff 1 or 2; the cost needs ``prices``
    too.
    """
    if reading is None:
        return {}
    timestamp = localize(reading.timestamp, tz)
    body: dict[str, Any] = {
        "timestamp": _encoded_datetime(timestamp if timestamp < now else now),
        "currently_delivered": int(reading.electricity_currently_delivered * 1000),
        "currently_returned": int(reading.electricity_currently_returned * 1000),
        "cost_per_hour": None,
        "tariff_name": TARIFF_NAMES.get(tariff) if tariff is not None else None,
    }
    if prices is None or tariff not in TARIFF_NAMES:
        return body
    delivered_price, returned_price = (
        (prices.electricity_delivered_1_price, prices.electricity_returned_1_price)
        if tariff == 1
        else (prices.electricity_delivered_2_price, prices.electricity_returned_2_price)
    )
    cost = (
        reading.electricity_currently_delivered * delivered_price
        - reading.electricity_currently_returned * returned_price
    )
    body["cost_per_hour"] = number_format(round_cents(cost), language)
    return body


def gas_live_json(
    gas: GasConsumption | None,
    *,
    prices: EnergySupplierPrice | None,
    tz: tzinfo,
    language: Language,
) -> dict[str, Any]:
    """Return ``GET /api/v2/consumption/gas-live``: ``{}`` without gas, the cost with prices."""
    if gas is None:
        return {}
    body: dict[str, Any] = {
        "timestamp": local_datetime(gas.read_at, tz),
        "currently_delivered": float(gas.currently_delivered),
    }
    if prices is not None:
        cost = round_cents(gas.currently_delivered * prices.gas_price)
        body["cost_per_interval"] = number_format(cost, language)
    return body
