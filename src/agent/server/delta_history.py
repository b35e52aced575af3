"""Let the LangGraph server read a transcript through the saver's own fast path.

The server wraps a custom checkpointer (``langgraph.json``'s ``checkpointer``)
in langgraph-api's ``_CustomCheckpointerAdapter``. The adapter forwards
``aget_tuple``, ``aput`` and the rest to our saver, but not
``aget_delta_channel_history``, so it inherits ``BaseCheckpointSaver``'s
generic one: a walk back through the thread, one ``aget_tuple`` (a query and
a decoded checkpoint with its writes) per checkpoint, to the nearest full copy
of the transcript. The SQLite and PostgreSQL savers answer the same question
in two queries. Every run starts with that read, so a long thread paid the
walk on every turn: with an instant model on SQLite, server time per turn at
turn 1,000 was 690 ms in ``make bench-storage`` before this forwarding and
335 ms with it (ten queued turns, measured while llama.cpp compiled beside).

The adapter is langgraph-api's private class, so this is fenced: a unit test
(``tests/unit_tests/test_dependency_fences.py``) fails, naming the class and
the installed version, when it moves or stops wrapping the saver as
``_inner``; and at run time, when it is absent (or an adapter has no
``_inner``), a warning is logged and the server keeps the generic read, which
is correct but grows with the thread.

:func:`forward_delta_history` gives the adapter the forwarding method, unless
langgraph-api already defines one of its own (a release that fixes this).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver, DeltaChannelHistory

from agent.storage.fences import installed_version

logger = logging.getLogger(__name__)

METHOD = "aget_delta_channel_history"

ADAPTER_MODULE = "langgraph_api._checkpointer._adapter"
ADAPTER_CLASS = "_CustomCheckpointerAdapter"
WRAPPED_SAVER = "_inner"
"""The adapter's attribute that holds our saver."""

SLOWER = (
    "the server reads a transcript one checkpoint at a time (correct, but each turn's start "
    "grows with the thread); check agent/server/delta_history.py against this release"
)


async def _forwarded(
    self: Any, *, config: RunnableConfig, channels: Sequence[str]
) -> Mapping[str, DeltaChannelHistory]:
    """Ask the wrapped saver, whose override reads the history in two queries."""
    inner = vars(self).get(WRAPPED_SAVER)
    if inner is None:
        _warn_once(f"{ADAPTER_CLASS} no longer holds the saver as {WRAPPED_SAVER}")
        return await BaseCheckpointSaver.aget_delta_channel_history(
            self, config=config, channels=channels
        )
    history: Mapping[str, DeltaChannelHistory] = await inner.aget_delta_channel_history(
        config=config, channels=channels
    )
    return history


_warned: set[str] = set()


def _warn_once(what: str) -> None:
    if what not in _warned:
        _warned.add(what)
        logger.warning("langgraph-api %s: %s; %s", installed_version("langgraph-api"), what, SLOWER)


def forward_delta_history() -> bool:
    """Make langgraph-api's checkpointer adapter forward the transcript's history read.

    Returns:
        True when this installed the forwarding; False when the adapter
        forwards it already (its own method, or an earlier call) or is not
        there to patch (then a warning says so, if langgraph-api is installed).
    """
    try:
        import langgraph_api  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:  # not served by langgraph-api (unit tests, scripts)
        return False
    try:
        module = importlib.import_module(ADAPTER_MODULE)
        adapter = getattr(module, ADAPTER_CLASS)
    except (ImportError, AttributeError):
        _warn_once(f"{ADAPTER_MODULE}.{ADAPTER_CLASS} is gone")
        return False
    if METHOD in vars(adapter):
        return False
    setattr(adapter, METHOD, _forwarded)
    logger.debug("langgraph-api's checkpointer adapter now forwards %s", METHOD)
    return True
