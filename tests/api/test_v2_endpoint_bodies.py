"""The plain logic of the newer API v2 endpoints: record JSON, live and today bodies, language,
day statistics validation, monitoring, status and the OpenAPI schema.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no types

from custom_components.smartmeter.api.application import (
    MonitoringIssue,
    StatusFacts,
    monitoring_issues,
    monitoring_json,
    status_json,
)
from custom_components.smartmeter.api.locale import number_format, request_language
from custom_components.smartmeter.api.openapi import openapi_schema, openapi_yaml, record_schema
from custom_components.smartmeter.api.params import MAX_LIMIT, parse_limit
from custom_components.smartmeter.api.routes import ROUTES
from custom_components.smartmeter.api.serializers import (
    electricity_live_json,
    gas_live_json,
    no_readings_today_json,
    record_json,
    today_json,
)
from custom_components.smartmeter.api.validation import (
    DAY_STATISTICS_BODY,
    READING_BODY,
    ValidationFailed,
    validate_day_statistics,
)
from custom_components.smartmeter.store.model import StoredReading
from custom_components.smartmeter.store.records import (
    DayConsumption,
    DayStatistics,
    EnergySupplierPrice,
    GasConsumption,
    HourStatistics,
    ProcessingStatus,
    QuarterHourPeak,
    StoredDayStatistics,
    StoredEnergySupplierPrice,
)

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
PRICES = EnergySupplierPrice(
    start=date(2026, 1, 1),
    end=date(2026, 12, 31),
    electricity_delivered_1_price=Decimal("0.21"),
    electricity_delivered_2_price=Decimal("0.25"),
    gas_price=Decimal("1.30"),
    electricity_returned_1_price=Decimal("0.07"),
    electricity_returned_2_price=Decimal("0.09"),
    fixed_daily_cost=Decimal("0.85"),
)
DAY = StoredDayStatistics(
    id=7,
    day=date(2017, 2, 25),
    electricity1=Decimal("7.289"),
    electricity2=Decimal(0),
    electricity1_returned=Decimal("0.1"),
    electricity2_returned=Decimal(0),
    electricity1_cost=Decimal("1.3"),
    electricity2_cost=Decimal(0),
    gas=Decimal("3.047"),
    gas_cost=Decimal("1.84"),
    lowest_temperature=Decimal("-0.6"),
    total_cost=Decimal("3.14"),
    electricity_reading_timestamp=datetime(2017, 2, 24, 23, 0, 5, tzinfo=UTC),
)
SEED_DAY_RESULT = {
    "id": 7,
    "day": "2017-02-25",
    "electricity1": "7.289",
    "electricity2": "0.000",
    "electricity1_returned": "0.100",
    "electricity2_returned": "0.000",
    "electricity1_cost": "1.30",
    "electricity2_cost": "0.00",
    "gas": "3.047",
    "gas_cost": "1.84",
    "lowest_temperature": "-0.6",
    "highest_temperature": None,
    "average_temperature": None,
    "fixed_cost": "0.00",
    "total_cost": "3.14",
    "electricity_reading_timestamp": "2017-02-25T00:00:05+01:00",
    "electricity1_reading": None,
    "electricity2_reading": None,
    "electricity1_returned_reading": None,
    "electricity2_returned_reading": None,
    "gas_reading_timestamp": None,
    "gas_reading": None,
}


def live_reading(**changes: Any) -> StoredReading:
    """A reading of 0.4 kW at 05:32:35 local time."""
    values: dict[str, Any] = {
        "id": 1,
        "timestamp": datetime(2026, 11, 22, 4, 32, 35, tzinfo=UTC),
        "electricity_delivered_1": Decimal(1000),
        "electricity_returned_1": Decimal(10),
        "electricity_delivered_2": Decimal(0),
        "electricity_returned_2": Decimal(0),
        "electricity_currently_delivered": Decimal("0.4"),
        "electricity_currently_returned": Decimal(0),
    }
    return StoredReading(**{**values, **changes})


def test_record_json_day_statistics() -> None:
    """Id first, then the fields in order; 3, 2 and 1 places; local datetimes; dates."""
    body = record_json(DAY, AMS)
    assert body == SEED_DAY_RESULT
    assert list(body) == list(SEED_DAY_RESULT)


def test_record_json_other_records() -> None:
    """Peaks, hours, gas and contracts render with their columns' places."""
    peak = QuarterHourPeak(
        id=3,
        read_at_start=datetime(2026, 11, 22, 4, 15, 5, tzinfo=UTC),
        read_at_end=datetime(2026, 11, 22, 4, 27, 35, 912850, tzinfo=UTC),
        average_delivered=Decimal("0.398"),
    )
    assert record_json(peak, AMS) == {
        "id": 3,
        "read_at_start": "2026-11-22T05:15:05+01:00",
        "read_at_end": "2026-11-22T05:27:35.912850+01:00",
        "average_delivered": "0.398",
    }
    hour = HourStatistics(
        id=12917,
        hour_start=datetime(2017, 2, 1, 23, tzinfo=UTC),
        electricity1=Decimal("0.209"),
        electricity2=Decimal(0),
        electricity1_returned=Decimal(0),
        electricity2_returned=Decimal(0),
        gas=Decimal("0.886"),
    )
    # The seed's example row, in UTC.
    assert record_json(hour, UTC) == {
        "id": 12917,
        "hour_start": "2017-02-01T23:00:00Z",
        "electricity1": "0.209",
        "electricity2": "0.000",
        "electricity1_returned": "0.000",
        "electricity2_returned": "0.000",
        "gas": "0.886",
    }
    gas = GasConsumption(
        id=28858,
        read_at=datetime(2019, 4, 19, 7, tzinfo=UTC),
        delivered=Decimal("2850.598"),
        currently_delivered=Decimal("0.06"),
    )
    assert record_json(gas, AMS) == {
        "id": 28858,
        "read_at": "2019-04-19T09:00:00+02:00",
        "delivered": "2850.598",
        "currently_delivered": "0.060",
    }
    contract = StoredEnergySupplierPrice(
        id=1, start=date(2026, 1, 1), end=date(2026, 12, 31), gas_price=Decimal("1.23456")
    )
    assert record_json(contract, AMS) == {
        "id": 1,
        "start": "2026-01-01",
        "end": "2026-12-31",
        "description": "",
        "electricity_delivered_1_price": "0.000000",
        "electricity_delivered_2_price": "0.000000",
        "gas_price": "1.234560",
        "electricity_returned_1_price": "0.000000",
        "electricity_returned_2_price": "0.000000",
        "fixed_daily_cost": "0.000000",
    }


def consumption(**changes: Any) -> DayConsumption:
    """The research notes' live example of /consumption/today."""
    values: dict[str, Any] = {
        "day": date(2026, 11, 22),
        "electricity1": Decimal("2.200"),
        "electricity2": Decimal("0.000"),
        "electricity1_returned": Decimal("0.000"),
        "electricity2_returned": Decimal("0.000"),
        "electricity_merged": Decimal("2.200"),
        "electricity_returned_merged": Decimal("0.000"),
        "electricity1_cost": Decimal("0.46"),
        "electricity2_cost": Decimal("0.00"),
        "total_cost": Decimal("1.67"),
        "gas": Decimal("0.275"),
        "gas_cost": Decimal("0.36"),
        "fixed_cost": Decimal("0.85"),
        "prices": PRICES,
    }
    return DayConsumption(**{**values, **changes})


def test_today_json() -> None:
    """Floats in DSMR-reader's key order; without gas, gas and gas_cost come last as 0."""
    body = today_json(consumption(), has_gas=True)
    assert list(body.items()) == [
        ("day", "2026-11-22"),
        ("electricity1", 2.2),
        ("electricity2", 0.0),
        ("electricity1_returned", 0.0),
        ("electricity2_returned", 0.0),
        ("electricity_merged", 2.2),
        ("electricity_returned_merged", 0.0),
        ("electricity1_cost", 0.46),
        ("electricity2_cost", 0.0),
        ("total_cost", 1.67),
        ("gas", 0.275),
        ("gas_cost", 0.36),
        ("fixed_cost", 0.85),
        ("energy_supplier_price_electricity_delivered_1", 0.21),
        ("energy_supplier_price_electricity_delivered_2", 0.25),
        ("energy_supplier_price_electricity_returned_1", 0.07),
        ("energy_supplier_price_electricity_returned_2", 0.09),
        ("energy_supplier_price_gas", 1.3),
        ("energy_supplier_price_fixed_daily_cost", 0.85),
    ]
    without_gas = today_json(
        consumption(gas=Decimal(0), gas_cost=Decimal(0), total_cost=Decimal("1.31")),
        has_gas=False,
    )
    assert list(without_gas)[-3:] == ["energy_supplier_price_fixed_daily_cost", "gas", "gas_cost"]
    assert (without_gas["gas"], without_gas["gas_cost"]) == (0.0, 0.0)
    assert no_readings_today_json(date(2026, 11, 2)) == (
        "No electricity readings found for: 2026-11-02"
    )


def test_electricity_live_json() -> None:
    """The live example; truncated watts, cost with both directions, nl decimal comma."""
    kwargs: dict[str, Any] = {"tariff": 1, "prices": PRICES, "now": NOW, "tz": AMS}
    assert electricity_live_json(None, **kwargs, language="en") == {}
    assert electricity_live_json(live_reading(), **kwargs, language="en") == {
        "timestamp": "2026-11-22T05:32:35+01:00",
        "currently_delivered": 400,
        "currently_returned": 0,
        "cost_per_hour": "0.08",
        "tariff_name": "Daltarief",
    }
    both = live_reading(
        electricity_currently_delivered=Decimal("0.0019"),
        electricity_currently_returned=Decimal("2.5999"),
    )
    body = electricity_live_json(both, **{**kwargs, "tariff": 2}, language="nl")
    # 0.0019 * 0.25 - 2.5999 * 0.09 = -0.233516 -> -0.23
    assert (body["currently_delivered"], body["currently_returned"]) == (1, 2599)
    assert (body["cost_per_hour"], body["tariff_name"]) == ("-0,23", "Normaaltarief")
    assert (
        electricity_live_json(live_reading(), **{**kwargs, "prices": None}, language="en")[
            "cost_per_hour"
        ]
        is None
    )
    body = electricity_live_json(live_reading(), **{**kwargs, "tariff": None}, language="en")
    assert (body["cost_per_hour"], body["tariff_name"]) == (None, None)
    # At exactly now, DSMR-reader's min() keeps now: in UTC.
    at_now = live_reading(timestamp=NOW)
    assert electricity_live_json(at_now, **kwargs, language="en")["timestamp"] == (
        "2026-11-22T10:00:00Z"
    )


def test_gas_live_json() -> None:
    """Float m³; the cost per interval only with prices, rounded half up."""
    gas = GasConsumption(
        id=1,
        read_at=datetime(2026, 11, 22, 4, tzinfo=UTC),
        delivered=Decimal(500),
        currently_delivered=Decimal("0.595"),
    )
    assert gas_live_json(None, prices=PRICES, tz=AMS, language="en") == {}
    assert gas_live_json(gas, prices=None, tz=AMS, language="en") == {
        "timestamp": "2026-11-22T05:00:00+01:00",
        "currently_delivered": 0.595,
    }
    # 0.595 * 1.30 = 0.7735 -> 0.77
    assert gas_live_json(gas, prices=PRICES, tz=AMS, language="nl")["cost_per_interval"] == "0,77"


@pytest.mark.parametrize(
    ("value", "language", "expected"),
    [
        ("0.08", "en", "0.08"),
        ("0.08", "nl", "0,08"),
        ("1234567.89", "en", "1,234,567.89"),
        ("1234567.89", "nl", "1.234.567,89"),
        ("-1234.50", "en", "-1,234.50"),
        ("123", "nl", "123"),
        ("-0.00", "en", "-0.00"),
    ],
)
def test_number_format(value: str, language: Any, expected: str) -> None:
    """Django's number_format with thousands separators, all places kept."""
    assert number_format(Decimal(value), language) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("nl", "nl"),
        ("NL-be", "nl"),
        ("de, nl;q=0.5", "nl"),
        ("nl;q=0.1, en-GB;q=0.5", "en"),
        ("fr, *, nl;q=0.5", "en"),
        ("fr", "en"),
        ("nl;q=2", "en"),  # unparsable: Django ignores the header
        ("@, nl", "en"),
    ],
)
def test_request_language(header: str | None, expected: str) -> None:
    """LocaleMiddleware's choice between en and nl."""
    assert request_language(header) == expected


DAY_POST = {
    "day": "2017-02-25",
    "electricity1": "7.289",
    "electricity2": 0,
    "electricity1_returned": 0.1,
    "electricity2_returned": "0",
    "electricity1_cost": "1.3",
    "electricity2_cost": 0,
    "gas": "3.047",
    "gas_cost": "1.84",
    "lowest_temperature": "-0.6",
    "total_cost": "3.14",
    "electricity_reading_timestamp": "2017-02-25T00:00:05+01:00",
}


def never(day: date) -> bool:
    """No day exists."""
    return False


def test_validate_day_statistics() -> None:
    """A valid body: optional fields null, fixed_cost 0.00, datetimes aware."""
    assert validate_day_statistics(DAY_POST, AMS, never) == DayStatistics(
        day=date(2017, 2, 25),
        electricity1=Decimal("7.289"),
        electricity2=Decimal("0.000"),
        electricity1_returned=Decimal("0.100"),
        electricity2_returned=Decimal("0.000"),
        electricity1_cost=Decimal("1.30"),
        electricity2_cost=Decimal("0.00"),
        gas=Decimal("3.047"),
        gas_cost=Decimal("1.84"),
        lowest_temperature=Decimal("-0.6"),
        fixed_cost=Decimal("0.00"),
        total_cost=Decimal("3.14"),
        electricity_reading_timestamp=datetime(2017, 2, 24, 23, 0, 5, tzinfo=UTC),
    )
    assert validate_day_statistics({**DAY_POST, "day": "2017-2-5"}, AMS, never).day == date(
        2017, 2, 5
    )


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        (
            {"day": "2017-02-30", "total_cost": "1234567.8", "gas": None},
            {
                "day": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."],
                "total_cost": [
                    "Ensure that there are no more than 6 digits before the decimal point."
                ],
            },
        ),
        (
            {"day": 20170225, "fixed_cost": None, "highest_temperature": "1000.5"},
            {
                "day": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."],
                "highest_temperature": ["Ensure that there are no more than 4 digits in total."],
                "fixed_cost": ["This field may not be null."],
            },
        ),
        (
            {"electricity1_cost": "0.001", "gas_reading_timestamp": "yesterday"},
            {
                "electricity1_cost": ["Ensure that there are no more than 2 decimal places."],
                "gas_reading_timestamp": [
                    "Datetime has wrong format. Use one of these formats instead: "
                    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
                ],
            },
        ),
    ],
)
def test_validate_day_statistics_errors(
    changes: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    """DRF's messages, every field at once; uniqueness is only asked of a valid day."""
    asked: list[date] = []

    def exists(day: date) -> bool:
        asked.append(day)
        return False

    with pytest.raises(ValidationFailed) as failed:
        validate_day_statistics({**DAY_POST, **changes}, AMS, exists)
    assert failed.value.body == errors
    assert asked == ([] if "day" in errors else [date(2017, 2, 25)])


def test_validate_day_statistics_duplicate_and_shapes() -> None:
    """A taken day is an error of the day field; a body that is not an object is refused."""
    with pytest.raises(ValidationFailed) as failed:
        validate_day_statistics(DAY_POST, AMS, lambda day: day == date(2017, 2, 25))
    assert failed.value.body == {
        "day": ["Day statistics (automatically generated data) with this Date already exists."]
    }
    with pytest.raises(ValidationFailed) as failed:
        validate_day_statistics([DAY_POST], AMS, never)
    assert failed.value.body == {
        "non_field_errors": ["Invalid data. Expected a dictionary, but got list."]
    }


def status(
    unprocessed: int = 0, oldest: datetime | None = None, day: date | None = None
) -> ProcessingStatus:
    """A processing status."""
    return ProcessingStatus(
        unprocessed_readings=unprocessed, oldest_unprocessed=oldest, latest_day=day
    )


def test_monitoring_boundaries() -> None:
    """60 minutes, more than 100 readings, 2 days behind today's UTC date."""

    def issues(reading: datetime | None, processing: ProcessingStatus) -> list[MonitoringIssue]:
        return monitoring_issues(
            now=NOW, latest_reading=reading, status=processing, tz=AMS, language="en"
        )

    recent = status(100, NOW, date(2026, 11, 21))
    assert issues(NOW - timedelta(minutes=59, seconds=59), recent) == []
    oldest = NOW - timedelta(hours=3)
    assert issues(NOW - timedelta(minutes=60), status(101, oldest, date(2026, 11, 20))) == [
        MonitoringIssue(
            "dsmr_datalogger.apps", "No recent readings received", NOW - timedelta(hours=1)
        ),
        MonitoringIssue("dsmr_consumption.apps", "Too many unprocessed readings: 101", oldest),
        MonitoringIssue(
            "dsmr_stats.apps",
            "Day statistics are lagging behind",
            datetime(2026, 11, 20, 23, 59, tzinfo=AMS),
        ),
    ]
    # 00:30 on the 23rd in Amsterdam is still the 22nd in UTC: the 21st is not lagging yet.
    late = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert (
        monitoring_issues(now=late, latest_reading=late, status=recent, tz=AMS, language="nl") == []
    )


def test_monitoring_json() -> None:
    """The counted, local-time rendering."""
    issue = MonitoringIssue(
        "dsmr_stats.apps", "x", datetime(2026, 11, 22, 4, 37, 2, 457331, tzinfo=UTC)
    )
    assert monitoring_json([issue], AMS) == {
        "problems": 1,
        "details": [
            {
                "source": "dsmr_stats.apps",
                "description": "x",
                "since": "2026-11-22T05:37:02.457331+01:00",
            }
        ],
    }


def test_status_json_clamps_and_rounds() -> None:
    """A reading ahead of now counts as now; minutes and hours round half to even."""
    facts = StatusFacts(
        latest_reading=NOW + timedelta(hours=1),
        latest_electricity=NOW - timedelta(seconds=150),  # 2.5 minutes
        latest_gas=NOW - timedelta(minutes=90),  # 1.5 hours
        processing=status(3, NOW - timedelta(seconds=2.5), date(2026, 11, 20)),
        electricity_returned=True,
        multi_phases=False,
        voltage=False,
        power_current=False,
    )
    body = status_json(facts, NOW)
    assert body["readings"] == {
        "latest": "2026-11-22T10:00:00Z",
        "seconds_since": 0,
        "unprocessed": {"count": 3, "seconds_since": 2},
    }
    assert body["electricity"] == {"latest": "2026-11-22T09:57:30Z", "minutes_since": 2}
    assert body["gas"] == {"latest": "2026-11-22T08:30:00Z", "hours_since": 2}
    assert body["statistics"] == {"ok": False, "latest": "2026-11-20", "days_since": 2}
    assert body["capabilities"]["electricity_returned"] is True
    assert body["capabilities"]["any"] is True


def test_parse_limit_cap() -> None:
    """A limit above the cap is cut to it, as DRF's max_limit does."""
    assert parse_limit("1000000", max_limit=MAX_LIMIT) == MAX_LIMIT
    assert parse_limit("9999", max_limit=MAX_LIMIT) == 9999
    assert parse_limit("-1", max_limit=MAX_LIMIT) == 25


def test_openapi_yaml_lists_the_routes() -> None:
    """The YAML parses to the route table: every path and method, the key schemes."""
    schema = yaml.safe_load(openapi_yaml())
    assert schema == openapi_schema()
    assert schema["openapi"] == "3.0.2"
    assert schema["info"]["title"] == "DSMR-reader API"
    assert {path: set(item) for path, item in schema["paths"].items()} == {
        route.path: set(route.operations) for route in ROUTES
    }
    assert schema["components"]["securitySchemes"] == {
        "AuthKey": {"type": "apiKey", "in": "header", "name": "X-AUTHKEY"},
        "Token": {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'The key after "Token ": Authorization: Token <key>.',
        },
    }
    assert schema["paths"]["/api/v2/schema"]["get"]["security"] == []
    day = schema["paths"]["/api/v2/statistics/day"]
    assert day["get"]["operationId"] == "Day statistics: List"
    parameters = {parameter["name"]: parameter for parameter in day["get"]["parameters"]}
    assert list(parameters) == ["limit", "offset", "ordering", "day", "day__gte", "day__lte"]
    assert parameters["ordering"]["schema"]["enum"] == ["day", "-day"]
    assert parameters["day__gte"]["schema"] == {"type": "string", "format": "date"}
    body = day["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == [name for name, _, _, required in DAY_STATISTICS_BODY if required]
    assert body["properties"]["total_cost"]["pattern"] == r"^-?\d{0,6}(?:\.\d{0,2})?$"
    assert body["properties"]["gas"]["nullable"] is True
    created = day["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert list(created["properties"]) == list(SEED_DAY_RESULT)
    readings = schema["paths"]["/api/v2/datalogger/dsmrreading"]["post"]["requestBody"]
    required = readings["content"]["multipart/form-data"]["schema"]["required"]
    assert required == [name for name, _, _, is_required in READING_BODY if is_required]
    qhp = schema["paths"]["/api/v2/consumption/quarter-hour-peak-electricity"]["get"]
    filters = [p for p in qhp["parameters"] if p["name"].startswith("average_delivered")]
    assert [p["schema"]["format"] for p in filters] == ["date-time", "date-time"]
    v1 = schema["paths"]["/api/v1/datalogger/dsmrreading"]["post"]
    assert list(v1["responses"]) == ["201", "400", "403", "405", "500"]
    assert "&id" not in openapi_yaml()  # no YAML anchors


def test_record_schema_types() -> None:
    """Field types from the record annotations: decimals as strings, nullables marked."""
    assert record_schema(QuarterHourPeak)["properties"] == {
        "id": {"type": "integer", "readOnly": True},
        "read_at_start": {"type": "string", "format": "date-time"},
        "read_at_end": {"type": "string", "format": "date-time"},
        "average_delivered": {"type": "string", "format": "decimal"},
    }
    properties = record_schema(StoredReading)["properties"]
    assert properties["phase_power_current_l1"] == {"type": "integer", "nullable": True}
