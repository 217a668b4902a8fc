"""The meter simulator: live values derived from a real telegram, served over TCP."""

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
import itertools
import os
from pathlib import Path
import re
import signal
import socket
import struct
import subprocess
import sys
from typing import Any
from unittest.mock import patch

from dsmr_parser import telegram_specifications
from dsmr_parser.parsers import TelegramParser
import pytest

from meter_simulator import MeterSimulator
from meter_simulator.__main__ import main, serve

REPO = Path(__file__).resolve().parents[2]
TELEGRAMS = REPO.parent / "shared" / "telegrams"
START = datetime(2024, 7, 10, 8, 0, tzinfo=UTC)  # a Wednesday, 10:00 in Amsterdam
REGISTERS = ("1-0:1.8.1", "1-0:1.8.2", "1-0:2.8.1", "1-0:2.8.2")
# The lines of v5.txt the simulator brings to life; all others stay as they are.
LIVE_V5 = {
    "0-0:1.0.0",
    "0-0:96.14.0",
    *REGISTERS,
    "1-0:1.7.0",
    "1-0:2.7.0",
    "1-0:21.7.0",
    "1-0:41.7.0",
    "1-0:61.7.0",
    "1-0:22.7.0",
    "1-0:42.7.0",
    "1-0:62.7.0",
    "1-0:32.7.0",
    "1-0:52.7.0",
    "1-0:72.7.0",
    "1-0:31.7.0",
    "1-0:51.7.0",
    "1-0:71.7.0",
    "0-1:24.2.1",
}


def template(name: str) -> bytes:
    return (TELEGRAMS / name).read_bytes()


def parse(telegram: bytes, specification: Any = telegram_specifications.V5) -> Any:
    """Parse as a client would, checking the CRC."""
    return TelegramParser(specification).parse(telegram.decode("latin-1"))


def values(telegram: bytes) -> dict[str, Decimal]:
    """Read the one-number lines quickly, without the unit."""
    found = re.findall(r"^([\d:.-]+)\(([\d.]+)(?:\*\w+)?\)\r$", telegram.decode(), re.MULTILINE)
    return {code: Decimal(number) for code, number in found}


async def read_telegram(reader: asyncio.StreamReader) -> bytes:
    return await reader.readuntil(b"!") + await reader.readline()


def test_exact_values() -> None:
    simulator = MeterSimulator(template("v5.txt"), start=START)
    telegram = simulator.telegram_at(START + timedelta(hours=1, minutes=30, seconds=7))
    parsed = parse(telegram)

    assert telegram.endswith(b"\r\n!2371\r\n")
    assert b"\r\n0-0:1.0.0(240710113007S)\r\n" in telegram
    assert parsed.P1_MESSAGE_TIMESTAMP.value == datetime(2024, 7, 10, 9, 30, 7, tzinfo=UTC)
    assert parsed.ELECTRICITY_USED_TARIFF_1.value == Decimal("4.426")  # as in the template
    assert parsed.ELECTRICITY_USED_TARIFF_2.value == Decimal("2.399")
    assert parsed.ELECTRICITY_DELIVERED_TARIFF_1.value == Decimal("2.444")
    assert parsed.ELECTRICITY_DELIVERED_TARIFF_2.value == Decimal("1.504")  # solar since 10:00
    assert parsed.ELECTRICITY_ACTIVE_TARIFF.value == "0002"
    assert parsed.CURRENT_ELECTRICITY_USAGE.value == Decimal("0.000")
    assert parsed.CURRENT_ELECTRICITY_DELIVERY.value == Decimal("0.967")
    assert parsed.INSTANTANEOUS_ACTIVE_POWER_L1_NEGATIVE.value == Decimal("0.264")
    assert parsed.INSTANTANEOUS_ACTIVE_POWER_L2_NEGATIVE.value == Decimal("0.400")
    assert parsed.INSTANTANEOUS_ACTIVE_POWER_L3_NEGATIVE.value == Decimal("0.303")
    assert parsed.INSTANTANEOUS_ACTIVE_POWER_L1_POSITIVE.value == Decimal("0.000")
    assert parsed.INSTANTANEOUS_VOLTAGE_L1.value == Decimal("230.6")  # the template's 230.0
    assert parsed.INSTANTANEOUS_CURRENT_L1.value == Decimal("1.14")  # 264 W / 230.6 V
    gas = parsed.get_mbus_device_by_channel(1).MBUS_METER_READING
    assert gas.value == Decimal("0.438")
    assert gas.datetime == datetime(2024, 7, 10, 9, 30, tzinfo=UTC)


def test_winter_evening_values() -> None:
    moment = datetime(2024, 1, 10, 18, 0, 7, tzinfo=UTC)
    telegram = MeterSimulator(template("v5.txt"), start=moment - timedelta(hours=2)).telegram_at(
        moment
    )

    # Only the day tariff, the power delivered, voltages and currents change; no sun after dark.
    assert values(telegram) == values(template("v5.txt")) | {
        "1-0:1.8.2": Decimal("4.661"),
        "1-0:1.7.0": Decimal("1.089"),
        "1-0:21.7.0": Decimal("0.342"),
        "1-0:41.7.0": Decimal("0.319"),
        "1-0:61.7.0": Decimal("0.428"),
        "1-0:32.7.0": Decimal("230.7"),
        "1-0:52.7.0": Decimal("229.7"),
        "1-0:72.7.0": Decimal("227.2"),
        "1-0:31.7.0": Decimal("1.48"),  # 342 W / 230.7 V
        "1-0:51.7.0": Decimal("1.38"),
        "1-0:71.7.0": Decimal("1.88"),
        "0-0:96.14.0": Decimal(2),
    }
    assert b"\r\n0-0:1.0.0(240110190007W)\r\n" in telegram
    assert b"\r\n0-1:24.2.1(240110190000W)(00000.527*m3)\r\n" in telegram


def test_same_inputs_same_bytes() -> None:
    moment, earlier = START + timedelta(minutes=10), START + timedelta(minutes=5)
    one = MeterSimulator(template("v5.txt"), seed=4, start=START)
    other = MeterSimulator(template("v5.txt"), seed=4, start=START)

    first = one.telegram_at(moment)
    assert one.telegram_at(earlier) == other.telegram_at(earlier)  # counting again from start
    assert one.telegram_at(moment) == first == other.telegram_at(moment)
    assert MeterSimulator(template("v5.txt"), seed=5, start=START).telegram_at(moment) != first


def test_other_lines_untouched() -> None:
    original = template("v5.txt").split(b"\r\n")
    telegram = MeterSimulator(template("v5.txt"), start=START).telegram_at(
        START + timedelta(hours=3)
    )
    lines = telegram.split(b"\r\n")

    assert len(lines) == len(original)
    changed = {
        old.partition(b"(")[0].decode()
        for new, old in zip(lines[:-2], original[:-2], strict=True)
        if new != old
    }
    assert changed <= LIVE_V5
    assert {"0-0:1.0.0", "1-0:2.8.2", "1-0:2.7.0", "1-0:22.7.0", "0-1:24.2.1"} <= changed
    assert lines[-2:] == [b"!A5F3", b""]


@pytest.mark.parametrize(
    ("moment", "clock"),
    [
        (datetime(2024, 7, 10, 9, 30, 7, tzinfo=UTC), "240710113007S"),
        (datetime(2024, 1, 10, 9, 30, 7, tzinfo=UTC), "240110103007W"),
        # The hour that happens twice when summer time ends: S the first time, W the second.
        (datetime(2024, 10, 27, 0, 30, tzinfo=UTC), "241027023000S"),
        (datetime(2024, 10, 27, 1, 30, tzinfo=UTC), "241027023000W"),
    ],
)
def test_clock_in_meter_time(moment: datetime, clock: str) -> None:
    telegram = MeterSimulator(template("v5.txt"), start=moment).telegram_at(moment)

    assert f"\r\n0-0:1.0.0({clock})\r\n".encode() in telegram
    assert parse(telegram).P1_MESSAGE_TIMESTAMP.value == moment


@pytest.mark.parametrize(
    ("moment", "tariff"),
    [
        (datetime(2024, 7, 10, 20, 59, 59, tzinfo=UTC), 2),  # Wednesday 22:59:59
        (datetime(2024, 7, 10, 21, 0, tzinfo=UTC), 1),  # 23:00, night
        (datetime(2024, 7, 11, 4, 59, 59, tzinfo=UTC), 1),  # Thursday 06:59:59
        (datetime(2024, 7, 11, 5, 0, tzinfo=UTC), 2),  # 07:00, day
        (datetime(2024, 7, 13, 10, 0, tzinfo=UTC), 1),  # Saturday noon
        (datetime(2024, 1, 14, 11, 0, tzinfo=UTC), 1),  # Sunday noon, in winter
    ],
)
def test_tariff(moment: datetime, tariff: int) -> None:
    telegram = MeterSimulator(template("v5.txt"), start=moment).telegram_at(moment)

    assert values(telegram)["0-0:96.14.0"] == tariff


@pytest.mark.parametrize(
    ("start", "seconds", "counting"),
    [
        # Weekday 06:55 to 07:05: tariff 1, then 2.
        (datetime(2024, 7, 10, 4, 55, tzinfo=UTC), 600, {"1-0:1.8.1", "1-0:1.8.2"}),
        # Weekday 08:45 to 09:10: delivered, then returned as the sun's surplus starts (at the
        # least power either way for 10 minutes each).
        (datetime(2024, 7, 10, 6, 45, tzinfo=UTC), 1500, {"1-0:1.8.2", "1-0:2.8.2"}),
        (datetime(2024, 7, 13, 10, 0, tzinfo=UTC), 1200, {"1-0:2.8.1"}),  # Saturday noon
    ],
)
def test_registers_count_the_power(start: datetime, seconds: int, counting: set[str]) -> None:
    simulator = MeterSimulator(template("v5.txt"), seed=3, start=start)
    telegrams = [
        values(simulator.telegram_at(start + timedelta(seconds=second)))
        for second in range(seconds + 1)
    ]
    joules = dict.fromkeys(REGISTERS, 0)
    template_values = values(template("v5.txt"))
    for now, after in itertools.pairwise(telegrams):
        assert all(after[code] >= now[code] for code in REGISTERS)
        delivered, returned = now["1-0:1.7.0"], now["1-0:2.7.0"]
        assert min(delivered, returned) == 0  # one direction at a time
        assert now["1-0:21.7.0"] + now["1-0:41.7.0"] + now["1-0:61.7.0"] == delivered
        assert now["1-0:22.7.0"] + now["1-0:42.7.0"] + now["1-0:62.7.0"] == returned
        for voltage, current, positive, negative in (
            ("1-0:32.7.0", "1-0:31.7.0", "1-0:21.7.0", "1-0:22.7.0"),
            ("1-0:52.7.0", "1-0:51.7.0", "1-0:41.7.0", "1-0:42.7.0"),
            ("1-0:72.7.0", "1-0:71.7.0", "1-0:61.7.0", "1-0:62.7.0"),
        ):
            # Within 2 V of the template's 230 V (229 V for L3); the current follows the power
            # over the voltage, which the meter knows to more than the 0.1 V it shows.
            assert abs(now[voltage] - template_values[voltage]) <= 2
            watts = (now[positive] + now[negative]) * 1000
            assert abs(now[current] - watts / now[voltage]) < Decimal("0.02")
        # The power shown holds for the whole second until the next telegram.
        tariff = int(now["0-0:96.14.0"])
        joules[REGISTERS[tariff - 1]] += int(delivered * 1000)
        joules[REGISTERS[tariff + 1]] += int(returned * 1000)
    first, last = telegrams[0], telegrams[-1]
    for code in REGISTERS:
        # The registers show completed Wh (3600 J) only.
        assert 0 <= joules[code] - (last[code] - first[code]) * 3_600_000 < 3600
    assert {code for code in REGISTERS if last[code] > first[code]} == counting


@pytest.mark.parametrize("seed", [0, 3])
def test_registers_in_closed_form_equal_the_power_summed_second_by_second(seed: int) -> None:
    """A whole summer Monday, midnight to midnight in standard time (23:00 UTC the day before).

    Night, the day tariff from 07:00, the solar surplus returned from about 09:00 to 18:00 (at
    the least power either way around both turns) and the evening: the registers' positions,
    computed in closed form, are the powers shown summed second by second, to the joule.
    """
    start = datetime(2024, 7, 14, 23, tzinfo=UTC)
    first = int(start.timestamp())
    simulator = MeterSimulator(template("v5.txt"), seed=seed, start=start)
    joules = [0, 0, 0, 0]
    at_noon: list[int] = []
    least = 10**6
    for second in range(first, first + 24 * 3600):
        if second == first + 13 * 3600:
            at_noon = list(joules)
        power, tariff = simulator.power_at(second)
        joules[2 * (power < 0) + tariff - 1] += abs(power)
        least = min(least, abs(power))

    assert simulator.joules_at(first + 24 * 3600) == joules
    fresh = MeterSimulator(template("v5.txt"), seed=seed, start=start)
    assert fresh.joules_at(first + 13 * 3600) == at_noon
    assert simulator.joules_at(first + 13 * 3600) == at_noon  # counted again from the start
    assert at_noon[3] > 0  # returning since about 09:00
    assert least >= 50  # the noise never turns the power around
    # The noise's swing is nil where a stretch of one register ends, so whole days count the
    # same whatever the seed: 17.5 kWh at night, 20.1 kWh by day, 40.6 kWh returned.
    assert joules == [17_472_312, 20_134_075, 0, 40_628_827]


def test_first_telegram_does_not_count_the_seconds_since_the_start() -> None:
    """A start weeks or years back costs whole days' cached totals, not a step per second."""
    moment = datetime(2026, 12, 5, 17, 0, 30, tzinfo=UTC)
    work = []
    for history in (timedelta(days=2), timedelta(weeks=3), timedelta(weeks=520)):
        simulator = MeterSimulator(template("v5.txt"), start=moment - history)
        with patch.object(simulator, "_noise", wraps=simulator._noise) as noise:
            telegram = simulator.telegram_at(moment)
        work.append(noise.call_count)
        parse(telegram)
    # The noise of the stretches at either end, the power, voltages, phases and gas: no more
    # for ten years than for two days (counting seconds, it took 1.8 million steps a week).
    assert work[2] <= work[0] < 50


@pytest.mark.parametrize(
    ("name", "after", "reading"),
    [
        ("v5.txt", timedelta(minutes=4, seconds=59), "0-1:24.2.1(240710100000S)(00000.107*m3)"),
        ("v5.txt", timedelta(minutes=5), "0-1:24.2.1(240710100500S)(00000.134*m3)"),
        ("v5.txt", timedelta(minutes=9, seconds=59), "0-1:24.2.1(240710100500S)(00000.134*m3)"),
        ("v5.txt", timedelta(minutes=10), "0-1:24.2.1(240710101000S)(00000.146*m3)"),
        # DSMR 4 meters read gas hourly.
        ("v4_2.txt", timedelta(minutes=59, seconds=59), "0-1:24.2.1(240710100000S)(00981.443*m3)"),
        ("v4_2.txt", timedelta(hours=1), "0-1:24.2.1(240710110000S)(00981.571*m3)"),
    ],
)
def test_gas_every_period(name: str, after: timedelta, reading: str) -> None:
    telegram = MeterSimulator(template(name), start=START).telegram_at(START + after)

    assert f"\r\n{reading}\r\n".encode() in telegram
    parse(
        telegram, telegram_specifications.V4 if name == "v4_2.txt" else telegram_specifications.V5
    )


def test_belgian_meter_with_gas_and_water() -> None:
    start = datetime(2024, 7, 13, 9, 0, tzinfo=UTC)  # a Saturday, 11:00 in Brussels
    simulator = MeterSimulator(template("fluvius_v171.txt"), seed=7, start=start)
    telegram = simulator.telegram_at(start + timedelta(hours=2, minutes=12, seconds=34))
    parsed = parse(telegram, telegram_specifications.BELGIUM_FLUVIUS)

    assert parsed.P1_MESSAGE_TIMESTAMP.value == datetime(2024, 7, 13, 11, 12, 34, tzinfo=UTC)
    assert parsed.ELECTRICITY_USED_TARIFF_1.value == Decimal("0.034")
    assert parsed.ELECTRICITY_USED_TARIFF_2.value == Decimal("15.758")
    assert parsed.ELECTRICITY_DELIVERED_TARIFF_1.value == Decimal("3.319")  # weekend: tariff 1
    assert parsed.ELECTRICITY_DELIVERED_TARIFF_2.value == Decimal("0.011")
    assert parsed.ELECTRICITY_ACTIVE_TARIFF.value == "0001"
    assert parsed.CURRENT_ELECTRICITY_USAGE.value == Decimal("0.000")
    assert parsed.CURRENT_ELECTRICITY_DELIVERY.value == Decimal("1.447")
    assert parsed.INSTANTANEOUS_ACTIVE_POWER_L1_NEGATIVE.value == Decimal("0.593")
    assert parsed.INSTANTANEOUS_ACTIVE_POWER_L2_NEGATIVE.value == Decimal("0.413")
    assert parsed.INSTANTANEOUS_ACTIVE_POWER_L3_NEGATIVE.value == Decimal("0.441")
    taken = datetime(2024, 7, 13, 11, 10, tzinfo=UTC)
    gas = parsed.get_mbus_device_by_channel(1).MBUS_METER_READING
    water = parsed.get_mbus_device_by_channel(2).MBUS_METER_READING
    assert (gas.value, gas.datetime) == (Decimal("112.852"), taken)  # from 112.384
    assert (water.value, water.datetime) == (Decimal("872.694"), taken)  # from 872.234
    # Capacity tariff lines stay as they were.
    assert b"\r\n1-0:1.4.0(02.351*kW)\r\n1-0:1.6.0(200509134558S)(02.589*kW)\r\n" in telegram
    assert b"\r\n1-0:31.7.0(002.54*A)\r\n" in telegram  # 593 W / 232.9 V
    assert telegram.endswith(b"\r\n!02F0\r\n")


def test_heat_meter_counts_gigajoules() -> None:
    """A heat meter alone (no electricity): its GJ count up every 5 minutes, by the MJ."""
    start = datetime(2026, 2, 15, 19, 0, tzinfo=UTC)
    simulator = MeterSimulator(template("unpadded_crc.txt"), start=start)
    readings = []
    for after in (timedelta(minutes=14, seconds=59), timedelta(minutes=15), timedelta(hours=2)):
        telegram = simulator.telegram_at(start + after)
        heat = parse(telegram, telegram_specifications.V5).get_mbus_device_by_channel(1)
        readings.append((heat.MBUS_METER_READING.datetime, heat.MBUS_METER_READING.value))
    assert readings == [
        (datetime(2026, 2, 15, 19, 10, tzinfo=UTC), Decimal("240.860")),
        (datetime(2026, 2, 15, 19, 15, tzinfo=UTC), Decimal("240.861")),
        (datetime(2026, 2, 15, 21, 0, tzinfo=UTC), Decimal("240.872")),
    ]


def test_watts_without_phases() -> None:
    start = datetime(2024, 7, 13, 9, 0, tzinfo=UTC)
    simulator = MeterSimulator(template("sagemcom_t210_d_r.txt"), seed=7, start=start)
    telegram = simulator.telegram_at(start + timedelta(minutes=30))

    for line in (
        b"1-0:1.8.1(005017120*Wh)",
        b"1-0:1.7.0(000000000*W)",
        b"1-0:2.8.1(000000611*Wh)",
        b"1-0:2.7.0(000001239*W)",
        b"1-0:1.8.0(006545766*Wh)",  # not a tariff register: as in the template
    ):
        assert b"\r\n" + line + b"\r\n" in telegram


def test_template_must_be_a_telegram() -> None:
    with pytest.raises(ValueError, match="not a telegram"):
        MeterSimulator(b"/ISk5\\2MT382-1000\r\n\r\n1-0:1.7.0(00.244*kW)\r\n")


@pytest.mark.usefixtures("socket_enabled")
async def test_serves_clients_over_tcp() -> None:
    before = asyncio.all_tasks()
    simulator = MeterSimulator(template("v5.txt"), interval=0.1)
    port = await simulator.start()
    stays = await asyncio.open_connection("127.0.0.1", port)
    leaves = await asyncio.open_connection("127.0.0.1", port)
    resets = await asyncio.open_connection("127.0.0.1", port)
    async with asyncio.timeout(10):
        await read_telegram(leaves[0])
        leaves[1].close()
        # Hang up hard (RST), as a client that crashes does.
        resets[1].get_extra_info("socket").setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
        )
        resets[1].close()
        received = [await read_telegram(stays[0]) for _ in range(3)]
    assert len(simulator._clients) == 1  # the others' feeds ended quietly

    stamps = [parse(telegram).P1_MESSAGE_TIMESTAMP.value for telegram in received]
    assert stamps == sorted(stamps)
    assert all(telegram.startswith(b"/ISk5\\2MT382-1000\r\n") for telegram in received)

    await simulator.stop()
    assert await stays[0].read() == b""  # hung up on
    assert asyncio.all_tasks() <= before
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)
    await simulator.stop()  # a second stop does no harm
    stays[1].close()


@pytest.mark.usefixtures("socket_enabled")
async def test_a_new_client_gets_a_telegram_at_once() -> None:
    """Even with an hour between telegrams, the first comes without waiting for the next tick."""
    simulator = MeterSimulator(template("v5.txt"), interval=3600)
    port = await simulator.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    async with asyncio.timeout(10):
        telegram = await read_telegram(reader)
    await simulator.stop()
    writer.close()

    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    assert parse(telegram).P1_MESSAGE_TIMESTAMP.value in {hour, hour - timedelta(hours=1)}


@pytest.mark.usefixtures("socket_enabled")
async def test_serve_until_sigterm(capsys: pytest.CaptureFixture[str]) -> None:
    serving = asyncio.create_task(
        serve(MeterSimulator(template("v5.txt"), interval=0.1), "127.0.0.1", 0, "v5.txt")
    )
    async with asyncio.timeout(10):
        while not (printed := capsys.readouterr().out):  # noqa: ASYNC110 - polling the output
            await asyncio.sleep(0.01)
        announced = re.fullmatch(r"Meter simulator serving v5.txt on 127.0.0.1:(\d+)\n", printed)
        assert announced
        reader, writer = await asyncio.open_connection("127.0.0.1", int(announced[1]))
        parse(await read_telegram(reader))

        os.kill(os.getpid(), signal.SIGTERM)
        await serving
        assert await reader.read() == b""
    writer.close()


def test_command_line_options(monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[tuple[int, float, str, int, str]] = []

    async def record(simulator: MeterSimulator, host: str, port: int, name: str) -> None:
        served.append((simulator.seed, simulator.interval, host, port, name))

    monkeypatch.setattr("meter_simulator.__main__.serve", record)
    name = str(TELEGRAMS / "v5.txt")
    main(["--telegram", name])
    main(["--telegram", name, "--host", "::1", "--port", "0", "--interval", "0.5", "--seed", "3"])

    assert served == [(0, 1.0, "127.0.0.1", 2001, name), (3, 0.5, "::1", 0, name)]


def test_command_line_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """A start in the past: the registers have counted since, as on every run with it."""
    served: list[MeterSimulator] = []

    async def record(simulator: MeterSimulator, host: str, port: int, name: str) -> None:
        served.append(simulator)

    monkeypatch.setattr("meter_simulator.__main__.serve", record)
    main(["--telegram", str(TELEGRAMS / "v5.txt"), "--start", "2026-11-01T00:00:00+00:00"])
    start = datetime(2026, 11, 1, tzinfo=UTC)
    moment = start + timedelta(hours=5)
    expected = MeterSimulator((TELEGRAMS / "v5.txt").read_bytes(), start=start)
    assert served[0].telegram_at(moment) == expected.telegram_at(moment)


@pytest.mark.usefixtures("socket_enabled")
def test_command_line_stops_cleanly_on_ctrl_c() -> None:
    command = [sys.executable, "-m", "meter_simulator", "--telegram", str(TELEGRAMS / "v5.txt")]
    with subprocess.Popen(
        [*command, "--port", "0", "--interval", "0.1", "--seed", "9"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        announced = re.fullmatch(
            rf"Meter simulator serving {re.escape(command[-1])} on 127.0.0.1:(\d+)\n",
            process.stdout.readline(),
        )
        assert announced
        with (
            socket.create_connection(("127.0.0.1", int(announced[1])), timeout=10) as client,
            client.makefile("rb") as stream,
        ):
            lines = [stream.readline()]
            while not lines[-1].startswith(b"!"):
                lines.append(stream.readline())
        parse(b"".join(lines))

        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=10)
    assert process.returncode == 0
    assert errors == ""
