"""CPU per telegram of a whole Home Assistant process, next to core's dsmr integration.

Measured from outside, as a user's system sees it: real ``hass`` processes (tests/hass_process.py)
from fresh configurations of the same template, each with one meter entry fed by a meter
simulator of its own (shared/telegrams/v5.txt) at 1 and at 5 telegrams a second:

- core ``dsmr`` with its defaults (30 s between entity updates), and with 0 s (every telegram);
- this integration with its defaults (every telegram stored, processed and shown, an energy
  contract, long-term statistics);

with the entities each enables by default, then with all of them enabled (core at 0 s). The
processes of a set run at the same time, so that they share the machine's load; after a warm-up,
ROUNDS rounds of WINDOW seconds each read every process's CPU time (/proc/<pid>/stat, user and
system, all threads: event loop, recorder, store writer, processing) and its recorder's newest
``states`` row, and divide by the telegrams the simulator sent meanwhile. Medians of the rounds,
and their range; then where the time went, by thread (/proc/<pid>/task: the event loop, the
recorder, the store writer, the executor, other).

Run: .venv/bin/python -m pytest bench/bench_process_cpu.py -s -q --no-cov -p no:cacheprovider
(--process-rates 1,5 --process-rounds 3 --process-window 60 are the defaults; the clock ticks
100 times a second, so a minute at 1 telegram a second resolves 0.17 ms a telegram).
It prints figures; it asserts nothing about speed.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import sqlite3
import statistics
import time
from types import MappingProxyType
from typing import Any, Final

from homeassistant.components.dsmr.const import (
    CONF_DSMR_VERSION,
    CONF_SERIAL_ID,
    CONF_SERIAL_ID_GAS,
    CONF_TIME_BETWEEN_UPDATE,
    DSMR_PROTOCOL,
)
from homeassistant.config_entries import (
    STORAGE_KEY,
    STORAGE_VERSION,
    STORAGE_VERSION_MINOR,
    ConfigEntry,
)
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_PROTOCOL
from homeassistant.helpers import entity_registry as er
import pytest

from scripts.develop_seed import METER, meter_entry
from tests.hass_process import (
    free_port,
    prepare_config,
    start_home_assistant,
    start_simulator,
    stop,
)

# Hours of measuring.
pytestmark = pytest.mark.timeout(0)

GAS_METER: Final = "3232323241424344313233343536373839"
# Seconds after the start before measuring: setup, first connections, catching up.
WARM_UP: Final = 60.0
# Home Assistant as scripts/develop configures it, less what a benchmark does not use.
CONFIGURATION: Final = """\
homeassistant:
  name: Benchmark
  country: NL
  currency: EUR
  language: en
  time_zone: Europe/Amsterdam
  unit_system: metric
  latitude: 52.0907
  longitude: 5.1214
  elevation: 5
recorder:
logger:
  default: warning
  logs:
    # Its "initialized" line tells that Home Assistant is up.
    homeassistant.bootstrap: info
"""
_CLOCK_TICKS: Final = os.sysconf("SC_CLK_TCK")
EVENT_LOOP: Final = "event loop"
# Threads by the start of their name (the kernel keeps 15 characters), and what they do.
THREADS: Final = (
    ("Recorder", "recorder"),
    ("smartmeter-stor", "store writer"),
    ("SyncWorker", "executor"),
)
THREAD_KINDS: Final = (EVENT_LOOP, *(kind for _, kind in THREADS), "other")


@dataclass(frozen=True, slots=True)
class Setup:
    """One Home Assistant configuration: which integration, and how it is set up."""

    label: str
    domain: str
    # Core dsmr's seconds between entity updates; None for this integration.
    throttle: int | None = None

    def entry(self, port: int) -> ConfigEntry:
        """Return the meter's config entry, its simulator on port."""
        if self.domain == "dsmr":
            return ConfigEntry(
                data={
                    CONF_HOST: "127.0.0.1",
                    CONF_PORT: port,
                    CONF_DSMR_VERSION: "5",
                    CONF_PROTOCOL: DSMR_PROTOCOL,
                    CONF_SERIAL_ID: METER,
                    CONF_SERIAL_ID_GAS: GAS_METER,
                },
                discovery_keys=MappingProxyType({}),
                domain="dsmr",
                minor_version=1,
                options={CONF_TIME_BETWEEN_UPDATE: self.throttle},
                source="user",
                subentries_data=None,
                title="Meter",
                unique_id=METER,
                version=1,
            )
        return meter_entry(port, "Meter", {})


CORE_DEFAULTS: Final = Setup("core dsmr, 30 s throttle", "dsmr", 30)
CORE_EVERY: Final = Setup("core dsmr, throttle 0", "dsmr", 0)
OURS: Final = Setup("smartmeter", "smartmeter")
# Per entity set, the configurations measured side by side.
SETS: Final = {
    "default entities": (CORE_DEFAULTS, CORE_EVERY, OURS),
    "all entities": (CORE_EVERY, OURS),
}


@dataclass(slots=True)
class Instance:
    """One configuration directory, its meter's simulator port, and its figures."""

    setup: Setup
    config: Path
    port: int
    cpu_ms: list[float] = field(default_factory=list)
    # Per round, CPU ms per telegram of each kind of thread (THREADS), the rest as "other".
    threads: list[dict[str, float]] = field(default_factory=list)
    rows: list[float] = field(default_factory=list)
    entities: int = 0

    def write_entry(self) -> None:
        """Store the meter's entry, as the UI would have."""
        storage = self.config / ".storage"
        document = {
            "version": STORAGE_VERSION,
            "minor_version": STORAGE_VERSION_MINOR,
            "key": STORAGE_KEY,
            "data": {"entries": [self.setup.entry(self.port).as_dict()]},
        }
        (storage / STORAGE_KEY).write_text(json.dumps(document, default=str))

    def registry(self) -> dict[str, Any]:
        return dict(json.loads((self.config / ".storage" / er.STORAGE_KEY).read_text()))

    def enable_all_entities(self) -> None:
        """Enable the entities the integration registered disabled (Home Assistant stopped)."""
        document = self.registry()
        for entity in document["data"]["entities"]:
            if entity["platform"] == self.setup.domain:
                entity["disabled_by"] = None
        (self.config / ".storage" / er.STORAGE_KEY).write_text(json.dumps(document))

    def count_entities(self) -> None:
        """Count the integration's enabled entities (Home Assistant stopped)."""
        self.entities = sum(
            1
            for entity in self.registry()["data"]["entities"]
            if entity["platform"] == self.setup.domain and entity["disabled_by"] is None
        )


def _stat_seconds(stat: Path) -> float:
    """Return the user and system CPU time in a /proc stat file (seconds)."""
    fields = stat.read_text().rsplit(")", 1)[1].split()
    # utime and stime are the 14th and 15th fields; the split starts at the 3rd.
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def _cpu_seconds(pid: int) -> float:
    """Return the CPU time of a process, all its threads, ended ones included (seconds)."""
    return _stat_seconds(Path(f"/proc/{pid}/stat"))


def _thread_seconds(pid: int) -> dict[str, float]:
    """Return the CPU time of a process's running threads by kind (THREADS; seconds)."""
    used = dict.fromkeys(THREAD_KINDS, 0.0)
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            seconds = _stat_seconds(task / "stat")
        except FileNotFoundError:
            continue  # ended meanwhile: its time counts as other
        if task.name == str(pid):
            used[EVENT_LOOP] += seconds
        elif kind := next((kind for prefix, kind in THREADS if name.startswith(prefix)), None):
            used[kind] += seconds
    return used


def _newest_state(config: Path) -> int:
    """Return the id of the recorder's newest states row."""
    database = config / "home-assistant_v2.db"
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)) as connection:
        (newest,) = connection.execute("SELECT coalesce(max(state_id), 0) FROM states").fetchone()
    return int(newest)


@contextmanager
def _running(instances: list[Instance], rate: int, log: Path) -> Iterator[list[int]]:
    """Run each instance's simulator at rate and its Home Assistant; yield their pids."""
    with ExitStack() as stack:
        for instance in instances:
            simulator, _ = start_simulator(
                "v5.txt", "--port", str(instance.port), "--interval", str(1 / rate)
            )
            stack.callback(stop, simulator)
        # Started at the same time: each takes a while on a busy machine.
        with ThreadPoolExecutor(len(instances)) as starting:
            started = [
                starting.submit(
                    start_home_assistant, instance.config, log / f"{instance.config.name}.log"
                )
                for instance in instances
            ]
        # Those that started are stopped however the others fared.
        for future in started:
            if future.exception() is None:
                stack.callback(stop, future.result())
        yield [future.result().pid for future in started]


def _measure(instances: list[Instance], rate: int, rounds: int, window: float, log: Path) -> None:
    """Measure each instance at rate: CPU ms and states rows per telegram, per round."""
    with _running(instances, rate, log) as pids:
        time.sleep(WARM_UP)
        for _ in range(rounds):
            started = time.monotonic()
            cpu = [_cpu_seconds(pid) for pid in pids]
            threads = [_thread_seconds(pid) for pid in pids]
            rows = [_newest_state(instance.config) for instance in instances]
            time.sleep(window)
            telegrams = (time.monotonic() - started) * rate
            for index, instance in enumerate(instances):
                used = _cpu_seconds(pids[index]) - cpu[index]
                instance.cpu_ms.append(used * 1000 / telegrams)
                now = _thread_seconds(pids[index])
                by_kind = {kind: now[kind] - threads[index][kind] for kind in THREAD_KINDS}
                by_kind["other"] = used - sum(by_kind.values())
                instance.threads.append(
                    {kind: seconds * 1000 / telegrams for kind, seconds in by_kind.items()}
                )
                added = _newest_state(instance.config) - rows[index]
                instance.rows.append(added / telegrams)


def _figure(values: list[float], places: int) -> str:
    median = statistics.median(values)
    return f"{median:.{places}f} ({min(values):.{places}f}-{max(values):.{places}f})"


def test_process_cpu(tmp_path: Path, socket_enabled: None, request: pytest.FixtureRequest) -> None:
    rounds = int(request.config.getoption("--process-rounds"))
    window = float(request.config.getoption("--process-window"))
    rates = [int(rate) for rate in str(request.config.getoption("--process-rates")).split(",")]
    results: dict[tuple[str, int], list[Instance]] = {}
    for set_name, setups in SETS.items():
        for rate in rates:
            instances = []
            for number, setup in enumerate(setups):
                config = tmp_path / f"{set_name.split()[0]}-{rate}-{number}"
                prepare_config(config, CONFIGURATION)
                instance = Instance(setup, config, free_port())
                instance.write_entry()
                instances.append(instance)
            if set_name == "all entities":
                # The entities are registered on the first start; enabled, they are added on
                # the next.
                with _running(instances, rate, tmp_path):
                    time.sleep(WARM_UP / 2)
                for instance in instances:
                    instance.enable_all_entities()
            _measure(instances, rate, rounds, window, tmp_path)
            for instance in instances:
                instance.count_entities()
            results[set_name, rate] = instances
    cores = os.cpu_count()
    load = os.getloadavg()[0]
    print(
        f"\n\nWhole Home Assistant process, v5.txt: {rounds} rounds of {window:.0f} s after "
        f"{WARM_UP:.0f} s of warm-up; the processes of a row set run side by side on {cores} "
        f"cores shared with other work (load {load:.1f} at the end). Median (range of rounds)."
    )
    print(
        f"{'entities':17} {'rate':>5} {'configuration':26} {'entities':>8} "
        f"{'CPU ms/telegram':>22} {'states rows/telegram':>22}"
    )
    for (set_name, rate), instances in results.items():
        for instance in instances:
            print(
                f"{set_name:17} {rate:>3}/s {instance.setup.label:26} {instance.entities:>8} "
                f"{_figure(instance.cpu_ms, 2):>22} {_figure(instance.rows, 2):>22}"
            )
        ours = next(instance for instance in instances if instance.setup is OURS)
        core = next(instance for instance in instances if instance.setup is CORE_EVERY)
        ratio = statistics.median(ours.cpu_ms) / statistics.median(core.cpu_ms)
        print(f"{'':17} {'':5} {'ratio to core, throttle 0':26} {ratio:>40.2f}x")
    print("\nWhere the CPU went: ms per telegram by thread, median of the rounds.")
    print(
        f"{'entities':17} {'rate':>5} {'configuration':26} "
        + " ".join(f"{kind:>12}" for kind in THREAD_KINDS)
    )
    for (set_name, rate), instances in results.items():
        for instance in instances:
            medians = " ".join(
                f"{statistics.median(one[kind] for one in instance.threads):>12.2f}"
                for kind in THREAD_KINDS
            )
            print(f"{set_name:17} {rate:>3}/s {instance.setup.label:26} {medians}")
