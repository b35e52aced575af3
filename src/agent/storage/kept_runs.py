"""Runs whose checkpoints ``adelete_for_runs`` must leave alone, for the current request.

LangGraph calls a saver's ``adelete_for_runs`` both to roll a run back (what
the run wrote must go) and when a client deletes a run's record
(``DELETE /threads/{id}/runs/{run}``), which must not delete that turn of the
conversation. The server marks the second case with :func:`keeping_turns_of`.

The in-memory runtime (``langgraph dev``) deletes a run's checkpoints inside
the DELETE request, so a context variable set around the request reaches the
saver; a unit test fences that (it fails, naming the runtime's version, when
the deletion moves out of the request). Should a release defer it to a
background task anyway, the run's turns stay kept for :data:`KEEP_AFTER_S`
after the request too, in a process-wide record.

A module of its own: ``langgraph.json`` loads the checkpointer module by its
file path, as a second copy of it, so state shared with the server's
middleware lives here, imported the usual way by both.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator, Sequence

KEEP_AFTER_S = 60.0
"""How long a deleted run record's turns stay kept after its request ends."""

_kept: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "chatbot_kept_runs", default=frozenset()
)

_kept_until: dict[str, float] = {}
"""Run id -> monotonic time until which its turns stay kept (after the request)."""


@contextlib.contextmanager
def keeping_turns_of(run_ids: Sequence[str]) -> Iterator[None]:
    """Within the block, and :data:`KEEP_AFTER_S` after it, keep these runs' checkpoints."""
    ids = {str(run_id) for run_id in run_ids}
    token = _kept.set(_kept.get() | ids)
    try:
        yield
    finally:
        _kept.reset(token)
        now = time.monotonic()
        for expired in [run_id for run_id, until in _kept_until.items() if until < now]:
            del _kept_until[expired]
        _kept_until.update(dict.fromkeys(ids, now + KEEP_AFTER_S))


def runs_to_forget(run_ids: Sequence[str]) -> list[str]:
    """Return the ids among ``run_ids`` whose checkpoints may be deleted now."""
    kept = _kept.get()
    now = time.monotonic()
    return [
        str(run_id)
        for run_id in run_ids
        if str(run_id) not in kept and _kept_until.get(str(run_id), 0.0) < now
    ]
