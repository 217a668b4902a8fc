r"""dsmr-parser's telegram parse in one pass over the lines.

dsmr-parser's ``TelegramParser.parse`` runs every object's pattern over the whole telegram:
about 40 scans of the text, most of its cost. Nearly every pattern is one line long and is
decided by the line's OBIS code alone (``^\d-\d:1\.8\.1.+?\r\n``); DSMR 2.2's gas takes the line
after its code too (``^\d-\d:24\.3\.0.+?\r\n.+?\r\n``). So here each line's code is looked up
once (which objects match it is learnt on first sight and kept), and the line (with the next,
for a two-line object) goes to the same value parser. The objects are added in dsmr-parser's
order, object by object and line by line, so the ``Telegram`` is the one dsmr-parser builds.
Whatever could make them differ (line endings other than CRLF, a line without a value, a
two-line object without its second line, a specification with other patterns) goes the slow
way: every pattern over the whole text, as dsmr-parser does.

A line whose value does not parse is left out, whatever the error, as DSMR-reader's copy of
dsmr-parser does (dsmr-parser itself logs an error for some and raises for others); it is
logged at debug level only, since a meter may send it every second.

A meter repeats most lines from one telegram to the next (identifiers, counters, registers
between increments), so the objects parsed from the previous telegram's lines are reused for
the same lines: a line's objects depend on its text alone, and nothing changes them.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Final

from dsmr_parser.objects import Telegram

_LOGGER: Final = logging.getLogger(__name__)

_CODE: Final = r"\^(?:\\d|\\\.|\[[0-9-]+\]|[0-9:-])+"
# A pattern decided by a line's code: "^", code characters, then the rest of the line; or the
# rest of that line and the next one.
_PATTERN_LINES: Final = {
    1: re.compile(_CODE + r"\.\+\?\\r\\n"),
    2: re.compile(_CODE + r"\.\+\?\\r\\n\.\+\?\\r\\n"),
}
# Codes remembered per specification; a real meter sends a few dozen, a stream of made-up
# ones (through the API) must not grow the memory.
_MAX_CODES: Final = 256

type _Found = tuple[tuple[int, Any], ...]


class LineParser:
    """Parses telegrams of one specification as ``TelegramParser.parse`` does, faster.

    The CRC is not checked here (the decoder does that).
    """

    __slots__ = ("_by_code", "_lines_of", "_objects", "_patterns", "_previous")

    def __init__(self, specification: dict[str, Any]) -> None:
        """Prepare for a dsmr-parser telegram specification."""
        self._objects: tuple[dict[str, Any], ...] = tuple(specification["objects"])
        self._patterns = tuple(
            re.compile(item["obis_reference"], re.DOTALL | re.MULTILINE) for item in self._objects
        )
        # How many lines each object's pattern takes; None if not decided by a code.
        lines_of: list[int] = []
        for item in self._objects:
            lines = next(
                (n for n, form in _PATTERN_LINES.items() if form.fullmatch(item["obis_reference"])),
                None,
            )
            if lines is None:
                self._lines_of: tuple[int, ...] | None = None
                break
            lines_of.append(lines)
        else:
            self._lines_of = tuple(lines_of)
        # The objects (their positions) whose pattern matches a line with that code, and
        # whether one takes the next line too.
        self._by_code: dict[str, tuple[tuple[int, ...], bool]] = {}
        # The last telegram's lines and the objects parsed from each, with their positions.
        self._previous: dict[str, _Found] = {}

    def parse(self, text: str) -> Telegram:
        """Return the telegram's objects, leaving out lines whose value does not parse."""
        lines = self._lines(text)
        if lines is None:
            return self._parse_slowly(text)
        by_code = self._by_code
        previous = self._previous
        parsed: dict[str, _Found] = {}
        found: list[tuple[int, Any]] = []
        for index, line in enumerate(lines):
            code, paren, _ = line.partition("(")
            known = by_code.get(code)
            positions, two_lines = known if known is not None else self._learn(code)
            if not positions:
                continue
            if not paren:  # a code with no value: patterns may run into the next line
                return self._parse_slowly(text)
            key = line
            if two_lines:
                following = lines[index + 1] if index + 1 < len(lines) else ""
                # Without a second line, or with one a pattern could start at, the pattern
                # matches elsewhere than here.
                if not following or self._learn(following.partition("(")[0])[0]:
                    return self._parse_slowly(text)
                key = f"{line}\r\n{following}"
            values = previous.get(key)
            if values is None:
                values = self._parse_line(key, positions)
            parsed[key] = values
            found.extend(values)
        self._previous = parsed
        found.sort(key=_position)
        return self._telegram(found)

    def _learn(self, code: str) -> tuple[tuple[int, ...], bool]:
        """Return the objects matching a line with this code; whether one takes the next too."""
        known = self._by_code.get(code)
        if known is None:
            assert self._lines_of is not None
            positions = self._positions(code)
            known = (positions, any(self._lines_of[position] == 2 for position in positions))
            if len(self._by_code) < _MAX_CODES:
                self._by_code[code] = known
        return known

    def _parse_line(self, key: str, positions: tuple[int, ...]) -> _Found:
        """Parse a line (or two) for each object it matches; leave out those that fail."""
        assert self._lines_of is not None
        first = key.partition("\r\n")[0]
        values = []
        for position in positions:
            match = f"{key if self._lines_of[position] == 2 else first}\r\n"
            value = self._value(position, match)
            if value is not None:
                values.append((position, value))
        return tuple(values)

    def _value(self, position: int, match: str) -> Any:
        """Return the object a value parser makes of a match, None if it fails."""
        item = self._objects[position]
        try:
            return item["value_parser"].parse(match)
        except Exception as err:
            _LOGGER.debug("Line of %s left out: %r: %s", item["value_name"], match, err)
            return None

    def _parse_slowly(self, text: str) -> Telegram:
        """Run every object's pattern over the whole text, as dsmr-parser does."""
        found = [
            (position, value)
            for position, pattern in enumerate(self._patterns)
            for match in pattern.findall(text)
            if (value := self._value(position, match)) is not None
        ]
        return self._telegram(found)

    def _telegram(self, found: list[tuple[int, Any]]) -> Telegram:
        telegram = Telegram()
        for position, value in found:
            item = self._objects[position]
            telegram.add(
                obis_reference=item["obis_reference"],
                dsmr_object=value,
                obis_name=item["value_name"],
            )
        return telegram

    def _lines(self, text: str) -> list[str] | None:
        """Return the CRLF-ended lines, or None if the fast path cannot be exact."""
        if self._lines_of is None:
            return None
        crlf = text.count("\r\n")
        if text.count("\n") != crlf or text.count("\r") != crlf:
            return None
        # The text after the last CRLF ends no line, so no pattern can match it.
        return text.split("\r\n")[:-1]

    def _positions(self, code: str) -> tuple[int, ...]:
        # The patterns' code part cannot match "(", so a stand-in value decides as a real one;
        # a second stand-in line lets a two-line pattern match too.
        probe = f"{code}(\r\n(\r\n"
        return tuple(
            position for position, pattern in enumerate(self._patterns) if pattern.match(probe)
        )


def _position(found: tuple[int, Any]) -> int:
    return found[0]
