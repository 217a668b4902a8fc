"""Backups copy each meter's SQLite files while readings keep coming: the copies are whole.

Through Home Assistant with the real http component, the meter's database and forward queue in
the configuration folder, and v1 telegrams posted concurrently as a datalogger catching up
sends them.
"""

from __future__ import annotations

from pathlib import Path
import shutil
import sqlite3
from typing import Any

from custom_components.smartmeter.store.frozen import frozen_file
from custom_components.smartmeter.store.store import ReadingStore

from .streams import stream


def rows(path: Path, query: str) -> list[tuple[Any, ...]]:
    """Run a query on a SQLite file (a copy, or a closed meter's)."""
    connection = sqlite3.connect(path)
    try:
        return connection.execute(query).fetchall()
    finally:
        connection.close()


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
