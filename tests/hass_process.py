"""A real ``hass`` process and meter simulators, for the browser test and the process benchmark.

A fresh configuration directory gets the integration symlinked in, a configuration.yaml and
http's stored settings (the port as the UI stores it: http's YAML would be migrated, to be
confirmed). Every process started here is stopped by its id.
"""

from __future__ import annotations

import json
from pathlib import Path
import re
import socket
import subprocess
import sys
import threading
from typing import Any

from homeassistant.components.http.config import (
    HTTP_STORAGE_SCHEMA,
    STORAGE_MINOR_VERSION as HTTP_STORAGE_MINOR_VERSION,
    STORAGE_VERSION as HTTP_STORAGE_VERSION,
)
import pytest

from .meters import TELEGRAMS

REPO = Path(__file__).resolve().parents[1]
# How long Home Assistant may take to start on a machine busy with other work.
START_SECONDS = 180


def free_port() -> int:
    """Return a TCP port free on the loopback address now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prepare_config(config: Path, configuration: str) -> int:
    """Make a fresh configuration directory for ``hass``; return the port its http serves on."""
    (config / "custom_components").mkdir(parents=True)
    (config / "custom_components" / "smartmeter").symlink_to(
        REPO / "custom_components" / "smartmeter"
    )
    (config / "configuration.yaml").write_text(configuration)
    port = free_port()
    (config / ".storage").mkdir()
    stable = HTTP_STORAGE_SCHEMA({"server_port": port, "server_host": ["127.0.0.1"]})
    (config / ".storage" / "http").write_text(
        json.dumps(
            {
                "version": HTTP_STORAGE_VERSION,
                "minor_version": HTTP_STORAGE_MINOR_VERSION,
                "key": "http",
                "data": {"stable": stable, "pending": None, "yaml_migration_done": True},
            }
        )
    )
    return port


def serve(module: str, *args: str) -> tuple[subprocess.Popen[str], int]:
    """Start a simulator on a free port (unless ``args`` name one); return it and its port."""
    process = subprocess.Popen(
        [sys.executable, "-m", module, "--port", "0", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    announced = re.search(r"127\.0\.0\.1:(\d+)", process.stdout.readline())
    assert announced, f"{module} did not start"
    return process, int(announced[1])


def start_simulator(template: str, *args: str) -> tuple[subprocess.Popen[str], int]:
    """Start a meter simulator on a free port (unless ``args`` name one); return it and its port."""
    return serve("meter_simulator", "--telegram", str(TELEGRAMS / template), *args)


def stop(process: subprocess.Popen[Any]) -> None:
    """Stop a process we started, by its id: politely, then for good."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def start_home_assistant(config: Path, log: Path) -> subprocess.Popen[bytes]:
    """Start ``hass``; return it once it is up, its output copied to ``log`` all along."""
    hass = subprocess.Popen(
        [REPO / ".venv" / "bin" / "hass", "--config", config, "--skip-pip"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    initialized = threading.Event()

    def copy_output() -> None:
        assert hass.stdout is not None
        with log.open("wb") as output:
            for line in hass.stdout:
                output.write(line)
                output.flush()
                if b"Home Assistant initialized in" in line:
                    initialized.set()
        initialized.set()  # it ended

    threading.Thread(target=copy_output, name="hass-output", daemon=True).start()
    if not initialized.wait(START_SECONDS) or hass.poll() is not None:
        stop(hass)
        pytest.fail(f"Home Assistant did not start: {log.read_text()[-3000:]}")
    return hass
