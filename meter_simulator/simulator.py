"""A simulated DSMR P1 meter: a real telegram brought to life and served over TCP."""

import asyncio
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from hashlib import blake2b
import math
import re
import time
from typing import Final
from zoneinfo import ZoneInfo

from dsmr_parser.parsers import TelegramParser

# Dutch and Belgian meters both write their local time, flagged S (summer) or W (winter).
METER_TIME: Final = ZoneInfo("Europe/Amsterdam")

CLOCK: Final = "0-0:1.0.0"
TARIFF: Final = "0-0:96.14.0"
POWER: Final = ("1-0:1.7.0", "1-0:2.7.0")  # delivered to the home, returned by it
PHASES: Final = (
    ("1-0:21.7.0", "1-0:41.7.0", "1-0:61.7.0"),
    ("1-0:22.7.0", "1-0:42.7.0", "1-0:62.7.0"),
)
# In the order of the energy tally below: delivered, returned; each tariff 1, tariff 2.
REGISTERS: Final = ("1-0:1.8.1", "1-0:1.8.2", "1-0:2.8.1", "1-0:2.8.2")
# Voltage and current of phases L1, L2, L3.
PHASE_LINES: Final = (
    ("1-0:32.7.0", "1-0:31.7.0"),
    ("1-0:52.7.0", "1-0:51.7.0"),
    ("1-0:72.7.0", "1-0:71.7.0"),
)
NOMINAL_MILLIVOLTS: Final = 230_000

# How many base units (W, J, litre, mV, mA) one unit as written in a telegram holds.
BASE_UNITS: Final = {
    "W": 1,
    "kW": 1000,
    "Wh": 3600,
    "kWh": 3_600_000,
    "m3": 1000,
    "GJ": 1_000_000_000,
    "V": 1000,
    "A": 1000,
}
# Base units an M-Bus meter adds per second at the least busy: 0.01 litre, or 300 J of heat
# (0.3 kW); a busy period adds up to 11 times as much.
MBUS_RATES: Final = {"m3": 0.01, "GJ": 300}

# A line with one value, like 1-0:1.7.0(00.244*kW), and an M-Bus meter reading in m3 or GJ;
# lines end in CRLF, so the \r stays outside the match.
SINGLE_VALUE: Final = re.compile(r"^(\d+-\d+:\d+\.\d+\.\d+)\(([^()]*)\)(?=\r$)", re.MULTILINE)
MBUS_READING: Final = re.compile(
    r"^(0-(\d+):24\.2\.[13])\(\d{12}[SW]\)\(([^()]*\*(m3|GJ))\)(?=\r$)", re.MULTILINE
)


def _stamp(moment: datetime) -> str:
    """Write a moment as a meter does: local YYMMDDhhmmss and S or W."""
    local = moment.astimezone(METER_TIME)
    return f"{local:%y%m%d%H%M%S}{'S' if local.dst() else 'W'}"


def _write(like: str, amount: int, *, onto: bool = False) -> str:
    """Write an amount in base units the way the template writes ``like``.

    Same digits before and after the decimal point, same unit. With ``onto`` the amount
    is added to the template's value, as for a register that counts up from it.
    """
    number, star, unit = like.partition("*")
    value = Decimal(amount) / BASE_UNITS.get(unit, 1)
    if onto:
        value += Decimal(number)
    decimals = len(number.partition(".")[2])
    # Registers show completed units only, so round down.
    value = value.quantize(Decimal(1).scaleb(-decimals), ROUND_DOWN)
    return f"{value:0{len(number)}f}{star}{unit}"


class MeterSimulator:
    """A meter that sends telegrams like a template, with live values.

    Power follows a daily curve (evening peak, solar surplus around noon) plus noise,
    the energy registers count up by exactly that power second by second, and M-Bus
    meters (gas, water, heat) tick up every 5 minutes (every hour for DSMR 4). The values
    depend only on the template, the seed, the start and the moment asked for.
    """

    def __init__(
        self,
        template: bytes,
        *,
        seed: int = 0,
        interval: float = 1.0,
        start: datetime | None = None,
    ) -> None:
        """Take one real telegram as template.

        ``start`` (timezone-aware, default now) is when the registers read as in the template.
        """
        text = template.decode("latin-1")
        _, slash, rest = text.partition("/")
        body, bang, _ = rest.partition("!")
        if not (slash and bang):
            raise ValueError("template is not a telegram: no '/' header or no '!' end")
        self._body = f"/{body}!"
        fields = dict(SINGLE_VALUE.findall(self._body))
        self._phases = [[code for code in codes if code in fields] for codes in PHASES]
        # Each phase's voltage in the template, which the simulated one wobbles around.
        self._millivolts = [
            round(Decimal(fields[voltage].partition("*")[0]) * 1000)
            if voltage in fields
            else NOMINAL_MILLIVOLTS
            for voltage, _ in PHASE_LINES
        ]
        self._mbus_period = 3600 if "1-3:0.2.8(4" in self._body else 300
        self.seed = seed
        self.interval = interval
        # Energy tally from the start: the next second to add and joules per register.
        self._first = math.floor((start or datetime.now(UTC)).timestamp())
        self._next, self._joules = self._first, [0, 0, 0, 0]
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.Task[None]] = set()

    def telegram_at(self, moment: datetime) -> bytes:
        """Return the complete telegram (CRC and all) sent at ``moment`` (timezone-aware)."""
        second = math.floor(moment.timestamp())
        power, tariff = self._state(second)
        flows = max(power, 0), max(-power, 0)  # a meter shows one direction at a time
        amounts = {TARIFF: tariff} | dict(zip(POWER, flows, strict=True))
        for codes, flow in zip(self._phases, flows, strict=True):
            if codes:
                amounts |= self._split(flow, codes, second // 60)
        # Added to the template's value: the registers' energy, the voltages' wobble.
        added = dict(zip(REGISTERS, self._energy(second), strict=True))
        for phase, (voltage, current) in enumerate(PHASE_LINES):
            # Within 2 V of the template's voltage; the phase's current is its power over it.
            wobble = round(4000 * (self._noise("voltage", phase, second) - 0.5))
            added[voltage] = wobble
            powers = [
                amounts[code] for code in (PHASES[0][phase], PHASES[1][phase]) if code in amounts
            ]
            if powers:
                amounts[current] = sum(powers) * 1_000_000 // (self._millivolts[phase] + wobble)

        def field(match: re.Match[str]) -> str:
            code, like = match[1], match[2]
            if code == CLOCK:
                return f"{code}({_stamp(moment)})"
            if code in amounts:
                return f"{code}({_write(like, amounts[code])})"
            if code in added:
                return f"{code}({_write(like, added[code], onto=True)})"
            return match[0]

        def mbus(match: re.Match[str]) -> str:
            # A reading stands for the last whole period, like the meter's own; each period
            # adds 1 to 11 times the unit's rate a second (3 to 33 litres in 5 minutes).
            tick = second // self._mbus_period
            rate = MBUS_RATES[match[4]]
            added = sum(
                int(self._mbus_period * rate * (1 + 10 * self._noise("mbus", match[2], block)))
                for block in range(self._first // self._mbus_period, tick)
            )
            taken = datetime.fromtimestamp(tick * self._mbus_period, UTC)
            return f"{match[1]}({_stamp(taken)})({_write(match[3], added, onto=True)})"

        body = MBUS_READING.sub(mbus, SINGLE_VALUE.sub(field, self._body))
        return f"{body}{TelegramParser.crc16(body):04X}\r\n".encode("latin-1")

    def _noise(self, *key: object) -> float:
        """Return a pseudo-random number in [0, 1) fixed by the seed and ``key``."""
        digest = blake2b(repr((self.seed, *key)).encode(), digest_size=8).digest()
        return int.from_bytes(digest) / 2**64

    def _state(self, second: int) -> tuple[int, int]:
        """Return the net power in W during ``second`` (negative: returned) and the tariff."""
        local = datetime.fromtimestamp(second, METER_TIME)
        hour = local.hour + local.minute / 60 + local.second / 3600
        minute, into = divmod(second, 60)
        # Appliances switch per minute; blending into the next keeps the curve smooth.
        before, after = self._noise("load", minute), self._noise("load", minute + 1)
        appliances = 800 * (before + (after - before) * into / 60)
        evening = 900 * math.exp(-(((hour - 19) / 2) ** 2))
        # Solar panels between 07:00 and 19:00, five times stronger at midsummer than midwinter.
        season = 0.6 - 0.4 * math.cos(2 * math.pi * (local.timetuple().tm_yday + 10) / 365)
        solar = 2500 * season * max(0.0, math.sin(math.pi * (hour - 7) / 12))
        power = 200 + appliances + evening + 40 * self._noise("jitter", second) - solar
        # Low tariff (1) at night and at weekends, normal tariff (2) otherwise.
        tariff = 1 if local.weekday() >= 5 or not 7 <= local.hour < 23 else 2
        return round(power), tariff

    def _split(self, power: int, codes: list[str], minute: int) -> dict[str, int]:
        """Share ``power`` unevenly over the phases present, summing to exactly ``power``."""
        weights = [1 + self._noise("phase", code, minute) for code in codes]
        shares = [int(power * weight / sum(weights)) for weight in weights[1:]]
        return dict(zip(codes, [power - sum(shares), *shares], strict=True))

    def _energy(self, second: int) -> list[int]:
        """Return joules per register from the start up to ``second``.

        The tally carries on from the last call, so a running simulator adds one second
        per telegram; asking for an earlier moment counts again from the start.
        """
        if second < self._next:
            self._next, self._joules = self._first, [0, 0, 0, 0]
        for past in range(self._next, second):
            power, tariff = self._state(past)
            self._joules[2 * (power < 0) + tariff - 1] += abs(power)
        self._next = max(self._next, second)
        return list(self._joules)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen for clients, each sent a telegram every interval; return the bound port."""
        self._server = await asyncio.start_server(self._connected, host, port)
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop listening, hang up on every client and wait until all is closed."""
        if self._server is None:
            return
        self._server.close()
        for client in self._clients:
            client.cancel()
        await asyncio.gather(*self._clients, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client = asyncio.create_task(self._feed(reader, writer))
        self._clients.add(client)
        client.add_done_callback(self._clients.discard)

    async def _feed(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Send a telegram on every tick of the wall clock until the client leaves."""
        tick = int(time.time() // self.interval)
        try:
            while not reader.at_eof():
                # Count ticks instead of reading the clock after sleeping: waking early must
                # not send the same tick twice, and a stalled client skips ticks, never bursts.
                tick = max(tick + 1, int(time.time() // self.interval))
                await asyncio.sleep(tick * self.interval - time.time())
                writer.write(self.telegram_at(datetime.fromtimestamp(tick * self.interval, UTC)))
                await writer.drain()
        except ConnectionError:
            pass  # the client went away; the others carry on
        finally:
            writer.close()
