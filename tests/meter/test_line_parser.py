"""The one-pass parse builds dsmr-parser's Telegram, and the table CRC is DSMR's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import logging
from typing import Any

from dsmr_parser.exceptions import ParseError
from dsmr_parser.objects import Telegram
from dsmr_parser.parsers import TelegramParser
import pytest

from custom_components.smartmeter.meter.decode import TelegramDecoder, check_crc, crc16
from custom_components.smartmeter.meter.errors import ChecksumError, TelegramError
from custom_components.smartmeter.meter.line_parser import LineParser
from custom_components.smartmeter.meter.specifications import SPECIFICATIONS
from meter_simulator import MeterSimulator
from tests.meters import TELEGRAMS

PLAIN = sorted(key for key, spec in SPECIFICATIONS.items() if not spec.encrypted)
FILES = sorted(path.name for path in TELEGRAMS.glob("*.txt"))


class _Skipping:
    """A value parser whose every failure is dsmr-parser's ParseError, which it logs and skips.

    dsmr-parser raises other errors (a bad decimal, a wrong number of values) out of the whole
    parse; DSMR-reader's copy skips such a line too, and so does the LineParser.
    """

    def __init__(self, parser: Any) -> None:
        self._parser = parser

    def parse(self, line: str) -> Any:
        try:
            return self._parser.parse(line)
        except ParseError:
            raise
        except Exception as err:
            raise ParseError(str(err)) from err


def reference(specification: dict[str, Any]) -> TelegramParser:
    """dsmr-parser's own parse, skipping every line that fails as DSMR-reader's copy does."""
    objects = [
        {**item, "value_parser": _Skipping(item["value_parser"])}
        for item in specification["objects"]
    ]
    return TelegramParser({**specification, "objects": objects}, apply_checksum_validation=False)


def outcome(parse: object, text: str) -> tuple[str, ...]:
    """What a parse gives, in comparable form: every object in order, or the error."""
    assert callable(parse)
    try:
        telegram: Telegram = parse(text)
    except Exception as err:  # the error itself is the outcome
        return (type(err).__name__, str(err))
    return described(telegram)


def described(telegram: Telegram) -> tuple[str, ...]:
    """Every object of a telegram in order, in comparable form."""
    return (
        str(telegram),
        repr(telegram._item_names),  # dsmr-parser's order of objects
        repr([(key, _text(value)) for key, value in telegram.items()]),
    )


def _text(value: object) -> str:
    # A list (e.g. Belgian monthly peaks) would show its items' addresses.
    return repr([str(item) for item in value]) if isinstance(value, list) else str(value)


@pytest.mark.parametrize("key", PLAIN)
@pytest.mark.parametrize("name", FILES)
def test_same_telegram_as_dsmr_parser(name: str, key: str) -> None:
    """Every real telegram under every plain specification: objects, order and errors alike."""
    spec = SPECIFICATIONS[key].objects
    text = (TELEGRAMS / name).read_bytes().decode("latin-1")
    expected = outcome(reference(spec).parse, text)
    assert outcome(LineParser(spec).parse, text) == expected


V5 = (TELEGRAMS / "v5.txt").read_bytes().decode("latin-1")


V4_LEGACY_GAS = (
    (TELEGRAMS / "seed_landisgyr_e350_v40.txt")
    .read_bytes()
    .decode("latin-1")
    .replace(
        "!013B\r\n",
        "0-1:24.1.0(003)\r\n0-1:24.3.0(200115200000)(00)(60)(1)(0-1:24.2.1)(m3)\r\n"
        "(01234.567)\r\n0-1:24.4.0(1)\r\n!\r\n",
    )
)


@pytest.mark.parametrize(
    ("key", "text"),
    [
        # LF-only line endings: no pattern matches, the telegram is empty.
        pytest.param("5", V5.replace("\r\n", "\n"), id="lf-only"),
        # One line ends in LF only: its pattern runs on into the next line, which is rejected.
        pytest.param(
            "5",
            V5.replace("1-0:1.8.1(000004.426*kWh)\r\n", "1-0:1.8.1(000004.426*kWh)\n"),
            id="one-lf",
        ),
        # A lone CR inside a line.
        pytest.param("5", V5.replace("1-0:1.8.2(", "1-0:1.8.2\r("), id="lone-cr"),
        # A code with no value: its pattern takes the next line as its value.
        pytest.param("5", V5.replace("1-0:1.8.1(000004.426*kWh)", "1-0:1.8.1"), id="no-value"),
        # A line dsmr-parser's value parser rejects with its ParseError.
        pytest.param(
            "5",
            V5.replace("0-0:1.0.0(170102192002W)", "0-0:1.0.0(170102192002W"),
            id="rejected-line",
        ),
        # A value Decimal refuses: dsmr-parser raises, DSMR-reader's copy skips the line.
        pytest.param(
            "5", V5.replace("1-0:1.8.1(000004.426*kWh)", "1-0:1.8.1(0.004.426*kWh)"), id="decimal"
        ),
        # A code twice: both lines, in order.
        pytest.param(
            "5",
            V5.replace("1-0:32.7.0(0230.0*V)", "1-0:32.7.0(0230.0*V)\r\n1-0:32.7.0(0231.0*V)"),
            id="repeated",
        ),
        # DSMR 2.2's gas in a DSMR 4.0 telegram: its value on the next line.
        pytest.param("4", V4_LEGACY_GAS, id="two-line"),
        pytest.param("4", V4_LEGACY_GAS.replace("(01234.567)\r\n", ""), id="two-line-no-value"),
        pytest.param(
            "4", V4_LEGACY_GAS.replace("(01234.567)\r\n", "\r\n"), id="two-line-empty-value"
        ),
        pytest.param(
            "4", V4_LEGACY_GAS.replace("(01234.567)", "(01234.5.67)"), id="two-line-bad-value"
        ),
        pytest.param("4", V4_LEGACY_GAS.replace("\r\n(01234.567)\r\n", ""), id="two-line-at-end"),
    ],
)
def test_unusual_lines_as_dsmr_parser(
    key: str, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Where the fast path could differ, the outcome is still dsmr-parser's, logging nothing.

    dsmr-parser logs an error for a line it skips; a meter may send one every second.
    """
    spec = SPECIFICATIONS[key].objects
    expected = outcome(reference(spec).parse, text)
    caplog.clear()
    assert outcome(LineParser(spec).parse, text) == expected
    assert [record for record in caplog.records if record.levelno >= logging.INFO] == []


def test_changed_lines_decoded_exactly() -> None:
    """Values come from each telegram, not from what a code was first seen with."""
    decoder = TelegramDecoder(SPECIFICATIONS["5"])
    first = decoder.decode(V5)
    body = V5.replace("1-0:1.7.0(00.244*kW)", "1-0:1.7.0(01.500*kW)")
    body = body[: body.index("!") + 1]
    second = decoder.decode(f"{body}{TelegramParser.crc16(body):04X}\r\n")
    assert str(first.CURRENT_ELECTRICITY_USAGE.value) == "0.244"
    assert str(second.CURRENT_ELECTRICITY_USAGE.value) == "1.500"


def test_stream_parses_alike_reusing_unchanged_lines() -> None:
    """Telegram after telegram as dsmr-parser; a line as in the one before is not parsed again."""
    spec = SPECIFICATIONS["5"].objects
    parser = LineParser(spec)
    dsmr_parser = reference(spec)
    start = datetime(2024, 7, 10, 8, 0, tzinfo=UTC)
    simulator = MeterSimulator((TELEGRAMS / "v5.txt").read_bytes(), start=start)
    previous: Telegram | None = None
    for second in range(0, 900, 7):
        text = simulator.telegram_at(start + timedelta(seconds=second)).decode("latin-1")
        telegram = parser.parse(text)
        assert described(telegram) == outcome(dsmr_parser.parse, text)
        if previous is not None:
            assert telegram.EQUIPMENT_IDENTIFIER is previous.EQUIPMENT_IDENTIFIER
            assert telegram.P1_MESSAGE_TIMESTAMP is not previous.P1_MESSAGE_TIMESTAMP
        previous = telegram


def test_made_up_codes_parse_alike() -> None:
    """A stream of new codes (through the API) parses as dsmr-parser parses it."""
    spec = SPECIFICATIONS["5"].objects
    parser = LineParser(spec)
    dsmr_parser = reference(spec)
    for number in range(300):
        text = V5.replace("1-0:99.97.0", f"1-0:99.{number}.0")
        assert outcome(parser.parse, text) == outcome(dsmr_parser.parse, text)


@pytest.mark.parametrize("name", FILES)
def test_crc16_is_dsmr_parsers(name: str) -> None:
    """The table CRC equals dsmr-parser's for every real telegram's '/' ... '!' text."""
    text = (TELEGRAMS / name).read_bytes().decode("latin-1")
    body = text[text.index("/") : text.rindex("!") + 1]
    assert crc16(body.encode("latin-1")) == TelegramParser.crc16(body)


@pytest.mark.parametrize("length", [0, 1, 2, 3, 4, 901, 902])
def test_crc16_odd_and_even_lengths(length: int) -> None:
    """Two bytes a step, and a last odd byte on its own."""
    text = V5[:length]
    assert crc16(text.encode("latin-1")) == TelegramParser.crc16(text)


def test_check_crc() -> None:
    """A right CRC passes, also without leading zeros; a wrong one or no '!' is an error."""
    check_crc(V5)
    check_crc((TELEGRAMS / "unpadded_crc.txt").read_bytes().decode("latin-1"))
    with pytest.raises(
        ChecksumError,
        match=r"^Invalid telegram\. The CRC checksum '\d+' does not match the expected '\d+'$",
    ):
        check_crc(V5.replace("000004.426", "000004.427"))
    with pytest.raises(ChecksumError, match=r"no '/' \.\.\. '!' part"):
        check_crc("1-0:1.8.1(000004.426*kWh)\r\n!1234\r\n")
    with pytest.raises(TelegramError, match=r"^Unparsable telegram"):
        TelegramDecoder(SPECIFICATIONS["5"]).decode(V5.replace("1-0:1.8.1", "1-0:1.8.1€"))
