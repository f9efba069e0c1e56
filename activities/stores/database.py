"""Touchpoint's own SQL stores (results, per-lead keys, audit, ...): one SQLAlchemy
engine per database URL. SQLite under var/ by default, PostgreSQL in production.

SQLAlchemy Core, not hand-written SQL per dialect: the same table definitions and
queries run on both, and Alembic migrates them. Every table of every store is declared
on `METADATA`, so one migration history covers one database.
"""

from __future__ import annotations

import functools
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

# Constraint names fixed by convention, so migrations name the same thing on every dialect.
METADATA = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def sqlalchemy_url(url: str) -> str:
    """`postgresql://...` as an operator writes it, driven by psycopg 3 (the driver we ship)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


@functools.cache
def engine(url: str) -> Engine:
    """One engine (and its pool) per URL per process."""
    full = sqlalchemy_url(url)
    if make_url(full).get_backend_name() == "sqlite":
        database = make_url(full).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        created = sa.create_engine(full, connect_args={"timeout": 30})
        sa.event.listen(created, "connect", _sqlite_pragmas)
        return created
    return sa.create_engine(full, pool_pre_ping=True)


def _sqlite_pragmas(connection: object, _record: object) -> None:
    # WAL: the worker writes while a report reads; foreign keys are off in SQLite by default.
    cursor = connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
