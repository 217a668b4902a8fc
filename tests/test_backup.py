"""Backups copy each meter's SQLite files while readings keep coming: the copies are whole.

Through Home Assistant with the real http component, the meter's database and forward queue in
the configuration folder, and v1 telegrams posted concurrently as a datalogger catching up
sends them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from datetime import timedelta
import logging
from pathlib import Path
import shutil
import sqlite3
import tarfile
import threading
from typing import Any

from aiohttp import ClientTimeout, web
from aiohttp.test_utils import TestClient, TestServer
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from bench.simulated import START, simulated_telegrams
from custom_components.smartmeter import backup as backup_platform
from custom_components.smartmeter.backup import (
    HOLD_START_TIMEOUT,
    HOLD_TIMEOUT,
    async_post_backup,
    async_pre_backup,
)
from custom_components.smartmeter.const import DOMAIN
from custom_components.smartmeter.models import SmartMeterConfigEntry
from custom_components.smartmeter.store.frozen import frozen_file
from custom_components.smartmeter.store.model import datetime_to_us
from custom_components.smartmeter.store.store import ReadingStore

from .common import setup_entry, until
from .streams import stream

KEY = "B" * 64
V1 = "/api/v1/datalogger/dsmrreading"
# A datalogger catching up: one telegram a second of a simulated DSMR 5 meter.
TELEGRAMS = simulated_telegrams(0, 240)


@pytest.fixture
def hass_config_dir(hass_tmp_config_dir: str) -> str:
    """A configuration folder of the test's own, which the backup copies from."""
    return hass_tmp_config_dir


@pytest.fixture
async def refusing_target(socket_enabled: None) -> AsyncIterator[str]:
    """A DSMR-reader that refuses the key, so every forwarded telegram stays queued."""

    async def dsmrreading(_request: web.Request) -> web.Response:
        return web.Response(status=403, text="Invalid auth key")

    app = web.Application()
    app.router.add_post(V1, dsmrreading)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield f"{server.make_url(V1)} WRONG"
    await server.close()


def push_entry(**options: Any) -> MockConfigEntry:
    """A push-only DSMR 5 meter with the API on; its files in the configuration folder."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Datalogger",
        unique_id="backup-meter",
        data={"connection_type": "push", "specification": "5"},
        options={"api_enabled": True, "api_key": KEY, **options},
    )


class Burst:
    """Concurrent v1 POSTs of TELEGRAMS, each remembered with its answer."""

    def __init__(self, client: TestClient[Any, Any]) -> None:
        """Post through client."""
        self._client = client
        self.posts: dict[int, asyncio.Task[tuple[int, str]]] = {}

    def post(self, indices: Iterable[int]) -> None:
        """Start posting these telegrams, all at once."""
        for index in indices:
            self.posts[index] = asyncio.create_task(self._post(TELEGRAMS[index]))

    def answered(self) -> set[int]:
        """Return the telegrams answered so far."""
        return {index for index, post in self.posts.items() if post.done()}

    async def answers(self) -> dict[int, tuple[int, str]]:
        """Wait for every answer; return them by telegram."""
        return {index: await post for index, post in self.posts.items()}

    async def _post(self, telegram: str) -> tuple[int, str]:
        # Without a time limit, as DSMR-reader's datalogger: the tests move the clock on.
        response = await self._client.post(
            V1,
            data={"telegram": telegram},
            headers={"X-AUTHKEY": KEY},
            timeout=ClientTimeout(total=None),
        )
        return response.status, await response.text()


async def post_during_backup(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator
) -> tuple[SmartMeterConfigEntry, Burst]:
    """Set up a meter, start a backup, and post the first telegram, which waits for its end."""
    entry: SmartMeterConfigEntry = push_entry()
    await setup_entry(hass, entry)
    burst = Burst(await hass_client_no_auth())
    await async_pre_backup(hass)
    burst.post([0])
    # Shown by the push-only meter once taken for the store.
    await until(hass, lambda: entry.runtime_data.coordinator.last_frame == TELEGRAMS[0].strip())
    return entry, burst


def rows(path: Path, query: str) -> list[tuple[Any, ...]]:
    """Run a query on a SQLite file (a copy, or a closed meter's)."""
    connection = sqlite3.connect(path)
    try:
        return connection.execute(query).fetchall()
    finally:
        connection.close()


# What the refusing target makes the forwarder log, once.
REFUSED = r"refuses all telegrams \(HTTP 403: Invalid auth key\)"


def timestamp_us(index: int) -> int:
    """Return the time of telegram index as stored: µs since the epoch."""
    return datetime_to_us(START + timedelta(seconds=index))


@pytest.mark.allow_log(REFUSED)
async def test_backup_during_ingest_burst(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, refusing_target: str
) -> None:
    """A backup mid-burst copies whole files; readings posted meanwhile wait and are kept.

    The database file alone (without its -wal) has every reading acknowledged before the
    backup, and none of those posted during it, which are acknowledged once it ends.
    """
    entry = push_entry(forward_targets=refusing_target)
    await setup_entry(hass, entry)
    # A meter that ran before: its tables are in the database file, not only in the log.
    assert await hass.config_entries.async_reload(entry.entry_id)
    config = Path(hass.config.config_dir)
    database = config / f"smartmeter_{entry.entry_id}.db"
    queue = config / f"smartmeter_{entry.entry_id}_forward.db"
    forwarder = entry.runtime_data.forwarder
    assert forwarder is not None
    burst = Burst(await hass_client_no_auth())
    burst.post(range(160))
    await until(hass, lambda: len(burst.answered()) >= 40)
    acknowledged = burst.answered()
    (forwarded_before,) = (stats.waiting for stats in forwarder.stats().values())
    await async_pre_backup(hass)
    # During the backup: more telegrams, which reach the store and the forward queue.
    burst.post(range(160, 240))
    await until(hass, lambda: next(iter(forwarder.stats().values())).waiting == 240)
    held = set(range(160, 240))
    assert not burst.answered() & held
    await hass.async_add_executor_job(shutil.copyfile, database, config / "copy.db")
    await hass.async_add_executor_job(shutil.copyfile, queue, config / "copy_forward.db")
    assert not burst.answered() & held
    await async_post_backup(hass)

    answers = await burst.answers()
    assert set(answers.values()) == {(201, "")}
    assert await hass.config_entries.async_unload(entry.entry_id)
    live = rows(database, "SELECT timestamp, * FROM dsmr_reading ORDER BY id")
    assert sorted(row[0] for row in live) == [timestamp_us(index) for index in range(240)]
    copy = config / "copy.db"
    assert rows(copy, "PRAGMA integrity_check") == [("ok",)]
    copied = rows(copy, "SELECT timestamp, * FROM dsmr_reading ORDER BY id")
    # Every acknowledged reading, exactly as the live database has it; none of the held ones.
    assert copied == live[: len(copied)]
    copied_times = {row[0] for row in copied}
    assert copied_times >= {timestamp_us(index) for index in acknowledged}
    assert not copied_times & {timestamp_us(index) for index in held}

    copy_queue = config / "copy_forward.db"
    assert rows(copy_queue, "PRAGMA integrity_check") == [("ok",)]
    queued = rows(queue, "SELECT * FROM item ORDER BY id")
    # As the API takes them: stripped.
    assert sorted(row[2] for row in queued) == sorted(telegram.strip() for telegram in TELEGRAMS)
    copied_queue = rows(copy_queue, "SELECT * FROM item ORDER BY id")
    assert len(copied_queue) >= forwarded_before
    assert copied_queue == queued[: len(copied_queue)]
    assert not {row[2] for row in copied_queue} & {TELEGRAMS[index].strip() for index in held}


@pytest.mark.allow_log(REFUSED)
async def test_home_assistant_backup_during_ingest_burst(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Home Assistant's own backup, made mid-burst, restores to a whole database.

    The backup's database file alone has every reading acknowledged before the backup began.
    """
    entry = push_entry()
    await setup_entry(hass, entry)
    assert await hass.config_entries.async_reload(entry.entry_id)
    assert await async_setup_component(hass, "backup", {})
    burst = Burst(await hass_client_no_auth())
    acknowledged: set[int] = set()

    async def pre_backup(hass: HomeAssistant) -> None:
        acknowledged.update(burst.answered())
        await async_pre_backup(hass)

    monkeypatch.setattr(backup_platform, "async_pre_backup", pre_backup)
    burst.post(range(160))
    await until(hass, lambda: len(burst.answered()) >= 40)
    await hass.services.async_call("backup", "create", blocking=True)
    assert acknowledged
    assert set((await burst.answers()).values()) == {(201, "")}

    config = Path(hass.config.config_dir)
    (backup,) = (config / "backups").glob("*.tar")
    name = f"smartmeter_{entry.entry_id}.db"
    restored = config / "restored.db"
    with tarfile.open(backup) as outer:
        inner = outer.extractfile("homeassistant.tar.gz")
        assert inner is not None
        with tarfile.open(fileobj=inner, mode="r:gz") as core:
            copied = core.extractfile(f"data/{name}")
            assert copied is not None
            restored.write_bytes(copied.read())
    assert rows(restored, "PRAGMA integrity_check") == [("ok",)]
    copied_times = {row[0] for row in rows(restored, "SELECT timestamp FROM dsmr_reading")}
    assert copied_times >= {timestamp_us(index) for index in acknowledged}
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.allow_log(r"^The backup has not ended within 30 minutes")
async def test_backup_that_never_ends_times_out(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Without the backup's end, the readings are written after HOLD_TIMEOUT, with a warning."""
    entry, burst = await post_during_backup(hass, hass_client_no_auth)
    async_fire_time_changed(hass, dt_util.utcnow() + HOLD_TIMEOUT - timedelta(seconds=1))
    await hass.async_block_till_done()
    assert not burst.answered()
    async_fire_time_changed(hass, dt_util.utcnow() + HOLD_TIMEOUT)
    assert await burst.answers() == {0: (201, "")}
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name.startswith("custom_components")
    ]
    assert warnings == [
        "The backup has not ended within 30 minutes: the meters write their readings again, "
        "so its copies of their databases may be inconsistent"
    ]
    # The backup's end, late: its copy may have been made while the meter wrote.
    with pytest.raises(HomeAssistantError) as raised:
        await async_post_backup(hass)
    assert raised.value.translation_key == "backup_not_held"
    assert raised.value.translation_placeholders == {"minutes": "30"}
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_unload_during_backup(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator
) -> None:
    """Unloading a held meter is prompt and writes what waited; the backup's end reports it."""
    entry, burst = await post_during_backup(hass, hass_client_no_auth)
    store = entry.runtime_data.store
    try:
        async with asyncio.timeout(10):
            assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        # Should the unload hang, the writer must still end for the run to end.
        store.resume_after_backup()
    assert await burst.answers() == {0: (201, "")}
    database = Path(hass.config.path(f"smartmeter_{entry.entry_id}.db"))
    assert rows(database, "SELECT timestamp FROM dsmr_reading") == [(timestamp_us(0),)]
    with pytest.raises(HomeAssistantError) as raised:
        await async_post_backup(hass)
    assert raised.value.translation_key == "backup_not_held"


@pytest.mark.allow_log(
    REFUSED,
    r"^Telegram could not be queued for forwarding: the forward queue is closed",
    # The sender may be at the closed queue before the test is done.
    r"^Forwarding to .* failed",
)
async def test_failing_hold_fails_the_backup_and_holds_nothing(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, refusing_target: str
) -> None:
    """A forward queue that cannot be held fails the backup; the store is not left held."""
    entry: SmartMeterConfigEntry = push_entry(forward_targets=refusing_target)
    await setup_entry(hass, entry)
    forwarder = entry.runtime_data.forwarder
    assert forwarder is not None
    await hass.async_add_executor_job(forwarder.queue.close)
    with pytest.raises(HomeAssistantError) as raised:
        await async_pre_backup(hass)
    assert raised.value.translation_key == "backup_hold_failed"
    assert raised.value.translation_placeholders == {"error": "the forward queue is closed"}
    burst = Burst(await hass_client_no_auth())
    burst.post([0])
    assert await burst.answers() == {0: (201, "")}
    # HA calls the end of a backup whose start failed: nothing to do.
    await async_post_backup(hass)
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_busy_writer_fails_the_backup_in_time(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator
) -> None:
    """A writer that cannot hold within HOLD_START_TIMEOUT fails the backup and holds nothing."""
    entry = push_entry()
    await setup_entry(hass, entry)
    store = entry.runtime_data.store
    # The writer busy with something else (a long processing run) until released.
    release = threading.Event()
    busy = store.writer.run(release.wait)
    try:
        starting = asyncio.create_task(async_pre_backup(hass))
        await until(hass, lambda: "smartmeter_backup" in hass.data)
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=HOLD_START_TIMEOUT))
        with pytest.raises(HomeAssistantError) as raised:
            await starting
    finally:
        release.set()
    assert raised.value.translation_key == "backup_hold_failed"
    assert raised.value.translation_placeholders == {
        "error": "the readings queued were not written within 60 s"
    }
    await asyncio.wrap_future(busy)
    burst = Burst(await hass_client_no_auth())
    burst.post([0])
    assert await burst.answers() == {0: (201, "")}
    await async_post_backup(hass)
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_backup_with_postgresql_holds_nothing(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, postgres_url: str
) -> None:
    """A database on PostgreSQL is not in the backup: readings are written during it."""
    entry = push_entry(database_url=postgres_url)
    await setup_entry(hass, entry)
    await async_pre_backup(hass)
    burst = Burst(await hass_client_no_auth())
    burst.post([0, 1])
    assert await burst.answers() == {0: (201, ""), 1: (201, "")}
    await async_post_backup(hass)
    assert await hass.config_entries.async_unload(entry.entry_id)


def test_writer_hold_queues_submissions_until_resumed(tmp_path: Path) -> None:
    """Submissions during a hold wait; resume writes them; a second resume finds no hold."""
    store = ReadingStore.open(f"sqlite:///{tmp_path / 'r.db'}")
    try:
        readings = stream(range(4))
        before = store.writer.submit("m", readings[:2])
        assert store.hold_for_backup().result() is True
        assert before.done()
        during = store.writer.submit("m", readings[2:])
        assert rows(tmp_path / "r.db", "SELECT count(*) FROM dsmr_reading") == [(2,)]
        assert not during.done()
        assert store.resume_after_backup() is True
        assert len(during.result()) == 2
        assert store.resume_after_backup() is False
    finally:
        store.close()


def test_frozen_file_tells_when_a_reader_kept_the_checkpoint_back(tmp_path: Path) -> None:
    """Another reader of an older snapshot: the file lacks the newest commits, and says so."""
    path = tmp_path / "f.db"
    writer = sqlite3.connect(path, autocommit=True)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("CREATE TABLE t (x INTEGER)")
    other = sqlite3.connect(path, autocommit=True)
    other.execute("BEGIN")
    other.execute("SELECT count(*) FROM t").fetchone()
    writer.execute("INSERT INTO t VALUES (1)")
    holder = sqlite3.connect(path, autocommit=True, timeout=0)
    with frozen_file(holder) as complete:
        assert complete is False
    other.execute("ROLLBACK")
    with frozen_file(holder) as complete:
        assert complete is True
        writer.execute("INSERT INTO t VALUES (2)")
        writer.execute("PRAGMA wal_checkpoint(PASSIVE)")
        shutil.copyfile(path, tmp_path / "copy.db")
    # The file alone: the first row, checkpointed; the second stayed in the log.
    assert rows(tmp_path / "copy.db", "SELECT x FROM t") == [(1,)]
    assert rows(path, "SELECT x FROM t") == [(1,), (2,)]
    for connection in (writer, other, holder):
        connection.close()
