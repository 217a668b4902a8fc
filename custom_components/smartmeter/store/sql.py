"""SQL building blocks that SQLite and PostgreSQL spell differently, or not at all."""

from __future__ import annotations

from sqlalchemy import BigInteger, ColumnElement, Connection, Engine, Table, literal_column
from sqlalchemy.dialects import postgresql, sqlite


def div_floor(value: ColumnElement[int], unit: int) -> ColumnElement[int]:
    """Return value // unit of an integer expression, rounded down like Python's //."""
    # Written out, not a parameter: PostgreSQL would not see that a GROUP BY's expression is
    # the SELECT's if each had its own parameters.
    unit_literal = literal_column(str(unit), BigInteger)
    # SQLite and PostgreSQL round an integer division towards zero, and their % takes the
    # dividend's sign: divide a multiple of the unit instead, which also holds below zero.
    return (value - (value % unit_literal + unit_literal) % unit_literal) // unit_literal


def upsert(bind: Connection | Engine, table: Table) -> postgresql.Insert | sqlite.Insert:
    """Return the INSERT of the connection's (or engine's) database, which has ON CONFLICT."""
    if bind.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
