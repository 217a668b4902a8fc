"""Which telegrams are taken: the decoder refuses what DSMR-reader would not store.

The decoder is shared by the reader and API v1, so these rules hold for both (through them in
test_faults.py and test_api_inputs.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
import logging

from dsmr_parser.objects import Telegram
import pytest

from custom_components.smartmeter.meter.decode import TelegramDecoder
from custom_components.smartmeter.meter.detect import detect_specification
from custom_components.smartmeter.meter.dsmr_reading import (
    MissingRegister,
    NoElectricity,
    ValueOutOfRange,
    to_dsmr_reading,
)
from custom_components.smartmeter.meter.errors import ChecksumError, TelegramError
from custom_components.smartmeter.meter.specifications import SPECIFICATIONS
from tests.common import REFUSED_FOR_A_MISSING_REGISTER
from tests.meter.test_detection_and_values import LUXEMBOURG
from tests.meters import TELEGRAMS, edited, telegram, with_crc

# They refuse telegrams that lack a register on purpose.
pytestmark = pytest.mark.allow_log(REFUSED_FOR_A_MISSING_REGISTER)

NOW = datetime(2026, 12, 1, tzinfo=UTC)
DECODER = "custom_components.smartmeter.meter.decode"
REAL = sorted(path.name for path in TELEGRAMS.glob("*.txt"))


TARIFF_1 = "1-0:1.8.1(000004.426*kWh)"


def v5(old: str, new: str) -> str:
    """The DSMR 5 telegram with a line changed, its CRC right."""
    return edited("v5.txt", (old, new))


def decode(key: str, text: str) -> Telegram:
    """Decode under a specification."""
    return TelegramDecoder(SPECIFICATIONS[key]).decode(text)


@pytest.mark.parametrize("name", REAL)
def test_real_telegrams_taken(name: str) -> None:
    """Every real telegram is taken under the specification it is detected as (one bad CRC)."""
    text = telegram(name).decode("latin-1")
    specification = detect_specification(text)
    if name == "seed_kaifa_v42_masked_badcrc.txt":
        with pytest.raises(ChecksumError):
            decode(specification.key, text)
        return
    decode(specification.key, text)


@pytest.mark.parametrize(
    ("key", "text", "message"),
    [
        ("5", telegram("v5.txt").decode()[:-6] + "\r\n", "no CRC after its '!': ''"),
        ("5", telegram("v5.txt").decode().replace("!6EEE", "!6eee"), "no CRC after its '!'"),
        ("5", telegram("v5.txt").decode()[:400], "Not a telegram"),
        ("2.2", "blablabla", "Not a telegram"),
        ("2.2", "/XXX5\r\n\r\n!\r\n", "no electricity"),
        (
            "2.2",
            telegram("v2_2.txt").decode().replace("1-0:2.7.0(0000.00*kW)\r\n", ""),
            "Telegram without 1-0:2.7.0 (power returned)",
        ),
        ("5S", v5(TARIFF_1, "1-0:1.8.9(000004.426*kWh)"), "Telegram without 1-0:1.8.0 ("),
        ("5", v5(TARIFF_1, "1-0:1.8.1(1000000.000*kWh)"), "out of range"),
        ("5", v5("1-0:32.7.0(0230.0*V)", "1-0:32.7.0(1000.0*V)"), "out of range"),
        ("5", v5(TARIFF_1, "1-0:1.8.1(NaN*kWh)"), "out of range"),
    ],
    ids=[
        "dsmr5-no-crc",
        "lower-case-crc",
        "cut",
        "garbage",
        "empty",
        "2.2-no-power-returned",
        "sweden-no-total",
        "million-kwh",
        "kilovolt",
        "nan",
    ],
)
def test_refused(key: str, text: str, message: str) -> None:
    """Refused, saying why."""
    with pytest.raises(TelegramError, match=message.replace("(", r"\(").replace(")", r"\)")):
        decode(key, text)


def test_crc_where_the_specification_has_none() -> None:
    """DSMR 2.2 has no CRC: one that is there is checked, anything else after '!' ignored."""
    body = telegram("v2_2.txt").decode()[:-2]  # up to the '!'
    decode("2.2", body + "\r\n")
    decode("2.2", with_crc(body))
    decode("2.2", body + "abcd\r\n")
    with pytest.raises(ChecksumError):
        decode("2.2", body + "0000\r\n")


def test_text_after_the_crc_line() -> None:
    """What follows the CRC's line is not the CRC (DSMR-reader reads the first 4 characters)."""
    decode("5", telegram("v5.txt").decode() + "\r\n--boundary--")


def test_registers_a_meter_may_lack() -> None:
    """Tariff 2 (one-tariff meters) and, on Q3D, export are 0 as in DSMR-reader; no more."""
    one_tariff = edited(
        "v5.txt", ("1-0:1.8.2(000002.399*kWh)\r\n", ""), ("1-0:2.8.2(000000.000*kWh)\r\n", "")
    )
    reading, _ = to_dsmr_reading(decode("5", one_tariff), NOW, SPECIFICATIONS["5"])
    assert (reading.electricity_delivered_2, reading.electricity_returned_2) == (
        Decimal("0.000"),
        Decimal("0.000"),
    )
    q3d = telegram("esy5q3da1004_v304.txt").decode("latin-1")
    reading, _ = to_dsmr_reading(decode("Q3D", q3d), NOW, SPECIFICATIONS["Q3D"])
    assert (reading.electricity_delivered_1, reading.electricity_returned_1) == (
        Decimal("32549.506"),
        Decimal("0.000"),
    )


def test_heat_meter_alone() -> None:
    """A telegram with an M-Bus position and no electricity is taken, but makes no reading."""
    warmtelink = decode("5", telegram("unpadded_crc.txt").decode())
    with pytest.raises(NoElectricity):
        to_dsmr_reading(warmtelink, NOW, SPECIFICATIONS["5"])


def test_column_limits() -> None:
    """The largest values DSMR-reader's columns hold are taken, in any unit the meter sends."""
    largest = edited(
        "v5.txt",
        ("1-0:1.8.1(000004.426*kWh)", "1-0:1.8.1(999999999*Wh)"),
        ("1-0:32.7.0(0230.0*V)", "1-0:32.7.0(999.9*V)"),
        ("0-0:96.7.21(00013)", "0-0:96.7.21(2147483647)"),
    )
    reading, statistics = to_dsmr_reading(decode("5", largest), NOW, SPECIFICATIONS["5"])
    assert (reading.electricity_delivered_1, reading.phase_voltage_l1) == (
        Decimal("999999.999"),
        Decimal("999.9"),
    )
    assert statistics["power_failure_count"] == 2**31 - 1
    with pytest.raises(ValueOutOfRange):
        decode("5", edited("v5.txt", ("0-0:96.7.21(00013)", "0-0:96.7.21(2147483648)")))


def test_dsmr4_legacy_gas() -> None:
    """DSMR 2.2's gas line in a DSMR 4.0 telegram: value and hour, as DSMR-reader stores them."""
    text = telegram("seed_landisgyr_e350_v40.txt").decode()
    body = text[: text.index("!")] + (
        "0-1:24.1.0(003)\r\n0-1:24.3.0(200115200000)(00)(60)(1)(0-1:24.2.1)(m3)\r\n(01234.567)\r\n!"
    )
    reading, _ = to_dsmr_reading(decode("4", with_crc(body)), NOW, SPECIFICATIONS["4"])
    assert (reading.extra_device_timestamp, reading.extra_device_delivered) == (
        datetime(2020, 1, 15, 19, tzinfo=UTC),
        Decimal("1234.567"),
    )


def test_missing_register_logged_once_per_register(caplog: pytest.LogCaptureFixture) -> None:
    """Each missing register is logged once per meter, then refused quietly."""
    decoder = TelegramDecoder(SPECIFICATIONS["5"])
    no_tariff_1 = edited("v5.txt", ("1-0:1.8.1(000004.426*kWh)\r\n", ""))
    no_power = edited("v5.txt", ("1-0:1.7.0(00.244*kW)\r\n", ""))
    with caplog.at_level(logging.WARNING):
        for text in (no_tariff_1, no_power, no_tariff_1, no_power):
            with pytest.raises(MissingRegister):
                decoder.decode(text)
    assert [record.getMessage() for record in caplog.records if record.name == DECODER] == [
        "Telegrams without 1-0:1.8.1 (electricity delivered, tariff 1) are refused: "
        "DSMR 5 requires it",
        "Telegrams without 1-0:1.7.0 (power delivered) are refused: DSMR 5 requires it",
    ]


def test_other_specification_named_only_if_it_takes_the_telegram(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The type a refused telegram looks like is named only when that type would take it."""
    with caplog.at_level(logging.WARNING):
        for key, text in (("4", v5(TARIFF_1 + "\r\n", "")), ("5", LUXEMBOURG)):
            with pytest.raises(MissingRegister):
                TelegramDecoder(SPECIFICATIONS[key]).decode(text)
    assert [record.getMessage() for record in caplog.records if record.name == DECODER] == [
        "Telegrams without 1-0:1.8.1 (electricity delivered, tariff 1) are refused: "
        "DSMR 4 requires it",
        "Telegrams without 1-0:1.8.1 (electricity delivered, tariff 1) are refused: "
        "DSMR 5 requires it; they look like DSMR 5L (Luxembourg, unencrypted): "
        "set the meter up with that",
    ]
