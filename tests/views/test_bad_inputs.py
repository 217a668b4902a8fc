"""Every request to the API gets DSMR-reader's answer, also when its body or telegram is bad.

Through Home Assistant's real http component, on SQLite (and PostgreSQL where the database
answers differently). A refused request leaves the meter's data as it was; a refused telegram
counts once in ``rejected_telegrams``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
import logging
from typing import Any
from urllib.parse import quote_from_bytes, urlencode

from aiohttp.test_utils import TestClient
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.smartmeter.models import SmartMeterConfigEntry
from custom_components.smartmeter.store.model import MeterStatistics, StoredReading
from tests.common import REFUSED_FOR_A_MISSING_REGISTER, setup_entry
from tests.meter.test_detection_and_values import LUXEMBOURG, SWEDEN
from tests.meters import edited, telegram, with_crc
from tests.views.test_through_http import SEED_POST, SEED_RESULT, TOKEN, V1, push_entry

READINGS = "/api/v2/datalogger/dsmrreading"
STATISTICS = "/api/v2/datalogger/meter-statistics"
DAYS = "/api/v2/statistics/day"
FAILED = (500, "Failed to parse telegram")
V4_2 = telegram("v4_2.txt").decode("latin-1")
MSG_DATETIME_FORMAT = (
    "Datetime has wrong format. Use one of these formats instead: "
    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
)

# They refuse telegrams that lack a register on purpose.
pytestmark = pytest.mark.allow_log(REFUSED_FOR_A_MISSING_REGISTER)
REQUIRED = ["This field is required."]
CORS_REFUSED = "CORS preflight request failed: origin header is not specified in the request"

type Stored = tuple[list[StoredReading], MeterStatistics]


@dataclass
class Meter:
    """A push-only meter with the API on, its HTTP client and its stored data."""

    client: TestClient[Any, Any]
    hass: HomeAssistant
    entry: SmartMeterConfigEntry

    async def stored(self) -> Stored:
        """Return the meter's readings and statistics, straight from the store."""
        coordinator = self.entry.runtime_data
        store = coordinator.store

        def read() -> Stored:
            _, readings = store.list_readings(coordinator.meter_id, limit=10_000)
            return readings, store.get_statistics(coordinator.meter_id)

        return await self.hass.async_add_executor_job(read)

    async def post_v1(self, body: str | bytes, content_type: str | None = None) -> tuple[int, str]:
        """POST a telegram (text, form-encoded here) or a raw body to API v1."""
        headers = dict(TOKEN)
        if isinstance(body, str):
            body = urlencode({"telegram": body}).encode()
            content_type = content_type or "application/x-www-form-urlencoded"
        if content_type is not None:
            headers["Content-Type"] = content_type
        response = await self.client.post(V1, data=body, headers=headers)
        return response.status, await response.text()

    async def send(
        self, method: str, path: str, body: bytes, content_type: str, **headers: str
    ) -> tuple[int, Any]:
        """Send a raw body to a v2 path; return the status and the JSON answer."""
        response = await self.client.request(
            method, path, data=body, headers={**TOKEN, "Content-Type": content_type, **headers}
        )
        return response.status, await response.json()


@pytest.fixture
def specification(request: pytest.FixtureRequest) -> str:
    """The meter's configured specification: DSMR 4 (as the other API tests) unless given."""
    return str(getattr(request, "param", "4"))


@pytest.fixture
async def meter(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    tmp_path: Any,
    specification: str,
) -> AsyncIterator[Meter]:
    """A push-only meter on SQLite, in Amsterdam."""
    await hass.config.async_set_time_zone("Europe/Amsterdam")
    entry: MockConfigEntry = push_entry(
        f"sqlite:///{tmp_path / 'readings.db'}", specification=specification
    )
    await setup_entry(hass, entry)
    yield Meter(await hass_client_no_auth(), hass, entry)
    await hass.config_entries.async_unload(entry.entry_id)


def ours(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    """Return what the integration logged at a level or above (asyncio's debug adds more)."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= level and record.name.startswith("custom_components.smartmeter")
    ]


def one_more_rejected(before: Stored) -> Stored:
    """What the store holds after one refused telegram: the same, one more rejected."""
    readings, statistics = before
    return readings, replace(statistics, rejected_telegrams=statistics.rejected_telegrams + 1)


def multipart(boundary: str, **fields: bytes) -> bytes:
    """A multipart/form-data body with these fields."""
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value
        + b"\r\n"
        for name, value in fields.items()
    ]
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


# --- API v1: the form -------------------------------------------------------------------------


async def test_v1_other_methods_get_djangos_empty_405(meter: Meter) -> None:
    """Any method but POST: 405 with an empty body, with or without a key (Django's View)."""
    for method in ("GET", "HEAD", "PUT", "PATCH", "DELETE"):
        for headers in (TOKEN, {}):
            response = await meter.client.request(method, V1, headers=headers)
            assert (response.status, await response.read()) == (405, b""), method
            assert response.headers["Allow"] == "POST, OPTIONS"
    # OPTIONS is Home Assistant's CORS preflight (a documented difference).
    for path in (V1, READINGS):
        response = await meter.client.options(path)
        assert (response.status, await response.text()) == (403, CORS_REFUSED)


async def test_v1_multipart_without_a_boundary(meter: Meter) -> None:
    """No boundary (or an invalid one): Django's 400 page, as its multipart parser fails."""
    before = await meter.stored()
    for content_type in ("multipart/form-data", 'multipart/form-data; boundary="a "'):
        assert await meter.post_v1(f"telegram={V4_2}".encode(), content_type) == (
            400,
            "<h1>Bad Request (400)</h1>",
        )
    assert await meter.stored() == before


async def test_v1_multipart(meter: Meter) -> None:
    """A multipart form is read as Django reads it, also with another boundary than declared."""
    before = await meter.stored()
    form = f"telegram={quote_from_bytes(V4_2.encode())}".encode()
    assert await meter.post_v1(form, "multipart/form-data; boundary=b") == (400, "Invalid data")
    # Bytes that are not UTF-8 become U+FFFD: the CRC no longer matches.
    broken = multipart("b", telegram=V4_2.replace("KAIFA", "KA\xffFA").encode("latin-1"))
    assert await meter.post_v1(broken, "multipart/form-data; boundary=b") == FAILED
    assert await meter.stored() == one_more_rejected(before)
    good = multipart("b", telegram=V4_2.encode())
    assert await meter.post_v1(good, "multipart/form-data; boundary=b") == (201, "")
    # The declared boundary never comes: Django takes the whole body as one part, whose
    # headers name the field; the text after the telegram's CRC line does not count.
    other = multipart("other", telegram=V4_2.encode())
    assert await meter.post_v1(other, "multipart/form-data; boundary=mine") == (201, "")
    readings, _ = await meter.stored()
    assert len(readings) == 2


async def test_v1_form_not_utf8(meter: Meter) -> None:
    """A form body that is not UTF-8 is read as Latin-1 (Django's fallback)."""
    latin = edited("v4_2.txt", ("KFM5KAIFA-METER", "KFM5KAIFA-M\xc9TER"))
    before = await meter.stored()
    # Percent-encoded bytes that are no UTF-8 decode to U+FFFD: not the telegram any more.
    encoded = b"telegram=" + quote_from_bytes(latin.encode("latin-1")).encode()
    assert await meter.post_v1(encoded, "application/x-www-form-urlencoded") == FAILED
    assert await meter.stored() == one_more_rejected(before)
    # Raw Latin-1 bytes: the whole body is Latin-1, and the telegram is whole.
    raw = b"telegram=" + latin.encode("latin-1")
    assert await meter.post_v1(raw, "application/x-www-form-urlencoded") == (201, "")
    readings, statistics = await meter.stored()
    assert len(readings) == 1
    assert statistics.latest_telegram == latin.strip()


async def test_v1_only_null_bytes(meter: Meter) -> None:
    """NUL bytes are stripped after the form's check: an empty telegram fails to parse."""
    before = await meter.stored()
    assert await meter.post_v1("\x00\x00") == FAILED
    assert await meter.post_v1(" \r\n") == (400, "Invalid data")
    assert await meter.stored() == one_more_rejected(before)


# --- API v1: telegrams DSMR-reader refuses ------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("blablabla", id="garbage"),
        pytest.param(V4_2[: V4_2.index("!") + 1], id="no-crc"),
        pytest.param(V4_2[: V4_2.index("0-0:96.7.21")], id="truncated"),
        pytest.param(
            telegram("seed_landisgyr_e350_v40.txt").decode().replace("!013B", "!013b"),
            id="lower-case-crc",
        ),
        pytest.param(V4_2.replace("!6796", "!6797"), id="wrong-crc"),
        pytest.param(edited("v4_2.txt", ("1-0:1.8.1(001581.123*kWh)\r\n", "")), id="no-tariff-1"),
        pytest.param(edited("v4_2.txt", ("1-0:2.7.0(00.000*kW)\r\n", "")), id="no-power-returned"),
        pytest.param(
            edited("v4_2.txt", ("1-0:1.8.1(001581.123*kWh)", "1-0:1.8.1(001.581.123*kWh)")),
            id="invalid-decimal",
        ),
        pytest.param(
            edited(
                "v4_2.txt",
                ("1-0:1.8.1(001581.123*kWh)", "1-0:1.8.1(1234567890123456789012*kWh)"),
            ),
            id="22-digits",
        ),
        pytest.param(
            edited("v4_2.txt", ("1-0:1.8.1(001581.123*kWh)", "1-0:1.8.1(1000000.000*kWh)")),
            id="7-digits",
        ),
        pytest.param(
            edited("v4_2.txt", ("0-0:96.7.21(00015)", "0-0:96.7.21(9999999999)")),
            id="count-too-large",
        ),
        pytest.param(
            edited("v4_2.txt", ("0-0:1.0.0(161113205757W)", "0-0:1.0.0(361113205757W)")),
            id="future",
        ),
    ],
)
async def test_v1_refused_telegram(meter: Meter, text: str) -> None:
    """500 "Failed to parse telegram", counted once; nothing stored, no register as 0."""
    before = await meter.stored()
    assert await meter.post_v1(text) == FAILED
    assert await meter.stored() == one_more_rejected(before)


async def test_v1_line_that_does_not_parse_is_skipped(meter: Meter) -> None:
    """A line whose value does not parse is left out, as DSMR-reader's parser skips it."""
    text = edited("v4_2.txt", ("1-0:21.7.0(00.170*kW)", "1-0:21.7.0(00.1.70*kW)"))
    assert await meter.post_v1(text) == (201, "")
    [reading], _ = await meter.stored()
    assert reading.phase_currently_delivered_l1 is None
    assert str(reading.phase_currently_delivered_l2) == "1.247"


async def test_v1_missing_register_logged_once(
    meter: Meter, caplog: pytest.LogCaptureFixture
) -> None:
    """A telegram without a register the specification requires: why, logged once."""
    text = edited("v4_2.txt", ("1-0:1.8.1(001581.123*kWh)\r\n", ""))
    for _ in range(3):
        assert await meter.post_v1(text) == FAILED
    warnings = ours(caplog, logging.WARNING)
    assert warnings == [
        "Telegrams without 1-0:1.8.1 (electricity delivered, tariff 1) are refused: "
        "DSMR 4 requires it"
    ]


@pytest.mark.parametrize(
    ("specification", "text", "looks_like"),
    [
        ("5", LUXEMBOURG, "DSMR 5L (Luxembourg, unencrypted)"),
        ("5", SWEDEN, "DSMR 5S (Sweden)"),
    ],
    indirect=["specification"],
    ids=["smarty", "sweden"],
)
async def test_v1_telegram_of_another_specification(
    meter: Meter, caplog: pytest.LogCaptureFixture, text: str, looks_like: str
) -> None:
    """A Smarty or Swedish telegram on a DSMR 5 meter: refused, and what it looks like logged."""
    before = await meter.stored()
    for _ in range(2):
        assert await meter.post_v1(text) == FAILED
    readings, statistics = await meter.stored()
    assert (readings, statistics.rejected_telegrams) == ([], 2)
    warnings = ours(caplog, logging.WARNING)
    assert warnings == [
        "Telegrams without 1-0:1.8.1 (electricity delivered, tariff 1) are refused: DSMR 5 "
        f"requires it; they look like {looks_like}: set the meter up with that"
    ]
    assert before[0] == []


async def test_v1_dsmr4_legacy_gas(meter: Meter) -> None:
    """Gas on the line after 0-1:24.3.0 is stored as DSMR-reader stores it: value and hour."""
    base = telegram("seed_landisgyr_e350_v40.txt").decode()
    body = base[: base.index("!")] + (
        "0-1:24.1.0(003)\r\n"
        "0-1:96.1.0(3238303131303031333132303437373133)\r\n"
        "0-1:24.3.0(200115200000)(00)(60)(1)(0-1:24.2.1)(m3)\r\n"
        "(01234.567)\r\n"
        "!"
    )
    assert await meter.post_v1(with_crc(body)) == (201, "")
    response = await meter.client.get(READINGS, headers=TOKEN)
    [row] = (await response.json())["results"]
    assert (row["extra_device_timestamp"], row["extra_device_delivered"]) == (
        "2020-01-15T20:00:00+01:00",
        "1234.567",
    )


# --- API v2: bodies ---------------------------------------------------------------------------


async def test_v2_form_not_utf8(meter: Meter) -> None:
    """Form bodies that are not UTF-8 are read as Latin-1 by every POST and PATCH."""
    before = await meter.stored()
    form = "application/x-www-form-urlencoded"
    assert await meter.send("POST", READINGS, b"timestamp=\xff", form) == (
        400,
        {
            "timestamp": [MSG_DATETIME_FORMAT],
            "electricity_delivered_1": REQUIRED,
            "electricity_returned_1": REQUIRED,
            "electricity_delivered_2": REQUIRED,
            "electricity_returned_2": REQUIRED,
            "electricity_currently_delivered": REQUIRED,
            "electricity_currently_returned": REQUIRED,
        },
    )
    assert await meter.send("PATCH", STATISTICS, b"dsmr_version=\xe9\xe9\xe9", form) == (
        400,
        {"dsmr_version": ["Ensure this field has no more than 2 characters."]},
    )
    status, body = await meter.send("POST", DAYS, b"day=\xff", form)
    assert (status, body["day"]) == (
        400,
        ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."],
    )
    assert await meter.stored() == before
    status, body = await meter.send("PATCH", STATISTICS, b"dsmr_version=\xe9", form)
    assert (status, body["dsmr_version"]) == (200, "\xe9")
    status, body = await meter.send(
        "POST", READINGS, urlencode(SEED_POST).encode() + b"&note=\xff", form
    )
    assert (status, {key: body[key] for key in SEED_RESULT}) == (201, SEED_RESULT)


async def test_v2_multipart(meter: Meter) -> None:
    """Multipart: DRF's parse error without a boundary; values that are no UTF-8 as U+FFFD."""
    before = await meter.stored()
    assert await meter.send("PATCH", STATISTICS, b"x", "multipart/form-data") == (
        400,
        {"detail": "Multipart form parse error - Invalid boundary in multipart: None"},
    )
    assert await meter.stored() == before
    status, body = await meter.send(
        "PATCH", STATISTICS, multipart("b", dsmr_version=b"\xff"), "multipart/form-data; boundary=b"
    )
    assert (status, body["dsmr_version"]) == (200, "\ufffd")


async def test_v2_json_not_utf8(meter: Meter) -> None:
    """JSON that is not UTF-8, or holds NaN: DRF's JSON parse error."""
    before = await meter.stored()
    assert await meter.send("POST", READINGS, b'{"a": "\xff"}', "application/json") == (
        400,
        {
            "detail": "JSON parse error - 'utf-8' codec can't decode byte 0xff in position 7: "
            "invalid start byte"
        },
    )
    assert await meter.send("POST", READINGS, b'{"a": NaN}', "application/json") == (
        400,
        {"detail": "JSON parse error - Out of range float values are not JSON compliant: 'NaN'"},
    )
    assert await meter.stored() == before
    assert await meter.send("PATCH", STATISTICS, b"{}", "application/json; charset=bogus") == (
        200,
        (await (await meter.client.get(STATISTICS, headers=TOKEN)).json()),
    )


@pytest.mark.parametrize(
    ("path", "field", "value"),
    [
        (READINGS, "timestamp", "2026-03-29T02:30:00"),
        (READINGS, "timestamp", "2026-10-25 02:30"),
        (READINGS, "extra_device_timestamp", "2026-10-25T02:59:59"),
        (STATISTICS, "timestamp", "2026-03-29T02:00"),
        (DAYS, "electricity_reading_timestamp", "2026-10-25T02:00:00"),
    ],
)
async def test_v2_local_time_in_a_dst_change(
    meter: Meter, path: str, field: str, value: str
) -> None:
    """A naive time that does not exist, or exists twice: DRF's make_aware error (pytz)."""
    day = {
        "day": "2026-10-25",
        "electricity1": "1",
        "electricity2": "1",
        "electricity1_returned": "0",
        "electricity2_returned": "0",
        "electricity1_cost": "0",
        "electricity2_cost": "0",
        "total_cost": "0",
    }
    body = {READINGS: SEED_POST, STATISTICS: {}, DAYS: day}[path] | {field: value}
    method = "PATCH" if path == STATISTICS else "POST"
    before = await meter.stored()
    response = await meter.client.request(method, path, json=body, headers=TOKEN)
    assert (response.status, await response.json()) == (
        400,
        {field: ['Invalid datetime for the timezone "Europe/Amsterdam".']},
    )
    assert await meter.stored() == before


# --- API v2: query and headers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("timestamp__gte=2026-03-29 02:30", "2026-03-29 02:30:00"),
        ("timestamp__lte=2026-10-25T02:15:00", "2026-10-25 02:15:00"),
        ("timestamp=2026-10-25 02:59:59.5", "2026-10-25 02:59:59.500000"),
    ],
)
async def test_v2_filter_in_a_dst_change(meter: Meter, query: str, shown: str) -> None:
    """A naive filter time that does not exist or exists twice: Django's 400 (pytz)."""
    field = query.partition("=")[0]
    response = await meter.client.get(f"{READINGS}?{query}", headers=TOKEN)
    assert (response.status, await response.json()) == (
        400,
        {
            field: [
                f"{shown} couldn\u2019t be interpreted in time zone Europe/Amsterdam; "
                "it may be ambiguous or it may not exist."
            ]
        },
    )


@pytest.mark.parametrize(
    "path", [READINGS, "/api/v2/consumption/electricity", "/api/v2/statistics/day"]
)
async def test_v2_offset_beyond_64_bits(meter: Meter, path: str) -> None:
    """An offset past every row is an empty page (DRF returns early), however large."""
    offset = 2**64 + 10
    response = await meter.client.get(f"{path}?offset={offset}", headers=TOKEN)
    assert (response.status, await response.json()) == (
        200,
        {
            "count": 0,
            "next": None,
            "previous": f"http://127.0.0.1:{meter.client.port}{path}?limit=25&offset={offset - 25}",
            "results": [],
        },
    )


@pytest.mark.parametrize(
    ("accept", "status"),
    [
        ("text/html", 406),
        ("", 406),
        ("text/html, application/xhtml+xml", 406),
        ("application/json", 200),
        ("application/*", 200),
        ("*/*", 200),
        ("text/html, application/json;q=0.9", 200),
    ],
)
async def test_v2_accept(meter: Meter, accept: str, status: int) -> None:
    """DRF's content negotiation, before the key is checked: JSON or 406."""
    body = {406: {"detail": "Could not satisfy the request Accept header."}}.get(
        status, {"version": "5.11.0"}
    )
    response = await meter.client.get(
        "/api/v2/application/version", headers={**TOKEN, "Accept": accept}
    )
    assert (response.status, await response.json()) == (status, body)
    if status == 406:
        response = await meter.client.get(READINGS, headers={"Accept": accept})
        assert (response.status, await response.json()) == (status, body)


async def test_v2_format_parameter(meter: Meter) -> None:
    """``?format=json`` is JSON; any other format has no renderer: 404."""
    path = "/api/v2/application/version"
    response = await meter.client.get(f"{path}?format=json", headers=TOKEN)
    assert (response.status, await response.json()) == (200, {"version": "5.11.0"})
    response = await meter.client.get(f"{path}?format=api", headers=TOKEN)
    assert (response.status, await response.json()) == (404, {"detail": "Not found."})
