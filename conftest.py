"""Fixtures shared by the tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
import faulthandler
import logging
import os
import sys
import threading
from unittest.mock import PropertyMock, patch

import pytest

from custom_components.smartmeter.reader.reader import MeterReader
from tests.meters import PtyMeter, TcpMeter

# The Home Assistant test plugin logs every SQL statement (for the recorder's tests) and aiohttp's
# test server every request; Home Assistant itself does neither. A log line per statement or
# request would dominate the store's and the API's cost in tests and benchmarks alike.
for _chatty in ("sqlalchemy.engine", "aiohttp.access"):
    logging.getLogger(_chatty).setLevel(logging.WARNING)

# A throwaway PostgreSQL cluster for the store's tests.
pytest_plugins = ["tests.postgres"]

# How long the interpreter may take to exit once pytest is done.
EXIT_GRACE_SECONDS = 30.0
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


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load our integration from custom_components."""


@pytest.fixture(autouse=True)
def fast_reader() -> Iterator[None]:
    """Shorten the reader's watchdog and backoff so fault tests take seconds."""
    with (
        patch.object(MeterReader, "silence_timeout", 1.5),
        patch.object(MeterReader, "backoff_start", 0.05),
        patch.object(MeterReader, "backoff_max", 0.2),
        patch("custom_components.smartmeter.config_flow.PROBE_TIMEOUT", 3.0),
        patch("custom_components.smartmeter.config_flow.PER_SETTING_TIMEOUT", 1.0),
    ):
        yield


@pytest.fixture
async def tcp_meter(socket_enabled: None) -> AsyncIterator[TcpMeter]:
    """A meter on a localhost TCP port, driven by the test."""
    meter = TcpMeter()
    await meter.start()
    yield meter
    await meter.stop()


@pytest.fixture
def pty_meter() -> Iterator[PtyMeter]:
    """A meter on a pseudo-terminal at 115200 baud."""
    meter = PtyMeter()
    yield meter
    meter.close()


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
