"""Property-based fuzzing of every API route and method through Home Assistant's http component.

Hypothesis makes requests (methods, keys, query strings, headers, bodies: JSON, forms, multipart
with and without a boundary, bytes that are no UTF-8, telegrams with and without a right CRC)
to every route the views serve and a few they do not. Whatever comes, the answer is one the API
documents: a 5xx only with a documented body, nothing logged at ERROR, and a refused request
leaves the meters' data as it was (a refused telegram adds one to ``rejected_telegrams``).

Hypothesis runs in an executor thread and sends each request on Home Assistant's event loop, so
the loop stays free to serve it. The run is deterministic (``derandomize``) and bounded.

The readings accepted are processed as usual: processing follows the readings, so a fuzzed
timestamp years from the others costs what any reading costs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, replace
import json
import logging
from typing import Any
from urllib.parse import urlencode

from aiohttp.test_utils import TestClient
from homeassistant.core import HomeAssistant
from hypothesis import HealthCheck, given, settings, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.smartmeter.const import DOMAIN
from custom_components.smartmeter.models import SmartMeterConfigEntry
from custom_components.smartmeter.store.model import MeterStatistics
from custom_components.smartmeter.views import VIEWS
from tests.common import REFUSED_FOR_A_MISSING_REGISTER, setup_entry
from tests.meters import telegram, with_crc
from tests.views.test_through_http import SEED_POST

# Two push-only meters: DSMR 4 (CRC required) and DSMR 2.2 (no CRC, so fuzzed lines are parsed).
KEYS = {"4": "A" * 64, "2.2": "B" * 64}
V1 = "/api/v1/datalogger/dsmrreading"
PATHS = (
    *sorted({view.url for view in VIEWS}),
    "/api/v2/datalogger/dsmrreading/",  # DSMR-reader has no trailing slashes
    "/api/v2/application/nope",
)
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# The paths whose methods take a body, and the methods each path serves.
WRITABLE = (
    V1,
    "/api/v2/datalogger/dsmrreading",
    "/api/v2/datalogger/meter-statistics",
    "/api/v2/statistics/day",
)

# They refuse telegrams that lack a register on purpose.
pytestmark = pytest.mark.allow_log(REFUSED_FOR_A_MISSING_REGISTER)
OWN_METHODS = {view.url: tuple(getattr(view, "handlers", None) or ("POST",)) for view in VIEWS}
V4_2 = telegram("v4_2.txt").decode("latin-1")
V2_2 = telegram("v2_2.txt").decode("latin-1")

# The plain-text answers the API documents, by status; JSON ones are DRF's 4xx and the 503.
CORS_REFUSED = "CORS preflight request failed: origin header is not specified in the request"
TEXT_ANSWERS: dict[int, set[str]] = {
    201: {""},
    # Home Assistant's own among them: its request filter, a path no view serves, OPTIONS.
    400: {"400: Bad Request", "Invalid data", "<h1>Bad Request (400)</h1>"},
    403: {"Invalid auth key", CORS_REFUSED},
    404: {"404: Not Found"},
    405: {"", "API is disabled"},
    500: {"Failed to parse telegram", "Failed to store telegram"},
    503: {"Too many readings queued"},
}
JSON_STATUSES = {200, 201, 400, 403, 404, 405, 406, 415}
JSON_SERVER_ERRORS = {503: {"detail": "Too many readings queued; try again later."}}


@dataclass
class Fuzzed:
    """Home Assistant with two push-only meters and a client of its http component."""

    hass: HomeAssistant
    client: TestClient[Any, Any]
    entries: dict[str, SmartMeterConfigEntry]

    async def stored(self) -> dict[str, tuple[int, MeterStatistics]]:
        """Return each meter's reading count and statistics, straight from its store."""

        def read(entry: SmartMeterConfigEntry) -> tuple[int, MeterStatistics]:
            coordinator = entry.runtime_data
            count, _ = coordinator.store.list_readings(coordinator.meter_id, limit=0)
            return count, coordinator.store.get_statistics(coordinator.meter_id)

        return {
            key: await self.hass.async_add_executor_job(read, entry)
            for key, entry in self.entries.items()
        }


@pytest.fixture
async def fuzzed(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, tmp_path: Any
) -> AsyncIterator[Fuzzed]:
    """Both meters on SQLite, in Amsterdam, each with a reading."""
    await hass.config.async_set_time_zone("Europe/Amsterdam")
    entries = {}
    for specification, key in KEYS.items():
        entry = MockConfigEntry(
            domain=DOMAIN,
            title=f"Datalogger {specification}",
            unique_id=f"push-{specification}",
            data={"connection_type": "push", "specification": specification},
            options={
                "api_enabled": True,
                "api_key": key,
                "database_url": f"sqlite:///{tmp_path / specification}.db",
            },
        )
        await setup_entry(hass, entry)
        entries[specification] = entry
    client = await hass_client_no_auth()
    for key, text in ((KEYS["4"], V4_2), (KEYS["2.2"], V2_2)):
        response = await client.post(V1, data={"telegram": text}, headers={"X-AUTHKEY": key})
        assert response.status == 201
    yield Fuzzed(hass, client, entries)
    for entry in entries.values():
        await hass.config_entries.async_unload(entry.entry_id)


# --- Strategies -------------------------------------------------------------------------------

# Header text the client can send: printable Latin-1, no control characters.
header_text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=40
)
anything = st.text(max_size=30)
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["1e3", "1E+999999", "NaN", "-0", "0.0001", "999999.999", "1000000"]),
)
datetimes = st.one_of(
    st.datetimes().map(str),
    st.datetimes(timezones=st.timezones()).map(lambda value: value.isoformat()),
    st.sampled_from(
        [
            "2026-03-29T02:30:00",  # does not exist in Amsterdam
            "2026-10-25 02:30",  # exists twice
            "2026-10-25",
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-14:00",
            "11/21/2026 00:03",
        ]
    ),
)
values = st.one_of(numbers, datetimes, anything, st.just(""))
field_names = st.sampled_from(
    [
        *SEED_POST,
        "day",
        "electricity1",
        "total_cost",
        "dsmr_version",
        "rejected_telegrams",
        "latest_telegram",
        "phase_voltage_l1",
        "phase_power_current_l1",
        "extra_device_timestamp",
        "gas_reading_timestamp",
    ]
)
query_names = st.sampled_from(
    [
        "limit",
        "offset",
        "ordering",
        "format",
        "timestamp",
        "timestamp__gte",
        "timestamp__lte",
        "read_at__gte",
        "day__lte",
        "start__gte",
        "average_delivered__gte",
    ]
)
query_values = st.one_of(values, st.sampled_from(["-timestamp", "json", "api", "-day,day"]))
queries = st.lists(st.tuples(st.one_of(query_names, anything), query_values), max_size=4)
forms = st.dictionaries(field_names, values, max_size=8)
changes = st.dictionaries(field_names, values, max_size=2)
DAY = {
    "day": "2026-10-25",
    "electricity1": "1.5",
    "electricity2": "2",
    "electricity1_returned": "0",
    "electricity2_returned": "0",
    "electricity1_cost": "0.30",
    "electricity2_cost": "0.50",
    "total_cost": "0.80",
}
FORM = "application/x-www-form-urlencoded"


@st.composite
def fuzzed_telegrams(draw: st.DrawFn) -> str:
    """A telegram: real, with a line changed or dropped (CRC made right or not), or noise."""
    base = draw(st.sampled_from([V4_2, V2_2]))
    kind = draw(st.sampled_from(["real", "changed", "dropped", "noise", "cut"]))
    if kind == "real":
        return base
    if kind == "noise":
        return draw(st.text(max_size=60))
    if kind == "cut":
        return base[: draw(st.integers(0, len(base)))]
    lines = base[: base.rindex("!") + 1].split("\r\n")
    index = draw(st.integers(1, len(lines) - 2))
    if kind == "dropped":
        del lines[index]
    else:
        code = lines[index].partition("(")[0]
        value = draw(st.text(st.sampled_from("0123456789.*-:EINafinsty"), max_size=25))
        lines[index] = f"{code}({value})"
    text = "\r\n".join(lines)
    return with_crc(text) if draw(st.booleans()) else f"{text}\r\n"


@st.composite
def multipart_bodies(draw: st.DrawFn) -> tuple[bytes, str]:
    """A multipart body, declared with its boundary, another, an invalid one or none."""
    boundary = draw(st.sampled_from(["b", "xyz"]))
    fields = draw(
        st.dictionaries(
            st.one_of(field_names, st.just("telegram")),
            st.one_of(values.map(str.encode), st.binary(max_size=20)),
            max_size=4,
        )
    )
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value
        + b"\r\n"
        for name, value in fields.items()
    ]
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    declared = draw(
        st.sampled_from([f"; boundary={boundary}", "; boundary=other", "", '; boundary="a "'])
    )
    return body, f"multipart/form-data{declared}"


@st.composite
def json_bodies(draw: st.DrawFn) -> tuple[bytes, str]:
    """JSON of fields, a list or a value, or bytes said to be JSON."""
    data: Any = draw(st.one_of(forms, st.lists(values, max_size=3), values))
    body = draw(st.binary(max_size=40)) if draw(st.booleans()) else json.dumps(data).encode()
    types = ["application/json", "application/json; charset=latin-1", "*/*", "application/*"]
    return body, draw(st.sampled_from(types))


@st.composite
def record_bodies(draw: st.DrawFn) -> tuple[bytes, str]:
    """A reading or a day as a client sends one, a field or two changed, as JSON or a form."""
    record = {**draw(st.sampled_from([SEED_POST, DAY])), **draw(changes)}
    if draw(st.booleans()):
        return json.dumps(record).encode(), "application/json"
    return urlencode(record).encode(), FORM


@st.composite
def form_bodies(draw: st.DrawFn) -> tuple[bytes, str]:
    """A form, perhaps with bytes that are no UTF-8, in a charset or none."""
    body = urlencode(draw(forms)).encode()
    if draw(st.booleans()):
        body += b"&" + draw(st.binary(max_size=20))
    return body, FORM + draw(st.sampled_from(["", "; charset=bogus", "; charset=latin-1"]))


@st.composite
def telegram_bodies(draw: st.DrawFn) -> tuple[bytes, str]:
    """A v1 form with a telegram, encoded in UTF-8 or Latin-1."""
    text = draw(fuzzed_telegrams())
    encoding = draw(st.sampled_from(["utf-8", "latin-1"]))
    return urlencode({"telegram": text}, encoding=encoding, errors="replace").encode(), FORM


raw_bodies = st.tuples(
    st.one_of(st.just(b""), st.binary(max_size=60)), st.one_of(st.none(), header_text)
)
bodies = st.one_of(
    json_bodies(), record_bodies(), form_bodies(), multipart_bodies(), telegram_bodies(), raw_bodies
)


def often[T](draw: st.DrawFn, likely: st.SearchStrategy[T], other: st.SearchStrategy[T]) -> T:
    """Draw from ``likely`` four times in five, else from ``other``."""
    return draw(likely if draw(st.integers(0, 4)) else other)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    """One request: method, path, query, headers and body; mostly a well-meant one."""
    path = often(draw, st.sampled_from(WRITABLE), st.sampled_from(PATHS))
    method = often(draw, st.sampled_from(OWN_METHODS.get(path, METHODS)), st.sampled_from(METHODS))
    headers: dict[str, str] = {}
    key = often(draw, st.sampled_from(list(KEYS.values())), st.sampled_from(["wrong", None]))
    if key is not None:
        if draw(st.booleans()):
            headers["X-AUTHKEY"] = key
        else:
            headers["Authorization"] = f"Token {key}"
    accepts = ["application/json", "*/*", "text/html", "application/vnd.oai.openapi+json", ""]
    accept = often(draw, st.none(), st.one_of(st.sampled_from(accepts), header_text))
    if accept is not None:
        headers["Accept"] = accept
    language = draw(st.one_of(st.none(), st.sampled_from(["nl", "en-US,en;q=0.5"]), header_text))
    if language is not None:
        headers["Accept-Language"] = language
    body, content_type = often(draw, telegram_bodies(), bodies) if path == V1 else draw(bodies)
    if content_type is not None:
        headers["Content-Type"] = content_type
    return {
        "method": method,
        "path": path,
        "query": urlencode(draw(queries)),
        "headers": headers,
        "body": body,
    }


# --- The property -----------------------------------------------------------------------------


def documented(method: str, status: int, body: bytes, content_type: str) -> bool:
    """Whether an answer is one the API documents (HEAD: the same, without the body)."""
    if method == "HEAD":
        return body == b"" and (status in TEXT_ANSWERS or status in JSON_STATUSES)
    if content_type == "application/json":
        answer: object = json.loads(body)  # JSON, whatever the status
        expected = JSON_SERVER_ERRORS.get(status)
        return answer == expected if expected is not None else status in JSON_STATUSES
    if status in TEXT_ANSWERS:
        return body.decode() in TEXT_ANSWERS[status]
    return status == 200 and content_type.startswith("application/vnd.oai.openapi")


async def test_every_route_and_method(fuzzed: Fuzzed, caplog: pytest.LogCaptureFixture) -> None:
    """Any request: a documented answer, no error logged, refused requests change nothing."""
    loop = asyncio.get_running_loop()

    def on_loop[T](coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=30)

    async def send(request: dict[str, Any]) -> tuple[int, bytes, str]:
        url = request["path"] + (f"?{request['query']}" if request["query"] else "")
        response = await fuzzed.client.request(
            request["method"], url, data=request["body"], headers=request["headers"]
        )
        return response.status, await response.read(), response.content_type

    @settings(
        derandomize=True,
        database=None,
        max_examples=400,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(request=requests())
    def check(request: dict[str, Any]) -> None:
        before = on_loop(fuzzed.stored())
        errors_before = len(caplog.records)
        status, body, content_type = on_loop(send(request))
        answer = (status, body[:200], content_type)
        assert documented(request["method"], status, body, content_type), answer
        errors = [
            record.getMessage()
            for record in caplog.records[errors_before:]
            if record.levelno >= logging.ERROR
        ]
        assert errors == []
        if status < 300:
            return
        after = on_loop(fuzzed.stored())
        if (status, body) == (500, b"Failed to parse telegram"):
            before = {
                key: (count, replace(stats, rejected_telegrams=stats.rejected_telegrams + 1))
                if key == _specification(request)
                else (count, stats)
                for key, (count, stats) in before.items()
            }
        assert after == before

    await fuzzed.hass.async_add_executor_job(check)
    await fuzzed.hass.async_block_till_done()
    # Nor afterwards (a write that failed after its answer would log then).
    assert [record for record in caplog.records if record.levelno >= logging.ERROR] == []


def _specification(request: dict[str, Any]) -> str | None:
    """Return the meter a request's key opens."""
    headers = request["headers"]
    key = headers.get("X-AUTHKEY") or headers.get("Authorization", "").removeprefix("Token ")
    return next((spec for spec, value in KEYS.items() if value == key), None)
