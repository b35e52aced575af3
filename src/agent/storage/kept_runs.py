"""Runs whose checkpoints ``adelete_for_runs`` must leave alone, for the current request.

LangGraph calls a saver's ``adelete_for_runs`` both to roll a run back (what
the run wrote must go) and when a client deletes a run's record
(``DELETE /threads/{id}/runs/{run}``), which must not delete that turn of the
conversation. The server marks the second case with :func:`keeping_turns_of`.

A module of its own: ``langgraph.json`` loads the checkpointer module by its
file path, as a second copy of it, so state shared with the server's
middleware lives here, imported the usual way by both.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Sequence

_kept: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "chatbot_kept_runs", default=frozenset()
)


@contextlib.contextmanager
def keeping_turns_of(run_ids: Sequence[str]) -> Iterator[None]:
    """Within the block, ``adelete_for_runs`` keeps these runs' checkpoints."""
    token = _kept.set(_kept.get() | {str(run_id) for run_id in run_ids})
    try:
        yield
    finally:
        _kept.reset(token)


def runs_to_forget(run_ids: Sequence[str]) -> list[str]:
    """Return the ids among ``run_ids`` whose checkpoints may be deleted now."""
    kept = _kept.get()
    return [str(run_id) for run_id in run_ids if str(run_id) not in kept]
