"""Request bodies and content negotiation as Django 3.2 and DRF 3.14 do them (no HA)."""

from __future__ import annotations

import pytest

from custom_components.smartmeter.api.negotiation import (
    JSON_RENDERER,
    NegotiationError,
    Renderer,
    select_renderer,
)
from custom_components.smartmeter.api.parsers import BodyError, parse_data, parse_header, parse_post

FORM = "application/x-www-form-urlencoded"
YAML = Renderer("application/vnd.oai.openapi", "openapi")
OPENAPI_JSON = Renderer("application/vnd.oai.openapi+json", "openapi-json")


def test_parse_header() -> None:
    """Django's parse_header: lower-case main value, quoted and RFC 2231 parameters."""
    assert parse_header('Multipart/Form-Data; Boundary="a;b"; charset=latin-1') == (
        "multipart/form-data",
        {"boundary": "a;b", "charset": "latin-1"},
    )
    assert parse_header("form-data; name*=utf-8''t%C3%A9st; x") == ("form-data", {"name": "tést"})
    # A charset Python does not know: left as it came.
    assert parse_header("form-data; name*=bogus''t%C3%A9st") == (
        "form-data",
        {"name": "bogus''t%C3%A9st"},
    )


def test_form_as_querydict() -> None:
    """Invalid UTF-8 makes the whole body Latin-1; bad escapes become U+FFFD; last value wins."""
    form = parse_post(b"telegram=\xff&x=%FF+y&telegram=2&flag", FORM)
    assert form.getall("telegram") == ["\xff", "2"]
    assert (form["x"], form["flag"]) == ("\ufffd y", "")
    assert parse_post(b"a=%E9", f"{FORM}; charset=latin-1")["a"] == "\xe9"
    assert parse_post(b"a=%E9", f"{FORM}; charset=bogus")["a"] == "\ufffd"
    assert dict(parse_post(b"telegram=x", "application/json")) == {}


def test_multipart_as_django() -> None:
    """Named parts are fields, files and nameless parts are not; the boundary must be valid."""
    body = (
        b'preamble\r\n--b\r\nContent-Disposition: form-data; name="t"\r\n\r\nx\xff\r\n'
        b'--b\r\nContent-Disposition: form-data; name="f"; filename="f.txt"\r\n\r\nfile\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nnameless\r\n"
        b'--b\r\nContent-Disposition: form-data; name="e"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\naGk=\r\n--b--\r\n"
    )
    form = parse_post(body, "multipart/form-data; boundary=b")
    assert list(form.items()) == [("t", "x\ufffd"), ("e", "hi")]
    for content_type, shown in (
        ("multipart/form-data", "None"),
        ('multipart/form-data; boundary="a "', "a "),
        ("multipart/form-data; boundary=" + "x" * 202, "x" * 202),
    ):
        with pytest.raises(BodyError, match=f"^Invalid boundary in multipart: {shown}$"):
            parse_post(body, content_type)
    with pytest.raises(BodyError, match=r"^Invalid non-ASCII Content-Type in multipart"):
        parse_post(body, "multipart/form-data; boundary=é")


@pytest.mark.parametrize(
    ("body", "content_type", "status", "detail"),
    [
        (
            b'{"a": NaN}',
            "application/json",
            400,
            "JSON parse error - Out of range float values are not JSON compliant: 'NaN'",
        ),
        (
            b"\xff",
            "application/json",
            400,
            "JSON parse error - 'utf-8' codec can't decode "
            "byte 0xff in position 0: invalid start byte",
        ),
        (
            b"x",
            "multipart/form-data",
            400,
            "Multipart form parse error - Invalid boundary in multipart: None",
        ),
        (
            b"x",
            "text/plain; charset=utf-8",
            415,
            'Unsupported media type "text/plain; charset=utf-8" in request.',
        ),
        (b"x", "", 415, 'Unsupported media type "" in request.'),
    ],
    ids=["nan", "not-utf8", "no-boundary", "text", "no-type"],
)
def test_drf_refuses(body: bytes, content_type: str, status: int, detail: str) -> None:
    """What DRF's parsers refuse, with their status and message."""
    with pytest.raises(BodyError) as refused:
        parse_data(body, content_type)
    assert (refused.value.status, refused.value.body) == (status, {"detail": detail})


def test_json_too_deep() -> None:
    """JSON nested beyond what Python's parser takes: a parse error, not a server error."""
    with pytest.raises(BodyError) as refused:
        parse_data(b"[" * 100_000, "application/json")
    assert refused.value.status == 400
    assert refused.value.body["detail"].startswith("JSON parse error - ")


def test_drf_reads() -> None:
    """JSON by its charset (also for wildcard types), forms as Django, no body as no data."""
    assert parse_data(b'{"a": "\xe9"}', "application/json; charset=latin-1") == {"a": "\xe9"}
    assert parse_data(b"[1]", "*/*") == [1]
    assert parse_data(b"[1]", "application/*") == [1]
    assert dict(parse_data(b"a=%FF", FORM)) == {"a": "\ufffd"}
    assert parse_data(b"", "text/plain") == {}


@pytest.mark.parametrize(
    ("accept", "format_param", "chosen"),
    [
        (None, None, YAML),
        ("text/html, */*", None, YAML),
        ("application/json, application/*", None, YAML),
        ("application/vnd.oai.openapi+json, */*", None, OPENAPI_JSON),
        ("*/*, application/vnd.oai.openapi+json;q=0.1", None, OPENAPI_JSON),
        ("text/html", "openapi-json", None),
        (None, "openapi-json", OPENAPI_JSON),
    ],
)
def test_negotiation(accept: str | None, format_param: str | None, chosen: Renderer | None) -> None:
    """The most specific Accept entries first, whatever their q; ?format= filters renderers."""
    if chosen is None:
        with pytest.raises(NegotiationError):
            select_renderer((YAML, OPENAPI_JSON), accept, format_param)
        return
    assert select_renderer((YAML, OPENAPI_JSON), accept, format_param) == chosen


def test_negotiation_refusals() -> None:
    """406 when Accept names nothing given (an empty header too); 404 for an unknown format."""
    for accept in ("text/html", "", "application/xml, text/*"):
        with pytest.raises(NegotiationError) as refused:
            select_renderer((JSON_RENDERER,), accept, None)
        assert (refused.value.status, refused.value.body) == (
            406,
            {"detail": "Could not satisfy the request Accept header."},
        )
    with pytest.raises(NegotiationError) as refused:
        select_renderer((JSON_RENDERER,), None, "api")
    assert (refused.value.status, refused.value.body) == (404, {"detail": "Not found."})
    assert select_renderer((JSON_RENDERER,), "application/json", "json") == JSON_RENDERER
