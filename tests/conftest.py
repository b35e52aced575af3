"""Fixtures shared by unit and integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agent.testing.postgres import PostgresUnavailable, fresh_database


@pytest.fixture
def postgres_uri() -> Iterator[str]:
    """A fresh database on the machine's PostgreSQL, dropped afterwards (skipped, saying why,
    when PostgreSQL is not running)."""
    try:
        with fresh_database() as uri:
            yield uri
    except PostgresUnavailable as error:
        pytest.skip(str(error))
