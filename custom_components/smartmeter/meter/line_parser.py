r"""dsmr-parser's telegram parse in one pass over the lines.

dsmr-parser's ``TelegramParser.parse`` runs every object's pattern over the whole telegram:
about 40 scans of the text, most of its cost. Nearly every pattern is one line long and is
decided by the line's OBIS code alone (``^\d-\d:1\.8\.1.+?\r\n``), so here each line's code
is looked up once (which objects match it is learnt on first sight and kept), and the line goes
to the same value parser. The objects are added in dsmr-parser's order, object by object and
line by line, so the ``Telegram`` is the one dsmr-parser builds. Whatever could make them
differ (line endings other than CRLF, a line without a value, a line a value parser rejects, a
specification with multi-line patterns) is handed to dsmr-parser itself.

A meter repeats most lines from one telegram to the next (identifiers, counters, registers
between increments), so the objects parsed from the previous telegram's lines are reused for
the same lines: a line's objects depend on its text alone, and nothing changes them.
"""

from __future__ import annotations

import re
from typing import Any, Final

from dsmr_parser.exceptions import ParseError
from dsmr_parser.objects import Telegram
from dsmr_parser.parsers import TelegramParser

# A pattern decided by a line's code: "^", code characters, then the rest of the line.
_CODE_PATTERN: Final = re.compile(r"\^(?:\\d|\\\.|\[[0-9-]+\]|[0-9:-])+\.\+\?\\r\\n")
# Codes remembered per specification; a real meter sends a few dozen, a stream of made-up
# ones (through the API) must not grow the memory.
_MAX_CODES: Final = 256


class LineParser:
    """Parses telegrams of one specification as ``TelegramParser.parse`` does, faster.

    The CRC is not checked here (the decoder does that).
    """

    __slots__ = ("_by_code", "_fallback", "_objects", "_patterns", "_previous")

    def __init__(self, specification: dict[str, Any]) -> None:
        """Prepare for a dsmr-parser telegram specification."""
        self._fallback = TelegramParser(specification, apply_checksum_validation=False)
        self._objects: tuple[dict[str, Any], ...] = tuple(specification["objects"])
        if all(_CODE_PATTERN.fullmatch(item["obis_reference"]) for item in self._objects):
            self._patterns: tuple[re.Pattern[str], ...] | None = tuple(
                re.compile(item["obis_reference"], re.DOTALL | re.MULTILINE)
                for item in self._objects
            )
        else:
            self._patterns = None
        # The objects (their positions) whose pattern matches a line with that code.
        self._by_code: dict[str, tuple[int, ...]] = {}
        # The last telegram's lines and the objects parsed from each, one per position.
        self._previous: dict[str, tuple[Any, ...]] = {}

    def parse(self, text: str) -> Telegram:
        """Return the telegram's objects; raise as ``TelegramParser.parse`` does."""
        lines = self._lines(text)
        if lines is None:
            return self._fallback.parse(text)
        objects = self._objects
        previous = self._previous
        parsed: dict[str, tuple[Any, ...]] = {}
        found: list[tuple[int, Any]] = []
        try:
            for line in lines:
                code, paren, _ = line.partition("(")
                positions = self._by_code.get(code)
                if positions is None:
                    positions = self._positions(code)
                    if len(self._by_code) < _MAX_CODES:
                        self._by_code[code] = positions
                if not positions:
                    continue
                if not paren:  # a code with no value: patterns may run into the next line
                    return self._fallback.parse(text)
                values = previous.get(line)
                if values is None:
                    values = tuple(
                        objects[position]["value_parser"].parse(f"{line}\r\n")
                        for position in positions
                    )
                parsed[line] = values
                found.extend(zip(positions, values, strict=True))
        except ParseError:
            # dsmr-parser logs and skips such a line; let it do so in its own words.
            return self._fallback.parse(text)
        self._previous = parsed
        found.sort(key=_position)
        telegram = Telegram()
        for position, value in found:
            item = objects[position]
            telegram.add(
                obis_reference=item["obis_reference"],
                dsmr_object=value,
                obis_name=item["value_name"],
            )
        return telegram

    def _lines(self, text: str) -> list[str] | None:
        """Return the CRLF-ended lines, or None if the fast path cannot be exact."""
        if self._patterns is None:
            return None
        crlf = text.count("\r\n")
        if text.count("\n") != crlf or text.count("\r") != crlf:
            return None
        # The text after the last CRLF ends no line, so no pattern can match it.
        return text.split("\r\n")[:-1]

    def _positions(self, code: str) -> tuple[int, ...]:
        assert self._patterns is not None
        # The patterns' code part cannot match "(", so a stand-in value decides as a real one.
        probe = f"{code}(\r\n"
        return tuple(
            position for position, pattern in enumerate(self._patterns) if pattern.match(probe)
        )


def _position(found: tuple[int, Any]) -> int:
    return found[0]
