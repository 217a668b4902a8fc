"""The database engine: the one driver per database, and SQLite's connection settings."""

from __future__ import annotations

import sqlite3
from typing import Final

from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import ArgumentError

from .driver import DriverStatement, execute
from .errors import StoreError

# The one driver each database is used with: the one installed and tested.
_DRIVERS: Final = {"sqlite": "sqlite+pysqlite", "postgresql": "postgresql+psycopg"}
_BEGIN: Final = DriverStatement(text("BEGIN"), sqlite.dialect())


def open_engine(url: str) -> Engine:
    """Return an engine on a SQLAlchemy URL, with the one driver of its database.

    SQLite connections use the write-ahead log and enforce foreign keys. Raises StoreError for
    anything but a PostgreSQL database or a SQLite file.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as err:
        raise StoreError(
            "the reading database needs a SQLAlchemy URL, such as sqlite:////path/to/file.db"
        ) from err
    backend = parsed.get_backend_name()
    driver = _DRIVERS.get(backend)
    if driver is None or parsed.drivername not in (backend, driver):
        raise StoreError(
            f"unsupported database {parsed.drivername}: use {' or '.join(_DRIVERS.values())}"
        )
    parsed = parsed.set(drivername=driver)
    if backend == "postgresql":
        # Connections idle in the pool may have been closed by a server restart.
        return create_engine(parsed, pool_pre_ping=True)
    if parsed.database in (None, "", ":memory:"):
        # SQLite gives every connection its own memory database: the writer would see nothing.
        raise StoreError("the SQLite reading database needs a file")
    engine = create_engine(parsed)
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(connection: sqlite3.Connection, _record: object) -> None:
    # pysqlite opens transactions itself but not before DDL, so a failed migration would keep
    # half its changes: turn that off and BEGIN in _sqlite_begin instead.
    connection.isolation_level = None
    cursor = connection.cursor()
    # Readers do not block the writer; NORMAL syncs at checkpoints, not at every commit, and a
    # power cut can cost the last commits but never consistency.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # SQLite enforces foreign keys only when asked, per connection.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # On the driver's cursor: SQLAlchemy's execution would cost more than the BEGIN itself.
    execute(connection, _BEGIN, {})


def check_connection(url: str) -> None:
    """Connect to a SQLAlchemy URL and disconnect, creating or changing nothing in it (blocks).

    Raises StoreError for a URL the store does not take, SQLAlchemyError for a database that
    cannot be reached.
    """
    engine = open_engine(url)
    try:
        with engine.connect():
            pass
    finally:
        engine.dispose()
