"""A durable, bounded FIFO of telegrams per forwarding target, in a small SQLite file.

Every method blocks on disk: call them from an executor, never from the event loop. One
connection serves all threads, one call at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
import sqlite3
import threading
from typing import Final, Self

from ..store.frozen import frozen_file

SCHEMA_VERSION: Final = 1

# AUTOINCREMENT: an id is never used twice, so a sender that still holds the id of an item
# dropped for the bound can never remove a newer item by mistake, and ids keep the order.
_SCHEMA: Final = (
    """
    CREATE TABLE item (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        target TEXT NOT NULL,
        telegram TEXT NOT NULL
    )
    """,
    "CREATE INDEX item_target ON item (target, id)",
    """
    CREATE TABLE dropped (
        target TEXT PRIMARY KEY,
        count INTEGER NOT NULL
    ) WITHOUT ROWID
    """,
)

# Stay well below SQLITE_MAX_VARIABLE_NUMBER whatever the build.
_CHUNK: Final = 500


class ForwardQueueError(Exception):
    """The queue's file could not be opened, read or written."""


class ForwardQueue:
    """Per-target FIFOs of telegrams that survive restarts; the oldest go when one is full."""

    def __init__(self, connection: sqlite3.Connection, max_items: int) -> None:
        """Wrap an open connection; use open() instead."""
        self._connection: sqlite3.Connection | None = connection
        self._lock = threading.Lock()
        self.max_items = max_items
        # Queue sizes, counted once per target and then kept up to date.
        self._sizes: dict[str, int] = {}
        # The second connection that keeps the file unchanged for a backup, and its closing.
        self._hold: ExitStack | None = None

    @classmethod
    def open(cls, path: Path, *, max_items: int = 100_000) -> Self:
        """Open (or create) the queue file at path, keeping at most max_items per target."""
        if max_items < 1:
            raise ValueError("max_items must be at least 1")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(path, autocommit=True, check_same_thread=False)
        except (OSError, sqlite3.Error) as err:
            raise ForwardQueueError(f"cannot open the forward queue {path}: {err}") from err
        try:
            _prepare(connection)
        except (sqlite3.Error, ForwardQueueError) as err:
            connection.close()
            if isinstance(err, ForwardQueueError):
                raise
            raise ForwardQueueError(f"cannot open the forward queue {path}: {err}") from err
        return cls(connection, max_items)

    def add(self, targets: Sequence[str], telegram: str) -> None:
        """Queue the telegram once for every target, dropping the oldest beyond the bound."""
        unique = list(dict.fromkeys(targets))
        with self._transaction() as connection:
            for target in unique:
                size = self._size(connection, target) + 1
                connection.execute(
                    "INSERT INTO item (target, telegram) VALUES (?, ?)", (target, telegram)
                )
                excess = size - self.max_items
                if excess > 0:
                    connection.execute(
                        "DELETE FROM item WHERE id IN "
                        "(SELECT id FROM item WHERE target = ? ORDER BY id LIMIT ?)",
                        (target, excess),
                    )
                    connection.execute(
                        "INSERT INTO dropped (target, count) VALUES (?, ?) "
                        "ON CONFLICT (target) DO UPDATE SET count = count + excluded.count",
                        (target, excess),
                    )
                    size -= excess
                self._sizes[target] = size

    def peek(self, target: str, limit: int) -> list[tuple[int, str]]:
        """Return up to limit of the target's items as (id, telegram), oldest first."""
        with self._transaction() as connection:
            rows = connection.execute(
                "SELECT id, telegram FROM item WHERE target = ? ORDER BY id LIMIT ?",
                (target, limit),
            ).fetchall()
        return [(int(item_id), str(telegram)) for item_id, telegram in rows]

    def remove(self, ids: Sequence[int]) -> None:
        """Delete items by id; ids that are gone already are ignored."""
        with self._transaction() as connection:
            for start in range(0, len(ids), _CHUNK):
                chunk = list(ids[start : start + _CHUNK])
                marks = ",".join("?" * len(chunk))
                removed = connection.execute(
                    f"DELETE FROM item WHERE id IN ({marks}) RETURNING target",
                    chunk,
                ).fetchall()
                for (target,) in removed:
                    if target in self._sizes:
                        self._sizes[target] -= 1

    def clear(self, target: str) -> int:
        """Delete all of a target's items (a target no longer configured); return how many."""
        with self._transaction() as connection:
            count = connection.execute("DELETE FROM item WHERE target = ?", (target,)).rowcount
            connection.execute("DELETE FROM dropped WHERE target = ?", (target,))
            self._sizes[target] = 0
        return count

    def targets(self) -> list[str]:
        """Return the targets that have items queued."""
        with self._transaction() as connection:
            rows = connection.execute("SELECT DISTINCT target FROM item ORDER BY target")
            return [str(target) for (target,) in rows]

    def size(self, target: str) -> int:
        """Return how many items wait for the target."""
        with self._transaction() as connection:
            return self._size(connection, target)

    def dropped(self, target: str) -> int:
        """Return how many of the target's items were dropped because its queue was full."""
        with self._transaction() as connection:
            row = connection.execute(
                "SELECT count FROM dropped WHERE target = ?", (target,)
            ).fetchone()
        return 0 if row is None else int(row[0])

    def hold_for_backup(self) -> bool:
        """Checkpoint the file and keep it unchanged until resume_after_backup() or close().

        Telegrams are still added and removed meanwhile, in the write-ahead log only, so a copy
        of the file alone is consistent and has everything added before. Returns whether that
        holds: False when another program reading the file kept the checkpoint from finishing.
        """
        self.resume_after_backup()
        with self._lock:
            connection = self._connection
            if connection is None:
                raise ForwardQueueError("the forward queue is closed")
            hold = ExitStack()
            try:
                # Under the lock, so that no telegram comes between checkpoint and hold.
                (_, _, path) = connection.execute("PRAGMA database_list").fetchone()
                reader = sqlite3.connect(path, autocommit=True, check_same_thread=False)
                hold.callback(reader.close)
                complete = hold.enter_context(frozen_file(reader))
            except sqlite3.Error as err:
                hold.close()
                raise ForwardQueueError(f"forward queue: {err}") from err
            self._hold = hold
        return complete

    def resume_after_backup(self) -> bool:
        """Let the file change again; return whether it was held (False: resumed or closed)."""
        with self._lock:
            hold, self._hold = self._hold, None
        if hold is None:
            return False
        hold.close()
        return True

    def close(self) -> None:
        """Close the file; everything added is already on disk."""
        self.resume_after_backup()
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _size(self, connection: sqlite3.Connection, target: str) -> int:
        size = self._sizes.get(target)
        if size is None:
            row = connection.execute(
                "SELECT COUNT(*) FROM item WHERE target = ?", (target,)
            ).fetchone()
            size = self._sizes[target] = int(row[0])
        return size

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Run one call as one transaction; a failure undoes it and forgets cached sizes."""
        with self._lock:
            connection = self._connection
            if connection is None:
                raise ForwardQueueError("the forward queue is closed")
            try:
                connection.execute("BEGIN IMMEDIATE")
                try:
                    yield connection
                    connection.execute("COMMIT")
                except BaseException:
                    self._sizes.clear()
                    if connection.in_transaction:
                        connection.execute("ROLLBACK")
                    raise
            except sqlite3.Error as err:
                raise ForwardQueueError(f"forward queue: {err}") from err


def _prepare(connection: sqlite3.Connection) -> None:
    """Switch to WAL and create the tables in a new file; refuse a newer schema."""
    # WAL: a commit is an append. NORMAL syncs at checkpoints, not at every commit: a crash of
    # Home Assistant loses nothing, a power cut at most the last commits, never consistency.
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA busy_timeout=5000")
    (version,) = connection.execute("PRAGMA user_version").fetchone()
    if version > SCHEMA_VERSION:
        raise ForwardQueueError(
            f"the forward queue has schema {version}, newer than {SCHEMA_VERSION}"
        )
    if version == 0:
        connection.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA:
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
