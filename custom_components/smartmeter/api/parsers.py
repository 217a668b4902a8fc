"""Request bodies read as DSMR-reader reads them: Django 3.2's ``request.POST``, DRF 3.14's parsers.

- Form bodies (``application/x-www-form-urlencoded``) are Django's ``QueryDict``: the body is
  decoded with the request's charset, or as Latin-1 when it is not valid in it (no body fails);
  percent-escapes that are not valid in the charset become U+FFFD.
- Multipart bodies are Django's ``MultiPartParser``: the boundary must be a valid one (else
  "Invalid boundary in multipart: ..."); parts without a ``Content-Disposition`` name, or with a
  file name, hold no form field; values are decoded with U+FFFD for bytes not in the charset.
- JSON bodies are DRF's ``JSONParser``: decoded with the charset, ``NaN`` and ``Infinity``
  refused; any failure is "JSON parse error - ...".
- Any other content type is DRF's 415; an empty body is no data, whatever its type.

The charset is the ``Content-Type``'s ``charset`` when Python knows it, else UTF-8.
"""

from __future__ import annotations

import base64
import binascii
import codecs
from collections.abc import Iterator
import contextlib
import json
import re
from typing import Any, Final
from urllib.parse import parse_qsl, unquote

from multidict import MultiDict

FORM: Final = "application/x-www-form-urlencoded"
MULTIPART: Final = "multipart/form-data"
JSON: Final = "application/json"
# DRF's parsers, in DSMR-reader's (the default) order.
DRF_PARSERS: Final = (JSON, FORM, MULTIPART)

# cgi.valid_boundary, which Django's multipart parser checks the boundary with.
_VALID_BOUNDARY: Final = re.compile(r"^[ -~]{0,200}[!-~]$")
# Django reads the first 1024 bytes of a part for its headers.
_MAX_PART_HEADER: Final = 1024


class BodyError(ValueError):
    """A body the parser refuses: ``status`` with DRF's ``{"detail": message}``."""

    def __init__(self, message: str, status: int = 400) -> None:
        """Keep the message and the status."""
        super().__init__(message)
        self.status = status
        self.body: dict[str, str] = {"detail": message}


def _header_params(line: str) -> Iterator[str]:
    """Split a header value at the ``;`` outside quotes (Django's ``_parse_header_params``)."""
    while line[:1] == ";":
        line = line[1:]
        end = line.find(";")
        while end > 0 and line.count('"', 0, end) % 2:
            end = line.find(";", end + 1)
        if end < 0:
            end = len(line)
        yield line[:end].strip()
        line = line[end:]


def parse_header(line: str) -> tuple[str, dict[str, str]]:
    """Return a header's main value (lower case) and its parameters, as Django parses them.

    A ``name*=charset'language'value`` parameter is decoded, if Python knows the charset.
    """
    main, *params = _header_params(f";{line}")
    result: dict[str, str] = {}
    for param in params:
        name, equals, value = param.partition("=")
        if not equals:
            continue
        name = name.strip().lower()
        value = value.strip()
        extended = name.endswith("*")
        if extended:
            name = name[:-1]
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1].replace("\\\\", "\\").replace('\\"', '"')
        if extended and value.count("'") == 2:
            encoding, _, encoded = value.split("'")
            with contextlib.suppress(LookupError):  # an unknown charset: left as it is
                value = unquote(encoded, encoding=encoding)
        result[name] = value
    return main.lower(), result


def charset(params: dict[str, str]) -> str:
    """Return the body's charset: the ``charset`` parameter if Python knows it, else UTF-8."""
    name = params.get("charset")
    if name:
        try:
            codecs.lookup(name)
        except LookupError:
            pass
        else:
            return name
    return "utf-8"


def _media_type_matches(parser: str, media_type: str) -> bool:
    """DRF's ``media_type_matches``: parameters aside, ``*`` matches any type or subtype."""
    main, _, sub = media_type.partition("/")
    parser_main, _, parser_sub = parser.partition("/")
    return sub in ("*", parser_sub) and main in ("*", parser_main)


def parse_form(body: bytes, encoding: str) -> MultiDict[str]:
    """Return a form-urlencoded body's fields, as Django's ``QueryDict`` reads them."""
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError:
        text = body.decode("iso-8859-1")
    return MultiDict(parse_qsl(text, keep_blank_values=True, encoding=encoding, errors="replace"))


def parse_multipart(body: bytes, content_type: str) -> MultiDict[str]:
    """Return a multipart body's form fields, as Django's ``MultiPartParser`` reads them.

    Raises BodyError where Django raises MultiPartParserError: a ``Content-Type`` that is not
    ASCII, a missing or invalid boundary.
    """
    if not content_type.isascii():
        raise BodyError(f"Invalid non-ASCII Content-Type in multipart: {content_type}")
    _, params = parse_header(content_type)
    boundary = params.get("boundary")
    if not boundary or not _VALID_BOUNDARY.match(boundary):
        raise BodyError(f"Invalid boundary in multipart: {boundary}")
    encoding = charset(params)
    fields: MultiDict[str] = MultiDict()
    # Each part ends before the boundary and the line end in front of it.
    for between in body.split(b"--" + boundary.encode("ascii")):
        part = between.removesuffix(b"\n").removesuffix(b"\r")
        header_end = part.find(b"\r\n\r\n", 0, _MAX_PART_HEADER)
        if header_end < 0:
            continue
        field = _part_field(part[:header_end])
        if field is None:
            continue
        name, transfer_encoding = field
        data = part[header_end + 4 :]
        if transfer_encoding == "base64":
            with contextlib.suppress(binascii.Error):
                data = base64.b64decode(data)
        fields.add(_decoded(name, encoding), data.decode(encoding, errors="replace"))
    return fields


def _decoded(text: str, encoding: str) -> str:
    """Return header text (read as Latin-1) decoded as Django does: in the body's charset."""
    try:
        return text.encode("latin-1").decode(encoding, errors="replace")
    except UnicodeEncodeError:  # decoded already (an RFC 2231 parameter)
        return text


def _part_field(header: bytes) -> tuple[str, str | None] | None:
    """Return a part's field name and transfer encoding; None for a file or a nameless part.

    Header lines Django cannot parse (names that are not ASCII, no ``:``) are skipped.
    """
    disposition: dict[str, str] | None = None
    transfer_encoding: str | None = None
    for line in header.split(b"\r\n"):
        try:
            main, params = parse_header(line.decode("latin-1"))
            name, value = main.split(":", 1)
        except ValueError:
            continue
        if not (main.isascii() and all(key.isascii() for key in params)):
            continue
        name = name.strip()
        if name == "content-disposition":
            disposition = params
        elif name == "content-transfer-encoding":
            transfer_encoding = value.strip()
    if disposition is None or "name" not in disposition or disposition.get("filename"):
        return None
    return disposition["name"].strip(), transfer_encoding


def parse_post(body: bytes, content_type: str) -> MultiDict[str]:
    """Return Django's ``request.POST``: the form fields of a form or multipart body.

    Any other content type has none. Raises BodyError for a multipart body without a valid
    boundary (Django then answers its 400 page).
    """
    media_type, params = parse_header(content_type)
    if media_type == FORM:
        return parse_form(body, charset(params))
    if media_type == MULTIPART:
        return parse_multipart(body, content_type)
    return MultiDict()


def parse_data(body: bytes, content_type: str) -> Any:
    """Return DRF's ``request.data``: a mapping of form fields, or the JSON value.

    Raises BodyError: 400 for a body its parser refuses, 415 for a content type no parser
    takes (with the ``Content-Type`` as sent, as DRF shows it).
    """
    if not body:
        return {}
    media_type, params = parse_header(content_type)
    parser = next((item for item in DRF_PARSERS if _media_type_matches(item, media_type)), None)
    if parser == JSON:
        return _parse_json(body, charset(params))
    if parser == FORM:
        return parse_form(body, charset(params))
    if parser == MULTIPART:
        try:
            return parse_multipart(body, content_type)
        except BodyError as err:
            raise BodyError(f"Multipart form parse error - {err}") from None
    raise BodyError(f'Unsupported media type "{content_type}" in request.', 415)


def _strict_constant(value: str) -> Any:
    raise ValueError(f"Out of range float values are not JSON compliant: {value!r}")


def _parse_json(body: bytes, encoding: str) -> Any:
    try:
        return json.loads(body.decode(encoding), parse_constant=_strict_constant)
    except (ValueError, RecursionError) as err:
        raise BodyError(f"JSON parse error - {err}") from None
