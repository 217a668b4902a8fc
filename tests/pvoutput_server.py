"""A local PVOutput (r2 API) that behaves as PVOutput documents, for the export's tests.

Follows /work/shared/research/external-apis.md section 1: header authentication and its
error texts, read-only and disabled keys, the donation mode (300 requests an hour, 100
statuses a batch, 90 days back, the donor-only parameters), the rate-limit headers and the
403 once the hour's requests are used, the date window, and the batch rules. Every status it
accepts is recorded, so tests assert the exact values uploaded.

Texts the documentation does not give are marked "not documented" below.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from aiohttp import web
from aiohttp.test_utils import TestServer, unused_port

RATE_LIMIT = 60
DONOR_RATE_LIMIT = 300
BATCH_LIMIT = 30
DONOR_BATCH_LIMIT = 100
WINDOW_DAYS = 14
DONOR_WINDOW_DAYS = 90
# Parameters PVOutput accepts from accounts in donation mode only.
DONOR_PARAMETERS = frozenset({"delay", "m1", *(f"v{number}" for number in range(7, 13))})
BATCH_FIELDS = ("v1", "v2", "v3", "v4", "v5", "v6")
INTEGER_FIELDS = frozenset({"v1", "v2", "v3", "v4"})

MISSING_KEY = (
    "Unauthorized 401: Missing, invalid or inactive api key information (X-Pvoutput-Apikey)"
)
INVALID_KEY = "Unauthorized 401: Invalid API Key"
DISABLED_KEY = "Unauthorized 401: Disabled API Key"
INVALID_SYSTEM = "Unauthorized 401: Invalid System ID"
READ_ONLY = "Forbidden 403: Read only key"
DONATION_MODE = "Forbidden 403: Donation Mode"
NOTHING_ADDED = "Bad request 400: No statuses added or updated"
ADDED = "OK 200: Added Status"


@dataclass
class FakeKey:
    """An API key of an account: its systems and what it may do."""

    system_ids: set[int]
    donor: bool = False
    read_only: bool = False
    disabled: bool = False


@dataclass(frozen=True)
class Accepted:
    """A status PVOutput added, with the parameters it came with."""

    system_id: int
    service: str  # addstatus.jsp or addbatchstatus.jsp
    date: str  # yyyymmdd
    time: str  # hh:mm
    values: Mapping[str, str]  # the non-empty v1..v6, and n and delay when given


class _Refused(Exception):
    """A request or a batch line PVOutput refuses, with its status and text."""

    def __init__(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(text)
        self.status = status
        self.text = text
        self.headers = headers


@dataclass
class PVOutputServer:
    """PVOutput's r2 services getsystem, addstatus and addbatchstatus on localhost."""

    now: Callable[[], datetime]  # PVOutput's clock
    zone: tzinfo  # the systems' time zone
    keys: dict[str, FakeKey] = field(default_factory=dict)
    systems: dict[int, tuple[str, int]] = field(default_factory=dict)  # name, interval
    accepted: list[Accepted] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # services asked with a valid key
    refuse: dict[tuple[str, str], str] = field(default_factory=dict)  # (d, t): 400 text
    answers: list[tuple[int, str]] = field(default_factory=list)  # to give first
    window_days: int | None = None  # overrides the documented 14 / 90 days
    port: int = field(default_factory=unused_port)
    _used: dict[str, tuple[datetime, int]] = field(default_factory=dict)
    _server: TestServer | None = None

    @property
    def url(self) -> str:
        """Return the service base URL, as the client takes it."""
        return f"http://127.0.0.1:{self.port}/service/r2/"

    def add_system(self, system_id: int, name: str = "Zonnedak", status_interval: int = 5) -> None:
        """Create a system."""
        self.systems[system_id] = (name, status_interval)

    def add_key(self, key: str, *system_ids: int, **flags: bool) -> FakeKey:
        """Create an API key for the systems (donor, read_only, disabled flags)."""
        self.keys[key] = FakeKey(set(system_ids), **flags)
        return self.keys[key]

    def spend(self, key: str, count: int) -> None:
        """Use count requests of the key's hour, as another tool sharing the key would."""
        start, used = self._window(key)
        self._used[key] = (start, used + count)

    def statuses(self, system_id: int) -> list[tuple[str, str, dict[str, str]]]:
        """Return (d, t, values) of every accepted status of the system, in order."""
        return [
            (entry.date, entry.time, dict(entry.values))
            for entry in self.accepted
            if entry.system_id == system_id
        ]

    async def start(self) -> None:
        """Listen on 127.0.0.1:port."""
        app = web.Application()
        app.router.add_route("*", "/service/r2/{service}", self._handle)
        self._server = TestServer(app, host="127.0.0.1", port=self.port)
        await self._server.start_server()

    async def close(self) -> None:
        """Stop listening."""
        if self._server is not None:
            await self._server.close()
            self._server = None

    def _window(self, key: str) -> tuple[datetime, int]:
        """Return the start of the key's rate-limit hour and the requests used in it."""
        start = self.now().astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        used_start, used = self._used.get(key, (start, 0))
        return (start, used) if used_start == start else (start, 0)

    async def _handle(self, request: web.Request) -> web.Response:
        headers: dict[str, str] = {}
        try:
            key_text, key, system_id = self._authenticate(request)
            headers = self._count(key_text, key, request)
            if self.answers:
                status, text = self.answers.pop(0)
                return web.Response(status=status, text=text, headers=headers)
            params = {**request.query, **(await request.post())}
            text = self._serve(request.match_info["service"], system_id, key, params)
        except _Refused as refused:
            return web.Response(
                status=refused.status, text=refused.text, headers=refused.headers or headers
            )
        return web.Response(text=text, headers=headers)

    def _authenticate(self, request: web.Request) -> tuple[str, FakeKey, int]:
        """Return the key's text, the key and the system id, or refuse as PVOutput does."""
        if request.method not in ("GET", "POST"):
            raise _Refused(405, "Method Not Allowed 405: POST or GET only")
        key_text = request.headers.get("X-Pvoutput-Apikey", "")
        key = self.keys.get(key_text)
        if not key_text:
            raise _Refused(401, MISSING_KEY)
        if key is None:
            raise _Refused(401, INVALID_KEY)
        if key.disabled:
            raise _Refused(401, DISABLED_KEY)
        system_text = request.headers.get("X-Pvoutput-SystemId", "")
        if not system_text.isdigit() or int(system_text) not in key.system_ids:
            raise _Refused(401, INVALID_SYSTEM)
        return key_text, key, int(system_text)

    def _count(self, key_text: str, key: FakeKey, request: web.Request) -> dict[str, str]:
        """Count the request in the key's hour; return the rate-limit headers, if asked.

        Raises the 403 once the hour's requests are used.
        """
        start, used = self._window(key_text)
        limit = DONOR_RATE_LIMIT if key.donor else RATE_LIMIT
        used += 1
        self._used[key_text] = (start, used)
        self.requests.append(request.match_info["service"])
        headers: dict[str, str] = {}
        if request.headers.get("X-Rate-Limit") == "1":
            headers = {
                "X-Rate-Limit-Remaining": str(max(limit - used, 0)),
                "X-Rate-Limit-Limit": str(limit),
                "X-Rate-Limit-Reset": str(int((start + timedelta(hours=1)).timestamp())),
            }
        if used > limit:  # the headers come with this 403 as well
            raise _Refused(403, f"Forbidden 403: Exceeded {limit} requests per hour", headers)
        return headers

    def _serve(
        self, service: str, system_id: int, key: FakeKey, params: Mapping[str, object]
    ) -> str:
        if service == "getsystem.jsp":
            name, interval = self.systems[system_id]
            return (
                f"{name},5015,1234AB,17,295,JA solar,1,5000,SolarEdge,S,20.0,Low,20180622,"
                f"52.0,5.1,{interval};;0"
            )
        if service not in ("addstatus.jsp", "addbatchstatus.jsp"):
            raise _Refused(404, "Not Found 404")  # not documented
        if key.read_only:
            raise _Refused(403, READ_ONLY)
        if not key.donor and DONOR_PARAMETERS & params.keys():
            raise _Refused(403, DONATION_MODE)
        text = {name: str(value) for name, value in params.items()}
        if service == "addstatus.jsp":
            values = {name: text[name] for name in (*BATCH_FIELDS, "n", "delay") if text.get(name)}
            date, time = text.get("d", ""), text.get("t", "")
            self._add(Accepted(system_id, service, date, time, values), key)
            return ADDED
        return self._add_batch(system_id, key, text)

    def _add_batch(self, system_id: int, key: FakeKey, params: Mapping[str, str]) -> str:
        lines = [line.split(",") for line in params.get("data", "").split(";") if line]
        if len(lines) > DONOR_BATCH_LIMIT:
            raise _Refused(400, f"Bad request 400: Maximum {DONOR_BATCH_LIMIT} statuses")
        if len(lines) > BATCH_LIMIT and not key.donor:
            raise _Refused(403, DONATION_MODE)  # more than 30 is a donation feature
        net = params.get("n") == "1"
        if net and len({fields[0] for fields in lines}) > 1:
            # not documented: the text of the "same date" rule for net batches
            raise _Refused(400, "Bad request 400: Net statuses must have the same date")
        results: list[str] = []
        errors: set[str] = set()
        for fields in lines:
            date, time = [*fields, "", ""][:2]
            values = dict(zip(BATCH_FIELDS, fields[2:], strict=False))
            values = {name: value for name, value in values.items() if value}
            if net:
                values["n"] = "1"
            try:
                self._add(Accepted(system_id, "addbatchstatus.jsp", date, time, values), key)
            except _Refused as refused:
                errors.add(refused.text)
                results.append(f"{date},{time},0")
            else:
                results.append(f"{date},{time},1")
        if all(result.endswith(",0") for result in results):
            # The whole batch failed: one reason for all, or PVOutput's general one.
            raise _Refused(400, errors.pop() if len(errors) == 1 else NOTHING_ADDED)
        return ";".join(results)

    def _add(self, status: Accepted, key: FakeKey) -> None:
        """Check one status as PVOutput does and record it."""
        date, time, values = status.date, status.time, status.values
        try:
            moment = datetime.strptime(f"{date} {time}", "%Y%m%d %H:%M")
        except ValueError:
            raise _Refused(400, "Bad request 400: Could not read [d]") from None
        for name, value in values.items():
            try:
                int(value) if name in INTEGER_FIELDS else float(value)
            except ValueError:
                raise _Refused(400, f"Bad request 400: Could not read [{name}]") from None
        if not INTEGER_FIELDS & values.keys():
            raise _Refused(400, "Bad request 400: No status values")  # not documented
        local_now = self.now().astimezone(self.zone).replace(tzinfo=None)
        days = self.window_days or (DONOR_WINDOW_DAYS if key.donor else WINDOW_DAYS)
        if moment.date() < local_now.date() - timedelta(days=days):
            raise _Refused(400, f"Bad request 400: Date is too far in the past [{date}]")
        if moment > local_now:
            raise _Refused(400, f"Bad request 400: Date is in the future [{date}]")
        if (date, time) in self.refuse:
            raise _Refused(400, self.refuse[(date, time)])
        self.accepted.append(status)
