"""Fixtures shared by the tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
import faulthandler
import logging
import os
from pathlib import Path
import re
import sys
import threading
from unittest.mock import PropertyMock, patch

from homeassistant.core import HomeAssistant
import pytest

from custom_components.smartmeter.reader.reader import MeterReader
from tests.common import unload_meters
from tests.meters import PtyMeter, TcpMeter

# The Home Assistant test plugin logs every SQL statement (for the recorder's tests) and aiohttp's
# test server every request; Home Assistant itself does neither. A log line per statement or
# request would dominate the store's and the API's cost in tests and benchmarks alike.
for _chatty in ("sqlalchemy.engine", "aiohttp.access"):
    logging.getLogger(_chatty).setLevel(logging.WARNING)

# A throwaway PostgreSQL cluster for the store's tests.
pytest_plugins = ["tests.postgres"]

# How long the interpreter may take to exit once pytest is done.
EXIT_GRACE_SECONDS = 120.0
_EXIT_STATUS = pytest.StashKey[int]()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """End the process even when a failed test left a thread that never returns.

    A test that timed out can leave an executor job blocked for good (waiting on a stopped
    recorder, say); the interpreter would then wait for it at exit forever. A daemon thread
    ends the process with pytest's status if exiting takes longer than the grace period.
    """
    status = config.stash.get(_EXIT_STATUS, 1)

    def end_stuck_exit() -> None:
        threading.Event().wait(EXIT_GRACE_SECONDS)
        sys.stderr.write("The interpreter did not exit; threads left running:\n")
        faulthandler.dump_traceback(all_threads=True)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)

    threading.Thread(target=end_stuck_exit, name="exit-watchdog", daemon=True).start()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Keep pytest's exit status for the exit watchdog."""
    session.config.stash[_EXIT_STATUS] = exitstatus


_TESTS = Path(__file__).parent / "tests"
_INTEGRATION = "custom_components.smartmeter"
# Home Assistant warns about every custom integration it loads, and asyncio's debug mode about
# slow steps, which depends on the machine's load.
_ALWAYS_ALLOWED = re.compile(r"^We found a custom integration smartmeter |^Executing <.* took ")


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker that lets a test expect warnings from the integration."""
    config.addinivalue_line(
        "markers",
        "allow_log(*patterns): warnings and errors of the integration that this test provokes "
        "on purpose; each pattern is a regular expression searched in the message",
    )


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _about_integration(record: logging.LogRecord) -> bool:
    """Tell whether a record comes from the integration or is Home Assistant's about it."""
    if record.name == _INTEGRATION or record.name.startswith(f"{_INTEGRATION}."):
        return True
    message = record.getMessage()
    return "smartmeter" in message and not _ALWAYS_ALLOWED.search(message)


@pytest.fixture
def integration_log_is_clean(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test whose run logs a warning or error of the integration it did not expect.

    Everything from Home Assistant's start to its stop counts: the fixture is set up before
    ``hass`` (``auto_enable_custom_integrations`` asks for it first) and checks after ``hass``
    has stopped. A test that provokes warnings on purpose lists them with
    ``@pytest.mark.allow_log(r"pattern", ...)``.
    """
    collector = _Collector()
    root = logging.getLogger()
    root.addHandler(collector)
    try:
        yield
    finally:
        root.removeHandler(collector)
    if not request.node.path.is_relative_to(_TESTS):
        return  # benchmarks push the integration to its limits
    allowed = [
        re.compile(pattern)
        for marker in request.node.iter_markers("allow_log")
        for pattern in marker.args
    ]
    unexpected = [
        f"{record.levelname} {record.name}: {record.getMessage()}"
        for record in collector.records
        if _about_integration(record)
        and not any(pattern.search(record.getMessage()) for pattern in allowed)
    ]
    if unexpected:
        pytest.fail("Unexpected log records:\n" + "\n".join(unexpected), pytrace=False)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    integration_log_is_clean: None, enable_custom_integrations: None
) -> None:
    """Load our integration from custom_components; check the log it leaves."""


@pytest.fixture(autouse=True)
def fast_reader() -> Iterator[None]:
    """Shorten the reader's backoff and the flow's listening so fault tests take seconds."""
    with (
        patch.object(MeterReader, "backoff_start", 0.05),
        patch.object(MeterReader, "backoff_max", 0.2),
        patch("custom_components.smartmeter.kinds.p1.flow.PROBE_TIMEOUT", 3.0),
        patch("custom_components.smartmeter.kinds.p1.flow.PER_SETTING_TIMEOUT", 1.0),
    ):
        yield


@pytest.fixture
async def tcp_meter(hass: HomeAssistant, socket_enabled: None) -> AsyncIterator[TcpMeter]:
    """A meter on a localhost TCP port, driven by the test; it outlives the entries."""
    meter = TcpMeter()
    await meter.start()
    yield meter
    await unload_meters(hass)
    await meter.stop()


@pytest.fixture
async def pty_meter(hass: HomeAssistant) -> AsyncIterator[PtyMeter]:
    """A meter on a pseudo-terminal at 115200 baud; it outlives the entries."""
    meter = PtyMeter()
    yield meter
    await unload_meters(hass)
    meter.close()


@pytest.fixture
def short_silence() -> Iterator[None]:
    """Count a meter silent for 1.5 s as gone; only where wanted, as that logs a warning."""
    with patch.object(MeterReader, "silence_timeout", 1.5):
        yield


@pytest.fixture
def all_entities_enabled() -> Iterator[None]:
    """Create the entities that are disabled by default as enabled."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


@pytest.fixture
def hass_config_dir(hass_tmp_config_dir: str) -> str:
    """Give each test its own config directory, so reading databases start empty."""
    return hass_tmp_config_dir
