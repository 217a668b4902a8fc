"""The meter layer on its own: detection, derived values, averaging, hourly gas."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.smartmeter.meter.aggregate import (
    HourlyConsumption,
    UpdateThrottle,
    add_derived_values,
)
from custom_components.smartmeter.meter.decode import TelegramDecoder
from custom_components.smartmeter.meter.detect import detect_specification
from custom_components.smartmeter.meter.errors import TelegramError
from custom_components.smartmeter.meter.reading import MeterReading
from custom_components.smartmeter.meter.specifications import SPECIFICATIONS
from custom_components.smartmeter.reader.framing import MAX_TELEGRAM, TelegramFramer
from tests.meters import telegram, with_crc

SWEDEN = with_crc(
    "/ELL5\\253833635_A\r\n\r\n0-0:1.0.0(210217184019W)\r\n1-0:1.8.0(00006678.394*kWh)\r\n"
    "1-0:2.8.0(00000000.000*kWh)\r\n1-0:1.7.0(0001.727*kW)\r\n1-0:2.7.0(0000.000*kW)\r\n!"
)
LUXEMBOURG = with_crc(
    "/Ene5\\T210-D ESMR5.0\r\n\r\n1-3:0.2.8(50)\r\n0-0:1.0.0(200408063501S)\r\n"
    "0-0:42.0.0(53414733303832323030303032313630)\r\n1-0:1.8.0(000000.210*kWh)\r\n"
    "1-0:2.8.0(000000.000*kWh)\r\n1-0:1.7.0(00.000*kW)\r\n1-0:2.7.0(00.000*kW)\r\n!"
)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (SWEDEN, "5S"),
        (LUXEMBOURG, "5L"),
        (
            "/XXX5\r\n\r\n1-0:1.8.1(1*kWh)\r\n1-0:2.8.1(0*kWh)\r\n1-0:1.7.0(1*kW)\r\n"
            "1-0:2.7.0(0*kW)\r\n!\r\n",
            "2.2",
        ),
    ],
)
def test_detect_and_parse(text: str, key: str) -> None:
    """Formats without a telegram file here are recognised and parse."""
    specification = detect_specification(text)
    assert specification.key == key
    TelegramDecoder(specification).decode(text)


def test_bad_crc_and_garbage_are_errors() -> None:
    """A changed byte fails the CRC; a body that is no telegram fails parsing."""
    decoder = TelegramDecoder(SPECIFICATIONS["5S"])
    with pytest.raises(TelegramError, match="CRC"):
        decoder.decode(SWEDEN.replace("6678", "6679"))
    with pytest.raises(TelegramError):
        TelegramDecoder(SPECIFICATIONS["MSn"], "00" * 16).decode("zz")


def test_framer_bounds_and_splits() -> None:
    """Chunks split anywhere give whole telegrams; noise never piles up."""
    framer = TelegramFramer()
    data = telegram("v5.txt") * 2
    frames = [frame for i in range(0, len(data), 7) for frame in framer.feed(data[i : i + 7])]
    assert frames == [telegram("v5.txt").decode()] * 2
    # A telegram that never ends is handed on (to be refused) once it is too long.
    oversized = "/" + "x" * (MAX_TELEGRAM + 1)
    assert framer.feed(oversized.encode()) == [oversized]
    assert framer.feed(b"!" + b"y" * 20) == []
    assert framer.feed(b"\r\n") == []


V5_TEXT = telegram("v5.txt").decode()


@pytest.mark.parametrize(
    ("data", "frames"),
    [
        # A stray '!' (or '/...!') before a telegram costs only itself, handed on to be refused.
        (V5_TEXT + "xx!yy" + V5_TEXT, [V5_TEXT, "xx!", V5_TEXT]),
        (V5_TEXT + "/xx!yy" + V5_TEXT, [V5_TEXT, "/xx!yy", V5_TEXT]),
        # A run of noise counts once, until the next telegram.
        (V5_TEXT + "a!b!c!\r\n!" + V5_TEXT + "!", [V5_TEXT, "a!", V5_TEXT, "!"]),
        # Noise without '!' or '/' (padding) is dropped.
        (V5_TEXT + "\x00\xff  \r\n" + V5_TEXT, [V5_TEXT, V5_TEXT]),
        # A telegram cut off by the next one's '/'.
        (V5_TEXT[:300] + V5_TEXT, [V5_TEXT[:300], V5_TEXT]),
        # The tail of a telegram sent before the connection: not counted.
        (V5_TEXT[300:] + V5_TEXT, [V5_TEXT]),
        # A CRC line that never ends: the telegram stops 8 characters after its '!'.
        (V5_TEXT[:-2] + "garbage and more" + V5_TEXT, [V5_TEXT[:-2] + "garb", V5_TEXT]),
    ],
    ids=["bang", "slash-bang", "run", "padding", "cut-off", "tail", "endless-crc-line"],
)
def test_framer_noise(data: str, frames: list[str]) -> None:
    """What is no telegram costs only itself: the next telegram arrives whole.

    Fed a byte at a time, the same telegrams and as many refused frames come out (noise
    already dropped is not in them).
    """
    framer = TelegramFramer()
    assert framer.feed(data.encode("latin-1")) == frames
    framer = TelegramFramer()
    fed = [frame for i in range(len(data)) for frame in framer.feed(data[i].encode("latin-1"))]
    assert [frame == V5_TEXT for frame in fed] == [frame == V5_TEXT for frame in frames]


def test_hourly_consumption() -> None:
    """Gas in the last hour: unknown for the first hour, then the difference."""
    hourly = HourlyConsumption()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert hourly.update(start, 100.0) is None
    assert hourly.update(start + timedelta(minutes=30), 100.5) is None
    assert hourly.update(start + timedelta(minutes=30), 100.5) is None  # repeated reading
    assert hourly.update(start + timedelta(hours=1), 101.25) == 1.25
    assert hourly.update(start + timedelta(minutes=90), 101.5) == 1.0
    assert hourly.update(start + timedelta(hours=3), 90.0) == 0.0  # meter replaced


def _reading(power: float) -> MeterReading:
    reading = MeterReading("ISK5\\2MT382-1000")
    reading.values.update(
        CURRENT_ELECTRICITY_USAGE=power,
        CURRENT_ELECTRICITY_DELIVERY=0.0,
        ELECTRICITY_ACTIVE_TARIFF="0003",
    )
    reading.units.update(CURRENT_ELECTRICITY_USAGE="W", CURRENT_ELECTRICITY_DELIVERY="W")
    return reading


def test_throttle_averages_power() -> None:
    """One reading per interval passes, carrying the interval's mean power."""
    throttle = UpdateThrottle(10)
    assert throttle.add(_reading(100.0), 0.0) is not None
    assert throttle.add(_reading(200.0), 4.0) is None
    assert throttle.add(_reading(400.0), 8.0) is None
    passed = throttle.add(_reading(600.0), 10.0)
    assert passed is not None
    assert passed.values["CURRENT_ELECTRICITY_USAGE"] == 400.0
    add_derived_values(passed, tariff_codes_swapped=False)
    assert passed.values["NET_POWER"] == 400.0
    assert passed.values["ELECTRICITY_ACTIVE_TARIFF"] is None  # unknown code
    assert passed.manufacturer == "Iskra"
    assert passed.model == "MT382-1000"
