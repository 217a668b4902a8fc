"""The body check of ``POST /api/v2/datalogger/dsmrreading``, as DRF 3.14 runs it.

DSMR-reader's ``DsmrReadingSerializer`` is a ``ModelSerializer`` over ``DsmrReading``, so each
field is the DRF field derived from the model column:

- ``timestamp`` and the six ``electricity_*`` fields are required and not nullable;
- every other field is optional and nullable (``id`` and ``processed`` are ignored);
- kWh/kW/m³ columns are ``DecimalField(max_digits=9, decimal_places=3)``, voltages
  ``DecimalField(4, 1)``, currents ``IntegerField(min_value=0, max_value=999)``, timestamps
  ``DateTimeField`` with the ISO 8601 input format only.

Every failing field is reported, in field order, with DRF's English messages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Context, Decimal, DecimalException
import re
from typing import Any, Final

from ..store.model import Reading
from ..store.records import DayStatistics
from .params import is_ambiguous_or_imaginary, localize, parse_iso_datetime

NON_FIELD_ERRORS: Final = "non_field_errors"
MAX_STRING_LENGTH: Final = 1000  # DRF's guard against huge numeric strings

MSG_REQUIRED: Final = "This field is required."
MSG_NULL: Final = "This field may not be null."
MSG_NO_DATA: Final = "No data provided"
MSG_NOT_A_DICT: Final = "Invalid data. Expected a dictionary, but got {datatype}."
MSG_INVALID_NUMBER: Final = "A valid number is required."
MSG_INVALID_INTEGER: Final = "A valid integer is required."
MSG_STRING_TOO_LARGE: Final = "String value too large."
MSG_MAX_DIGITS: Final = "Ensure that there are no more than {max_digits} digits in total."
MSG_MAX_DECIMAL_PLACES: Final = (
    "Ensure that there are no more than {max_decimal_places} decimal places."
)
MSG_MAX_WHOLE_DIGITS: Final = (
    "Ensure that there are no more than {max_whole_digits} digits before the decimal point."
)
MSG_MAX_VALUE: Final = "Ensure this value is less than or equal to {max_value}."
MSG_MIN_VALUE: Final = "Ensure this value is greater than or equal to {min_value}."
MSG_DATETIME_FORMAT: Final = (
    "Datetime has wrong format. Use one of these formats instead: "
    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
)
MSG_DATE_FORMAT: Final = "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
MSG_DAY_EXISTS: Final = (
    "Day statistics (automatically generated data) with this Date already exists."
)
MSG_DATETIME_OVERFLOW: Final = "Datetime value out of range."
MSG_MAKE_AWARE: Final = 'Invalid datetime for the timezone "{timezone}".'
MSG_NOT_A_STRING: Final = "Not a valid string."
MSG_BLANK: Final = "This field may not be blank."
MSG_MAX_LENGTH: Final = "Ensure this field has no more than {max_length} characters."

# IntegerField accepts "7.0" and "7." as 7, not "7.5".
_RE_DECIMAL: Final = re.compile(r"\.0*\s*$")
# django.utils.dateparse.date_re (Django 3.2), which DRF's DateField uses for ISO 8601 input.
_RE_DATE: Final = re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})$")


class ValidationFailed(ValueError):
    """The body is invalid; ``body`` is DRF's 400 response body."""

    def __init__(self, body: dict[str, list[str]]) -> None:
        """Keep the error body."""
        super().__init__(body)
        self.body = body


@dataclass(frozen=True, slots=True)
class _DecimalField:
    max_digits: int
    decimal_places: int


@dataclass(frozen=True, slots=True)
class _IntegerField:
    min_value: int
    max_value: int


@dataclass(frozen=True, slots=True)
class _DateTimeField:
    pass


@dataclass(frozen=True, slots=True)
class _DateField:
    pass


@dataclass(frozen=True, slots=True)
class _CharField:
    max_length: int | None


type _Kind = _DecimalField | _IntegerField | _DateTimeField | _DateField | _CharField

_METER: Final = _DecimalField(9, 3)
_VOLTAGE: Final = _DecimalField(4, 1)
_CURRENT: Final = _IntegerField(0, 999)
_DATETIME: Final = _DateTimeField()

_MONEY: Final = _DecimalField(8, 2)
_TEMPERATURE: Final = _DecimalField(4, 1)

# Django's IntegerField range, which DRF's ModelSerializer turns into validators.
_COUNT: Final = _IntegerField(-2147483648, 2147483647)

# MeterStatistics (name, kind, nullable) in declaration order; ``id`` is read-only.
STATISTICS_FIELDS: Final[tuple[tuple[str, _Kind, bool], ...]] = (
    ("timestamp", _DATETIME, False),
    ("dsmr_version", _CharField(2), True),
    ("electricity_tariff", _COUNT, True),
    ("power_failure_count", _COUNT, True),
    ("long_power_failure_count", _COUNT, True),
    ("voltage_sag_count_l1", _COUNT, True),
    ("voltage_sag_count_l2", _COUNT, True),
    ("voltage_sag_count_l3", _COUNT, True),
    ("voltage_swell_count_l1", _COUNT, True),
    ("voltage_swell_count_l2", _COUNT, True),
    ("voltage_swell_count_l3", _COUNT, True),
    ("rejected_telegrams", _COUNT, False),
    ("latest_telegram", _CharField(None), True),
)

# (name, kind, required) in DsmrReading's declaration order. Required fields are not nullable;
# the others are nullable and optional.
FIELDS: Final[tuple[tuple[str, _Kind, bool], ...]] = (
    ("timestamp", _DATETIME, True),
    ("electricity_delivered_1", _METER, True),
    ("electricity_returned_1", _METER, True),
    ("electricity_delivered_2", _METER, True),
    ("electricity_returned_2", _METER, True),
    ("electricity_currently_delivered", _METER, True),
    ("electricity_currently_returned", _METER, True),
    ("phase_currently_delivered_l1", _METER, False),
    ("phase_currently_delivered_l2", _METER, False),
    ("phase_currently_delivered_l3", _METER, False),
    ("extra_device_timestamp", _DATETIME, False),
    ("extra_device_delivered", _METER, False),
    ("phase_currently_returned_l1", _METER, False),
    ("phase_currently_returned_l2", _METER, False),
    ("phase_currently_returned_l3", _METER, False),
    ("phase_voltage_l1", _VOLTAGE, False),
    ("phase_voltage_l2", _VOLTAGE, False),
    ("phase_voltage_l3", _VOLTAGE, False),
    ("phase_power_current_l1", _CURRENT, False),
    ("phase_power_current_l2", _CURRENT, False),
    ("phase_power_current_l3", _CURRENT, False),
)


type BodyField = tuple[str, _Kind, bool, bool]
"""A body field: name, kind, nullable, required."""

READING_BODY: Final[tuple[BodyField, ...]] = tuple(
    (name, kind, not required, required) for name, kind, required in FIELDS
)
STATISTICS_PATCH_BODY: Final[tuple[BodyField, ...]] = tuple(
    (name, kind, nullable, False) for name, kind, nullable in STATISTICS_FIELDS
)

# DayStatistics (name, kind, nullable, required) in declaration order; ``id`` is read-only.
# ``fixed_cost`` has a default (0), so it is optional but not nullable.
DAY_STATISTICS_BODY: Final[tuple[BodyField, ...]] = (
    ("day", _DateField(), False, True),
    ("electricity1", _METER, False, True),
    ("electricity2", _METER, False, True),
    ("electricity1_returned", _METER, False, True),
    ("electricity2_returned", _METER, False, True),
    ("electricity1_cost", _MONEY, False, True),
    ("electricity2_cost", _MONEY, False, True),
    ("gas", _METER, True, False),
    ("gas_cost", _MONEY, True, False),
    ("lowest_temperature", _TEMPERATURE, True, False),
    ("highest_temperature", _TEMPERATURE, True, False),
    ("average_temperature", _TEMPERATURE, True, False),
    ("fixed_cost", _MONEY, False, False),
    ("total_cost", _MONEY, False, True),
    ("electricity_reading_timestamp", _DATETIME, True, False),
    ("electricity1_reading", _METER, True, False),
    ("electricity2_reading", _METER, True, False),
    ("electricity1_returned_reading", _METER, True, False),
    ("electricity2_returned_reading", _METER, True, False),
    ("gas_reading_timestamp", _DATETIME, True, False),
    ("gas_reading", _METER, True, False),
)


class _Missing:
    """DRF's ``empty``: the field was not sent."""


_MISSING: Final = _Missing()


class _FieldError(Exception):
    def __init__(self, *messages: str) -> None:
        super().__init__(*messages)
        self.messages = list(messages)


def _smart_str(value: object) -> str:
    """Return ``str(value)`` (Django ``smart_str``); a too-long int cannot, and is invalid."""
    if isinstance(value, str):
        return value
    try:
        return str(value)
    except ValueError:  # int too large to convert (sys.int_info.default_max_str_digits)
        raise _FieldError(MSG_INVALID_NUMBER) from None


def _to_decimal(value: object, kind: _DecimalField) -> Decimal:
    """DRF ``DecimalField.to_internal_value``: parse, check precision, quantize."""
    text = _smart_str(value).strip()
    if len(text) > MAX_STRING_LENGTH:
        raise _FieldError(MSG_STRING_TOO_LARGE)
    try:
        number = Decimal(text)
    except DecimalException:
        raise _FieldError(MSG_INVALID_NUMBER) from None
    if number.is_nan() or number.is_infinite():
        raise _FieldError(MSG_INVALID_NUMBER)
    _, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite
    if exponent >= 0:
        total_digits = len(digits) + exponent
        whole_digits = total_digits
        decimal_places = 0
    elif len(digits) > -exponent:
        total_digits = len(digits)
        whole_digits = total_digits + exponent
        decimal_places = -exponent
    else:
        total_digits = -exponent
        whole_digits = 0
        decimal_places = total_digits
    max_whole_digits = kind.max_digits - kind.decimal_places
    if total_digits > kind.max_digits:
        raise _FieldError(MSG_MAX_DIGITS.format(max_digits=kind.max_digits))
    if decimal_places > kind.decimal_places:
        raise _FieldError(MSG_MAX_DECIMAL_PLACES.format(max_decimal_places=kind.decimal_places))
    if whole_digits > max_whole_digits:
        raise _FieldError(MSG_MAX_WHOLE_DIGITS.format(max_whole_digits=max_whole_digits))
    return number.quantize(
        Decimal(1).scaleb(-kind.decimal_places), context=Context(prec=kind.max_digits)
    )


def _to_integer(value: object, kind: _IntegerField) -> int:
    """DRF ``IntegerField.to_internal_value`` plus its min/max validators."""
    if isinstance(value, str) and len(value) > MAX_STRING_LENGTH:
        raise _FieldError(MSG_STRING_TOO_LARGE)
    try:
        number = int(_RE_DECIMAL.sub("", str(value)))
    except ValueError:
        raise _FieldError(MSG_INVALID_INTEGER) from None
    if number > kind.max_value:
        raise _FieldError(MSG_MAX_VALUE.format(max_value=kind.max_value))
    if number < kind.min_value:
        raise _FieldError(MSG_MIN_VALUE.format(min_value=kind.min_value))
    return number


def _to_datetime(value: object, tz: tzinfo, *, strict_dst: bool) -> datetime:
    """DRF ``DateTimeField.to_internal_value`` with ISO 8601 input and ``enforce_timezone``."""
    parsed: datetime | None = None
    if isinstance(value, str):
        try:
            parsed = parse_iso_datetime(value)
        except ValueError:
            parsed = None
    if parsed is None:
        raise _FieldError(MSG_DATETIME_FORMAT)
    if strict_dst and parsed.utcoffset() is None and is_ambiguous_or_imaginary(parsed, tz):
        raise _FieldError(MSG_MAKE_AWARE.format(timezone=tz))
    try:
        return localize(parsed, tz)
    except OverflowError:
        raise _FieldError(MSG_DATETIME_OVERFLOW) from None


def _to_date(value: object) -> date:
    """DRF ``DateField.to_internal_value`` with the ISO 8601 input format only."""
    match = _RE_DATE.match(value) if isinstance(value, str) else None
    if match is not None:
        try:
            return date(int(match["year"]), int(match["month"]), int(match["day"]))
        except ValueError:
            pass
    raise _FieldError(MSG_DATE_FORMAT)


def _field_value(data: Mapping[str, object], name: str, *, nullable: bool, form: bool) -> object:
    """DRF ``Field.get_value``: what the field sees, ``_MISSING`` when absent."""
    if not form:
        return data.get(name, _MISSING)
    if name not in data:
        return _MISSING
    getall = getattr(data, "getall", None)  # a multidict: Django's QueryDict takes the last
    value: object = getall(name)[-1] if callable(getall) else data[name]
    if value == "" and nullable:
        return None
    return value


def _to_string(value: object, kind: _CharField) -> str:
    """DRF ``CharField`` (trim_whitespace, allow_blank=False) plus its max_length."""
    if isinstance(value, (bool, Mapping, list)):
        raise _FieldError(MSG_NOT_A_STRING)
    text = str(value).strip()
    if not text:
        raise _FieldError(MSG_BLANK)
    if kind.max_length is not None and len(text) > kind.max_length:
        raise _FieldError(MSG_MAX_LENGTH.format(max_length=kind.max_length))
    return text


def _validate_field(
    value: object, kind: _Kind, tz: tzinfo, *, nullable: bool, strict_dst: bool
) -> Decimal | int | datetime | date | str | None:
    """DRF ``Field.run_validation`` for one present value."""
    if isinstance(kind, _DecimalField) and nullable and _smart_str(value).strip() == "":
        return None  # DecimalField.validate_empty_values
    if value is None:
        if not nullable:
            raise _FieldError(MSG_NULL)
        return None
    return _to_internal(value, kind, tz, strict_dst=strict_dst)


def _to_internal(
    value: object, kind: _Kind, tz: tzinfo, *, strict_dst: bool
) -> Decimal | int | datetime | date | str:
    """DRF ``to_internal_value`` of the field kind."""
    if isinstance(kind, _DecimalField):
        return _to_decimal(value, kind)
    if isinstance(kind, _IntegerField):
        return _to_integer(value, kind)
    if isinstance(kind, _CharField):
        return _to_string(value, kind)
    if isinstance(kind, _DateField):
        return _to_date(value)
    return _to_datetime(value, tz, strict_dst=strict_dst)


def validate_reading(
    data: object, tz: tzinfo, *, form: bool = False, strict_dst: bool = False
) -> Reading:
    """Validate a ``POST /api/v2/datalogger/dsmrreading`` body; raise ValidationFailed if bad.

    ``data`` is the parsed body: the JSON value, or for a form-urlencoded or multipart body a
    mapping of field to value (a multidict is fine; the last value counts) with ``form=True``.
    The difference matters for empty strings: in a form, ``""`` means null for the optional
    fields; in JSON it is an invalid value (except for the decimal fields, where DRF takes a
    blank string as null either way).

    Numbers may be JSON numbers or strings (``"1e3"`` is 1000; negative meter values pass).
    Timestamps must be ISO 8601 (``YYYY-MM-DD[T ]HH:MM[:SS[.ffffff]]`` with an optional ``Z``,
    ``+HH``, ``+HHMM`` or ``+HH:MM``); aware ones are converted to ``tz``, naive ones are local
    time in ``tz`` (zoneinfo ``fold=0``; with ``strict_dst`` an ambiguous or non-existent
    local time is refused with DRF's ``make_aware`` message, as DSMR-reader on pytz does).
    """
    values = _validate_fields(data, READING_BODY, tz, form=form, strict_dst=strict_dst)
    return Reading(**values)


def validate_statistics_patch(
    data: object, tz: tzinfo, *, form: bool = False, strict_dst: bool = False
) -> dict[str, datetime | int | str | None]:
    """Validate a ``PATCH /api/v2/datalogger/meter-statistics`` body: a partial update.

    Only the fields sent are returned; unknown ones and ``id`` are ignored, as DRF does.
    """
    return _validate_fields(data, STATISTICS_PATCH_BODY, tz, form=form, strict_dst=strict_dst)


def validate_day_statistics(
    data: object,
    tz: tzinfo,
    day_exists: Callable[[date], bool],
    *,
    form: bool = False,
    strict_dst: bool = False,
) -> DayStatistics:
    """Validate a ``POST /api/v2/statistics/day`` body; raise ValidationFailed if bad.

    Costs have at most 2 places, energy and gas 3, temperatures 1; ``day`` is ``YYYY-MM-DD``
    and unique: ``day_exists`` is asked (only for a valid day, as DRF's UniqueValidator runs
    after the field's own checks), and an existing one is reported with the other errors.
    ``fixed_cost`` left out is 0.00; the other optional fields are null.
    """
    values = _validate_fields(
        data, DAY_STATISTICS_BODY, tz, form=form, strict_dst=strict_dst, unique=day_exists
    )
    return DayStatistics(**values)


def _validate_fields(
    data: object,
    fields: Iterable[BodyField],
    tz: tzinfo,
    *,
    form: bool,
    strict_dst: bool,
    unique: Callable[[date], bool] | None = None,
) -> dict[str, Any]:
    """Run DRF's validation over (name, kind, nullable, required) fields; collect all errors.

    ``unique`` tells whether a valid date field's value is taken already.
    """
    if data is None:
        raise ValidationFailed({NON_FIELD_ERRORS: [MSG_NO_DATA]})
    if not isinstance(data, Mapping):
        message = MSG_NOT_A_DICT.format(datatype=type(data).__name__)
        raise ValidationFailed({NON_FIELD_ERRORS: [message]})
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, kind, nullable, required in fields:
        value = _field_value(data, name, nullable=nullable, form=form)
        if isinstance(value, _Missing):
            if required:
                errors[name] = [MSG_REQUIRED]
            continue
        try:
            values[name] = _validate_field(
                value, kind, tz, nullable=nullable, strict_dst=strict_dst
            )
        except _FieldError as error:
            errors[name] = error.messages
            continue
        if isinstance(kind, _DateField) and unique is not None and unique(values[name]):
            errors[name] = [MSG_DAY_EXISTS]
    if errors:
        raise ValidationFailed(errors)
    return values


def _kind_schema(kind: _Kind) -> dict[str, Any]:
    """Return the OpenAPI schema of a field kind."""
    if isinstance(kind, _DecimalField):
        return {
            "type": "string",
            "format": "decimal",
            "pattern": f"^-?\\d{{0,{kind.max_digits - kind.decimal_places}}}"
            f"(?:\\.\\d{{0,{kind.decimal_places}}})?$",
        }
    if isinstance(kind, _IntegerField):
        return {"type": "integer", "minimum": kind.min_value, "maximum": kind.max_value}
    if isinstance(kind, _DateTimeField):
        return {"type": "string", "format": "date-time"}
    if isinstance(kind, _DateField):
        return {"type": "string", "format": "date"}
    if kind.max_length is None:
        return {"type": "string"}
    return {"type": "string", "maxLength": kind.max_length}


def body_schema(body: Iterable[BodyField]) -> dict[str, Any]:
    """Return the OpenAPI schema of a request body these fields validate."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, kind, nullable, is_required in body:
        schema = _kind_schema(kind)
        if nullable:
            schema["nullable"] = True
        properties[name] = schema
        if is_required:
            required.append(name)
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema
