"""Statements run on every commit of readings, sent straight to the database driver's cursor.

SQLite takes about 60 µs to write a batch of three readings; SQLAlchemy's execution layer
around the same statements (compiled-cache keys, execution contexts, result objects) takes
several times that, all of it holding the interpreter lock that the API's requests need. Here
the SQL is still SQLAlchemy's, compiled once per dialect, and runs in the transaction of a
SQLAlchemy connection; driver errors come out as SQLAlchemy's exceptions, as they would from
``Connection.execute``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.interfaces import DBAPICursor, DBAPIModule
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

type Parameters = Sequence[Any] | Mapping[str, Any]


class DriverStatement:
    """One statement compiled for one dialect, its parameters taken by name."""

    __slots__ = ("_names", "sql")

    def __init__(
        self, statement: ClauseElement, dialect: Dialect, keys: Iterable[str] | None = None
    ) -> None:
        """Compile statement; keys name the columns an INSERT or UPDATE sets."""
        compiled = cast(
            SQLCompiler,
            statement.compile(dialect=dialect, column_keys=None if keys is None else list(keys)),
        )
        self.sql = compiled.string
        # A positional paramstyle (SQLite's "?") takes the values in the order of the SQL.
        self._names = tuple(compiled.positiontup or ()) if compiled.positional else None

    def parameters(self, values: Mapping[str, Any]) -> Parameters:
        """Return the driver's parameters for values named as the statement's parameters."""
        if self._names is None:
            return values
        return tuple(values[name] for name in self._names)

    def parameters_of_rows(
        self, rows: Sequence[Mapping[str, Any]]
    ) -> Sequence[Sequence[Any]] | Sequence[Mapping[str, Any]]:
        """Return the driver's parameters for each of rows, as for executemany."""
        names = self._names
        if names is None:
            return rows
        return [tuple(row[name] for name in names) for row in rows]


def execute(
    connection: Connection, statement: DriverStatement, values: Mapping[str, Any]
) -> tuple[int, Sequence[Any] | None]:
    """Run statement in the connection's transaction; return its rowcount and first row."""
    parameters = statement.parameters(values)
    cursor = _cursor(connection)
    try:
        try:
            cursor.execute(statement.sql, parameters)
            row = cursor.fetchone() if cursor.description else None
        except connection.dialect.loaded_dbapi.Error as err:
            raise _wrapped(connection, cursor, statement, parameters, err) from err
        return cursor.rowcount, row
    finally:
        cursor.close()


def returned(connection: Connection, statement: DriverStatement, values: Mapping[str, Any]) -> Any:
    """Run an INSERT ... RETURNING of one row; return the first value it returns."""
    _, row = execute(connection, statement, values)
    return cast(Sequence[Any], row)[0]


def execute_many(
    connection: Connection, statement: DriverStatement, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Run statement once per row, in the connection's transaction."""
    parameters = statement.parameters_of_rows(rows)
    cursor = _cursor(connection)
    try:
        try:
            cursor.executemany(statement.sql, parameters)
        except connection.dialect.loaded_dbapi.Error as err:
            raise _wrapped(connection, cursor, statement, parameters, err) from err
    finally:
        cursor.close()


def _cursor(connection: Connection) -> DBAPICursor:
    # The connection's own driver connection: the statement joins its transaction.
    return connection.connection.cursor()


def _wrapped(
    connection: Connection,
    cursor: DBAPICursor,
    statement: DriverStatement,
    parameters: Parameters | Sequence[Parameters],
    err: DBAPIModule.Error,
) -> StatementError:
    """Return SQLAlchemy's exception for a driver error; a lost connection is not reused."""
    dialect = connection.dialect
    lost = dialect.is_disconnect(err, connection.connection.dbapi_connection, cursor)
    if lost:
        connection.invalidate(err)
    return DBAPIError.instance(
        statement.sql,
        parameters,
        err,
        dialect.loaded_dbapi.Error,
        connection_invalidated=lost,
        dialect=dialect,
    )
