"""The plain-Python packages import no Home Assistant; the meter layer needs no store."""

from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys

import pytest

COMPONENT = Path(__file__).parent.parent / "custom_components" / "smartmeter"
HA_FREE = (
    "meter",
    "reader",
    "store",
    "api",
    "longterm",
    "pvoutput",
    "forward",
    "enedis",
    "solarlog",
)

# Imports every module of a package with Home Assistant unavailable, and without running the
# integration's __init__ (the glue): prints the integration's modules that got imported.
_PROBE = """
import importlib, json, pkgutil, sys, types
sys.modules["homeassistant"] = None
integration = types.ModuleType("custom_components.smartmeter")
integration.__path__ = [sys.argv[2]]
sys.modules["custom_components.smartmeter"] = integration
package = importlib.import_module(f"custom_components.smartmeter.{sys.argv[1]}")
for module in pkgutil.iter_modules(package.__path__):
    importlib.import_module(f"{package.__name__}.{module.name}")
print(json.dumps(sorted(name for name in sys.modules if name.startswith(integration.__name__))))
"""


def imported_by(package: str) -> set[str]:
    """Return the integration's packages (and modules) importing all of package brings in."""
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, package, str(COMPONENT)],
        capture_output=True,
        check=True,
        text=True,
        cwd=COMPONENT.parent.parent,
    )
    names = json.loads(result.stdout)
    return {name.removeprefix("custom_components.smartmeter.") for name in names[1:]}


@pytest.mark.parametrize("package", HA_FREE)
def test_plain_packages_import_without_home_assistant(package: str) -> None:
    """Each imports with Home Assistant unavailable, and brings in no glue."""
    layers = {name.partition(".")[0] for name in imported_by(package)}
    assert layers <= set(HA_FREE), layers - set(HA_FREE)


def test_the_meter_layer_needs_no_store() -> None:
    assert {name.partition(".")[0] for name in imported_by("meter")} == {"meter"}
