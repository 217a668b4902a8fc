"""A simulated DSMR P1 meter: a real telegram brought to life and served over TCP."""

import asyncio
from bisect import bisect_right
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from functools import cache
from hashlib import blake2b
import itertools
import math
import re
import time
from typing import Final, NamedTuple
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
# The daily curves run on 24-hour days from midnight in Dutch standard time (UTC+1), as the sun
# keeps no summer time; the tariff follows the meter's own clock.
DAY: Final = 86_400
STANDARD_TIME: Final = 3600
# The least power either way (W): around the moments the solar surplus starts and ends, the
# meter shows this little delivered, then this little returned.
LEAST_WATTS: Final = 100
# Appliances switch every minute, holding the power at 0.6 to 1.4 times its curve (the curve's
# energy moved by up to this many seconds' worth); a jitter adds up to 5 % a second.
APPLIANCE_SECONDS: Final = 24.0
JITTER: Final = 0.05
# The swing fades in and out over this many seconds at the ends of a stretch, so whole days
# count the same whatever the seed.
TAPER_SECONDS: Final = 60

# Base units an M-Bus meter adds per second at the least busy: 0.01 litre, or 300 J of heat
# (0.3 kW); a period adds 1 to 11 times as much, 6 times on average.
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


def _net_watts(hours: float, sun: float) -> float:
    """Return the mean net power (W, negative when returned) ``hours`` into a standard day.

    The home uses 600 W and an evening peak of 900 W around 19:00; solar panels give up to
    ``sun`` W between 07:00 and 19:00, the most at 13:00.
    """
    solar = sun * math.sin(math.pi * (hours - 7) / 12) if 7 <= hours <= 19 else 0.0
    return 600 + 900 * math.exp(-(((hours - 19) / 2) ** 2)) - solar


def _net_watt_hours(hours: float, sun: float) -> float:
    """Return an antiderivative of :func:`_net_watts` in ``hours`` (Wh)."""
    solar = 12 * sun / math.pi * (1 - math.cos(math.pi * (min(max(hours, 7), 19) - 7) / 12))
    return 600 * hours + 900 * math.sqrt(math.pi) * math.erf((hours - 19) / 2) - solar


class Stretch(NamedTuple):
    """Seconds of a standard day in which one register counts, by one formula for the power."""

    start: int  # seconds since the standard day's midnight, like end
    end: int
    register: int  # index into REGISTERS
    sun: float  # the day's solar peak, W
    least: bool  # the power is LEAST_WATTS, not the curve's

    def watts(self, into: int) -> float:
        """Return the mean power (W, in the register's direction) ``into`` the day."""
        if self.least:
            return LEAST_WATTS
        return abs(_net_watts(into / 3600, self.sun))

    def joules(self, into: int) -> float:
        """Return the mean energy (J) from the stretch's start to ``into`` the day."""
        if self.least:
            return float(LEAST_WATTS * (into - self.start))
        hours = _net_watt_hours(into / 3600, self.sun) - _net_watt_hours(
            self.start / 3600, self.sun
        )
        return 3600 * (-hours if self.register >= 2 else hours)

    def taper(self, into: int) -> float:
        """Return how much of the noise's swing applies ``into`` the day: none at either end."""
        return min(1.0, (into - self.start) / TAPER_SECONDS, (self.end - into) / TAPER_SECONDS)


def _start(stretch: Stretch) -> int:
    return stretch.start


class Day(NamedTuple):
    """What sets a standard day's stretches apart from another day's."""

    year_day: int  # 1 on 1 January
    day_tariff: tuple[int, int]  # seconds into the day from 07:00 to 23:00; (0, 0) at weekends


def _day(number: int) -> Day:
    """Return what sets standard day ``number`` (since 1 January 1970) apart."""
    today = date(1970, 1, 1) + timedelta(days=number)
    midnight = number * DAY - STANDARD_TIME
    day_tariff = (0, 0)
    if today.weekday() < 5:
        day_tariff = (
            _local(today, 7) - midnight,
            _local(today, 23) - midnight,
        )
    return Day(today.timetuple().tm_yday, day_tariff)


def _local(today: date, hour: int) -> int:
    """Return the Unix time of ``hour`` o'clock on the meter's clock ``today``."""
    return int(datetime(today.year, today.month, today.day, hour, tzinfo=METER_TIME).timestamp())


@cache
def _stretches(day: Day) -> tuple[Stretch, ...]:
    """Split a standard day where the register or the power's formula changes.

    On weekdays the tariff changes at 07:00 and 23:00 on the meter's clock. The direction
    changes where the net power's curve crosses zero, its formula where the curve crosses
    ±LEAST_WATTS. The curve falls to its least around 13:00 and rises from there, so each
    level is crossed at most twice, found to the second by bisection. Days alike share
    their stretches: there are at most two (weekday or not) for each day of the year and
    its summer time.
    """
    season = 0.6 - 0.4 * math.cos(2 * math.pi * (day.year_day + 10) / 365)
    sun = 2500 * season  # five times as much at midsummer as at midwinter

    def net(into: float) -> float:
        return _net_watts(into / 3600, sun)

    cuts = {0, DAY, *day.day_tariff}
    # Golden-section search for the second of least net power between 07:00 and 19:00.
    sunrise, sunset = 7 * 3600, 19 * 3600
    left, right, ratio = float(sunrise), float(sunset), (math.sqrt(5) - 1) / 2
    while right - left > 1:
        one, other = right - ratio * (right - left), left + ratio * (right - left)
        if net(one) < net(other):
            right = other
        else:
            left = one
    lowest = round(left)
    for level in (LEAST_WATTS, 0, -LEAST_WATTS):
        if net(lowest) >= level:
            continue
        # The first second below the level, and the first one at or above it again.
        cuts.add(_crossing(net, level, sunrise, lowest, falling=True))
        cuts.add(_crossing(net, level, lowest, sunset, falling=False))
    stretches = []
    for start, end in itertools.pairwise(sorted(cuts)):
        tariff = 2 if day.day_tariff[0] <= start < day.day_tariff[1] else 1
        watts = net(start)
        register = 2 * (watts < 0) + tariff - 1
        stretches.append(Stretch(start, end, register, sun, abs(watts) < LEAST_WATTS))
    return tuple(stretches)


@cache
def _day_joules(day: Day) -> tuple[int, ...]:
    """Return the joules each register counts in a whole day like ``day``.

    The noise's swing is nil at the ends of each stretch, so the seed does not matter.
    """
    joules = [0, 0, 0, 0]
    for stretch in _stretches(day):
        joules[stretch.register] += math.floor(stretch.joules(stretch.end))
    return tuple(joules)


def _crossing(
    net: Callable[[float], float], level: float, first: int, last: int, *, falling: bool
) -> int:
    """Return the first second from ``first`` to ``last`` past ``level`` (``last`` if none).

    ``net`` falls (or rises) all the way: below (at or above) the level once, it stays there.
    """
    while first < last:
        middle = (first + last) // 2
        if (net(middle) < level) == falling:
            last = middle
        else:
            first = middle + 1
    return first


class MeterSimulator:
    """A meter that sends telegrams like a template, with live values.

    Power follows a daily curve (evening peak, solar surplus around noon) plus noise, and the
    energy registers count up by exactly that power second by second. Their positions come in
    closed form, a few formulas per stretch of a day, so a start weeks back costs no more than
    milliseconds. M-Bus meters (gas, water, heat) tick up every 5 minutes (every hour for
    DSMR 4). The values depend only on the template, the seed, the start and the moment asked
    for.
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
        # Energy tally from the start: up to which second (the end of a stretch, or the
        # start), and the joules per register by then.
        self._first = math.floor((start or datetime.now(UTC)).timestamp())
        self._counted_to, self._joules = self._first, [0, 0, 0, 0]
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.Task[None]] = set()

    def telegram_at(self, moment: datetime) -> bytes:
        """Return the complete telegram (CRC and all) sent at ``moment`` (timezone-aware)."""
        second = math.floor(moment.timestamp())
        power, tariff = self.power_at(second)
        flows = max(power, 0), max(-power, 0)  # a meter shows one direction at a time
        amounts = {TARIFF: tariff} | dict(zip(POWER, flows, strict=True))
        for codes, flow in zip(self._phases, flows, strict=True):
            if codes:
                amounts |= self._split(flow, codes, second // 60)
        # Added to the template's value: the registers' energy, the voltages' wobble.
        added = dict(zip(REGISTERS, self.joules_at(second), strict=True))
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
            # A reading stands for the last whole period, like the meter's own.
            tick = second // self._mbus_period
            added = self._mbus_amount(match[2], MBUS_RATES[match[4]], tick)
            taken = datetime.fromtimestamp(tick * self._mbus_period, UTC)
            return f"{match[1]}({_stamp(taken)})({_write(match[3], added, onto=True)})"

        body = MBUS_READING.sub(mbus, SINGLE_VALUE.sub(field, self._body))
        return f"{body}{TelegramParser.crc16(body):04X}\r\n".encode("latin-1")

    def power_at(self, second: int) -> tuple[int, int]:
        """Return the net power in W during ``second`` (negative: returned) and the tariff.

        It is what the registers count during that second, to the joule.
        """
        midnight, stretch = self._stretch_at(second)
        joules = self._position(stretch, midnight, second + 1)
        joules -= self._position(stretch, midnight, second)
        return (-joules if stretch.register >= 2 else joules), stretch.register % 2 + 1

    def joules_at(self, second: int) -> list[int]:
        """Return joules per register counted from the start up to ``second``.

        Whole days add their cached totals, the stretches of a day's start and end their
        closed forms; the tally carries on from the last stretch passed, so a running
        simulator computes one stretch per telegram. Asking for an earlier moment counts
        again from the start.
        """
        if second < self._counted_to:
            self._counted_to, self._joules = self._first, [0, 0, 0, 0]
        while True:
            number = self._day_number(self._counted_to)
            midnight = number * DAY - STANDARD_TIME
            if self._counted_to == midnight and midnight + DAY <= second:
                whole = _day_joules(_day(number))
                self._joules = [mine + day for mine, day in zip(self._joules, whole, strict=True)]
                self._counted_to = midnight + DAY
                continue
            midnight, stretch = self._stretch_at(self._counted_to)
            end = midnight + stretch.end
            if end > second:
                break
            self._joules[stretch.register] += self._counted(stretch, midnight, end)
            self._counted_to = end
        joules = list(self._joules)
        joules[stretch.register] += self._counted(stretch, midnight, max(second, self._counted_to))
        return joules

    def _counted(self, stretch: Stretch, midnight: int, until: int) -> int:
        """Return the joules ``stretch``'s register counts from the tally's end to ``until``."""
        since = self._position(stretch, midnight, self._counted_to)
        return self._position(stretch, midnight, until) - since

    def _stretch_at(self, second: int) -> tuple[int, Stretch]:
        """Return the start of the standard day ``second`` lies in, and its stretch there."""
        number = self._day_number(second)
        midnight = number * DAY - STANDARD_TIME
        stretches = _stretches(_day(number))
        return midnight, stretches[bisect_right(stretches, second - midnight, key=_start) - 1]

    @staticmethod
    def _day_number(second: int) -> int:
        return (second + STANDARD_TIME) // DAY

    def _position(self, stretch: Stretch, midnight: int, second: int) -> int:
        """Return the joules ``stretch``'s register counted from its start to ``second``.

        That is the curve's energy, moved back and forth by the noise's swing (in seconds'
        worth of power), rounded down to the joule; summed second by second the power comes
        to the same, exactly.
        """
        into = second - midnight
        swing = stretch.watts(into) * self._swing(second) * stretch.taper(into)
        return math.floor(stretch.joules(into) + swing)

    def _swing(self, second: int) -> float:
        """Return how far the noise moves the energy at ``second``, in seconds' worth of power.

        Its change from one second to the next is what the power gains or loses then: up to
        40 % of the curve's from the appliances, held for a minute, and 5 % from the jitter.
        """
        minute, into = divmod(second, 60)
        before, after = self._noise("load", minute), self._noise("load", minute + 1)
        appliances = before + (after - before) * into / 60
        jitter = self._noise("jitter", second)
        return APPLIANCE_SECONDS * (appliances - 0.5) + JITTER * (jitter - 0.5)

    def _mbus_amount(self, channel: str, rate: float, tick: int) -> int:
        """Return the base units an M-Bus meter added from the start to period ``tick``.

        Each period adds 6 times its rate plus the change in a random sway of up to 5 times
        it, so the sum over any number of periods is one subtraction.
        """
        mean = self._mbus_period * rate
        first = self._first // self._mbus_period
        if tick <= first:
            return 0

        def sway(block: int) -> int:
            return int(5 * mean * self._noise("mbus", channel, block))

        return round(6 * mean) * (tick - first) + sway(tick) - sway(first)

    def _noise(self, *key: object) -> float:
        """Return a pseudo-random number in [0, 1) fixed by the seed and ``key``."""
        digest = blake2b(repr((self.seed, *key)).encode(), digest_size=8).digest()
        return int.from_bytes(digest) / 2**64

    def _split(self, power: int, codes: list[str], minute: int) -> dict[str, int]:
        """Share ``power`` unevenly over the phases present, summing to exactly ``power``."""
        weights = [1 + self._noise("phase", code, minute) for code in codes]
        shares = [int(power * weight / sum(weights)) for weight in weights[1:]]
        return dict(zip(codes, [power - sum(shares), *shares], strict=True))

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
        """Send the current tick's telegram at once, then one a tick until the client leaves.

        A client that just connected gets its first telegram without waiting for the next tick.
        """
        tick = int(time.time() // self.interval)
        try:
            while not reader.at_eof():
                writer.write(self.telegram_at(datetime.fromtimestamp(tick * self.interval, UTC)))
                await writer.drain()
                # Count ticks instead of reading the clock after sleeping: waking early must
                # not send the same tick twice, and a stalled client skips ticks, never bursts.
                tick = max(tick + 1, int(time.time() // self.interval))
                await asyncio.sleep(tick * self.interval - time.time())
        except ConnectionError:
            pass  # the client went away; the others carry on
        finally:
            writer.close()
