"""A fresh database on the machine's PostgreSQL for one test or benchmark, dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

ADMIN_URI = "postgresql://postgres@127.0.0.1:5432/postgres"
"""The machine's PostgreSQL (trust auth), as on every machine of this project."""


class PostgresUnavailable(RuntimeError):
    """The machine's PostgreSQL does not answer; the message says where it was looked for."""


@contextmanager
def fresh_database(prefix: str = "chatbot_test") -> Iterator[str]:
    """Create an empty database, yield its URI, and drop it (even if still in use).

    Raises:
        PostgresUnavailable: nothing answers at 127.0.0.1:5432.
    """
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(ADMIN_URI, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        raise PostgresUnavailable(
            f"PostgreSQL is not running at 127.0.0.1:5432 ({error})"
        ) from None
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgresql://postgres@127.0.0.1:5432/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
