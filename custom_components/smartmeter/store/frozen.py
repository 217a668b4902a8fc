"""A SQLite file in WAL mode kept unchanged while something copies it, such as a backup."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
import os
import sqlite3


@contextmanager
def frozen_file(connection: sqlite3.Connection) -> Iterator[bool]:
    """Checkpoint the write-ahead log into the database file, then keep the file unchanged.

    connection, in autocommit mode and outside a transaction, holds a read transaction until
    the exit. A reader that began with the whole log checkpointed reads the file alone, and
    SQLite copies nothing into the file while it lasts: other connections still commit, to
    the log only. Yields whether all that holds, so that a copy of the file alone has every
    commit made before: False when another connection's reader kept the checkpoint from
    finishing or a commit came in between (the file and its log together are consistent all
    the same).
    """
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    (_, _, path) = connection.execute("PRAGMA database_list").fetchone()
    connection.execute("BEGIN")
    try:
        # The first read starts the transaction. Nothing empties the log while it lasts, so
        # a log empty after it was empty when it began.
        connection.execute("SELECT count(*) FROM sqlite_schema").fetchone()
        yield _is_empty(f"{path}-wal")
    finally:
        connection.execute("ROLLBACK")


def _is_empty(path: str) -> bool:
    try:
        return os.path.getsize(path) == 0
    except FileNotFoundError:
        return True
