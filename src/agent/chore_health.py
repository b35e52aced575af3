"""Whether the chores keep failing: failures in a row per kind, told to the operator.

A chore's failure never fails a turn, and the next turn tries again; but a
fold or memory that fails every time would leave the chatbot forgetting with
nothing but a log line per turn. Each kind of chore (the step of
``Housework`` that failed: warm-up, summary fold, memory) counts its
failures in a row; at :data:`ALERT_AFTER` an ERROR names the cause and the
fix, and ``GET /chatbot/health`` (``agent.server.webapp``) reports every
kind. A chore that runs through resets every count.
"""

from __future__ import annotations

import logging
import threading
import traceback
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

logger = logging.getLogger(__name__)

ALERT_AFTER = 3
"""Failures in a row of one kind of chore after which the operator is told (an ERROR)."""

CHORES_MODULE = "agent.chores"
"""The module whose ``Housework`` steps name the kind of a failure."""

STEPS = {
    "index_for_search": "search index",
    "warm_up": "warm-up",
    "fold": "summary fold",
    "learn": "memory",
}
"""``Housework`` methods (``agent.chores``), by name, and the kind of chore each one is."""

OTHER = "housework"
"""The kind of a failure outside any step (reading the model's name, saving the used summary)."""

FIXES = {
    "warm-up": (
        "replies still work but read their prompts cold: check that the embedded model "
        "server answers (GET /chatbot/model)"
    ),
    "summary fold": (
        "long threads leave out their oldest turns until it works: check the model "
        "endpoint (GET /chatbot/model) and the database (CHATBOT_DATA_DIR or POSTGRES_URI); "
        "CHATBOT_SUMMARIZE=false turns folding off"
    ),
    "memory": (
        "nothing new is remembered until it works: check the database (CHATBOT_DATA_DIR "
        "or POSTGRES_URI) and the model endpoint; CHATBOT_REMEMBER=false turns memory off"
    ),
    "search index": (
        "new messages are not found by search until it works: check the database "
        "(CHATBOT_DATA_DIR or POSTGRES_URI)"
    ),
    OTHER: "check the model endpoint (GET /chatbot/model) and the database",
}
"""What to do when a kind of chore keeps failing, as the operator is told."""

ERROR_CHARS = 300
"""Characters of a failure's message kept for the report."""


@dataclass
class Record:
    """How one kind of chore has fared lately."""

    failures_in_a_row: int = 0
    last_error: str | None = None
    last_failure_at: str | None = None
    last_success_at: str | None = None


_records: dict[str, Record] = {kind: Record() for kind in FIXES}
_lock = threading.Lock()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def kind_of(error: BaseException) -> str:
    """Return the kind of chore ``error`` came from: the innermost ``Housework`` step it crossed."""
    kind = OTHER
    for frame, _line in traceback.walk_tb(error.__traceback__):
        if frame.f_globals.get("__name__") == CHORES_MODULE and frame.f_code.co_name in STEPS:
            kind = STEPS[frame.f_code.co_name]
    return kind


def _described(error: BaseException) -> str:
    text = str(error).strip() or "(no message)"
    return f"{type(error).__name__}: {text}"[:ERROR_CHARS]


def failed(error: BaseException, kind: str | None = None) -> int:
    """Count a failure of ``kind`` (else the kind ``error`` came from); return failures in a row.

    Logs an ERROR naming the cause and the fix when the count reaches :data:`ALERT_AFTER`.
    """
    kind = kind or kind_of(error)
    with _lock:
        record = _records.setdefault(kind, Record())
        record.failures_in_a_row += 1
        record.last_error = _described(error)
        record.last_failure_at = _now()
        count = record.failures_in_a_row
    if count == ALERT_AFTER:
        logger.error(
            "The %s has failed %d times in a row, last with %s. Fix: %s. "
            "GET /chatbot/health shows how each background chore fares.",
            kind,
            count,
            _described(error),
            FIXES.get(kind, FIXES[OTHER]),
        )
    return count


def succeeded(kind: str | None = None) -> None:
    """Reset the failures of ``kind`` (None: every kind, as a chore that ran through)."""
    with _lock:
        kinds = [kind] if kind else list(_records)
        for each in kinds:
            record = _records.setdefault(each, Record())
            if record.failures_in_a_row >= ALERT_AFTER:
                logger.info("The %s works again", each)
            record.failures_in_a_row = 0
            record.last_success_at = _now()


def report() -> dict[str, Any]:
    """Return every kind's record, and whether any has failed :data:`ALERT_AFTER` times in a row."""
    with _lock:
        kinds = {
            kind: asdict(record) | {"fix": FIXES.get(kind, FIXES[OTHER])}
            for kind, record in _records.items()
        }
    failing = sorted(k for k, r in kinds.items() if r["failures_in_a_row"] >= ALERT_AFTER)
    return {"ok": not failing, "failing": failing, "chores": kinds, "alert_after": ALERT_AFTER}


def forget() -> None:
    """Clear every record (tests)."""
    with _lock:
        for kind in list(_records):
            _records[kind] = Record()
