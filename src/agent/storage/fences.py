"""Name the dependency internals this project relies on, and say when one has moved.

The savers' SQL reads and rewrites the tables of ``langgraph-checkpoint-sqlite``
and ``langgraph-checkpoint-postgres``, and retention rebuilds a transcript with
``DeltaChannel`` internals that LangGraph calls not yet stable. Each saver
lists what it relies on (``missing_internals``); the unit tests fail, naming
the internal and the installed versions, when one is gone, and a server that
meets such a release logs a warning and keeps every checkpoint (LangGraph's
own behaviour) instead of pruning with SQL that no longer fits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import metadata

CHECKPOINT_PACKAGES = (
    "langgraph",
    "langgraph-checkpoint",
    "langgraph-checkpoint-sqlite",
    "langgraph-checkpoint-postgres",
)


def installed_version(distribution: str) -> str:
    """Return the installed version of ``distribution``, or ``not installed``."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions(distributions: tuple[str, ...] = CHECKPOINT_PACKAGES) -> str:
    """Return ``name X.Y.Z, ...`` for the installed ``distributions``."""
    return ", ".join(f"{name} {installed_version(name)}" for name in distributions)


def missing_attributes(owner: object, names: Sequence[str]) -> list[str]:
    """Return ``Owner.name`` for each of ``names`` that ``owner`` lacks."""
    label = getattr(owner, "__name__", type(owner).__name__)
    return [f"{label}.{name}" for name in names if not hasattr(owner, name)]


def missing_columns(
    found: Mapping[str, set[str]], expected: Mapping[str, Sequence[str]]
) -> list[str]:
    """Return ``table.column`` for each expected column the database's tables lack."""
    return [
        f"table {table}, column {column}"
        for table, columns in expected.items()
        for column in columns
        if column not in found.get(table, set())
    ]
