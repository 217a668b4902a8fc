"""The DSMR-reader compatible API's plain logic: auth, parameters, pagination, JSON, validation.

Expected values come from the DSMR-reader API docs (the seed .rst), the research notes, and
DRF 3.14 / Django 3.2 / django-filter 21.1 behaviour (cross-checked against those versions).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from multidict import CIMultiDict, MultiDict
import pytest

from custom_components.smartmeter.api.auth import (
    AUTH_KEY_ALPHABET,
    check_auth_key,
    generate_auth_key,
)
from custom_components.smartmeter.api.pagination import (
    page_envelope,
    remove_query_param,
    replace_query_param,
    request_url,
)
from custom_components.smartmeter.api.params import (
    FilterKind,
    ParamError,
    parse_date_filter,
    parse_datetime_filter,
    parse_filters,
    parse_iso_datetime,
    parse_limit,
    parse_offset,
    parse_ordering,
    query_pairs,
    query_value,
)
from custom_components.smartmeter.api.serializers import (
    decimal_string,
    dsmr_reading_json,
    local_datetime,
    meter_statistics_json,
    version_json,
)
from custom_components.smartmeter.api.validation import ValidationFailed, validate_reading
from custom_components.smartmeter.store.model import MeterStatistics, Reading, StoredReading

AMS = ZoneInfo("Europe/Amsterdam")
LONDON = ZoneInfo("Europe/London")
KEY = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ01"

DT_FORMAT = (
    "Datetime has wrong format. Use one of these formats instead: "
    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
)
READING_KEYS = [
    "id",
    "timestamp",
    "electricity_delivered_1",
    "electricity_returned_1",
    "electricity_delivered_2",
    "electricity_returned_2",
    "electricity_currently_delivered",
    "electricity_currently_returned",
    "phase_currently_delivered_l1",
    "phase_currently_delivered_l2",
    "phase_currently_delivered_l3",
    "extra_device_timestamp",
    "extra_device_delivered",
    "phase_currently_returned_l1",
    "phase_currently_returned_l2",
    "phase_currently_returned_l3",
    "phase_voltage_l1",
    "phase_voltage_l2",
    "phase_voltage_l3",
    "phase_power_current_l1",
    "phase_power_current_l2",
    "phase_power_current_l3",
]
REQUIRED = READING_KEYS[1:8]


def _stored(validated: Reading, row_id: int = 1) -> StoredReading:
    return StoredReading(id=row_id, **asdict(validated))


# The seed's "[API v2] POST datalogger/dsmrreading" example.
SEED_POST_REQUESTS_DATA: dict[str, Any] = {
    "electricity_currently_delivered": 1.500,
    "electricity_currently_returned": 0.025,
    "electricity_delivered_1": 2000,
    "electricity_delivered_2": 3000,
    "electricity_returned_1": 0,
    "electricity_returned_2": 0,
    "timestamp": "2017-04-15T00:00:00+02",
}
SEED_POST_CURL = (
    "timestamp=2017-04-15T00:00:00%2B02&electricity_currently_delivered=1.5"
    "&electricity_currently_returned=0.025&electricity_delivered_1=2000"
    "&electricity_delivered_2=3000&electricity_returned_1=0&electricity_returned_2=0"
)
SEED_POST_RESULT: dict[str, Any] = {
    "id": 4343119,
    "timestamp": "2017-04-15T00:00:00+02:00",
    "electricity_delivered_1": "2000.000",
    "electricity_returned_1": "0.000",
    "electricity_delivered_2": "3000.000",
    "electricity_returned_2": "0.000",
    "electricity_currently_delivered": "1.500",
    "electricity_currently_returned": "0.025",
    "phase_currently_delivered_l1": None,
    "phase_currently_delivered_l2": None,
    "phase_currently_delivered_l3": None,
    "phase_currently_returned_l1": None,
    "phase_currently_returned_l2": None,
    "phase_currently_returned_l3": None,
    "extra_device_timestamp": None,
    "extra_device_delivered": None,
}
# Fields DSMR-reader v5 has that the (older) seed example predates; null when not posted.
V5_EXTRA_NULLS = {
    f"{name}_l{phase}": None
    for name in ("phase_voltage", "phase_power_current")
    for phase in (1, 2, 3)
}


def _body(**changes: Any) -> dict[str, Any]:
    """The seed example body (JSON numbers) with some fields changed (None = send null)."""
    return {**SEED_POST_REQUESTS_DATA, **changes}


def _errors(data: object, *, form: bool = False, strict_dst: bool = False) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as caught:
        validate_reading(data, AMS, form=form, strict_dst=strict_dst)
    return caught.value.body


# --- auth -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-AUTHKEY": KEY}, True),
        ({"Authorization": f"Token {KEY}"}, True),
        ({"x-authkey": KEY}, True),
        ({"authorization": f"Token {KEY}"}, True),
        ({"X-AUTHKEY": "wrong", "Authorization": f"Token {KEY}"}, True),
        ({"X-AUTHKEY": KEY, "Authorization": "Token wrong"}, True),
        ({"X-AUTHKEY": KEY, "Authorization": f"Bearer {KEY}"}, True),
        ({}, False),
        ({"X-AUTHKEY": "wrong"}, False),
        ({"X-AUTHKEY": KEY.lower()}, False),
        ({"X-AUTHKEY": f" {KEY}"}, False),
        ({"Authorization": f"token {KEY}"}, False),
        ({"Authorization": f"Bearer {KEY}"}, False),
        ({"Authorization": f"Token  {KEY}"}, False),
        ({"Authorization": f"Token {KEY} "}, False),
        ({"Authorization": KEY}, False),
        ({"Authorization": "Token "}, False),
        ({"X-AUTHKEY": "s\u00e9same \udcff"}, False),
        ({"X-AUTH-KEY": KEY}, False),
    ],
)
def test_check_auth_key(headers: dict[str, str], expected: bool) -> None:
    assert check_auth_key(headers, KEY) is expected


def test_check_auth_key_case_insensitive_multidict() -> None:
    headers = CIMultiDict({"AUTHORIZATION": f"Token {KEY}"})
    assert check_auth_key(headers, KEY) is True


def test_check_auth_key_empty_key_never_matches() -> None:
    assert check_auth_key({"X-AUTHKEY": ""}, "") is False
    assert check_auth_key({"Authorization": "Token "}, "") is False


def test_check_auth_key_non_ascii_key() -> None:
    assert check_auth_key({"X-AUTHKEY": "cl\u00e9"}, "cl\u00e9") is True
    assert check_auth_key({"X-AUTHKEY": "cle"}, "cl\u00e9") is False


def test_generate_auth_key() -> None:
    keys = {generate_auth_key() for _ in range(20)}
    assert len(keys) == 20
    for key in keys:
        assert len(key) == 64
        assert set(key) <= set(AUTH_KEY_ALPHABET)
    assert AUTH_KEY_ALPHABET == "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    assert check_auth_key({"X-AUTHKEY": next(iter(keys))}, next(iter(keys))) is True


# --- limit / offset / ordering --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, 25),
        ("10", 10),
        ("1", 1),
        ("1000000", 1000000),  # no max_limit
        ("0", 25),
        ("-5", 25),
        ("abc", 25),
        ("", 25),
        ("1.5", 25),
        ("1e3", 25),
        (" 5 ", 5),  # Python int() as DRF uses it
        ("+7", 7),
        ("1_0", 10),
        pytest.param(
            "9" * 5000, 25, id="5000-digits"
        ),  # beyond int()'s digit limit: a ValueError, so the default
    ],
)
def test_parse_limit(value: str | None, expected: int) -> None:
    assert parse_limit(value) == expected


def test_parse_limit_custom_default() -> None:
    assert parse_limit(None, default=10) == 10
    assert parse_limit("0", default=10) == 10
    assert parse_limit("3", default=10) == 3


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, 0), ("0", 0), ("5", 5), ("100", 100), ("-3", 0), ("x", 0), ("", 0), ("2.0", 0)],
)
def test_parse_offset(value: str | None, expected: int) -> None:
    assert parse_offset(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ["timestamp"]),
        ("", ["timestamp"]),
        ("timestamp", ["timestamp"]),
        ("-timestamp", ["-timestamp"]),
        ("foo", ["timestamp"]),
        ("foo,-timestamp", ["-timestamp"]),
        (" -timestamp , timestamp", ["-timestamp", "timestamp"]),
        ("--timestamp", ["timestamp"]),
        ("+timestamp", ["timestamp"]),
        (",", ["timestamp"]),
        ("id", ["timestamp"]),
        ("-TIMESTAMP", ["timestamp"]),
    ],
)
def test_parse_ordering(value: str | None, expected: list[str]) -> None:
    assert parse_ordering(value, ("timestamp",), "timestamp") == expected


def test_parse_ordering_several_allowed() -> None:
    assert parse_ordering("-day,x,id", {"day", "id"}, "day") == ["-day", "id"]


def test_query_helpers() -> None:
    raw = "limit=5&ordering=foo&limit=7&flag&blank="
    pairs = [("limit", "5"), ("ordering", "foo"), ("limit", "7"), ("flag", ""), ("blank", "")]
    assert query_pairs(raw) == pairs
    assert query_pairs(MultiDict(pairs)) == pairs
    assert query_pairs(iter(pairs)) == pairs
    assert query_pairs({"a": "1"}) == [("a", "1")]
    # Django's QueryDict.get() gives the last value.
    assert query_value(raw, "limit") == "7"
    assert query_value(MultiDict(pairs), "limit") == "7"
    assert query_value(raw, "flag") == ""
    assert query_value(raw, "offset") is None
    assert query_pairs("q=a+b%2Bc%3A") == [("q", "a b+c:")]


# --- datetime and date filters --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # The docs' own examples (seed "Fetch readings by month", the v5 docstring).
        ("2017-02-01 00:00:00", "2017-02-01T00:00:00+01:00"),
        ("2017-03-01 00:00:00", "2017-03-01T00:00:00+01:00"),
        ("2022-01-15 23:59:59", "2022-01-15T23:59:59+01:00"),
        # The research notes' verified ISO example, and the seed's datetime notes.
        ("2026-11-21T12:00:00+02:00", "2026-11-21T11:00:00+01:00"),
        ("2017-01-01T12:00:00+01", "2017-01-01T12:00:00+01:00"),
        ("2017-04-15T12:00:00+02", "2017-04-15T12:00:00+02:00"),
        ("2017-04-15T00:00:00+02", "2017-04-15T00:00:00+02:00"),
        # Every Django form input format.
        ("2017-02-01 10:20:30.123456", "2017-02-01T10:20:30.123456+01:00"),
        ("2017-02-01 10:20:30.5", "2017-02-01T10:20:30.500000+01:00"),
        ("2017-02-01 10:20", "2017-02-01T10:20:00+01:00"),
        ("2017-02-01", "2017-02-01T00:00:00+01:00"),
        ("2017-07-01", "2017-07-01T00:00:00+02:00"),
        ("2017-02-01T10:20", "2017-02-01T10:20:00+01:00"),
        ("2017-02-01T10:20:30", "2017-02-01T10:20:30+01:00"),
        ("2017-02-01T10:20:30.000001", "2017-02-01T10:20:30.000001+01:00"),
        ("2017-02-01T10:20:30,25", "2017-02-01T10:20:30.250000+01:00"),
        ("2017-02-01T10:20:30.1234567", "2017-02-01T10:20:30.123456+01:00"),
        ("2017-02-01T10:20:30Z", "2017-02-01T11:20:30+01:00"),
        ("2017-02-01T10:20Z", "2017-02-01T11:20:00+01:00"),
        ("2017-02-01T10:20:30+0530", "2017-02-01T05:50:30+01:00"),
        ("2017-02-01T10:20:30-05:00", "2017-02-01T16:20:30+01:00"),
        ("2017-2-1 9:5", "2017-02-01T09:05:00+01:00"),
        ("2017-02-01   10:20", "2017-02-01T10:20:00+01:00"),  # strptime's " " is \s+
        (" 2017-02-01 10:20 ", "2017-02-01T10:20:00+01:00"),  # stripped
        ("2017-02-01 10:20\n", "2017-02-01T10:20:00+01:00"),
        # The default (en) locale's US formats.
        ("02/01/2017 10:20:30", "2017-02-01T10:20:30+01:00"),
        ("02/01/2017 10:20:30.5", "2017-02-01T10:20:30.500000+01:00"),
        ("02/01/2017 10:20", "2017-02-01T10:20:00+01:00"),
        ("02/01/17 10:20", "2017-02-01T10:20:00+01:00"),
        ("02/01/2017", "2017-02-01T00:00:00+01:00"),
        ("02/01/17", "2017-02-01T00:00:00+01:00"),
    ],
)
def test_parse_datetime_filter(value: str, expected: str) -> None:
    parsed = parse_datetime_filter(value, AMS, field="timestamp__gte")
    assert parsed is not None
    assert parsed.isoformat() == expected
    assert parsed.tzinfo is AMS


@pytest.mark.parametrize(
    "value",
    [
        "x",
        " ",
        "2017-04-15T100:00:00Z",  # the seed's own typo
        "2017-13-01",
        "2017-02-30 10:00",
        "2017-13-01T10:00",
        "2017-02-01T24:00",
        "2017-02-01T10:00+24:00",
        "2017-02-01T10:00 +01:00",
        "2017/02/01 10:00",  # Dutch only
        "01-02-2017 10:00",  # Dutch only
        "Feb 01 2017",
        "20170201",
        "2017-02-01T10",
    ],
)
def test_parse_datetime_filter_invalid(value: str) -> None:
    with pytest.raises(ParamError) as caught:
        parse_datetime_filter(value, AMS, field="timestamp__lte")
    assert caught.value.body == {"timestamp__lte": ["Enter a valid date/time."]}
    assert str(caught.value) == "timestamp__lte: Enter a valid date/time."


def test_parse_datetime_filter_empty_means_no_filter() -> None:
    assert parse_datetime_filter("", AMS, field="timestamp__gte") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("01-02-2017 10:20:30", "2017-02-01T10:20:30+01:00"),
        ("01-02-17 10:20", "2017-02-01T10:20:00+01:00"),
        ("01/02/2017 10.20", "2017-02-01T10:20:00+01:00"),
        ("01-02-2017 10.20:30.5", "2017-02-01T10:20:30.500000+01:00"),
        ("2017/02/01 10:20", "2017-02-01T10:20:00+01:00"),
        ("01-02-2017", "2017-02-01T00:00:00+01:00"),
        ("2017/02/01", "2017-02-01T00:00:00+01:00"),
        ("2017-02-01", "2017-02-01T00:00:00+01:00"),
        ("2017-02-01 10:20", "2017-02-01T10:20:00+01:00"),
        ("2017-02-01T10:20:30Z", "2017-02-01T11:20:30+01:00"),
    ],
)
def test_parse_datetime_filter_dutch(value: str, expected: str) -> None:
    parsed = parse_datetime_filter(value, AMS, field="timestamp", language="nl")
    assert parsed is not None
    assert parsed.isoformat() == expected


def test_parse_datetime_filter_dutch_refuses_us_formats() -> None:
    with pytest.raises(ParamError):
        parse_datetime_filter("02/13/2017 10:00", AMS, field="t", language="nl")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2017-02-01 10:20", "2017-02-01T10:20:00+01:00"),
        ("2017-02-01T10:20:30.5Z", "2017-02-01T11:20:30.500000+01:00"),
        ("2017-04-15T00:00:00+02", "2017-04-15T00:00:00+02:00"),
    ],
)
def test_parse_datetime_filter_iso_only(value: str, expected: str) -> None:
    parsed = parse_datetime_filter(value, AMS, field="timestamp", iso_only=True)
    assert parsed is not None
    assert parsed.isoformat() == expected


@pytest.mark.parametrize("value", ["2017-02-01", "02/01/2017 10:00", "2017/02/01 10:00"])
def test_parse_datetime_filter_iso_only_refuses_form_formats(value: str) -> None:
    with pytest.raises(ParamError) as caught:
        parse_datetime_filter(value, AMS, field="timestamp", iso_only=True)
    assert caught.value.body == {"timestamp": ["Enter a valid date/time."]}


@pytest.mark.parametrize(
    ("value", "expected", "utc"),
    [
        # Ambiguous (clocks go back 03:00 -> 02:00): fold=0 is the first, summer-time, 02:30.
        (
            "2026-10-25 02:30",
            "2026-10-25T02:30:00+02:00",
            datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        ),
        ("2026-10-25 02:00", "2026-10-25T02:00:00+02:00", datetime(2026, 10, 25, 0, 0, tzinfo=UTC)),
        ("2026-10-25 03:00", "2026-10-25T03:00:00+01:00", datetime(2026, 10, 25, 2, 0, tzinfo=UTC)),
        (
            "2026-10-25 01:59",
            "2026-10-25T01:59:00+02:00",
            datetime(2026, 10, 24, 23, 59, tzinfo=UTC),
        ),
        # An explicit offset picks the second 02:30.
        (
            "2026-10-25T02:30:00+01:00",
            "2026-10-25T02:30:00+01:00",
            datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
        ),
        # Non-existent (clocks jump 02:00 -> 03:00): fold=0 uses +01:00, i.e. 03:30 summer time.
        ("2026-03-29 02:30", "2026-03-29T03:30:00+02:00", datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
        ("2026-03-29 03:00", "2026-03-29T03:00:00+02:00", datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
    ],
)
def test_parse_datetime_filter_dst(value: str, expected: str, utc: datetime) -> None:
    parsed = parse_datetime_filter(value, AMS, field="timestamp__gte")
    assert parsed is not None
    assert parsed.isoformat() == expected
    assert parsed.astimezone(UTC) == utc


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("2026-10-25 02:30", "2026-10-25 02:30:00"),
        ("2026-10-25T02:30:00.5", "2026-10-25 02:30:00.500000"),
        ("2026-03-29 02:30", "2026-03-29 02:30:00"),
    ],
)
def test_parse_datetime_filter_strict_dst(value: str, shown: str) -> None:
    with pytest.raises(ParamError) as caught:
        parse_datetime_filter(value, AMS, field="timestamp__gte", strict_dst=True)
    assert caught.value.body == {
        "timestamp__gte": [
            f"{shown} couldn\u2019t be interpreted in time zone Europe/Amsterdam; "
            "it may be ambiguous or it may not exist."
        ]
    }


def test_parse_datetime_filter_strict_dst_accepts_unambiguous() -> None:
    for value in ("2026-10-25 03:30", "2026-10-25T02:30:00+01:00", "2026-03-29 03:30"):
        assert parse_datetime_filter(value, AMS, field="t", strict_dst=True) is not None


def test_parse_datetime_filter_out_of_range() -> None:
    with pytest.raises(ParamError) as caught:
        parse_datetime_filter("0001-01-01 00:00", AMS, field="t")
    assert caught.value.body == {
        "t": [
            "0001-01-01 00:00:00 couldn\u2019t be interpreted in time zone Europe/Amsterdam; "
            "it may be ambiguous or it may not exist."
        ]
    }
    with pytest.raises(ParamError) as caught:
        parse_datetime_filter("0001-01-01T00:00+01:00", AMS, field="t")
    assert caught.value.body == {"t": ["Enter a valid date/time."]}


def test_parse_datetime_filter_other_zones() -> None:
    parsed = parse_datetime_filter("2017-07-01 12:00", UTC, field="t")
    assert parsed is not None
    assert parsed.isoformat() == "2017-07-01T12:00:00+00:00"
    parsed = parse_datetime_filter("2017-07-01 12:00", LONDON, field="t")
    assert parsed is not None
    assert parsed.isoformat() == "2017-07-01T12:00:00+01:00"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2017-02-01", "2017-02-01T10:20:30"),
        ("2017-02-01T10:20:30", "2017-02-01T10:20:30"),
        ("2017-02-01 10:20:30+01:00", "2017-02-01T10:20:30+01:00"),
        ("2017-02-01T10:20:30.5-0230", "2017-02-01T10:20:30.500000-02:30"),
        ("2017-02-01T10:20Z", "2017-02-01T10:20:00+00:00"),
    ],
)
def test_parse_iso_datetime(value: str, expected: str) -> None:
    parsed = parse_iso_datetime(value)
    if value == "2017-02-01":
        assert parsed is None
        return
    assert parsed is not None
    assert parsed.isoformat() == expected


def test_parse_iso_datetime_value_errors() -> None:
    assert parse_iso_datetime("x") is None
    with pytest.raises(ValueError, match=r"month must be in 1\.\.12"):
        parse_iso_datetime("2017-13-01T00:00")
    with pytest.raises(ValueError, match="timedelta"):
        parse_iso_datetime("2017-01-01T00:00+24:00")
    parsed = parse_iso_datetime("2017-01-01T00:00+23:59")
    assert parsed is not None
    assert parsed.utcoffset() == timedelta(hours=23, minutes=59)
    assert parsed.tzinfo == timezone(timedelta(hours=23, minutes=59))


@pytest.mark.parametrize(
    ("value", "language", "expected"),
    [
        ("2017-02-01", "en", date(2017, 2, 1)),
        ("2017-2-1", "en", date(2017, 2, 1)),
        (" 2017-02-01 ", "en", date(2017, 2, 1)),
        ("02/01/2017", "en", date(2017, 2, 1)),
        ("02/01/17", "en", date(2017, 2, 1)),
        ("01-02-2017", "nl", date(2017, 2, 1)),
        ("01/02/17", "nl", date(2017, 2, 1)),
        ("2017/02/01", "nl", date(2017, 2, 1)),
        ("2017-02-01", "nl", date(2017, 2, 1)),
        ("", "en", None),
    ],
)
def test_parse_date_filter(value: str, language: Any, expected: date | None) -> None:
    assert parse_date_filter(value, field="day__gte", language=language) == expected


@pytest.mark.parametrize(
    "value", ["x", " ", "2017-02-30", "2017-02-01 10:00", "2017-02-01T00:00", "01-02-2017"]
)
def test_parse_date_filter_invalid(value: str) -> None:
    with pytest.raises(ParamError) as caught:
        parse_date_filter(value, field="day__gte")
    assert caught.value.body == {"day__gte": ["Enter a valid date."]}


READING_FILTERS = {
    "timestamp": FilterKind.ISO_DATETIME,
    "timestamp__gte": FilterKind.DATETIME,
    "timestamp__lte": FilterKind.DATETIME,
}


def test_parse_filters() -> None:
    query = "timestamp__gte=2017-02-01+00:00:00&timestamp__lte=2017-03-01%2000:00:00&limit=5"
    assert parse_filters(query, READING_FILTERS, AMS) == {
        "timestamp__gte": datetime(2017, 2, 1, tzinfo=AMS),
        "timestamp__lte": datetime(2017, 3, 1, tzinfo=AMS),
    }
    # Empty values are no filter; the last of repeated values counts.
    assert parse_filters(
        "timestamp=&timestamp__gte=x&timestamp__gte=2017-01-01", READING_FILTERS, AMS
    ) == {"timestamp__gte": datetime(2017, 1, 1, tzinfo=AMS)}
    assert parse_filters(
        MultiDict([("day__gte", "2017-02-01")]), {"day__gte": FilterKind.DATE}, AMS
    ) == {"day__gte": date(2017, 2, 1)}


def test_parse_filters_reports_every_error_in_filter_order() -> None:
    with pytest.raises(ParamError) as caught:
        parse_filters(
            "timestamp__lte=x&timestamp=2017-02-01&timestamp__gte=z", READING_FILTERS, AMS
        )
    assert caught.value.body == {
        "timestamp": ["Enter a valid date/time."],
        "timestamp__gte": ["Enter a valid date/time."],
        "timestamp__lte": ["Enter a valid date/time."],
    }
    assert list(caught.value.body) == ["timestamp", "timestamp__gte", "timestamp__lte"]
    with pytest.raises(ParamError) as caught:
        parse_filters({"day__lte": "2017-02-01 10:00"}, {"day__lte": FilterKind.DATE}, AMS)
    assert caught.value.body == {"day__lte": ["Enter a valid date."]}


def test_param_error_merge() -> None:
    merged = ParamError.merge([ParamError("a", ["x"]), ParamError("b", ["y", "z"])])
    assert merged.body == {"a": ["x"], "b": ["y", "z"]}
    assert str(merged) == "a: x; b: y z"
    with pytest.raises(ValueError, match="No errors"):
        ParamError.merge([])


# --- pagination -----------------------------------------------------------------------------

BASE = "http://homeassistant.local:8123/api/v2/datalogger/dsmrreading"


def test_pagination_walk() -> None:
    query = [("timestamp__gte", "2017-02-01 00:00:00"), ("ordering", "-timestamp")]
    pages = [
        page_envelope(60, ["row"], base_url=BASE, query=query, limit=25, offset=offset)
        for offset in (0, 25, 50)
    ]
    first, second, third = pages
    assert first == {
        "count": 60,
        "next": (
            f"{BASE}?limit=25&offset=25&ordering=-timestamp&timestamp__gte=2017-02-01+00%3A00%3A00"
        ),
        "previous": None,
        "results": ["row"],
    }
    assert second["next"] == (
        f"{BASE}?limit=25&offset=50&ordering=-timestamp&timestamp__gte=2017-02-01+00%3A00%3A00"
    )
    # Going back to the first page drops offset altogether.
    assert second["previous"] == (
        f"{BASE}?limit=25&ordering=-timestamp&timestamp__gte=2017-02-01+00%3A00%3A00"
    )
    assert third["next"] is None
    assert third["previous"] == (
        f"{BASE}?limit=25&offset=25&ordering=-timestamp&timestamp__gte=2017-02-01+00%3A00%3A00"
    )
    assert list(first) == ["count", "next", "previous", "results"]


def test_pagination_same_for_every_query_shape() -> None:
    raw = "timestamp__gte=2017-02-01%2000:00:00&ordering=-timestamp&offset=25"
    shapes: list[Any] = [
        raw,
        dict(parse_qsl(raw)),
        MultiDict(parse_qsl(raw)),
        parse_qsl(raw),
    ]
    envelopes = [
        page_envelope(60, [], base_url=BASE, query=shape, limit=25, offset=25) for shape in shapes
    ]
    assert all(envelope == envelopes[0] for envelope in envelopes)
    assert envelopes[0] == page_envelope(60, [], base_url=f"{BASE}?{raw}", limit=25, offset=25)


@pytest.mark.parametrize(
    ("url", "query", "count", "limit", "offset", "next_url", "previous_url"),
    [
        # The seed's Example 1, Example 2 and Example 3.
        (
            "http://YOUR-DSMR-URL/api/v2/datalogger/dsmrreading",
            "",
            4343060,
            25,
            0,
            "http://YOUR-DSMR-URL/api/v2/datalogger/dsmrreading?limit=25&offset=25",
            None,
        ),
        (
            "http://YOUR-DSMR-URL/api/v2/datalogger/dsmrreading",
            "ordering=-timestamp&limit=1",
            4343060,
            1,
            0,
            "http://YOUR-DSMR-URL/api/v2/datalogger/dsmrreading?limit=1&offset=1&ordering=-timestamp",
            None,
        ),
        (
            "http://YOUR-DSMR-URL/api/v2/datalogger/dsmrreading",
            "timestamp__gte=2017-02-01%2000:00:00&timestamp__lte=2017-03-01%2000:00:00",
            240968,
            25,
            0,
            "http://YOUR-DSMR-URL/api/v2/datalogger/dsmrreading?limit=25&offset=25"
            "&timestamp__gte=2017-02-01+00%3A00%3A00&timestamp__lte=2017-03-01+00%3A00%3A00",
            None,
        ),
        # The seed's statistics/day and statistics/hour examples.
        (
            "http://YOUR-DSMR-URL/api/v2/statistics/day",
            "day__gte=2017-02-01&day__lte=2017-03-01",
            29,
            25,
            0,
            "http://YOUR-DSMR-URL/api/v2/statistics/day?day__gte=2017-02-01&day__lte=2017-03-01"
            "&limit=25&offset=25",
            None,
        ),
        (
            "http://YOUR-DSMR-URL/api/v2/statistics/hour",
            "hour_start__gte=2017-02-01 00:00:00&hour_start__lte=2017-03-01 00:00:00",
            673,
            25,
            0,
            "http://YOUR-DSMR-URL/api/v2/statistics/hour?hour_start__gte=2017-02-01+00%3A00%3A00"
            "&hour_start__lte=2017-03-01+00%3A00%3A00&limit=25&offset=25",
            None,
        ),
        # An offset that is not a multiple of the limit: previous drops offset when <= 0.
        (
            "http://h/x",
            "offset=10",
            100,
            25,
            10,
            "http://h/x?limit=25&offset=35",
            "http://h/x?limit=25",
        ),
        (
            "http://h/x",
            "offset=25",
            100,
            25,
            25,
            "http://h/x?limit=25&offset=50",
            "http://h/x?limit=25",
        ),
        (
            "http://h/x",
            "offset=26",
            100,
            25,
            26,
            "http://h/x?limit=25&offset=51",
            "http://h/x?limit=25&offset=1",
        ),
        # Past the end: no next, previous steps back by one limit.
        ("http://h/x", "offset=100", 10, 25, 100, None, "http://h/x?limit=25&offset=75"),
        ("http://h/x", "", 0, 25, 0, None, None),
        ("http://h/x", "", 25, 25, 0, None, None),
        ("http://h/x", "", 26, 25, 0, "http://h/x?limit=25&offset=25", None),
        # Repeated keys keep their values' order, blank values survive, keys are sorted.
        (
            "http://h/x",
            "z=1&a=2&a=1&m=&flag&q=%C3%A9+x&p=a%2Bb",
            100,
            25,
            0,
            "http://h/x?a=2&a=1&flag=&limit=25&m=&offset=25&p=a%2Bb&q=%C3%A9+x&z=1",
            None,
        ),
        # An invalid limit in the URL is replaced by the one in use.
        ("http://h/x", "limit=0&offset=-5", 100, 25, 0, "http://h/x?limit=25&offset=25", None),
    ],
)
def test_pagination_links(
    url: str,
    query: str,
    count: int,
    *,
    limit: int,
    offset: int,
    next_url: str | None,
    previous_url: str | None,
) -> None:
    envelope = page_envelope(count, [], base_url=url, query=query, limit=limit, offset=offset)
    assert envelope["next"] == next_url
    assert envelope["previous"] == previous_url
    assert envelope["count"] == count


def test_query_param_helpers() -> None:
    url = "http://h/x?b=2&a=1&a=0"
    assert replace_query_param(url, "a", 5) == "http://h/x?a=5&b=2"
    assert remove_query_param(url, "a") == "http://h/x?b=2"
    assert remove_query_param(url, "c") == "http://h/x?a=1&a=0&b=2"
    assert request_url("http://h/x?old=1", "new=2") == "http://h/x?new=2"
    assert request_url("http://h/x?old=1") == "http://h/x?old=1"
    assert request_url("http://h/x", [("b", "1 2"), ("a", "é")]) == "http://h/x?b=1+2&a=%C3%A9"


# --- serializers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (Decimal("1.5"), 3, "1.500"),
        (Decimal("231.4"), 1, "231.4"),
        (Decimal(230), 1, "230.0"),
        (Decimal("1E+3"), 3, "1000.000"),
        (Decimal("0"), 3, "0.000"),
        (Decimal("-0"), 3, "-0.000"),
        (Decimal("-1.5"), 3, "-1.500"),
        (Decimal("0.0005"), 3, "0.000"),  # half-even
        (Decimal("0.0015"), 3, "0.002"),
        (Decimal("-0.0005"), 3, "-0.000"),
        (Decimal("230.45"), 1, "230.4"),
        (Decimal("230.55"), 1, "230.6"),
        (Decimal("1E-10"), 3, "0.000"),
        (Decimal("0.21"), 6, "0.210000"),
        (Decimal("5.95"), 2, "5.95"),
        (Decimal("999999.999"), 3, "999999.999"),
        (Decimal("123456789.5"), 1, "123456789.5"),  # no max_digits context error
        (2.675, 3, "2.675"),  # str(float) first, as DRF does
        (5, 3, "5.000"),
        (None, 3, None),
    ],
)
def test_decimal_string(value: Decimal | float | None, places: int, expected: str | None) -> None:
    assert decimal_string(value, places) == expected


@pytest.mark.parametrize(
    ("value", "tz", "expected"),
    [
        (datetime(2017, 1, 1, tzinfo=UTC), AMS, "2017-01-01T01:00:00+01:00"),
        (datetime(2017, 7, 1, tzinfo=UTC), AMS, "2017-07-01T02:00:00+02:00"),
        (
            datetime(2026, 11, 22, 4, 34, 48, 912850, tzinfo=UTC),
            AMS,
            "2026-11-22T05:34:48.912850+01:00",
        ),
        (datetime(2017, 1, 1, 0, 0, 0, 1, tzinfo=UTC), AMS, "2017-01-01T01:00:00.000001+01:00"),
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), AMS, "2026-10-25T02:30:00+02:00"),
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), AMS, "2026-10-25T02:30:00+01:00"),
        (datetime(2017, 1, 1, tzinfo=UTC), UTC, "2017-01-01T00:00:00Z"),
        (datetime(2017, 1, 1, tzinfo=UTC), ZoneInfo("UTC"), "2017-01-01T00:00:00Z"),
        (datetime(2017, 1, 1, 0, 0, 0, 500, tzinfo=UTC), UTC, "2017-01-01T00:00:00.000500Z"),
        # DRF replaces any +00:00 suffix: London in winter shows Z as well.
        (datetime(2017, 1, 1, tzinfo=UTC), LONDON, "2017-01-01T00:00:00Z"),
        (datetime(2017, 7, 1, tzinfo=UTC), LONDON, "2017-07-01T01:00:00+01:00"),
        (datetime(2017, 1, 1, tzinfo=UTC), ZoneInfo("Asia/Kolkata"), "2017-01-01T05:30:00+05:30"),
        (
            datetime(2017, 1, 1, 12, tzinfo=timezone(timedelta(hours=-5))),
            AMS,
            "2017-01-01T18:00:00+01:00",
        ),
        # Naive values count as local time.
        (datetime(2017, 1, 1), AMS, "2017-01-01T00:00:00+01:00"),
        (datetime(2026, 10, 25, 2, 30), AMS, "2026-10-25T02:30:00+02:00"),
        (None, AMS, None),
    ],
)
def test_local_datetime(value: datetime | None, tz: Any, expected: str | None) -> None:
    assert local_datetime(value, tz) == expected


def _store_reading(**changes: Any) -> StoredReading:
    values: dict[str, Any] = {
        "id": 2,
        "timestamp": datetime(2026, 11, 22, 4, 34, 41, tzinfo=UTC),
        "electricity_delivered_1": Decimal("1000.000"),
        "electricity_returned_1": Decimal("10.000"),
        "electricity_delivered_2": Decimal("2000.000"),
        "electricity_returned_2": Decimal("20.000"),
        "electricity_currently_delivered": Decimal("1.500"),
        "electricity_currently_returned": Decimal("0.000"),
        "phase_currently_delivered_l1": Decimal("1.500"),
        "extra_device_timestamp": datetime(2026, 11, 22, 4, 34, 41, tzinfo=UTC),
        "extra_device_delivered": Decimal("500.000"),
        "phase_currently_returned_l1": Decimal("0.000"),
        "phase_voltage_l1": Decimal("231.4"),
        "phase_power_current_l1": 2,
    }
    values.update(changes)
    return StoredReading(**values)


def test_dsmr_reading_json_live_example() -> None:
    body = dsmr_reading_json(_store_reading(), AMS)
    assert list(body) == READING_KEYS
    assert body == {
        "id": 2,
        "timestamp": "2026-11-22T05:34:41+01:00",
        "electricity_delivered_1": "1000.000",
        "electricity_returned_1": "10.000",
        "electricity_delivered_2": "2000.000",
        "electricity_returned_2": "20.000",
        "electricity_currently_delivered": "1.500",
        "electricity_currently_returned": "0.000",
        "phase_currently_delivered_l1": "1.500",
        "phase_currently_delivered_l2": None,
        "phase_currently_delivered_l3": None,
        "extra_device_timestamp": "2026-11-22T05:34:41+01:00",
        "extra_device_delivered": "500.000",
        "phase_currently_returned_l1": "0.000",
        "phase_currently_returned_l2": None,
        "phase_currently_returned_l3": None,
        "phase_voltage_l1": "231.4",
        "phase_voltage_l2": None,
        "phase_voltage_l3": None,
        "phase_power_current_l1": 2,
        "phase_power_current_l2": None,
        "phase_power_current_l3": None,
    }


def test_dsmr_reading_json_all_fields() -> None:
    reading = _store_reading(
        timestamp=datetime(2017, 4, 28, 23, 59, 25, 250000, tzinfo=UTC),
        electricity_delivered_1=Decimal("1871.589"),
        phase_currently_delivered_l2=Decimal("0.054"),
        phase_currently_delivered_l3=Decimal(0),
        extra_device_timestamp=datetime(2017, 4, 28, 22, tzinfo=UTC),
        extra_device_delivered=Decimal("1971.929"),
        phase_currently_returned_l2=Decimal("-0.5"),
        phase_currently_returned_l3=Decimal("0.001"),
        phase_voltage_l2=Decimal("230"),
        phase_voltage_l3=Decimal("0.5"),
        phase_power_current_l2=0,
        phase_power_current_l3=999,
    )
    body = dsmr_reading_json(reading, UTC)
    assert body["timestamp"] == "2017-04-28T23:59:25.250000Z"
    assert body["extra_device_timestamp"] == "2017-04-28T22:00:00Z"
    assert [body[key] for key in READING_KEYS[8:]] == [
        "1.500",
        "0.054",
        "0.000",
        "2017-04-28T22:00:00Z",
        "1971.929",
        "0.000",
        "-0.500",
        "0.001",
        "231.4",
        "230.0",
        "0.5",
        2,
        0,
        999,
    ]


def test_meter_statistics_json_seed_example() -> None:
    telegram = "/XMX5LGBBFFB123456789\r\n\r\n1-3:0.2.8(40)\r\n!013B"
    stats = MeterStatistics(
        timestamp=datetime(2020, 1, 15, 19, 13, 40, tzinfo=UTC),
        dsmr_version="40",
        electricity_tariff=1,
        power_failure_count=3,
        long_power_failure_count=0,
        voltage_sag_count_l1=1,
        voltage_sag_count_l2=2,
        voltage_sag_count_l3=3,
        voltage_swell_count_l1=0,
        voltage_swell_count_l2=0,
        voltage_swell_count_l3=0,
        rejected_telegrams=99,
        latest_telegram=telegram,
    )
    body = meter_statistics_json(stats, AMS)
    assert list(body.items()) == [
        ("id", 1),
        ("timestamp", "2020-01-15T20:13:40+01:00"),
        ("dsmr_version", "40"),
        ("electricity_tariff", 1),
        ("power_failure_count", 3),
        ("long_power_failure_count", 0),
        ("voltage_sag_count_l1", 1),
        ("voltage_sag_count_l2", 2),
        ("voltage_sag_count_l3", 3),
        ("voltage_swell_count_l1", 0),
        ("voltage_swell_count_l2", 0),
        ("voltage_swell_count_l3", 0),
        ("rejected_telegrams", 99),
        ("latest_telegram", telegram),
    ]


def test_meter_statistics_json_fresh() -> None:
    body = meter_statistics_json(MeterStatistics(), AMS)
    assert body == {
        "id": 1,
        "timestamp": None,
        "dsmr_version": None,
        "electricity_tariff": None,
        "power_failure_count": None,
        "long_power_failure_count": None,
        "voltage_sag_count_l1": None,
        "voltage_sag_count_l2": None,
        "voltage_sag_count_l3": None,
        "voltage_swell_count_l1": None,
        "voltage_swell_count_l2": None,
        "voltage_swell_count_l3": None,
        "rejected_telegrams": 0,
        "latest_telegram": None,
    }


def test_version_json() -> None:
    assert version_json() == {"version": "5.11.0"}


# --- validation: the seed example -----------------------------------------------------------


def _seed_result_without_id() -> dict[str, Any]:
    expected = {**SEED_POST_RESULT, **V5_EXTRA_NULLS}
    del expected["id"]
    return expected


@pytest.mark.parametrize(
    ("data", "form"),
    [
        # What `requests.post(data=...)` sends: each value through str().
        ({key: str(value) for key, value in SEED_POST_REQUESTS_DATA.items()}, True),
        (dict(parse_qsl(SEED_POST_CURL, keep_blank_values=True)), True),
        (MultiDict(parse_qsl(SEED_POST_CURL, keep_blank_values=True)), True),
        # The same data as a JSON body, numbers as JSON numbers.
        (SEED_POST_REQUESTS_DATA, False),
    ],
)
def test_seed_post_example(data: Any, form: bool) -> None:
    validated = validate_reading(data, AMS, form=form)
    assert validated == Reading(
        timestamp=datetime(2017, 4, 14, 22, tzinfo=UTC),
        electricity_delivered_1=Decimal("2000.000"),
        electricity_returned_1=Decimal("0.000"),
        electricity_delivered_2=Decimal("3000.000"),
        electricity_returned_2=Decimal("0.000"),
        electricity_currently_delivered=Decimal("1.500"),
        electricity_currently_returned=Decimal("0.025"),
    )
    assert validated.timestamp.tzinfo is AMS
    body = dsmr_reading_json(_stored(validated, SEED_POST_RESULT["id"]), AMS)
    assert body == {**SEED_POST_RESULT, **V5_EXTRA_NULLS}
    assert list(body) == READING_KEYS
    del body["id"]
    assert body == _seed_result_without_id()


def test_validated_reading_fits_the_store_model() -> None:
    validated = validate_reading(SEED_POST_REQUESTS_DATA, AMS)
    reading = Reading(**asdict(validated))
    stored = StoredReading(id=7, **asdict(reading))
    assert dsmr_reading_json(stored, AMS) == {**SEED_POST_RESULT, **V5_EXTRA_NULLS, "id": 7}


def test_post_utc_timestamp_is_echoed_in_local_time() -> None:
    validated = validate_reading(_body(timestamp="2017-01-01T00:00:00Z"), AMS)
    assert dsmr_reading_json(_stored(validated), AMS)["timestamp"] == "2017-01-01T01:00:00+01:00"


def test_post_all_fields() -> None:
    data = _body(
        phase_currently_delivered_l1="0.123",
        phase_currently_delivered_l2=0.2,
        phase_currently_delivered_l3=None,
        extra_device_timestamp="2017-04-14T23:00:00Z",
        extra_device_delivered="956.212",
        phase_currently_returned_l1="0",
        phase_currently_returned_l2="1e-3",
        phase_currently_returned_l3="-0.5",
        phase_voltage_l1="231.4",
        phase_voltage_l2=230,
        phase_voltage_l3="0.5",
        phase_power_current_l1=2,
        phase_power_current_l2="3.0",
        phase_power_current_l3=None,
        id=99,
        processed=True,
    )
    body = dsmr_reading_json(_stored(validate_reading(data, AMS)), AMS)
    assert body == {
        "id": 1,
        "timestamp": "2017-04-15T00:00:00+02:00",
        "electricity_delivered_1": "2000.000",
        "electricity_returned_1": "0.000",
        "electricity_delivered_2": "3000.000",
        "electricity_returned_2": "0.000",
        "electricity_currently_delivered": "1.500",
        "electricity_currently_returned": "0.025",
        "phase_currently_delivered_l1": "0.123",
        "phase_currently_delivered_l2": "0.200",
        "phase_currently_delivered_l3": None,
        "extra_device_timestamp": "2017-04-15T01:00:00+02:00",
        "extra_device_delivered": "956.212",
        "phase_currently_returned_l1": "0.000",
        "phase_currently_returned_l2": "0.001",
        "phase_currently_returned_l3": "-0.500",
        "phase_voltage_l1": "231.4",
        "phase_voltage_l2": "230.0",
        "phase_voltage_l3": "0.5",
        "phase_power_current_l1": 2,
        "phase_power_current_l2": 3,
        "phase_power_current_l3": None,
    }


# --- validation: body shape and required fields ---------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (None, "No data provided"),
        ("str", "Invalid data. Expected a dictionary, but got str."),
        ([SEED_POST_REQUESTS_DATA], "Invalid data. Expected a dictionary, but got list."),
        ([], "Invalid data. Expected a dictionary, but got list."),
        (1, "Invalid data. Expected a dictionary, but got int."),
        (1.5, "Invalid data. Expected a dictionary, but got float."),
        (True, "Invalid data. Expected a dictionary, but got bool."),
    ],
)
def test_post_not_a_dict(data: object, expected: str) -> None:
    assert _errors(data) == {"non_field_errors": [expected]}


@pytest.mark.parametrize("form", [False, True])
def test_post_empty_body(form: bool) -> None:
    body = _errors({}, form=form)
    assert body == {key: ["This field is required."] for key in REQUIRED}
    assert list(body) == REQUIRED


@pytest.mark.parametrize("missing", REQUIRED)
def test_post_each_required_field(missing: str) -> None:
    data = {key: value for key, value in SEED_POST_REQUESTS_DATA.items() if key != missing}
    assert _errors(data) == {missing: ["This field is required."]}


@pytest.mark.parametrize("field", REQUIRED)
def test_post_required_null(field: str) -> None:
    assert _errors(_body(**{field: None})) == {field: ["This field may not be null."]}


def test_post_optional_nulls_and_blanks() -> None:
    optional = READING_KEYS[8:]
    validated = validate_reading(_body(**dict.fromkeys(optional)), AMS)
    assert all(getattr(validated, name) is None for name in optional)
    # A blank decimal is null even in JSON; a blank integer or datetime is not.
    blank_decimals = [
        name for name in optional if "power_current" not in name and "timestamp" not in name
    ]
    validated = validate_reading(_body(**dict.fromkeys(blank_decimals, "  ")), AMS)
    assert all(getattr(validated, name) is None for name in blank_decimals)
    assert _errors(_body(phase_power_current_l1="", extra_device_timestamp="")) == {
        "extra_device_timestamp": [DT_FORMAT],
        "phase_power_current_l1": ["A valid integer is required."],
    }


def test_post_form_blanks() -> None:
    form = {key: str(value) for key, value in SEED_POST_REQUESTS_DATA.items()}
    optional = READING_KEYS[8:]
    validated = validate_reading({**form, **dict.fromkeys(optional, "")}, AMS, form=True)
    assert all(getattr(validated, name) is None for name in optional)
    # A form can't send null: a blank required field is an invalid value.
    assert _errors({**form, "electricity_delivered_1": "", "timestamp": ""}, form=True) == {
        "timestamp": [DT_FORMAT],
        "electricity_delivered_1": ["A valid number is required."],
    }
    # " " is not blank for an integer.
    assert _errors({**form, "phase_power_current_l1": " "}, form=True) == {
        "phase_power_current_l1": ["A valid integer is required."]
    }


def test_post_form_multidict_last_value_counts() -> None:
    pairs = [(key, str(value)) for key, value in SEED_POST_REQUESTS_DATA.items()]
    data = MultiDict([*pairs, ("electricity_returned_2", "7"), ("phase_voltage_l1", "x")])
    data.add("phase_voltage_l1", "229.9")
    validated = validate_reading(data, AMS, form=True)
    assert validated.electricity_returned_2 == Decimal("7.000")
    assert validated.phase_voltage_l1 == Decimal("229.9")


def test_post_every_error_in_field_order() -> None:
    data = {
        "phase_power_current_l3": 1000,
        "timestamp": "yesterday",
        "electricity_delivered_1": "1234567.123",
        "electricity_returned_1": "1234567",
        "electricity_delivered_2": "1.2345",
        "electricity_returned_2": None,
        "phase_voltage_l1": "230.12",
        "phase_voltage_l2": "1234",
        "phase_power_current_l2": -1,
        "extra_device_delivered": "abc",
    }
    body = _errors(data)
    assert body == {
        "timestamp": [DT_FORMAT],
        "electricity_delivered_1": ["Ensure that there are no more than 9 digits in total."],
        "electricity_returned_1": [
            "Ensure that there are no more than 6 digits before the decimal point."
        ],
        "electricity_delivered_2": ["Ensure that there are no more than 3 decimal places."],
        "electricity_returned_2": ["This field may not be null."],
        "electricity_currently_delivered": ["This field is required."],
        "electricity_currently_returned": ["This field is required."],
        "extra_device_delivered": ["A valid number is required."],
        "phase_voltage_l1": ["Ensure that there are no more than 4 digits in total."],
        "phase_voltage_l2": [
            "Ensure that there are no more than 3 digits before the decimal point."
        ],
        "phase_power_current_l2": ["Ensure this value is greater than or equal to 0."],
        "phase_power_current_l3": ["Ensure this value is less than or equal to 999."],
    }
    assert list(body) == [key for key in READING_KEYS if key in body]


# --- validation: numbers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2000", Decimal("2000.000")),
        (2000, Decimal("2000.000")),
        ("1e3", Decimal("1000.000")),
        ("1E-3", Decimal("0.001")),
        (1e3, Decimal("1000.000")),
        ("-1", Decimal("-1.000")),
        (-1, Decimal("-1.000")),
        ("-0", Decimal("-0.000")),
        (" 12.5 ", Decimal("12.500")),
        ("+5", Decimal("5.000")),
        (".5", Decimal("0.500")),
        ("5.", Decimal("5.000")),
        ("1_000", Decimal("1000.000")),
        ("00001.5", Decimal("1.500")),
        ("999999.999", Decimal("999999.999")),
        ("123456", Decimal("123456.000")),
        ("1e5", Decimal("100000.000")),
        ("0.000", Decimal("0.000")),
        ("1.0", Decimal("1.000")),
        (12.5, Decimal("12.500")),
        (0.025, Decimal("0.025")),
        ("\u0663", Decimal("3.000")),  # Arabic-Indic 3: Decimal() accepts it
    ],
)
def test_post_meter_value_accepted(value: object, expected: Decimal) -> None:
    validated = validate_reading(_body(electricity_delivered_1=value), AMS)
    assert validated.electricity_delivered_1 == expected
    assert str(validated.electricity_delivered_1) == str(expected)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "A valid number is required."),
        ("", "A valid number is required."),
        (" ", "A valid number is required."),
        ("12,5", "A valid number is required."),
        ("NaN", "A valid number is required."),
        ("sNaN", "A valid number is required."),
        ("inf", "A valid number is required."),
        ("-Infinity", "A valid number is required."),
        (True, "A valid number is required."),
        ([1], "A valid number is required."),
        ({"a": 1}, "A valid number is required."),
        pytest.param("1" * 1001, "String value too large.", id="1001-chars"),
        pytest.param(10**5000, "A valid number is required.", id="huge-int"),
        ("1.2345", "Ensure that there are no more than 3 decimal places."),
        ("1.0000", "Ensure that there are no more than 3 decimal places."),
        ("0.0000", "Ensure that there are no more than 3 decimal places."),
        ("1e-4", "Ensure that there are no more than 3 decimal places."),
        (0.1 + 0.2, "Ensure that there are no more than 9 digits in total."),
        (1e-7, "Ensure that there are no more than 3 decimal places."),
        ("1000000", "Ensure that there are no more than 6 digits before the decimal point."),
        ("1e6", "Ensure that there are no more than 6 digits before the decimal point."),
        ("999999.9999", "Ensure that there are no more than 9 digits in total."),
        ("1234567.123", "Ensure that there are no more than 9 digits in total."),
        ("0E-10", "Ensure that there are no more than 9 digits in total."),
        ("0E+9", "Ensure that there are no more than 9 digits in total."),
        (2.5e10, "Ensure that there are no more than 9 digits in total."),  # "25000000000.0"
        (2.5e6, "Ensure that there are no more than 6 digits before the decimal point."),
    ],
)
def test_post_meter_value_refused(value: object, message: str) -> None:
    assert _errors(_body(electricity_delivered_1=value)) == {"electricity_delivered_1": [message]}


@pytest.mark.parametrize(
    ("value", "expected"),
    [("231.4", "231.4"), (230, "230.0"), ("999", "999.0"), ("0.5", "0.5"), ("-5", "-5.0")],
)
def test_post_voltage_accepted(value: object, expected: str) -> None:
    validated = validate_reading(_body(phase_voltage_l1=value), AMS)
    assert str(validated.phase_voltage_l1) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("230.12", "Ensure that there are no more than 4 digits in total."),
        ("1234.5", "Ensure that there are no more than 4 digits in total."),
        ("1234", "Ensure that there are no more than 3 digits before the decimal point."),
        ("1000", "Ensure that there are no more than 3 digits before the decimal point."),
        ("99.95", "Ensure that there are no more than 1 decimal places."),
        ("x", "A valid number is required."),
    ],
)
def test_post_voltage_refused(value: object, message: str) -> None:
    assert _errors(_body(phase_voltage_l1=value)) == {"phase_voltage_l1": [message]}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0),
        (999, 999),
        ("2", 2),
        ("3.0", 3),
        ("5.00 ", 5),
        ("7.", 7),
        (5.0, 5),
        (999.0, 999),
        (" 7", 7),
        ("+7", 7),
        ("1_0", 10),
    ],
)
def test_post_current_accepted(value: object, expected: int) -> None:
    assert validate_reading(_body(phase_power_current_l2=value), AMS).phase_power_current_l2 == (
        expected
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1000, "Ensure this value is less than or equal to 999."),
        ("1000", "Ensure this value is less than or equal to 999."),
        (1000.0, "Ensure this value is less than or equal to 999."),
        (-1, "Ensure this value is greater than or equal to 0."),
        ("-3", "Ensure this value is greater than or equal to 0."),
        (2.5, "A valid integer is required."),
        ("5.5", "A valid integer is required."),
        ("1e2", "A valid integer is required."),
        ("", "A valid integer is required."),
        ("abc", "A valid integer is required."),
        (True, "A valid integer is required."),
        ([1], "A valid integer is required."),
        pytest.param(10**5000, "A valid integer is required.", id="huge-int"),
        pytest.param("1" * 1001, "String value too large.", id="1001-chars"),
    ],
)
def test_post_current_refused(value: object, message: str) -> None:
    assert _errors(_body(phase_power_current_l3=value)) == {"phase_power_current_l3": [message]}


# --- validation: timestamps -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2017-04-15T00:00:00+02", "2017-04-15T00:00:00+02:00"),
        ("2017-04-15T00:00:00+0200", "2017-04-15T00:00:00+02:00"),
        ("2017-04-15T00:00:00+02:00", "2017-04-15T00:00:00+02:00"),
        ("2017-01-01T12:00:00+01", "2017-01-01T12:00:00+01:00"),
        ("2017-04-15T12:00:00+02", "2017-04-15T12:00:00+02:00"),
        ("2017-01-01T00:00:00Z", "2017-01-01T01:00:00+01:00"),
        ("2017-01-01T00:00Z", "2017-01-01T01:00:00+01:00"),
        ("2017-01-01T00:00:00-05:30", "2017-01-01T06:30:00+01:00"),
        ("2017-01-01T00:00", "2017-01-01T00:00:00+01:00"),
        ("2026-11-21 10:00:00", "2026-11-21T10:00:00+01:00"),
        ("2017-1-1T1:2", "2017-01-01T01:02:00+01:00"),
        ("2017-01-01T00:00:00.123", "2017-01-01T00:00:00.123000+01:00"),
        ("2017-01-01T00:00:00,5", "2017-01-01T00:00:00.500000+01:00"),
        ("2017-01-01T00:00:00.123456789012", "2017-01-01T00:00:00.123456+01:00"),
        ("2017-01-01T00:00:00.000000Z", "2017-01-01T01:00:00+01:00"),
        ("2017-01-01T00:00\n", "2017-01-01T00:00:00+01:00"),  # regex "$" allows one "\n"
        ("2026-10-25T02:30:00", "2026-10-25T02:30:00+02:00"),  # ambiguous: fold=0
        ("2026-10-25T02:30:00+01:00", "2026-10-25T02:30:00+01:00"),
        ("2026-03-29T02:30:00", "2026-03-29T03:30:00+02:00"),  # non-existent: fold=0
    ],
)
def test_post_timestamp_accepted(value: str, expected: str) -> None:
    validated = validate_reading(_body(timestamp=value, extra_device_timestamp=value), AMS)
    body = dsmr_reading_json(_stored(validated), AMS)
    assert body["timestamp"] == expected
    assert body["extra_device_timestamp"] == expected


@pytest.mark.parametrize(
    "value",
    [
        "2017-04-15T100:00:00Z",  # the seed's typo
        "2017-01-01",
        "",
        " 2017-01-01T00:00",
        "2017-01-01T00:00 ",
        "2017-01-01T00:00 +01:00",
        "2017/01/01 00:00",
        "01/25/2017 10:00",
        "2017-13-01T00:00",
        "2017-02-30T00:00",
        "2017-01-01T24:00",
        "2017-01-01T00:00:60",
        "2017-01-01T00:00+24:00",
        "2017-01-01T00:00:00.1234567890123",
        12345,
        True,
    ],
)
def test_post_timestamp_refused(value: object) -> None:
    assert _errors(_body(timestamp=value)) == {"timestamp": [DT_FORMAT]}


def test_post_timestamp_out_of_range() -> None:
    assert _errors(_body(timestamp="0001-01-01T00:00:00+01:00")) == {
        "timestamp": ["Datetime value out of range."]
    }
    assert _errors(_body(extra_device_timestamp="0001-01-01T00:00:00")) == {
        "extra_device_timestamp": ["Datetime value out of range."]
    }


@pytest.mark.parametrize("value", ["2026-10-25T02:30:00", "2026-03-29 02:30"])
def test_post_timestamp_strict_dst(value: str) -> None:
    assert _errors(_body(timestamp=value), strict_dst=True) == {
        "timestamp": ['Invalid datetime for the timezone "Europe/Amsterdam".']
    }


def test_post_timestamp_strict_dst_accepts_offsets() -> None:
    validated = validate_reading(_body(timestamp="2026-10-25T02:30:00+01:00"), AMS, strict_dst=True)
    # The second 02:30 is fold=1 in local time. (PEP 495: an ambiguous local time never compares
    # equal to another zone's datetime, so compare in UTC.)
    assert validated.timestamp.fold == 1
    assert validated.timestamp.astimezone(UTC) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


def test_post_timestamp_in_utc_zone() -> None:
    validated = validate_reading(_body(timestamp="2017-04-15T00:00:00+02"), UTC)
    assert dsmr_reading_json(_stored(validated), UTC)["timestamp"] == "2017-04-14T22:00:00Z"


def test_validation_failed_message() -> None:
    with pytest.raises(ValidationFailed, match="This field is required"):
        validate_reading({}, AMS)


def test_statistics_patch_validation() -> None:
    """Meter-statistics PATCH: partial, unknown fields ignored, DRF's CharField messages."""
    from zoneinfo import ZoneInfo

    from custom_components.smartmeter.api.validation import (
        ValidationFailed as Failed,
        validate_statistics_patch,
    )

    amsterdam = ZoneInfo("Europe/Amsterdam")
    assert validate_statistics_patch({"id": 3, "latest_telegram": " /X\r\n!"}, amsterdam) == {
        "latest_telegram": "/X\r\n!"
    }
    assert validate_statistics_patch({"dsmr_version": ""}, amsterdam, form=True) == {
        "dsmr_version": None
    }
    with pytest.raises(Failed) as failed:
        validate_statistics_patch(
            {"dsmr_version": True, "latest_telegram": "  ", "electricity_tariff": 2**31},
            amsterdam,
        )
    assert failed.value.body == {
        "dsmr_version": ["Not a valid string."],
        "electricity_tariff": ["Ensure this value is less than or equal to 2147483647."],
        "latest_telegram": ["This field may not be blank."],
    }
