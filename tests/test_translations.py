"""Every string as Home Assistant's frontend reads it: ICU messages, as intl-messageformat parses.

The frontend formats each translation with intl-messageformat, tags on (no ``ignoreTag``): ``<`` and
a letter open a tag that must be closed, ``{name}`` is a placeholder, and ``'`` before one of
``{}<>`` quotes text up to the next lone ``'``. A string it cannot parse shows as "Translation
error: UNCLOSED_TAG" and the like. The parser below follows formatjs' icu-messageformat-parser (the
one in the installed home-assistant-frontend) for everything but formatted arguments, which the
integration's strings do not use.
"""

from __future__ import annotations

from collections.abc import Iterator
import json
from pathlib import Path
import re
from typing import Any

import pytest

COMPONENT = Path(__file__).resolve().parents[1] / "custom_components" / "smartmeter"
LANGUAGES = sorted(path.stem for path in (COMPONENT / "translations").glob("*.json"))

# Unicode's Pattern_Syntax and White_Space, which end a placeholder's name.
_NAME = re.compile(
    "[^\t-\r \x85\u200e\u200f\u2028\u2029"
    "!-/:-@\\[-^`{-~\xa1-\xa7\xa9\xab\xac\xae\xb0\xb1\xb6\xbb\xbf\xd7\xf7"
    "\u2010-\u2027\u2030-\u203e\u2041-\u2053\u2055-\u205e\u2190-\u245f\u2500-\u2775"
    "\u2794-\u2bff\u2e00-\u2e7f\u3001-\u3003\u3008-\u3020\u3030\ufd3e\ufd3f\ufe45\ufe46]*"
)
_SPACE = re.compile("[\t-\r \x85\u200e\u200f\u2028\u2029]*")


def _is_alpha(char: str) -> bool:
    return "a" <= char <= "z" or "A" <= char <= "Z"


def _in_tag_name(char: str) -> bool:
    code = ord(char)
    return (
        char in "-._\xb7"
        or (char.isascii() and char.isalnum())
        or any(
            low <= code <= high
            for low, high in (
                (0xC0, 0xD6),
                (0xD8, 0xF6),
                (0xF8, 0x37D),
                (0x37F, 0x1FFF),
                (0x200C, 0x200D),
                (0x203F, 0x2040),
                (0x2070, 0x218F),
                (0x2C00, 0x2FEF),
                (0x3001, 0xD7FF),
                (0xF900, 0xFDCF),
                (0xFDF0, 0xFFFD),
                (0x10000, 0xEFFFF),
            )
        )
    )


def _plain(char: str, after: str, nesting: int) -> bool:
    """Tell whether ``char`` (``after`` following) is text as it stands."""
    if char == "<":  # text unless it starts a tag
        return not (_is_alpha(after) or after == "/")
    return bool(char) and char != "{" and not (char == "}" and nesting > 0)


class MessageError(ValueError):
    """The frontend's "Translation error", with formatjs' name for it."""


class Message:
    """One message read as the frontend's parser reads it: its text and placeholders."""

    def __init__(self, message: str) -> None:
        """Parse ``message``; raise MessageError where the frontend's parser fails."""
        self._message, self._at = message, 0
        self.placeholders: set[str] = set()
        self.text = self._parse(0, expecting_close_tag=False)

    def _char(self, ahead: int = 0) -> str:
        at = self._at + ahead
        return self._message[at] if at < len(self._message) else ""

    def _take(self, prefix: str) -> bool:
        if self._message.startswith(prefix, self._at):
            self._at += len(prefix)
            return True
        return False

    def _match(self, pattern: re.Pattern[str]) -> str:
        found = pattern.match(self._message, self._at)
        assert found is not None
        self._at = found.end()
        return found[0]

    def _parse(self, nesting: int, *, expecting_close_tag: bool) -> str:
        text = ""
        while char := self._char():
            if char == "{":
                text += self._placeholder()
            elif char == "}" and nesting > 0:
                break
            elif char == "<" and self._char(1) == "/":
                if expecting_close_tag:
                    break
                raise MessageError("UNMATCHED_CLOSING_TAG")
            elif char == "<" and _is_alpha(self._char(1)):
                text += self._tag(nesting)
            else:
                text += self._literal(nesting)
        return text

    def _tag(self, nesting: int) -> str:
        self._at += 1
        name = self._tag_name()
        self._match(_SPACE)
        if self._take("/>"):
            return f"<{name}/>"
        if not self._take(">"):
            raise MessageError("INVALID_TAG")
        children = self._parse(nesting + 1, expecting_close_tag=True)
        if not self._take("</"):
            raise MessageError("UNCLOSED_TAG")
        if not _is_alpha(self._char()):
            raise MessageError("INVALID_TAG")
        if self._tag_name() != name:
            raise MessageError("UNMATCHED_CLOSING_TAG")
        self._match(_SPACE)
        if not self._take(">"):
            raise MessageError("INVALID_TAG")
        return children

    def _tag_name(self) -> str:
        start = self._at
        self._at += 1
        while self._char() and _in_tag_name(self._char()):
            self._at += 1
        return self._message[start : self._at]

    def _literal(self, nesting: int) -> str:
        text = ""
        while True:
            char, after = self._char(), self._char(1)
            if char == "'" and after == "'":
                text += "'"
                self._at += 2
            elif char == "'" and after and after in "{}<>":
                # Quoted up to the next lone apostrophe (or the end); '' inside is one.
                self._at += 1
                text += self._char()
                self._at += 1
                while (char := self._char()) and not (char == "'" and self._char(1) != "'"):
                    text += char
                    self._at += 2 if char == "'" else 1
                self._at += 1
            elif _plain(char, after, nesting):
                text += char
                self._at += 1
            else:
                return text

    def _placeholder(self) -> str:
        self._at += 1
        self._match(_SPACE)
        if not self._char():
            raise MessageError("EXPECT_ARGUMENT_CLOSING_BRACE")
        if self._char() == "}":
            raise MessageError("EMPTY_ARGUMENT")
        name = self._match(_NAME)
        if not name:
            raise MessageError("MALFORMED_ARGUMENT")
        self._match(_SPACE)
        if not self._char():
            raise MessageError("EXPECT_ARGUMENT_CLOSING_BRACE")
        if self._char() == ",":
            raise MessageError("formatted arguments are not checked here")
        if not self._take("}"):
            raise MessageError("MALFORMED_ARGUMENT")
        self.placeholders.add(name)
        return f"{{{name}}}"


@pytest.mark.parametrize(
    ("message", "text", "placeholders"),
    [
        ("Plain text, with it's own apostrophe", "Plain text, with it's own apostrophe", set()),
        (
            "For {minutes} minutes at { port }",
            "For {minutes} minutes at {port}",
            {"minutes", "port"},
        ),
        ("a < b > c, x<-y", "a < b > c, x<-y", set()),
        (
            "Send '<'key> or '{'braces'}', it''s '<here>'",
            "Send <key> or {braces}, it's <here>",
            set(),
        ),
        ("<b>bold</b> and <br/>", "bold and <br/>", set()),
        ("Unclosed quote '{x", "Unclosed quote {x", set()),
    ],
)
def test_parser_reads_as_the_frontend(message: str, text: str, placeholders: set[str]) -> None:
    parsed = Message(message)
    assert (parsed.text, parsed.placeholders) == (text, placeholders)


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ("Clients send it as `X-AUTHKEY: <key>`.", "UNCLOSED_TAG"),
        ("<b>bold</i>", "UNMATCHED_CLOSING_TAG"),
        ("stray </b>", "UNMATCHED_CLOSING_TAG"),
        ("<b attr>x</b>", "INVALID_TAG"),
        ("{}", "EMPTY_ARGUMENT"),
        ("{port", "EXPECT_ARGUMENT_CLOSING_BRACE"),
        ("{two words}", "MALFORMED_ARGUMENT"),
        ("{count, plural, one {#} other {#}}", "formatted arguments are not checked here"),
    ],
)
def test_parser_fails_as_the_frontend(message: str, error: str) -> None:
    with pytest.raises(MessageError, match=f"^{re.escape(error)}$"):
        Message(message)


def _strings(document: dict[str, Any], path: str = "") -> Iterator[tuple[str, str]]:
    for key, value in document.items():
        if isinstance(value, dict):
            yield from _strings(value, f"{path}{key}.")
        else:
            yield f"{path}{key}", value


def _load(path: Path) -> dict[str, str]:
    return dict(_strings(json.loads(path.read_text(encoding="utf-8"))))


STRINGS = _load(COMPONENT / "strings.json")


def test_languages() -> None:
    assert LANGUAGES == ["de", "en", "fr", "nl"]
    assert _load(COMPONENT / "translations" / "en.json") == STRINGS


@pytest.mark.parametrize("language", ["strings", *LANGUAGES])
def test_every_string_parses_with_the_placeholders_of_strings_json(language: str) -> None:
    """Each string parses, and names exactly the placeholders its English original names."""
    path = COMPONENT / (
        "strings.json" if language == "strings" else f"translations/{language}.json"
    )
    translated = _load(path)
    assert translated.keys() == STRINGS.keys()
    failed = {
        key: read
        for key, message in translated.items()
        if isinstance(read := _read(message), str) or read != _read(STRINGS[key])
    }
    assert failed == {}


def _read(message: str) -> set[str] | str:
    """Return the placeholders of ``message``, or the frontend's error for it."""
    try:
        return Message(message).placeholders
    except MessageError as err:
        return str(err)
